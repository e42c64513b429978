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
