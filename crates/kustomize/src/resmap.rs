//! The ordered set of resources being built and the operations on it that keep ids unique.

use crate::error::Error;
use crate::resid::ResId;
use crate::resource::{Behavior, Resource};

/// Appends a resource, refusing a second one with the same current id.
pub fn append(list: &mut Vec<Resource>, r: Resource) -> Result<(), Error> {
    let id = r.cur_id();
    if list.iter().any(|x| x.cur_id().equals(&id)) {
        return Err(Error::DuplicateId(id.to_string()));
    }
    list.push(r);
    Ok(())
}

/// The key under which kustomize's id equality holds (GVK, name, effective namespace).
fn id_key(id: &ResId) -> (String, String, String, String, String) {
    (
        id.gvk.group.clone(),
        id.gvk.version.clone(),
        id.gvk.kind.clone(),
        id.name.clone(),
        id.effective_namespace().to_string(),
    )
}

/// Appends all resources of `other`, refusing duplicate ids (one pass, hashed).
pub fn append_all(list: &mut Vec<Resource>, other: Vec<Resource>) -> Result<(), Error> {
    let mut seen: std::collections::HashSet<_> = list.iter().map(|r| id_key(&r.cur_id())).collect();
    for r in other {
        let id = r.cur_id();
        if !seen.insert(id_key(&id)) {
            return Err(Error::DuplicateId(id.to_string()));
        }
        list.push(r);
    }
    Ok(())
}

/// Errors if two resources share an id.
pub fn check_unique(list: &[Resource], context: &str) -> Result<(), Error> {
    let mut seen = std::collections::HashSet::new();
    for r in list {
        let id = r.cur_id();
        if !seen.insert(id_key(&id)) {
            return Err(Error::transform(
                context,
                format!("produces ID conflict: {id}"),
            ));
        }
    }
    Ok(())
}

/// Indexes of resources whose current or any previous id satisfies `f`.
pub fn matching_any_id(list: &[Resource], f: impl Fn(&ResId) -> bool) -> Vec<usize> {
    list.iter()
        .enumerate()
        .filter(|(_, r)| r.all_ids().iter().any(&f))
        .map(|(i, _)| i)
        .collect()
}

/// Adds a generated resource: appended, or merged into / replacing an existing one per its
/// generator behavior.
pub fn append_replace_or_merge(list: &mut Vec<Resource>, mut res: Resource) -> Result<(), Error> {
    let id = res.cur_id();
    let matches = matching_any_id(list, |x| id.equals(x));
    match matches.as_slice() {
        [] => match res.behavior {
            Behavior::Merge | Behavior::Replace => Err(Error::transform(
                format!("generate {id}"),
                "id does not exist; cannot merge or replace",
            )),
            _ => append(list, res),
        },
        [i] => {
            let old = &list[*i];
            match res.behavior {
                Behavior::Replace => copy_merge_meta(&mut res, old),
                Behavior::Merge => {
                    // A merged object keeps the origin of the one it merges into.
                    let origin = old
                        .annotations()
                        .into_iter()
                        .find(|(k, _)| k == crate::target::ORIGIN_ANNOTATION);
                    copy_merge_meta(&mut res, old);
                    if let Some((k, v)) = origin {
                        let mut ann = res.annotations();
                        ann.retain(|(x, _)| x != &k);
                        ann.push((k, v));
                        res.set_meta_map("annotations", ann);
                    }
                    for field in ["data", "binaryData"] {
                        merge_data(&mut res, old, field);
                    }
                }
                _ => {
                    return Err(Error::transform(
                        format!("generate {id}"),
                        "id exists; behavior must be merge or replace",
                    ));
                }
            }
            list[*i] = res;
            Ok(())
        }
        _ => Err(Error::transform(
            format!("generate {id}"),
            "found multiple objects that could accept the merge",
        )),
    }
}

/// Labels and annotations of `old` under those of `res`; name, namespace and bookkeeping
/// from `old`.
fn copy_merge_meta(res: &mut Resource, old: &Resource) {
    let merge = |base: Vec<(String, String)>, top: Vec<(String, String)>| {
        let mut m: std::collections::BTreeMap<String, String> = base.into_iter().collect();
        m.extend(top);
        m.into_iter().collect::<Vec<_>>()
    };
    let labels = merge(old.labels(), res.labels());
    res.set_meta_map("labels", labels);
    let annotations = merge(old.annotations(), res.annotations());
    res.set_meta_map("annotations", annotations);
    let name = old.name().to_string();
    res.set_name(&name);
    let ns = old.namespace().to_string();
    res.set_namespace(&ns);
    res.prev_ids = old.prev_ids.clone();
    res.prefixes = old.prefixes.clone();
    res.suffixes = old.suffixes.clone();
    res.ref_by = old.ref_by.clone();
    // kustomize keeps the hash flag only if the incoming generator asked for it.
}

fn merge_data(res: &mut Resource, old: &Resource, field: &str) {
    let mut m = serde_json::Map::new();
    let mut entries: Vec<(String, serde_json::Value)> = Vec::new();
    if let Some(o) = old.obj.get(field).and_then(|v| v.as_object()) {
        entries.extend(o.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    if let Some(o) = res.obj.get(field).and_then(|v| v.as_object()) {
        entries.extend(o.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (k, v) in entries {
        m.insert(k, v);
    }
    if let Some(o) = res.obj.as_object_mut() {
        if m.is_empty() {
            o.remove(field);
        } else {
            o.insert(field.to_string(), serde_json::Value::Object(m));
        }
    }
}
