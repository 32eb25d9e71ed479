//! Why an image could not be written.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(transparent)]
    Work(nix_repart_work::WorkError),
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("partition {partition}: the Nix database")]
    NixDatabase {
        partition: String,
        #[source]
        source: nix_repart_nixdb::NixDbError,
    },
    #[error("partition {partition}: the dm-verity hash tree")]
    Verity {
        partition: String,
        #[source]
        source: nix_repart_verity::VerityError,
    },
    #[error("writing the GPT of {path} failed")]
    Gpt {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("partition {partition}: cannot read CopyBlocks= source {path}")]
    CopyBlocksSource {
        partition: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("partition {partition}: CopyBlocks= source {path} changed size while it was copied")]
    CopyBlocksChanged { partition: String, path: PathBuf },
    #[error("cannot render repart-output.json")]
    Report(#[source] serde_json::Error),
    #[error("partition {partition}: cannot collect its files")]
    Tree {
        partition: String,
        #[source]
        source: nix_repart_tree::TreeError,
    },
    #[error("partition {partition}: cannot make its FAT filesystem")]
    Fat {
        partition: String,
        #[source]
        source: nix_repart_fat::FatError,
    },
    #[error("partition {partition}: cannot make its squashfs filesystem")]
    Squashfs {
        partition: String,
        #[source]
        source: nix_repart_squashfs::SquashfsError,
    },
    #[error("cannot compress {path} with {algorithm:?}")]
    Compress {
        path: PathBuf,
        algorithm: nix_repart_spec::ImageCompressionAlgorithm,
        #[source]
        source: std::io::Error,
    },
    #[error("partition {partition}: cannot make its filesystem")]
    Mkfs {
        partition: String,
        #[source]
        source: nix_repart_mkfs::MkfsError,
    },
    #[error("partition {partition}: cannot write its ext4 filesystem")]
    Ext4 {
        partition: String,
        #[source]
        source: nix_repart_ext4::Ext4Error,
    },
    #[error("planning the layout")]
    Plan(#[source] nix_repart_plan::PlanError),
    #[error("cannot read image {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} has no usable GPT ({reasons})")]
    NoGpt { path: PathBuf, reasons: String },
}

impl ImageError {
    /// Whether the error comes from the user's input (exit code 1) rather
    /// than from nix-repart or the machine (exit code 2).
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            ImageError::CopyBlocksSource { .. }
                | ImageError::CopyBlocksChanged { .. }
                | ImageError::NoGpt { .. }
                | ImageError::Read { .. }
                | ImageError::Tree { .. }
                | ImageError::Plan(_)
        ) || matches!(self, ImageError::Fat { source, .. } if source.is_input_error())
            || matches!(self, ImageError::Squashfs { source, .. } if source.is_input_error())
            || matches!(self, ImageError::Ext4 { source, .. } if source.is_input_error())
            || matches!(self, ImageError::Mkfs { source, .. } if source.is_input_error())
            || matches!(self, ImageError::Work(source) if source.is_input_error())
    }
}
