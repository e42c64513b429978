//! In-process background work: finishing CRD deletion (removing its custom resources first) and
//! namespace termination (removing the namespace's contents first).

use crate::crd::CLEANUP_FINALIZER;
use crate::server::Api;
use crate::store::{Change, ObjKey};
use crate::util::meta_str;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Runs until shutdown, reacting to wake-ups and polling once a second.
pub async fn run(api: Arc<Api>, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = api.controller_wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.changed() => return,
        }
        let a = api.clone();
        // Storage writes fsync; keep them off the async workers.
        let _ = tokio::task::spawn_blocking(move || {
            finish_crds(&a);
            finish_namespaces(&a);
        })
        .await;
    }
}

fn finish_crds(api: &Api) {
    let (_, crds) = api
        .store
        .list("apiextensions.k8s.io", "customresourcedefinitions", None);
    for crd in crds
        .iter()
        .filter(|c| c.pointer("/metadata/deletionTimestamp").is_some())
    {
        let group = crd
            .pointer("/spec/group")
            .and_then(Value::as_str)
            .unwrap_or("");
        let plural = crd
            .pointer("/spec/names/plural")
            .and_then(Value::as_str)
            .unwrap_or("");
        let remaining = delete_all(api, group, plural, None);
        if remaining > 0 {
            continue;
        }
        let key = ObjKey::new(
            "apiextensions.k8s.io",
            "customresourcedefinitions",
            "",
            meta_str(crd, "name"),
        );
        let _ = api.store.mutate(&key, |cur, _| {
            let Some(cur) = cur else {
                return Ok(Change::Keep);
            };
            let mut o = (**cur).clone();
            if let Some(f) = o
                .pointer_mut("/metadata/finalizers")
                .and_then(Value::as_array_mut)
            {
                f.retain(|x| x != CLEANUP_FINALIZER);
            }
            let empty = o
                .pointer("/metadata/finalizers")
                .and_then(Value::as_array)
                .is_none_or(|a| a.is_empty());
            Ok(if empty {
                Change::Delete(o)
            } else {
                Change::Put(o)
            })
        });
        crate::crd::refresh_registry(api);
    }
}

/// Deletes every object of a resource (optionally in one namespace); returns how many remain.
fn delete_all(api: &Api, group: &str, plural: &str, ns: Option<&str>) -> usize {
    let snap = api.registry.snapshot();
    let Some(ri) = snap
        .preferred()
        .find(|r| r.group == group && r.plural == plural)
        .cloned()
    else {
        return 0;
    };
    let (_, objs) = api.store.list(group, plural, ns);
    for o in &objs {
        if o.pointer("/metadata/deletionTimestamp").is_none() {
            let _ = crate::rest::internal_delete(
                api,
                &ri,
                meta_str(o, "namespace"),
                meta_str(o, "name"),
            );
        }
    }
    api.store.list(group, plural, ns).1.len()
}

fn finish_namespaces(api: &Api) {
    let (_, namespaces) = api.store.list("", "namespaces", None);
    for ns in namespaces
        .iter()
        .filter(|n| n.pointer("/metadata/deletionTimestamp").is_some())
    {
        let name = meta_str(ns, "name").to_string();
        let snap = api.registry.snapshot();
        let mut seen = HashSet::new();
        let mut remaining = 0;
        for r in snap.preferred().filter(|r| r.namespaced) {
            if seen.insert((r.group.clone(), r.plural.clone())) {
                remaining += delete_all(api, &r.group, &r.plural, Some(&name));
            }
        }
        if remaining > 0 {
            continue;
        }
        let key = ObjKey::new("", "namespaces", "", &name);
        let _ = api.store.mutate(&key, |cur, _| {
            let Some(cur) = cur else {
                return Ok(Change::Keep);
            };
            let mut o = (**cur).clone();
            o["spec"]["finalizers"] = json!([]);
            let empty = o
                .pointer("/metadata/finalizers")
                .and_then(Value::as_array)
                .is_none_or(|a| a.is_empty());
            Ok(if empty {
                Change::Delete(o)
            } else if o == **cur {
                Change::Keep
            } else {
                Change::Put(o)
            })
        });
    }
}
