//! Reading a spec from a Nix derivation's `.attrs.json`, as the builder of
//! `nix/lib/image.nix` does: with `__structuredAttrs = true`, Nix writes
//! every derivation attribute into that file, adds the closures asked for
//! with `exportReferencesGraph` under their own names, and lists the output
//! paths under `outputs`.
//!
//! The contract (documented in docs/nixos.md):
//! - `nixRepartSpec`: the spec object, as `nix/lib/spec.nix` makes it;
//! - `closure-<id>`: the exported closure of partition `<id>`'s
//!   `storePaths`, merged into that partition as its `closure`;
//! - `outputs.out`: where the image goes.
//!
//! This module only rewrites JSON and finds the output; validation is the
//! same as for a spec file.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{AttrsProblem, SpecError};
use crate::Spec;

/// The attribute that holds the spec.
pub const SPEC_ATTRIBUTE: &str = "nixRepartSpec";

/// The `.attrs.json` attribute holding partition `id`'s exported closure.
pub fn closure_attribute(id: &str) -> String {
    format!("closure-{id}")
}

/// The validated spec and the output directory named in `.attrs.json`.
pub fn load_from_attrs(path: &Path) -> Result<(Spec, PathBuf), SpecError> {
    let text = crate::input::read_text(path, crate::input::MAX_SPEC_BYTES)
        .map_err(|source| SpecError::Read { path: path.to_path_buf(), source })?;
    let (spec_text, out) =
        spec_from_attrs(&text).map_err(|problem| SpecError::Attrs { path: path.to_path_buf(), problem })?;
    Ok((crate::parse_spec_in(&spec_text, None)?, out))
}

/// The spec text (closures merged in) and `outputs.out` of `.attrs.json`
/// text.
pub fn spec_from_attrs(text: &str) -> Result<(String, PathBuf), AttrsProblem> {
    let attrs: Value = serde_json::from_str(text).map_err(|e| AttrsProblem::NotJson { message: e.to_string() })?;
    let out = attrs.pointer("/outputs/out").and_then(Value::as_str).ok_or(AttrsProblem::NoOutput)?;
    let mut spec = attrs.get(SPEC_ATTRIBUTE).cloned().ok_or(AttrsProblem::NoSpec)?;
    if let Some(Value::Array(partitions)) = spec.get_mut("partitions") {
        for partition in partitions.iter_mut().filter_map(Value::as_object_mut) {
            merge_closure(partition, &attrs)?;
        }
    }
    Ok((spec.to_string(), PathBuf::from(out)))
}

fn merge_closure(partition: &mut Map<String, Value>, attrs: &Value) -> Result<(), AttrsProblem> {
    let Some(id) = partition.get("id").and_then(Value::as_str) else { return Ok(()) };
    let attribute = closure_attribute(id);
    let Some(closure) = attrs.get(&attribute) else { return Ok(()) };
    if partition.contains_key("closure") {
        return Err(AttrsProblem::ClosureTwice { partition: id.to_string(), attribute });
    }
    partition.insert("closure".to_string(), closure.clone());
    Ok(())
}
