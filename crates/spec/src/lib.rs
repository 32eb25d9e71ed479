//! nix-repart's spec v1: the JSON document that describes a disk image, as
//! the NixOS module emits it (`docs/spec.md` documents it field by field).
//!
//! Reading is done in two phases, each collecting every problem with its
//! JSON pointer: [`raw::parse`] checks the shape (keys and JSON types),
//! [`validate::validate`] checks the values (sizes, UUIDs, types, labels,
//! paths) and the rules between them. The result is a [`Spec`] that cannot
//! be malformed. This crate does not plan or write anything.

pub mod boot_loader;
mod compression;
mod contents;
pub mod error;
mod file_settings;
pub mod format;
pub mod from_image;
pub mod input;
mod json_check;
mod mkfs_options;
pub mod model;
pub mod nix32;
pub mod nix_attrs;
pub mod nix_database;
pub mod raw;
mod settings;
pub mod store;
pub mod types;
pub mod validate;
pub mod values;
pub mod verity;

use std::path::Path;

pub use error::{AttrsProblem, Problem, ProblemKind, Problems, SpecError};
pub use format::{
    ErofsCompression, ExtKind, Format, SquashfsCompression, SquashfsSettings, FORMAT_NAMES, SQUASHFS_DEFAULT_BLOCK_SIZE,
};
pub use model::{
    Content, CopyBlocks, DiskFormat, ExtWriter, ImageCompression, ImageCompressionAlgorithm, ImageSize, Minimize,
    Partition, PartitionTable, SectorSize, Spec,
};
pub use settings::MAX_LABEL_UTF16;
pub use types::{Architecture, Designator, PartitionType};
pub use validate::{MAX_NAME_BYTES, MAX_PATH_BYTES};
pub use values::Bytes;
pub use verity::{Verity, VerityRole};

/// Parses and validates spec text; source paths must be absolute.
pub fn parse_spec(text: &str) -> Result<Spec, SpecError> {
    parse_spec_in(text, None)
}

/// Parses and validates spec text; relative source paths are resolved
/// against `base_dir`.
pub fn parse_spec_in(text: &str, base_dir: Option<&Path>) -> Result<Spec, SpecError> {
    let (raw, problems) = raw::parse(text).map_err(|p| SpecError::Invalid(Problems(p)))?;
    validate::validate(raw, problems, base_dir).map_err(|p| SpecError::Invalid(Problems(p)))
}

/// Reads, parses and validates a spec file. Relative source paths in it
/// are relative to the file's directory.
pub fn load_spec(path: &Path) -> Result<Spec, SpecError> {
    let text = input::read_text(path, input::MAX_SPEC_BYTES)
        .map_err(|source| SpecError::Read { path: path.to_path_buf(), source })?;
    let dir = path.parent().map(|d| if d.as_os_str().is_empty() { Path::new(".") } else { d });
    let base = dir.map(|d| std::fs::canonicalize(d).unwrap_or_else(|_| d.to_path_buf()));
    parse_spec_in(&text, base.as_deref())
}
