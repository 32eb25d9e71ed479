//! nix-repart's spec v1: the JSON document that describes a disk image, as
//! the NixOS module emits it (`docs/spec.md` documents it field by field).
//!
//! Reading is done in two phases, each collecting every problem with its
//! JSON pointer: [`raw::parse`] checks the shape (keys and JSON types),
//! [`validate::validate`] checks the values (sizes, UUIDs, types, labels,
//! paths) and the rules between them. The result is a [`Spec`] that cannot
//! be malformed. This crate does not plan or write anything.

pub mod error;
mod file_settings;
pub mod model;
pub mod raw;
mod settings;
pub mod store;
pub mod types;
pub mod validate;
pub mod values;

use std::path::Path;

pub use error::{Problem, ProblemKind, Problems, SpecError};
pub use model::{Content, CopyBlocks, ImageSize, Minimize, Partition, SectorSize, Spec};
pub use settings::{IMPLEMENTED_FORMATS, MAX_LABEL_UTF16};
pub use types::{Architecture, Designator, PartitionType};
pub use values::Bytes;

/// Parses and validates spec text.
pub fn parse_spec(text: &str) -> Result<Spec, SpecError> {
    let (raw, problems) = raw::parse(text).map_err(|p| SpecError::Invalid(Problems(vec![p])))?;
    validate::validate(raw, problems).map_err(|p| SpecError::Invalid(Problems(p)))
}

/// Reads, parses and validates a spec file.
pub fn load_spec(path: &Path) -> Result<Spec, SpecError> {
    let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read { path: path.to_path_buf(), source })?;
    parse_spec(&text)
}
