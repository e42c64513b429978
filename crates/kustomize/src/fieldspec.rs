//! Walking a field spec path (`spec/template/spec/containers[]/image`) through an object,
//! creating missing fields the way kustomize's fieldspec filter does.

use serde_json::{Map, Value};

use crate::resid::Gvk;
use crate::types::FieldSpec;

/// What to create at the end of a path when it is missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreateKind {
    /// Never create.
    None,
    /// An empty string scalar.
    Scalar,
    /// An empty mapping.
    Map,
}

/// Splits a path at unescaped `/` (`a\/b` is one segment `a/b`).
pub fn split_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&'/') {
            cur.push('/');
            chars.next();
        } else if c == '/' {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

/// Whether a field spec's GVK matches an object's current apiVersion/kind.
pub fn matches_gvk(fs: &FieldSpec, obj: &Value) -> bool {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let av = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let gvk = Gvk::from_api_version(av, kind);
    gvk.is_selected(&Gvk::new(&fs.group, &fs.version, &fs.kind))
}

/// Applies `set` to every node the field spec's path reaches in `obj` (if the GVK matches).
pub fn apply(
    fs: &FieldSpec,
    obj: &mut Value,
    create: CreateKind,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    if !matches_gvk(fs, obj) {
        return Ok(());
    }
    let path = split_path(&fs.path);
    walk(&path, fs.create, obj, create, set)
        .map_err(|e| format!("considering field '{}' of object: {e}", fs.path))
}

/// Applies `set` along the spec's path without checking the spec's GVK against the object.
pub fn apply_untyped(
    fs: &FieldSpec,
    obj: &mut Value,
    create: CreateKind,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    let path = split_path(&fs.path);
    walk(&path, fs.create, obj, create, set)
        .map_err(|e| format!("considering field '{}' of object: {e}", fs.path))
}

/// Walks `path` below `node` without a GVK check.
pub fn walk(
    path: &[String],
    create_if_missing: bool,
    node: &mut Value,
    create: CreateKind,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    if path.is_empty() {
        return set(node);
    }
    match node {
        Value::Null => Ok(()),
        Value::Array(items) => {
            for it in items.iter_mut() {
                walk(path, create_if_missing, it, create, set)?;
            }
            Ok(())
        }
        Value::Object(map) => {
            let seg = &path[0];
            let (name, is_seq) = match seg.strip_suffix("[]") {
                Some(n) => (n, true),
                None => (seg.as_str(), false),
            };
            if name.is_empty() {
                return Err("cannot set or create an empty field name".into());
            }
            let last = path.len() == 1;
            let want: Option<Value> = if !create_if_missing || create == CreateKind::None || is_seq
            {
                None
            } else if last {
                Some(match create {
                    CreateKind::Scalar => Value::String(String::new()),
                    _ => Value::Object(Map::new()),
                })
            } else {
                Some(Value::Object(Map::new()))
            };
            if !map.contains_key(name) {
                match want {
                    Some(v) => {
                        map.insert(name.to_string(), v);
                    }
                    None => return Ok(()),
                }
            } else if let (Some(v), Some(Value::Null)) = (want, map.get(name)) {
                map.insert(name.to_string(), v);
            }
            let child = map.get_mut(name).expect("present");
            walk(&path[1..], create_if_missing, child, create, set)
        }
        _ => Err("expected sequence or mapping node".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn creates_and_visits_sequences() {
        let fs = FieldSpec {
            path: "spec/template/metadata/labels".into(),
            create: true,
            kind: "Deployment".into(),
            ..Default::default()
        };
        let mut obj = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {}});
        apply(&fs, &mut obj, CreateKind::Map, &mut |n| {
            n.as_object_mut().unwrap().insert("a".into(), json!("b"));
            Ok(())
        })
        .unwrap();
        assert_eq!(obj["spec"]["template"]["metadata"]["labels"]["a"], "b");
        let fs2 = FieldSpec {
            path: "spec/containers[]/image".into(),
            ..Default::default()
        };
        let mut pod =
            json!({"kind": "Pod", "spec": {"containers": [{"image": "a"}, {"image": "b"}]}});
        let mut seen = Vec::new();
        apply(&fs2, &mut pod, CreateKind::None, &mut |n| {
            seen.push(n.as_str().unwrap().to_string());
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, ["a", "b"]);
        assert_eq!(
            split_path(r"metadata/annotations/a\/b"),
            ["metadata", "annotations", "a/b"]
        );
    }
}
