//! Phase one of reading a spec: JSON into [`RawSpec`], checking only the
//! shape (known keys, JSON types). Values keep their spelling; what they
//! mean is checked in `validate`. Every problem is collected with its JSON
//! pointer.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::{Problem, ProblemKind};

/// A `repartConfig` value as written: a list becomes repeated keys, as in
/// nixpkgs' module; numbers and booleans are written as repart would read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSetting {
    pub key: String,
    pub values: Vec<String>,
    pub is_list: bool,
}

/// `closure`: a closureInfo `store-paths` file, or the array that
/// `exportReferencesGraph` writes into `.attrs.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawClosure {
    File(String),
    Paths(Vec<RawClosureEntry>),
}

/// One element of an `exportReferencesGraph` array: the path, and what
/// registers it in a Nix database where the array has it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawClosureEntry {
    pub path: String,
    pub nar_hash: Option<String>,
    pub nar_size: Option<u64>,
    pub references: Option<Vec<String>>,
    pub deriver: Option<String>,
    pub ca: Option<String>,
}

/// One `contents.<target>` entry; a value is `None` when missing or
/// mistyped (the problem is recorded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawContent {
    pub target: String,
    pub source: Option<String>,
    /// `mode`: octal permission bits, as make-disk-image's `chmod` takes them.
    pub mode: Option<String>,
    /// `user` / `group`: numeric ids (the Nix functions resolve names).
    pub user: Option<u64>,
    pub group: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawPartition {
    pub id: Option<String>,
    pub settings: Vec<RawSetting>,
    /// `contents.<target>`, in key order.
    pub contents: Vec<RawContent>,
    pub store_paths: Vec<String>,
    pub closure: Option<RawClosure>,
    pub nix_store_prefix: Option<String>,
    /// `fromImage`: a directory with an image and its repart-output.json.
    pub from_image: Option<String>,
    /// `nixDatabase`: write /nix/var/nix/db for the closure.
    pub nix_database: Option<bool>,
    /// `nixProfiles`: profile name -> store path.
    pub nix_profiles: Vec<(String, Option<String>)>,
    /// `systemdBoot`: install systemd-boot for a toplevel on this ESP.
    pub systemd_boot: Option<crate::boot_loader::RawSystemdBoot>,
    /// `freeSpace`: room added to a minimized ext filesystem.
    pub free_space: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawCompression {
    pub enable: Option<bool>,
    pub algorithm: Option<String>,
    pub level: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawSpec {
    pub version: Option<Value>,
    pub name: Option<String>,
    pub image_version: Option<String>,
    pub seed: Option<String>,
    pub architecture: Option<String>,
    pub sector_size: Option<u64>,
    pub image_size: Option<String>,
    pub split: Option<bool>,
    pub compression: RawCompression,
    pub format: Option<String>,
    pub partition_table: Option<String>,
    pub ext_writer: Option<String>,
    pub mkfs_options: BTreeMap<String, Vec<String>>,
    pub partitions: Vec<RawPartition>,
}

/// Escapes one JSON pointer reference token (RFC 6901).
pub fn pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Walks the JSON document and records problems.
struct Walker {
    problems: Vec<Problem>,
}

impl Walker {
    fn problem(&mut self, pointer: &str, kind: ProblemKind) {
        self.problems.push(Problem { pointer: pointer.to_string(), kind });
    }

    fn wrong_type(&mut self, pointer: &str, expected: &'static str, value: &Value) {
        let found = type_name(value);
        self.problem(pointer, ProblemKind::WrongType { expected, found });
    }

    /// Reports keys outside `known`, then returns the object.
    fn object<'v>(&mut self, pointer: &str, value: &'v Value, known: &[&str]) -> Option<&'v Map<String, Value>> {
        let Value::Object(map) = value else {
            self.wrong_type(pointer, "an object", value);
            return None;
        };
        for key in map.keys().filter(|k| !known.contains(&k.as_str())) {
            let expected = known.join(", ");
            self.problem(&format!("{pointer}/{}", pointer_token(key)), ProblemKind::UnknownKey { expected });
        }
        Some(map)
    }

    fn string(&mut self, pointer: &str, value: Option<&Value>) -> Option<String> {
        match value? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => {
                self.wrong_type(pointer, "a string", other);
                None
            }
        }
    }

    fn boolean(&mut self, pointer: &str, value: Option<&Value>) -> Option<bool> {
        match value? {
            Value::Bool(b) => Some(*b),
            other => {
                self.wrong_type(pointer, "a boolean", other);
                None
            }
        }
    }

    fn unsigned(&mut self, pointer: &str, value: Option<&Value>) -> Option<u64> {
        match value? {
            Value::Number(n) if n.is_u64() => n.as_u64(),
            other => {
                self.wrong_type(pointer, "a non-negative integer", other);
                None
            }
        }
    }

    /// A string, or a number written as its decimal digits (sizes).
    fn string_or_number(&mut self, pointer: &str, value: Option<&Value>) -> Option<String> {
        match value? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            other => {
                self.wrong_type(pointer, "a string or a number", other);
                None
            }
        }
    }

    fn strings(&mut self, pointer: &str, value: Option<&Value>) -> Vec<String> {
        match value {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| self.string(&format!("{pointer}/{i}"), Some(item)))
                .collect(),
            Some(other) => {
                self.wrong_type(pointer, "an array of strings", other);
                Vec::new()
            }
        }
    }

    fn spec(&mut self, doc: &Value) -> RawSpec {
        const KEYS: [&str; 14] = [
            "version",
            "name",
            "imageVersion",
            "seed",
            "architecture",
            "sectorSize",
            "imageSize",
            "split",
            "compression",
            "mkfsOptions",
            "partitions",
            "format",
            "partitionTable",
            "extWriter",
        ];
        let Some(map) = self.object("", doc, &KEYS) else {
            return RawSpec::default();
        };
        let mut raw = RawSpec {
            version: map.get("version").cloned(),
            name: self.string("/name", map.get("name")),
            image_version: self.string("/imageVersion", map.get("imageVersion")),
            seed: self.string("/seed", map.get("seed")),
            architecture: self.string("/architecture", map.get("architecture")),
            sector_size: self.unsigned("/sectorSize", map.get("sectorSize")),
            image_size: self.string_or_number("/imageSize", map.get("imageSize")),
            split: self.boolean("/split", map.get("split")),
            format: self.string("/format", map.get("format")),
            partition_table: self.string("/partitionTable", map.get("partitionTable")),
            ext_writer: self.string("/extWriter", map.get("extWriter")),
            ..RawSpec::default()
        };
        if map.get("name").is_none() {
            self.problem("/name", ProblemKind::Missing);
        }
        if let Some(value) = map.get("compression") {
            raw.compression = self.compression(value);
        }
        if let Some(value) = map.get("mkfsOptions") {
            raw.mkfs_options = self.mkfs_options(value);
        }
        match map.get("partitions") {
            None => self.problem("/partitions", ProblemKind::Missing),
            Some(Value::Array(items)) => {
                raw.partitions = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.partition(&format!("/partitions/{i}"), item))
                    .collect();
            }
            Some(other) => self.wrong_type("/partitions", "an array", other),
        }
        raw
    }

    fn compression(&mut self, value: &Value) -> RawCompression {
        let Some(map) = self.object("/compression", value, &["enable", "algorithm", "level"]) else {
            return RawCompression::default();
        };
        RawCompression {
            enable: self.boolean("/compression/enable", map.get("enable")),
            algorithm: self.string("/compression/algorithm", map.get("algorithm")),
            level: self.unsigned("/compression/level", map.get("level")),
        }
    }

    fn mkfs_options(&mut self, value: &Value) -> BTreeMap<String, Vec<String>> {
        let Value::Object(map) = value else {
            self.wrong_type("/mkfsOptions", "an object", value);
            return BTreeMap::new();
        };
        map.iter()
            .map(|(fs, args)| {
                let pointer = format!("/mkfsOptions/{}", pointer_token(fs));
                (fs.clone(), self.strings(&pointer, Some(args)))
            })
            .collect()
    }

    fn partition(&mut self, pointer: &str, value: &Value) -> RawPartition {
        const KEYS: [&str; 11] = [
            "id",
            "repartConfig",
            "contents",
            "storePaths",
            "closure",
            "nixStorePrefix",
            "fromImage",
            "nixDatabase",
            "nixProfiles",
            "systemdBoot",
            "freeSpace",
        ];
        let Some(map) = self.object(pointer, value, &KEYS) else {
            return RawPartition::default();
        };
        let id = self.string(&format!("{pointer}/id"), map.get("id"));
        if map.get("id").is_none() {
            self.problem(&format!("{pointer}/id"), ProblemKind::Missing);
        }
        let settings = match map.get("repartConfig") {
            Some(config) => self.settings(&format!("{pointer}/repartConfig"), config),
            None => {
                self.problem(&format!("{pointer}/repartConfig"), ProblemKind::Missing);
                Vec::new()
            }
        };
        RawPartition {
            id,
            settings,
            contents: self.contents(&format!("{pointer}/contents"), map.get("contents")),
            store_paths: self.strings(&format!("{pointer}/storePaths"), map.get("storePaths")),
            closure: self.closure(&format!("{pointer}/closure"), map.get("closure")),
            nix_store_prefix: self.string(&format!("{pointer}/nixStorePrefix"), map.get("nixStorePrefix")),
            from_image: self.string(&format!("{pointer}/fromImage"), map.get("fromImage")),
            nix_database: self.boolean(&format!("{pointer}/nixDatabase"), map.get("nixDatabase")),
            nix_profiles: self.profiles(&format!("{pointer}/nixProfiles"), map.get("nixProfiles")),
            systemd_boot: self.systemd_boot(&format!("{pointer}/systemdBoot"), map.get("systemdBoot")),
            free_space: self.string_or_number(&format!("{pointer}/freeSpace"), map.get("freeSpace")),
        }
    }

    fn settings(&mut self, pointer: &str, value: &Value) -> Vec<RawSetting> {
        let Value::Object(map) = value else {
            self.wrong_type(pointer, "an object", value);
            return Vec::new();
        };
        let mut settings = Vec::new();
        for (key, value) in map {
            let here = format!("{pointer}/{}", pointer_token(key));
            let scalar = |v: &Value| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(if *b { "yes" } else { "no" }.to_string()),
                _ => None,
            };
            let (values, is_list) = match value {
                Value::Array(items) => {
                    let mut values = Vec::new();
                    for (i, item) in items.iter().enumerate() {
                        match scalar(item) {
                            Some(s) => values.push(s),
                            None => self.wrong_type(&format!("{here}/{i}"), "a string, number or boolean", item),
                        }
                    }
                    (values, true)
                }
                other => match scalar(other) {
                    Some(s) => (vec![s], false),
                    None => {
                        self.wrong_type(&here, "a string, number, boolean or array", other);
                        continue;
                    }
                },
            };
            settings.push(RawSetting { key: key.clone(), values, is_list });
        }
        settings
    }

    fn contents(&mut self, pointer: &str, value: Option<&Value>) -> Vec<RawContent> {
        let Some(value) = value else { return Vec::new() };
        let Value::Object(map) = value else {
            self.wrong_type(pointer, "an object", value);
            return Vec::new();
        };
        map.iter()
            .map(|(target, entry)| {
                let here = format!("{pointer}/{}", pointer_token(target));
                let mut content = RawContent { target: target.clone(), ..RawContent::default() };
                if let Some(m) = self.object(&here, entry, &["source", "mode", "user", "group"]) {
                    if m.get("source").is_none() {
                        self.problem(&format!("{here}/source"), ProblemKind::Missing);
                    }
                    content.source = self.string(&format!("{here}/source"), m.get("source"));
                    content.mode = self.string(&format!("{here}/mode"), m.get("mode"));
                    content.user = self.unsigned(&format!("{here}/user"), m.get("user").filter(|v| !v.is_null()));
                    content.group = self.unsigned(&format!("{here}/group"), m.get("group").filter(|v| !v.is_null()));
                }
                content
            })
            .collect()
    }

    fn systemd_boot(&mut self, pointer: &str, value: Option<&Value>) -> Option<crate::boot_loader::RawSystemdBoot> {
        let value = value?;
        let map = self.object(pointer, value, &["toplevel", "efi", "timeout"])?;
        Some(crate::boot_loader::RawSystemdBoot {
            toplevel: self.string(&format!("{pointer}/toplevel"), map.get("toplevel")),
            efi: self.string(&format!("{pointer}/efi"), map.get("efi")),
            timeout: self.unsigned(&format!("{pointer}/timeout"), map.get("timeout")),
        })
    }

    fn profiles(&mut self, pointer: &str, value: Option<&Value>) -> Vec<(String, Option<String>)> {
        match value {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(name, target)| {
                    (name.clone(), self.string(&format!("{pointer}/{}", pointer_token(name)), Some(target)))
                })
                .collect(),
            Some(other) => {
                self.wrong_type(pointer, "an object of profile name to store path", other);
                Vec::new()
            }
        }
    }

    fn closure(&mut self, pointer: &str, value: Option<&Value>) -> Option<RawClosure> {
        match value? {
            Value::Null => None,
            Value::String(path) => Some(RawClosure::File(path.clone())),
            Value::Array(items) => {
                let mut paths = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let here = format!("{pointer}/{i}");
                    let Value::Object(entry) = item else {
                        self.wrong_type(&here, "an object with \"path\"", item);
                        continue;
                    };
                    let Some(path) = entry.get("path") else {
                        self.problem(&format!("{here}/path"), ProblemKind::Missing);
                        continue;
                    };
                    let Some(path) = self.string(&format!("{here}/path"), Some(path)) else { continue };
                    let text = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_string);
                    let references = entry
                        .get("references")
                        .and_then(Value::as_array)
                        .map(|refs| refs.iter().filter_map(Value::as_str).map(str::to_string).collect::<Vec<_>>());
                    paths.push(RawClosureEntry {
                        path,
                        nar_hash: text("narHash"),
                        nar_size: entry.get("narSize").and_then(Value::as_u64),
                        references,
                        deriver: text("deriver"),
                        ca: text("ca"),
                    });
                }
                Some(RawClosure::Paths(paths))
            }
            other => {
                self.wrong_type(pointer, "a path string or an exportReferencesGraph array", other);
                None
            }
        }
    }
}

/// Parses spec text into a [`RawSpec`] and the shape problems found in it
/// (validation goes on, to report everything at once), or fails with the
/// problems of text that cannot be read as a spec at all: not JSON, not an
/// object, duplicate keys or over-long strings (reading on would only
/// report the same values again, or echo strings too long to show).
pub fn parse(text: &str) -> Result<(RawSpec, Vec<Problem>), Vec<Problem>> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        vec![Problem {
            pointer: String::new(),
            kind: ProblemKind::Json { message: json_message(&e), line: e.line(), column: e.column() },
        }]
    })?;
    if !doc.is_object() {
        let found = type_name(&doc);
        let kind = ProblemKind::WrongType { expected: "an object", found };
        return Err(vec![Problem { pointer: String::new(), kind }]);
    }
    let problems = crate::json_check::check(text);
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut walker = Walker { problems: Vec::new() };
    let raw = walker.spec(&doc);
    Ok((raw, walker.problems))
}

/// serde_json's message without its trailing " at line L column C".
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}
