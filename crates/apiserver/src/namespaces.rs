//! The namespace lifecycle controller: a namespace being deleted (`Terminating`, `kubernetes`
//! in `spec.finalizers`) has all its namespaced content deleted, built-in and custom; its status
//! conditions report progress as upstream's namespace controller does; once nothing remains the
//! `kubernetes` finalizer is removed and the namespace goes away.

use crate::rest::{DeleteOpts, Propagation};
use crate::server::Api;
use crate::store::{Change, ObjKey};
use crate::util::{meta_str, now_rfc3339};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};

/// The finalizer token of the namespace controller in `spec.finalizers`.
pub const KUBERNETES_FINALIZER: &str = "kubernetes";

/// Namespaces that may never be deleted.
pub const PROTECTED: [&str; 3] = ["default", "kube-system", "kube-public"];

/// What was left in a namespace after one deletion pass.
#[derive(Debug, Default, PartialEq)]
pub struct Remaining {
    /// Objects per `resource.group` (core resources end in a dot, as upstream prints them).
    pub resources: BTreeMap<String, usize>,
    /// Objects per finalizer among what is left.
    pub finalizers: BTreeMap<String, usize>,
}

impl Remaining {
    fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }
}

/// One pass over every terminating namespace.
pub fn finish(api: &Api) {
    let (_, namespaces) = api.store.list("", "namespaces", None);
    for ns in namespaces
        .iter()
        .filter(|n| n.pointer("/metadata/deletionTimestamp").is_some())
    {
        let name = meta_str(ns, "name").to_string();
        let ours = ns
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|f| f == KUBERNETES_FINALIZER));
        let remaining = if ours {
            delete_content(api, &name)
        } else {
            Remaining::default()
        };
        let uid = meta_str(ns, "uid").to_string();
        let key = ObjKey::new("", "namespaces", "", &name);
        let _ = api.store.mutate(&key, |cur, _| {
            let Some(cur) = cur else {
                return Ok(Change::Keep);
            };
            if meta_str(cur, "uid") != uid {
                return Ok(Change::Keep);
            }
            let mut o = (**cur).clone();
            o["status"]["phase"] = json!("Terminating");
            if ours {
                set_conditions(&mut o, &remaining);
                if remaining.is_empty()
                    && let Some(f) = o
                        .pointer_mut("/spec/finalizers")
                        .and_then(Value::as_array_mut)
                {
                    f.retain(|x| x != KUBERNETES_FINALIZER);
                }
            }
            let empty = |p: &str| {
                o.pointer(p)
                    .and_then(Value::as_array)
                    .is_none_or(|a| a.is_empty())
            };
            if empty("/spec/finalizers") && empty("/metadata/finalizers") {
                return Ok(Change::Delete(o));
            }
            if o == **cur {
                return Ok(Change::Keep);
            }
            crate::fields::track_update(
                Some(cur),
                &mut o,
                "kube-controller-manager",
                "v1",
                Some("status"),
                true,
            );
            Ok(Change::Put(o))
        });
    }
}

/// Deletes every namespaced object in `ns` (background propagation, as the namespace controller
/// does) and reports what is still there.
fn delete_content(api: &Api, ns: &str) -> Remaining {
    let snap = api.registry.snapshot();
    let mut seen = HashSet::new();
    let mut left = Remaining::default();
    for r in snap.preferred().filter(|r| r.namespaced) {
        if !seen.insert((r.group.clone(), r.plural.clone())) {
            continue;
        }
        let (_, objs) = api.store.list(&r.group, &r.plural, Some(ns));
        if objs.is_empty() {
            continue;
        }
        for o in &objs {
            if o.pointer("/metadata/deletionTimestamp").is_none() {
                let opts = DeleteOpts {
                    uid: Some(meta_str(o, "uid").to_string()),
                    propagation: Some(Propagation::Background),
                    ..Default::default()
                };
                let _ = crate::rest::internal_delete_with(api, r, ns, meta_str(o, "name"), &opts);
            }
        }
        let (_, objs) = api.store.list(&r.group, &r.plural, Some(ns));
        if objs.is_empty() {
            continue;
        }
        left.resources
            .insert(format!("{}.{}", r.plural, r.group), objs.len());
        for o in &objs {
            for f in o
                .pointer("/metadata/finalizers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                *left.finalizers.entry(f.to_string()).or_default() += 1;
            }
        }
    }
    left
}

/// The namespace controller's five deletion conditions.
fn set_conditions(ns: &mut Value, left: &Remaining) {
    let now = now_rfc3339();
    let content = if left.resources.is_empty() {
        (
            "False",
            "ContentRemoved",
            "All content successfully removed".to_string(),
        )
    } else {
        let parts: Vec<String> = left
            .resources
            .iter()
            .map(|(r, n)| format!("{r} has {n} resource instances"))
            .collect();
        (
            "True",
            "SomeResourcesRemain",
            format!("Some resources are remaining: {}", parts.join(", ")),
        )
    };
    let finalizers = if left.finalizers.is_empty() {
        (
            "False",
            "ContentHasNoFinalizers",
            "All content-preserving finalizers finished".to_string(),
        )
    } else {
        let parts: Vec<String> = left
            .finalizers
            .iter()
            .map(|(f, n)| format!("{f} in {n} resource instances"))
            .collect();
        (
            "True",
            "SomeFinalizersRemain",
            format!(
                "Some content in the namespace has finalizers remaining: {}",
                parts.join(", ")
            ),
        )
    };
    let wanted = [
        (
            "NamespaceDeletionDiscoveryFailure",
            (
                "False",
                "ResourcesDiscovered",
                "All resources successfully discovered".to_string(),
            ),
        ),
        (
            "NamespaceDeletionGroupVersionParsingFailure",
            (
                "False",
                "ParsedGroupVersions",
                "All legacy kube types successfully parsed".to_string(),
            ),
        ),
        (
            "NamespaceDeletionContentFailure",
            (
                "False",
                "ContentDeleted",
                "All content successfully deleted, may be waiting on finalization".to_string(),
            ),
        ),
        ("NamespaceContentRemaining", content),
        ("NamespaceFinalizersRemaining", finalizers),
    ];
    let old: Vec<Value> = ns
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let conds: Vec<Value> = wanted
        .into_iter()
        .map(|(t, (status, reason, message))| {
            let since = old
                .iter()
                .find(|c| c["type"] == t && c["status"] == status)
                .and_then(|c| c.get("lastTransitionTime").cloned())
                .unwrap_or_else(|| json!(now));
            json!({"type": t, "status": status, "lastTransitionTime": since, "reason": reason, "message": message})
        })
        .collect();
    ns["status"]["conditions"] = json!(conds);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_name_remaining_resources_and_finalizers() {
        let mut ns = json!({"status": {"phase": "Terminating"}});
        let mut left = Remaining::default();
        left.resources.insert("widgets.example.com".into(), 2);
        left.resources.insert("configmaps.".into(), 1);
        left.finalizers.insert("example.com/stuck".into(), 2);
        set_conditions(&mut ns, &left);
        let c = &ns["status"]["conditions"];
        assert_eq!(c[3]["type"], "NamespaceContentRemaining");
        assert_eq!(
            c[3]["message"],
            "Some resources are remaining: configmaps. has 1 resource instances, widgets.example.com has 2 resource instances"
        );
        assert_eq!(c[4]["reason"], "SomeFinalizersRemain");
        assert_eq!(
            c[4]["message"],
            "Some content in the namespace has finalizers remaining: example.com/stuck in 2 resource instances"
        );
        let t = c[0]["lastTransitionTime"].clone();
        set_conditions(&mut ns, &Remaining::default());
        assert_eq!(ns["status"]["conditions"][0]["lastTransitionTime"], t);
        assert_eq!(ns["status"]["conditions"][3]["reason"], "ContentRemoved");
    }
}
