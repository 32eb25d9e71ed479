#!/usr/bin/env bash
# Fetches a newer Debian suite's systemd-repart and mkfs tools into DIR and
# makes them runnable on this machine without installing anything: the
# packages are downloaded with a private apt configuration (its own
# sources list, lists and cache under DIR; the archive address is taken
# from this machine's apt sources), unpacked with dpkg-deb -x, and each
# program gets a wrapper in DIR/bin that runs it through the suite's own
# loader and libraries (`ld-linux-x86-64.so.2 --library-path ... --argv0
# NAME`, so multi-call programs such as mtools and mke2fs see their name).
# mke2fs reads the suite's mke2fs.conf. Put DIR/bin first on PATH and
# systemd-repart finds the suite's mkfs tools too.
#
#   bash tests/reference/fetch.sh SUITE DIR     (SUITE: trixie, unstable, ...)
#
# Prints DIR/bin. Does nothing when DIR/bin/systemd-repart already works.
set -euo pipefail
suite=$1
dir=$(realpath -m "$2")
if [ -x "$dir/bin/systemd-repart" ] && "$dir/bin/systemd-repart" --version >/dev/null 2>&1 &&
  [ -x "$dir/bin/veritysetup" ]; then
  echo "$dir/bin"
  exit 0
fi
mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial" "$dir/debs" "$dir/root" "$dir/bin"

# The Debian archive this machine uses (deb822 or one-line sources).
archive=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
  grep -oE 'https?://[^ ]*/debian/?' | grep -v security | head -n 1 || true)
archive=${archive:-http://deb.debian.org/debian}
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${archive%/} $suite main" >"$dir/apt/sources.list"
apt_options=(
  -o "Dir::Etc::SourceList=$dir/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$dir/apt/lists" -o "Dir::Cache=$dir/apt/cache" -o Dir::State::status=/dev/null
  -o Debug::NoLocking=1 -o APT::Architecture=amd64 -o Acquire::Languages=none -o APT::Sandbox::User=root
)
apt-get -qq "${apt_options[@]}" update
# libcryptsetup12 is dlopen()ed by systemd-repart for Verity=; veritysetup
# reads its hash partitions back.
tools=(systemd-repart e2fsprogs dosfstools mtools squashfs-tools erofs-utils util-linux fdisk libcryptsetup12 cryptsetup-bin)
mapfile -t packages < <(apt-cache "${apt_options[@]}" depends --recurse --no-recommends --no-suggests \
  --no-conflicts --no-breaks --no-replaces --no-enhances "${tools[@]}" | grep -E '^[a-z0-9]' | sort -u)
(cd "$dir/debs" && apt-get -qq "${apt_options[@]}" download "${packages[@]}")
for deb in "$dir"/debs/*.deb; do
  dpkg-deb -x "$deb" "$dir/root"
done

root=$dir/root
loader=$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
libs=$root/usr/lib/x86_64-linux-gnu:$root/usr/lib/x86_64-linux-gnu/systemd:$root/lib/x86_64-linux-gnu
for program in "$root"/usr/bin/* "$root"/usr/sbin/* "$root"/sbin/* "$root"/bin/*; do
  [ -f "$program" ] || continue
  name=$(basename "$program")
  target=$(realpath "$program")
  [ "$(head -c 4 "$target" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
  {
    echo '#!/bin/sh'
    echo "export MKE2FS_CONFIG=$root/etc/mke2fs.conf"
    echo "exec $loader --library-path $libs --argv0 $name $target \"\$@\""
  } >"$dir/bin/$name"
  chmod +x "$dir/bin/$name"
done
"$dir/bin/systemd-repart" --version >/dev/null
echo "$dir/bin"
