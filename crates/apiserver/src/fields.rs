//! managedFields bookkeeping for Update operations (create, PUT, non-apply PATCH): the fields a
//! manager added or changed join its FieldsV1 set and leave everyone else's; removed fields leave
//! every set. Lists are atomic here (owned as one leaf).

use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

type Path = Vec<String>;

struct Entry {
    raw: Map<String, Value>,
    set: BTreeSet<Path>,
}

/// The part of an object field ownership covers for a request on `sub`.
fn tracked(obj: &Value, sub: Option<&str>, has_status: bool) -> Value {
    let mut v = obj.clone();
    let Some(m) = v.as_object_mut() else {
        return json!({});
    };
    m.remove("apiVersion");
    m.remove("kind");
    if sub == Some("status") {
        return match m.get("status") {
            Some(s) => json!({"status": s}),
            None => json!({}),
        };
    }
    if has_status {
        m.remove("status");
    }
    if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
        for f in [
            "name",
            "namespace",
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "selfLink",
            "managedFields",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generateName",
        ] {
            meta.remove(f);
        }
        if meta.is_empty() {
            m.remove("metadata");
        }
    }
    v
}

fn add_all(v: &Value, p: &Path, out: &mut BTreeSet<Path>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            let mut dot = p.clone();
            dot.push(".".into());
            out.insert(dot);
            for (k, c) in m {
                let mut cp = p.clone();
                cp.push(format!("f:{k}"));
                add_all(c, &cp, out);
            }
        }
        _ => {
            out.insert(p.clone());
        }
    }
}

fn diff(old: &Value, new: &Value, p: &Path, changed: &mut BTreeSet<Path>, removed: &mut Vec<Path>) {
    let (Some(o), Some(n)) = (old.as_object(), new.as_object()) else {
        return;
    };
    for (k, nv) in n {
        let mut cp = p.clone();
        cp.push(format!("f:{k}"));
        match o.get(k) {
            // metadata always exists, so it is never a new node itself.
            None if p.is_empty() && k == "metadata" => diff(&json!({}), nv, &cp, changed, removed),
            None => add_all(nv, &cp, changed),
            Some(ov) if ov.is_object() && nv.is_object() => diff(ov, nv, &cp, changed, removed),
            Some(ov) if ov != nv => {
                removed.push(cp.clone());
                add_all(nv, &cp, changed);
            }
            _ => {}
        }
    }
    for k in o.keys() {
        if !n.contains_key(k) {
            let mut cp = p.clone();
            cp.push(format!("f:{k}"));
            removed.push(cp);
        }
    }
}

fn parse_set(v: &Value, p: &Path, out: &mut BTreeSet<Path>) {
    let Some(m) = v.as_object() else { return };
    for (k, c) in m {
        let mut cp = p.clone();
        cp.push(k.clone());
        if k == "." || c.as_object().is_none_or(|o| o.is_empty()) {
            out.insert(cp);
        } else {
            parse_set(c, &cp, out);
        }
    }
}

/// Serializes a field set as FieldsV1.
pub fn to_fields_v1(set: &BTreeSet<Path>) -> Value {
    let mut root = Map::new();
    for path in set {
        let mut cur = &mut root;
        for seg in path {
            cur = cur
                .entry(seg.clone())
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("fieldsV1 node is an object");
        }
    }
    Value::Object(root)
}

fn starts_with(path: &Path, prefix: &Path) -> bool {
    path.len() >= prefix.len() && path[..prefix.len()] == prefix[..]
}

/// Records an Update by `manager` that turned `old` (None on create) into `new`, rewriting
/// `new.metadata.managedFields`.
pub fn track_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    api_version: &str,
    sub: Option<&str>,
    has_status: bool,
) {
    let empty = json!({});
    let old_view = old.map(|o| tracked(o, sub, has_status)).unwrap_or(empty);
    let new_view = tracked(new, sub, has_status);
    let mut changed = BTreeSet::new();
    let mut removed = Vec::new();
    diff(
        &old_view,
        &new_view,
        &Vec::new(),
        &mut changed,
        &mut removed,
    );
    if changed.is_empty() && removed.is_empty() {
        return;
    }
    let mut entries: Vec<Entry> = new
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|e| e.as_object())
                .map(|raw| {
                    let mut set = BTreeSet::new();
                    parse_set(
                        raw.get("fieldsV1").unwrap_or(&Value::Null),
                        &Vec::new(),
                        &mut set,
                    );
                    Entry {
                        raw: raw.clone(),
                        set,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    for e in &mut entries {
        e.set
            .retain(|p| !removed.iter().any(|r| starts_with(p, r)) && !changed.contains(p));
    }
    let is_mine = |e: &Entry| {
        e.raw.get("manager").and_then(Value::as_str) == Some(manager)
            && e.raw.get("operation").and_then(Value::as_str) == Some("Update")
            && e.raw.get("apiVersion").and_then(Value::as_str) == Some(api_version)
            && e.raw.get("subresource").and_then(Value::as_str) == sub
    };
    let now = crate::util::now_rfc3339();
    if !changed.is_empty() {
        match entries.iter_mut().find(|e| is_mine(e)) {
            Some(e) => {
                e.set.extend(changed);
                e.raw.insert("time".into(), json!(now));
            }
            None => {
                let mut raw = Map::new();
                raw.insert("manager".into(), json!(manager));
                raw.insert("operation".into(), json!("Update"));
                raw.insert("apiVersion".into(), json!(api_version));
                raw.insert("time".into(), json!(now));
                raw.insert("fieldsType".into(), json!("FieldsV1"));
                if let Some(s) = sub {
                    raw.insert("subresource".into(), json!(s));
                }
                entries.push(Entry { raw, set: changed });
            }
        }
    }
    entries.retain(|e| !e.set.is_empty());
    let key = |e: &Entry| {
        let s = |k: &str| {
            e.raw
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        (
            s("operation"),
            s("time"),
            s("manager"),
            s("apiVersion"),
            s("subresource"),
        )
    };
    entries.sort_by_key(key);
    let list: Vec<Value> = entries
        .into_iter()
        .map(|mut e| {
            e.raw.insert("fieldsV1".into(), to_fields_v1(&e.set));
            // Keep key order as upstream writes it.
            let mut out = Map::new();
            for k in [
                "manager",
                "operation",
                "apiVersion",
                "time",
                "fieldsType",
                "fieldsV1",
                "subresource",
            ] {
                if let Some(v) = e.raw.remove(k) {
                    out.insert(k.into(), v);
                }
            }
            Value::Object(out)
        })
        .collect();
    let m = crate::util::meta_mut(new);
    if list.is_empty() {
        m.remove("managedFields");
    } else {
        m.insert("managedFields".into(), Value::Array(list));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_configmap_entry() {
        let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "labels": {"app": "a"}}, "data": {"a": "1"}});
        track_update(None, &mut cm, "kubectl-create", "v1", None, false);
        let mf = &cm["metadata"]["managedFields"][0];
        assert_eq!(mf["manager"], "kubectl-create");
        assert_eq!(mf["operation"], "Update");
        assert_eq!(
            mf["fieldsV1"],
            json!({"f:data": {".": {}, "f:a": {}}, "f:metadata": {"f:labels": {".": {}, "f:app": {}}}})
        );
    }

    #[test]
    fn update_steals_and_removal_drops() {
        let mut cm = json!({"metadata": {"name": "x"}, "data": {"a": "1", "b": "2"}});
        track_update(None, &mut cm, "one", "v1", None, false);
        let old = cm.clone();
        cm["data"]["a"] = json!("9");
        track_update(Some(&old), &mut cm, "two", "v1", None, false);
        let mfs = cm["metadata"]["managedFields"].as_array().unwrap().clone();
        assert_eq!(mfs.len(), 2);
        assert_eq!(mfs[0]["fieldsV1"], json!({"f:data": {".": {}, "f:b": {}}}));
        assert_eq!(mfs[1]["fieldsV1"], json!({"f:data": {"f:a": {}}}));
        let old = cm.clone();
        cm["data"].as_object_mut().unwrap().remove("a");
        track_update(Some(&old), &mut cm, "three", "v1", None, false);
        assert_eq!(cm["metadata"]["managedFields"].as_array().unwrap().len(), 1);
    }
}
