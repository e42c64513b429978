//! JSON patch (RFC 6902): add, remove, replace, move, copy, test with JSON pointers (RFC 6901).
//!
//! Like the Go library Kubernetes and Kustomize use, array indices may be negative (`-1` is the
//! last element; for `add`, `-1` appends). [`apply`] is strict about `replace` (the target must
//! exist, as the API server requires); [`apply_kustomize`] lets `replace` create a missing object
//! key, as `kubectl kustomize` does.

use serde_json::Value;

/// Why a JSON patch could not be applied.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JsonPatchError {
    /// The patch document is not an array of operation objects.
    #[error("invalid json patch: {0}")]
    Invalid(String),
    /// A path names nothing in the document.
    #[error("json patch {op} {path}: path not found")]
    NotFound {
        /// The operation.
        op: String,
        /// The JSON pointer.
        path: String,
    },
    /// A `test` operation found a different value.
    #[error("json patch test {path}: value differs")]
    TestFailed {
        /// The JSON pointer.
        path: String,
    },
    /// An array index is not a number or is out of range.
    #[error("json patch {op} {path}: bad array index")]
    BadIndex {
        /// The operation.
        op: String,
        /// The JSON pointer.
        path: String,
    },
}

/// Applies a JSON patch document (an array of operations) to `target`, returning the result.
/// The target is left untouched when any operation fails.
pub fn apply(target: &Value, patch: &Value) -> Result<Value, JsonPatchError> {
    apply_with(target, patch, false)
}

/// Applies a JSON patch as Kustomize v5.5 does: as [`apply`], but `replace` of a missing object
/// key adds it.
pub fn apply_kustomize(target: &Value, patch: &Value) -> Result<Value, JsonPatchError> {
    apply_with(target, patch, true)
}

fn apply_with(
    target: &Value,
    patch: &Value,
    lenient_replace: bool,
) -> Result<Value, JsonPatchError> {
    let ops = patch
        .as_array()
        .ok_or_else(|| JsonPatchError::Invalid("patch is not an array".into()))?;
    let mut doc = target.clone();
    for op in ops {
        apply_op(&mut doc, op, lenient_replace)?;
    }
    Ok(doc)
}

fn str_field<'a>(op: &'a Value, name: &str) -> Result<&'a str, JsonPatchError> {
    op.get(name).and_then(Value::as_str).ok_or_else(|| {
        JsonPatchError::Invalid(format!("operation {op} has no string field {name:?}"))
    })
}

fn value_field(op: &Value) -> Result<&Value, JsonPatchError> {
    op.get("value")
        .ok_or_else(|| JsonPatchError::Invalid(format!("operation {op} has no value")))
}

fn apply_op(doc: &mut Value, op: &Value, lenient_replace: bool) -> Result<(), JsonPatchError> {
    let name = str_field(op, "op")?;
    let path = str_field(op, "path")?;
    match name {
        "add" => add(doc, name, path, value_field(op)?.clone()),
        "remove" => remove(doc, name, path).map(drop),
        "replace" => {
            let v = value_field(op)?.clone();
            if let Some(slot) = lookup_mut(doc, path) {
                *slot = v;
                return Ok(());
            }
            let (parent, _) = split_parent(path)?;
            match lookup_mut(doc, parent) {
                Some(Value::Object(_)) if lenient_replace => add(doc, name, path, v),
                _ => Err(not_found(name, path)),
            }
        }
        "move" => {
            let from = str_field(op, "from")?;
            if path != from && path.starts_with(from) && path[from.len()..].starts_with('/') {
                return Err(JsonPatchError::Invalid(format!(
                    "cannot move {from} into its own child {path}"
                )));
            }
            let v = remove(doc, name, from)?;
            add(doc, name, path, v)
        }
        "copy" => {
            let from = str_field(op, "from")?;
            let v = lookup(doc, from)
                .ok_or_else(|| not_found(name, from))?
                .clone();
            add(doc, name, path, v)
        }
        "test" => {
            let want = value_field(op)?;
            match lookup(doc, path) {
                Some(v) if v == want => Ok(()),
                _ => Err(JsonPatchError::TestFailed {
                    path: path.to_string(),
                }),
            }
        }
        other => Err(JsonPatchError::Invalid(format!(
            "unknown operation {other:?}"
        ))),
    }
}

fn not_found(op: &str, path: &str) -> JsonPatchError {
    JsonPatchError::NotFound {
        op: op.to_string(),
        path: path.to_string(),
    }
}

/// Splits a JSON pointer into unescaped tokens (`~1` is `/`, `~0` is `~`).
fn tokens(path: &str) -> Result<Vec<String>, JsonPatchError> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| JsonPatchError::Invalid(format!("path {path:?} does not start with /")))?;
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

/// An index for `add`: `0..=len`, or negative counting from the end (`-1` appends).
fn parse_index(tok: &str, len: usize, op: &str, path: &str) -> Result<usize, JsonPatchError> {
    let bad = || JsonPatchError::BadIndex {
        op: op.to_string(),
        path: path.to_string(),
    };
    let i = signed_index(tok).ok_or_else(bad)?;
    let len = len as i64;
    let i = if i < 0 { len + i + 1 } else { i };
    if (0..=len).contains(&i) {
        Ok(i as usize)
    } else {
        Err(bad())
    }
}

/// An index of an existing element: `0..len`, or negative counting from the end (`-1` is last).
fn element_index(tok: &str, len: usize) -> Option<usize> {
    let i = signed_index(tok)?;
    let len = len as i64;
    let i = if i < 0 { len + i } else { i };
    (0..len).contains(&i).then_some(i as usize)
}

/// A decimal index without leading zeros, optionally negative.
fn signed_index(tok: &str) -> Option<i64> {
    let digits = tok.strip_prefix('-').unwrap_or(tok);
    if digits.is_empty()
        || (digits.len() > 1 && digits.starts_with('0'))
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    tok.parse().ok()
}

/// The value at a JSON pointer.
pub fn lookup<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = doc;
    for t in tokens(path).ok()? {
        cur = match cur {
            Value::Object(m) => m.get(&t)?,
            Value::Array(a) => a.get(element_index(&t, a.len())?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// The value at a JSON pointer, mutably.
pub fn lookup_mut<'a>(doc: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    let mut cur = doc;
    for t in tokens(path).ok()? {
        cur = match cur {
            Value::Object(m) => m.get_mut(&t)?,
            Value::Array(a) => {
                let i = element_index(&t, a.len())?;
                a.get_mut(i)?
            }
            _ => return None,
        };
    }
    Some(cur)
}

fn split_parent(path: &str) -> Result<(&str, String), JsonPatchError> {
    let i = path
        .rfind('/')
        .ok_or_else(|| JsonPatchError::Invalid(format!("path {path:?} does not start with /")))?;
    Ok((
        &path[..i],
        path[i + 1..].replace("~1", "/").replace("~0", "~"),
    ))
}

fn add(doc: &mut Value, op: &str, path: &str, v: Value) -> Result<(), JsonPatchError> {
    if path.is_empty() {
        *doc = v;
        return Ok(());
    }
    let (parent, last) = split_parent(path)?;
    let target = lookup_mut(doc, parent).ok_or_else(|| not_found(op, path))?;
    match target {
        Value::Object(m) => {
            m.insert(last, v);
            Ok(())
        }
        Value::Array(a) => {
            let i = if last == "-" {
                a.len()
            } else {
                parse_index(&last, a.len(), op, path)?
            };
            a.insert(i, v);
            Ok(())
        }
        _ => Err(not_found(op, path)),
    }
}

fn remove(doc: &mut Value, op: &str, path: &str) -> Result<Value, JsonPatchError> {
    if path.is_empty() {
        return Err(JsonPatchError::Invalid(
            "cannot remove the whole document".into(),
        ));
    }
    let (parent, last) = split_parent(path)?;
    let target = lookup_mut(doc, parent).ok_or_else(|| not_found(op, path))?;
    match target {
        Value::Object(m) => m.shift_remove(&last).ok_or_else(|| not_found(op, path)),
        Value::Array(a) => {
            let i = element_index(&last, a.len()).ok_or_else(|| JsonPatchError::BadIndex {
                op: op.to_string(),
                path: path.to_string(),
            })?;
            Ok(a.remove(i))
        }
        _ => Err(not_found(op, path)),
    }
}
