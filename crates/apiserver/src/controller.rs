//! In-process background work: finishing CRD deletion (removing its custom resources first),
//! namespace termination (removing the namespace's contents first), Event expiry, and the
//! workload-status simulation and garbage collector tasks it starts.

use crate::crd::CLEANUP_FINALIZER;
use crate::server::Api;
use crate::store::{Change, ObjKey};
use crate::util::meta_str;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Settings of the background loops (from [`crate::Config`]).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Run the workload-status simulation ([`crate::workloads`]).
    pub simulate_workloads: bool,
    /// Delay before a simulated workload is ready.
    pub workload_ready_delay: Duration,
    /// Lifetime of Events after their last write.
    pub event_ttl: Duration,
}

/// How often expired Events are looked for.
const EVENT_SWEEP: Duration = Duration::from_secs(30);

/// Runs until shutdown, reacting to wake-ups and polling once a second; starts the garbage
/// collector and the workload simulation as their own tasks.
pub async fn run(api: Arc<Api>, settings: Settings, mut shutdown: watch::Receiver<bool>) {
    if settings.simulate_workloads {
        tokio::spawn(crate::workloads::run(
            api.clone(),
            settings.workload_ready_delay,
            shutdown.clone(),
        ));
    }
    tokio::spawn(crate::gc::run(api.clone(), shutdown.clone()));
    let mut last_sweep: Option<Instant> = None;
    loop {
        tokio::select! {
            _ = api.controller_wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.changed() => return,
        }
        let sweep = last_sweep.is_none_or(|t| t.elapsed() >= EVENT_SWEEP.min(settings.event_ttl));
        if sweep {
            last_sweep = Some(Instant::now());
        }
        let a = api.clone();
        let ttl = settings.event_ttl;
        // Storage writes fsync; keep them off the async workers.
        let _ = tokio::task::spawn_blocking(move || {
            finish_crds(&a);
            crate::namespaces::finish(&a);
            if sweep {
                expire_events(&a, ttl);
            }
        })
        .await;
    }
}

/// The last time an Event was written, as far as its fields tell.
fn event_last_write(e: &Value) -> Option<i64> {
    let mut times: Vec<&str> = vec![meta_str(e, "creationTimestamp")];
    for p in [
        "/lastTimestamp",
        "/eventTime",
        "/series/lastObservedTime",
        "/deprecatedLastTimestamp",
    ] {
        if let Some(t) = e.pointer(p).and_then(Value::as_str) {
            times.push(t);
        }
    }
    if let Some(mf) = e
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    {
        times.extend(
            mf.iter()
                .filter_map(|m| m.get("time").and_then(Value::as_str)),
        );
    }
    times
        .into_iter()
        .filter_map(crate::util::parse_rfc3339)
        .max()
}

/// Deletes core/v1 and events.k8s.io/v1 Events whose last write is older than `ttl` (upstream
/// stores them with an etcd lease of that length, renewed on every write).
fn expire_events(api: &Api, ttl: Duration) -> usize {
    let cutoff = crate::util::now_secs() - ttl.as_secs() as i64;
    let mut removed = 0;
    for group in ["", "events.k8s.io"] {
        for e in api.store.list(group, "events", None).1 {
            if event_last_write(&e).is_some_and(|t| t <= cutoff) {
                let key = ObjKey::new(
                    group,
                    "events",
                    meta_str(&e, "namespace"),
                    meta_str(&e, "name"),
                );
                let rv = meta_str(&e, "resourceVersion").to_string();
                let r = api.store.mutate(&key, |cur, _| match cur {
                    Some(c) if meta_str(c, "resourceVersion") == rv => {
                        Ok(Change::Delete((**c).clone()))
                    }
                    _ => Ok(Change::Keep),
                });
                if r.is_ok_and(|o| o.etype.is_some()) {
                    removed += 1;
                }
            }
        }
    }
    removed
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
