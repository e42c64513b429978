//! The resource manager: staged server-side apply, dry-run diff, delete and wait.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams,
    PropagationPolicy as KubePropagation,
};
use kube::discovery::Scope;
use serde_json::{Value, json};

use crate::changeset::{Action, ChangeSet, ChangeSetEntry};
use crate::error::SsaError;
use crate::ignore::{self, CompiledRules, IgnoreRule};
use crate::kstatus::{self, Status};
use crate::object::{ObjMetadata, Owner};

/// A managed-fields operation type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ManagedFieldsOperation {
    /// `Apply` (server-side apply).
    Apply,
    /// `Update` (create/update/patch).
    Update,
}

/// A field manager entry to remove from applied objects (Flux's cleanup of kubectl's managers).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct FieldManager {
    /// Manager name, e.g. `kubectl`, `before-first-apply`.
    pub name: String,
    /// Operation type of the entry.
    pub operation: ManagedFieldsOperation,
}

/// What to remove from live objects so the owner's field manager takes over every field.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct ApplyCleanupOptions {
    /// Annotation keys to remove (e.g. `kubectl.kubernetes.io/last-applied-configuration`).
    pub annotations: Vec<String>,
    /// Label keys to remove.
    pub labels: Vec<String>,
    /// Managed-fields entries to drop.
    pub field_managers: Vec<FieldManager>,
    /// Objects with any of these annotations (key = value) are not cleaned up.
    pub exclusions: BTreeMap<String, String>,
}

/// Options of [`ResourceManager::apply_all_staged`] and [`ResourceManager::diff`].
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Recreate objects whose immutable fields changed.
    pub force: bool,
    /// Objects with any of these annotations (key = value) are recreated on immutable changes
    /// even without `force` (Flux: `kustomize.toolkit.fluxcd.io/force: Enabled`).
    pub force_selector: BTreeMap<String, String>,
    /// Objects with any of these annotations are skipped (Flux: `.../ssa: Ignore`, `.../reconcile: disabled`).
    pub exclusion_selector: BTreeMap<String, String>,
    /// Objects with any of these annotations are only created, never updated (`.../ssa: IfNotPresent`).
    pub if_not_present_selector: BTreeMap<String, String>,
    /// Interval of polling CRDs/Namespaces between stages.
    pub wait_interval: Duration,
    /// How long to wait for CRDs to be Established / Namespaces Active between stages.
    pub wait_timeout: Duration,
    /// Field managers/annotations/labels removed from live objects.
    pub cleanup: ApplyCleanupOptions,
    /// `(group, kind)` pairs applied in their own stage after the `*Class` kinds and before
    /// the rest (Flux's `--custom-stage-kinds`), without waiting.
    pub custom_stage_kinds: Vec<(String, String)>,
    /// Fields excluded from drift detection and never reverted (Flux `spec.ignore`).
    pub drift_ignore_rules: Vec<IgnoreRule>,
    /// Rewrite every managedFields entry of an existing object to the applied apiVersion
    /// before applying (Flux's MigrateAPIVersion: after a CRD gains a version with defaulted
    /// fields, entries left at the old version make applies fail).
    pub migrate_api_version: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            force: false,
            force_selector: BTreeMap::new(),
            exclusion_selector: BTreeMap::new(),
            if_not_present_selector: BTreeMap::new(),
            wait_interval: Duration::from_secs(2),
            wait_timeout: Duration::from_secs(60),
            cleanup: ApplyCleanupOptions::default(),
            custom_stage_kinds: Vec::new(),
            drift_ignore_rules: Vec::new(),
            migrate_api_version: false,
        }
    }
}

/// Deletion propagation policy.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum PropagationPolicy {
    /// Dependents deleted in the background (Flux's default for prune).
    #[default]
    Background,
    /// Dependents deleted before the owner.
    Foreground,
    /// Dependents orphaned.
    Orphan,
}

/// Options of [`ResourceManager::delete_all`].
#[derive(Clone, Debug, Default)]
pub struct DeleteOptions {
    /// Propagation policy sent with each delete.
    pub propagation: PropagationPolicy,
    /// Only objects carrying all these labels are deleted (others are Skipped); empty = all.
    pub inclusions: BTreeMap<String, String>,
    /// Objects carrying any of these labels or annotations are Skipped
    /// (Flux: `kustomize.toolkit.fluxcd.io/prune: Disabled`).
    pub exclusions: BTreeMap<String, String>,
}

/// A custom health check (Flux `healthCheckExprs`): CEL expressions over the object.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct HealthCheckExpr {
    /// apiVersion the check applies to.
    pub api_version: String,
    /// kind the check applies to.
    pub kind: String,
    /// Expression true when the object is Current (required).
    pub current: String,
    /// Expression true when the object is InProgress (optional).
    pub in_progress: String,
    /// Expression true when the object has Failed (optional).
    pub failed: String,
}

/// Options of [`ResourceManager::wait_for_set`].
#[derive(Clone, Debug)]
pub struct WaitOptions {
    /// Polling interval.
    pub interval: Duration,
    /// Give up after this long.
    pub timeout: Duration,
    /// Stop at the first Failed object instead of waiting for the timeout.
    pub fail_fast: bool,
    /// Custom health checks by apiVersion/kind (replace kstatus for matching objects).
    pub health_check_exprs: Vec<HealthCheckExpr>,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(2),
            timeout: Duration::from_secs(60),
            fail_fast: false,
            health_check_exprs: Vec::new(),
        }
    }
}

/// One object of a dry-run diff.
#[derive(Clone, Debug)]
pub struct DiffEntry {
    /// The object.
    pub object: ObjMetadata,
    /// Its subject.
    pub subject: String,
    /// What an apply would do.
    pub action: Action,
    /// The live object (None when it does not exist), with metadata noise removed.
    pub live: Option<Value>,
    /// The object as the dry-run apply returned it (None when skipped), with metadata noise removed.
    pub merged: Option<Value>,
}

/// Applies, diffs, deletes and waits for sets of objects on behalf of one owner.
pub struct ResourceManager {
    client: kube::Client,
    owner: Owner,
    concurrency: usize,
    /// (group, version, kind) → resource and scope, filled from discovery on a miss.
    resources: DiscoveryCache,
}

/// The discovery cache of resource managers: group/version/kind → resource name and scope.
/// Cheap to clone; clones share entries, so managers built for other clients of the same
/// cluster (impersonation) can share one with [`ResourceManager::with_discovery_cache`].
#[derive(Clone, Default)]
pub struct DiscoveryCache {
    kinds: Arc<Mutex<KindMap>>,
    /// Held while discovery is read, so concurrent misses of managers sharing the cache
    /// cause one request per group/version instead of one each.
    fetching: Arc<tokio::sync::Mutex<()>>,
}

/// (group, version, kind) → resolution.
type KindMap = HashMap<(String, String, String), Resolved>;

impl DiscoveryCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of cached kinds.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, KindMap> {
        self.kinds.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Clone)]
struct Resolved {
    resource: ApiResource,
    namespaced: bool,
}

/// One object prepared by the dry-run phase of an apply.
struct Planned {
    object: Value,
    meta: ObjMetadata,
    action: Action,
    /// Needs the real apply request.
    apply: bool,
}

impl ResourceManager {
    /// A manager applying as `owner` through `client`.
    pub fn new(client: kube::Client, owner: Owner) -> Self {
        Self {
            client,
            owner,
            concurrency: 4,
            resources: DiscoveryCache::default(),
        }
    }

    /// Sets how many dry-run requests and status polls run at once (default 4, minimum 1).
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// The owner.
    pub fn owner(&self) -> &Owner {
        &self.owner
    }

    /// The client.
    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    /// Resolves a group/version/kind through the discovery cache; a miss re-reads the
    /// group/version from the server so newly established CRDs are found.
    async fn resolve(&self, meta: &ObjMetadata) -> Result<Resolved, SsaError> {
        let key = (meta.group.clone(), meta.version.clone(), meta.kind.clone());
        if let Some(r) = self.cache().get(&key) {
            return Ok(r.clone());
        }
        let fetching = self.resources.fetching.clone();
        let _one_at_a_time = fetching.lock().await;
        if let Some(r) = self.cache().get(&key) {
            return Ok(r.clone());
        }
        let gv = kube::core::GroupVersion {
            group: meta.group.clone(),
            version: meta.version.clone(),
        };
        let unknown = || SsaError::UnknownKind {
            api_version: meta.api_version(),
            kind: meta.kind.clone(),
            subject: meta.subject(),
        };
        let group = match kube::discovery::pinned_group(&self.client, &gv).await {
            Ok(g) => g,
            Err(kube::Error::Api(s)) if s.code == 404 => return Err(unknown()),
            Err(source) => {
                return Err(SsaError::Discovery {
                    api_version: meta.api_version(),
                    source: Box::new(source),
                });
            }
        };
        let mut cache = self.cache();
        for (ar, caps) in group.versioned_resources(&meta.version) {
            let k = (ar.group.clone(), ar.version.clone(), ar.kind.clone());
            cache.insert(
                k,
                Resolved {
                    resource: ar,
                    namespaced: caps.scope == Scope::Namespaced,
                },
            );
        }
        cache.get(&key).cloned().ok_or_else(unknown)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, KindMap> {
        self.resources.lock()
    }

    /// Forgets a kind (its resource answered 404: CRD deleted or changed); the next use
    /// re-reads discovery.
    fn invalidate(&self, meta: &ObjMetadata) {
        self.cache()
            .remove(&(meta.group.clone(), meta.version.clone(), meta.kind.clone()));
    }

    /// Uses `cache` (shared with other managers) instead of this manager's own.
    pub fn with_discovery_cache(mut self, cache: DiscoveryCache) -> Self {
        self.resources = cache;
        self
    }

    /// This manager's discovery cache, to share with managers for other clients.
    pub fn discovery_cache(&self) -> DiscoveryCache {
        self.resources.clone()
    }

    /// The dynamic API of an object and whether its kind is namespaced.
    async fn api(&self, meta: &ObjMetadata) -> Result<(Api<DynamicObject>, bool), SsaError> {
        let r = self.resolve(meta).await?;
        let api = if r.namespaced {
            if meta.namespace.is_empty() {
                // What Flux reports: the request to the cluster-wide path is a NotFound.
                return Err(SsaError::DryRun {
                    subject: meta.subject(),
                    reason: "NamespaceNotSpecified".into(),
                    message: "the server could not find the requested resource".into(),
                    immutable: false,
                });
            }
            Api::namespaced_with(self.client.clone(), &meta.namespace, &r.resource)
        } else {
            Api::all_with(self.client.clone(), &r.resource)
        };
        Ok((api, r.namespaced))
    }

    fn apply_params(&self, dry_run: bool) -> PatchParams {
        PatchParams {
            dry_run,
            force: true,
            field_manager: Some(self.owner.field_manager.clone()),
            field_validation: None,
        }
    }

    /// Applies `objects` in stages: CRDs, Namespaces and ClusterRoles; then `*Class` kinds;
    /// then the rest. After each of the first two stages it waits (`wait_interval`,
    /// `wait_timeout`) for the applied objects to be Current (CRDs Established, ...).
    /// On error the entries of the stages already applied are lost with the error; the
    /// objects of a failing stage are not applied at all (dry-runs run first).
    pub async fn apply_all_staged(
        &self,
        objects: Vec<Value>,
        opts: &ApplyOptions,
    ) -> Result<ChangeSet, SsaError> {
        let mut defs = Vec::new();
        let mut classes = Vec::new();
        let mut custom = Vec::new();
        let mut rest = Vec::new();
        for o in objects {
            let meta = ObjMetadata::from_object(&o)?;
            if is_cluster_definition(&meta) {
                defs.push(o);
            } else if meta.kind.ends_with("Class") {
                classes.push(o);
            } else if opts
                .custom_stage_kinds
                .iter()
                .any(|(g, k)| *g == meta.group && *k == meta.kind)
            {
                custom.push(o);
            } else {
                rest.push(o);
            }
        }
        let mut cs = ChangeSet::default();
        let wait = WaitOptions {
            interval: opts.wait_interval,
            timeout: opts.wait_timeout,
            fail_fast: false,
            health_check_exprs: Vec::new(),
        };
        for stage in [defs, classes] {
            if stage.is_empty() {
                continue;
            }
            let applied = self.apply_all(stage, opts).await?;
            let set: Vec<ObjMetadata> = applied.entries.iter().map(|e| e.object.clone()).collect();
            cs.append(applied);
            self.wait_for_set(&set, &wait).await?;
        }
        if !custom.is_empty() {
            cs.append(self.apply_all(custom, opts).await?);
        }
        if !rest.is_empty() {
            cs.append(self.apply_all(rest, opts).await?);
        }
        Ok(cs)
    }

    /// Applies one object (dry-run, drift check, apply when new or drifted).
    pub async fn apply(
        &self,
        object: Value,
        opts: &ApplyOptions,
    ) -> Result<ChangeSetEntry, SsaError> {
        let meta = ObjMetadata::from_object(&object)?;
        let mut cs = self.apply_all(vec![object], opts).await?;
        cs.entries.pop().ok_or_else(|| SsaError::InvalidObject {
            subject: meta.subject(),
            reason: "nothing applied".into(),
        })
    }

    /// Applies the objects in one go (no staging): dry-run every object, then apply the ones
    /// that are new or drifted. Objects are processed in Flux's kind order.
    pub async fn apply_all(
        &self,
        objects: Vec<Value>,
        opts: &ApplyOptions,
    ) -> Result<ChangeSet, SsaError> {
        let mut objects = objects
            .into_iter()
            .map(|o| ObjMetadata::from_object(&o).map(|m| (m, o)))
            .collect::<Result<Vec<_>, _>>()?;
        objects.sort_by(|a, b| reconcile_order(&a.0, &b.0));
        let rules = ignore::compile(&opts.drift_ignore_rules)?;
        let rules = &rules;
        let plans: Vec<Result<Planned, SsaError>> = futures::stream::iter(objects)
            .map(|(meta, obj)| self.plan(meta, obj, opts, rules))
            .buffered(self.concurrency)
            .collect()
            .await;
        let mut errors = Vec::new();
        let mut planned = Vec::new();
        for p in plans {
            match p {
                Ok(p) => planned.push(p),
                Err(e) => errors.push(e),
            }
        }
        if errors.len() == 1 {
            return Err(errors.remove(0));
        }
        if !errors.is_empty() {
            return Err(SsaError::Multiple(
                errors.iter().map(ToString::to_string).collect(),
            ));
        }
        let mut cs = ChangeSet::default();
        for p in planned {
            if p.apply {
                let (api, _) = self.api(&p.meta).await?;
                api.patch(
                    &p.meta.name,
                    &self.apply_params(false),
                    &Patch::Apply(&p.object),
                )
                .await
                .map_err(|e| request_error("apply", &p.meta, e))?;
                tracing::debug!(object = %p.meta, action = %p.action, "applied");
            }
            cs.add(ChangeSetEntry::new(p.meta, p.action));
        }
        Ok(cs)
    }

    /// The dry-run phase for one object: skip rules, immutable-field recreation, metadata
    /// cleanup and drift detection.
    async fn plan(
        &self,
        mut meta: ObjMetadata,
        mut object: Value,
        opts: &ApplyOptions,
        rules: &CompiledRules,
    ) -> Result<Planned, SsaError> {
        let (api, namespaced) = self.api(&meta).await?;
        if !namespaced && !meta.namespace.is_empty() {
            // The API server drops the namespace of cluster-scoped objects; so do we, so the
            // inventory and change set name the object as it is stored.
            meta.namespace.clear();
            if let Some(m) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                m.remove("namespace");
            }
        }
        remove_invalid_ca_bundle(&mut object);
        // As Flux: a failed GET (e.g. Forbidden under impersonation) is reported through the
        // dry-run's error, which names the object and the reason the same way.
        let (mut existing, get_error) = match get_value(&api, &meta).await {
            Ok(v) => (v, None),
            Err(e) => (None, Some(e)),
        };
        if should_skip(
            &object,
            existing.as_ref(),
            &opts.exclusion_selector,
            &opts.if_not_present_selector,
        ) {
            return Ok(Planned {
                object,
                meta,
                action: Action::Skipped,
                apply: false,
            });
        }
        let mut patched = false;
        if opts.migrate_api_version
            && let Some(live) = existing.as_mut()
        {
            patched = self.migrate_api_version(&api, &meta, live).await?;
        }
        let dry_run = match self.dry_run(&api, &meta, &object).await {
            Ok(v) => v,
            Err(e) => {
                let recreate = existing.is_some()
                    && is_immutable(&e)
                    && (opts.force
                        || any_in_metadata(&object, &opts.force_selector)
                        || existing
                            .as_ref()
                            .is_some_and(|x| any_in_metadata(x, &opts.force_selector)));
                if !recreate {
                    return Err(e);
                }
                tracing::info!(object = %meta, "immutable field changed, recreating");
                self.delete_and_wait(&api, &meta, opts).await?;
                existing = None;
                self.dry_run(&api, &meta, &object).await?
            }
        };
        if let Some(e) = get_error {
            return Err(e);
        }
        if let Some(live) = existing.as_mut() {
            patched |= self
                .cleanup(&api, &meta, &object, live, &opts.cleanup)
                .await?;
        }
        let created = str_at(&dry_run, "/metadata/resourceVersion").is_empty();
        let drifted = match &existing {
            Some(live) => has_drifted_ignoring(live, &dry_run, rules),
            None => true,
        };
        if !created
            && (drifted || patched)
            && let Some(live) = &existing
        {
            // Ignored fields that differ are not reverted: dropped from what we send when
            // another apply manager owns them, otherwise pinned to the in-cluster value.
            for p in rules.paths_for(&dry_run) {
                if live.pointer(&p) == dry_run.pointer(&p) {
                    continue;
                }
                match live.pointer(&p) {
                    Some(v)
                        if !ignore::owned_by_other_apply_manager(
                            live,
                            &p,
                            &self.owner.field_manager,
                        ) =>
                    {
                        let v = v.clone();
                        if !ignore::set_pointer(&mut object, &p, v) {
                            ignore::remove_pointer(&mut object, &p);
                        }
                    }
                    _ => ignore::remove_pointer(&mut object, &p),
                }
            }
        }
        let action = if created {
            Action::Created
        } else if drifted || patched {
            Action::Configured
        } else {
            Action::Unchanged
        };
        Ok(Planned {
            object,
            meta,
            action,
            apply: action != Action::Unchanged,
        })
    }

    async fn dry_run(
        &self,
        api: &Api<DynamicObject>,
        meta: &ObjMetadata,
        object: &Value,
    ) -> Result<Value, SsaError> {
        let out = match api
            .patch(&meta.name, &self.apply_params(true), &Patch::Apply(object))
            .await
        {
            Ok(o) => o,
            Err(e) => {
                if matches!(&e, kube::Error::Api(s) if s.code == 404) {
                    // Maybe the kind went away (CRD deleted): look it up again next time.
                    self.invalidate(meta);
                }
                return Err(dry_run_error(meta, e));
            }
        };
        Ok(serde_json::to_value(out).unwrap_or(Value::Null))
    }

    /// Deletes an object (background propagation) and waits until it is gone.
    async fn delete_and_wait(
        &self,
        api: &Api<DynamicObject>,
        meta: &ObjMetadata,
        opts: &ApplyOptions,
    ) -> Result<(), SsaError> {
        let dp = DeleteParams {
            propagation_policy: Some(KubePropagation::Background),
            ..DeleteParams::default()
        };
        match api.delete(&meta.name, &dp).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => return Err(request_error("delete (immutable field detected)", meta, e)),
        }
        let start = Instant::now();
        loop {
            if get_value(api, meta).await?.is_none() {
                return Ok(());
            }
            if start.elapsed() >= opts.wait_timeout {
                return Err(SsaError::Wait(format!(
                    "{} immutable field detected, timeout waiting for the object to be deleted",
                    meta.subject()
                )));
            }
            tokio::time::sleep(opts.wait_interval.min(Duration::from_millis(500))).await;
        }
    }

    /// Rewrites the apiVersion of every managedFields entry of `live` to the object's; returns
    /// whether a patch was sent (`live` is then the server's answer).
    async fn migrate_api_version(
        &self,
        api: &Api<DynamicObject>,
        meta: &ObjMetadata,
        live: &mut Value,
    ) -> Result<bool, SsaError> {
        let want = meta.api_version();
        let Some(entries) = live
            .pointer("/metadata/managedFields")
            .and_then(Value::as_array)
        else {
            return Ok(false);
        };
        if entries
            .iter()
            .all(|e| e.get("apiVersion").and_then(Value::as_str) == Some(want.as_str()))
        {
            return Ok(false);
        }
        let migrated: Vec<Value> = entries
            .iter()
            .map(|e| {
                let mut e = e.clone();
                e["apiVersion"] = Value::String(want.clone());
                e
            })
            .collect();
        let pp = PatchParams {
            field_manager: Some(self.owner.field_manager.clone()),
            ..PatchParams::default()
        };
        let out = api
            .patch(
                &meta.name,
                &pp,
                &Patch::Merge(json!({"metadata": {"managedFields": migrated}})),
            )
            .await
            .map_err(|e| request_error("managedFields API version migration", meta, e))?;
        *live = serde_json::to_value(out).unwrap_or(Value::Null);
        Ok(true)
    }

    /// Removes the cleanup annotations/labels and hands the listed managers' fields to the
    /// owner's field manager (Flux's takeover of `kubectl` client-side apply). Returns whether
    /// the live object was patched (the caller then applies even without drift).
    async fn cleanup(
        &self,
        api: &Api<DynamicObject>,
        meta: &ObjMetadata,
        desired: &Value,
        live: &mut Value,
        opts: &ApplyCleanupOptions,
    ) -> Result<bool, SsaError> {
        if any_in_metadata(desired, &opts.exclusions) || any_in_metadata(live, &opts.exclusions) {
            return Ok(false);
        }
        let mut patch = serde_json::Map::new();
        let mut remove = |field: &str, keys: &[String]| {
            let present: Vec<&String> = keys
                .iter()
                .filter(|k| {
                    live.pointer(&format!("/metadata/{field}"))
                        .and_then(|m| m.get(k.as_str()))
                        .is_some()
                })
                .collect();
            if !present.is_empty() {
                let m: serde_json::Map<String, Value> = present
                    .into_iter()
                    .map(|k| (k.clone(), Value::Null))
                    .collect();
                patch.insert(field.to_string(), Value::Object(m));
            }
        };
        remove("annotations", &opts.annotations);
        remove("labels", &opts.labels);
        if let Some(entries) =
            replace_field_managers(live, &opts.field_managers, &self.owner.field_manager)
        {
            patch.insert("managedFields".into(), Value::Array(entries));
        }
        if patch.is_empty() {
            return Ok(false);
        }
        let pp = PatchParams {
            field_manager: Some(self.owner.field_manager.clone()),
            ..PatchParams::default()
        };
        let out = api
            .patch(&meta.name, &pp, &Patch::Merge(json!({ "metadata": patch })))
            .await
            .map_err(|e| request_error("metadata.managedFields cleanup", meta, e))?;
        *live = serde_json::to_value(out).unwrap_or(Value::Null);
        Ok(true)
    }

    /// Server-side dry-run: for each object the action an apply would take, plus the live and
    /// merged objects (`managedFields` removed, Secret data masked) for `Configured` objects,
    /// and the merged object alone for `Created` ones.
    pub async fn diff(
        &self,
        objects: Vec<Value>,
        opts: &ApplyOptions,
    ) -> Result<Vec<DiffEntry>, SsaError> {
        let mut objects = objects
            .into_iter()
            .map(|o| ObjMetadata::from_object(&o).map(|m| (m, o)))
            .collect::<Result<Vec<_>, _>>()?;
        objects.sort_by(|a, b| reconcile_order(&a.0, &b.0));
        let rules = ignore::compile(&opts.drift_ignore_rules)?;
        let rules = &rules;
        let results: Vec<Result<DiffEntry, SsaError>> = futures::stream::iter(objects)
            .map(|(meta, obj)| self.diff_one(meta, obj, opts, rules))
            .buffered(self.concurrency)
            .collect()
            .await;
        results.into_iter().collect()
    }

    async fn diff_one(
        &self,
        mut meta: ObjMetadata,
        mut object: Value,
        opts: &ApplyOptions,
        rules: &CompiledRules,
    ) -> Result<DiffEntry, SsaError> {
        let entry = |meta: ObjMetadata, action, live, merged| DiffEntry {
            subject: meta.subject(),
            object: meta,
            action,
            live,
            merged,
        };
        let (api, namespaced) = match self.api(&meta).await {
            Ok(a) => a,
            // A kind not served yet (its CRD is part of the same set) would be created.
            Err(SsaError::UnknownKind { .. }) => {
                return Ok(entry(meta, Action::Created, None, Some(object)));
            }
            Err(e) => return Err(e),
        };
        if !namespaced && !meta.namespace.is_empty() {
            meta.namespace.clear();
            if let Some(m) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                m.remove("namespace");
            }
        }
        remove_invalid_ca_bundle(&mut object);
        let (existing, get_error) = match get_value(&api, &meta).await {
            Ok(v) => (v, None),
            Err(e) => (None, Some(e)),
        };
        if should_skip(
            &object,
            existing.as_ref(),
            &opts.exclusion_selector,
            &opts.if_not_present_selector,
        ) {
            return Ok(entry(meta, Action::Skipped, None, None));
        }
        let dry_run = match self.dry_run(&api, &meta, &object).await {
            Ok(v) => v,
            Err(e) => {
                let force = opts.force
                    || any_in_metadata(&object, &opts.force_selector)
                    || existing
                        .as_ref()
                        .is_some_and(|x| any_in_metadata(x, &opts.force_selector));
                if existing.is_some() && is_immutable(&e) && force {
                    return Ok(entry(meta, Action::Created, existing, Some(object)));
                }
                return Err(e);
            }
        };
        if let Some(e) = get_error {
            return Err(e);
        }
        let Some(mut live) = existing else {
            let mut merged = dry_run;
            strip_managed_fields(&mut merged);
            return Ok(entry(meta, Action::Created, None, Some(merged)));
        };
        if !has_drifted_ignoring(&live, &dry_run, rules) {
            return Ok(entry(meta, Action::Unchanged, None, None));
        }
        let mut merged = dry_run;
        for p in rules.paths_for(&merged) {
            ignore::remove_pointer(&mut live, &p);
            ignore::remove_pointer(&mut merged, &p);
        }
        strip_managed_fields(&mut merged);
        strip_managed_fields(&mut live);
        if meta.group.is_empty() && meta.kind == "Secret" {
            sanitize_secret_data(&mut live, &mut merged);
        }
        Ok(entry(meta, Action::Configured, Some(live), Some(merged)))
    }

    /// Deletes the objects in reverse kind order (NotFound counts as deleted), skipping those
    /// excluded by the options. Every failure is collected; the change set lists what was done.
    pub async fn delete_all(
        &self,
        objects: &[ObjMetadata],
        opts: &DeleteOptions,
    ) -> Result<ChangeSet, SsaError> {
        let mut objects = objects.to_vec();
        objects.sort_by(|a, b| reconcile_order(b, a));
        let mut cs = ChangeSet::default();
        let mut errors = Vec::new();
        for meta in objects {
            match self.delete_one(&meta, opts).await {
                Ok(action) => cs.add(ChangeSetEntry::new(meta, action)),
                Err(e) => errors.push(e.to_string()),
            }
        }
        if !errors.is_empty() {
            return Err(SsaError::Delete {
                errors,
                changes: cs,
            });
        }
        Ok(cs)
    }

    async fn delete_one(
        &self,
        meta: &ObjMetadata,
        opts: &DeleteOptions,
    ) -> Result<Action, SsaError> {
        let (api, _) = match self.api(meta).await {
            Ok(a) => a,
            // The kind is gone (CRD deleted): so are its objects.
            Err(SsaError::UnknownKind { .. }) => return Ok(Action::Deleted),
            Err(e) => return Err(e),
        };
        let Some(live) = get_value(&api, meta).await? else {
            return Ok(Action::Deleted);
        };
        let labels = live.pointer("/metadata/labels");
        let included = opts.inclusions.iter().all(|(k, v)| {
            labels.and_then(|l| l.get(k)).and_then(Value::as_str) == Some(v.as_str())
        });
        if !included || any_in_metadata(&live, &opts.exclusions) {
            return Ok(Action::Skipped);
        }
        let dp = DeleteParams {
            propagation_policy: Some(match opts.propagation {
                PropagationPolicy::Background => KubePropagation::Background,
                PropagationPolicy::Foreground => KubePropagation::Foreground,
                PropagationPolicy::Orphan => KubePropagation::Orphan,
            }),
            ..DeleteParams::default()
        };
        match api.delete(&meta.name, &dp).await {
            Ok(_) => Ok(Action::Deleted),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(Action::Deleted),
            Err(e) => Err(request_error("delete", meta, e)),
        }
    }

    /// Waits until every object in the change set's `deleted` entries is gone.
    pub async fn wait_for_termination(
        &self,
        objects: &[ObjMetadata],
        opts: &WaitOptions,
    ) -> Result<(), SsaError> {
        let start = Instant::now();
        for meta in objects {
            let (api, _) = match self.api(meta).await {
                Ok(a) => a,
                Err(SsaError::UnknownKind { .. }) => continue,
                Err(e) => return Err(e),
            };
            loop {
                if get_value(&api, meta).await?.is_none() {
                    break;
                }
                if start.elapsed() >= opts.timeout {
                    return Err(SsaError::Wait(format!(
                        "{} termination timeout",
                        meta.subject()
                    )));
                }
                tokio::time::sleep(opts.interval).await;
            }
        }
        Ok(())
    }

    /// The status of one object: kstatus, or the matching custom health check.
    pub async fn status_of(
        &self,
        meta: &ObjMetadata,
        checks: &[crate::health::CompiledCheck],
    ) -> kstatus::Result {
        let live = match self.api(meta).await {
            Ok((api, _)) => get_value(&api, meta).await,
            Err(e) => Err(e),
        };
        match live {
            Ok(None) => kstatus::Result {
                status: Status::NotFound,
                message: "Resource not found".into(),
            },
            Ok(Some(obj)) => {
                let api_version = meta.api_version();
                match checks.iter().find(|c| c.matches(&api_version, &meta.kind)) {
                    Some(c) => c.evaluate(&obj),
                    None => kstatus::compute(&obj),
                }
            }
            Err(e) => kstatus::Result {
                status: Status::Unknown,
                message: e.to_string(),
            },
        }
    }

    /// Polls every object (GET) until all are Current. Stops early when every object is
    /// Current or Failed, or at the first Failed one with `fail_fast`. The error lists each
    /// object that is not Current like Flux: `timeout waiting for: [Deployment/ns/name
    /// status: 'InProgress']` or `failed early due to stalled resources: [...]`.
    pub async fn wait_for_set(
        &self,
        set: &[ObjMetadata],
        opts: &WaitOptions,
    ) -> Result<(), SsaError> {
        self.wait_for_set_with_ttl_jobs(set, opts, &[]).await
    }

    /// [`ResourceManager::wait_for_set`] where the listed Jobs (with `ttlSecondsAfterFinished`,
    /// see [`WaitOptions::jobs_with_ttl_from`]) count as Current when NotFound: the TTL
    /// controller may have deleted them once finished, as Flux allows.
    pub async fn wait_for_set_with_ttl_jobs(
        &self,
        set: &[ObjMetadata],
        opts: &WaitOptions,
        jobs_with_ttl: &[ObjMetadata],
    ) -> Result<(), SsaError> {
        if set.is_empty() {
            return Ok(());
        }
        let checks = crate::health::compile(&opts.health_check_exprs)?;
        let start = Instant::now();
        loop {
            // Owned items: a closure over `&ObjMetadata` makes the future not provably Send
            // (rustc's higher-ranked lifetime limitation) for callers inside kube-runtime.
            let checks = &checks;
            let statuses: Vec<kstatus::Result> = futures::stream::iter(set.iter().cloned())
                .map(|m| async move { self.status_of(&m, checks).await })
                .buffered(self.concurrency)
                .collect()
                .await;
            let statuses: Vec<kstatus::Result> = set
                .iter()
                .zip(statuses)
                .map(|(m, s)| {
                    if s.status == Status::NotFound
                        && jobs_with_ttl.iter().any(|j| j.same_object(m))
                    {
                        kstatus::Result {
                            status: Status::Current,
                            message: "Job with TTL not found (finished and deleted)".into(),
                        }
                    } else {
                        s
                    }
                })
                .collect();
            let all_current = statuses.iter().all(|s| s.status == Status::Current);
            if all_current {
                return Ok(());
            }
            let any_failed = statuses.iter().any(|s| s.status == Status::Failed);
            let terminal = statuses
                .iter()
                .all(|s| matches!(s.status, Status::Current | Status::Failed));
            let timed_out = start.elapsed() >= opts.timeout;
            if terminal || (opts.fail_fast && any_failed) || timed_out {
                let errs: Vec<String> = set
                    .iter()
                    .zip(&statuses)
                    .filter(|(_, s)| {
                        s.status == Status::Failed || (timed_out && s.status != Status::Current)
                    })
                    .map(|(m, s)| {
                        let mut line = format!("{} status: '{}'", m.subject(), s.status);
                        if matches!(s.status, Status::Failed | Status::Unknown)
                            && !s.message.is_empty()
                        {
                            line.push_str(": ");
                            line.push_str(&s.message);
                        }
                        line
                    })
                    .collect();
                let prefix = if timed_out && !terminal && !(opts.fail_fast && any_failed) {
                    "timeout waiting for"
                } else {
                    "failed early due to stalled resources"
                };
                return Err(SsaError::Wait(format!("{prefix}: [{}]", errs.join(", "))));
            }
            let left = opts.timeout.saturating_sub(start.elapsed());
            tokio::time::sleep(opts.interval.min(left)).await;
        }
    }
}

/// Flux's stage-one kinds: CRDs, Namespaces and ClusterRoles.
fn is_cluster_definition(m: &ObjMetadata) -> bool {
    (m.kind == "CustomResourceDefinition" && m.group == "apiextensions.k8s.io")
        || (m.kind == "Namespace" && m.group.is_empty())
        || (m.kind == "ClusterRole" && m.group == "rbac.authorization.k8s.io")
}

/// Flux's reconcile order: listed kinds first (in this order), webhooks last, the rest between
/// sorted by group and kind; then namespace and name.
const FIRST_KINDS: &[&str] = &[
    "CustomResourceDefinition",
    "Namespace",
    "ClusterRole",
    "ClusterClass",
    "RuntimeClass",
    "PriorityClass",
    "StorageClass",
    "VolumeSnapshotClass",
    "IngressClass",
    "GatewayClass",
    "ClusterRoleBinding",
    "ResourceQuota",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ConfigMap",
    "Secret",
    "Service",
    "LimitRange",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];
const LAST_KINDS: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

fn kind_index(kind: &str) -> i64 {
    if let Some(i) = FIRST_KINDS.iter().position(|k| *k == kind) {
        return i as i64 - FIRST_KINDS.len() as i64;
    }
    if let Some(i) = LAST_KINDS.iter().position(|k| *k == kind) {
        return i as i64 + 1;
    }
    0
}

/// The order in which Flux applies (and, reversed, deletes) objects.
pub(crate) fn reconcile_order(a: &ObjMetadata, b: &ObjMetadata) -> std::cmp::Ordering {
    let same_gk = a.group == b.group && a.kind == b.kind;
    if !same_gk {
        return kind_index(&a.kind)
            .cmp(&kind_index(&b.kind))
            .then_with(|| a.group.cmp(&b.group))
            .then_with(|| a.kind.cmp(&b.kind));
    }
    a.namespace
        .cmp(&b.namespace)
        .then_with(|| a.name.cmp(&b.name))
}

async fn get_value(
    api: &Api<DynamicObject>,
    meta: &ObjMetadata,
) -> Result<Option<Value>, SsaError> {
    match api.get_opt(&meta.name).await {
        Ok(Some(o)) => Ok(Some(serde_json::to_value(o).unwrap_or(Value::Null))),
        Ok(None) => Ok(None),
        Err(e) => Err(request_error("get", meta, e)),
    }
}

fn api_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if !s.message.is_empty() => s.message.clone(),
        other => other.to_string(),
    }
}

fn request_error(operation: &'static str, meta: &ObjMetadata, source: kube::Error) -> SsaError {
    SsaError::Request {
        operation,
        subject: meta.subject(),
        message: api_message(&source),
        source: Box::new(source),
    }
}

/// Flux counts Conflict and Invalid answers, and any message saying a field is immutable, as
/// immutable-field errors (recreated under force).
fn dry_run_error(meta: &ObjMetadata, e: kube::Error) -> SsaError {
    let message = api_message(&e);
    let (reason, immutable) = match &e {
        kube::Error::Api(s) => {
            let by_status = s.code == 409 || s.reason == "Conflict" || s.reason == "Invalid";
            let reason = if s.code == 404 {
                "NotFound".to_string()
            } else {
                s.reason.clone()
            };
            (reason, by_status)
        }
        _ => (String::new(), false),
    };
    let immutable =
        immutable || message.contains("is immutable") || message.contains("immutable field");
    SsaError::DryRun {
        subject: meta.subject(),
        reason,
        message,
        immutable,
    }
}

fn is_immutable(e: &SsaError) -> bool {
    matches!(
        e,
        SsaError::DryRun {
            immutable: true,
            ..
        }
    )
}

fn str_at<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

/// True when any key=value pair of `selector` is among the labels or annotations
/// (values compared case-insensitively, empty values never match), as Flux's AnyInMetadata.
pub(crate) fn any_in_metadata(obj: &Value, selector: &BTreeMap<String, String>) -> bool {
    let get = |field: &str, k: &str| -> Option<String> {
        obj.pointer(&format!("/metadata/{field}"))
            .and_then(|m| m.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    selector.iter().any(|(k, v)| {
        ["labels", "annotations"]
            .iter()
            .any(|f| get(f, k).is_some_and(|x| !x.is_empty() && x.eq_ignore_ascii_case(v)))
    })
}

fn should_skip(
    desired: &Value,
    existing: Option<&Value>,
    exclusions: &BTreeMap<String, String>,
    if_not_present: &BTreeMap<String, String>,
) -> bool {
    if any_in_metadata(desired, exclusions)
        || existing.is_some_and(|e| any_in_metadata(e, exclusions))
    {
        return true;
    }
    existing.is_some() && any_in_metadata(desired, if_not_present)
}

/// Labels, annotations and the object without metadata and status compared; missing and
/// empty maps are equal.
fn has_drifted(live: &Value, dry_run: &Value) -> bool {
    if str_at(dry_run, "/metadata/resourceVersion").is_empty() {
        return true;
    }
    if !str_at(dry_run, "/metadata/deletionTimestamp").is_empty() {
        return true;
    }
    let map = |v: &Value, f: &str| -> serde_json::Map<String, Value> {
        v.pointer(&format!("/metadata/{f}"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    if map(live, "labels") != map(dry_run, "labels")
        || map(live, "annotations") != map(dry_run, "annotations")
    {
        return true;
    }
    let body = |v: &Value| -> Value {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            o.remove("metadata");
            o.remove("status");
        }
        v
    };
    !json_eq(&body(live), &body(dry_run))
}

/// Drops a CRD's conversion webhook `caBundle` that is not base64 of PEM certificates (e.g. a
/// placeholder awaiting injection), as Flux does, so the apply does not fail on it.
fn remove_invalid_ca_bundle(obj: &mut Value) {
    use base64::Engine;
    let is_crd = obj.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition")
        && obj
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|a| a.starts_with("apiextensions.k8s.io/"));
    if !is_crd {
        return;
    }
    let Some(cc) = obj
        .pointer_mut("/spec/conversion/webhook/clientConfig")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let valid = match cc.get("caBundle").and_then(Value::as_str) {
        None | Some("") => true,
        Some(b) => base64::engine::general_purpose::STANDARD
            .decode(b)
            .is_ok_and(|pem| {
                pem.is_empty()
                    || String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----")
            }),
    };
    if !valid {
        cc.remove("caBundle");
    }
}

/// [`has_drifted`] with the ignored paths (selected by the dry-run object) removed from both.
fn has_drifted_ignoring(live: &Value, dry_run: &Value, rules: &CompiledRules) -> bool {
    if rules.is_empty() {
        return has_drifted(live, dry_run);
    }
    let (mut l, mut d) = (live.clone(), dry_run.clone());
    for p in rules.paths_for(dry_run) {
        ignore::remove_pointer(&mut l, &p);
        ignore::remove_pointer(&mut d, &p);
    }
    has_drifted(&l, &d)
}

/// Structural equality where object key order is irrelevant (serde_json preserves order here).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| json_eq(v, w))
        }
        (Value::Number(x), Value::Number(y)) => {
            x == y || (x.as_f64().is_some() && x.as_f64() == y.as_f64())
        }
        _ => a == b,
    }
}

fn strip_managed_fields(v: &mut Value) {
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
}

/// Masks Secret data like Flux: changed keys `*** (before)` / `*** (after)`, others `***`.
fn sanitize_secret_data(old: &mut Value, new: &mut Value) {
    let old_data = old.get("data").and_then(Value::as_object).cloned();
    let new_data = new.get("data").and_then(Value::as_object).cloned();
    let mask = |s: &str| Value::String(s.to_string());
    if let Some(od) = &old_data {
        let mut o2 = serde_json::Map::new();
        for (k, v) in od {
            let changed = new_data
                .as_ref()
                .and_then(|n| n.get(k))
                .is_some_and(|nv| nv != v);
            o2.insert(
                k.clone(),
                mask(if changed { "*** (before)" } else { "***" }),
            );
        }
        old["data"] = Value::Object(o2);
    }
    if let Some(nd) = &new_data {
        let mut n2 = serde_json::Map::new();
        for (k, v) in nd {
            let changed = old_data
                .as_ref()
                .and_then(|o| o.get(k))
                .is_some_and(|ov| ov != v);
            n2.insert(k.clone(), mask(if changed { "*** (after)" } else { "***" }));
        }
        new["data"] = Value::Object(n2);
    }
}

/// Flux's PatchReplaceFieldsManagers: entries of the listed managers (prefix match, same
/// operation, no subresource) are merged into the owner's Apply entry. None when nothing matched.
fn replace_field_managers(
    live: &Value,
    managers: &[FieldManager],
    owner: &str,
) -> Option<Vec<Value>> {
    if managers.is_empty() {
        return None;
    }
    let entries = live.pointer("/metadata/managedFields")?.as_array()?;
    let s = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let matches = |e: &Value| {
        if !s(e, "subresource").is_empty() {
            return false;
        }
        managers.iter().any(|m| {
            let op = match m.operation {
                ManagedFieldsOperation::Apply => "Apply",
                ManagedFieldsOperation::Update => "Update",
            };
            s(e, "operation") == op && s(e, "manager").starts_with(&m.name)
        })
    };
    let prev_idx = entries.iter().rposition(|e| {
        s(e, "manager") == owner && s(e, "operation") == "Apply" && s(e, "subresource").is_empty()
    });
    let mut owner_entry: Option<Value> = prev_idx.map(|i| entries[i].clone());
    let mut kept = Vec::new();
    let mut edited = false;
    for (i, e) in entries.iter().enumerate() {
        if Some(i) == prev_idx {
            continue;
        }
        if matches(e) {
            edited = true;
            match owner_entry.as_mut() {
                None => {
                    let mut e = e.clone();
                    e["manager"] = Value::String(owner.to_string());
                    e["operation"] = Value::String("Apply".into());
                    owner_entry = Some(e);
                }
                Some(o) => {
                    let mut merged = o.get("fieldsV1").cloned().unwrap_or_else(|| json!({}));
                    merge_fields(&mut merged, e.get("fieldsV1").unwrap_or(&Value::Null));
                    o["fieldsV1"] = merged;
                }
            }
            continue;
        }
        kept.push(e.clone());
    }
    if !edited {
        return None;
    }
    kept.extend(owner_entry);
    Some(kept)
}

/// Union of two `fieldsV1` trees.
fn merge_fields(into: &mut Value, from: &Value) {
    let (Some(a), Some(b)) = (into.as_object_mut(), from.as_object()) else {
        return;
    };
    for (k, v) in b {
        match a.get_mut(k) {
            Some(existing) => merge_fields(existing, v),
            None => {
                a.insert(k.clone(), v.clone());
            }
        }
    }
}

impl ApplyOptions {
    /// The options the Flux kustomize controller uses for owner group `group` (e.g.
    /// `kustomize.toolkit.fluxcd.io`) and field manager `manager`: `<group>/ssa: Ignore` and
    /// `<group>/reconcile: disabled` skip, `<group>/ssa: IfNotPresent` creates only,
    /// `<group>/force: Enabled` recreates on immutable changes, kubectl's client-side-apply
    /// managers and last-applied annotation are taken over unless `<group>/ssa: Merge`.
    pub fn flux_defaults(group: &str, manager: &str, force: bool) -> Self {
        let sel = |k: &str, v: &str| BTreeMap::from([(format!("{group}/{k}"), v.to_string())]);
        let fm = |name: &str, operation| FieldManager {
            name: name.to_string(),
            operation,
        };
        let mut exclusion = sel("reconcile", "disabled");
        exclusion.insert(format!("{group}/ssa"), "Ignore".into());
        Self {
            force,
            force_selector: sel("force", "Enabled"),
            exclusion_selector: exclusion,
            if_not_present_selector: sel("ssa", "IfNotPresent"),
            cleanup: ApplyCleanupOptions {
                annotations: vec![
                    "kubectl.kubernetes.io/last-applied-configuration".into(),
                    // deprecated Flux v1 / early v2 markers
                    "kustomize.toolkit.fluxcd.io/checksum".into(),
                    "fluxcd.io/sync-checksum".into(),
                ],
                labels: vec!["fluxcd.io/sync-gc-mark".into()],
                field_managers: vec![
                    fm("kubectl", ManagedFieldsOperation::Apply),
                    fm("kubectl", ManagedFieldsOperation::Update),
                    fm("before-first-apply", ManagedFieldsOperation::Update),
                    fm(manager, ManagedFieldsOperation::Update),
                ],
                exclusions: sel("ssa", "Merge"),
            },
            ..Self::default()
        }
    }
}

impl WaitOptions {
    /// The Jobs among `objects` (as built, e.g. `kustomize::build` output) that set
    /// `spec.ttlSecondsAfterFinished`, for [`ResourceManager::wait_for_set_with_ttl_jobs`].
    pub fn jobs_with_ttl_from(objects: &[Value]) -> Vec<ObjMetadata> {
        objects
            .iter()
            .filter(|o| {
                o.get("kind").and_then(Value::as_str) == Some("Job")
                    && o.get("apiVersion")
                        .and_then(Value::as_str)
                        .is_some_and(|a| a.starts_with("batch/"))
                    && o.pointer("/spec/ttlSecondsAfterFinished").is_some()
            })
            .filter_map(|o| ObjMetadata::from_object(o).ok())
            .collect()
    }
}

impl DeleteOptions {
    /// Flux's prune options for owner group `group`: objects annotated or labelled
    /// `<group>/prune: Disabled` are skipped; only objects carrying the owner labels
    /// `<group>/name: name` and `<group>/namespace: namespace` are deleted.
    pub fn flux_prune(
        group: &str,
        name: &str,
        namespace: &str,
        propagation: PropagationPolicy,
    ) -> Self {
        Self {
            propagation,
            inclusions: BTreeMap::from([
                (format!("{group}/name"), name.to_string()),
                (format!("{group}/namespace"), namespace.to_string()),
            ]),
            exclusions: BTreeMap::from([(format!("{group}/prune"), "Disabled".to_string())]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The manager's futures must be spawnable from tasks owning their inputs (controllers
    /// run them in spawned reconcile tasks); this only has to compile.
    #[allow(dead_code)]
    fn futures_are_send(rm: ResourceManager, objs: Vec<Value>, set: Vec<ObjMetadata>) {
        tokio::spawn(async move {
            let (a, d, w) = (
                ApplyOptions::default(),
                DeleteOptions::default(),
                WaitOptions::default(),
            );
            let _ = rm.apply_all_staged(objs.clone(), &a).await;
            let _ = rm.diff(objs, &a).await;
            let _ = rm.delete_all(&set, &d).await;
            let _ = rm.wait_for_set(&set, &w).await;
            let _ = rm.wait_for_set_with_ttl_jobs(&set, &w, &set).await;
            let _ = rm.wait_for_termination(&set, &w).await;
        });
    }

    fn m(group: &str, kind: &str, ns: &str, name: &str) -> ObjMetadata {
        ObjMetadata {
            group: group.into(),
            version: "v1".into(),
            kind: kind.into(),
            namespace: ns.into(),
            name: name.into(),
        }
    }

    #[test]
    fn reconcile_order_like_flux() {
        let mut v = [
            m(
                "admissionregistration.k8s.io",
                "ValidatingWebhookConfiguration",
                "",
                "w",
            ),
            m("apps", "Deployment", "a", "d"),
            m("example.com", "Widget", "a", "x"),
            m("", "ConfigMap", "b", "c"),
            m("", "ConfigMap", "a", "c"),
            m("", "Namespace", "", "a"),
            m(
                "apiextensions.k8s.io",
                "CustomResourceDefinition",
                "",
                "widgets.example.com",
            ),
            m("", "ServiceAccount", "a", "sa"),
        ];
        v.sort_by(reconcile_order);
        let kinds: Vec<String> = v
            .iter()
            .map(|o| format!("{}:{}", o.kind, o.namespace))
            .collect();
        assert_eq!(
            kinds,
            [
                "CustomResourceDefinition:",
                "Namespace:",
                "ServiceAccount:a",
                "ConfigMap:a",
                "ConfigMap:b",
                "Deployment:a",
                "Widget:a",
                "ValidatingWebhookConfiguration:"
            ]
        );
    }

    #[test]
    fn drift_ignores_metadata_noise_and_status() {
        let live = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "resourceVersion": "5", "managedFields": [{"manager": "x"}], "labels": {}},
            "data": {"k": "v"}, "status": {"x": 1}});
        let same = json!({"kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"name": "a", "resourceVersion": "5", "generation": 3},
            "data": {"k": "v"}});
        assert!(!has_drifted(&live, &same));
        let mut changed = same.clone();
        changed["data"]["k"] = json!("w");
        assert!(has_drifted(&live, &changed));
        let mut labelled = same.clone();
        labelled["metadata"]["labels"] = json!({"a": "b"});
        assert!(has_drifted(&live, &labelled));
        let mut new = same.clone();
        new["metadata"]["resourceVersion"] = json!("");
        assert!(has_drifted(&live, &new));
    }

    #[test]
    fn selectors_match_labels_or_annotations_case_insensitively() {
        let o = json!({"metadata": {"labels": {"a/prune": "disabled"}, "annotations": {"a/ssa": "Ignore", "e": ""}}});
        let sel = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
        assert!(any_in_metadata(&o, &sel("a/prune", "Disabled")));
        assert!(any_in_metadata(&o, &sel("a/ssa", "ignore")));
        assert!(!any_in_metadata(&o, &sel("a/ssa", "Merge")));
        assert!(!any_in_metadata(&o, &sel("e", "")));
        assert!(!any_in_metadata(&o, &BTreeMap::new()));
    }

    #[test]
    fn field_managers_taken_over() {
        let live = json!({"metadata": {"managedFields": [
            {"manager": "kubectl-client-side-apply", "operation": "Update", "fieldsV1": {"f:data": {"f:a": {}}}},
            {"manager": "flux", "operation": "Apply", "fieldsV1": {"f:data": {"f:b": {}}}},
            {"manager": "kubectl", "operation": "Update", "subresource": "status", "fieldsV1": {}},
            {"manager": "other", "operation": "Update", "fieldsV1": {"f:data": {"f:c": {}}}}
        ]}});
        let managers = [FieldManager {
            name: "kubectl".into(),
            operation: ManagedFieldsOperation::Update,
        }];
        let out = replace_field_managers(&live, &managers, "flux").unwrap();
        assert_eq!(out.len(), 3);
        assert_eq!(out[0]["subresource"], "status");
        assert_eq!(out[1]["manager"], "other");
        assert_eq!(out[2]["manager"], "flux");
        assert_eq!(
            out[2]["fieldsV1"],
            json!({"f:data": {"f:b": {}, "f:a": {}}})
        );
        // Nothing to take over.
        let none =
            json!({"metadata": {"managedFields": [{"manager": "flux", "operation": "Apply"}]}});
        assert!(replace_field_managers(&none, &managers, "flux").is_none());
        // No owner entry yet: the matching entry becomes it.
        let first = json!({"metadata": {"managedFields": [
            {"manager": "kubectl", "operation": "Update", "fieldsV1": {"f:data": {}}}]}});
        let out = replace_field_managers(&first, &managers, "flux").unwrap();
        assert_eq!(
            out,
            vec![json!({"manager": "flux", "operation": "Apply", "fieldsV1": {"f:data": {}}})]
        );
    }

    #[test]
    fn invalid_ca_bundles_dropped() {
        let crd = |bundle: &str| {
            json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "spec": {"conversion": {"webhook": {"clientConfig": {"caBundle": bundle, "url": "https://x"}}}}})
        };
        let pem =
            "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=";
        for (bundle, kept) in [
            ("Cg==", false),
            ("not base64!", false),
            (pem, true),
            ("", true),
        ] {
            let mut o = crd(bundle);
            remove_invalid_ca_bundle(&mut o);
            let cc = &o["spec"]["conversion"]["webhook"]["clientConfig"];
            assert_eq!(cc.get("caBundle").is_some(), kept, "{bundle}");
            assert_eq!(cc["url"], "https://x");
        }
        let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "spec": {"conversion": {"webhook": {"clientConfig": {"caBundle": "Cg=="}}}}});
        let before = cm.clone();
        remove_invalid_ca_bundle(&mut cm);
        assert_eq!(cm, before);
    }

    #[test]
    fn secret_data_masked() {
        let mut old = json!({"data": {"a": "MQ==", "b": "Mg==", "gone": "Mw=="}});
        let mut new = json!({"data": {"a": "MQ==", "b": "NA==", "added": "NQ=="}});
        sanitize_secret_data(&mut old, &mut new);
        assert_eq!(
            old["data"],
            json!({"a": "***", "b": "*** (before)", "gone": "***"})
        );
        assert_eq!(
            new["data"],
            json!({"a": "***", "b": "*** (after)", "added": "***"})
        );
    }
}
