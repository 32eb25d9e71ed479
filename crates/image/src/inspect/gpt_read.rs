//! Reading a GPT for `nix-repart inspect`, without trusting any field of
//! it (UEFI 2.10 §5.3). Every header field is checked before it is used:
//! signature, header size and CRC, its own LBA, entry size (128 × 2ⁿ up to
//! 4096), entry count and array size (at most 4 MiB, so memory stays
//! bounded), that the array lies inside the image, and the array's CRC. A
//! corrupt primary header is reported and the backup read instead; a
//! corrupt backup is reported too. Entries past the end of the disk or
//! outside the usable area, reversed, overlapping, or sharing a UUID are
//! warned about. Reads through [`ReadAt`], so the fuzz target reads bytes.
//! It does not look inside partitions.

use std::fmt::Write as _;

use uuid::Uuid;

const SIGNATURE: &[u8; 8] = b"EFI PART";
const MIN_HEADER: usize = 92;
const MIN_ENTRY: u32 = 128;
const MAX_ENTRY: u32 = 4096;
const MAX_ARRAY: u64 = 4 << 20;
/// At most this many warnings of each kind are listed.
const MAX_WARNINGS: usize = 16;

/// Positional reads from an image file or from memory.
pub trait ReadAt {
    /// Fills `buf` from `offset`, or fails (also when past the end).
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()>;
}

impl ReadAt for std::fs::File {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(self, buf, offset)
    }
}

impl ReadAt for [u8] {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        let start = usize::try_from(offset).ok().filter(|s| *s <= self.len());
        match start.and_then(|s| self.get(s..s.checked_add(buf.len())?)) {
            Some(bytes) => {
                buf.copy_from_slice(bytes);
                Ok(())
            }
            None => Err(std::io::ErrorKind::UnexpectedEof.into()),
        }
    }
}

/// One used entry, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The entry's index in the array, from 1.
    pub number: u32,
    pub type_guid: Uuid,
    pub uuid: Uuid,
    pub first_lba: u64,
    pub last_lba: u64,
    pub attributes: u64,
    pub name: String,
}

/// A GPT as read, with what looked wrong in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gpt {
    pub sector_size: u64,
    pub disk_uuid: Uuid,
    pub first_usable: u64,
    pub last_usable: u64,
    pub entries: Vec<Entry>,
    pub warnings: Vec<String>,
}

/// A header that passed every check.
struct Header {
    disk_uuid: Uuid,
    alternate: u64,
    first_usable: u64,
    last_usable: u64,
    array: Vec<u8>,
    entry_size: usize,
}

fn le32(b: &[u8], at: usize) -> u32 {
    let mut v = [0u8; 4];
    v.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(v)
}

fn le64(b: &[u8], at: usize) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(v)
}

fn guid(b: &[u8], at: usize) -> Uuid {
    let mut v = [0u8; 16];
    v.copy_from_slice(&b[at..at + 16]);
    Uuid::from_bytes_le(v)
}

fn crc32(bytes: &[u8]) -> u32 {
    crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(bytes)
}

/// Reads and checks the header at `lba`; the error says why it is unusable.
fn header<S: ReadAt + ?Sized>(source: &S, len: u64, sector: u64, lba: u64) -> Result<Header, String> {
    let sectors = len / sector;
    let mut block = vec![0u8; sector as usize];
    let at = lba.checked_mul(sector).ok_or("its LBA is out of range")?;
    source.read_at(&mut block, at).map_err(|_| "it lies past the end of the image".to_string())?;
    if &block[..8] != SIGNATURE {
        return Err("no \"EFI PART\" signature".into());
    }
    let size = le32(&block, 12) as usize;
    if !(MIN_HEADER..=block.len()).contains(&size) {
        return Err(format!("header size {size} is outside {MIN_HEADER}..={}", block.len()));
    }
    let stored = le32(&block, 16);
    let mut zeroed = block[..size].to_vec();
    zeroed[16..20].fill(0);
    if crc32(&zeroed) != stored {
        return Err("header CRC mismatch".into());
    }
    if le64(&block, 24) != lba {
        return Err(format!("it says it is at LBA {}", le64(&block, 24)));
    }
    let (first_usable, last_usable) = (le64(&block, 40), le64(&block, 48));
    if first_usable > last_usable.saturating_add(1) || last_usable >= sectors {
        return Err(format!("usable LBAs {first_usable}..={last_usable} do not fit a disk of {sectors} sectors"));
    }
    let entry_size = le32(&block, 84);
    if !(MIN_ENTRY..=MAX_ENTRY).contains(&entry_size) || !entry_size.is_power_of_two() {
        return Err(format!("partition entry size {entry_size} is not 128 × 2ⁿ (at most {MAX_ENTRY})"));
    }
    let count = u64::from(le32(&block, 80));
    let bytes = count * u64::from(entry_size);
    if bytes > MAX_ARRAY {
        return Err(format!("{count} entries of {entry_size} bytes exceed {MAX_ARRAY} bytes"));
    }
    let array_at = le64(&block, 72).checked_mul(sector).ok_or("the entry array's LBA is out of range")?;
    let mut array = vec![0u8; bytes as usize];
    source.read_at(&mut array, array_at).map_err(|_| "the entry array lies past the end of the image".to_string())?;
    if crc32(&array) != le32(&block, 88) {
        return Err("entry array CRC mismatch".into());
    }
    Ok(Header {
        disk_uuid: guid(&block, 56),
        alternate: le64(&block, 32),
        first_usable,
        last_usable,
        array,
        entry_size: entry_size as usize,
    })
}

/// Why no GPT could be read, one reason per place looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoGpt(pub Vec<String>);

/// Reads the GPT of an image of `len` bytes.
pub fn read<S: ReadAt + ?Sized>(source: &S, len: u64) -> Result<Gpt, NoGpt> {
    let mut reasons = Vec::new();
    for sector in [512u64, 4096] {
        let sectors = len / sector;
        if sectors < 2 {
            continue;
        }
        let backup_lba = sectors - 1;
        match header(source, len, sector, 1) {
            Ok(primary) => {
                let mut warnings = Vec::new();
                if let Err(why) = header(source, len, sector, primary.alternate) {
                    warnings.push(format!("the backup GPT header at LBA {} is unusable: {why}", primary.alternate));
                }
                return Ok(finish(primary, sector, sectors, warnings));
            }
            Err(why) => {
                let primary_why = format!("{sector}-byte sectors: primary header: {why}");
                match header(source, len, sector, backup_lba) {
                    Ok(backup) => {
                        let warnings = vec![format!(
                            "the primary GPT header is unusable ({why}); read the backup at LBA {backup_lba}"
                        )];
                        return Ok(finish(backup, sector, sectors, warnings));
                    }
                    Err(backup_why) => {
                        reasons.push(format!("{primary_why}; backup header at LBA {backup_lba}: {backup_why}"));
                    }
                }
            }
        }
    }
    Err(NoGpt(reasons))
}

fn finish(header: Header, sector: u64, sectors: u64, mut warnings: Vec<String>) -> Gpt {
    let entries: Vec<Entry> = header
        .array
        .chunks_exact(header.entry_size)
        .enumerate()
        .filter(|(_, e)| e[..16].iter().any(|b| *b != 0))
        .map(|(i, e)| Entry {
            number: u32::try_from(i + 1).unwrap_or(u32::MAX),
            type_guid: guid(e, 0),
            uuid: guid(e, 16),
            first_lba: le64(e, 32),
            last_lba: le64(e, 40),
            attributes: le64(e, 48),
            name: name(&e[56..128]),
        })
        .collect();
    check_entries(&entries, header.first_usable, header.last_usable, sectors, &mut warnings);
    Gpt {
        sector_size: sector,
        disk_uuid: header.disk_uuid,
        first_usable: header.first_usable,
        last_usable: header.last_usable,
        entries,
        warnings,
    }
}

/// A UTF-16LE name up to its first NUL; unpaired surrogates become U+FFFD.
fn name(bytes: &[u8]) -> String {
    let units: Vec<u16> =
        bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).take_while(|u| *u != 0).collect();
    String::from_utf16_lossy(&units)
}

/// Pushes `text` unless `count` warnings of its kind were already listed.
fn limited(warnings: &mut Vec<String>, count: &mut usize, text: impl FnOnce() -> String) {
    *count += 1;
    if *count <= MAX_WARNINGS {
        warnings.push(text());
    } else if *count == MAX_WARNINGS + 1 {
        warnings.push("(more warnings of this kind left out)".into());
    }
}

fn check_entries(entries: &[Entry], first: u64, last: u64, sectors: u64, warnings: &mut Vec<String>) {
    let mut placed = 0;
    for e in entries {
        let n = e.number;
        if e.first_lba > e.last_lba {
            limited(warnings, &mut placed, || {
                format!("entry {n}: first LBA {} is after its last LBA {}", e.first_lba, e.last_lba)
            });
        } else if e.last_lba >= sectors {
            limited(warnings, &mut placed, || {
                format!("entry {n}: ends at LBA {}, past the end of the disk ({sectors} sectors)", e.last_lba)
            });
        } else if e.first_lba < first || e.last_lba > last {
            limited(warnings, &mut placed, || {
                format!("entry {n}: LBAs {}..={} lie outside the usable area {first}..={last}", e.first_lba, e.last_lba)
            });
        }
    }
    let mut by_start: Vec<&Entry> = entries.iter().filter(|e| e.first_lba <= e.last_lba).collect();
    by_start.sort_by_key(|e| (e.first_lba, e.number));
    let mut overlaps = 0;
    let mut reach: Option<&Entry> = None;
    for e in by_start {
        if let Some(r) = reach {
            if e.first_lba <= r.last_lba {
                let mut text = String::new();
                let _ = write!(
                    text,
                    "entries {} and {} overlap (LBAs {}..={} and {}..={})",
                    r.number, e.number, r.first_lba, r.last_lba, e.first_lba, e.last_lba
                );
                limited(warnings, &mut overlaps, || text);
            }
        }
        if reach.is_none_or(|r| e.last_lba > r.last_lba) {
            reach = Some(e);
        }
    }
    let mut by_uuid: Vec<&Entry> = entries.iter().collect();
    by_uuid.sort_by_key(|e| (e.uuid, e.number));
    let mut duplicates = 0;
    for pair in by_uuid.windows(2) {
        if pair[0].uuid == pair[1].uuid {
            let (a, b) = (pair[0].number, pair[1].number);
            limited(warnings, &mut duplicates, || {
                format!("entries {a} and {b} have the same partition UUID {}", pair[0].uuid)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64-sector image (512-byte sectors) with a primary header at LBA 1
    /// whose fields `edit` may change; CRCs are made to match.
    fn image(edit: impl FnOnce(&mut [u8])) -> Vec<u8> {
        let mut disk = vec![0u8; 64 * 512];
        let header = &mut disk[512..1024];
        header[..8].copy_from_slice(SIGNATURE);
        header[8..12].copy_from_slice(&0x0001_0000u32.to_le_bytes());
        header[12..16].copy_from_slice(&92u32.to_le_bytes());
        header[24..32].copy_from_slice(&1u64.to_le_bytes());
        header[32..40].copy_from_slice(&63u64.to_le_bytes());
        header[40..48].copy_from_slice(&34u64.to_le_bytes());
        header[48..56].copy_from_slice(&62u64.to_le_bytes());
        header[72..80].copy_from_slice(&2u64.to_le_bytes());
        header[80..84].copy_from_slice(&128u32.to_le_bytes());
        header[84..88].copy_from_slice(&128u32.to_le_bytes());
        edit(header);
        let array_crc = crc32(&disk[1024..1024 + 128 * 128]);
        disk[512 + 88..512 + 92].copy_from_slice(&array_crc.to_le_bytes());
        let crc = crc32(&disk[512..604]);
        disk[512 + 16..512 + 20].copy_from_slice(&crc.to_le_bytes());
        disk
    }

    fn reasons(disk: &[u8]) -> String {
        read(disk, disk.len() as u64).expect_err("no usable GPT").0.join("; ")
    }

    #[test]
    fn a_valid_empty_table_reads_with_a_warning_about_the_missing_backup() {
        let disk = image(|_| {});
        let gpt = read(&disk[..], disk.len() as u64).expect("valid");
        assert_eq!((gpt.sector_size, gpt.first_usable, gpt.last_usable), (512, 34, 62));
        assert!(gpt.entries.is_empty());
        assert_eq!(gpt.warnings, ["the backup GPT header at LBA 63 is unusable: no \"EFI PART\" signature"]);
    }

    #[test]
    fn every_header_field_is_checked_before_use() {
        let field = |at: usize, value: u32| image(move |h| h[at..at + 4].copy_from_slice(&value.to_le_bytes()));
        assert!(reasons(&field(84, 256)).contains("the entry array lies past the end of the image"));
        assert!(reasons(&field(84, 100)).contains("partition entry size 100 is not 128 × 2ⁿ"));
        assert!(reasons(&field(80, u32::MAX)).contains("4294967295 entries of 128 bytes exceed 4194304 bytes"));
        assert!(reasons(&field(12, 600)).contains("header size 600 is outside 92..=512"));
        assert!(reasons(&image(|h| h[72..80].copy_from_slice(&u64::MAX.to_le_bytes()))).contains("out of range"));
        assert!(reasons(&image(|h| h[48..56].copy_from_slice(&64u64.to_le_bytes())))
            .contains("do not fit a disk of 64 sectors"));
        assert!(reasons(&image(|h| h[24..32].copy_from_slice(&2u64.to_le_bytes()))).contains("it says it is at LBA 2"));
        let mut bad_crc = image(|_| {});
        bad_crc[512 + 40] ^= 1;
        assert!(reasons(&bad_crc).contains("header CRC mismatch"));
        assert!(read(&[][..], 0).is_err());
        assert!(read(&[0u8; 700][..], 700).is_err());
    }
}
