//! The Kustomization reconciler, step for step as Flux's kustomize-controller: finalizer,
//! suspend, source lookup (cross-namespace refs blockable), `dependsOn`, artifact download with
//! digest check, kustomization generation and build, post-build substitution, staged
//! server-side apply through `ssa`, inventory and prune, health assessment, and a status with
//! Flux's conditions, reasons and messages; Events and logs carry the change set.
//!
//! Status is patched at each stage (`Fetching`, `Building`, `Detecting drift`, `Running health
//! checks`) so that a long health check shows progress, and once more at the end.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use api::kustomize::{Kustomization, KustomizationStatus, Snapshot};
use api::meta::duration::format as go_duration;
use api::meta::{
    Artifact, FINALIZER, RECONCILE_REQUEST_ANNOTATION, ResourceInventory, ResourceRef,
    condition_type as ct, reason,
};
use api::source::{Bucket, ExternalArtifact, GitRepository, OCIRepository};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, ServiceAccount};
use kube::runtime::WatchStreamExt;
use kube::runtime::controller::{Action, Config as ControllerConfig, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, Client, Resource, ResourceExt};
use serde_json::Value;
use sha2::{Digest, Sha256};
use ssa::{
    ApplyCleanupOptions, ApplyOptions, ChangeSet, DeleteOptions, FieldManager,
    ManagedFieldsOperation, ObjMetadata, Owner, PropagationPolicy, ResourceManager, WaitOptions,
};
use tokio::sync::watch;
use tracing::{Instrument, error, info};

use super::{BuildOptions, CONTROLLER_NAME, GROUP, KustomizeContext};
use crate::runtime::conditions;
use crate::runtime::error::{ReconcileError, RuntimeError};
use crate::runtime::events::{NORMAL, WARNING};
use crate::runtime::metrics::ResourceInfo;
use crate::runtime::patch::{add_finalizer, patch_status, remove_finalizer};
use crate::runtime::schedule::{Schedule, Trigger, parse_go_duration};

/// Kind reconciled here.
pub const KIND: &str = "Kustomization";

/// Reason of invalid CEL expressions (`healthCheckExprs`, `readyExpr`).
const INVALID_CEL: &str = "InvalidCELExpression";
/// Prefix of terminal configuration errors, as Flux words it.
const TERMINAL_MESSAGE: &str = "Reconciliation failed terminally due to configuration error";
/// Message of `spec.decryption` until SOPS support lands.
const SOPS_UNSUPPORTED: &str = "SOPS decryption is not supported yet: spec.decryption cannot be honoured by this controller; remove it or commit the manifests unencrypted";
/// Polling interval of health checks.
const HEALTH_POLL: Duration = Duration::from_secs(1);
/// Artifact metadata key of the revision an OCI artifact was built from (origin revision).
const ORIGIN_REVISION: &str = "org.opencontainers.image.revision";
/// Most history snapshots kept in status.
const HISTORY_LIMIT: usize = 5;

/// The reconciler's state: the shared context and per-object schedule memory.
pub struct Reconciler {
    ctx: Arc<KustomizeContext>,
    schedule: Schedule,
}

/// Runs the Kustomization controller until `shutdown` is set. Kustomizations are also
/// reconciled when their source's artifact changes and when one they depend on changes.
pub async fn run(ctx: Arc<KustomizeContext>, mut shutdown: watch::Receiver<bool>) {
    let shared = &ctx.shared;
    let api: Api<Kustomization> = shared.watched_api();
    let opts = &shared.options;
    let schedule = Schedule::new(opts.min_retry_delay, opts.max_retry_delay);
    let config = ControllerConfig::default().concurrency(opts.concurrent.max(1));
    let wc = shared.watcher_config();
    // Only changes that can make a reconcile necessary wake the object (spec, reconcile
    // request, deletion): the controller's own status patches do not.
    let (store, writer) = kube::runtime::reflector::store();
    let own = kube::runtime::watcher(api.clone(), wc.clone())
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .predicate_filter(wake_hash, Default::default());
    let controller = Controller::for_stream(own, store.clone());
    let (s1, s2, s3, s4) = (store.clone(), store.clone(), store.clone(), store);
    let controller = controller
        .watches(
            shared.watched_api::<GitRepository>(),
            kube::runtime::watcher::Config::default(),
            move |o| referencing(&s1, "GitRepository", &o),
        )
        .watches(
            shared.watched_api::<OCIRepository>(),
            kube::runtime::watcher::Config::default(),
            move |o| referencing(&s2, "OCIRepository", &o),
        )
        .watches(
            shared.watched_api::<Bucket>(),
            kube::runtime::watcher::Config::default(),
            move |o| referencing(&s3, "Bucket", &o),
        )
        .watches(api, wc, move |o| dependents(&s4, &o));
    let reconciler = Arc::new(Reconciler { ctx, schedule });
    controller
        .with_config(config)
        .graceful_shutdown_on(async move {
            let _ = shutdown.wait_for(|s| *s).await;
        })
        .run(reconcile, error_policy, reconciler)
        .for_each(|res| async move {
            use kube::runtime::controller::Error as CtrlError;
            match res {
                Ok(_)
                | Err(CtrlError::ReconcilerFailed(..))
                | Err(CtrlError::ObjectNotFound(_)) => {}
                Err(e) => error!(error = %e, controllerKind = KIND, "watch failed"),
            }
        })
        .await;
}

/// What wakes a Kustomization: its generation, `reconcile.fluxcd.io/requestedAt`, deletion and
/// finalizer presence.
fn wake_hash(k: &Kustomization) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    k.metadata.generation.hash(&mut h);
    k.annotations()
        .get(RECONCILE_REQUEST_ANNOTATION)
        .hash(&mut h);
    k.metadata.deletion_timestamp.is_some().hash(&mut h);
    k.finalizers().iter().any(|f| f == FINALIZER).hash(&mut h);
    Some(h.finish())
}

/// Kustomizations whose `sourceRef` names `src`.
fn referencing<S: Resource>(
    store: &Store<Kustomization>,
    kind: &str,
    src: &S,
) -> Vec<ObjectRef<Kustomization>> {
    let (ns, name) = (src.namespace().unwrap_or_default(), src.name_any());
    store
        .state()
        .iter()
        .filter(|k| {
            let r = &k.spec.source_ref;
            r.kind == kind
                && r.name == name
                && r.namespace
                    .clone()
                    .unwrap_or_else(|| k.namespace().unwrap_or_default())
                    == ns
        })
        .map(|k| ObjectRef::from_obj(k.as_ref()))
        .collect()
}

/// Kustomizations that depend on `dep`.
fn dependents(store: &Store<Kustomization>, dep: &Kustomization) -> Vec<ObjectRef<Kustomization>> {
    let (ns, name) = (dep.namespace().unwrap_or_default(), dep.name_any());
    store
        .state()
        .iter()
        .filter(|k| {
            let own = k.namespace().unwrap_or_default();
            k.spec
                .depends_on
                .iter()
                .any(|d| d.name == name && d.namespace.clone().unwrap_or_else(|| own.clone()) == ns)
        })
        .map(|k| ObjectRef::from_obj(k.as_ref()))
        .collect()
}

fn object_key(obj: &Kustomization) -> String {
    format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any())
}

/// Failures of the plumbing (status patches, finalizer updates) are retried with backoff.
fn error_policy(obj: Arc<Kustomization>, err: &RuntimeError, r: Arc<Reconciler>) -> Action {
    error!(error = %err, name = %obj.name_any(), namespace = %obj.namespace().unwrap_or_default(), "Reconciler error");
    r.schedule.forget(&object_key(&obj));
    Action::requeue(
        r.ctx
            .shared
            .options
            .min_retry_delay
            .max(Duration::from_secs(1)),
    )
}

/// Entry point called by kube-runtime for each object.
pub async fn reconcile(
    obj: Arc<Kustomization>,
    r: Arc<Reconciler>,
) -> Result<Action, RuntimeError> {
    let span = crate::runtime::logging::reconcile_span(
        "kustomization",
        GROUP,
        KIND,
        &obj.name_any(),
        &obj.namespace().unwrap_or_default(),
    );
    r.reconcile_object(obj).instrument(span).await
}

/// Why the steps stopped early.
enum Stop {
    /// Reconciled at this trigger state and not due yet.
    NotDue(Duration),
    /// Waiting for something outside the object (source, artifact, dependencies): `Ready=False`
    /// with the reason, an optional Normal event, retried after the delay without backoff.
    Wait {
        reason: &'static str,
        message: String,
        event: Option<String>,
        after: Duration,
    },
    /// A reconcile failure (transient or terminal).
    Failed(ReconcileError),
    /// A failure whose log line and Event say more than the condition (Flux's
    /// `health check failed after 5s: <condition message>`).
    FailedWith(ReconcileError, String),
    /// The status could not be written.
    Runtime(RuntimeError),
}

impl From<ReconcileError> for Stop {
    fn from(e: ReconcileError) -> Self {
        Stop::Failed(e)
    }
}

impl From<RuntimeError> for Stop {
    fn from(e: RuntimeError) -> Self {
        Stop::Runtime(e)
    }
}

/// The status being built and the last version written, for the intermediate patches.
struct Progress<'a> {
    api: &'a Api<Kustomization>,
    obj: &'a Kustomization,
    status: KustomizationStatus,
    written: Option<KustomizationStatus>,
    /// The source artifact's revision and digest, once looked up (part of the schedule
    /// trigger: a new artifact makes the object due at once).
    revision: Option<String>,
}

impl Progress<'_> {
    /// Writes what changed since the last write.
    async fn patch(&mut self) -> Result<(), RuntimeError> {
        patch_status(self.api, self.obj, self.written.as_ref(), &self.status).await?;
        self.written = Some(self.status.clone());
        Ok(())
    }

    fn generation(&self) -> Option<i64> {
        self.obj.metadata.generation
    }

    /// `Reconciling=True` (`Progressing`) with a stage message.
    fn reconciling(&mut self, message: &str) {
        let g = self.generation();
        conditions::mark_true(
            &mut self.status.conditions,
            ct::RECONCILING,
            reason::PROGRESSING,
            message,
            g,
        );
    }
}

/// The source artifact the Kustomization builds from.
struct Source {
    artifact: Artifact,
}

impl Reconciler {
    fn options(&self) -> &crate::runtime::manager::ManagerOptions {
        &self.ctx.shared.options
    }

    /// A resource manager applying as kustomize-controller through `client`, sharing the
    /// controller's discovery cache.
    fn resource_manager(&self, client: Client) -> ResourceManager {
        ResourceManager::new(
            client,
            Owner {
                field_manager: CONTROLLER_NAME.into(),
                group: GROUP.into(),
            },
        )
        .with_discovery_cache(self.ctx.discovery.clone())
    }

    async fn reconcile_object(&self, obj: Arc<Kustomization>) -> Result<Action, RuntimeError> {
        let namespace = obj.namespace().unwrap_or_default();
        let api: Api<Kustomization> = Api::namespaced(self.ctx.shared.client.clone(), &namespace);
        let key = object_key(&obj);

        if obj.meta().deletion_timestamp.is_some() {
            if obj.finalizers().iter().any(|f| f == FINALIZER) {
                return self.finalize(&api, &obj).await;
            }
            self.schedule.forget(&key);
            return Ok(Action::await_change());
        }

        let mut obj = obj.as_ref().clone();
        if let Some(updated) = add_finalizer(&api, &obj, FINALIZER).await? {
            obj = updated;
        }
        if obj.spec.suspend == Some(true) {
            info!("Reconciliation is suspended for this object");
            self.record_info(&obj);
            return Ok(Action::await_change());
        }

        let started = Instant::now();
        let old = obj.status.clone();
        let mut progress = Progress {
            api: &api,
            obj: &obj,
            status: old.clone().unwrap_or_default(),
            written: old.clone(),
            revision: None,
        };
        let result = self.steps(&mut progress, &key).await;
        let interval = parse_go_duration(&obj.spec.interval).unwrap_or(Duration::from_secs(600));
        let retry = obj
            .spec
            .retry_interval
            .as_deref()
            .and_then(parse_go_duration)
            .unwrap_or(interval);
        let generation = obj.metadata.generation;
        let trigger = trigger_of(&obj, progress.revision.as_deref());

        let action = match result {
            Err(Stop::NotDue(wait)) => return Ok(Action::requeue(wait)),
            Err(Stop::Runtime(e)) => return Err(e),
            Ok(revision) => {
                let st = &mut progress.status;
                conditions::mark_true(
                    &mut st.conditions,
                    ct::READY,
                    reason::RECONCILIATION_SUCCEEDED,
                    &format!("Applied revision: {revision}"),
                    generation,
                );
                conditions::delete(&mut st.conditions, ct::RECONCILING);
                conditions::delete(&mut st.conditions, ct::STALLED);
                st.observed_generation = generation;
                let msg = format!(
                    "Reconciliation finished in {}, next run in {}",
                    go_duration(started.elapsed()),
                    go_duration(interval)
                );
                info!(revision = %revision, "{msg}");
                let mut meta = BTreeMap::new();
                meta.insert(format!("{GROUP}/commit_status"), "update".to_string());
                self.event(&obj, &progress.status, Some(&revision), NORMAL, &msg, meta)
                    .await;
                Action::requeue(self.schedule.succeeded(&key, trigger, interval))
            }
            Err(Stop::Wait {
                reason,
                message,
                event,
                after,
            }) => {
                let st = &mut progress.status;
                conditions::mark_false(&mut st.conditions, ct::READY, reason, &message, generation);
                retry_reason(st);
                if let Some(ev) = event {
                    info!("{ev}");
                    self.event(&obj, &progress.status, None, NORMAL, &ev, BTreeMap::new())
                        .await;
                }
                // Not remembered: whatever we wait for is re-checked when the delay is over.
                self.schedule.forget(&key);
                Action::requeue(after)
            }
            Err(Stop::Failed(err)) => {
                self.failed(
                    &obj,
                    &mut progress,
                    &key,
                    trigger,
                    retry,
                    started,
                    err,
                    None,
                )
                .await
            }
            Err(Stop::FailedWith(err, detail)) => {
                self.failed(
                    &obj,
                    &mut progress,
                    &key,
                    trigger,
                    retry,
                    started,
                    err,
                    Some(detail),
                )
                .await
            }
        };
        if let Some(v) = obj.annotations().get(RECONCILE_REQUEST_ANNOTATION) {
            progress.status.last_handled_reconcile_at = Some(v.clone());
        }
        progress.patch().await?;
        obj.status = Some(progress.status.clone());
        self.ctx.shared.metrics.observe_duration(
            KIND,
            &namespace,
            &obj.name_any(),
            started.elapsed(),
        );
        self.record_info(&obj);
        Ok(action)
    }

    /// A failed reconcile: `Ready=False` with the reason; terminal failures stall (no retry
    /// until the object changes), transient ones keep `Reconciling` (`ProgressingWithRetry`)
    /// and retry after `retryInterval`. `detail` is the log and Event message when it says
    /// more than the condition.
    #[allow(clippy::too_many_arguments)]
    async fn failed(
        &self,
        obj: &Kustomization,
        progress: &mut Progress<'_>,
        key: &str,
        trigger: Trigger,
        retry: Duration,
        started: Instant,
        err: ReconcileError,
        detail: Option<String>,
    ) -> Action {
        let generation = obj.metadata.generation;
        let detail = detail.unwrap_or_else(|| err.message.clone());
        let st = &mut progress.status;
        conditions::mark_false(
            &mut st.conditions,
            ct::READY,
            &err.reason,
            &err.message,
            generation,
        );
        let revision = st.last_attempted_revision.clone();
        if err.is_terminal() {
            conditions::delete(&mut st.conditions, ct::RECONCILING);
            conditions::mark_true(
                &mut st.conditions,
                ct::STALLED,
                &err.reason,
                &err.message,
                generation,
            );
            st.observed_generation = generation;
            error!(error = %detail, "{TERMINAL_MESSAGE}");
        } else {
            retry_reason(st);
            error!(
                error = %detail,
                revision = revision.as_deref().unwrap_or(""),
                "Reconciliation failed after {}, next try in {}",
                go_duration(started.elapsed()),
                go_duration(retry)
            );
        }
        self.event(
            obj,
            &progress.status,
            revision.as_deref(),
            WARNING,
            &detail,
            BTreeMap::new(),
        )
        .await;
        if err.is_terminal() {
            self.schedule.stalled(key, trigger);
            Action::await_change()
        } else {
            Action::requeue(self.schedule.succeeded(key, trigger, retry))
        }
    }

    /// The reconcile steps; returns the applied revision.
    async fn steps(&self, p: &mut Progress<'_>, key: &str) -> Result<String, Stop> {
        let obj = p.obj;
        let spec = &obj.spec;
        let namespace = obj.namespace().unwrap_or_default();
        let generation = p.generation();
        let interval = parse_go_duration(&spec.interval).unwrap_or(Duration::from_secs(600));
        let timeout = spec
            .timeout
            .as_deref()
            .and_then(parse_go_duration)
            .unwrap_or(interval);

        let source = self.source(obj).await?;
        let revision = source.artifact.revision.clone();
        p.revision = Some(format!("{revision} {}", source.artifact.digest));
        tracing::Span::current().record("revision", revision.as_str());

        // Due? The trigger includes the source artifact, so a new one is due at once.
        let trigger = trigger_of(obj, p.revision.as_deref());
        if let Some(wait) = self.schedule.not_due_for(key, &trigger) {
            return Err(Stop::NotDue(wait));
        }

        if spec.decryption.is_some() {
            return Err(ReconcileError::terminal(reason::BUILD_FAILED, SOPS_UNSUPPORTED).into());
        }
        if let Err(e) = validate_health_check_exprs(obj) {
            return Err(
                ReconcileError::terminal(INVALID_CEL, format!("{TERMINAL_MESSAGE}: {e}")).into(),
            );
        }

        if !spec.depends_on.is_empty() {
            if let Err(e) = self.check_dependencies(obj, &source).await {
                if e.is_terminal() {
                    return Err(e.into());
                }
                let after = self.options().requeue_dependency;
                return Err(Stop::Wait {
                    reason: reason::DEPENDENCY_NOT_READY,
                    message: e.message,
                    event: Some(format!(
                        "Dependencies do not meet ready condition, retrying in {}",
                        go_duration(after)
                    )),
                    after,
                });
            }
            info!("All dependencies are ready, proceeding with reconciliation");
        }

        // Fetch.
        conditions::mark_unknown(
            &mut p.status.conditions,
            ct::READY,
            reason::PROGRESSING,
            "Reconciliation in progress",
            generation,
        );
        p.reconciling(&format!(
            "Fetching manifests for revision {revision} with a timeout of {}",
            go_duration(timeout)
        ));
        p.patch().await?;
        let tmp = tempfile::Builder::new()
            .prefix("kustomization-")
            .tempdir()
            .map_err(|e| {
                ReconcileError::transient("DirCreationFailed", format!("tmp dir error: {e}"))
            })?;
        let root = tmp.path().join("src");
        let limits = ::source::fetch::FetchLimits::default();
        if let Err(e) = ::source::fetch::fetch_artifact(
            &source.artifact.url,
            &source.artifact.digest,
            &root,
            &limits,
        )
        .await
        {
            if let ::source::fetch::FetchError::Status { status: 404, .. } = e {
                let after = self.options().requeue_dependency;
                let message = format!(
                    "Source is not ready, artifact not found, retrying in {}",
                    go_duration(after)
                );
                info!("{message}");
                return Err(Stop::Wait {
                    reason: reason::ARTIFACT_FAILED,
                    message,
                    event: None,
                    after,
                });
            }
            return Err(ReconcileError::transient(reason::ARTIFACT_FAILED, e.to_string()).into());
        }
        let path = spec.path.clone().unwrap_or_default();
        let dir = ::kustomize::flux::secure_join(&root, &path)
            .map_err(|e| ReconcileError::transient(reason::ARTIFACT_FAILED, e.to_string()))?;

        // Build.
        p.status.last_attempted_revision = Some(revision.clone());
        p.reconciling(&format!(
            "Building manifests for revision {revision} with a timeout of {}",
            go_duration(timeout)
        ));
        p.patch().await?;
        let client = self
            .client_for(obj)
            .await
            .map_err(|e| ReconcileError::transient(reason::RECONCILIATION_FAILED, e))?;
        let vars = self
            .load_vars(obj)
            .await
            .map_err(|e| ReconcileError::transient(reason::BUILD_FAILED, e))?;
        let (ks, opts) = (
            obj.clone(),
            BuildOptions {
                strict_substitution: self.options().strict_substitutions,
            },
        );
        let (r, d) = (root.clone(), dir.clone());
        let built = tokio::task::spawn_blocking(move || {
            super::build_objects_in(&ks, &r, &d, &vars, &opts).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r);
        let mut objects = built.map_err(|e| ReconcileError::transient(reason::BUILD_FAILED, e))?;
        let checksum = checksum(&objects);
        for o in &mut objects {
            ssa::set_owner_labels(o, &obj.name_any(), &namespace, GROUP);
        }
        drop(tmp);

        // Apply.
        p.reconciling(&format!(
            "Detecting drift for revision {revision} with a timeout of {}",
            go_duration(timeout)
        ));
        p.patch().await?;
        let rm = self.resource_manager(client);
        let reconcile_start = Instant::now();
        let history = |p: &mut Progress<'_>, status: &str| {
            upsert_history(
                &mut p.status.history,
                &checksum,
                reconcile_start.elapsed(),
                status,
                &revision,
            )
        };
        if let Some(subject) = objects.iter().find_map(encrypted_secret) {
            history(p, reason::RECONCILIATION_FAILED);
            return Err(ReconcileError::transient(
                reason::RECONCILIATION_FAILED,
                format!("{subject} is SOPS encrypted, configuring decryption is required for this secret to be reconciled"),
            )
            .into());
        }
        let change_set = match rm
            .apply_all_staged(objects, &apply_options(obj, timeout))
            .await
        {
            Ok(cs) => cs,
            Err(e) => {
                history(p, reason::RECONCILIATION_FAILED);
                return Err(ReconcileError::transient(
                    reason::RECONCILIATION_FAILED,
                    e.to_string(),
                )
                .into());
            }
        };
        let drifted = !change_set.is_empty_of_changes();
        if !change_set.entries.is_empty() {
            let output = serde_json::to_string(&change_set.to_map()).unwrap_or_default();
            info!(output = %output, revision = %revision, "server-side apply completed");
        }
        let apply_log = changes_text(&change_set);
        if !apply_log.is_empty() {
            self.event(
                obj,
                &p.status,
                Some(&revision),
                NORMAL,
                &apply_log,
                BTreeMap::new(),
            )
            .await;
        }

        // Inventory and prune.
        let old_inventory = inventory_objects(p.status.inventory.as_ref());
        let new_objects: Vec<ObjMetadata> = change_set
            .entries
            .iter()
            .map(|e| e.object.clone())
            .collect();
        p.status.inventory = Some(to_inventory(&new_objects));
        let stale = ssa::stale_objects(&old_inventory, &new_objects);
        if spec.prune && !stale.is_empty() {
            match rm.delete_all(&stale, &delete_options(obj)).await {
                Ok(cs) => {
                    if !cs.entries.is_empty() {
                        let text = cs.to_string();
                        info!("garbage collection completed: {text}");
                        self.event(
                            obj,
                            &p.status,
                            Some(&revision),
                            NORMAL,
                            text.trim_end(),
                            BTreeMap::new(),
                        )
                        .await;
                    }
                }
                Err(e) => {
                    // The stale objects stay in the inventory so the next attempt prunes them.
                    let mut all = new_objects.clone();
                    all.extend(stale);
                    p.status.inventory = Some(to_inventory(&all));
                    history(p, reason::PRUNE_FAILED);
                    return Err(
                        ReconcileError::transient(reason::PRUNE_FAILED, e.to_string()).into(),
                    );
                }
            }
        }

        // Health.
        let is_new_revision = p.status.last_applied_revision.as_deref() != Some(revision.as_str());
        if let Err(e) = self
            .check_health(
                p,
                &rm,
                &change_set,
                &revision,
                timeout,
                is_new_revision,
                drifted,
            )
            .await
        {
            history(p, reason::HEALTH_CHECK_FAILED);
            return Err(e);
        }

        p.status.last_applied_revision = Some(revision.clone());
        p.status.last_applied_origin_revision =
            source.artifact.metadata.get(ORIGIN_REVISION).cloned();
        history(p, reason::RECONCILIATION_SUCCEEDED);
        Ok(revision)
    }

    /// Looks up the source and its artifact.
    async fn source(&self, obj: &Kustomization) -> Result<Source, Stop> {
        let r = &obj.spec.source_ref;
        let own = obj.namespace().unwrap_or_default();
        let ns = r
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| own.clone());
        let source_id = format!("{}/{ns}/{}", r.kind, r.name);
        if self.options().no_cross_namespace_refs && ns != own {
            return Err(ReconcileError::terminal(
                reason::ACCESS_DENIED,
                format!(
                    "can't access '{}/{ns}/{}', cross-namespace references have been blocked",
                    r.kind, r.name
                ),
            )
            .into());
        }
        let client = self.ctx.shared.client.clone();
        let retry = obj
            .spec
            .retry_interval
            .as_deref()
            .or(Some(obj.spec.interval.as_str()))
            .and_then(parse_go_duration)
            .unwrap_or(Duration::from_secs(60));
        async fn artifact_of<K>(
            client: Client,
            ns: &str,
            name: &str,
            get: impl Fn(K) -> Option<Artifact>,
        ) -> Result<Option<Option<Artifact>>, kube::Error>
        where
            K: Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>
                + Clone
                + serde::de::DeserializeOwned
                + std::fmt::Debug,
        {
            let api: Api<K> = Api::namespaced(client, ns);
            Ok(api.get_opt(name).await?.map(get))
        }
        let found = match r.kind.as_str() {
            "GitRepository" => {
                artifact_of::<GitRepository>(client, &ns, &r.name, |s| {
                    s.status.and_then(|s| s.artifact)
                })
                .await
            }
            "OCIRepository" => {
                artifact_of::<OCIRepository>(client, &ns, &r.name, |s| {
                    s.status.and_then(|s| s.artifact)
                })
                .await
            }
            "Bucket" => {
                artifact_of::<Bucket>(client, &ns, &r.name, |s| s.status.and_then(|s| s.artifact))
                    .await
            }
            "ExternalArtifact" => {
                artifact_of::<ExternalArtifact>(client, &ns, &r.name, |s| {
                    s.status.and_then(|s| s.artifact)
                })
                .await
            }
            other => {
                return Err(ReconcileError::terminal(
                    reason::ARTIFACT_FAILED,
                    format!("source `{}` kind '{other}' not supported", r.name),
                )
                .into());
            }
        };
        match found {
            Ok(Some(Some(artifact))) => Ok(Source { artifact }),
            Ok(Some(None)) => {
                let after = self.options().requeue_dependency;
                let message = format!(
                    "Source artifact not found, retrying in {}",
                    go_duration(after)
                );
                info!("{message}");
                Err(Stop::Wait {
                    reason: reason::ARTIFACT_FAILED,
                    message,
                    event: None,
                    after,
                })
            }
            Ok(None) => {
                info!("Source '{source_id}' not found");
                let plural = format!("{}s", r.kind.to_ascii_lowercase());
                Err(Stop::Wait {
                    reason: reason::ARTIFACT_FAILED,
                    message: format!("{plural}.source.toolkit.fluxcd.io \"{}\" not found", r.name),
                    event: None,
                    after: retry,
                })
            }
            Err(e) => Err(ReconcileError::transient(
                reason::ARTIFACT_FAILED,
                format!("unable to get source '{ns}/{}': {e}", r.name),
            )
            .into()),
        }
    }

    /// `dependsOn`: every dependency exists and is Ready at its current generation (or its
    /// `readyExpr` holds), and one built from the same source applied the same revision.
    async fn check_dependencies(
        &self,
        obj: &Kustomization,
        source: &Source,
    ) -> Result<(), ReconcileError> {
        let own = obj.namespace().unwrap_or_default();
        let self_json = serde_json::to_value(obj).unwrap_or(Value::Null);
        let src_ns = |k: &Kustomization| {
            k.spec
                .source_ref
                .namespace
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| k.namespace().unwrap_or_default())
        };
        for d in &obj.spec.depends_on {
            let ns = d
                .namespace
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| own.clone());
            let id = format!("{ns}/{}", d.name);
            let api: Api<Kustomization> = Api::namespaced(self.ctx.shared.client.clone(), &ns);
            let dep = match api.get_opt(&d.name).await {
                Ok(Some(dep)) => dep,
                Ok(None) => {
                    return Err(ReconcileError::transient(
                        reason::DEPENDENCY_NOT_READY,
                        format!(
                            "dependency '{id}' not found: kustomizations.kustomize.toolkit.fluxcd.io \"{}\" not found",
                            d.name
                        ),
                    ));
                }
                Err(e) => {
                    return Err(ReconcileError::transient(
                        reason::DEPENDENCY_NOT_READY,
                        format!("dependency '{id}' not found: {e}"),
                    ));
                }
            };
            if let Some(expr) = d.ready_expr.as_deref().filter(|e| !e.is_empty()) {
                let dep_json = serde_json::to_value(&dep).unwrap_or(Value::Null);
                match eval_ready_expr(expr, &self_json, &dep_json) {
                    Ok(true) => continue,
                    Ok(false) => {
                        return Err(ReconcileError::transient(
                            reason::DEPENDENCY_NOT_READY,
                            format!("dependency '{id}' is not ready according to readyExpr eval"),
                        ));
                    }
                    Err(ExprError::Compile(e)) => {
                        return Err(ReconcileError::terminal(
                            INVALID_CEL,
                            format!(
                                "{TERMINAL_MESSAGE}: failed to evaluate dependency {}: {e}",
                                d.name
                            ),
                        ));
                    }
                    Err(ExprError::Eval(e)) => {
                        return Err(ReconcileError::transient(
                            reason::DEPENDENCY_NOT_READY,
                            format!("failed to evaluate dependency {}: {e}", d.name),
                        ));
                    }
                }
            }
            let status = dep.status.clone().unwrap_or_default();
            let ready = !status.conditions.is_empty()
                && dep.metadata.generation == status.observed_generation
                && conditions::is_true(&status.conditions, ct::READY);
            if !ready {
                return Err(ReconcileError::transient(
                    reason::DEPENDENCY_NOT_READY,
                    format!("dependency '{id}' is not ready"),
                ));
            }
            let same_source = dep.spec.source_ref.name == obj.spec.source_ref.name
                && dep.spec.source_ref.kind == obj.spec.source_ref.kind
                && src_ns(&dep) == src_ns(obj);
            if same_source
                && status.last_applied_revision.as_deref()
                    != Some(source.artifact.revision.as_str())
            {
                return Err(ReconcileError::transient(
                    reason::DEPENDENCY_NOT_READY,
                    format!("dependency '{id}' revision is not up to date"),
                ));
            }
        }
        Ok(())
    }

    /// The client to apply with: the manager's, one impersonating the service account
    /// (`serviceAccountName` or `--default-service-account`), or one for the remote cluster of
    /// `spec.kubeConfig`.
    async fn client_for(&self, obj: &Kustomization) -> Result<Client, String> {
        let ns = obj.namespace().unwrap_or_default();
        let spec_sa = obj
            .spec
            .service_account_name
            .clone()
            .filter(|s| !s.is_empty());
        if let Some(kc) = &obj.spec.kube_config {
            let mut config = self.remote_config(&ns, kc).await?;
            if let Some(sa) = spec_sa {
                config.auth_info.impersonate = Some(format!("system:serviceaccount:{ns}:{sa}"));
            }
            return Client::try_from(config)
                .map_err(|e| format!("failed to build kube client: {e}"));
        }
        let sa = spec_sa.or_else(|| {
            self.options()
                .default_service_account
                .clone()
                .filter(|s| !s.is_empty())
        });
        let Some(sa) = sa else {
            return Ok(self.ctx.shared.client.clone());
        };
        let mut config = self.ctx.kube_config.clone().ok_or_else(|| {
            "failed to build kube client: no client configuration to impersonate with".to_string()
        })?;
        config.auth_info.impersonate = Some(format!("system:serviceaccount:{ns}:{sa}"));
        Client::try_from(config).map_err(|e| format!("failed to build kube client: {e}"))
    }

    /// The remote cluster's configuration from the `spec.kubeConfig` Secret, refusing exec
    /// plugins and insecure TLS unless the manager allows them.
    async fn remote_config(
        &self,
        ns: &str,
        kc: &api::meta::KubeConfigReference,
    ) -> Result<kube::Config, String> {
        let Some(sref) = &kc.secret_ref else {
            return Err("spec.kubeConfig.configMapRef (workload identity) is not supported yet; use spec.kubeConfig.secretRef".into());
        };
        let api: Api<Secret> = Api::namespaced(self.ctx.shared.client.clone(), ns);
        let secret = api
            .get(&sref.name)
            .await
            .map_err(|e| format!("unable to read KubeConfig secret '{ns}/{}': {e}", sref.name))?;
        let data = secret.data.unwrap_or_default();
        let keys: Vec<String> = match &sref.key {
            Some(k) if !k.is_empty() => vec![k.clone()],
            _ => vec!["value".into(), "value.yaml".into()],
        };
        let Some(bytes) = keys.iter().find_map(|k| data.get(k)) else {
            return Err(format!(
                "KubeConfig secret '{ns}/{}' does not contain a '{}' key with a kubeconfig",
                sref.name,
                keys.join("' or '")
            ));
        };
        let text = String::from_utf8_lossy(&bytes.0);
        let parsed = kube::config::Kubeconfig::from_yaml(&text).map_err(|e| {
            format!(
                "unable to parse KubeConfig secret '{ns}/{}': {e}",
                sref.name
            )
        })?;
        check_kubeconfig(
            &parsed,
            self.options().insecure_kubeconfig_exec,
            self.options().insecure_kubeconfig_tls,
        )
        .map_err(|e| format!("KubeConfig secret '{ns}/{}' {e}", sref.name))?;
        kube::Config::from_custom_kubeconfig(parsed, &Default::default())
            .await
            .map_err(|e| format!("unable to load KubeConfig secret '{ns}/{}': {e}", sref.name))
    }

    /// The variables of `postBuild.substituteFrom` (ConfigMaps and Secrets of the
    /// Kustomization's namespace, optional ones may be missing).
    async fn load_vars(&self, obj: &Kustomization) -> Result<BTreeMap<String, String>, String> {
        let Some(pb) = &obj.spec.post_build else {
            return Ok(BTreeMap::new());
        };
        let ns = obj.namespace().unwrap_or_default();
        let client = self.ctx.shared.client.clone();
        let mut from = Vec::new();
        for r in &pb.substitute_from {
            let optional = r.optional.unwrap_or(false);
            let mut vars = BTreeMap::new();
            match r.kind.as_str() {
                "ConfigMap" => match Api::<ConfigMap>::namespaced(client.clone(), &ns)
                    .get_opt(&r.name)
                    .await
                {
                    Ok(Some(cm)) => vars.extend(cm.data.unwrap_or_default()),
                    Ok(None) if optional => continue,
                    Ok(None) => {
                        return Err(format!(
                            "substitute from 'ConfigMap/{}' error: configmaps \"{}\" not found",
                            r.name, r.name
                        ));
                    }
                    Err(e) => {
                        return Err(format!("substitute from 'ConfigMap/{}' error: {e}", r.name));
                    }
                },
                "Secret" => match Api::<Secret>::namespaced(client.clone(), &ns)
                    .get_opt(&r.name)
                    .await
                {
                    Ok(Some(s)) => {
                        for (k, v) in s.data.unwrap_or_default() {
                            vars.insert(k, String::from_utf8_lossy(&v.0).into_owned());
                        }
                    }
                    Ok(None) if optional => continue,
                    Ok(None) => {
                        return Err(format!(
                            "substitute from 'Secret/{}' error: secrets \"{}\" not found",
                            r.name, r.name
                        ));
                    }
                    Err(e) => {
                        return Err(format!("substitute from 'Secret/{}' error: {e}", r.name));
                    }
                },
                other => {
                    return Err(format!(
                        "substitute from '{other}/{}': unsupported kind",
                        r.name
                    ));
                }
            }
            from.push(vars);
        }
        Ok(::kustomize::flux::merge_vars(from, &BTreeMap::new()))
    }

    /// Health assessment: `wait` checks every applied object, else `healthChecks` lists them;
    /// sets `Healthy`.
    #[allow(clippy::too_many_arguments)]
    async fn check_health(
        &self,
        p: &mut Progress<'_>,
        rm: &ResourceManager,
        change_set: &ChangeSet,
        revision: &str,
        timeout: Duration,
        is_new_revision: bool,
        drifted: bool,
    ) -> Result<(), Stop> {
        let obj = p.obj;
        let spec = &obj.spec;
        let own = obj.namespace().unwrap_or_default();
        let generation = p.generation();
        let wait = spec.wait.unwrap_or(false);
        if spec.health_checks.is_empty() && !wait {
            conditions::delete(&mut p.status.conditions, ct::HEALTHY);
            return Ok(());
        }
        let objects: Vec<ObjMetadata> = if wait {
            change_set
                .entries
                .iter()
                .filter(|e| e.action != ssa::Action::Skipped)
                .map(|e| e.object.clone())
                .collect()
        } else {
            spec.health_checks
                .iter()
                .map(|h| {
                    let api_version = h.api_version.clone().unwrap_or_default();
                    let (group, version) = match api_version.split_once('/') {
                        Some((g, v)) => (g.to_string(), v.to_string()),
                        None => (String::new(), api_version.clone()),
                    };
                    ObjMetadata {
                        group,
                        version,
                        kind: h.kind.clone(),
                        namespace: h.namespace.clone().unwrap_or_else(|| own.clone()),
                        name: h.name.clone(),
                    }
                })
                .collect()
        };
        let to_check: Vec<ObjMetadata> = objects
            .into_iter()
            .filter(|o| !(o.kind == KIND && o.name == obj.name_any() && o.namespace == own))
            .collect();
        if to_check.is_empty() {
            conditions::delete(&mut p.status.conditions, ct::HEALTHY);
            return Ok(());
        }
        let was_healthy = conditions::is_true(&p.status.conditions, ct::HEALTHY);
        let message = format!(
            "Running health checks for revision {revision} with a timeout of {}",
            go_duration(timeout)
        );
        p.reconciling(&message);
        conditions::mark_unknown(
            &mut p.status.conditions,
            ct::HEALTHY,
            reason::PROGRESSING,
            &message,
            generation,
        );
        p.patch().await?;
        let started = Instant::now();
        let opts = WaitOptions {
            interval: HEALTH_POLL.min(timeout),
            timeout,
            fail_fast: false,
            health_check_exprs: spec
                .health_check_exprs
                .iter()
                .map(|h| ssa::HealthCheckExpr {
                    api_version: h.api_version.clone(),
                    kind: h.kind.clone().unwrap_or_default(),
                    current: h.current.clone(),
                    in_progress: h.in_progress.clone().unwrap_or_default(),
                    failed: h.failed.clone().unwrap_or_default(),
                })
                .collect(),
        };
        if let Err(e) = rm.wait_for_set(&to_check, &opts).await {
            let msg = e.to_string();
            conditions::mark_false(
                &mut p.status.conditions,
                ct::HEALTHY,
                reason::HEALTH_CHECK_FAILED,
                &msg,
                generation,
            );
            let detail = format!(
                "health check failed after {}: {msg}",
                go_duration(started.elapsed())
            );
            return Err(Stop::FailedWith(
                ReconcileError::transient(reason::HEALTH_CHECK_FAILED, msg),
                detail,
            ));
        }
        let msg = format!("Health check passed in {}", go_duration(started.elapsed()));
        if !was_healthy || (is_new_revision && drifted) {
            self.event(
                obj,
                &p.status,
                Some(revision),
                NORMAL,
                &msg,
                BTreeMap::new(),
            )
            .await;
        }
        conditions::mark_true(
            &mut p.status.conditions,
            ct::HEALTHY,
            reason::SUCCEEDED,
            &msg,
            generation,
        );
        p.patch().await?;
        Ok(())
    }

    /// Deletion: prune the inventory as `deletionPolicy` says (unless suspended), then remove
    /// the finalizer.
    async fn finalize(
        &self,
        api: &Api<Kustomization>,
        obj: &Kustomization,
    ) -> Result<Action, RuntimeError> {
        let status = obj.status.clone().unwrap_or_default();
        let revision = status.last_applied_revision.clone();
        let key = object_key(obj);
        if should_delete_resources(obj) {
            let objects = inventory_objects(status.inventory.as_ref());
            match self.can_impersonate(obj).await {
                Ok(true) => {}
                Ok(false) => {
                    let list: Vec<String> = objects.iter().map(|o| o.subject()).collect();
                    let msg = format!("unable to prune objects: \n{}", list.join("\n"));
                    error!(
                        error = "skipping pruning, failed to find account to impersonate",
                        "{msg}"
                    );
                    self.event(
                        obj,
                        &status,
                        revision.as_deref(),
                        WARNING,
                        &msg,
                        BTreeMap::new(),
                    )
                    .await;
                    return self.release(api, obj, &key).await;
                }
                Err(e) => {
                    error!(error = %e, "checking the service account to impersonate failed");
                    return Ok(Action::requeue(Duration::from_secs(5)));
                }
            }
            let client = match self.client_for(obj).await {
                Ok(c) => c,
                Err(e) => {
                    error!(error = %e, "pruning for deleted resource failed");
                    return Ok(Action::requeue(Duration::from_secs(5)));
                }
            };
            let rm = self.resource_manager(client);
            match rm.delete_all(&objects, &delete_options(obj)).await {
                Ok(cs) => {
                    if !cs.entries.is_empty() {
                        let text = cs.to_string();
                        self.event(
                            obj,
                            &status,
                            revision.as_deref(),
                            NORMAL,
                            text.trim_end(),
                            BTreeMap::new(),
                        )
                        .await;
                        if obj.spec.deletion_policy.as_deref() == Some("WaitForTermination") {
                            let timeout = obj
                                .spec
                                .timeout
                                .as_deref()
                                .or(Some(obj.spec.interval.as_str()))
                                .and_then(parse_go_duration)
                                .unwrap_or(Duration::from_secs(60));
                            let deleted: Vec<ObjMetadata> = cs
                                .entries
                                .iter()
                                .filter(|e| e.action == ssa::Action::Deleted)
                                .map(|e| e.object.clone())
                                .collect();
                            if let Err(e) = wait_terminated(rm.client(), &deleted, timeout).await {
                                let msg = "failed to wait for resources termination";
                                error!(error = %e, "{msg}");
                                self.event(
                                    obj,
                                    &status,
                                    revision.as_deref(),
                                    WARNING,
                                    msg,
                                    BTreeMap::new(),
                                )
                                .await;
                            }
                        }
                    }
                }
                Err(e) => {
                    error!(error = %e, "pruning for deleted resource failed");
                    self.event(
                        obj,
                        &status,
                        revision.as_deref(),
                        WARNING,
                        "pruning for deleted resource failed",
                        BTreeMap::new(),
                    )
                    .await;
                    return Ok(Action::requeue(Duration::from_secs(5)));
                }
            }
        }
        self.release(api, obj, &key).await
    }

    async fn release(
        &self,
        api: &Api<Kustomization>,
        obj: &Kustomization,
        key: &str,
    ) -> Result<Action, RuntimeError> {
        remove_finalizer(api, obj, FINALIZER).await?;
        self.schedule.forget(key);
        self.ctx.shared.metrics.delete_resource(
            KIND,
            &obj.namespace().unwrap_or_default(),
            &obj.name_any(),
        );
        Ok(Action::await_change())
    }

    /// Whether the service account to impersonate (if any) exists.
    async fn can_impersonate(&self, obj: &Kustomization) -> Result<bool, kube::Error> {
        if obj.spec.kube_config.is_some() {
            return Ok(true);
        }
        let sa = obj
            .spec
            .service_account_name
            .clone()
            .filter(|s| !s.is_empty())
            .or_else(|| {
                self.options()
                    .default_service_account
                    .clone()
                    .filter(|s| !s.is_empty())
            });
        let Some(sa) = sa else { return Ok(true) };
        let api: Api<ServiceAccount> = Api::namespaced(
            self.ctx.shared.client.clone(),
            &obj.namespace().unwrap_or_default(),
        );
        Ok(api.get_opt(&sa).await?.is_some())
    }

    /// Records an Event the way Flux does: reason is the `Ready` reason at that moment,
    /// metadata carries the revision.
    async fn event(
        &self,
        obj: &Kustomization,
        status: &KustomizationStatus,
        revision: Option<&str>,
        event_type: &str,
        message: &str,
        mut meta: BTreeMap<String, String>,
    ) {
        if let Some(r) = revision.filter(|r| !r.is_empty()) {
            meta.insert(format!("{GROUP}/revision"), r.to_string());
            if let Some(o) = status
                .last_applied_origin_revision
                .as_ref()
                .filter(|_| status.last_applied_revision.as_deref() == Some(r))
            {
                meta.insert(format!("{GROUP}/originRevision"), o.clone());
            }
        }
        let reason = conditions::find(&status.conditions, ct::READY)
            .map(|c| c.reason.clone())
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| {
                if event_type == WARNING {
                    "error"
                } else {
                    "info"
                }
                .to_string()
            });
        self.ctx
            .recorder
            .publish(obj, event_type, &reason, message, meta)
            .await;
    }

    fn record_info(&self, obj: &Kustomization) {
        let status = obj.status.clone().unwrap_or_default();
        let ready = conditions::find(&status.conditions, ct::READY);
        self.ctx.shared.metrics.set_resource_info(&ResourceInfo {
            group: GROUP.into(),
            version: "v1".into(),
            kind: KIND.into(),
            namespace: obj.namespace().unwrap_or_default(),
            name: obj.name_any(),
            ready: ready
                .map(|c| c.status.clone())
                .unwrap_or_else(|| "Unknown".into()),
            reason: ready.map(|c| c.reason.clone()).unwrap_or_default(),
            suspended: obj.spec.suspend == Some(true),
            revision: status.last_applied_revision.unwrap_or_default(),
            url: String::new(),
        });
    }
}

fn trigger_of(obj: &Kustomization, revision: Option<&str>) -> Trigger {
    Trigger {
        generation: obj.metadata.generation,
        requested_at: obj.annotations().get(RECONCILE_REQUEST_ANNOTATION).cloned(),
        extra: revision.unwrap_or_default().to_string(),
    }
}

/// A failing reconcile keeps `Reconciling` with `ProgressingWithRetry`.
fn retry_reason(st: &mut KustomizationStatus) {
    if let Some(c) = st
        .conditions
        .iter_mut()
        .find(|c| c.r#type == ct::RECONCILING)
    {
        c.reason = reason::PROGRESSING_WITH_RETRY.into();
    }
}

/// Flux's apply options: force (spec or annotation), the `ssa` annotation's `Ignore` /
/// `IfNotPresent` / `Merge`, and the cleanup of kubectl's field managers.
fn apply_options(obj: &Kustomization, timeout: Duration) -> ApplyOptions {
    let key = |k: &str| format!("{GROUP}/{k}");
    let map = |pairs: &[(String, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect()
    };
    let fm = |name: &str, operation| FieldManager {
        name: name.into(),
        operation,
    };
    ApplyOptions {
        force: obj.spec.force.unwrap_or(false),
        force_selector: map(&[(key("force"), "Enabled")]),
        exclusion_selector: map(&[(key("reconcile"), "disabled"), (key("ssa"), "Ignore")]),
        if_not_present_selector: map(&[(key("ssa"), "IfNotPresent")]),
        wait_interval: Duration::from_millis(500),
        wait_timeout: timeout,
        cleanup: ApplyCleanupOptions {
            annotations: vec![
                "kubectl.kubernetes.io/last-applied-configuration".into(),
                key("checksum"),
                "fluxcd.io/sync-checksum".into(),
            ],
            labels: vec!["fluxcd.io/sync-gc-mark".into()],
            field_managers: vec![
                fm("kubectl", ManagedFieldsOperation::Apply),
                fm("kubectl", ManagedFieldsOperation::Update),
                fm("before-first-apply", ManagedFieldsOperation::Update),
                fm(CONTROLLER_NAME, ManagedFieldsOperation::Update),
            ],
            exclusions: map(&[(key("ssa"), "Merge")]),
        },
        drift_ignore_rules: obj.spec.ignore.iter().map(drift_ignore_rule).collect(),
        ..ApplyOptions::default()
    }
}

/// `spec.ignore[]` as the resource manager's drift ignore rule (JSON pointers, optional target).
fn drift_ignore_rule(rule: &api::meta::IgnoreRule) -> ssa::IgnoreRule {
    ssa::IgnoreRule {
        paths: rule.paths.clone(),
        selector: rule.target.as_ref().map(|t| ssa::IgnoreSelector {
            group: t.group.clone().unwrap_or_default(),
            version: t.version.clone().unwrap_or_default(),
            kind: t.kind.clone().unwrap_or_default(),
            name: t.name.clone().unwrap_or_default(),
            namespace: t.namespace.clone().unwrap_or_default(),
            label_selector: t.label_selector.clone().unwrap_or_default(),
            annotation_selector: t.annotation_selector.clone().unwrap_or_default(),
        }),
    }
}

/// Flux's prune options: only objects labelled as ours, never those opted out.
fn delete_options(obj: &Kustomization) -> DeleteOptions {
    let key = |k: &str| format!("{GROUP}/{k}");
    DeleteOptions {
        propagation: PropagationPolicy::Background,
        inclusions: [
            (key("name"), obj.name_any()),
            (key("namespace"), obj.namespace().unwrap_or_default()),
        ]
        .into(),
        exclusions: [
            (key("prune"), "disabled".to_string()),
            (key("reconcile"), "disabled".to_string()),
            (key("ssa"), "Ignore".to_string()),
        ]
        .into(),
    }
}

/// Whether deleting the Kustomization deletes what it applied (`deletionPolicy`).
fn should_delete_resources(obj: &Kustomization) -> bool {
    if obj.spec.suspend == Some(true) {
        return false;
    }
    let has_inventory = obj
        .status
        .as_ref()
        .and_then(|s| s.inventory.as_ref())
        .is_some_and(|i| !i.entries.is_empty());
    if !has_inventory {
        return false;
    }
    match obj.spec.deletion_policy.as_deref().unwrap_or("MirrorPrune") {
        "MirrorPrune" => obj.spec.prune,
        "Delete" | "WaitForTermination" => true,
        _ => false,
    }
}

/// The objects of an inventory (entries that do not parse are skipped).
fn inventory_objects(inv: Option<&ResourceInventory>) -> Vec<ObjMetadata> {
    inv.map(|i| {
        i.entries
            .iter()
            .filter_map(|e| ObjMetadata::parse_inventory_id(&e.id, &e.v).ok())
            .collect()
    })
    .unwrap_or_default()
}

fn to_inventory(objects: &[ObjMetadata]) -> ResourceInventory {
    let mut entries: Vec<ResourceRef> = objects
        .iter()
        .map(|o| ResourceRef {
            id: o.inventory_id(),
            v: o.version.clone(),
        })
        .collect();
    entries.sort_by(|a, b| a.id.cmp(&b.id));
    entries.dedup_by(|a, b| a.id == b.id);
    ResourceInventory { entries }
}

/// One `Subject action` line per created/configured/deleted object, as Flux's apply event.
fn changes_text(cs: &ChangeSet) -> String {
    cs.entries
        .iter()
        .filter(|e| !matches!(e.action, ssa::Action::Unchanged | ssa::Action::Skipped))
        .map(|e| format!("{} {}", e.subject, e.action))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `sha256:<hex>` of the built objects (the history key).
fn checksum(objects: &[Value]) -> String {
    let mut h = Sha256::new();
    h.update(yaml::to_multi_doc_string(objects).as_bytes());
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Records a reconciliation in `status.history` (newest first, bounded), merging it into the
/// entry of the same digest and outcome.
fn upsert_history(
    history: &mut Vec<Snapshot>,
    digest: &str,
    took: Duration,
    status: &str,
    revision: &str,
) {
    let now = conditions::now();
    let pos = history
        .iter()
        .position(|s| s.digest == digest && s.last_reconciled_status == status);
    let mut snap = match pos {
        Some(i) => history.remove(i),
        None => Snapshot {
            digest: digest.into(),
            first_reconciled: now.clone(),
            last_reconciled_status: status.into(),
            ..Default::default()
        },
    };
    snap.last_reconciled = now;
    snap.last_reconciled_duration = go_duration(took);
    snap.total_reconciliations += 1;
    snap.metadata.insert("revision".into(), revision.into());
    history.insert(0, snap);
    history.truncate(HISTORY_LIMIT);
}

/// The subject of a SOPS-encrypted Secret (a `v1` Secret with a top-level `sops` section)
/// whose decryption is not disabled by `kustomize.toolkit.fluxcd.io/decrypt: disabled`.
fn encrypted_secret(obj: &Value) -> Option<String> {
    let s = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or("");
    let disabled = obj
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(format!("{GROUP}/decrypt")))
        .and_then(Value::as_str)
        .is_some_and(|v| v.eq_ignore_ascii_case("disabled"));
    (s("/apiVersion") == "v1" && s("/kind") == "Secret" && obj.get("sops").is_some() && !disabled)
        .then(|| match s("/metadata/namespace") {
            "" => format!("Secret/{}", s("/metadata/name")),
            ns => format!("Secret/{ns}/{}", s("/metadata/name")),
        })
}

/// Refuses exec plugins and `insecure-skip-tls-verify` unless allowed.
fn check_kubeconfig(
    kc: &kube::config::Kubeconfig,
    allow_exec: bool,
    allow_insecure_tls: bool,
) -> Result<(), String> {
    if !allow_exec
        && kc.auth_infos.iter().any(|a| {
            a.auth_info
                .as_ref()
                .is_some_and(|i| i.exec.is_some() || i.auth_provider.is_some())
        })
    {
        return Err("uses an exec or auth provider plugin, which is refused (enable with --insecure-kubeconfig-exec)".into());
    }
    if !allow_insecure_tls
        && kc.clusters.iter().any(|c| {
            c.cluster
                .as_ref()
                .is_some_and(|c| c.insecure_skip_tls_verify == Some(true))
        })
    {
        return Err("sets insecure-skip-tls-verify, which is refused (enable with --insecure-kubeconfig-tls)".into());
    }
    Ok(())
}

/// Why a CEL expression could not be used.
enum ExprError {
    Compile(String),
    Eval(String),
}

/// Evaluates a `readyExpr` with `self` (the dependent) and `dep` (the dependency).
fn eval_ready_expr(expr: &str, self_json: &Value, dep_json: &Value) -> Result<bool, ExprError> {
    let program = cel::Program::compile(expr).map_err(|e| ExprError::Compile(e.to_string()))?;
    let mut ctx = cel::Context::default();
    ctx.add_variable("self", self_json.clone())
        .map_err(|e| ExprError::Eval(e.to_string()))?;
    ctx.add_variable("dep", dep_json.clone())
        .map_err(|e| ExprError::Eval(e.to_string()))?;
    match program.execute(&ctx) {
        Ok(cel::Value::Bool(b)) => Ok(b),
        Ok(other) => Err(ExprError::Compile(format!(
            "expression must evaluate to a bool, got {other:?}"
        ))),
        Err(e) => Err(ExprError::Eval(e.to_string())),
    }
}

/// Every `healthCheckExprs` expression must compile.
fn validate_health_check_exprs(obj: &Kustomization) -> Result<(), String> {
    for h in &obj.spec.health_check_exprs {
        let exprs = [
            ("current", Some(h.current.as_str())),
            ("inProgress", h.in_progress.as_deref()),
            ("failed", h.failed.as_deref()),
        ];
        for (field, e) in exprs {
            if let Some(e) = e.filter(|e| !e.is_empty()) {
                cel::Program::compile(e).map_err(|err| {
                    format!(
                        "failed to parse the '{field}' expression for {}/{}: {err}",
                        h.api_version,
                        h.kind.as_deref().unwrap_or("")
                    )
                })?;
            }
        }
    }
    Ok(())
}

/// Polls until every object is gone (`deletionPolicy: WaitForTermination`).
async fn wait_terminated(
    client: &Client,
    objects: &[ObjMetadata],
    timeout: Duration,
) -> Result<(), String> {
    use kube::api::{ApiResource, DynamicObject};
    use kube::discovery::Scope;
    let deadline = Instant::now() + timeout;
    for o in objects {
        let gvk = kube::api::GroupVersionKind::gvk(&o.group, &o.version, &o.kind);
        let (ar, caps): (ApiResource, _) = kube::discovery::pinned_kind(client, &gvk)
            .await
            .map_err(|e| format!("discovery of {} failed: {e}", o.subject()))?;
        let api: Api<DynamicObject> = if caps.scope == Scope::Namespaced {
            Api::namespaced_with(client.clone(), &o.namespace, &ar)
        } else {
            Api::all_with(client.clone(), &ar)
        };
        loop {
            match api.get_opt(&o.name).await {
                Ok(None) => break,
                Ok(Some(_)) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Ok(Some(_)) => {
                    return Err(format!("timeout waiting for {} to terminate", o.subject()));
                }
                Err(e) => return Err(format!("{} get failed: {e}", o.subject())),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inventory_round_trip_and_changes_text() {
        let objs = vec![
            ObjMetadata {
                group: "apps".into(),
                version: "v1".into(),
                kind: "Deployment".into(),
                namespace: "ns".into(),
                name: "web".into(),
            },
            ObjMetadata {
                group: String::new(),
                version: "v1".into(),
                kind: "Namespace".into(),
                namespace: String::new(),
                name: "ns".into(),
            },
        ];
        let inv = to_inventory(&objs);
        assert_eq!(inv.entries[0].id, "_ns__Namespace");
        assert_eq!(inv.entries[1].id, "ns_web_apps_Deployment");
        assert_eq!(inv.entries[1].v, "v1");
        let back = inventory_objects(Some(&inv));
        assert_eq!(back.len(), 2);
        assert!(back.iter().any(|o| o.same_object(&objs[0])));

        let mut cs = ChangeSet::default();
        cs.add(ssa::ChangeSetEntry::new(
            objs[0].clone(),
            ssa::Action::Configured,
        ));
        cs.add(ssa::ChangeSetEntry::new(
            objs[1].clone(),
            ssa::Action::Unchanged,
        ));
        assert_eq!(changes_text(&cs), "Deployment/ns/web configured");
    }

    #[test]
    fn sops_encrypted_secrets_are_refused() {
        let mut secret = serde_json::json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "namespace": "ns"}, "data": {"k": "ENC[...]"},
            "sops": {"version": "3.9.0"}});
        assert_eq!(encrypted_secret(&secret).as_deref(), Some("Secret/ns/s"));
        secret["metadata"]["annotations"] =
            serde_json::json!({"kustomize.toolkit.fluxcd.io/decrypt": "Disabled"});
        assert_eq!(encrypted_secret(&secret), None);
        let plain =
            serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "p"}});
        assert_eq!(encrypted_secret(&plain), None);
    }

    #[test]
    fn deletion_policy() {
        let mut k = Kustomization::new("k", Default::default());
        k.status = Some(KustomizationStatus {
            inventory: Some(ResourceInventory {
                entries: vec![ResourceRef {
                    id: "_ns__Namespace".into(),
                    v: "v1".into(),
                }],
            }),
            ..Default::default()
        });
        assert!(!should_delete_resources(&k), "MirrorPrune without prune");
        k.spec.prune = true;
        assert!(should_delete_resources(&k));
        k.spec.deletion_policy = Some("Orphan".into());
        assert!(!should_delete_resources(&k));
        k.spec.deletion_policy = Some("Delete".into());
        k.spec.prune = false;
        assert!(should_delete_resources(&k));
        k.spec.suspend = Some(true);
        assert!(!should_delete_resources(&k));
    }

    #[test]
    fn history_is_bounded_and_merges_same_digest() {
        let mut h = Vec::new();
        upsert_history(
            &mut h,
            "sha256:a",
            Duration::from_secs(1),
            "ReconciliationSucceeded",
            "r1",
        );
        upsert_history(
            &mut h,
            "sha256:a",
            Duration::from_secs(2),
            "ReconciliationSucceeded",
            "r1",
        );
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].total_reconciliations, 2);
        assert_eq!(h[0].last_reconciled_duration, "2s");
        for i in 0..10 {
            upsert_history(
                &mut h,
                &format!("sha256:{i}"),
                Duration::ZERO,
                "HealthCheckFailed",
                "r",
            );
        }
        assert_eq!(h.len(), HISTORY_LIMIT);
        assert_eq!(h[0].digest, "sha256:9");
    }

    #[test]
    fn kubeconfig_exec_and_insecure_tls_are_refused_by_default() {
        let exec = r#"
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
users:
- name: u
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/evil}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
"#;
        let kc = kube::config::Kubeconfig::from_yaml(exec).unwrap();
        let err = check_kubeconfig(&kc, false, true).unwrap_err();
        assert!(err.contains("--insecure-kubeconfig-exec"), "{err}");
        let err = check_kubeconfig(&kc, true, false).unwrap_err();
        assert!(err.contains("--insecure-kubeconfig-tls"), "{err}");
        assert!(check_kubeconfig(&kc, true, true).is_ok());
    }

    #[test]
    fn ready_expressions() {
        let me = serde_json::json!({"metadata": {"name": "a"}});
        let dep =
            serde_json::json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        assert!(matches!(
            eval_ready_expr(
                "dep.status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')",
                &me,
                &dep
            ),
            Ok(true)
        ));
        assert!(matches!(
            eval_ready_expr("self.metadata.name == 'b'", &me, &dep),
            Ok(false)
        ));
        assert!(matches!(
            eval_ready_expr("dep.(", &me, &dep),
            Err(ExprError::Compile(_))
        ));
    }
}
