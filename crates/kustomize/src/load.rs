//! Turning file bytes into resources: multi-document YAML, `List` expansion, local-config drop.

use serde_json::Value;

use crate::error::Error;
use crate::resource::Resource;
use crate::yamlio;

/// Annotation marking objects kustomize must not emit.
pub const LOCAL_CONFIG: &str = "config.kubernetes.io/local-config";

fn validate(v: &Value, path: &str) -> Result<(), Error> {
    let bad = |msg: String| Error::InvalidResource {
        path: path.to_string(),
        msg,
    };
    let obj = v
        .as_object()
        .ok_or_else(|| bad(format!("expected a mapping, got {v}")))?;
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    if kind.is_empty() {
        return Err(bad("missing Resource metadata: 'kind' is empty".into()));
    }
    let name = obj
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if name.is_empty() && !kind.ends_with("List") {
        return Err(bad(format!(
            "missing metadata.name in object of kind '{kind}'"
        )));
    }
    if has_null_in_list(v) {
        return Err(bad(format!("empty item in a list in object '{name}'")));
    }
    Ok(())
}

fn has_null_in_list(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.iter().any(|x| x.is_null() || has_null_in_list(x)),
        Value::Object(o) => o.values().any(has_null_in_list),
        _ => false,
    }
}

/// Parses resources from YAML text (without dropping local-config objects).
pub fn objects_from_text(text: &str, path: &str) -> Result<Vec<Value>, Error> {
    let docs = yamlio::parse_all(text, path)?;
    let mut queue: std::collections::VecDeque<Value> =
        docs.into_iter().filter(|d| !is_empty(d)).collect();
    let mut out = Vec::new();
    while let Some(d) = queue.pop_front() {
        if !d.is_object() {
            return Err(Error::InvalidResource {
                path: path.to_string(),
                msg: format!("expected a mapping, got {d}"),
            });
        }
        let kind = d.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind.ends_with("List") && d.get("items").is_some() {
            // kustomize moves list items to the end of the stream.
            match d.get("items") {
                Some(Value::Array(items)) => {
                    queue.extend(items.iter().filter(|i| !is_empty(i)).cloned())
                }
                Some(Value::Null) => {}
                Some(other) => {
                    return Err(Error::InvalidResource {
                        path: path.to_string(),
                        msg: format!("expected array in {kind}/items, but found {other}"),
                    });
                }
                None => unreachable!(),
            }
            continue;
        }
        validate(&d, path)?;
        out.push(d);
    }
    Ok(out)
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Whether an object is marked local-config.
pub fn is_local_config(v: &Value) -> bool {
    v.get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(LOCAL_CONFIG))
        .is_some_and(|x| x.as_str() != Some("false"))
}

/// Parses resources from YAML text, dropping local-config objects.
pub fn resources_from_text(text: &str, path: &str) -> Result<Vec<Resource>, Error> {
    Ok(objects_from_text(text, path)?
        .into_iter()
        .filter(|o| !is_local_config(o))
        .map(Resource::new)
        .collect())
}
