//! Strategic merge patch on `serde_json::Value`, driven by the generated type tables.
//!
//! Two flavours share one engine ([`SmpMode`]): kustomize's (the kyaml merge Kustomize v5.5 runs
//! for `patches`/`patchesStrategicMerge`) and the Kubernetes API server's (apimachinery
//! `strategicpatch`). They agree on what is merged; they differ in the order of merged list
//! elements and in whether the `$retainKeys`, `$setElementOrder/…` and
//! `$deleteFromPrimitiveList/…` directives are honoured (the API server) or kept as plain fields
//! (kustomize, which does not know them).

use crate::Gvk;
use crate::types::{FieldInfo, Schema, TypeDef};
use serde_json::{Map, Value};

/// Why a strategic merge patch could not be applied.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PatchError {
    /// A `$patch` directive with a value other than `replace`, `merge` or `delete`.
    #[error("strategic merge patch at {path}: unknown $patch directive {value:?}")]
    UnknownDirective {
        /// Where in the object (dotted field path).
        path: String,
        /// The directive's value.
        value: String,
    },
    /// A list element of a merge-key list lacks the key.
    #[error("strategic merge patch at {path}: list element does not contain merge key {key:?}")]
    MissingMergeKey {
        /// Where in the object.
        path: String,
        /// The merge key.
        key: String,
    },
    /// A directive has the wrong shape (e.g. `$retainKeys` not a list of strings).
    #[error("strategic merge patch at {path}: {message}")]
    Invalid {
        /// Where in the object.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// Which implementation's behaviour to reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmpMode {
    /// Kustomize v5.5 (kyaml): patch elements first, then original-only elements; the
    /// `$retainKeys`/`$setElementOrder`/`$deleteFromPrimitiveList` keys are copied as plain fields.
    #[default]
    Kustomize,
    /// The Kubernetes API server (apimachinery): list order as `strategicpatch` normalizes it, and
    /// every directive honoured.
    Kubernetes,
}

/// Options for [`strategic_merge_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SmpOptions {
    /// Whose behaviour to reproduce.
    pub mode: SmpMode,
}

/// Applies a strategic merge `patch` to `original` the way kustomize does.
///
/// `gvk` selects the type tables; an unknown or absent GVK (CRDs) uses kustomize's fallback:
/// maps merge, lists are replaced. `null` in the patch deletes a key. When the patch as a whole
/// says `$patch: delete` the result is `Value::Null` (the object is to be removed).
pub fn strategic_merge(
    original: &Value,
    patch: &Value,
    gvk: Option<&Gvk>,
) -> Result<Value, PatchError> {
    let ty = gvk
        .and_then(|g| crate::kind(&g.group, &g.version, &g.kind))
        .map(|r| r.type_def);
    strategic_merge_with(original, patch, ty, &SmpOptions::default())
}

/// Applies a strategic merge patch with an explicit root type (`None`: schemaless fallback) and
/// options (e.g. [`SmpMode::Kubernetes`] for the API server).
pub fn strategic_merge_with(
    original: &Value,
    patch: &Value,
    ty: Option<&'static TypeDef>,
    opts: &SmpOptions,
) -> Result<Value, PatchError> {
    let schema = ty.map(Schema::Object);
    let m = Merger { opts: *opts };
    Ok(
        m.merge_value(Some(original), patch, schema.as_ref(), None, "")?
            .unwrap_or(Value::Null),
    )
}

const PATCH: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ORDER: &str = "$setElementOrder/";
const DELETE_PRIMITIVE: &str = "$deleteFromPrimitiveList/";

struct Merger {
    opts: SmpOptions,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The object type to use for an element/value of `schema`, following arrays and maps.
fn object_of(schema: Option<&Schema>) -> Option<&'static TypeDef> {
    match schema? {
        Schema::Object(t) => Some(t),
        _ => None,
    }
}

impl Merger {
    fn k8s(&self) -> bool {
        self.opts.mode == SmpMode::Kubernetes
    }

    /// Is `key` a directive this mode interprets (rather than a plain field)?
    fn is_directive(&self, key: &str) -> bool {
        key == PATCH
            || (self.k8s()
                && (key == RETAIN_KEYS
                    || key.starts_with(SET_ORDER)
                    || key.starts_with(DELETE_PRIMITIVE)))
    }

    /// Merges `patch` into `orig` (absent: nothing there yet). `None` means "delete".
    fn merge_value(
        &self,
        orig: Option<&Value>,
        patch: &Value,
        schema: Option<&Schema>,
        field: Option<&FieldInfo>,
        path: &str,
    ) -> Result<Option<Value>, PatchError> {
        match patch {
            Value::Null => Ok(None),
            Value::Object(p) => {
                // A `replace` strategy swaps the whole value; `x-kubernetes-map-type` is server-side
                // apply's business and ignored here, as apimachinery's strategic merge ignores it.
                let replace = field.is_some_and(|f| f.patch_strategy.replace);
                let empty = Map::new();
                let o = match orig {
                    Some(Value::Object(o)) if !replace => o,
                    _ => &empty,
                };
                self.merge_map(o, p, schema, path)
                    .map(|r| r.map(Value::Object))
            }
            Value::Array(p) => {
                let empty = Vec::new();
                let o = match orig {
                    Some(Value::Array(o)) => o,
                    _ => &empty,
                };
                self.merge_list(o, p, schema, field, path)
                    .map(|l| Some(Value::Array(l)))
            }
            scalar => Ok(Some(scalar.clone())),
        }
    }

    fn merge_map(
        &self,
        orig: &Map<String, Value>,
        patch: &Map<String, Value>,
        schema: Option<&Schema>,
        path: &str,
    ) -> Result<Option<Map<String, Value>>, PatchError> {
        match patch.get(PATCH) {
            None => {}
            // kyaml accepts `$patch: merge` on a map; apimachinery only knows it on lists.
            Some(Value::String(s)) if s == "merge" && !self.k8s() => {}
            // apimachinery leaves an empty map where kyaml removes the field.
            Some(Value::String(s)) if s == "delete" && self.k8s() => return Ok(Some(Map::new())),
            Some(Value::String(s)) if s == "delete" => return Ok(None),
            Some(Value::String(s)) if s == "replace" => {
                let mut out = Map::new();
                for (k, v) in patch {
                    if k != PATCH {
                        out.insert(k.clone(), v.clone());
                    }
                }
                return Ok(Some(out));
            }
            Some(other) => {
                return Err(PatchError::UnknownDirective {
                    path: path.to_string(),
                    value: other
                        .as_str()
                        .map_or_else(|| other.to_string(), str::to_string),
                });
            }
        }
        let ty = object_of(schema);
        // Values of a free-form map (`additionalProperties`) all share one schema.
        let values = schema.and_then(Schema::values);
        let mut out = orig.clone();
        if self.k8s() {
            self.delete_from_primitive_lists(&mut out, patch, path)?;
        }
        for (key, pv) in patch {
            if self.is_directive(key) {
                continue;
            }
            let sub = join(path, key);
            let field = ty.and_then(|t| t.field(key));
            let sub_schema = field.map(|f| &f.schema).or(values);
            let order = if self.k8s() {
                patch.get(&format!("{SET_ORDER}{key}"))
            } else {
                None
            };
            let merged = match (out.get(key), pv, order) {
                // apimachinery takes a value for a new key as it is, nulls dropped.
                (None, pv, _) if self.k8s() => Some(without_nulls(pv)).filter(|v| !v.is_null()),
                // And a value of another type replaces the original as it is.
                (Some(o), pv, _) if self.k8s() && !pv.is_null() && !same_kind(o, pv) => {
                    Some(pv.clone())
                }
                (Some(Value::Array(o)), Value::Array(p), Some(Value::Array(ord))) => {
                    let l = self.merge_list_ordered(o, p, ord, sub_schema, field, &sub)?;
                    Some(Value::Array(l))
                }
                _ => self.merge_value(out.get(key), pv, sub_schema, field, &sub)?,
            };
            match merged {
                Some(v) => {
                    out.insert(key.clone(), v);
                }
                None => {
                    out.shift_remove(key);
                }
            }
        }
        if self.k8s() {
            // A `$setElementOrder` for a list the patch does not otherwise touch reorders it.
            for (key, ord) in patch {
                let Some(name) = key.strip_prefix(SET_ORDER) else {
                    continue;
                };
                if patch.contains_key(name) {
                    continue;
                }
                if let (Some(Value::Array(o)), Value::Array(ord)) = (out.get(name), ord) {
                    let field = ty.and_then(|t| t.field(name));
                    let sub_schema = field.map(|f| &f.schema).or(values);
                    let l =
                        self.merge_list_ordered(o, &[], ord, sub_schema, field, &join(path, name))?;
                    out.insert(name.to_string(), Value::Array(l));
                }
            }
            if let Some(retain) = patch.get(RETAIN_KEYS) {
                let keys = string_list(retain).ok_or_else(|| PatchError::Invalid {
                    path: path.to_string(),
                    message: "$retainKeys is not a list of strings".into(),
                })?;
                out.retain(|k, _| keys.contains(&k.as_str()));
            }
        }
        Ok(Some(out))
    }

    /// `$deleteFromPrimitiveList/<field>: [values]` removes values from a primitive list.
    fn delete_from_primitive_lists(
        &self,
        out: &mut Map<String, Value>,
        patch: &Map<String, Value>,
        path: &str,
    ) -> Result<(), PatchError> {
        for (key, del) in patch {
            let Some(name) = key.strip_prefix(DELETE_PRIMITIVE) else {
                continue;
            };
            let del = del.as_array().ok_or_else(|| PatchError::Invalid {
                path: join(path, key),
                message: "$deleteFromPrimitiveList value is not a list".into(),
            })?;
            if let Some(Value::Array(list)) = out.get_mut(name) {
                list.retain(|v| !del.contains(v));
            }
        }
        Ok(())
    }

    fn merge_list(
        &self,
        orig: &[Value],
        patch: &[Value],
        schema: Option<&Schema>,
        field: Option<&FieldInfo>,
        path: &str,
    ) -> Result<Vec<Value>, PatchError> {
        self.merge_list_ordered(orig, patch, &[], schema, field, path)
    }

    /// Merges two lists; `order` is a `$setElementOrder` list (empty: none).
    fn merge_list_ordered(
        &self,
        orig: &[Value],
        patch: &[Value],
        order: &[Value],
        schema: Option<&Schema>,
        field: Option<&FieldInfo>,
        path: &str,
    ) -> Result<Vec<Value>, PatchError> {
        // `- $patch: replace` anywhere in the patch list: the rest of the patch list replaces.
        // `- $patch: replace` in the patch list: the rest of the patch list replaces the original.
        // apimachinery honours the directive on any element; kyaml only on an element that holds
        // nothing else, and ignores elements that carry it beside other fields.
        let is_replace = |v: &Value| v.get(PATCH).and_then(Value::as_str) == Some("replace");
        let is_marker = |v: &Value| {
            is_replace(v) && (self.k8s() || v.as_object().is_some_and(|m| m.len() == 1))
        };
        if patch.iter().any(is_marker) {
            return Ok(patch.iter().filter(|v| !is_replace(v)).cloned().collect());
        }
        let kept: Vec<Value>;
        let patch = if !self.k8s() && patch.iter().any(is_replace) {
            kept = patch.iter().filter(|v| !is_replace(v)).cloned().collect();
            &kept[..]
        } else {
            patch
        };
        let merge = field.is_some_and(|f| f.patch_strategy.merge);
        if !merge {
            if self.k8s() && !order.is_empty() && patch.is_empty() {
                return Ok(orig.to_vec());
            }
            return Ok(patch.to_vec());
        }
        let elem = schema.and_then(Schema::items);
        match field.and_then(|f| f.merge_key) {
            Some(key) if elem.is_some_and(|e| matches!(e, Schema::Object(_))) => {
                let keys = field.map_or(&[][..], |f| f.list_map_keys);
                self.merge_keyed(orig, patch, order, (key, keys), elem, path)
            }
            _ => Ok(self.merge_primitives(orig, patch, order)),
        }
    }

    fn merge_primitives(&self, orig: &[Value], patch: &[Value], order: &[Value]) -> Vec<Value> {
        if !self.k8s() {
            let mut out: Vec<Value> = Vec::new();
            for v in patch.iter().chain(orig) {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
            return out;
        }
        let mut merged: Vec<Value> = Vec::new();
        for v in orig.iter().chain(patch) {
            if !merged.contains(v) {
                merged.push(v.clone());
            }
        }
        let patch_order = if order.is_empty() { patch } else { order };
        let ident = |v: &Value| Some(v.clone());
        normalize_order(merged, patch_order, orig, ident)
    }

    fn merge_keyed(
        &self,
        orig: &[Value],
        patch: &[Value],
        order: &[Value],
        (key, list_map_keys): (&str, &[&str]),
        elem: Option<&Schema>,
        path: &str,
    ) -> Result<Vec<Value>, PatchError> {
        let key_of = |v: &Value| v.get(key).cloned();
        // kyaml switches lists with several list-map keys (container and service ports: port and
        // protocol) to composite keys when any element carries all of them. Then elements are
        // identified by every key, merged in place, and a patch element that shares only the
        // merge key with an original is dropped; otherwise the merge key alone identifies them.
        let has_all = |v: &Value| list_map_keys.iter().all(|k| v.get(*k).is_some());
        let tuple_keys = !self.k8s()
            && list_map_keys.len() > 1
            && list_map_keys.contains(&key)
            && orig.iter().chain(patch).any(has_all);
        let tuple_of = |v: &Value| -> Vec<Option<Value>> {
            list_map_keys.iter().map(|k| v.get(*k).cloned()).collect()
        };
        let missing = || PatchError::MissingMergeKey {
            path: path.to_string(),
            key: key.to_string(),
        };
        let mut deleted: Vec<Value> = Vec::new();
        // Results for patch elements, in patch order, each with the index of its original.
        let mut from_patch: Vec<(Option<usize>, Value)> = Vec::new();
        for p in patch {
            let k = match p {
                Value::Object(_) => key_of(p).ok_or_else(missing)?,
                // Scalars in a keyed list: kept as they are.
                other => {
                    from_patch.push((None, other.clone()));
                    continue;
                }
            };
            if p.get(PATCH).and_then(Value::as_str) == Some("delete") {
                deleted.push(k);
                continue;
            }
            let idx = if tuple_keys {
                let t = tuple_of(p);
                let idx = orig.iter().position(|o| tuple_of(o) == t);
                if idx.is_none() && orig.iter().any(|o| key_of(o).as_ref() == Some(&k)) {
                    continue;
                }
                idx
            } else {
                orig.iter().position(|o| key_of(o).as_ref() == Some(&k))
            };
            let merged = match idx {
                // apimachinery appends new elements exactly as the patch gives them.
                None if self.k8s() => Some(p.clone()),
                _ => self.merge_value(idx.map(|i| &orig[i]), p, elem, None, path)?,
            };
            if let Some(m) = merged {
                from_patch.push((idx, m));
            }
        }
        let used: Vec<usize> = from_patch.iter().filter_map(|(i, _)| *i).collect();
        let keep = |i: usize, o: &Value| {
            !used.contains(&i) && !key_of(o).is_some_and(|k| deleted.contains(&k))
        };
        if !self.k8s() {
            // Composite-key elements stay where they are; other patch elements go first.
            let in_place = |i: Option<usize>| tuple_keys && i.is_some();
            let mut out: Vec<Value> = Vec::with_capacity(orig.len() + from_patch.len());
            out.extend(
                from_patch
                    .iter()
                    .filter(|(i, _)| !in_place(*i))
                    .map(|(_, v)| v.clone()),
            );
            for (i, o) in orig.iter().enumerate() {
                if let Some((_, v)) = from_patch
                    .iter()
                    .find(|(j, _)| *j == Some(i) && in_place(*j))
                {
                    out.push(v.clone());
                } else if keep(i, o) {
                    out.push(o.clone());
                }
            }
            return Ok(out);
        }
        // apimachinery: originals merged in place, new elements appended, then normalized.
        let mut merged: Vec<Value> = Vec::new();
        for (i, o) in orig.iter().enumerate() {
            if let Some((_, v)) = from_patch.iter().find(|(j, _)| *j == Some(i)) {
                merged.push(v.clone());
            } else if keep(i, o) {
                merged.push(o.clone());
            }
        }
        merged.extend(
            from_patch
                .iter()
                .filter(|(j, _)| j.is_none())
                .map(|(_, v)| v.clone()),
        );
        let patch_order = if order.is_empty() { patch } else { order };
        Ok(normalize_order(merged, patch_order, orig, key_of))
    }
}

/// `v` without null map values, recursively (apimachinery's `discardNullValuesFromPatch`).
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Both objects, both arrays, or both scalars.
fn same_kind(a: &Value, b: &Value) -> bool {
    matches!(
        (a, b),
        (Value::Object(_), Value::Object(_)) | (Value::Array(_), Value::Array(_))
    ) || !(a.is_object() || a.is_array() || b.is_object() || b.is_array())
}

fn string_list(v: &Value) -> Option<Vec<&str>> {
    v.as_array()?.iter().map(Value::as_str).collect()
}

/// apimachinery's `normalizeElementOrder`: elements named by the patch (sorted by patch order)
/// and server-only elements (sorted by original order) are interleaved by original position.
fn normalize_order(
    merged: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    key_of: impl Fn(&Value) -> Option<Value>,
) -> Vec<Value> {
    let index_in = |list: &[Value], v: &Value| {
        let k = key_of(v);
        list.iter().position(|x| k.is_some() && key_of(x) == k)
    };
    let (mut from_patch, mut server_only): (Vec<Value>, Vec<Value>) = merged
        .into_iter()
        .partition(|v| index_in(patch_order, v).is_some());
    from_patch.sort_by_key(|v| index_in(patch_order, v));
    server_only.sort_by_key(|v| index_in(server_order, v));
    let mut out = Vec::with_capacity(from_patch.len() + server_only.len());
    let (mut i, mut j) = (0, 0);
    while i < server_only.len() || j < from_patch.len() {
        if j >= from_patch.len() {
            out.push(server_only[i].clone());
            i += 1;
        } else if i >= server_only.len() {
            out.push(from_patch[j].clone());
            j += 1;
        } else {
            let (l, r) = (
                index_in(server_order, &server_only[i]),
                index_in(server_order, &from_patch[j]),
            );
            match (l, r) {
                (Some(l), Some(r)) if l < r => {
                    out.push(server_only[i].clone());
                    i += 1;
                }
                _ => {
                    out.push(from_patch[j].clone());
                    j += 1;
                }
            }
        }
    }
    out
}
