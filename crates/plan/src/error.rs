//! Why a valid spec cannot be laid out.

use nix_repart_spec::Bytes;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("imageSize {given} is too small: the partitions and the GPT need {needed}; raise imageSize or set it to \"auto\"")]
    ImageTooSmall { given: Bytes, needed: Bytes },
    #[error("partition {partition}: its content needs {content} but SizeMaxBytes= allows {max}; raise or remove SizeMaxBytes=")]
    ContentExceedsMax { partition: String, content: Bytes, max: Bytes },
    #[error("partition {partition}: UUID {uuid} is also the UUID of partition {other}; set a different UUID=")]
    DuplicateUuid { partition: String, other: String, uuid: Uuid },
    #[error("partitions {first} and {second} would both write the split file {file}; give one a different SplitName=")]
    DuplicateSplitFile { first: String, second: String, file: String },
    #[error("partition {partition}: its split file name {file} is {bytes} bytes long; at most {max} are allowed (255 less room for the temporary name); shorten name, imageVersion or SplitName=")]
    SplitFileNameTooLong { partition: String, file: String, bytes: usize, max: usize },
    #[error("{count} partitions, but a GPT holds at most 128")]
    TooManyPartitions { count: u64 },
}
