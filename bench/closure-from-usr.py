#!/usr/bin/env python3
"""Makes a fake Nix closure from this machine's /usr, deterministically.

Usage: closure-from-usr.py STORE_DIR MIN_BYTES MIN_FILES > store-paths

Walks /usr in sorted order and copies regular files and symlinks (kept as
symlinks) until both minimums are reached. Every directory right below
/usr/<top>/ becomes one store path named <32 nix-base32 chars>-<name>, with
the hash derived from its path, so the same /usr gives the same closure.
Prints the store paths, one per line (a closureInfo store-paths file).
"""
import hashlib
import os
import shutil
import sys

ALPHABET = "0123456789abcdfghijklmnpqrsvwxyz"
store, min_bytes, min_files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
total_bytes = total_files = 0
paths = {}


def store_path(group):
    if group not in paths:
        digest = hashlib.sha256(group.encode()).digest()
        h = "".join(ALPHABET[b % 32] for b in digest[:32])
        name = group.strip("/").replace("/", "-") or "usr"
        paths[group] = os.path.join(store, f"{h}-{name}")
    return paths[group]


for top, dirs, files in os.walk("/usr"):
    dirs.sort()
    for name in sorted(files):
        if total_bytes >= min_bytes and total_files >= min_files:
            break
        src = os.path.join(top, name)
        rel = os.path.relpath(src, "/usr").split(os.sep)
        group = "/".join(rel[:2]) if len(rel) > 2 else rel[0]
        inner = rel[2:] if len(rel) > 2 else rel[1:] or [name]
        dst = os.path.join(store_path(group), *inner)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
        elif os.path.isfile(src):
            shutil.copyfile(src, dst)
            os.chmod(dst, 0o555 if os.access(src, os.X_OK) else 0o444)
            total_bytes += os.path.getsize(src)
        else:
            continue
        total_files += 1
for p in sorted(paths.values()):
    print(p)
print(f"{total_files} files, {total_bytes} bytes, {len(paths)} store paths", file=sys.stderr)
