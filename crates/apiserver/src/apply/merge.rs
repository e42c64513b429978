//! The typed walks of server-side apply: field sets of a value, merging an applied configuration
//! into the live object, comparing two objects, and removing owned paths.

use super::path::{FieldSet, Path, PathElement, key_element};
use super::types::{ListKind, Ty};
use serde_json::{Map, Value};

/// The identity of list item `i` under the list's kind.
pub fn item_element(kind: &ListKind, builtin: bool, i: usize, item: &Value) -> PathElement {
    match kind {
        ListKind::Set => PathElement::Value(item.clone()),
        ListKind::Map(keys) => {
            let Some(obj) = item.as_object() else {
                return PathElement::Index(i);
            };
            let mut fields = Vec::new();
            for k in keys {
                match obj.get(k) {
                    Some(v) => fields.push((k.clone(), v.clone())),
                    // Container/service ports default `protocol` to TCP, and live objects carry
                    // the default, so an applied port without it names the same item.
                    None if builtin && k == "protocol" => {
                        fields.push((k.clone(), Value::String("TCP".into())))
                    }
                    None => {}
                }
            }
            if fields.is_empty() {
                PathElement::Index(i)
            } else {
                key_element(fields)
            }
        }
        ListKind::Atomic => PathElement::Index(i),
    }
}

/// Adds the fields `v` sets to `out` (leaves, atomic values, list items, map entries; struct
/// nodes with content are not members themselves).
pub fn to_field_set(v: &Value, ty: Ty<'_>, path: &mut Path, out: &mut FieldSet) {
    match v {
        Value::Object(m) => {
            if ty.map_atomic() {
                out.insert(path.clone());
                return;
            }
            for (k, c) in m {
                let (cty, declared) = ty.child(k);
                path.push(PathElement::Field(k.clone()));
                to_field_set(c, cty, path, out);
                let empty = c.is_null() || c.as_object().is_some_and(Map::is_empty);
                if empty || !declared {
                    out.insert(path.clone());
                }
                path.pop();
            }
        }
        Value::Array(a) => {
            let kind = ty.list_kind();
            if kind == ListKind::Atomic {
                out.insert(path.clone());
                return;
            }
            let ity = ty.item();
            for (i, item) in a.iter().enumerate() {
                path.push(item_element(&kind, ty.is_builtin(), i, item));
                to_field_set(item, ity, path, out);
                out.insert(path.clone());
                path.pop();
            }
        }
        _ => out.insert(path.clone()),
    }
}

/// Merges `cfg` into `live`: granular objects per key, associative lists per item, sets as a
/// union; everything else (scalars, atomic lists and maps) is replaced.
pub fn merge(live: &Value, cfg: &Value, ty: Ty<'_>) -> Value {
    match (live, cfg) {
        (Value::Object(l), Value::Object(c)) if !ty.map_atomic() => {
            let mut out = l.clone();
            for (k, cv) in c {
                // An explicit null clears the field (the server's decoding drops nulls).
                if cv.is_null() {
                    out.remove(k);
                    continue;
                }
                let merged = match l.get(k) {
                    Some(lv) => merge(lv, cv, ty.child(k).0),
                    None => cv.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(c)) => {
            let kind = ty.list_kind();
            if kind == ListKind::Atomic {
                return cfg.clone();
            }
            Value::Array(merge_list(l, c, ty, &kind))
        }
        _ => cfg.clone(),
    }
}

/// Merges associative lists. Items of both lists are merged; the result keeps the applied
/// order for applied items and leaves live-only items where they were relative to them.
fn merge_list(live: &[Value], cfg: &[Value], ty: Ty<'_>, kind: &ListKind) -> Vec<Value> {
    let b = ty.is_builtin();
    let lpe: Vec<PathElement> = live
        .iter()
        .enumerate()
        .map(|(i, v)| item_element(kind, b, i, v))
        .collect();
    let cpe: Vec<PathElement> = cfg
        .iter()
        .enumerate()
        .map(|(i, v)| item_element(kind, b, i, v))
        .collect();
    let in_cfg = |pe: &PathElement| cpe.contains(pe);
    let live_of = |pe: &PathElement| lpe.iter().rposition(|p| p == pe).map(|i| &live[i]);
    let ity = ty.item();
    let mut out = Vec::with_capacity(live.len() + cfg.len());
    let mut emitted: Vec<PathElement> = Vec::new();
    let (mut li, mut ri) = (0, 0);
    while li < live.len() || ri < cfg.len() {
        if li < live.len() && ri < cfg.len() && lpe[li] == cpe[ri] {
            out.push(merge(&live[li], &cfg[ri], ity));
            emitted.push(lpe[li].clone());
            li += 1;
            ri += 1;
            continue;
        }
        if li < live.len() {
            if !in_cfg(&lpe[li]) {
                out.push(live[li].clone());
                li += 1;
                continue;
            }
            // A shared item that the applied order places later (or already placed): it is
            // emitted when the applied list reaches it.
            let next_shared = cpe[ri..].iter().find(|p| live_of(p).is_some());
            if emitted.contains(&lpe[li]) || next_shared != Some(&lpe[li]) {
                li += 1;
                continue;
            }
        }
        if ri < cfg.len() {
            let pe = &cpe[ri];
            out.push(match live_of(pe) {
                Some(lv) => merge(lv, &cfg[ri], ity),
                None => cfg[ri].clone(),
            });
            emitted.push(pe.clone());
            ri += 1;
        } else {
            li += 1;
        }
    }
    out
}

/// Paths whose value differs between `old` and `new`: changed leaves (and atomic values), and
/// every node of added or removed subtrees (the union of [`compare`]'s three sets).
pub fn diff(
    old: Option<&Value>,
    new: Option<&Value>,
    ty: Ty<'_>,
    path: &mut Path,
    out: &mut FieldSet,
) {
    let mut c = Comparison::default();
    compare(old, new, ty, path, &mut c);
    out.extend(&c.added);
    out.extend(&c.modified);
    out.extend(&c.removed);
}

/// Removes the node at `path` from `v`; true when something was removed. Objects left empty
/// by the removal are removed too, unless listed in `keep` (owned as such) or `metadata`.
pub fn remove_path(
    v: &mut Value,
    path: &[PathElement],
    ty: Ty<'_>,
    keep: &FieldSet,
    prefix: &mut Path,
) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let (child_ty, idx) = match (first, &*v) {
        (PathElement::Field(k), Value::Object(m)) if m.contains_key(k) => (ty.child(k).0, None),
        (_, Value::Array(a)) => {
            let kind = ty.list_kind();
            let pos = a
                .iter()
                .enumerate()
                .position(|(i, item)| item_element(&kind, ty.is_builtin(), i, item) == *first);
            match pos {
                Some(i) => (ty.item(), Some(i)),
                None => return false,
            }
        }
        _ => return false,
    };
    if rest.is_empty() {
        match (first, v) {
            (PathElement::Field(k), Value::Object(m)) => {
                m.shift_remove(k);
            }
            (_, Value::Array(a)) => {
                if let Some(i) = idx {
                    a.remove(i);
                }
            }
            _ => return false,
        }
        return true;
    }
    prefix.push(first.clone());
    let removed = {
        let child = match (first, &mut *v) {
            (PathElement::Field(k), Value::Object(m)) => m.get_mut(k),
            (_, Value::Array(a)) => idx.and_then(|i| a.get_mut(i)),
            _ => None,
        };
        match child {
            Some(c) => remove_path(c, rest, child_ty, keep, prefix),
            None => false,
        }
    };
    // A field emptied by the removal goes too (the server's typed encoding omits empty maps),
    // unless someone owns it as such.
    let is_metadata = prefix.len() == 1 && prefix[0] == PathElement::Field("metadata".into());
    if removed && !is_metadata && !keep.contains(prefix) {
        let emptied = match (first, &*v) {
            (PathElement::Field(k), Value::Object(m)) => m
                .get(k)
                .and_then(Value::as_object)
                .is_some_and(Map::is_empty),
            _ => false,
        };
        if emptied && let (PathElement::Field(k), Value::Object(m)) = (first, &mut *v) {
            m.shift_remove(k);
        }
    }
    prefix.pop();
    removed
}

/// The fields an Update touched, split as structured-merge-diff's typed comparison splits them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Nodes present only in the new object (leaves, and maps/lists that did not exist).
    pub added: FieldSet,
    /// Leaves (scalars, atomic lists and maps) whose value changed.
    pub modified: FieldSet,
    /// Nodes present only in the old object.
    pub removed: FieldSet,
}

impl Comparison {
    /// `added ∪ modified`: what the updating manager takes ownership of.
    pub fn changed(&self) -> FieldSet {
        let mut s = self.added.clone();
        s.extend(&self.modified);
        s
    }

    /// True when the objects are equal.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.removed.is_empty()
    }
}

/// Whether `v` is absent, null or an empty object/list (structured-merge-diff treats two such
/// sides as one leaf, keeping the empty/null distinction).
fn empty_or_absent(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    }
}

/// Compares `old` and `new` (either side may be absent) with the type information: changed
/// scalars and atomic values are `modified`; a node present on one side only is `added` or
/// `removed` together with everything below it; maps and lists present on both sides are not
/// members themselves; items of associative lists are matched by key (`k:`) or value (`v:`).
pub fn compare(
    old: Option<&Value>,
    new: Option<&Value>,
    ty: Ty<'_>,
    path: &mut Path,
    out: &mut Comparison,
) {
    if old.is_none() && new.is_none() {
        return;
    }
    let either = |f: fn(&Value) -> bool| old.is_some_and(f) || new.is_some_and(f);
    // A null side takes the shape of the other (it is "no map/list", not a different value).
    let fits = |v: Option<&Value>, f: fn(&Value) -> bool| v.is_none_or(|v| v.is_null() || f(v));
    let is_map =
        either(Value::is_object) && fits(old, Value::is_object) && fits(new, Value::is_object);
    let is_list =
        either(Value::is_array) && fits(old, Value::is_array) && fits(new, Value::is_array);
    let leaf = (!is_map && !is_list)
        || (is_map && ty.map_atomic())
        || (is_list && ty.list_kind() == ListKind::Atomic)
        || (empty_or_absent(old) && empty_or_absent(new));
    if leaf {
        match (old, new) {
            (None, Some(_)) => out.added.insert(path.clone()),
            (Some(_), None) => out.removed.insert(path.clone()),
            (Some(o), Some(n)) if o != n => out.modified.insert(path.clone()),
            _ => {}
        }
        return;
    }
    if is_map {
        let empty = Map::new();
        let o = old.and_then(Value::as_object).unwrap_or(&empty);
        let n = new.and_then(Value::as_object).unwrap_or(&empty);
        for k in o.keys().chain(n.keys().filter(|k| !o.contains_key(*k))) {
            path.push(PathElement::Field(k.clone()));
            compare(o.get(k), n.get(k), ty.child(k).0, path, out);
            path.pop();
        }
    } else {
        let kind = ty.list_kind();
        let b = ty.is_builtin();
        // Repeated identities count once (the first occurrence), as upstream indexes them.
        let index = |v: Option<&Value>| -> Vec<(PathElement, Value)> {
            let mut items: Vec<(PathElement, Value)> = Vec::new();
            for (i, item) in v
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let pe = item_element(&kind, b, i, item);
                if !items.iter().any(|(p, _)| *p == pe) {
                    items.push((pe, item.clone()));
                }
            }
            items
        };
        let (o, n) = (index(old), index(new));
        let find = |items: &[(PathElement, Value)], pe: &PathElement| {
            items.iter().find(|(p, _)| p == pe).map(|(_, v)| v.clone())
        };
        let mut seen: Vec<PathElement> = Vec::new();
        for (pe, _) in o.iter().chain(&n) {
            if seen.contains(pe) {
                continue;
            }
            seen.push(pe.clone());
            let (ov, nv) = (find(&o, pe), find(&n, pe));
            path.push(pe.clone());
            compare(ov.as_ref(), nv.as_ref(), ty.item(), path, out);
            path.pop();
        }
    }
    // The node itself, when it exists on one side only (a null side still "exists").
    match (old, new) {
        (None, Some(_)) => out.added.insert(path.clone()),
        (Some(_), None) => out.removed.insert(path.clone()),
        _ => {}
    }
}
