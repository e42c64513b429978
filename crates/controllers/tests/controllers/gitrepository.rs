//! GitRepository reconciler scenarios: ready with revision and digest, new commits, unchanged
//! revisions, failures with Flux's reasons, credentials, suspend, deletion, includes and
//! OpenPGP signature verification (`spec.verify`) of commits and tags signed by real `gpg`.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use api::meta::Condition;
use api::source::{GitRepository, GitRepositorySpec};
use k8s_openapi::api::core::v1::{Event, Secret};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::gitserver::{Auth, GitServer};
use crate::harness::{self, eventually, http_get, wait_for};

const WAIT: Duration = Duration::from_secs(30);

/// One test's world: a namespace, a manager watching it, a storage dir.
struct World {
    client: Client,
    ns: String,
    repos: Api<GitRepository>,
    storage: tempfile::TempDir,
    manager: Option<controllers::RunningManager>,
}

impl World {
    async fn new() -> Result<Self> {
        let client = harness::client().await?;
        let ns = harness::namespace(&client).await?;
        let storage = tempfile::tempdir()?;
        let manager = harness::manager(&client, harness::options(&ns, storage.path())).await?;
        let repos = Api::namespaced(client.clone(), &ns);
        Ok(Self {
            client,
            ns,
            repos,
            storage,
            manager: Some(manager),
        })
    }

    async fn create(&self, name: &str, spec: GitRepositorySpec) -> Result<()> {
        let obj = GitRepository::new(name, spec);
        self.repos
            .create(&PostParams::default(), &obj)
            .await
            .context("creating GitRepository")?;
        Ok(())
    }

    async fn get(&self, name: &str) -> Result<GitRepository> {
        Ok(self.repos.get(name).await?)
    }

    /// Waits until `Ready` has `status` for the current generation.
    async fn wait_ready(&self, name: &str, status: &str) -> Result<GitRepository> {
        let r = wait_for(WAIT, || {
            let repos = self.repos.clone();
            async move {
                let obj = repos.get(name).await?;
                let ok = cond(&obj, "Ready").is_some_and(|c| {
                    c.status == status && c.observed_generation == obj.metadata.generation
                });
                Ok(ok.then_some(obj))
            }
        })
        .await;
        match r {
            Ok(o) => Ok(o),
            Err(e) => bail!(
                "{e:#}; last status: {:?}",
                self.repos.get(name).await.ok().and_then(|o| o.status)
            ),
        }
    }

    /// Sets `reconcile.fluxcd.io/requestedAt` to a fresh value and waits until it is handled.
    async fn request_reconcile(&self, name: &str) -> Result<GitRepository> {
        harness::request_reconcile(&self.repos, name, WAIT, |o| {
            o.status
                .as_ref()
                .and_then(|s| s.last_handled_reconcile_at.clone())
        })
        .await
    }

    async fn events(&self, name: &str) -> Result<Vec<Event>> {
        let api: Api<Event> = Api::namespaced(self.client.clone(), &self.ns);
        let list = api.list(&ListParams::default()).await?;
        Ok(list
            .items
            .into_iter()
            .filter(|e| e.involved_object.name.as_deref() == Some(name))
            .collect())
    }

    async fn secret(&self, name: &str, data: &[(&str, &str)]) -> Result<()> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), &self.ns);
        let mut s = Secret::default();
        s.metadata.name = Some(name.into());
        s.string_data = Some(
            data.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        );
        api.create(&PostParams::default(), &s).await?;
        Ok(())
    }

    async fn stop(&mut self) {
        if let Some(m) = self.manager.take() {
            let _ = m.shutdown().await;
        }
    }
}

fn cond(obj: &GitRepository, t: &str) -> Option<Condition> {
    obj.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.r#type == t)
        .cloned()
}

fn spec(url: &str, branch: &str) -> GitRepositorySpec {
    GitRepositorySpec {
        url: url.into(),
        interval: "10m".into(),
        r#ref: Some(api::source::GitRepositoryRef {
            branch: Some(branch.into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Downloads an artifact, checks its digest, extracts it; returns the extracted file list.
async fn fetch_artifact(obj: &GitRepository) -> Result<Vec<String>> {
    let a = obj
        .status
        .as_ref()
        .and_then(|s| s.artifact.clone())
        .context("artifact")?;
    let (code, body) = http_get(&a.url).await?;
    assert_eq!(code, 200, "artifact download {}", a.url);
    let digest = format!("sha256:{:x}", Sha256::digest(&body));
    assert_eq!(digest, a.digest, "artifact digest");
    assert_eq!(a.size, Some(body.len() as i64));
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("x");
    source::fetch::extract_tar_gz(&body[..], &out, &source::fetch::FetchLimits::default())?;
    let mut files = Vec::new();
    collect(&out, &out, &mut files)?;
    files.sort();
    Ok(files)
}

fn collect(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) -> Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            collect(root, &e.path(), out)?;
        } else {
            out.push(e.path().strip_prefix(root)?.display().to_string());
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_new_commit_unchanged_and_delete() -> Result<()> {
    let git = GitServer::start(Auth::None).await?;
    let repo = git.create_repo(
        "app",
        &[
            ("deploy/app.yaml", "kind: ConfigMap\n"),
            (".github/workflows/ci.yaml", "on: push\n"),
            ("logo.png", "png"),
        ],
    )?;
    let head = repo.git(&["rev-parse", "HEAD"])?.trim().to_string();
    let mut w = World::new().await?;
    w.create("app", spec(&git.url("app"), "main")).await?;

    // Ready with Flux's revision, message, digest and layout.
    let obj = w.wait_ready("app", "True").await?;
    let status = obj.status.clone().unwrap();
    let artifact = status.artifact.clone().unwrap();
    let revision = format!("main@sha1:{head}");
    assert_eq!(artifact.revision, revision);
    assert_eq!(
        artifact.path,
        format!("gitrepository/{}/app/{head}.tar.gz", w.ns)
    );
    let ready = cond(&obj, "Ready").unwrap();
    assert_eq!(ready.reason, "Succeeded");
    assert_eq!(
        ready.message,
        format!("stored artifact for revision '{revision}'")
    );
    let ais = cond(&obj, "ArtifactInStorage").unwrap();
    assert_eq!(
        (ais.status.as_str(), ais.reason.as_str()),
        ("True", "Succeeded")
    );
    assert!(
        cond(&obj, "Reconciling").is_none(),
        "Reconciling removed on success"
    );
    assert_eq!(status.observed_generation, Some(1));
    assert!(
        obj.metadata
            .finalizers
            .clone()
            .unwrap_or_default()
            .contains(&"finalizers.fluxcd.io".to_string())
    );
    assert!(artifact.digest.starts_with("sha256:") && artifact.digest.len() == 71);
    // Flux's default excludes drop CI config and images.
    assert_eq!(
        fetch_artifact(&obj).await?,
        vec!["deploy/app.yaml".to_string()]
    );
    let ready_time = ready.last_transition_time.clone();

    let events = w.events("app").await?;
    let new_artifact: Vec<_> = events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("NewArtifact"))
        .collect();
    assert_eq!(new_artifact.len(), 1, "{events:?}");
    let ev = new_artifact[0];
    assert_eq!(ev.type_.as_deref(), Some("Normal"));
    assert_eq!(
        ev.message.as_deref(),
        Some("stored artifact for commit 'initial commit'")
    );
    assert_eq!(
        ev.source.as_ref().and_then(|s| s.component.as_deref()),
        Some("source-controller")
    );
    assert_eq!(ev.involved_object.kind.as_deref(), Some("GitRepository"));
    let ann = ev.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(
        ann.get("source.toolkit.fluxcd.io/revision"),
        Some(&revision)
    );
    assert_eq!(
        ann.get("source.toolkit.fluxcd.io/digest"),
        Some(&artifact.digest)
    );

    // Unchanged upstream: a reconcile request stores nothing new and records no event.
    let obj = w.request_reconcile("app").await?;
    let again = obj.status.clone().unwrap().artifact.unwrap();
    assert_eq!(
        again, artifact,
        "artifact untouched when the revision is unchanged"
    );
    assert_eq!(
        cond(&obj, "Ready").unwrap().last_transition_time,
        ready_time
    );
    let count = |evs: &[Event]| {
        evs.iter()
            .filter(|e| e.reason.as_deref() == Some("NewArtifact"))
            .count()
    };
    assert_eq!(count(&w.events("app").await?), 1);

    // A new commit: new artifact, new event naming the commit.
    let second = repo.commit(
        &[("deploy/extra.yaml", "kind: Secret\n")],
        "add extra manifest",
    )?;
    let obj = w.request_reconcile("app").await?;
    let new = obj.status.clone().unwrap().artifact.unwrap();
    assert_eq!(new.revision, format!("main@sha1:{second}"));
    assert_ne!(new.digest, artifact.digest);
    assert_eq!(
        fetch_artifact(&obj).await?,
        vec![
            "deploy/app.yaml".to_string(),
            "deploy/extra.yaml".to_string()
        ]
    );
    let events = w.events("app").await?;
    assert_eq!(count(&events), 2);
    assert!(
        events.iter().any(
            |e| e.message.as_deref() == Some("stored artifact for commit 'add extra manifest'")
        )
    );
    // Retention: the current artifact and one previous are kept (Flux's default of 2 records).
    let dir = w.storage.path().join(format!("gitrepository/{}/app", w.ns));
    assert!(dir.join(format!("{second}.tar.gz")).is_file());
    assert!(dir.join(format!("{head}.tar.gz")).is_file());
    let third = repo.commit(&[("deploy/third.yaml", "kind: Service\n")], "third")?;
    w.request_reconcile("app").await?;
    // The storage step of the next reconcile collects what exceeds the retention.
    w.request_reconcile("app").await?;
    let mut stored: Vec<String> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tar.gz"))
        .collect();
    stored.sort();
    let mut want = vec![format!("{second}.tar.gz"), format!("{third}.tar.gz")];
    want.sort();
    assert_eq!(stored, want, "garbage collection keeps two records");

    // Bad input after success: Ready=False with Flux's messages, nothing stored is lost.
    let kept = w.get("app").await?.status.unwrap().artifact.unwrap();
    let patch = json!({"spec": {"url": git.url("gone")}});
    w.repos
        .patch("app", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    let obj = w.wait_ready("app", "False").await?;
    let st = obj.status.clone().unwrap();
    assert_eq!(
        st.artifact.as_ref(),
        Some(&kept),
        "the last good artifact stays"
    );
    assert_eq!(
        st.observed_generation,
        Some(1),
        "a transient failure does not observe the new generation"
    );
    let rec = cond(&obj, "Reconciling").unwrap();
    assert_eq!(
        (rec.reason.as_str(), rec.message.as_str()),
        (
            "ProgressingWithRetry",
            "processing object: new generation 1 -> 2"
        )
    );
    assert_eq!(cond(&obj, "ArtifactInStorage").unwrap().status, "True");
    assert_eq!(
        fetch_artifact(&obj).await?.len(),
        3,
        "the stored artifact is still served"
    );

    // Delete: finalizer handled, object gone, artifacts garbage-collected.
    w.repos.delete("app", &DeleteParams::default()).await?;
    let repos = w.repos.clone();
    eventually(WAIT, || {
        let repos = repos.clone();
        async move { Ok(repos.get_opt("app").await?.is_none()) }
    })
    .await
    .context("object deleted after finalizer removal")?;
    assert!(!dir.exists(), "artifacts of the deleted object removed");
    w.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_report_flux_reasons() -> Result<()> {
    let git = GitServer::start(Auth::None).await?;
    git.create_repo("exists", &[("a.yaml", "a: 1\n")])?;
    let mut w = World::new().await?;

    // Unknown repository on a live server.
    w.create("missing-repo", spec(&git.url("nope"), "main"))
        .await?;
    // Unknown branch.
    w.create("missing-branch", spec(&git.url("exists"), "does-not-exist"))
        .await?;
    // Missing Secret.
    let mut s = spec(&git.url("exists"), "main");
    s.secret_ref = Some(api::meta::LocalObjectReference {
        name: "absent".into(),
    });
    w.create("missing-secret", s).await?;
    // Invalid semver constraint: terminal.
    let mut s = spec(&git.url("exists"), "main");
    s.r#ref = Some(api::source::GitRepositoryRef {
        semver: Some(">= not-a-version".into()),
        ..Default::default()
    });
    w.create("bad-semver", s).await?;

    for name in ["missing-repo", "missing-branch"] {
        let obj = w.wait_ready(name, "False").await?;
        let ready = cond(&obj, "Ready").unwrap();
        assert_eq!(ready.reason, "GitOperationFailed", "{name}: {ready:?}");
        assert!(
            ready
                .message
                .starts_with("failed to checkout and determine revision: "),
            "{ready:?}"
        );
        let ff = cond(&obj, "FetchFailed").unwrap();
        assert_eq!(
            (ff.status.as_str(), ff.reason.as_str()),
            ("True", "GitOperationFailed")
        );
        let rec = cond(&obj, "Reconciling").unwrap();
        assert_eq!(rec.reason, "ProgressingWithRetry");
        assert!(cond(&obj, "Stalled").is_none());
        assert!(obj.status.as_ref().unwrap().artifact.is_none());
        // Neither ready nor stalled: observedGeneration keeps the CRD default (Flux semantics).
        assert_eq!(obj.status.as_ref().unwrap().observed_generation, Some(-1));
        assert_eq!(rec.message, "no artifact for resource in storage");
    }
    let obj = w.get("missing-branch").await?;
    assert!(
        cond(&obj, "Ready")
            .unwrap()
            .message
            .contains("does-not-exist"),
        "{:?}",
        cond(&obj, "Ready")
    );

    let obj = w.wait_ready("missing-secret", "False").await?;
    let ready = cond(&obj, "Ready").unwrap();
    assert_eq!(ready.reason, "AuthenticationFailed");
    assert_eq!(
        ready.message,
        format!(
            "failed to get secret '{}/absent': secrets \"absent\" not found",
            w.ns
        )
    );

    let obj = w.wait_ready("bad-semver", "False").await?;
    let stalled = cond(&obj, "Stalled").context("Stalled on an invalid semver constraint")?;
    assert_eq!(stalled.status, "True");
    assert!(cond(&obj, "Reconciling").is_none());
    assert_eq!(obj.status.as_ref().unwrap().observed_generation, Some(1));
    // Terminal: no retries until the spec changes (the retry delay in tests is 200ms..2s).
    let warnings = |evs: Vec<Event>| {
        evs.iter()
            .filter(|e| e.type_.as_deref() == Some("Warning"))
            .map(|e| e.count.unwrap_or(1))
            .sum::<i32>()
    };
    // The Warning event is recorded right after the status patch: wait for it first.
    let before = wait_for(WAIT, || {
        let evs = w.events("bad-semver");
        async move { Ok(Some(warnings(evs.await?)).filter(|n| *n > 0)) }
    })
    .await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        warnings(w.events("bad-semver").await?),
        before,
        "a stalled object is not retried"
    );
    // A spec change un-stalls it.
    let patch = json!({"spec": {"ref": {"semver": ">=1.0.0", "branch": null}}});
    w.repos
        .patch("bad-semver", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    let repos = w.repos.clone();
    eventually(WAIT, || {
        let repos = repos.clone();
        async move {
            let o = repos.get("bad-semver").await?;
            Ok(o.metadata.generation == Some(2)
                && cond(&o, "Stalled").is_none()
                && cond(&o, "FetchFailed").is_some())
        }
    })
    .await
    .context("spec change retries a stalled object (now: no tag matches)")?;

    // Retries with backoff fold identical Warning events into one with a growing count.
    let folded = wait_for(WAIT, || {
        let evs = w.events("missing-repo");
        async move {
            let evs = evs.await?;
            let warnings: Vec<_> = evs
                .into_iter()
                .filter(|e| e.type_.as_deref() == Some("Warning"))
                .collect();
            Ok(warnings
                .iter()
                .find(|e| e.count.unwrap_or(1) >= 2)
                .map(|e| (e.clone(), warnings.len())))
        }
    })
    .await
    .context("aggregated warning event")?;
    assert_eq!(folded.1, 1, "one Event object for the repeated failure");
    assert_eq!(folded.0.reason.as_deref(), Some("GitOperationFailed"));
    assert!(folded.0.last_timestamp >= folded.0.first_timestamp);

    // spec.verify without its key Secret: not verified, no artifact, retried (not stalled).
    let mut s = spec(&git.url("exists"), "main");
    s.verify = Some(api::source::GitRepositoryVerification {
        mode: Some("HEAD".into()),
        secret_ref: api::meta::LocalObjectReference {
            name: "pgp-keys".into(),
        },
    });
    w.create("verify", s).await?;
    let obj = w.wait_ready("verify", "False").await?;
    let sv = cond(&obj, "SourceVerified").context("SourceVerified")?;
    assert_eq!(sv.status, "False");
    assert!(
        sv.message.contains("PGP public keys secret error"),
        "{sv:?}"
    );
    // As Flux, Ready carries SourceVerified's reason.
    assert_eq!(cond(&obj, "Ready").unwrap().reason, sv.reason);
    assert_eq!(sv.reason, "VerificationError");
    assert!(cond(&obj, "Stalled").is_none());
    assert!(obj.status.unwrap().artifact.is_none());

    // Warning events carry the failure reason.
    let events = w.events("missing-secret").await?;
    assert!(
        events.iter().any(|e| e.type_.as_deref() == Some("Warning")
            && e.reason.as_deref() == Some("AuthenticationFailed")),
        "{events:?}"
    );

    // Creating the Secret fixes it on the next retry, without touching the object.
    w.secret("absent", &[]).await?;
    let obj = w.wait_ready("missing-secret", "True").await?;
    assert!(cond(&obj, "FetchFailed").is_none());
    w.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_never_leak() -> Result<()> {
    let basic =
        GitServer::start(Auth::Basic("flux".into(), "correct-horse-battery".into())).await?;
    basic.create_repo("private", &[("x.yaml", "x: 1\n")])?;
    let bearer = GitServer::start(Auth::Bearer("tok-0123456789abcdef".into())).await?;
    bearer.create_repo("private", &[("y.yaml", "y: 1\n")])?;
    let mut w = World::new().await?;
    w.secret(
        "good",
        &[("username", "flux"), ("password", "correct-horse-battery")],
    )
    .await?;
    w.secret(
        "bad",
        &[("username", "flux"), ("password", "wrong-password-value")],
    )
    .await?;
    w.secret("token", &[("bearerToken", "tok-0123456789abcdef")])
        .await?;
    let with_secret = |url: String, secret: &str| {
        let mut s = spec(&url, "main");
        s.secret_ref = Some(api::meta::LocalObjectReference {
            name: secret.into(),
        });
        s
    };
    w.create("basic-ok", with_secret(basic.url("private"), "good"))
        .await?;
    w.create("basic-bad", with_secret(basic.url("private"), "bad"))
        .await?;
    w.create("bearer-ok", with_secret(bearer.url("private"), "token"))
        .await?;
    // Credentials in the URL itself must be masked too.
    let leaky = basic
        .url("private")
        .replace("http://", "http://flux:url-secret-pw@");
    w.create(
        "url-creds",
        spec(&leaky.replace("private", "nothere"), "main"),
    )
    .await?;

    w.wait_ready("basic-ok", "True").await?;
    w.wait_ready("bearer-ok", "True").await?;
    let bad = w.wait_ready("basic-bad", "False").await?;
    assert_eq!(cond(&bad, "Ready").unwrap().reason, "GitOperationFailed");
    let leak = w.wait_ready("url-creds", "False").await?;

    let mut texts = Vec::new();
    for obj in [&bad, &leak] {
        texts.push(serde_json::to_string(&obj.status)?);
    }
    for name in ["basic-ok", "basic-bad", "bearer-ok", "url-creds"] {
        texts.push(serde_json::to_string(&w.events(name).await?)?);
    }
    // Logs: Flux's keys on the failure line, and no secret anywhere (debug level included).
    let logs = harness::logs();
    let lines = logs.lines();
    let failure = lines
        .iter()
        .find(|l| l["name"] == "basic-bad" && l["level"] == "error")
        .context("error log line for basic-bad")?;
    assert_eq!(failure["msg"], "Reconciler error");
    assert_eq!(failure["controllerGroup"], "source.toolkit.fluxcd.io");
    assert_eq!(failure["controllerKind"], "GitRepository");
    assert_eq!(failure["namespace"], w.ns.as_str());
    assert!(
        failure["reconcileID"]
            .as_str()
            .is_some_and(|s| s.len() == 36)
    );
    assert!(
        failure["error"]
            .as_str()
            .is_some_and(|e| e.contains("failed to checkout and determine revision"))
    );
    let ok = lines
        .iter()
        .find(|l| {
            l["name"] == "basic-ok" && l["msg"] == "stored artifact for commit 'initial commit'"
        })
        .context("info log line for basic-ok")?;
    assert!(
        ok["revision"]
            .as_str()
            .is_some_and(|r| r.starts_with("main@sha1:"))
    );
    texts.push(logs.text());
    for t in &texts {
        for secret in [
            "correct-horse-battery",
            "wrong-password-value",
            "tok-0123456789abcdef",
            "url-secret-pw",
        ] {
            assert!(!t.contains(secret), "secret {secret} leaked in {t}");
        }
    }
    w.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspend_is_honoured() -> Result<()> {
    let git = GitServer::start(Auth::None).await?;
    let repo = git.create_repo("s", &[("a.yaml", "a: 1\n")])?;
    let mut w = World::new().await?;
    w.create("s", spec(&git.url("s"), "main")).await?;
    let first = w
        .wait_ready("s", "True")
        .await?
        .status
        .unwrap()
        .artifact
        .unwrap();

    let patch = json!({"spec": {"suspend": true}});
    w.repos
        .patch("s", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    let newer = repo.commit(&[("b.yaml", "b: 1\n")], "second")?;
    let value = harness::unique("req");
    let patch = json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": value}}});
    w.repos
        .patch("s", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let obj = w.get("s").await?;
    let st = obj.status.clone().unwrap();
    assert_eq!(
        st.artifact.unwrap(),
        first,
        "suspended object not reconciled"
    );
    assert_ne!(
        st.last_handled_reconcile_at.as_deref(),
        Some(value.as_str())
    );

    let patch = json!({"spec": {"suspend": false}});
    w.repos
        .patch("s", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    let obj = w.wait_ready("s", "True").await?;
    let repos = w.repos.clone();
    let want = format!("main@sha1:{newer}");
    eventually(WAIT, || {
        let repos = repos.clone();
        let want = want.clone();
        async move {
            let o = repos.get("s").await?;
            Ok(o.status
                .and_then(|s| s.artifact)
                .is_some_and(|a| a.revision == want))
        }
    })
    .await
    .with_context(|| {
        format!(
            "resumed object picks up the new commit; was {:?}",
            obj.status
        )
    })?;
    w.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignore_and_include() -> Result<()> {
    let git = GitServer::start(Auth::None).await?;
    let lib = git.create_repo(
        "lib",
        &[
            ("config/base.yaml", "base: 1\n"),
            ("config/skip.txt", "no\n"),
            ("README.md", "lib\n"),
        ],
    )?;
    git.create_repo(
        "app",
        &[("app.yaml", "app: 1\n"), ("docs/guide.md", "guide\n")],
    )?;
    let mut w = World::new().await?;
    w.create("lib", spec(&git.url("lib"), "main")).await?;
    w.wait_ready("lib", "True").await?;
    let mut s = spec(&git.url("app"), "main");
    s.ignore = Some("/docs/\n".into());
    s.include = vec![api::source::GitRepositoryInclude {
        repository: api::meta::LocalObjectReference { name: "lib".into() },
        from_path: Some("config".into()),
        to_path: Some("vendor/lib".into()),
    }];
    w.create("app", s).await?;
    let obj = w.wait_ready("app", "True").await?;
    let files = fetch_artifact(&obj).await?;
    assert_eq!(
        files,
        vec![
            "app.yaml".to_string(),
            "vendor/lib/base.yaml".to_string(),
            "vendor/lib/skip.txt".to_string()
        ]
    );
    let st = obj.status.unwrap();
    assert_eq!(st.observed_ignore.as_deref(), Some("/docs/\n"));
    assert_eq!(st.observed_include.len(), 1);
    assert_eq!(st.included_artifacts.len(), 1);
    let app_digest = st.artifact.unwrap().digest;

    // A new revision of the included repository rebuilds the including artifact.
    lib.commit(&[("config/new.yaml", "new: 1\n")], "lib change")?;
    let lib_obj = w.request_reconcile("lib").await?;
    let lib_artifact = lib_obj.status.unwrap().artifact.unwrap();
    let obj = w.request_reconcile("app").await?;
    let st = obj.status.clone().unwrap();
    assert_eq!(st.included_artifacts[0].digest, lib_artifact.digest);
    assert_ne!(st.artifact.unwrap().digest, app_digest);
    assert!(
        fetch_artifact(&obj)
            .await?
            .contains(&"vendor/lib/new.yaml".to_string())
    );

    // Sparse checkout: only the listed directories end up in the artifact.
    let mut s = spec(&git.url("lib"), "main");
    s.sparse_checkout = vec!["config".into()];
    w.create("sparse", s).await?;
    let obj = w.wait_ready("sparse", "True").await?;
    assert_eq!(
        fetch_artifact(&obj).await?,
        vec![
            "config/base.yaml".to_string(),
            "config/new.yaml".to_string(),
            "config/skip.txt".to_string()
        ]
    );
    assert_eq!(
        obj.status.unwrap().observed_sparse_checkout,
        vec!["config".to_string()]
    );

    // An include that does not exist: IncludeUnavailable.
    let mut s = spec(&git.url("app"), "main");
    s.include = vec![api::source::GitRepositoryInclude {
        repository: api::meta::LocalObjectReference {
            name: "ghost".into(),
        },
        ..Default::default()
    }];
    w.create("broken", s).await?;
    let obj = w.wait_ready("broken", "False").await?;
    let iu = cond(&obj, "IncludeUnavailable").context("IncludeUnavailable")?;
    assert_eq!(iu.reason, "NotFound");
    assert_eq!(cond(&obj, "Ready").unwrap().reason, "NotFound");
    assert!(
        iu.message
            .contains("could not get resource for include 'ghost'"),
        "{iu:?}"
    );
    w.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_ref_kind() -> Result<()> {
    let git = GitServer::start(Auth::None).await?;
    let repo = git.create_repo("refs", &[("a.yaml", "v: 1\n")])?;
    let c1 = repo.git(&["rev-parse", "HEAD"])?.trim().to_string();
    repo.tag("v1.0.0")?;
    let c2 = repo.commit(&[("a.yaml", "v: 2\n")], "two")?;
    repo.tag("v1.1.0")?;
    let c3 = repo.commit(&[("a.yaml", "v: 3\n")], "three")?;
    repo.tag("v2.0.0")?;
    let mut w = World::new().await?;
    let with_ref = |r: api::source::GitRepositoryRef| GitRepositorySpec {
        url: git.url("refs"),
        interval: "10m".into(),
        r#ref: Some(r),
        ..Default::default()
    };
    let r = api::source::GitRepositoryRef::default;
    w.create(
        "tag",
        with_ref(api::source::GitRepositoryRef {
            tag: Some("v1.0.0".into()),
            ..r()
        }),
    )
    .await?;
    w.create(
        "semver",
        with_ref(api::source::GitRepositoryRef {
            semver: Some("^1.0".into()),
            ..r()
        }),
    )
    .await?;
    w.create(
        "commit",
        with_ref(api::source::GitRepositoryRef {
            commit: Some(c1.clone()),
            ..r()
        }),
    )
    .await?;
    w.create(
        "name",
        with_ref(api::source::GitRepositoryRef {
            name: Some("refs/heads/main".into()),
            ..r()
        }),
    )
    .await?;
    let cases = [
        ("tag", format!("v1.0.0@sha1:{c1}")),
        ("semver", format!("v1.1.0@sha1:{c2}")),
        ("commit", format!("sha1:{c1}")),
        ("name", format!("refs/heads/main@sha1:{c3}")),
    ];
    for (name, want) in cases {
        let obj = w.wait_ready(name, "True").await?;
        assert_eq!(
            obj.status.unwrap().artifact.unwrap().revision,
            want,
            "{name}"
        );
    }
    w.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_custom_ca() -> Result<()> {
    let (git, ca) =
        GitServer::start_tls(Auth::Basic("flux".into(), "tls-pass-123456".into())).await?;
    git.create_repo("tls", &[("a.yaml", "a: 1\n")])?;
    let mut w = World::new().await?;
    w.secret(
        "with-ca",
        &[
            ("username", "flux"),
            ("password", "tls-pass-123456"),
            ("ca.crt", &ca),
        ],
    )
    .await?;
    w.secret(
        "no-ca",
        &[("username", "flux"), ("password", "tls-pass-123456")],
    )
    .await?;
    let with = |secret: &str| {
        let mut s = spec(&git.url("tls"), "main");
        s.secret_ref = Some(api::meta::LocalObjectReference {
            name: secret.into(),
        });
        s
    };
    w.create("trusted", with("with-ca")).await?;
    w.create("untrusted", with("no-ca")).await?;
    let ok = w.wait_ready("trusted", "True").await?;
    assert!(
        ok.status
            .unwrap()
            .artifact
            .unwrap()
            .revision
            .starts_with("main@sha1:")
    );
    let bad = w.wait_ready("untrusted", "False").await?;
    let ready = cond(&bad, "Ready").unwrap();
    assert_eq!(ready.reason, "GitOperationFailed");
    assert!(
        ready
            .message
            .contains("failed to checkout and determine revision"),
        "{ready:?}"
    );
    assert!(!ready.message.contains("tls-pass-123456"));
    w.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_with_pinned_host_key() -> Result<()> {
    let git = GitServer::start(Auth::None).await?;
    let repo = git.create_repo("over-ssh", &[("s.yaml", "s: 1\n")])?;
    let sshd = crate::gitserver::Sshd::start().await?;
    let mut w = World::new().await?;
    w.secret(
        "ssh-ok",
        &[("identity", &sshd.key), ("known_hosts", &sshd.known_hosts)],
    )
    .await?;
    w.secret(
        "ssh-enc",
        &[
            ("identity", &sshd.encrypted_key),
            ("known_hosts", &sshd.known_hosts),
            ("password", &sshd.passphrase),
        ],
    )
    .await?;
    w.secret(
        "ssh-wrong-host",
        &[
            ("identity", &sshd.key),
            ("known_hosts", &sshd.wrong_known_hosts),
        ],
    )
    .await?;
    let with = |secret: &str| {
        let mut s = spec(&sshd.url(&repo.git_dir), "main");
        s.secret_ref = Some(api::meta::LocalObjectReference {
            name: secret.into(),
        });
        s
    };
    w.create("ssh-ok", with("ssh-ok")).await?;
    w.create("ssh-enc", with("ssh-enc")).await?;
    w.create("ssh-wrong-host", with("ssh-wrong-host")).await?;
    let head = repo.git(&["rev-parse", "HEAD"])?.trim().to_string();
    for name in ["ssh-ok", "ssh-enc"] {
        let obj = w.wait_ready(name, "True").await?;
        assert_eq!(
            obj.status.unwrap().artifact.unwrap().revision,
            format!("main@sha1:{head}"),
            "{name}"
        );
    }
    let bad = w.wait_ready("ssh-wrong-host", "False").await?;
    let ready = cond(&bad, "Ready").unwrap();
    assert_eq!(ready.reason, "GitOperationFailed");
    assert!(
        ready.message.to_lowercase().contains("host key"),
        "{ready:?}"
    );
    // Neither the private keys nor the passphrase appear anywhere.
    let mut texts = vec![serde_json::to_string(&bad.status)?, harness::logs().text()];
    for name in ["ssh-ok", "ssh-enc", "ssh-wrong-host"] {
        texts.push(serde_json::to_string(&w.events(name).await?)?);
    }
    let key_line = sshd.key.lines().nth(1).unwrap_or_default().to_string();
    for t in &texts {
        assert!(!t.contains(&sshd.passphrase));
        assert!(key_line.len() > 16 && !t.contains(&key_line));
    }
    w.stop().await;
    Ok(())
}

/// A throw-away GnuPG home with one ed25519 signing key; its agent is stopped on drop.
struct GpgKey {
    home: std::path::PathBuf,
    fingerprint: String,
    armored_public: String,
}

impl Drop for GpgKey {
    fn drop(&mut self) {
        let _ = std::process::Command::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", &self.home)
            .status();
    }
}

fn gpg(home: &std::path::Path, args: &[&str]) -> Result<String> {
    let out = std::process::Command::new("gpg")
        .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
        .args(args)
        .env("GNUPGHOME", home)
        .stdin(std::process::Stdio::null())
        .output()
        .context("running gpg")?;
    if !out.status.success() {
        bail!("gpg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// Generates a signing key for `name` in its own GnuPG home under `dir`.
fn gpg_key(dir: &std::path::Path, name: &str) -> Result<GpgKey> {
    use std::os::unix::fs::PermissionsExt;
    let home = dir.join(format!("gnupg-{name}"));
    std::fs::create_dir_all(&home)?;
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700))?;
    let uid = format!("{name} <{name}@example.com>");
    gpg(
        &home,
        &["--quick-gen-key", &uid, "ed25519", "sign", "never"],
    )?;
    let fingerprint = gpg(&home, &["--with-colons", "--list-keys"])?
        .lines()
        .find_map(|l| l.strip_prefix("fpr:"))
        .and_then(|l| l.split(':').find(|f| !f.is_empty()))
        .context("no fingerprint in the key listing")?
        .to_string();
    let armored_public = gpg(&home, &["--armor", "--export", &fingerprint])?;
    Ok(GpgKey {
        home,
        fingerprint,
        armored_public,
    })
}

/// Runs git on `repo` with signing configured for `key`.
fn git_signed(repo: &crate::gitserver::Repo, key: &GpgKey, args: &[&str]) -> Result<()> {
    let signing_key = format!("user.signingkey={}", key.fingerprint);
    let out = std::process::Command::new("git")
        .args(["-c", &signing_key, "-c", "gpg.program=gpg"])
        .args(["--git-dir", repo.git_dir.to_str().unwrap()])
        .args(["--work-tree", repo.work.to_str().unwrap()])
        .args(args)
        .current_dir(&repo.work)
        .env("GNUPGHOME", &key.home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Flux Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Flux Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .stdin(std::process::Stdio::null())
        .output()
        .context("running git")?;
    if !out.status.success() {
        bail!("git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// Commits `files` on the current branch of `repo`, signed with `key`; returns the commit id.
fn signed_commit(
    repo: &crate::gitserver::Repo,
    key: &GpgKey,
    files: &[(&str, &str)],
    message: &str,
) -> Result<String> {
    for (path, content) in files {
        std::fs::write(repo.work.join(path), content)?;
    }
    repo.git(&["add", "-A"])?;
    git_signed(repo, key, &["commit", "-q", "-S", "-m", message])?;
    Ok(repo.git(&["rev-parse", "HEAD"])?.trim().to_string())
}

fn tag_spec(url: &str, tag: &str, mode: &str, secret: &str) -> GitRepositorySpec {
    let mut s = verified_spec(url, "main", mode, secret);
    s.r#ref = Some(api::source::GitRepositoryRef {
        tag: Some(tag.into()),
        ..Default::default()
    });
    s
}

fn verified_spec(url: &str, branch: &str, mode: &str, secret: &str) -> GitRepositorySpec {
    GitRepositorySpec {
        verify: Some(api::source::GitRepositoryVerification {
            mode: Some(mode.into()),
            secret_ref: api::meta::LocalObjectReference {
                name: secret.into(),
            },
        }),
        ..spec(url, branch)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_commit_signatures() -> Result<()> {
    let keys = tempfile::tempdir()?;
    let alice = gpg_key(keys.path(), "alice")?;
    let mallory = gpg_key(keys.path(), "mallory")?;
    let git = GitServer::start(Auth::None).await?;
    let repo = git.create_repo("signed", &[("app.yaml", "a: 1\n")])?;
    repo.git(&["branch", "unsigned"])?;
    let signed = signed_commit(&repo, &alice, &[("app.yaml", "a: 2\n")], "signed")?;
    git_signed(&repo, &alice, &["tag", "-s", "v1.0.0", "-m", "signed tag"])?;
    repo.tag("v1.0.1-light")?;
    let url = git.url("signed");
    let mut w = World::new().await?;
    w.secret("alice-keys", &[("alice.asc", &alice.armored_public)])
        .await?;
    w.secret("mallory-keys", &[("mallory.asc", &mallory.armored_public)])
        .await?;

    // The right key: verified, Ready, artifact of the signed commit.
    w.create("good", verified_spec(&url, "main", "HEAD", "alice-keys"))
        .await?;
    let obj = w.wait_ready("good", "True").await?;
    let v = cond(&obj, "SourceVerified").context("SourceVerified")?;
    assert_eq!(
        (v.status.as_str(), v.reason.as_str()),
        ("True", "Succeeded")
    );
    let key_id = &alice.fingerprint[alice.fingerprint.len() - 16..];
    assert!(v.message.starts_with("verified signature of"), "{v:?}");
    assert!(
        v.message
            .contains(&format!("commit 'main@sha1:{signed}' with key '{key_id}'")),
        "{v:?}"
    );
    let status = obj.status.clone().unwrap_or_default();
    assert_eq!(status.source_verification_mode.as_deref(), Some("HEAD"));
    let artifact = status.artifact.context("artifact")?;
    assert_eq!(artifact.revision, format!("main@sha1:{signed}"));
    assert!(
        fetch_artifact(&obj)
            .await?
            .contains(&"app.yaml".to_string())
    );

    // The legacy lower-case mode is the same as HEAD.
    w.create("legacy", verified_spec(&url, "main", "head", "alice-keys"))
        .await?;
    let obj = w.wait_ready("legacy", "True").await?;
    let status = obj.status.unwrap_or_default();
    assert_eq!(status.source_verification_mode.as_deref(), Some("HEAD"));

    // Another key: not verified, no artifact.
    w.create("wrong", verified_spec(&url, "main", "HEAD", "mallory-keys"))
        .await?;
    let obj = w.wait_ready("wrong", "False").await?;
    let ready = cond(&obj, "Ready").context("Ready")?;
    let v = cond(&obj, "SourceVerified").context("SourceVerified")?;
    assert_eq!(ready.reason, v.reason, "{ready:?}");
    assert_eq!(
        (v.status.as_str(), v.reason.as_str()),
        ("False", "InvalidCommitSignature")
    );
    assert!(v.message.contains("signature verification failed"), "{v:?}");
    assert!(obj.status.unwrap_or_default().artifact.is_none());
    assert!(cond(&w.get("wrong").await?, "Stalled").is_none());

    // An unsigned commit: rejected whatever the keys.
    w.create(
        "unsigned",
        verified_spec(&url, "unsigned", "HEAD", "alice-keys"),
    )
    .await?;
    let obj = w.wait_ready("unsigned", "False").await?;
    let ready = cond(&obj, "Ready").context("Ready")?;
    let v = cond(&obj, "SourceVerified").context("SourceVerified")?;
    assert_eq!(ready.reason, v.reason, "{ready:?}");
    assert_eq!(
        (v.status.as_str(), v.reason.as_str()),
        ("False", "InvalidGitObject")
    );
    assert!(v.message.contains("is not signed"), "{v:?}");
    assert!(obj.status.unwrap_or_default().artifact.is_none());

    // Tag mode with a branch reference: a configuration error, stalled.
    w.create("tagmode", verified_spec(&url, "main", "Tag", "alice-keys"))
        .await?;
    let obj = w.wait_ready("tagmode", "False").await?;
    let v = cond(&obj, "SourceVerified").context("SourceVerified")?;
    assert_eq!(
        (v.status.as_str(), v.reason.as_str()),
        ("False", "InvalidVerificationMode")
    );
    let stalled = cond(&obj, "Stalled").context("Stalled")?;
    assert_eq!(stalled.status, "True");
    assert!(obj.status.unwrap_or_default().artifact.is_none());

    // A signed annotated tag: Tag and TagAndHEAD modes.
    w.create("tag", tag_spec(&url, "v1.0.0", "TagAndHEAD", "alice-keys"))
        .await?;
    let obj = w.wait_ready("tag", "True").await?;
    let v = cond(&obj, "SourceVerified").context("SourceVerified")?;
    assert_eq!(v.reason, "Succeeded");
    assert!(
        v.message
            .contains(&format!("tag 'v1.0.0' with key '{key_id}'")),
        "{v:?}"
    );
    assert!(v.message.contains("commit '"), "{v:?}");
    assert_eq!(
        obj.status
            .unwrap_or_default()
            .source_verification_mode
            .as_deref(),
        Some("TagAndHEAD")
    );
    w.create("tagwrong", tag_spec(&url, "v1.0.0", "Tag", "mallory-keys"))
        .await?;
    let obj = w.wait_ready("tagwrong", "False").await?;
    let v = cond(&obj, "SourceVerified").context("SourceVerified")?;
    assert_eq!(v.reason, "InvalidTagSignature", "{v:?}");
    assert!(obj.status.unwrap_or_default().artifact.is_none());
    // A lightweight tag has no signature to verify.
    w.create("light", tag_spec(&url, "v1.0.1-light", "Tag", "alice-keys"))
        .await?;
    let obj = w.wait_ready("light", "False").await?;
    let v = cond(&obj, "SourceVerified").context("SourceVerified")?;
    assert_eq!(v.reason, "InvalidGitObject", "{v:?}");
    assert!(obj.status.unwrap_or_default().artifact.is_none());

    // A missing key Secret: not verified, retried.
    w.create("nokeys", verified_spec(&url, "main", "HEAD", "absent"))
        .await?;
    let obj = w.wait_ready("nokeys", "False").await?;
    let v = cond(&obj, "SourceVerified").context("SourceVerified")?;
    assert_eq!(
        (v.status.as_str(), v.reason.as_str()),
        ("False", "VerificationError")
    );
    assert!(obj.status.unwrap_or_default().artifact.is_none());

    // An unsigned commit on top of a verified one: the previous artifact stays.
    repo.commit(&[("app.yaml", "a: 3\n")], "unsigned on main")?;
    let obj = w.request_reconcile("good").await?;
    let ready = cond(&obj, "Ready").context("Ready")?;
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "InvalidGitObject"),
        "{ready:?}"
    );
    assert_eq!(
        cond(&obj, "SourceVerified").map(|c| c.status),
        Some("False".to_string())
    );
    let kept = obj
        .status
        .unwrap_or_default()
        .artifact
        .context("artifact")?;
    assert_eq!(kept.revision, format!("main@sha1:{signed}"));
    assert_eq!(kept.digest, artifact.digest);

    // Dropping spec.verify drops the verification observations.
    let patch = json!({"spec": {"verify": null}});
    w.repos
        .patch("good", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    let obj = w.wait_ready("good", "True").await?;
    assert!(cond(&obj, "SourceVerified").is_none());
    assert!(
        obj.status
            .unwrap_or_default()
            .source_verification_mode
            .is_none()
    );

    w.stop().await;
    Ok(())
}
