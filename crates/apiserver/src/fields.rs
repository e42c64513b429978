//! managedFields bookkeeping for Update operations (create, PUT, non-apply PATCH), as
//! structured-merge-diff computes it: the old and new objects are compared with the typed schema
//! (the same type information server-side apply uses, see [`crate::apply::Ty`]), the updating
//! manager takes ownership of every added or modified field (per list-map item `k:`, per set
//! value `v:`, per map key), those fields leave every other manager's set (an Update never
//! conflicts), and removed fields leave every set. An Update that changes nothing tracked adds
//! no entry and leaves every `time` alone.

use crate::apply::merge::{Comparison, compare};
use crate::apply::path::{FieldSet, PathElement};
use crate::apply::{Entry, Ty, parse_entries, tracked};
use serde_json::{Map, Value, json};

/// Paths the server never records in a field set (upstream strips exactly these nodes; what
/// lies below `metadata` is kept).
fn strip(set: &mut FieldSet) {
    let mut drop = FieldSet::new();
    drop.insert(Vec::new());
    drop.insert(vec![PathElement::Field("metadata".into())]);
    *set = set.difference(&drop);
}

/// Struct fields that exist (as empty objects) in a new, empty built-in object, because Go
/// declares them as values rather than pointers: a create does not "add" them, so they are not
/// members of the creator's set themselves (only what is below them is).
const VALUE_STRUCTS: &[&[&str]] = &[
    &["spec"],
    &["spec", "template"],
    &["spec", "template", "metadata"],
    &["spec", "template", "spec"],
    &["spec", "strategy"],
    &["spec", "updateStrategy"],
    &["spec", "jobTemplate"],
    &["spec", "jobTemplate", "spec"],
    &["spec", "jobTemplate", "spec", "template"],
    &["spec", "jobTemplate", "spec", "template", "metadata"],
    &["spec", "jobTemplate", "spec", "template", "spec"],
    &["status"],
];

/// Lists Go declares without `omitempty`: an empty built-in object has them as `null`, so a
/// create does not "add" the list node itself (only its items).
const NULL_LISTS: &[&[&str]] = &[
    &["spec", "containers"],
    &["spec", "template", "spec", "containers"],
    &[
        "spec",
        "jobTemplate",
        "spec",
        "template",
        "spec",
        "containers",
    ],
];

/// The object a create compares against: an empty object of the type.
fn zero_object(new_view: &Value, ty: Ty<'_>) -> Value {
    let mut zero = json!({});
    if !ty.is_builtin() {
        return zero;
    }
    for path in VALUE_STRUCTS {
        let (mut t, mut n) = (ty, new_view);
        let mut declared_objects = true;
        for seg in *path {
            let (ct, declared) = t.child(seg);
            match n.get(*seg) {
                Some(v) if declared && v.is_object() => {
                    t = ct;
                    n = v;
                }
                _ => {
                    declared_objects = false;
                    break;
                }
            }
        }
        if !declared_objects {
            continue;
        }
        let mut cur = &mut zero;
        for seg in *path {
            cur = cur
                .as_object_mut()
                .expect("zero object node is an object")
                .entry(seg.to_string())
                .or_insert_with(|| json!({}));
        }
    }
    for path in NULL_LISTS {
        let (parent, last) = path.split_at(path.len() - 1);
        let Some(new_list) = new_view.pointer(&format!("/{}", path.join("/"))) else {
            continue;
        };
        let mut cur = Some(&mut zero);
        for seg in parent {
            cur = cur.and_then(|c| c.get_mut(*seg));
        }
        if new_list.is_array()
            && let Some(Value::Object(m)) = cur
        {
            m.insert(last[0].to_string(), Value::Null);
        }
    }
    zero
}

/// Inserts the nodes of `zero` that `v` lacks.
fn fill_missing(v: &mut Value, zero: &Value) {
    let (Value::Object(m), Value::Object(z)) = (v, zero) else {
        return;
    };
    for (k, zv) in z {
        match m.get_mut(k) {
            Some(cur) => fill_missing(cur, zv),
            None => {
                m.insert(k.clone(), zv.clone());
            }
        }
    }
}

/// How many Update entries an object keeps before the oldest are merged (upstream's default).
pub const MAX_UPDATE_MANAGERS: usize = 10;

/// The manager name of the entries the oldest Update entries are merged into.
pub const ANCIENT_CHANGES: &str = "ancient-changes";

/// Caps the Update entries at [`MAX_UPDATE_MANAGERS`] as the real server does: oldest first (by
/// time, then identity), each entry beyond the cap is merged into one `ancient-changes` entry per
/// apiVersion (the first entry of a version seen stays itself until a second one of that
/// version needs merging; the bucket takes the time of the newest entry merged into it).
pub(crate) fn cap_update_managers(entries: &mut Vec<Entry>) {
    let mut updaters: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].s("operation") == "Update")
        .collect();
    if updaters.len() <= MAX_UPDATE_MANAGERS {
        return;
    }
    let secs = |e: &Entry| crate::util::parse_rfc3339(e.s("time")).unwrap_or(0);
    let ident = |e: &Entry| {
        (
            e.s("manager").to_string(),
            e.s("apiVersion").to_string(),
            e.s("subresource").to_string(),
        )
    };
    updaters.sort_by(|&a, &b| {
        secs(&entries[a])
            .cmp(&secs(&entries[b]))
            .then_with(|| ident(&entries[a]).cmp(&ident(&entries[b])))
    });
    let mut first_of_version: Vec<(String, usize)> = Vec::new();
    let mut gone: Vec<usize> = Vec::new();
    let mut length = updaters.len();
    for &i in &updaters {
        if length <= MAX_UPDATE_MANAGERS {
            break;
        }
        let version = entries[i].s("apiVersion").to_string();
        let Some(&(_, first)) = first_of_version.iter().find(|(v, _)| *v == version) else {
            first_of_version.push((version, i));
            continue;
        };
        let bucket = entries.iter().position(|e| {
            e.s("manager") == ANCIENT_CHANGES
                && e.s("operation") == "Update"
                && e.s("apiVersion") == version
                && e.s("subresource").is_empty()
        });
        let bucket = match bucket {
            // The bucket itself is never merged away.
            Some(b) if b == i => continue,
            Some(b) => b,
            None => {
                // The first entry of this version becomes the bucket.
                let e = &mut entries[first];
                e.raw.insert("manager".into(), json!(ANCIENT_CHANGES));
                e.raw.shift_remove("subresource");
                e.dirty = true;
                first
            }
        };
        let (set, time) = (entries[i].set.clone(), entries[i].s("time").to_string());
        let b = &mut entries[bucket];
        b.set.extend(&set);
        b.raw.insert("time".into(), json!(time));
        b.dirty = true;
        gone.push(i);
        length -= 1;
    }
    gone.sort_unstable();
    for i in gone.into_iter().rev() {
        entries.remove(i);
    }
}

/// The root type of a built-in object, from its own `apiVersion` and `kind` (unknown kinds and
/// custom resources without their CRD are typed "deduced": maps granular, lists atomic).
pub fn builtin_type(obj: &Value) -> Ty<'static> {
    let s = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or("");
    let (group, version) = match s("apiVersion").split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", s("apiVersion")),
    };
    Ty::builtin(group, version, s("kind"))
}

/// Records an Update by `manager` that turned `old` (None on create) into `new`, rewriting
/// `new.metadata.managedFields`; the type is taken from `new`'s apiVersion and kind (built-in
/// kinds). Resources served from a CRD use [`track_update_typed`].
pub fn track_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    api_version: &str,
    sub: Option<&str>,
    has_status: bool,
) {
    let ty = builtin_type(new);
    track_update_typed(old, new, ty, manager, api_version, sub, has_status);
}

/// Records an Update by `manager` (entry identity: manager, `Update`, `api_version`, `sub`)
/// that turned `old` (None on create) into `new`, comparing both with the type `ty`, and
/// rewrites `new.metadata.managedFields`.
pub fn track_update_typed(
    old: Option<&Value>,
    new: &mut Value,
    ty: Ty<'_>,
    manager: &str,
    api_version: &str,
    sub: Option<&str>,
    has_status: bool,
) {
    let new_view = tracked(new, sub, has_status);
    // Built-in objects always carry their value structs (e.g. `status` before any controller
    // wrote it): compare against them as present.
    let mut old_view = old
        .map(|o| tracked(o, sub, has_status))
        .unwrap_or_else(|| json!({}));
    fill_missing(&mut old_view, &zero_object(&new_view, ty));
    let mut cmp = Comparison::default();
    compare(
        Some(&old_view),
        Some(&new_view),
        ty,
        &mut Vec::new(),
        &mut cmp,
    );
    strip(&mut cmp.added);
    strip(&mut cmp.modified);
    strip(&mut cmp.removed);
    if cmp.is_empty() {
        return;
    }
    let changed = cmp.changed();
    let mut entries = parse_entries(new);
    for e in &mut entries {
        let kept = e.set.difference(&changed).difference(&cmp.removed);
        if kept != e.set {
            e.set = kept;
            e.dirty = true;
        }
    }
    if !changed.is_empty() {
        let now = crate::util::now_rfc3339();
        let mine = entries.iter_mut().find(|e| {
            e.s("manager") == manager
                && e.s("operation") == "Update"
                && e.s("apiVersion") == api_version
                && e.s("subresource") == sub.unwrap_or("")
        });
        match mine {
            Some(e) => {
                e.set.extend(&changed);
                e.raw.insert("time".into(), json!(now));
                e.dirty = true;
            }
            None => {
                let mut raw = Map::new();
                raw.insert("manager".into(), json!(manager));
                raw.insert("operation".into(), json!("Update"));
                raw.insert("apiVersion".into(), json!(api_version));
                raw.insert("time".into(), json!(now));
                if let Some(s) = sub {
                    raw.insert("subresource".into(), json!(s));
                }
                entries.push(Entry {
                    raw,
                    set: changed,
                    dirty: true,
                });
            }
        }
    }
    entries.retain(|e| !e.set.is_empty());
    cap_update_managers(&mut entries);
    entries.sort_by_key(Entry::sort_key);
    let list: Vec<Value> = entries.into_iter().map(Entry::render).collect();
    let m = crate::util::meta_mut(new);
    if list.is_empty() {
        m.shift_remove("managedFields");
    } else {
        m.insert("managedFields".into(), Value::Array(list));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::tests::fields_of;
    use crate::apply::{ApplyParams, apply};

    const OLD: &str = "2020-01-01T00:00:00Z";

    /// Rewrites every entry's time to [`OLD`] so later changes of it are visible.
    fn age(obj: &mut Value) {
        for e in obj["metadata"]["managedFields"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            e["time"] = json!(OLD);
        }
    }

    fn deployment(image: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "namespace": "default", "labels": {"app": "d"}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "d"}},
                "template": {"metadata": {"labels": {"app": "d"}},
                    "spec": {"containers": [{"name": "c1", "image": image}, {"name": "c2", "image": "side:1"}]}}}})
    }

    fn created() -> Value {
        let mut d = deployment("img:1");
        track_update(None, &mut d, "kubectl-create", "apps/v1", None, true);
        d
    }

    #[test]
    fn create_configmap_entry() {
        let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "labels": {"app": "a"}}, "data": {"a": "1"}});
        track_update(None, &mut cm, "kubectl-create", "v1", None, false);
        let mf = &cm["metadata"]["managedFields"];
        assert_eq!(mf.as_array().map(Vec::len), Some(1));
        assert_eq!(mf[0]["manager"], "kubectl-create");
        assert_eq!(mf[0]["operation"], "Update");
        assert_eq!(mf[0]["fieldsType"], "FieldsV1");
        assert!(mf[0].get("subresource").is_none());
        assert_eq!(
            mf[0]["fieldsV1"],
            json!({"f:data": {".": {}, "f:a": {}}, "f:metadata": {"f:labels": {".": {}, "f:app": {}}}})
        );
    }

    #[test]
    fn create_deployment_is_granular_per_container() {
        let d = created();
        assert_eq!(
            fields_of(&d, "kubectl-create", "Update"),
            json!({"f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                "f:spec": {"f:replicas": {}, "f:selector": {},
                    "f:template": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                        "f:spec": {"f:containers": {
                            "k:{\"name\":\"c1\"}": {".": {}, "f:image": {}, "f:name": {}},
                            "k:{\"name\":\"c2\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})
        );
    }

    #[test]
    fn set_image_owns_only_that_image_and_apply_conflicts_on_it() {
        let live = created();
        let mut set = live.clone();
        set["spec"]["template"]["spec"]["containers"][0]["image"] = json!("img:2");
        track_update(Some(&live), &mut set, "kubectl-set", "apps/v1", None, true);
        assert_eq!(
            fields_of(&set, "kubectl-set", "Update"),
            json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"c1\"}": {"f:image": {}}}}}}})
        );
        let creator = fields_of(&set, "kubectl-create", "Update");
        let c1 = &creator["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"c1\"}"];
        assert_eq!(c1, &json!({".": {}, "f:name": {}}));
        let c2 = &creator["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"c2\"}"];
        assert_eq!(c2, &json!({".": {}, "f:image": {}, "f:name": {}}));

        let params = ApplyParams {
            manager: "flux",
            api_version: "apps/v1",
            subresource: None,
            force: false,
            has_status: true,
            now: "2026-01-01T00:00:00Z",
        };
        let err = apply(
            Some(&set),
            &deployment("img:3"),
            Ty::builtin("apps", "v1", "Deployment"),
            &params,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"Apply failed with 1 conflict: conflict with "kubectl-set" using apps/v1: .spec.template.spec.containers[name="c1"].image"#
        );
        // The same value is shared, not a conflict.
        let shared = apply(
            Some(&set),
            &deployment("img:2"),
            Ty::builtin("apps", "v1", "Deployment"),
            &params,
        )
        .expect("agreeing apply succeeds");
        assert_eq!(
            fields_of(&shared, "kubectl-set", "Update"),
            fields_of(&set, "kubectl-set", "Update")
        );
    }

    #[test]
    fn unchanged_update_adds_nothing_and_keeps_times() {
        let mut live = created();
        age(&mut live);
        let mut same = live.clone();
        track_update(
            Some(&live),
            &mut same,
            "kubectl-edit",
            "apps/v1",
            None,
            true,
        );
        assert_eq!(same, live);
        // Only status changed: not tracked on the main resource.
        let mut st = live.clone();
        st["status"] = json!({"replicas": 1});
        track_update(Some(&live), &mut st, "kubectl-edit", "apps/v1", None, true);
        assert_eq!(st["metadata"], live["metadata"]);

        // A change by the same manager refreshes its time and keeps its older fields.
        let mut relabel = live.clone();
        relabel["metadata"]["labels"]["tier"] = json!("web");
        track_update(
            Some(&live),
            &mut relabel,
            "kubectl-create",
            "apps/v1",
            None,
            true,
        );
        let mfs = relabel["metadata"]["managedFields"].as_array().unwrap();
        assert_eq!(mfs.len(), 1);
        assert_ne!(mfs[0]["time"], OLD);
        assert_eq!(
            mfs[0]["fieldsV1"]["f:metadata"],
            json!({"f:labels": {".": {}, "f:app": {}, "f:tier": {}}})
        );
    }

    #[test]
    fn removal_leaves_every_set_and_keeps_other_times() {
        let mut live = created();
        age(&mut live);
        let mut edited = live.clone();
        edited["metadata"]["labels"]
            .as_object_mut()
            .unwrap()
            .remove("app");
        track_update(
            Some(&live),
            &mut edited,
            "kubectl-label",
            "apps/v1",
            None,
            true,
        );
        let mfs = edited["metadata"]["managedFields"].as_array().unwrap();
        assert_eq!(mfs.len(), 1, "a removal alone adds no entry: {mfs:?}");
        assert_eq!(mfs[0]["manager"], "kubectl-create");
        assert_eq!(mfs[0]["time"], OLD);
        // The emptied labels map is still there ({}), so it stays owned as such.
        assert_eq!(mfs[0]["fieldsV1"]["f:metadata"], json!({"f:labels": {}}));

        // Removing a container drops its whole item from the creator's set.
        let mut fewer = live.clone();
        fewer["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .remove(1);
        track_update(
            Some(&live),
            &mut fewer,
            "kubectl-edit",
            "apps/v1",
            None,
            true,
        );
        assert_eq!(fields_of(&fewer, "kubectl-edit", "Update"), Value::Null);
        assert_eq!(
            fields_of(&fewer, "kubectl-create", "Update")["f:spec"]["f:template"]["f:spec"]["f:containers"],
            json!({"k:{\"name\":\"c1\"}": {".": {}, "f:image": {}, "f:name": {}}})
        );
    }

    #[test]
    fn added_item_and_set_values_are_granular() {
        let live = created();
        let mut edited = live.clone();
        edited["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "c3", "image": "x:1"}));
        edited["metadata"]["finalizers"] = json!(["example.com/f"]);
        track_update(
            Some(&live),
            &mut edited,
            "kubectl-edit",
            "apps/v1",
            None,
            true,
        );
        assert_eq!(
            fields_of(&edited, "kubectl-edit", "Update"),
            json!({"f:metadata": {"f:finalizers": {".": {}, "v:\"example.com/f\"": {}}},
                "f:spec": {"f:template": {"f:spec": {"f:containers": {
                    "k:{\"name\":\"c3\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})
        );
        // A second finalizer by someone else is owned as that value only.
        let before = edited.clone();
        edited["metadata"]["finalizers"]
            .as_array_mut()
            .unwrap()
            .push(json!("other/g"));
        track_update(Some(&before), &mut edited, "ctrl", "apps/v1", None, true);
        assert_eq!(
            fields_of(&edited, "ctrl", "Update"),
            json!({"f:metadata": {"f:finalizers": {"v:\"other/g\"": {}}}})
        );
    }

    #[test]
    fn subresources_are_recorded() {
        let live = created();
        let mut scaled = live.clone();
        scaled["spec"]["replicas"] = json!(3);
        track_update(
            Some(&live),
            &mut scaled,
            "kubectl",
            "apps/v1",
            Some("scale"),
            true,
        );
        let e = scaled["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["manager"] == "kubectl")
            .cloned()
            .expect("scale entry");
        assert_eq!(e["subresource"], "scale");
        assert_eq!(e["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}));
        assert!(
            fields_of(&scaled, "kubectl-create", "Update")["f:spec"]
                .get("f:replicas")
                .is_none()
        );

        let mut st = scaled.clone();
        st["status"] =
            json!({"replicas": 3, "conditions": [{"type": "Available", "status": "True"}]});
        track_update(
            Some(&scaled),
            &mut st,
            "kube-controller-manager",
            "apps/v1",
            Some("status"),
            true,
        );
        let e = st["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["manager"] == "kube-controller-manager")
            .cloned()
            .expect("status entry");
        assert_eq!(e["subresource"], "status");
        assert_eq!(
            e["fieldsV1"],
            json!({"f:status": {"f:conditions": {".": {}, "k:{\"type\":\"Available\"}": {".": {}, "f:status": {}, "f:type": {}}}, "f:replicas": {}}})
        );
    }

    #[test]
    fn update_entries_beyond_ten_merge_into_ancient_changes() {
        let mut data = Map::new();
        let mut mfs = Vec::new();
        for i in 0..10 {
            data.insert(format!("k{i}"), json!("v"));
            mfs.push(
                json!({"manager": format!("m{i}"), "operation": "Update", "apiVersion": "v1",
                "time": format!("2020-01-01T00:00:{i:02}Z"), "fieldsType": "FieldsV1",
                "fieldsV1": {"f:data": {format!("f:k{i}"): {}}}}),
            );
        }
        let live = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x", "managedFields": mfs}, "data": data});
        let mut new = live.clone();
        new["data"]["k10"] = json!("v");
        track_update(Some(&live), &mut new, "m10", "v1", None, false);
        let out = new["metadata"]["managedFields"].as_array().unwrap();
        assert_eq!(out.len(), 10, "{out:?}");
        let ancient: Vec<&Value> = out
            .iter()
            .filter(|e| e["manager"] == ANCIENT_CHANGES)
            .collect();
        assert_eq!(ancient.len(), 1);
        assert_eq!(
            ancient[0]["fieldsV1"],
            json!({"f:data": {"f:k0": {}, "f:k1": {}}})
        );
        assert_eq!(ancient[0]["time"], "2020-01-01T00:00:01Z");
        assert_eq!(ancient[0]["operation"], "Update");
        assert!(
            out.iter()
                .all(|e| e["manager"] != "m0" && e["manager"] != "m1")
        );
        assert_eq!(out[0]["manager"], ANCIENT_CHANGES, "sorted by time");
    }

    #[test]
    fn crd_list_map_from_schema() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "items": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["id"],
                "items": {"type": "object", "properties": {"id": {"type": "string"}, "v": {"type": "integer"}}}},
            "tags": {"type": "array", "items": {"type": "string"}}}}}});
        let ty = Ty::CrdRoot(&schema);
        let mut cr = json!({"apiVersion": "x.io/v1", "kind": "X", "metadata": {"name": "a"},
            "spec": {"items": [{"id": "a", "v": 1}, {"id": "b", "v": 2}], "tags": ["t"]}});
        track_update_typed(None, &mut cr, ty, "creator", "x.io/v1", None, false);
        assert_eq!(
            fields_of(&cr, "creator", "Update"),
            json!({"f:spec": {".": {}, "f:items": {".": {}, "k:{\"id\":\"a\"}": {".": {}, "f:id": {}, "f:v": {}}, "k:{\"id\":\"b\"}": {".": {}, "f:id": {}, "f:v": {}}}, "f:tags": {}}})
        );
        let live = cr.clone();
        cr["spec"]["items"][1]["v"] = json!(5);
        cr["spec"]["tags"] = json!(["t", "u"]);
        track_update_typed(Some(&live), &mut cr, ty, "editor", "x.io/v1", None, false);
        assert_eq!(
            fields_of(&cr, "editor", "Update"),
            json!({"f:spec": {"f:items": {"k:{\"id\":\"b\"}": {"f:v": {}}}, "f:tags": {}}})
        );
    }
}
