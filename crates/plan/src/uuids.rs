//! UUIDs derived from the seed, exactly as systemd-repart derives them
//! (`../shared/reference/systemd-repart-facts.md`, checked against
//! systemd-repart 252):
//!
//! ```text
//! v4(b)            = first 16 bytes of b, version nibble 4, variant bits 10
//! disk GUID        = v4(HMAC-SHA256(key = seed, msg = "disk-uuid"))
//! partition UUID   = v4(HMAC-SHA256(key = seed, msg = type GUID))            first of its type
//!                  = v4(HMAC-SHA256(key = seed, msg = type GUID || le64(k))) k-th repeat
//! filesystem UUID  = v4(HMAC-SHA256(key = partition UUID, msg = "file-system-uuid"))
//! ```
//!
//! UUIDs enter the HMAC in RFC 4122 (big-endian) byte order.

use nix_repart_spec::Spec;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::PlanError;

/// HMAC-SHA256 (RFC 2104), written out because it is this short and has
/// no failure case (the `hmac` crate's constructor returns a `Result`).
fn hmac_sha256(key: &[u8], message: &[&[u8]]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block_key = [0u8; BLOCK];
    if key.len() > BLOCK {
        block_key[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block_key[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block_key.map(|b| b ^ 0x36));
    for part in message {
        inner.update(part);
    }
    let mut outer = Sha256::new();
    outer.update(block_key.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// systemd's `id128_make_v4_uuid()` on the first 16 bytes of a digest.
fn make_v4(digest: &[u8; 32]) -> Uuid {
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Uuid::from_bytes(bytes)
}

/// The UUID of every partition, in order: `UUID=` where given, otherwise
/// derived from the seed, the type and how many partitions of the same type
/// come before it. systemd-repart falls back to a random UUID when the
/// derived one is taken; nix-repart refuses instead, to stay reproducible.
pub fn assign(spec: &Spec) -> Result<Vec<Uuid>, PlanError> {
    let mut assigned: Vec<Uuid> = Vec::with_capacity(spec.partitions.len());
    for (i, p) in spec.partitions.iter().enumerate() {
        let uuid = p.uuid.unwrap_or_else(|| {
            let repeat =
                spec.partitions[..i].iter().filter(|q| q.partition_type.guid == p.partition_type.guid).count() as u64;
            partition_uuid(spec.seed, p.partition_type.guid, repeat)
        });
        let clash = spec
            .partitions
            .iter()
            .enumerate()
            .find(|(j, q)| *j != i && (q.uuid == Some(uuid) || (*j < i && assigned[*j] == uuid)));
        if let Some((_, other)) = clash {
            return Err(PlanError::DuplicateUuid { partition: p.id.clone(), other: other.id.clone(), uuid });
        }
        assigned.push(uuid);
    }
    Ok(assigned)
}

/// The disk GUID of the GPT header.
pub fn disk_uuid(seed: Uuid) -> Uuid {
    make_v4(&hmac_sha256(seed.as_bytes(), &[b"disk-uuid"]))
}

/// The UUID of the partition that is the `repeat`-th (0-based) of its type.
pub fn partition_uuid(seed: Uuid, type_guid: Uuid, repeat: u64) -> Uuid {
    let counter = repeat.to_le_bytes();
    let message: &[&[u8]] = if repeat == 0 { &[type_guid.as_bytes()] } else { &[type_guid.as_bytes(), &counter] };
    make_v4(&hmac_sha256(seed.as_bytes(), message))
}

/// The UUID of the filesystem in a partition (a vfat volume id is its first
/// four bytes).
pub fn filesystem_uuid(partition_uuid: Uuid) -> Uuid {
    make_v4(&hmac_sha256(partition_uuid.as_bytes(), &[b"file-system-uuid"]))
}

/// A UUID for a part of the output that is not in the GPT (a VDI image
/// id, a VHD unique id): version 4 from HMAC-SHA256(seed, `what`).
pub fn output_uuid(seed: Uuid, what: &str) -> Uuid {
    make_v4(&hmac_sha256(seed.as_bytes(), &[what.as_bytes()]))
}

/// The dm-verity salt of every verity pair: HMAC-SHA256(seed,
/// "verity-salt"), as systemd-repart 257 writes it (seen: the salt in
/// `veritysetup dump` of its hash partitions).
pub fn verity_salt(seed: Uuid) -> [u8; 32] {
    hmac_sha256(seed.as_bytes(), &[b"verity-salt"])
}

/// The UUID in the verity superblock: HMAC-SHA256(seed, "verity-uuid") made
/// a version 4 UUID (also seen in systemd-repart 257's hash partitions).
pub fn verity_superblock_uuid(seed: Uuid) -> Uuid {
    make_v4(&hmac_sha256(seed.as_bytes(), &[b"verity-uuid"]))
}

/// The partition UUIDs of a verity pair once the root hash is known: the
/// data partition's is its first 16 bytes, the hash partition's the last
/// 16, as they are, without version bits (systemd-repart 257).
pub fn verity_partition_uuids(root_hash: &[u8; 32]) -> (Uuid, Uuid) {
    let mut first = [0u8; 16];
    let mut last = [0u8; 16];
    first.copy_from_slice(&root_hash[..16]);
    last.copy_from_slice(&root_hash[16..]);
    (Uuid::from_bytes(first), Uuid::from_bytes(last))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Uuid {
        Uuid::parse_str(s).expect("test vector")
    }

    const ESP: &str = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b";
    const GENERIC: &str = "0fc63daf-8483-4772-8e79-3d69d8477de4";
    const ROOT_X86_64: &str = "4f68bce3-e8cd-4db1-96e7-fbcaf984b709";

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 1 and test case 6 (a key longer than the block).
        let short = hmac_sha256(&[0x0b; 20], &[b"Hi ", b"There"]);
        assert_eq!(hex(&short), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
        let long = hmac_sha256(&[0xaa; 131], &[b"Test Using Larger Than Block-Size Key - Hash Key First"]);
        assert_eq!(hex(&long), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    }

    #[test]
    fn nixpkgs_default_seed_vectors() {
        let seed = u("0867da16-f251-457d-a9e8-c31f9a3c220b");
        assert_eq!(disk_uuid(seed), u("b581fef7-24ed-4f31-990b-099ec86bba03"));
        assert_eq!(partition_uuid(seed, u(ESP), 0), u("dac4058a-2fc0-4808-a7ef-b8b4501c00ce"));
        assert_eq!(partition_uuid(seed, u(GENERIC), 0), u("be6595b1-70b2-4c1e-a455-2693510a426f"));
        assert_eq!(partition_uuid(seed, u(ROOT_X86_64), 0), u("57bd1ad1-c688-450a-ba37-d1792ec72fbb"));
    }

    #[test]
    fn systemd_test_58_seed_vector() {
        let seed = u("750b6cd5-c4ae-4012-a15e-7be3c29e6a47");
        assert_eq!(disk_uuid(seed), u("1d2ce291-7cce-4f7d-bc83-fdb49ad74ebd"));
    }

    #[test]
    fn repeats_differ_and_are_v4() {
        let seed = u("0867da16-f251-457d-a9e8-c31f9a3c220b");
        let first = partition_uuid(seed, u(GENERIC), 0);
        let second = partition_uuid(seed, u(GENERIC), 1);
        assert_ne!(first, second);
        for id in [first, second, filesystem_uuid(first)] {
            assert_eq!(id.get_version_num(), 4);
            assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
        }
    }
}
