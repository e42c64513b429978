//! The GitRepository reconciler, step for step as Flux's source-controller: finalizer, suspend,
//! storage check and garbage collection, source fetch (`source::git`), includes, artifact
//! packaging with ignore rules, then one status patch with Flux's conditions and reasons, an
//! Event on every new revision, and never a credential in logs, events or conditions.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use api::meta::{Artifact, FINALIZER, RECONCILE_REQUEST_ANNOTATION, condition_type as ct, reason};
use api::source::{GitRepository, GitRepositoryStatus};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::runtime::controller::{Action, Config as ControllerConfig, Controller};
use kube::{Api, Resource, ResourceExt};
use tokio::sync::watch;
use tracing::{Instrument, debug, error, info};

use crate::runtime::conditions;
use crate::runtime::error::{ReconcileError, RuntimeError};
use crate::runtime::events::{NORMAL, WARNING};
use crate::runtime::metrics::ResourceInfo;
use crate::runtime::patch::{add_finalizer, patch_status, remove_finalizer};
use crate::runtime::redact::Redactor;
use crate::runtime::schedule::{Schedule, Trigger, parse_go_duration};
use crate::source::{GROUP, SourceContext};

/// Kind reconciled here.
pub const KIND: &str = "GitRepository";

/// Reason of `Reconciling` when there is no artifact in storage.
const NO_ARTIFACT: &str = "NoArtifact";
/// `IncludeUnavailable` reason: the included GitRepository does not exist.
const NOT_FOUND: &str = "NotFound";
/// `IncludeUnavailable` reason: copying an include failed.
const COPY_FAILED: &str = "CopyFailed";
/// `StorageOperationFailed` reason: packing the artifact failed.
const ARCHIVE_FAILED: &str = reason::ARCHIVE_OPERATION_FAILED;
/// `ArtifactOutdated` reason: the remote moved to a new revision (source-controller's vocabulary).
const NEW_REVISION: &str = "NewRevision";
/// `StorageOperationFailed` reason: garbage collection failed.
const GC_FAILED: &str = "GarbageCollectionFailed";
/// Event reason of a new artifact.
const NEW_ARTIFACT: &str = "NewArtifact";

/// `SourceVerified` reason: the Secret of public keys is missing or holds no usable key.
const VERIFICATION_ERROR: &str = "VerificationError";
/// `SourceVerified` reason: the verification mode does not fit the reference.
const INVALID_VERIFICATION_MODE: &str = "InvalidVerificationMode";
/// `SourceVerified` reason: the commit or tag to verify carries no signature.
const INVALID_GIT_OBJECT: &str = "InvalidGitObject";
/// `SourceVerified` reason: no trusted key verifies the commit signature.
const INVALID_COMMIT_SIGNATURE: &str = "InvalidCommitSignature";
/// `SourceVerified` reason: no trusted key verifies the tag signature.
const INVALID_TAG_SIGNATURE: &str = "InvalidTagSignature";

/// Abnormal-true conditions in the order they explain a failed `Ready` (Flux's summary order).
const NEGATIVE: &[&str] = &[
    ct::STORAGE_OPERATION_FAILED,
    ct::FETCH_FAILED,
    ct::INCLUDE_UNAVAILABLE,
    ct::ARTIFACT_OUTDATED,
];

/// The reconciler's state: the shared source context and per-object schedule memory.
pub struct Reconciler {
    ctx: Arc<SourceContext>,
    schedule: Schedule,
}

/// Runs the GitRepository controller until `shutdown` is set.
pub async fn run(ctx: Arc<SourceContext>, mut shutdown: watch::Receiver<bool>) {
    let api: Api<GitRepository> = ctx.shared.watched_api();
    let opts = &ctx.shared.options;
    let schedule = Schedule::new(opts.min_retry_delay, opts.max_retry_delay);
    let config = ControllerConfig::default().concurrency(opts.concurrent.max(1));
    let watcher = ctx.shared.watcher_config();
    let reconciler = Arc::new(Reconciler { ctx, schedule });
    Controller::new(api, watcher)
        .with_config(config)
        .graceful_shutdown_on(async move {
            let _ = shutdown.wait_for(|s| *s).await;
        })
        .run(reconcile, error_policy, reconciler)
        .for_each(|res| async move {
            use kube::runtime::controller::Error as CtrlError;
            match res {
                // Reconciler failures were logged by the reconciler or the error policy.
                Ok(_)
                | Err(CtrlError::ReconcilerFailed(..))
                | Err(CtrlError::ObjectNotFound(_)) => {}
                // Watch failures (missing CRDs, RBAC, connectivity) deserve an operator's eye.
                Err(e) => error!(error = %e, controllerKind = KIND, "watch failed"),
            }
        })
        .await;
}

fn object_key(obj: &GitRepository) -> String {
    format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any())
}

fn trigger_of(obj: &GitRepository) -> Trigger {
    Trigger {
        generation: obj.metadata.generation,
        requested_at: obj.annotations().get(RECONCILE_REQUEST_ANNOTATION).cloned(),
        extra: String::new(),
    }
}

/// Failures of the plumbing (e.g. the status patch itself) are retried with backoff.
fn error_policy(obj: Arc<GitRepository>, err: &RuntimeError, r: Arc<Reconciler>) -> Action {
    error!(error = %err, name = %obj.name_any(), namespace = %obj.namespace().unwrap_or_default(), "Reconciler error");
    Action::requeue(r.schedule.failed(&object_key(&obj), Trigger::default()))
}

/// Entry point called by kube-runtime for each object.
pub async fn reconcile(
    obj: Arc<GitRepository>,
    r: Arc<Reconciler>,
) -> Result<Action, RuntimeError> {
    let span = crate::runtime::logging::reconcile_span(
        "gitrepository",
        GROUP,
        KIND,
        &obj.name_any(),
        &obj.namespace().unwrap_or_default(),
    );
    r.reconcile_object(obj).instrument(span).await
}

/// What a successful pass produced.
struct Fetched {
    /// Subject line of the commit, for the event message.
    subject: String,
}

impl Reconciler {
    fn api(&self, namespace: &str) -> Api<GitRepository> {
        Api::namespaced(self.ctx.shared.client.clone(), namespace)
    }

    async fn reconcile_object(&self, obj: Arc<GitRepository>) -> Result<Action, RuntimeError> {
        let namespace = obj.namespace().unwrap_or_default();
        let api = self.api(&namespace);
        let key = object_key(&obj);

        if obj.meta().deletion_timestamp.is_some() {
            if obj.finalizers().iter().any(|f| f == FINALIZER)
                && !self.reconcile_delete(&api, &obj).await?
            {
                // Garbage collection failed: keep the finalizer and try again.
                return Ok(Action::requeue(
                    self.schedule.failed(&key, Trigger::default()),
                ));
            }
            self.schedule.forget(&key);
            return Ok(Action::await_change());
        }

        // Finalizer first, so a delete racing with the first reconcile still cleans up.
        let mut obj = obj.as_ref().clone();
        if let Some(updated) = add_finalizer(&api, &obj, FINALIZER).await? {
            obj = updated;
        }

        if obj.spec.suspend == Some(true) {
            info!("reconciliation is suspended for this object");
            self.record_info(&obj);
            return Ok(Action::await_change());
        }

        let trigger = trigger_of(&obj);
        if let Some(wait) = self.schedule.not_due_for(&key, &trigger) {
            return Ok(Action::requeue(wait));
        }

        let started = Instant::now();
        let generation = obj.metadata.generation;
        let old_status = obj.status.clone();
        let mut status = old_status.clone().unwrap_or_default();
        conditions::mark_progressing(
            &mut status.conditions,
            generation,
            status.observed_generation,
        );
        let mut redactor = Redactor::new();

        let result = self.steps(&obj, &mut status, &mut redactor).await;

        let observed = conditions::summarize(
            &mut status.conditions,
            generation,
            result.as_ref().map(|_| ()),
            NEGATIVE,
            ct::ARTIFACT_IN_STORAGE,
        );
        if observed {
            status.observed_generation = generation;
        }
        if let Some(v) = obj.annotations().get(RECONCILE_REQUEST_ANNOTATION) {
            status.last_handled_reconcile_at = Some(v.clone());
        }
        // Events and logs first, then the status patch (Flux's order): whoever sees the new
        // status can also see the event.
        self.notify(&obj, old_status.as_ref(), &status, &result, &redactor)
            .await;
        patch_status(&api, &obj, old_status.as_ref(), &status).await?;
        let action = match &result {
            Ok(_) => {
                let interval =
                    parse_go_duration(&obj.spec.interval).unwrap_or(Duration::from_secs(60));
                Action::requeue(self.schedule.succeeded(&key, trigger, interval))
            }
            Err(err) if err.is_terminal() => {
                self.schedule.stalled(&key, trigger);
                Action::await_change()
            }
            Err(_) => Action::requeue(self.schedule.failed(&key, trigger)),
        };
        obj.status = Some(status);
        self.ctx.shared.metrics.observe_duration(
            KIND,
            &namespace,
            &obj.name_any(),
            started.elapsed(),
        );
        self.record_info(&obj);
        Ok(action)
    }

    /// Records the outcome: a `NewArtifact` event (or `Succeeded` on recovery from failure)
    /// annotated with the revision and digest, or a `Warning` event with the failure reason;
    /// and the matching log line.
    async fn notify(
        &self,
        obj: &GitRepository,
        old: Option<&GitRepositoryStatus>,
        new: &GitRepositoryStatus,
        result: &Result<Fetched, ReconcileError>,
        redactor: &Redactor,
    ) {
        match result {
            Ok(fetched) => {
                let Some(a) = &new.artifact else { return };
                tracing::Span::current().record("revision", a.revision.as_str());
                let old_digest = old
                    .and_then(|s| s.artifact.as_ref())
                    .map(|a| a.digest.as_str());
                let was_failing =
                    old.is_some_and(|s| conditions::is_false(&s.conditions, ct::READY));
                let new_artifact = old_digest != Some(a.digest.as_str());
                if !new_artifact && !was_failing {
                    return;
                }
                let message = format!(
                    "stored artifact for commit '{}'",
                    redactor.apply(&fetched.subject)
                );
                let reason = if new_artifact {
                    NEW_ARTIFACT
                } else {
                    reason::SUCCEEDED
                };
                info!("{message}");
                let mut ann = BTreeMap::new();
                ann.insert(format!("{GROUP}/revision"), a.revision.clone());
                ann.insert(format!("{GROUP}/digest"), a.digest.clone());
                self.ctx
                    .recorder
                    .publish(obj, NORMAL, reason, &message, ann)
                    .await;
            }
            Err(err) => {
                error!(error = %err.message, "Reconciler error");
                let mut ann = BTreeMap::new();
                if let Some(a) = &new.artifact {
                    ann.insert(format!("{GROUP}/revision"), a.revision.clone());
                }
                self.ctx
                    .recorder
                    .publish(obj, WARNING, &err.reason, &err.message, ann)
                    .await;
            }
        }
    }

    fn record_info(&self, obj: &GitRepository) {
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
            revision: status.artifact.map(|a| a.revision).unwrap_or_default(),
            url: crate::runtime::redact::strip_url_userinfo(&obj.spec.url),
        });
    }

    /// Deletion: remove every stored artifact of the object, then the finalizer; false when the
    /// artifacts could not be removed (the finalizer stays).
    async fn reconcile_delete(
        &self,
        api: &Api<GitRepository>,
        obj: &GitRepository,
    ) -> Result<bool, RuntimeError> {
        let namespace = obj.namespace().unwrap_or_default();
        let name = obj.name_any();
        let storage = self.ctx.storage.clone();
        let (ns, n) = (namespace.clone(), name.clone());
        let removed = tokio::task::spawn_blocking(move || storage.remove_all(KIND, &ns, &n)).await;
        match removed {
            Ok(Ok(())) => info!("garbage collected artifacts for deleted resource"),
            // Keep the finalizer: the files must go before the object does.
            Ok(Err(e)) => {
                error!(error = %e, "garbage collection for deleted resource failed");
                return Ok(false);
            }
            Err(e) => {
                error!(error = %e, "garbage collection for deleted resource failed");
                return Ok(false);
            }
        }
        remove_finalizer(api, obj, FINALIZER).await?;
        self.ctx
            .shared
            .metrics
            .delete_resource(KIND, &namespace, &name);
        Ok(true)
    }

    /// The reconcile steps; each sets its conditions on `status`.
    async fn steps(
        &self,
        obj: &GitRepository,
        status: &mut GitRepositoryStatus,
        redactor: &mut Redactor,
    ) -> Result<Fetched, ReconcileError> {
        let generation = obj.metadata.generation;
        self.reconcile_storage(status, generation).await?;
        let workdir = tempfile::Builder::new()
            .prefix("gitrepository-")
            .tempdir()
            .map_err(|e| {
                storage_failed(
                    status,
                    generation,
                    "DirCreationFailed",
                    format!("failed to create temporary working directory: {e}"),
                )
            })?;
        let dir = workdir.path().join("src");
        let commit = self.reconcile_source(obj, status, redactor, &dir).await?;
        tracing::Span::current().record("revision", commit.revision.as_str());
        let included = self.reconcile_include(obj, status, &dir).await?;
        self.reconcile_artifact(obj, status, &commit, included, &dir)
            .await?;
        Ok(Fetched {
            subject: commit.subject,
        })
    }

    /// Storage step: drop an artifact whose file vanished, garbage-collect old files, refresh
    /// the URL (the advertised address may have changed).
    async fn reconcile_storage(
        &self,
        status: &mut GitRepositoryStatus,
        generation: Option<i64>,
    ) -> Result<(), ReconcileError> {
        let storage = &self.ctx.storage;
        if let Some(artifact) = status.artifact.as_mut() {
            if !storage.exists(artifact) {
                status.artifact = None;
                conditions::delete(&mut status.conditions, ct::ARTIFACT_IN_STORAGE);
            } else {
                let (s, a, policy) = (storage.clone(), artifact.clone(), self.ctx.retention);
                match tokio::task::spawn_blocking(move || s.garbage_collect(&a, policy)).await {
                    Ok(Ok(deleted)) if !deleted.is_empty() => {
                        info!("garbage collected {} artifacts", deleted.len());
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        return Err(storage_failed(
                            status,
                            generation,
                            GC_FAILED,
                            format!("garbage collection of artifacts failed: {e}"),
                        ));
                    }
                    Err(e) => {
                        return Err(storage_failed(
                            status,
                            generation,
                            GC_FAILED,
                            format!("garbage collection of artifacts failed: {e}"),
                        ));
                    }
                }
                artifact.url = storage.url_for(&artifact.path);
            }
        }
        if status.artifact.is_none() {
            conditions::mark_true(
                &mut status.conditions,
                ct::RECONCILING,
                NO_ARTIFACT,
                "no artifact for resource in storage",
                generation,
            );
        }
        conditions::delete(&mut status.conditions, ct::STORAGE_OPERATION_FAILED);
        Ok(())
    }

    /// Source step: credentials from `spec.secretRef`, then the Git checkout; the clone is
    /// skipped when the remote still points at the stored revision and nothing else changed.
    async fn reconcile_source(
        &self,
        obj: &GitRepository,
        status: &mut GitRepositoryStatus,
        redactor: &mut Redactor,
        dir: &Path,
    ) -> Result<git::Commit, ReconcileError> {
        let generation = obj.metadata.generation;
        let namespace = obj.namespace().unwrap_or_default();
        let url = obj.spec.url.clone();
        let fail = |status: &mut GitRepositoryStatus, err: ReconcileError| {
            conditions::mark_true(
                &mut status.conditions,
                ct::FETCH_FAILED,
                &err.reason,
                &err.message,
                generation,
            );
            err
        };
        let mut auth = ::source::git::GitAuth::default();
        if let Some(sr) = &obj.spec.secret_ref {
            let data = match self.secret_data(&namespace, &sr.name, redactor).await {
                Ok(d) => d,
                Err(msg) => {
                    return Err(fail(
                        status,
                        ReconcileError::transient(reason::AUTHENTICATION_FAILED, msg),
                    ));
                }
            };
            auth = match git::auth(&url, &format!("{namespace}/{}", sr.name), &data) {
                Ok(a) => a,
                Err(e) => {
                    let msg = format!("failed to configure authentication options: {e}");
                    return Err(fail(
                        status,
                        ReconcileError::transient(
                            reason::AUTHENTICATION_FAILED,
                            redactor.apply(&msg),
                        ),
                    ));
                }
            };
        }
        let mut proxy = None;
        if let Some(pr) = &obj.spec.proxy_secret_ref {
            let data = match self.secret_data(&namespace, &pr.name, redactor).await {
                Ok(d) => d,
                Err(msg) => {
                    return Err(fail(
                        status,
                        ReconcileError::transient(reason::AUTHENTICATION_FAILED, msg),
                    ));
                }
            };
            proxy = match ::source::git::ProxyOptions::from_secret_data(
                &format!("{namespace}/{}", pr.name),
                &data,
            ) {
                Ok(p) => Some(p),
                Err(e) => {
                    let msg = format!("failed to configure proxy options: {e}");
                    return Err(fail(
                        status,
                        ReconcileError::transient(
                            reason::AUTHENTICATION_FAILED,
                            redactor.apply(&msg),
                        ),
                    ));
                }
            };
        }
        let timeout = obj
            .spec
            .timeout
            .as_deref()
            .and_then(parse_go_duration)
            .unwrap_or(Duration::from_secs(60));
        // `..Default::default()` keeps this compiling when `source::git` grows new options.
        #[allow(clippy::needless_update)]
        let opts = ::source::git::CheckoutOptions {
            url: url.clone(),
            reference: ::source::git::GitRef::from_spec(obj.spec.r#ref.as_ref()),
            auth,
            shallow: true,
            sparse_checkout: obj.spec.sparse_checkout.clone(),
            recurse_submodules: obj.spec.recurse_submodules.unwrap_or(false),
            timeout,
            allow_file_urls: self.ctx.shared.options.allow_file_urls,
            proxy,
            ..Default::default()
        };
        let git_failed = |status: &mut GitRepositoryStatus, e: &::source::git::GitError| {
            let (reason, terminal) = git::classify(e);
            let msg = redactor.apply(&format!("failed to checkout and determine revision: {e}"));
            let err = if terminal {
                ReconcileError::terminal(reason, msg)
            } else {
                ReconcileError::transient(reason, msg)
            };
            fail(status, err)
        };

        // No-op clone: ask the remote first when a rebuild would not be needed anyway.
        let settings_unchanged = obj.spec.include.is_empty()
            && status.included_artifacts.is_empty()
            && status.observed_ignore == obj.spec.ignore
            && status.observed_sparse_checkout == obj.spec.sparse_checkout
            && status.observed_recurse_submodules.unwrap_or(false)
                == obj.spec.recurse_submodules.unwrap_or(false)
            && !requires_verification(obj, status);
        let mut commit = None;
        let mut checked_out = None;
        if let Some(current) = status.artifact.as_ref().filter(|_| settings_unchanged) {
            match ::source::git::resolve(&opts).await {
                Ok(r) if r.revision == current.revision => {
                    debug!(
                        "no changes since last reconciliation: observed revision '{}'",
                        r.revision
                    );
                    commit = Some(git::Commit {
                        subject: r.revision.clone(),
                        revision: r.revision,
                        hash: r.commit,
                    });
                }
                Ok(_) => {}
                Err(e) => return Err(git_failed(status, &e)),
            }
        }
        let commit = match commit {
            Some(c) => c,
            None => match ::source::git::checkout(&opts, dir).await {
                Ok(r) => {
                    let subject = git::subject(dir)
                        .await
                        .unwrap_or_else(|| r.revision.clone());
                    let c = git::Commit {
                        revision: r.revision.clone(),
                        hash: r.commit.clone(),
                        subject,
                    };
                    checked_out = Some(r);
                    c
                }
                Err(e) => return Err(git_failed(status, &e)),
            },
        };
        conditions::delete(&mut status.conditions, ct::FETCH_FAILED);
        // Verification comes after the checkout and before anything is packaged; a no-op clone
        // was only taken when the stored revision is already verified in the current mode.
        match (&obj.spec.verify, &checked_out) {
            (None, _) => {
                status.source_verification_mode = None;
                conditions::delete(&mut status.conditions, ct::SOURCE_VERIFIED);
            }
            (Some(_), Some(r)) => {
                self.reconcile_verify(obj, status, redactor, dir, r, &opts.reference)
                    .await?;
            }
            // No-op clone: the stored revision was verified for this generation and mode.
            (Some(_), None) => {}
        }
        if status.artifact.as_ref().map(|a| a.revision.as_str()) != Some(commit.revision.as_str()) {
            let message = format!("new upstream revision '{}'", commit.revision);
            if status.artifact.is_some() {
                conditions::mark_true(
                    &mut status.conditions,
                    ct::ARTIFACT_OUTDATED,
                    NEW_REVISION,
                    &message,
                    generation,
                );
            }
            conditions::mark_true(
                &mut status.conditions,
                ct::RECONCILING,
                reason::PROGRESSING,
                &format!("building artifact: {message}"),
                generation,
            );
        }
        Ok(commit)
    }

    /// Verify step (`spec.verify`): check the signatures of the checked-out commit and/or tag
    /// against the public keys of `spec.verify.secretRef`; `SourceVerified` tells the outcome.
    async fn reconcile_verify(
        &self,
        obj: &GitRepository,
        status: &mut GitRepositoryStatus,
        redactor: &mut Redactor,
        dir: &Path,
        checkout: &::source::git::CheckoutResult,
        reference: &::source::git::GitRef,
    ) -> Result<(), ReconcileError> {
        use ::source::verify::{Keyring, VerifyError, VerifyMode, verify_checkout};
        let Some(verify) = &obj.spec.verify else {
            return Ok(());
        };
        let generation = obj.metadata.generation;
        let fail =
            |status: &mut GitRepositoryStatus, condition_reason: &str, err: ReconcileError| {
                conditions::mark_false(
                    &mut status.conditions,
                    ct::SOURCE_VERIFIED,
                    condition_reason,
                    &err.message,
                    generation,
                );
                err
            };
        let mode = match VerifyMode::parse(verify.mode.as_deref()) {
            Ok(m) => m,
            Err(e) => {
                let err = ReconcileError::terminal(INVALID_VERIFICATION_MODE, e.to_string());
                return Err(fail(status, INVALID_VERIFICATION_MODE, err));
            }
        };
        let namespace = obj.namespace().unwrap_or_default();
        let secret = &verify.secret_ref.name;
        let data = match self.secret_data(&namespace, secret, redactor).await {
            Ok(d) => d,
            Err(msg) => {
                let err = ReconcileError::transient(
                    VERIFICATION_ERROR,
                    format!("PGP public keys secret error: {msg}"),
                );
                return Err(fail(status, VERIFICATION_ERROR, err));
            }
        };
        let keyring = match Keyring::from_secret_data(&format!("{namespace}/{secret}"), &data) {
            Ok(k) => k,
            Err(e) => {
                let err = ReconcileError::transient(
                    VERIFICATION_ERROR,
                    format!("PGP public keys secret error: {e}"),
                );
                return Err(fail(status, VERIFICATION_ERROR, err));
            }
        };
        let verified = match verify_checkout(dir, checkout, reference, mode, &keyring).await {
            Ok(v) => v,
            Err(e) => {
                let (condition_reason, terminal, message) = match &e {
                    VerifyError::NotATag(_) => (
                        INVALID_VERIFICATION_MODE,
                        true,
                        "cannot verify tag object's signature if a tag reference is not specified"
                            .to_string(),
                    ),
                    VerifyError::Unsigned { object } => (
                        INVALID_GIT_OBJECT,
                        false,
                        format!("cannot verify signature of {object} since it is not signed"),
                    ),
                    VerifyError::Invalid { object, .. } if object.starts_with("tag ") => (
                        INVALID_TAG_SIGNATURE,
                        false,
                        format!("signature verification failed: {e}"),
                    ),
                    VerifyError::Invalid { .. } => (
                        INVALID_COMMIT_SIGNATURE,
                        false,
                        format!("signature verification failed: {e}"),
                    ),
                    _ => (
                        VERIFICATION_ERROR,
                        false,
                        format!("signature verification failed: {e}"),
                    ),
                };
                let message = redactor.apply(&message);
                // As Flux, Ready carries the specific reason of SourceVerified.
                let err = if terminal {
                    ReconcileError::terminal(condition_reason, message)
                } else {
                    ReconcileError::transient(condition_reason, message)
                };
                return Err(fail(status, condition_reason, err));
            }
        };
        let mut message = String::from("verified signature of");
        for v in &verified {
            message.push_str(&format!(
                "\n\t- {} with key '{}'",
                v.object,
                key_id(&v.key_fingerprint)
            ));
        }
        status.source_verification_mode = Some(mode_name(mode).to_string());
        conditions::mark_true(
            &mut status.conditions,
            ct::SOURCE_VERIFIED,
            reason::SUCCEEDED,
            &message,
            generation,
        );
        debug!("{message}");
        Ok(())
    }

    /// Reads a Secret of the object's namespace; every value is remembered by `redactor`. The
    /// error is Flux's message for a missing Secret.
    async fn secret_data(
        &self,
        namespace: &str,
        name: &str,
        redactor: &mut Redactor,
    ) -> Result<BTreeMap<String, Vec<u8>>, String> {
        let secrets: Api<Secret> = Api::namespaced(self.ctx.shared.client.clone(), namespace);
        match secrets.get(name).await {
            Ok(s) => Ok(git::secret_data(&s, redactor)),
            Err(e) => {
                let detail = match &e {
                    kube::Error::Api(s) => s.message.clone(),
                    other => other.to_string(),
                };
                Err(redactor.apply(&format!(
                    "failed to get secret '{namespace}/{name}': {detail}"
                )))
            }
        }
    }

    /// Include step: copy the artifacts of other GitRepositories into the checkout.
    async fn reconcile_include(
        &self,
        obj: &GitRepository,
        status: &mut GitRepositoryStatus,
        dir: &Path,
    ) -> Result<Vec<Artifact>, ReconcileError> {
        let generation = obj.metadata.generation;
        let api = self.api(&obj.namespace().unwrap_or_default());
        let mut artifacts = Vec::new();
        for include in &obj.spec.include {
            let name = &include.repository.name;
            let unavailable = |status: &mut GitRepositoryStatus, reason: &str, message: String| {
                let err = ReconcileError::transient(reason, message);
                conditions::mark_true(
                    &mut status.conditions,
                    ct::INCLUDE_UNAVAILABLE,
                    &err.reason,
                    &err.message,
                    generation,
                );
                err
            };
            let dep = match api.get_opt(name).await {
                Ok(Some(d)) => d,
                Ok(None) => {
                    return Err(unavailable(
                        status,
                        NOT_FOUND,
                        format!(
                            "could not get resource for include '{name}': gitrepositories.source.toolkit.fluxcd.io \"{name}\" not found"
                        ),
                    ));
                }
                Err(e) => {
                    return Err(unavailable(
                        status,
                        NOT_FOUND,
                        format!("could not get resource for include '{name}': {e}"),
                    ));
                }
            };
            let Some(artifact) = dep
                .status
                .and_then(|s| s.artifact)
                .filter(|a| self.ctx.storage.exists(a))
            else {
                return Err(unavailable(
                    status,
                    NO_ARTIFACT,
                    format!("no artifact available for include '{name}'"),
                ));
            };
            let from = include.from_path.clone().unwrap_or_default();
            let to = include.to_path.clone().unwrap_or_else(|| name.clone());
            let storage = self.ctx.storage.clone();
            let (a, d) = (artifact.clone(), dir.to_path_buf());
            let (f, t) = (from.clone(), to.clone());
            let copied = tokio::task::spawn_blocking(move || {
                storage
                    .include(&a, Some(&f), &d, &t)
                    .map_err(|e| e.to_string())
            })
            .await;
            match copied {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    return Err(unavailable(
                        status,
                        COPY_FAILED,
                        format!("failed to copy '{name}' include from {from} to {to}: {e}"),
                    ));
                }
                Err(e) => {
                    return Err(unavailable(
                        status,
                        COPY_FAILED,
                        format!("failed to copy '{name}' include: {e}"),
                    ));
                }
            }
            artifacts.push(artifact);
        }
        conditions::delete(&mut status.conditions, ct::INCLUDE_UNAVAILABLE);
        Ok(artifacts)
    }

    /// Artifact step: package the checkout unless the stored artifact already matches the
    /// revision and the ignore/include/sparse/submodule settings.
    async fn reconcile_artifact(
        &self,
        obj: &GitRepository,
        status: &mut GitRepositoryStatus,
        commit: &git::Commit,
        included: Vec<Artifact>,
        dir: &Path,
    ) -> Result<(), ReconcileError> {
        let generation = obj.metadata.generation;
        let spec = &obj.spec;
        let unchanged = status
            .artifact
            .as_ref()
            .is_some_and(|a| a.revision == commit.revision)
            && status.observed_ignore == spec.ignore
            && status.observed_include == spec.include
            && status.observed_sparse_checkout == spec.sparse_checkout
            && status.observed_recurse_submodules.unwrap_or(false)
                == spec.recurse_submodules.unwrap_or(false)
            && same_digests(&status.included_artifacts, &included);
        if unchanged {
            debug!(
                "artifact up-to-date with remote revision: '{}'",
                commit.revision
            );
        } else {
            let storage = self.ctx.storage.clone();
            let namespace = obj.namespace().unwrap_or_default();
            let mut artifact = storage.new_artifact(
                KIND,
                &namespace,
                &obj.name_any(),
                &commit.revision,
                &format!("{}.tar.gz", commit.hash),
            );
            let (d, ignore) = (dir.to_path_buf(), spec.ignore.clone());
            let packed = tokio::task::spawn_blocking(move || -> Result<Artifact, String> {
                let _lock = storage.lock(&artifact).map_err(|e| e.to_string())?;
                let rules = ::source::ignore::IgnoreRules::load(&d, ignore.as_deref())
                    .map_err(|e| e.to_string())?;
                storage
                    .archive(&mut artifact, &d, &rules)
                    .map_err(|e| e.to_string())?;
                Ok(artifact)
            })
            .await;
            let artifact = match packed {
                Ok(Ok(a)) => a,
                Ok(Err(e)) => {
                    return Err(storage_failed(
                        status,
                        generation,
                        ARCHIVE_FAILED,
                        format!("unable to archive artifact to storage: {e}"),
                    ));
                }
                Err(e) => {
                    return Err(storage_failed(
                        status,
                        generation,
                        ARCHIVE_FAILED,
                        format!("unable to archive artifact to storage: {e}"),
                    ));
                }
            };
            status.artifact = Some(artifact);
            status.included_artifacts = included;
            status.observed_ignore = spec.ignore.clone();
            status.observed_include = spec.include.clone();
            status.observed_sparse_checkout = spec.sparse_checkout.clone();
            status.observed_recurse_submodules = spec.recurse_submodules;
        }
        conditions::delete(&mut status.conditions, ct::ARTIFACT_OUTDATED);
        conditions::mark_true(
            &mut status.conditions,
            ct::ARTIFACT_IN_STORAGE,
            reason::SUCCEEDED,
            &format!("stored artifact for revision '{}'", commit.revision),
            generation,
        );
        Ok(())
    }
}

fn storage_failed(
    status: &mut GitRepositoryStatus,
    generation: Option<i64>,
    reason: &str,
    message: String,
) -> ReconcileError {
    let err = ReconcileError::transient(reason, message);
    conditions::mark_true(
        &mut status.conditions,
        ct::STORAGE_OPERATION_FAILED,
        &err.reason,
        &err.message,
        generation,
    );
    err
}

/// True when `spec.verify` asks for a verification the stored artifact has not passed for the
/// current generation and mode; then the no-op clone is not taken and the checkout is verified.
/// Any spec change (another key Secret, another mode) thus re-verifies.
fn requires_verification(obj: &GitRepository, status: &GitRepositoryStatus) -> bool {
    let Some(verify) = &obj.spec.verify else {
        return false;
    };
    let Ok(mode) = ::source::verify::VerifyMode::parse(verify.mode.as_deref()) else {
        return true;
    };
    let verified = conditions::find(&status.conditions, ct::SOURCE_VERIFIED)
        .is_some_and(|c| c.status == "True" && c.observed_generation == obj.metadata.generation);
    !verified || status.source_verification_mode.as_deref() != Some(mode_name(mode))
}

/// The CRD spelling of a mode, legacy `head` normalised to `HEAD` (`status.sourceVerificationMode`).
fn mode_name(mode: ::source::verify::VerifyMode) -> &'static str {
    use ::source::verify::VerifyMode;
    match mode {
        VerifyMode::Head => "HEAD",
        VerifyMode::Tag => "Tag",
        VerifyMode::TagAndHead => "TagAndHEAD",
    }
}

/// The 64-bit key ID of a v4 fingerprint (its last 16 hex digits), as GnuPG prints it.
fn key_id(fingerprint: &str) -> &str {
    let n = fingerprint.len();
    if n > 16 && fingerprint.is_char_boundary(n - 16) {
        &fingerprint[n - 16..]
    } else {
        fingerprint
    }
}

fn same_digests(a: &[Artifact], b: &[Artifact]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.digest == y.digest)
}

/// The adapter between the reconciler and `source::git`: credentials from a Secret, the error
/// classification into Flux's reasons, and the commit subject for events.
mod git {
    use std::collections::BTreeMap;
    use std::path::Path;

    use ::source::git::{GitAuth, GitError};
    use api::meta::reason;
    use k8s_openapi::api::core::v1::Secret;

    use crate::runtime::redact::Redactor;

    /// The resolved commit.
    pub struct Commit {
        /// Flux revision, e.g. `main@sha1:<hex>`.
        pub revision: String,
        /// Commit id in hex.
        pub hash: String,
        /// First line of the commit message (the revision when not checked out).
        pub subject: String,
    }

    /// The Secret's data (`data` and `stringData`), every value remembered by `redactor`.
    pub fn secret_data(secret: &Secret, redactor: &mut Redactor) -> BTreeMap<String, Vec<u8>> {
        let mut map = BTreeMap::new();
        for (k, v) in secret.data.iter().flatten() {
            map.insert(k.clone(), v.0.clone());
        }
        for (k, v) in secret.string_data.iter().flatten() {
            map.insert(k.clone(), v.as_bytes().to_vec());
        }
        for (k, v) in &map {
            // Identifiers and public material stay readable (masking a username such as
            // `flux` would mangle `flux-system` in every message); everything else is masked.
            if !PUBLIC_KEYS.contains(&k.as_str()) {
                redactor.add(&String::from_utf8_lossy(v));
            }
        }
        map
    }

    /// Secret keys whose values are not confidential.
    const PUBLIC_KEYS: &[&str] = &[
        "username",
        "ca.crt",
        "caFile",
        "known_hosts",
        "identity.pub",
        "address",
    ];

    /// Auth options for `url` from a Secret's data.
    pub fn auth(
        url: &str,
        secret: &str,
        data: &BTreeMap<String, Vec<u8>>,
    ) -> Result<GitAuth, GitError> {
        GitAuth::from_secret_data(url, secret, data)
    }

    /// Flux's reason for a Git failure, and whether only a spec change can fix it.
    pub fn classify(err: &GitError) -> (&'static str, bool) {
        match err {
            GitError::InvalidUrl { .. } => (reason::URL_INVALID, true),
            GitError::InvalidSemver(_) => (reason::GIT_OPERATION_FAILED, true),
            GitError::InvalidSecret { .. } | GitError::MissingKnownHosts { .. } => {
                (reason::AUTHENTICATION_FAILED, false)
            }
            _ => (reason::GIT_OPERATION_FAILED, false),
        }
    }

    /// The first line of HEAD's message in a checkout.
    pub async fn subject(dir: &Path) -> Option<String> {
        let out = tokio::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["log", "-1", "--format=%s"])
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .await
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verification_observations() {
        assert_eq!(
            key_id("0123456789ABCDEF0123456789ABCDEF01234567"),
            "89ABCDEF01234567"
        );
        assert_eq!(key_id("ABCD"), "ABCD");
        use ::source::verify::VerifyMode;
        assert_eq!(mode_name(VerifyMode::parse(Some("head")).unwrap()), "HEAD");
        assert_eq!(mode_name(VerifyMode::TagAndHead), "TagAndHEAD");

        let mut obj = GitRepository::new("r", Default::default());
        obj.metadata.generation = Some(2);
        let mut status = GitRepositoryStatus::default();
        assert!(!requires_verification(&obj, &status));
        obj.spec.verify = Some(api::source::GitRepositoryVerification {
            mode: Some("head".into()),
            secret_ref: api::meta::LocalObjectReference { name: "k".into() },
        });
        assert!(requires_verification(&obj, &status));
        conditions::mark_true(
            &mut status.conditions,
            ct::SOURCE_VERIFIED,
            "Succeeded",
            "ok",
            Some(2),
        );
        status.source_verification_mode = Some("HEAD".into());
        assert!(!requires_verification(&obj, &status));
        // Another mode or another generation verifies again.
        obj.spec.verify.as_mut().unwrap().mode = Some("TagAndHEAD".into());
        assert!(requires_verification(&obj, &status));
        obj.spec.verify.as_mut().unwrap().mode = None;
        obj.metadata.generation = Some(3);
        assert!(requires_verification(&obj, &status));
    }

    #[test]
    fn only_confidential_secret_values_are_masked() {
        let secret = Secret {
            string_data: Some(
                [
                    ("username", "flux"),
                    ("password", "hunter2-pass"),
                    ("bearerToken", "tok-abcdef"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ),
            ..Default::default()
        };
        let mut r = Redactor::new();
        let data = git::secret_data(&secret, &mut r);
        assert_eq!(data.len(), 3);
        assert_eq!(
            r.apply("flux-system: user flux, password hunter2-pass, token tok-abcdef"),
            "flux-system: user flux, password *****, token *****"
        );
    }

    #[test]
    fn git_errors_map_to_flux_reasons() {
        use ::source::git::GitError;
        let (r, terminal) = git::classify(&GitError::InvalidUrl {
            url: "x".into(),
            reason: "y".into(),
        });
        assert_eq!((r, terminal), ("URLInvalid", true));
        let (r, terminal) = git::classify(&GitError::Auth {
            url: "x".into(),
            detail: "denied".into(),
        });
        assert_eq!((r, terminal), ("GitOperationFailed", false));
        let (r, terminal) = git::classify(&GitError::InvalidSecret {
            secret: "s".into(),
            reason: "r".into(),
        });
        assert_eq!((r, terminal), ("AuthenticationFailed", false));
    }
}
