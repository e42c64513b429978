//! JSON patch (RFC 6902), cases from the RFC's Appendix A plus pointer escaping and errors.

use schema::json_patch::{self, JsonPatchError};
use serde_json::{Value, json};

fn ok(doc: Value, patch: Value, want: Value) {
    let got =
        json_patch::apply(&doc, &patch).unwrap_or_else(|e| panic!("patch {patch} failed: {e}"));
    assert_eq!(got, want, "patch {patch}");
}

#[test]
fn rfc6902_appendix_a() {
    ok(
        json!({"foo": "bar"}),
        json!([{"op": "add", "path": "/baz", "value": "qux"}]),
        json!({"foo": "bar", "baz": "qux"}),
    );
    ok(
        json!({"foo": ["bar", "baz"]}),
        json!([{"op": "add", "path": "/foo/1", "value": "qux"}]),
        json!({"foo": ["bar", "qux", "baz"]}),
    );
    ok(
        json!({"baz": "qux", "foo": "bar"}),
        json!([{"op": "remove", "path": "/baz"}]),
        json!({"foo": "bar"}),
    );
    ok(
        json!({"foo": ["bar", "qux", "baz"]}),
        json!([{"op": "remove", "path": "/foo/1"}]),
        json!({"foo": ["bar", "baz"]}),
    );
    ok(
        json!({"baz": "qux", "foo": "bar"}),
        json!([{"op": "replace", "path": "/baz", "value": "boo"}]),
        json!({"baz": "boo", "foo": "bar"}),
    );
    ok(
        json!({"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}}),
        json!([{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}]),
        json!({"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}),
    );
    ok(
        json!({"foo": ["all", "grass", "cows", "eat"]}),
        json!([{"op": "move", "from": "/foo/1", "path": "/foo/3"}]),
        json!({"foo": ["all", "cows", "eat", "grass"]}),
    );
    ok(
        json!({"baz": "qux", "foo": ["a", 2, "c"]}),
        json!([{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}]),
        json!({"baz": "qux", "foo": ["a", 2, "c"]}),
    );
    ok(
        json!({"foo": "bar"}),
        json!([{"op": "add", "path": "/child", "value": {"grandchild": {}}}]),
        json!({"foo": "bar", "child": {"grandchild": {}}}),
    );
    ok(
        json!({"foo": ["bar"]}),
        json!([{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}]),
        json!({"foo": ["bar", ["abc", "def"]]}),
    );
    ok(
        json!({"/": 9, "~1": 10}),
        json!([{"op": "test", "path": "/~01", "value": 10}]),
        json!({"/": 9, "~1": 10}),
    );
    ok(
        json!({"a/b": 1, "m~n": 2}),
        json!([{"op": "replace", "path": "/a~1b", "value": 3}, {"op": "remove", "path": "/m~0n"}]),
        json!({"a/b": 3}),
    );
    ok(
        json!({"foo": 1}),
        json!([{"op": "copy", "from": "/foo", "path": "/bar"}]),
        json!({"foo": 1, "bar": 1}),
    );
    ok(
        json!({"foo": 1}),
        json!([{"op": "replace", "path": "", "value": [1]}]),
        json!([1]),
    );
    ok(
        json!({"foo": 1}),
        json!([{"op": "add", "path": "", "value": {"x": 2}}]),
        json!({"x": 2}),
    );
}

#[test]
fn errors() {
    let doc = json!({"baz": "qux", "foo": ["a", 2, "c"], "q": {"bar": 2}});
    let err = |patch: Value| json_patch::apply(&doc, &patch).expect_err("should fail");
    assert_eq!(
        err(json!([{"op": "test", "path": "/baz", "value": "bar"}])),
        JsonPatchError::TestFailed {
            path: "/baz".into()
        }
    );
    assert_eq!(
        err(json!([{"op": "remove", "path": "/nope"}])),
        JsonPatchError::NotFound {
            op: "remove".into(),
            path: "/nope".into()
        }
    );
    assert!(matches!(
        err(json!([{"op": "add", "path": "/baz/bat", "value": "qux"}])),
        JsonPatchError::NotFound { .. }
    ));
    assert!(matches!(
        err(json!([{"op": "add", "path": "/foo/9", "value": 1}])),
        JsonPatchError::BadIndex { .. }
    ));
    assert!(matches!(
        err(json!([{"op": "add", "path": "/foo/01", "value": 1}])),
        JsonPatchError::BadIndex { .. }
    ));
    assert!(matches!(
        err(json!([{"op": "remove", "path": "/foo/3"}])),
        JsonPatchError::BadIndex { .. }
    ));
    assert!(matches!(
        err(json!([{"op": "replace", "path": "/foo/3", "value": 1}])),
        JsonPatchError::NotFound { .. }
    ));
    assert!(matches!(
        err(json!([{"op": "frob", "path": "/baz"}])),
        JsonPatchError::Invalid(_)
    ));
    assert!(matches!(
        err(json!([{"op": "add", "path": "/x"}])),
        JsonPatchError::Invalid(_)
    ));
    assert!(matches!(
        err(json!([{"op": "move", "from": "/q", "path": "/q/bar/x"}])),
        JsonPatchError::Invalid(_)
    ));
    assert!(matches!(
        err(json!({"op": "add"})),
        JsonPatchError::Invalid(_)
    ));
    assert!(matches!(
        err(json!([{"op": "add", "path": "baz", "value": 1}])),
        JsonPatchError::Invalid(_)
    ));
    // A failing operation leaves no partial result behind.
    assert!(
        json_patch::apply(
            &doc,
            &json!([{"op": "add", "path": "/x", "value": 1}, {"op": "remove", "path": "/nope"}])
        )
        .is_err()
    );
}

#[test]
fn key_order_is_kept() {
    let doc = json!({"b": 1, "a": 2, "c": 3});
    let got = json_patch::apply(
        &doc,
        &json!([{"op": "remove", "path": "/a"}, {"op": "add", "path": "/d", "value": 4}]),
    )
    .expect("ok");
    let keys: Vec<&String> = got.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["b", "c", "d"]);
}

/// JSON 6902 patches compared with `kubectl kustomize` (Kustomize v5.5) output, byte for byte
/// after writing; cases kustomize rejects must fail here too.
#[test]
fn kustomize_json6902_goldens() {
    use std::path::Path;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/json6902");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("golden dir")
        .map(|e| e.expect("entry").path())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 15,
        "golden corpus went missing: {} cases",
        dirs.len()
    );
    // Kustomize reads resources with kyaml's rules but JSON 6902 patch files with YAML 1.1's.
    let read = |p: &Path, rules: yaml::ScalarRules| {
        let text = std::fs::read_to_string(p).expect("reading golden input");
        let mut docs = yaml::parse_documents_with(&text, rules).expect("golden input parses");
        docs.remove(0)
    };
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let result = json_patch::apply_kustomize(
            &read(&dir.join("base.yaml"), yaml::ScalarRules::Kyaml),
            &read(&dir.join("patch.yaml"), yaml::ScalarRules::Yaml11),
        );
        match (std::fs::read_to_string(dir.join("out.yaml")), result) {
            (Ok(want), Ok(got)) if yaml::to_string(&got) == want => {}
            (Ok(want), Ok(got)) => failures.push(format!(
                "== {name}\n--- want\n{want}--- got\n{}",
                yaml::to_string(&got)
            )),
            (Ok(_), Err(e)) => failures.push(format!("== {name}: failed: {e}")),
            (Err(_), Ok(_)) => failures.push(format!("== {name}: kustomize failed but we did not")),
            (Err(_), Err(_)) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}

#[test]
fn strict_replace_needs_an_existing_target() {
    let doc = json!({"a": {"b": 1}, "l": [1, 2, 3]});
    let patch = json!([{"op": "replace", "path": "/a/c", "value": 2}]);
    assert!(matches!(
        json_patch::apply(&doc, &patch),
        Err(JsonPatchError::NotFound { .. })
    ));
    assert_eq!(
        json_patch::apply_kustomize(&doc, &patch).expect("lenient"),
        json!({"a": {"b": 1, "c": 2}, "l": [1, 2, 3]})
    );
    ok(
        doc.clone(),
        json!([{"op": "replace", "path": "/l/-1", "value": 9}]),
        json!({"a": {"b": 1}, "l": [1, 2, 9]}),
    );
    ok(
        doc.clone(),
        json!([{"op": "add", "path": "/l/-1", "value": 4}]),
        json!({"a": {"b": 1}, "l": [1, 2, 3, 4]}),
    );
    ok(
        doc.clone(),
        json!([{"op": "test", "path": "/l/-3", "value": 1}]),
        doc.clone(),
    );
    assert!(json_patch::apply(&doc, &json!([{"op": "remove", "path": "/l/-4"}])).is_err());
}
