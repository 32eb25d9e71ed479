//! `.attrs.json` as Nix writes it for nix/lib/image.nix: the spec, the
//! exported closures merged into their partitions, the output path, and
//! the exact problems of attribute files that lack them.

use nix_repart_spec::nix_attrs::spec_from_attrs;
use nix_repart_spec::AttrsProblem;
use serde_json::{json, Value};

fn attrs(spec: Value, extra: Value) -> String {
    let mut doc =
        json!({ "outputs": { "out": "/nix/store/00000000000000000000000000000000-image" }, "nixRepartSpec": spec });
    for (k, v) in extra.as_object().unwrap() {
        doc[k] = v.clone();
    }
    doc.to_string()
}

#[test]
fn closures_are_merged_into_their_partitions() {
    let spec = json!({ "version": 1, "name": "x", "partitions": [
        { "id": "10-esp", "repartConfig": { "Type": "esp" } },
        { "id": "20-store", "repartConfig": { "Type": "linux-generic" }, "storePaths": ["/nix/store/a"] },
    ]});
    let closure = json!([{ "path": "/nix/store/a", "references": [] }]);
    let (text, out) = spec_from_attrs(&attrs(spec, json!({ "closure-20-store": closure.clone() }))).unwrap();
    assert_eq!(out.to_str(), Some("/nix/store/00000000000000000000000000000000-image"));
    let merged: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(merged["partitions"][1]["closure"], closure);
    assert_eq!(merged["partitions"][0].get("closure"), None);
}

#[test]
fn problems_are_exact() {
    let spec = json!({ "partitions": [{ "id": "p", "closure": "/x" }] });
    assert_eq!(
        spec_from_attrs(&attrs(spec, json!({ "closure-p": [] }))),
        Err(AttrsProblem::ClosureTwice { partition: "p".into(), attribute: "closure-p".into() })
    );
    assert_eq!(spec_from_attrs(r#"{"nixRepartSpec": {}}"#), Err(AttrsProblem::NoOutput));
    assert_eq!(spec_from_attrs(r#"{"outputs": {"out": "/o"}}"#), Err(AttrsProblem::NoSpec));
    assert!(matches!(spec_from_attrs("{"), Err(AttrsProblem::NotJson { .. })));
}
