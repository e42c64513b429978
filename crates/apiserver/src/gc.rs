//! The garbage collector: deletes dependents whose owners (by `ownerReferences` uid) are gone,
//! orphans dependents of owners deleted with the `orphan` finalizer, and deletes the dependents
//! of owners carrying `foregroundDeletion` before letting the owner go.
//!
//! It keeps an in-memory index (owner uid → dependents, uid → object) fed by the store's change
//! stream, so each deletion costs work proportional to the owner's dependents, not to the
//! whole database.

use crate::registry::ResourceInfo;
use crate::rest::{DeleteOpts, FOREGROUND_FINALIZER, ORPHAN_FINALIZER, Propagation};
use crate::server::Api;
use crate::store::{Change, EventType, ObjKey};
use crate::util::{meta_mut, meta_str};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// One owner reference of a dependent.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OwnerRef {
    uid: String,
    block: bool,
}

/// The index the collector works from.
#[derive(Default)]
struct Index {
    /// Live objects by uid.
    live: HashMap<String, ObjKey>,
    /// Owner references of each object that has any.
    refs: HashMap<ObjKey, Vec<OwnerRef>>,
    /// Dependents by owner uid.
    dependents: HashMap<String, HashSet<ObjKey>>,
}

impl Index {
    fn owner_refs(obj: &Value) -> Vec<OwnerRef> {
        obj.pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|r| {
                        Some(OwnerRef {
                            uid: r.get("uid")?.as_str()?.to_string(),
                            block: r.get("blockOwnerDeletion").and_then(Value::as_bool)
                                == Some(true),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn forget_refs(&mut self, key: &ObjKey) {
        if let Some(old) = self.refs.remove(key) {
            for r in old {
                if let Some(set) = self.dependents.get_mut(&r.uid) {
                    set.remove(key);
                    if set.is_empty() {
                        self.dependents.remove(&r.uid);
                    }
                }
            }
        }
    }

    fn upsert(&mut self, key: &ObjKey, obj: &Value) {
        let uid = meta_str(obj, "uid");
        if !uid.is_empty() {
            self.live.insert(uid.to_string(), key.clone());
        }
        self.forget_refs(key);
        let refs = Self::owner_refs(obj);
        if !refs.is_empty() {
            for r in &refs {
                self.dependents
                    .entry(r.uid.clone())
                    .or_default()
                    .insert(key.clone());
            }
            self.refs.insert(key.clone(), refs);
        }
    }

    fn remove(&mut self, key: &ObjKey, obj: &Value) {
        let uid = meta_str(obj, "uid");
        if self.live.get(uid) == Some(key) {
            self.live.remove(uid);
        }
        self.forget_refs(key);
    }
}

/// Work items.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    /// Check whether a dependent lost its owners.
    Dependent(ObjKey),
    /// Progress an owner that is being deleted with `orphan` or `foregroundDeletion`.
    Owner(ObjKey),
}

fn deleting_with(obj: &Value, finalizer: &str) -> bool {
    obj.pointer("/metadata/deletionTimestamp").is_some()
        && obj
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| f.iter().any(|x| x == finalizer))
}

/// Runs the collector until shutdown.
pub async fn run(api: Arc<Api>, mut shutdown: watch::Receiver<bool>) {
    let mut rx = api.store.subscribe();
    let mut index = Index::default();
    let mut queue = rebuild(&api, &mut index);
    loop {
        while let Some(item) = queue.pop_first() {
            // One odd object must not stop collection for everything else.
            let more = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                process(&api, &index, &item)
            }))
            .unwrap_or_else(|_| {
                tracing::error!(item = ?item, "garbage collector panicked on an item");
                vec![]
            });
            queue.extend(more);
        }
        tokio::select! {
            ev = rx.recv() => {
                let mut ev = ev;
                loop {
                    match ev {
                        Ok(e) => observe(&mut index, &mut queue, &e.key, e.etype, &e.object, e.old.as_deref()),
                        Err(broadcast::error::RecvError::Lagged(_)) => {
                            index = Index::default();
                            queue = rebuild(&api, &mut index);
                        }
                        Err(broadcast::error::RecvError::Closed) => return,
                    }
                    match rx.try_recv() {
                        Ok(e) => ev = Ok(e),
                        Err(broadcast::error::TryRecvError::Lagged(n)) => {
                            ev = Err(broadcast::error::RecvError::Lagged(n))
                        }
                        Err(_) => break,
                    }
                }
            }
            // A periodic pass catches owners whose dependents changed without an event that
            // names the owner (e.g. a dependent's blockOwnerDeletion flipped).
            _ = tokio::time::sleep(Duration::from_secs(5)) => {
                for (uid, key) in &index.live {
                    if index.dependents.contains_key(uid)
                        && api
                            .store
                            .get(key)
                            .is_some_and(|o| o.pointer("/metadata/deletionTimestamp").is_some())
                    {
                        queue.insert(Item::Owner(key.clone()));
                    }
                }
            }
            _ = shutdown.changed() => return,
        }
    }
}

/// Indexes every stored object; returns the work a fresh start has to look at.
fn rebuild(api: &Api, index: &mut Index) -> BTreeSet<Item> {
    let snap = api.registry.snapshot();
    let mut seen = HashSet::new();
    let mut queue = BTreeSet::new();
    for r in snap.preferred() {
        if !seen.insert((r.group.clone(), r.plural.clone())) {
            continue;
        }
        for o in api.store.list(&r.group, &r.plural, None).1 {
            let key = ObjKey::new(
                &r.group,
                &r.plural,
                meta_str(&o, "namespace"),
                meta_str(&o, "name"),
            );
            index.upsert(&key, &o);
            if deleting_with(&o, ORPHAN_FINALIZER) || deleting_with(&o, FOREGROUND_FINALIZER) {
                queue.insert(Item::Owner(key.clone()));
            }
        }
    }
    for key in index.refs.keys() {
        queue.insert(Item::Dependent(key.clone()));
    }
    queue
}

fn observe(
    index: &mut Index,
    queue: &mut BTreeSet<Item>,
    key: &ObjKey,
    etype: EventType,
    obj: &Value,
    old: Option<&Value>,
) {
    if etype == EventType::Deleted {
        let refs = index.refs.get(key).cloned().unwrap_or_default();
        index.remove(key, obj);
        // Dependents of the removed object may now be garbage.
        if let Some(deps) = index.dependents.get(meta_str(obj, "uid")) {
            queue.extend(deps.iter().cloned().map(Item::Dependent));
        }
        // Owners waiting for this dependent may now finish.
        for r in refs {
            if let Some(owner) = index.live.get(&r.uid) {
                queue.insert(Item::Owner(owner.clone()));
            }
        }
        return;
    }
    let old_refs = index.refs.get(key).cloned().unwrap_or_default();
    index.upsert(key, obj);
    if deleting_with(obj, ORPHAN_FINALIZER) || deleting_with(obj, FOREGROUND_FINALIZER) {
        queue.insert(Item::Owner(key.clone()));
    }
    let refs = index.refs.get(key).cloned().unwrap_or_default();
    if !refs.is_empty() {
        queue.insert(Item::Dependent(key.clone()));
    }
    // A dependent that dropped or unblocked an owner reference, or started its own deletion,
    // may let a foreground owner finish.
    let deletion_started = obj.pointer("/metadata/deletionTimestamp").is_some()
        && old.is_some_and(|o| o.pointer("/metadata/deletionTimestamp").is_none());
    if old_refs != refs || deletion_started {
        for r in old_refs.iter().chain(refs.iter()) {
            if let Some(owner) = index.live.get(&r.uid) {
                queue.insert(Item::Owner(owner.clone()));
            }
        }
    }
}

fn resource_info(api: &Api, key: &ObjKey) -> Option<Arc<ResourceInfo>> {
    api.registry
        .snapshot()
        .preferred()
        .find(|r| r.group == key.group && r.plural == key.resource)
        .cloned()
}

fn process(api: &Api, index: &Index, item: &Item) -> Vec<Item> {
    match item {
        Item::Dependent(key) => {
            attempt_to_delete(api, index, key);
            vec![]
        }
        Item::Owner(key) => process_owner(api, index, key),
    }
}

/// A dependent whose owners are all gone (or all waiting for their dependents) is deleted;
/// references to owners that are gone are dropped while another owner remains.
fn attempt_to_delete(api: &Api, index: &Index, key: &ObjKey) {
    let Some(obj) = api.store.get(key) else {
        return;
    };
    let refs = Index::owner_refs(&obj);
    if refs.is_empty() {
        return;
    }
    let mut dangling = Vec::new();
    let mut waiting = Vec::new();
    let mut solid = 0;
    for r in &refs {
        // Owners are resolved in the dependent's namespace (or at cluster scope), as upstream
        // looks them up: a namespaced owner elsewhere counts as absent.
        let owner_key = index
            .live
            .get(&r.uid)
            .filter(|k| k.namespace.is_empty() || k.namespace == key.namespace);
        match owner_key.and_then(|k| api.store.get(k)) {
            Some(owner) if meta_str(&owner, "uid") == r.uid => {
                if deleting_with(&owner, FOREGROUND_FINALIZER) {
                    waiting.push(r.uid.clone());
                } else {
                    solid += 1;
                }
            }
            _ => dangling.push(r.uid.clone()),
        }
    }
    if dangling.is_empty() && waiting.is_empty() {
        return;
    }
    if solid > 0 {
        // Another owner keeps it: drop dangling references, unblock waiting owners.
        let _ = api.store.mutate(key, |cur, _| {
            let Some(cur) = cur else {
                return Ok(Change::Keep);
            };
            let mut o = (**cur).clone();
            if let Some(a) = o
                .pointer_mut("/metadata/ownerReferences")
                .and_then(Value::as_array_mut)
            {
                a.retain(|r| !dangling.iter().any(|d| r["uid"] == json!(d)));
                for r in a.iter_mut() {
                    if waiting.iter().any(|w| r["uid"] == json!(w)) {
                        r["blockOwnerDeletion"] = json!(false);
                    }
                }
            }
            Ok(if o == **cur {
                Change::Keep
            } else {
                Change::Put(o)
            })
        });
        return;
    }
    if obj.pointer("/metadata/deletionTimestamp").is_some() {
        return;
    }
    // Owners deleted in the foreground make their dependents go in the foreground too when
    // those have dependents of their own.
    let has_dependents = index.dependents.contains_key(meta_str(&obj, "uid"));
    let finalizers: Vec<&str> = obj
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let propagation = if finalizers.contains(&ORPHAN_FINALIZER) {
        Propagation::Orphan
    } else if finalizers.contains(&FOREGROUND_FINALIZER) || (!waiting.is_empty() && has_dependents)
    {
        Propagation::Foreground
    } else {
        Propagation::Background
    };
    let Some(ri) = resource_info(api, key) else {
        return;
    };
    let opts = DeleteOpts {
        uid: Some(meta_str(&obj, "uid").to_string()),
        propagation: Some(propagation),
        ..Default::default()
    };
    if let Err(e) = crate::rest::internal_delete_with(api, &ri, &key.namespace, &key.name, &opts)
        && e.code != 404
        && e.code != 409
    {
        tracing::warn!(error = %e, resource = %key.resource, namespace = %key.namespace, name = %key.name, "garbage collector delete failed");
    }
}

/// An owner being deleted with `orphan` (dependents lose their reference to it) or
/// `foregroundDeletion` (dependents are deleted; the owner goes when no blocking one is left).
fn process_owner(api: &Api, index: &Index, key: &ObjKey) -> Vec<Item> {
    let Some(owner) = api.store.get(key) else {
        return vec![];
    };
    let uid = meta_str(&owner, "uid").to_string();
    let deps: Vec<ObjKey> = index
        .dependents
        .get(&uid)
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default();
    if deleting_with(&owner, ORPHAN_FINALIZER) {
        for d in &deps {
            let _ = api.store.mutate(d, |cur, _| {
                let Some(cur) = cur else {
                    return Ok(Change::Keep);
                };
                let mut o = (**cur).clone();
                let m = meta_mut(&mut o);
                if let Some(a) = m.get_mut("ownerReferences").and_then(Value::as_array_mut) {
                    a.retain(|r| r["uid"] != json!(uid));
                    if a.is_empty() {
                        m.remove("ownerReferences");
                    }
                }
                Ok(if o == **cur {
                    Change::Keep
                } else {
                    Change::Put(o)
                })
            });
        }
        remove_finalizer(api, key, &uid, ORPHAN_FINALIZER);
        return vec![];
    }
    if deleting_with(&owner, FOREGROUND_FINALIZER) {
        let mut blocking = 0;
        let mut more = Vec::new();
        for d in &deps {
            let Some(dep) = api.store.get(d) else {
                continue;
            };
            if Index::owner_refs(&dep)
                .iter()
                .any(|r| r.uid == uid && r.block)
            {
                blocking += 1;
            }
            if dep.pointer("/metadata/deletionTimestamp").is_none() {
                more.push(Item::Dependent(d.clone()));
            }
        }
        if blocking == 0 {
            remove_finalizer(api, key, &uid, FOREGROUND_FINALIZER);
        }
        return more;
    }
    vec![]
}

/// Removes a garbage-collector finalizer; the object goes when it was the last one.
fn remove_finalizer(api: &Api, key: &ObjKey, uid: &str, finalizer: &str) {
    let is_ns = key.group.is_empty() && key.resource == "namespaces";
    let _ = api.store.mutate(key, |cur, _| {
        let Some(cur) = cur else {
            return Ok(Change::Keep);
        };
        if meta_str(cur, "uid") != uid {
            return Ok(Change::Keep);
        }
        let mut o = (**cur).clone();
        let m = meta_mut(&mut o);
        let mut empty = true;
        if let Some(a) = m.get_mut("finalizers").and_then(Value::as_array_mut) {
            a.retain(|f| f != finalizer);
            empty = a.is_empty();
            if empty {
                m.remove("finalizers");
            }
        }
        let spec_pending = is_ns
            && o.pointer("/spec/finalizers")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
        Ok(if o == **cur {
            Change::Keep
        } else if empty && !spec_pending && o.pointer("/metadata/deletionTimestamp").is_some() {
            Change::Delete(o)
        } else {
            Change::Put(o)
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_tracks_dependents_by_owner_uid() {
        let mut ix = Index::default();
        let owner = ObjKey::new("apps", "deployments", "ns", "d");
        let dep = ObjKey::new("apps", "replicasets", "ns", "r");
        ix.upsert(&owner, &json!({"metadata": {"uid": "u1"}}));
        ix.upsert(
            &dep,
            &json!({"metadata": {"uid": "u2", "ownerReferences": [{"uid": "u1", "blockOwnerDeletion": true}]}}),
        );
        assert!(ix.dependents["u1"].contains(&dep));
        assert!(ix.refs[&dep][0].block);
        ix.upsert(&dep, &json!({"metadata": {"uid": "u2"}}));
        assert!(!ix.dependents.contains_key("u1"));
        ix.remove(&owner, &json!({"metadata": {"uid": "u1"}}));
        assert!(!ix.live.contains_key("u1"));
    }

    #[test]
    fn deleted_owner_queues_its_dependents() {
        let mut ix = Index::default();
        let mut q = BTreeSet::new();
        let owner = ObjKey::new("", "configmaps", "ns", "o");
        let dep = ObjKey::new("", "secrets", "ns", "s");
        let o = json!({"metadata": {"uid": "u1"}});
        observe(&mut ix, &mut q, &owner, EventType::Added, &o, None);
        observe(
            &mut ix,
            &mut q,
            &dep,
            EventType::Added,
            &json!({"metadata": {"uid": "u2", "ownerReferences": [{"uid": "u1"}]}}),
            None,
        );
        q.clear();
        observe(&mut ix, &mut q, &owner, EventType::Deleted, &o, None);
        assert!(q.contains(&Item::Dependent(dep)));
    }
}
