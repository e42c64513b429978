//! The resource manager: staged server-side apply, dry-run diff, delete and wait.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::changeset::{Action, ChangeSet};
use crate::error::SsaError;
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
}

impl ResourceManager {
    /// A manager applying as `owner` through `client`.
    pub fn new(client: kube::Client, owner: Owner) -> Self {
        Self { client, owner }
    }

    /// The owner.
    pub fn owner(&self) -> &Owner {
        &self.owner
    }

    /// The client.
    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    /// Applies `objects` in stages: CRDs, Namespaces and other cluster-wide definitions; then
    /// `*Class` kinds; then the rest, waiting for CRDs Established / Namespaces Active between stages.
    pub async fn apply_all_staged(
        &self,
        objects: Vec<Value>,
        opts: &ApplyOptions,
    ) -> Result<ChangeSet, SsaError> {
        let _ = (objects, opts);
        Err(SsaError::NotImplemented("apply_all_staged"))
    }

    /// Server-side dry-run: for each object the action an apply would take, plus the live and
    /// merged objects (for `flux diff`).
    pub async fn diff(
        &self,
        objects: Vec<Value>,
        opts: &ApplyOptions,
    ) -> Result<Vec<DiffEntry>, SsaError> {
        let _ = (objects, opts);
        Err(SsaError::NotImplemented("diff"))
    }

    /// Deletes the objects (NotFound ignored), skipping those excluded by the options.
    pub async fn delete_all(
        &self,
        objects: &[ObjMetadata],
        opts: &DeleteOptions,
    ) -> Result<ChangeSet, SsaError> {
        let _ = (objects, opts);
        Err(SsaError::NotImplemented("delete_all"))
    }

    /// Polls every object until all are Current; Err lists the not-ready objects with their status.
    pub async fn wait_for_set(
        &self,
        set: &[ObjMetadata],
        opts: &WaitOptions,
    ) -> Result<(), SsaError> {
        let _ = (set, opts);
        Err(SsaError::NotImplemented("wait_for_set"))
    }
}
