//! Kustomization reconciler scenarios (issue 8): GitRepository + Kustomization against the
//! embedded API server with Git over `git http-backend`: apply with ownership labels and field
//! manager, updates, prune and its opt-outs, deletion policies, readable failures that apply and
//! prune nothing, dependsOn, health checks, CRD + CR, immutable changes with and without force,
//! drift correction, impersonation, cross-namespace refs and `spec.decryption`.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use api::kustomize::{Kustomization, KustomizationSpec};
use api::meta::{Condition, IgnoreRule, Selector};
use api::source::{GitRepository, GitRepositorySpec};
use controllers::ManagerOptions;
use k8s_openapi::api::core::v1::{ConfigMap, Event, ServiceAccount};
use kube::api::{
    ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams,
    PostParams,
};
use kube::{Api, Client};
use serde_json::{Value, json};

use crate::gitserver::{Auth, GitServer, Repo};
use crate::harness::{self, eventually, wait_for};

const WAIT: Duration = Duration::from_secs(40);
const GROUP: &str = "kustomize.toolkit.fluxcd.io";

/// One test's world: a namespace, a Git server with repository `app`, a GitRepository `repo`
/// and a manager running the source and kustomize controllers.
struct World {
    client: Client,
    ns: String,
    _git: GitServer,
    repo: Repo,
    repos: Api<GitRepository>,
    ks: Api<Kustomization>,
    _storage: tempfile::TempDir,
    manager: Option<controllers::RunningManager>,
}

impl World {
    async fn new(files: &[(&str, &str)]) -> Result<Self> {
        Self::with(files, |_| {}).await
    }

    async fn with(files: &[(&str, &str)], tune: impl FnOnce(&mut ManagerOptions)) -> Result<Self> {
        let client = harness::client().await?;
        let ns = harness::namespace(&client).await?;
        let git = GitServer::start(Auth::None).await?;
        let repo = git.create_repo("app", files)?;
        let storage = tempfile::tempdir()?;
        let mut opts = harness::options(&ns, storage.path());
        opts.enable = vec!["source".into(), "kustomize".into()];
        opts.requeue_dependency = Duration::from_millis(500);
        opts.kube_config = Some(kube_config().await?);
        tune(&mut opts);
        let manager = harness::manager(&client, opts).await?;
        let repos: Api<GitRepository> = Api::namespaced(client.clone(), &ns);
        let spec = GitRepositorySpec {
            url: git.url("app"),
            interval: "10m".into(),
            r#ref: Some(api::source::GitRepositoryRef {
                branch: Some("main".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        repos
            .create(&PostParams::default(), &GitRepository::new("repo", spec))
            .await
            .context("creating GitRepository")?;
        let ks = Api::namespaced(client.clone(), &ns);
        Ok(Self {
            client,
            ns,
            _git: git,
            repo,
            repos,
            ks,
            _storage: storage,
            manager: Some(manager),
        })
    }

    /// A Kustomization of `path` in this world's repository: prune on, target namespace set,
    /// short timeout and retry interval.
    fn spec(&self, path: &str) -> KustomizationSpec {
        KustomizationSpec {
            interval: "10m".into(),
            retry_interval: Some("1s".into()),
            timeout: Some("20s".into()),
            path: Some(path.into()),
            prune: true,
            target_namespace: Some(self.ns.clone()),
            source_ref: api::kustomize::CrossNamespaceSourceReference {
                kind: "GitRepository".into(),
                name: "repo".into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    async fn create(&self, name: &str, spec: KustomizationSpec) -> Result<()> {
        self.ks
            .create(&PostParams::default(), &Kustomization::new(name, spec))
            .await
            .context("creating Kustomization")?;
        Ok(())
    }

    /// Waits until `Ready` has `status` (and, if given, `reason`) for the current generation.
    async fn wait_ready(
        &self,
        name: &str,
        status: &str,
        reason: Option<&str>,
    ) -> Result<Kustomization> {
        let r = wait_for(WAIT, || {
            let ks = self.ks.clone();
            async move {
                let obj = ks.get(name).await?;
                let ok = cond(&obj, "Ready").is_some_and(|c| {
                    c.status == status
                        && reason.is_none_or(|r| c.reason == r)
                        && c.observed_generation == obj.metadata.generation
                });
                Ok(ok.then_some(obj))
            }
        })
        .await;
        match r {
            Ok(o) => Ok(o),
            Err(e) => bail!(
                "{e:#}; last status: {:?}",
                self.ks.get(name).await.ok().and_then(|o| o.status)
            ),
        }
    }

    /// Waits until the Kustomization applied `revision` and is Ready.
    async fn wait_applied(&self, name: &str, revision: &str) -> Result<Kustomization> {
        let r = wait_for(WAIT, || {
            let ks = self.ks.clone();
            async move {
                let obj = ks.get(name).await?;
                let applied = obj
                    .status
                    .as_ref()
                    .and_then(|s| s.last_applied_revision.clone());
                let ready = cond(&obj, "Ready").is_some_and(|c| c.status == "True");
                Ok((applied.as_deref() == Some(revision) && ready).then_some(obj))
            }
        })
        .await;
        match r {
            Ok(o) => Ok(o),
            Err(e) => bail!(
                "{e:#}; last status: {:?}",
                self.ks.get(name).await.ok().and_then(|o| o.status)
            ),
        }
    }

    /// Commits `files` (and removes `remove`), asks the GitRepository to fetch and waits for
    /// its artifact; returns the revision.
    async fn push(&self, files: &[(&str, &str)], remove: &[&str]) -> Result<String> {
        for r in remove {
            self.repo.git(&["rm", "-q", r])?;
        }
        let commit = if files.is_empty() {
            self.repo.git(&["commit", "-q", "-m", "remove files"])?;
            self.repo.git(&["rev-parse", "HEAD"])?.trim().to_string()
        } else {
            self.repo.commit(files, "update")?
        };
        let revision = format!("main@sha1:{commit}");
        let patch = json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": harness::unique("req")}}});
        self.repos
            .patch("repo", &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
        let repos = self.repos.clone();
        let want = revision.clone();
        eventually(WAIT, || {
            let repos = repos.clone();
            let want = want.clone();
            async move {
                let r = repos.get("repo").await?;
                Ok(r.status
                    .and_then(|s| s.artifact)
                    .is_some_and(|a| a.revision == want))
            }
        })
        .await
        .context("GitRepository fetched the new commit")?;
        Ok(revision)
    }

    /// The revision of the repository's HEAD.
    fn head(&self) -> Result<String> {
        Ok(format!(
            "main@sha1:{}",
            self.repo.git(&["rev-parse", "HEAD"])?.trim()
        ))
    }

    /// Sets `reconcile.fluxcd.io/requestedAt` and waits until it is handled.
    async fn request(&self, name: &str) -> Result<Kustomization> {
        harness::request_reconcile(&self.ks, name, WAIT, |o| {
            o.status
                .as_ref()
                .and_then(|s| s.last_handled_reconcile_at.clone())
        })
        .await
    }

    fn cms(&self) -> Api<ConfigMap> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    async fn cm(&self, name: &str) -> Result<Option<ConfigMap>> {
        Ok(self.cms().get_opt(name).await?)
    }

    async fn events(&self, name: &str) -> Result<Vec<Event>> {
        let api: Api<Event> = Api::namespaced(self.client.clone(), &self.ns);
        Ok(api
            .list(&ListParams::default())
            .await?
            .items
            .into_iter()
            .filter(|e| e.involved_object.name.as_deref() == Some(name))
            .collect())
    }

    /// Deletes a Kustomization and waits until it is gone (finalizer done).
    async fn delete(&self, name: &str) -> Result<()> {
        self.ks.delete(name, &DeleteParams::default()).await?;
        let ks = self.ks.clone();
        eventually(WAIT, || {
            let ks = ks.clone();
            async move { Ok(ks.get_opt(name).await?.is_none()) }
        })
        .await
        .context("Kustomization deleted")
    }

    async fn stop(&mut self) {
        if let Some(m) = self.manager.take() {
            let _ = m.shutdown().await;
        }
    }
}

/// The test API server's client configuration (for impersonating clients).
async fn kube_config() -> Result<kube::Config> {
    let kc = kube::config::Kubeconfig::from_yaml(&harness::server().kubeconfig)?;
    Ok(kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?)
}

fn cond(obj: &Kustomization, t: &str) -> Option<Condition> {
    obj.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.r#type == t)
        .cloned()
}

/// A ConfigMap manifest (namespace left to `targetNamespace`).
fn cm(name: &str, data: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  key: \"{data}\"\n"
    )
}

fn inventory_ids(obj: &Kustomization) -> Vec<String> {
    obj.status
        .as_ref()
        .and_then(|s| s.inventory.as_ref())
        .map(|i| {
            i.entries
                .iter()
                .map(|e| format!("{}@{}", e.id, e.v))
                .collect()
        })
        .unwrap_or_default()
}

fn data_key(cm: &ConfigMap) -> String {
    cm.data
        .as_ref()
        .and_then(|d| d.get("key").cloned())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_update_prune_and_delete() -> Result<()> {
    let keep = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\n  annotations:\n    kustomize.toolkit.fluxcd.io/prune: disabled\ndata:\n  key: \"k\"\n";
    let mut w = World::new(&[
        ("app/a.yaml", &cm("a", "one")),
        ("app/b.yaml", &cm("b", "one")),
        ("app/keep.yaml", keep),
        ("other/o.yaml", &cm("o", "one")),
    ])
    .await?;
    let ns = w.ns.clone();
    let rev1 = w.head()?;
    w.create("app", w.spec("./app")).await?;
    let ks = w.wait_applied("app", &rev1).await?;
    let ready = cond(&ks, "Ready").unwrap();
    assert_eq!(ready.reason, "ReconciliationSucceeded");
    assert_eq!(ready.message, format!("Applied revision: {rev1}"));
    assert!(cond(&ks, "Reconciling").is_none());
    let st = ks.status.clone().unwrap();
    assert_eq!(st.last_attempted_revision.as_deref(), Some(rev1.as_str()));
    assert_eq!(st.observed_generation, ks.metadata.generation);
    assert_eq!(
        inventory_ids(&ks),
        vec![
            format!("{ns}_a__ConfigMap@v1"),
            format!("{ns}_b__ConfigMap@v1"),
            format!("{ns}_keep__ConfigMap@v1"),
        ]
    );
    assert!(
        ks.metadata
            .finalizers
            .unwrap_or_default()
            .contains(&"finalizers.fluxcd.io".to_string())
    );

    // Objects carry the ownership labels and are managed by kustomize-controller (apply).
    let a = w.cm("a").await?.context("ConfigMap a applied")?;
    let labels = a.metadata.labels.clone().unwrap_or_default();
    assert_eq!(
        labels.get(&format!("{GROUP}/name")).map(String::as_str),
        Some("app")
    );
    assert_eq!(labels.get(&format!("{GROUP}/namespace")), Some(&ns));
    let managers: Vec<(String, String)> = a
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            (
                m.manager.unwrap_or_default(),
                m.operation.unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        managers.contains(&("kustomize-controller".into(), "Apply".into())),
        "{managers:?}"
    );
    assert!(w.cm("o").await?.is_none(), "only the path is applied");

    // The apply event lists the change set; the log carries it as `output`.
    let events = w.events("app").await?;
    let applied = events
        .iter()
        .find(|e| {
            e.message
                .as_deref()
                .is_some_and(|m| m.contains(&format!("ConfigMap/{ns}/a created")))
        })
        .with_context(|| format!("apply event in {events:?}"))?;
    assert_eq!(applied.type_.as_deref(), Some("Normal"));
    assert_eq!(
        applied
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(&format!("{GROUP}/revision"))),
        Some(&rev1)
    );
    assert!(events.iter().any(|e| {
        e.reason.as_deref() == Some("ReconciliationSucceeded")
            && e.message
                .as_deref()
                .is_some_and(|m| m.starts_with("Reconciliation finished in"))
    }));
    let logs = harness::logs().lines();
    assert!(
        logs.iter()
            .any(|l| l["msg"] == "server-side apply completed"
                && l["name"] == "app"
                && l["namespace"] == ns.as_str()
                && l["output"][format!("ConfigMap/{ns}/a")] == "created"),
        "apply log line with output"
    );

    // A pushed change updates; removed files are pruned unless prune is disabled on them.
    let rev2 = w
        .push(
            &[("app/a.yaml", &cm("a", "two"))],
            &["app/b.yaml", "app/keep.yaml"],
        )
        .await?;
    let ks = w.wait_applied("app", &rev2).await?;
    assert_eq!(data_key(&w.cm("a").await?.context("a")?), "two");
    eventually(WAIT, || async { Ok(w.cm("b").await?.is_none()) })
        .await
        .context("b pruned")?;
    assert!(
        w.cm("keep").await?.is_some(),
        "prune: disabled keeps the object"
    );
    assert_eq!(inventory_ids(&ks), vec![format!("{ns}_a__ConfigMap@v1")]);
    assert!(
        w.events("app").await?.iter().any(|e| e.message.as_deref()
            == Some(&format!("ConfigMap/{ns}/b deleted\nConfigMap/{ns}/keep skipped")[..])
            || e.message
                .as_deref()
                .is_some_and(|m| m.contains(&format!("ConfigMap/{ns}/b deleted")))),
        "prune event"
    );

    // prune: false keeps objects that left the source (they only leave the inventory).
    let mut spec = w.spec("./other");
    spec.prune = false;
    w.create("noprune", spec).await?;
    w.wait_applied("noprune", &rev2).await?;
    let rev3 = w
        .push(&[("other/p.yaml", &cm("p", "x"))], &["other/o.yaml"])
        .await?;
    let ks = w.wait_applied("noprune", &rev3).await?;
    assert!(w.cm("o").await?.is_some(), "prune: false keeps o");
    assert_eq!(inventory_ids(&ks), vec![format!("{ns}_p__ConfigMap@v1")]);

    // Deleting a Kustomization prunes what it applied (MirrorPrune with prune: true)...
    w.delete("app").await?;
    assert!(
        w.cm("a").await?.is_none(),
        "a deleted with its Kustomization"
    );
    // ...while prune: false (MirrorPrune) and Orphan keep them.
    w.delete("noprune").await?;
    assert!(
        w.cm("p").await?.is_some(),
        "prune: false keeps objects on deletion"
    );
    let mut spec = w.spec("./app");
    spec.deletion_policy = Some("Orphan".into());
    w.create("orphan", spec).await?;
    w.wait_applied("orphan", &rev3).await?;
    w.delete("orphan").await?;
    assert!(w.cm("a").await?.is_some(), "Orphan keeps the objects");
    w.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_readable_and_nothing_half_applied() -> Result<()> {
    let mut w = World::with(
        &[
            ("app/a.yaml", &cm("a", "one")),
            ("app/b.yaml", &cm("b", "one")),
        ],
        |o| o.strict_substitutions = true,
    )
    .await?;
    let rev1 = w.head()?;
    w.create("app", w.spec("./app")).await?;
    w.wait_applied("app", &rev1).await?;
    let before = w.cm("a").await?.context("a")?;

    // A broken kustomization (missing resource) fails the build: nothing applied or pruned.
    let rev2 = w
        .push(
            &[
                (
                    "app/kustomization.yaml",
                    "resources:\n- a.yaml\n- missing.yaml\n",
                ),
                ("app/a.yaml", &cm("a", "two")),
            ],
            &["app/b.yaml"],
        )
        .await?;
    let ks = w.wait_ready("app", "False", Some("BuildFailed")).await?;
    let msg = cond(&ks, "Ready").unwrap().message;
    assert!(msg.starts_with("kustomize build failed:"), "{msg}");
    assert!(msg.contains("missing.yaml"), "{msg}");
    let st = ks.status.clone().unwrap();
    assert_eq!(st.last_attempted_revision.as_deref(), Some(rev2.as_str()));
    assert_eq!(st.last_applied_revision.as_deref(), Some(rev1.as_str()));
    assert_eq!(
        cond(&ks, "Reconciling").unwrap().reason,
        "ProgressingWithRetry"
    );
    assert!(w.cm("b").await?.is_some(), "nothing pruned");
    assert_eq!(
        data_key(&w.cm("a").await?.context("a")?),
        "one",
        "nothing applied"
    );
    assert!(w.events("app").await?.iter().any(
        |e| e.type_.as_deref() == Some("Warning") && e.reason.as_deref() == Some("BuildFailed")
    ));

    // A missing variable in strict mode (postBuild set first, while the build still fails).
    let mut spec = w.ks.get("app").await?.spec;
    spec.post_build = Some(api::kustomize::PostBuild {
        substitute: [("defined".to_string(), "x".to_string())].into(),
        ..Default::default()
    });
    w.ks.patch(
        "app",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": spec})),
    )
    .await?;
    w.wait_ready("app", "False", Some("BuildFailed")).await?;
    w.push(
        &[
            ("app/kustomization.yaml", "resources:\n- a.yaml\n"),
            ("app/a.yaml", &cm("a", "${undefined_var}")),
        ],
        &[],
    )
    .await?;
    let ks = wait_for(WAIT, || async {
        let k = w.ks.get("app").await?;
        let c = cond(&k, "Ready");
        Ok(
            c.filter(|c| c.message.contains("variable not set (strict mode)"))
                .map(|_| k),
        )
    })
    .await?;
    let ready = cond(&ks, "Ready").unwrap();
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "BuildFailed")
    );
    assert!(
        ready.message.contains("\"undefined_var\""),
        "{}",
        ready.message
    );
    assert!(w.cm("b").await?.is_some(), "nothing pruned");
    assert_eq!(
        w.cm("a").await?.context("a")?.metadata.uid,
        before.metadata.uid
    );
    assert_eq!(data_key(&w.cm("a").await?.context("a")?), "one");

    // An invalid object (a kind the server does not serve) next to a valid one: the apply
    // fails with a readable message and the valid one is not applied either.
    let rev4 = w
        .push(
            &[
                ("app/a.yaml", &cm("a", "${defined}")),
                (
                    "app/kustomization.yaml",
                    "resources:\n- a.yaml\n- c.yaml\n- bad.yaml\n",
                ),
                ("app/c.yaml", &cm("c", "new")),
                (
                    "app/bad.yaml",
                    "apiVersion: nope.example.com/v1\nkind: Nope\nmetadata:\n  name: bad\n",
                ),
            ],
            &[],
        )
        .await?;
    let ks = wait_for(WAIT, || async {
        let k = w.ks.get("app").await?;
        let failed = cond(&k, "Ready").is_some_and(|c| c.reason == "ReconciliationFailed");
        let attempted = k
            .status
            .as_ref()
            .and_then(|s| s.last_attempted_revision.clone());
        Ok((failed && attempted.as_deref() == Some(rev4.as_str())).then_some(k))
    })
    .await?;
    let msg = cond(&ks, "Ready").unwrap().message;
    assert!(msg.contains("Nope") && msg.contains("bad"), "{msg}");
    assert!(w.cm("c").await?.is_none(), "nothing half-applied");
    assert!(w.cm("b").await?.is_some(), "nothing pruned");
    assert_eq!(
        ks.status.unwrap().last_applied_revision.as_deref(),
        Some(rev1.as_str())
    );

    // Fixing the source recovers.
    let rev5 = w
        .push(
            &[("app/kustomization.yaml", "resources:\n- a.yaml\n- c.yaml\n")],
            &["app/bad.yaml"],
        )
        .await?;
    w.wait_applied("app", &rev5).await?;
    assert_eq!(data_key(&w.cm("a").await?.context("a")?), "x");
    assert!(w.cm("c").await?.is_some());
    eventually(WAIT, || async { Ok(w.cm("b").await?.is_none()) })
        .await
        .context("b pruned at last")?;
    w.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn depends_on_orders_reconciliation() -> Result<()> {
    let mut w = World::new(&[
        ("first/a.yaml", &cm("first", "1")),
        ("second/b.yaml", &cm("second", "2")),
    ])
    .await?;
    let rev = w.head()?;
    let mut second = w.spec("./second");
    second.depends_on = vec![api::meta::DependencyReference {
        name: "first".into(),
        ..Default::default()
    }];
    w.create("second", second).await?;
    let ks = w
        .wait_ready("second", "False", Some("DependencyNotReady"))
        .await?;
    let ns = w.ns.clone();
    assert_eq!(
        cond(&ks, "Ready").unwrap().message,
        format!(
            "dependency '{ns}/first' not found: kustomizations.kustomize.toolkit.fluxcd.io \"first\" not found"
        )
    );
    assert!(
        w.cm("second").await?.is_none(),
        "not applied before its dependency"
    );

    w.create("first", w.spec("./first")).await?;
    let first = w.wait_applied("first", &rev).await?;
    let second = w.wait_applied("second", &rev).await?;
    let t = |k: &Kustomization| cond(k, "Ready").unwrap().last_transition_time;
    assert!(t(&first) <= t(&second), "first is ready before second");
    assert!(w.events("second").await?.iter().any(|e| {
        e.message
            .as_deref()
            .is_some_and(|m| m.starts_with("Dependencies do not meet ready condition"))
    }));

    // readyExpr replaces the Ready check: a false expression blocks.
    let mut third = w.spec("./second");
    third.target_namespace = Some(ns.clone());
    third.name_prefix = Some("third-".into());
    third.depends_on = vec![api::meta::DependencyReference {
        name: "first".into(),
        ready_expr: Some("dep.metadata.name == 'not-first'".into()),
        ..Default::default()
    }];
    w.create("third", third).await?;
    let ks = w
        .wait_ready("third", "False", Some("DependencyNotReady"))
        .await?;
    assert!(cond(&ks, "Ready").unwrap().message.contains("readyExpr"));
    let patch = json!({"spec": {"dependsOn": [{"name": "first", "readyExpr": "dep.metadata.name == 'first' && self.metadata.name == 'third'"}]}});
    w.ks.patch("third", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    w.wait_applied("third", &rev).await?;
    assert!(w.cm("third-second").await?.is_some());
    w.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_checks_and_timeout() -> Result<()> {
    let deploy = |name: &str, simulate: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  annotations:\n    fluxrs.io/simulate: \"{simulate}\"\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n      - name: c\n        image: nginx\n"
        )
    };
    let mut w = World::new(&[
        ("good/d.yaml", &deploy("good", "")),
        ("bad/d.yaml", &deploy("bad", "pending")),
        ("hc/cm.yaml", &cm("hc", "x")),
    ])
    .await?;
    let rev = w.head()?;
    let mut spec = w.spec("./good");
    spec.wait = Some(true);
    w.create("good", spec).await?;
    let ks = w.wait_applied("good", &rev).await?;
    let healthy = cond(&ks, "Healthy").context("Healthy")?;
    assert_eq!(
        (healthy.status.as_str(), healthy.reason.as_str()),
        ("True", "Succeeded")
    );
    assert!(
        healthy.message.starts_with("Health check passed in"),
        "{}",
        healthy.message
    );

    // A Deployment that never gets ready: HealthCheckFailed after the timeout.
    let mut spec = w.spec("./bad");
    spec.wait = Some(true);
    spec.timeout = Some("3s".into());
    w.create("bad", spec).await?;
    let ks = w
        .wait_ready("bad", "False", Some("HealthCheckFailed"))
        .await?;
    let healthy = cond(&ks, "Healthy").context("Healthy")?;
    assert_eq!(
        (healthy.status.as_str(), healthy.reason.as_str()),
        ("False", "HealthCheckFailed")
    );
    let ns = w.ns.clone();
    assert!(
        healthy.message.contains(&format!("Deployment/{ns}/bad")),
        "{}",
        healthy.message
    );
    assert!(ks.status.unwrap().last_applied_revision.is_none());
    assert!(
        w.events("bad")
            .await?
            .iter()
            .any(|e| e.type_.as_deref() == Some("Warning")
                && e.reason.as_deref() == Some("HealthCheckFailed")
                && e.message
                    .as_deref()
                    .is_some_and(|m| m.starts_with("health check failed after"))),
        "health check failure event"
    );

    // healthChecks naming a missing object fail too; naming an existing one pass.
    let mut spec = w.spec("./hc");
    spec.timeout = Some("2s".into());
    spec.health_checks = vec![api::meta::NamespacedObjectKindReference {
        api_version: Some("v1".into()),
        kind: "ConfigMap".into(),
        name: "absent".into(),
        namespace: Some(ns.clone()),
    }];
    w.create("hc", spec).await?;
    w.wait_ready("hc", "False", Some("HealthCheckFailed"))
        .await?;
    let patch = json!({"spec": {"healthChecks": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "hc", "namespace": ns}]}});
    w.ks.patch("hc", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    let ks = w.wait_ready("hc", "True", None).await?;
    assert_eq!(cond(&ks, "Healthy").unwrap().status, "True");
    w.stop().await;
    Ok(())
}

/// A CRD `widgets.<group>` whose `spec` holds at most two properties (the embedded API server
/// enforces no built-in immutable fields; an update that becomes Invalid stands in for one).
fn widget_crd(group: &str) -> String {
    format!(
        r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.{group}
spec:
  group: {group}
  names: {{kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            maxProperties: 2
            x-kubernetes-preserve-unknown-fields: true
"#
    )
}

fn widget(group: &str, spec: &str) -> String {
    format!("apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: w\nspec: {spec}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crd_and_cr_in_one_revision_and_immutable_changes() -> Result<()> {
    let group = format!("{}.example.com", harness::unique("ks"));
    let mut w = World::new(&[
        ("crd/crd.yaml", &widget_crd(&group)),
        ("crd/w.yaml", &widget(&group, "{a: 1}")),
    ])
    .await?;
    let rev = w.head()?;
    w.create("crd", w.spec("./crd")).await?;
    let ks = w.wait_applied("crd", &rev).await?;
    let ns = w.ns.clone();
    assert!(inventory_ids(&ks).contains(&format!(
        "_widgets.{group}_apiextensions.k8s.io_CustomResourceDefinition@v1"
    )));
    assert!(inventory_ids(&ks).contains(&format!("{ns}_w_{group}_Widget@v1")));
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(&group, "v1", "Widget"),
        "widgets",
    );
    let widgets: Api<DynamicObject> = Api::namespaced_with(w.client.clone(), &ns, &ar);
    let uid = widgets.get("w").await?.metadata.uid;

    // Another manager adds a field; the new revision adds a second one: Invalid without force.
    widgets
        .patch(
            "w",
            &PatchParams {
                field_manager: Some("other".into()),
                ..Default::default()
            },
            &Patch::Merge(json!({"spec": {"c": 3}})),
        )
        .await?;
    let rev2 = w
        .push(&[("crd/w.yaml", &widget(&group, "{a: 1, b: 2}"))], &[])
        .await?;
    let ks = wait_for(WAIT, || async {
        let k = w.ks.get("crd").await?;
        let failed = cond(&k, "Ready")
            .is_some_and(|c| c.status == "False" && c.reason == "ReconciliationFailed");
        let attempted = k
            .status
            .as_ref()
            .and_then(|s| s.last_attempted_revision.clone());
        Ok((failed && attempted.as_deref() == Some(rev2.as_str())).then_some(k))
    })
    .await?;
    let msg = cond(&ks, "Ready").unwrap().message;
    assert!(msg.contains(&format!("Widget/{ns}/w")), "{msg}");
    assert_eq!(
        widgets.get("w").await?.metadata.uid,
        uid,
        "not recreated without force"
    );

    // spec.force recreates it.
    w.ks.patch(
        "crd",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"force": true}})),
    )
    .await?;
    w.wait_applied("crd", &rev2).await?;
    let live = widgets.get("w").await?;
    assert_ne!(live.metadata.uid, uid, "recreated with force");
    assert_eq!(live.data["spec"], json!({"a": 1, "b": 2}));
    w.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_is_reverted_but_foreign_fields_stay() -> Result<()> {
    let mut w = World::new(&[
        ("app/a.yaml", &cm("a", "desired")),
        ("app/b.yaml", &cm("b", "desired")),
    ])
    .await?;
    let rev = w.head()?;
    // spec.ignore: drift of b's data.key is tolerated (Flux's drift ignore rules).
    let mut spec = w.spec("./app");
    spec.ignore = vec![IgnoreRule {
        paths: vec!["/data/key".into()],
        target: Some(Selector {
            kind: Some("ConfigMap".into()),
            name: Some("b".into()),
            ..Default::default()
        }),
    }];
    w.create("app", spec).await?;
    w.wait_applied("app", &rev).await?;

    // Someone changes a managed field with kubectl; another controller adds fields of its own.
    let kubectl = PatchParams {
        field_manager: Some("kubectl-edit".into()),
        ..Default::default()
    };
    w.cms()
        .patch(
            "a",
            &kubectl,
            &Patch::Merge(json!({"data": {"key": "drifted"}})),
        )
        .await?;
    let other = PatchParams {
        field_manager: Some("other-controller".into()),
        ..Default::default()
    };
    w.cms()
        .patch(
            "a",
            &other,
            &Patch::Merge(
                json!({"data": {"extra": "mine"}, "metadata": {"labels": {"team": "x"}}}),
            ),
        )
        .await?;
    for name in ["a", "b"] {
        w.cms()
            .patch(
                name,
                &kubectl,
                &Patch::Merge(json!({"data": {"key": "drifted"}})),
            )
            .await?;
    }
    assert_eq!(data_key(&w.cm("a").await?.context("a")?), "drifted");
    w.request("app").await?;
    let a = w.cm("a").await?.context("a")?;
    assert_eq!(data_key(&a), "desired", "managed field reverted");
    let b = w.cm("b").await?.context("b")?;
    assert_eq!(
        data_key(&b),
        "drifted",
        "ignored path left as the cluster has it"
    );
    assert_eq!(
        a.data
            .as_ref()
            .and_then(|d| d.get("extra"))
            .map(String::as_str),
        Some("mine")
    );
    assert_eq!(
        a.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("team"))
            .map(String::as_str),
        Some("x")
    );
    let messages: Vec<String> = w
        .events("app")
        .await?
        .iter()
        .filter_map(|e| e.message.clone())
        .collect();
    let configured = format!("ConfigMap/{}/a configured", w.ns);
    assert!(
        messages.iter().any(|m| m.lines().any(|l| l == configured)),
        "{messages:#?}"
    );
    w.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn impersonation_cross_namespace_and_decryption() -> Result<()> {
    let mut w = World::with(&[("app/a.yaml", &cm("a", "1"))], |o| {
        o.no_cross_namespace_refs = true
    })
    .await?;
    let ns = w.ns.clone();
    let rev = w.head()?;

    // A service account without RBAC cannot apply.
    let sas: Api<ServiceAccount> = Api::namespaced(w.client.clone(), &ns);
    let mut sa = ServiceAccount::default();
    sa.metadata.name = Some("limited".into());
    sas.create(&PostParams::default(), &sa).await?;
    let mut spec = w.spec("./app");
    spec.service_account_name = Some("limited".into());
    w.create("imp", spec).await?;
    let ks = w
        .wait_ready("imp", "False", Some("ReconciliationFailed"))
        .await?;
    let msg = cond(&ks, "Ready").unwrap().message;
    assert!(msg.contains("forbidden"), "{msg}");
    assert!(
        msg.contains(&format!("system:serviceaccount:{ns}:limited")),
        "{msg}"
    );
    assert!(
        w.cm("a").await?.is_none(),
        "nothing applied as the service account"
    );

    // Granting it ConfigMaps in the namespace lets the same Kustomization apply.
    let role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "cm-admin", "namespace": ns},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]}]
    });
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "cm-admin", "namespace": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cm-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": "limited", "namespace": ns}]
    });
    let roles: Api<k8s_openapi::api::rbac::v1::Role> = Api::namespaced(w.client.clone(), &ns);
    roles
        .create(&PostParams::default(), &serde_json::from_value(role)?)
        .await?;
    let rbs: Api<k8s_openapi::api::rbac::v1::RoleBinding> = Api::namespaced(w.client.clone(), &ns);
    rbs.create(&PostParams::default(), &serde_json::from_value(binding)?)
        .await?;
    w.wait_applied("imp", &rev).await?;
    assert!(w.cm("a").await?.is_some());

    // Cross-namespace source refs are blocked by the flag: stalled, not retried.
    let mut spec = w.spec("./app");
    spec.source_ref.namespace = Some("elsewhere".into());
    w.create("xns", spec).await?;
    let ks = w.wait_ready("xns", "False", Some("AccessDenied")).await?;
    assert_eq!(
        cond(&ks, "Ready").unwrap().message,
        "can't access 'GitRepository/elsewhere/repo', cross-namespace references have been blocked"
    );
    assert_eq!(cond(&ks, "Stalled").map(|c| c.status), Some("True".into()));

    // spec.decryption answers a clear condition.
    let mut spec = w.spec("./app");
    spec.decryption = Some(api::kustomize::Decryption {
        provider: "sops".into(),
        ..Default::default()
    });
    w.create("sops", spec).await?;
    let ks = w.wait_ready("sops", "False", None).await?;
    let msg = cond(&ks, "Ready").unwrap().message;
    assert!(
        msg.starts_with("SOPS decryption is not supported yet"),
        "{msg}"
    );
    w.stop().await;
    Ok(())
}

/// Suspend stops reconciling; resume picks up what changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspend_and_resume() -> Result<()> {
    let mut w = World::new(&[("app/a.yaml", &cm("a", "1"))]).await?;
    let rev = w.head()?;
    w.create("app", w.spec("./app")).await?;
    w.wait_applied("app", &rev).await?;
    w.ks.patch(
        "app",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"suspend": true}})),
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rev2 = w.push(&[("app/a.yaml", &cm("a", "2"))], &[]).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        data_key(&w.cm("a").await?.context("a")?),
        "1",
        "suspended: not applied"
    );
    w.ks.patch(
        "app",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"suspend": false}})),
    )
    .await?;
    w.wait_applied("app", &rev2).await?;
    assert_eq!(data_key(&w.cm("a").await?.context("a")?), "2");
    let _ = Value::Null;
    w.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn substitute_from_and_custom_health_checks() -> Result<()> {
    let mut w = World::new(&[(
        "app/a.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  key: \"${greeting} ${name} ${missing:=dflt}\"\n",
    )])
    .await?;
    let ns = w.ns.clone();
    let rev = w.head()?;
    let mut vars = ConfigMap::default();
    vars.metadata.name = Some("vars".into());
    vars.data = Some([("greeting".to_string(), "hello".to_string())].into());
    w.cms().create(&PostParams::default(), &vars).await?;
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(w.client.clone(), &ns);
    let mut secret = k8s_openapi::api::core::v1::Secret::default();
    secret.metadata.name = Some("secret-vars".into());
    secret.string_data = Some([("name".to_string(), "flux".to_string())].into());
    secrets.create(&PostParams::default(), &secret).await?;
    let from = |kind: &str, name: &str, optional: bool| api::kustomize::SubstituteReference {
        kind: kind.into(),
        name: name.into(),
        optional: Some(optional),
    };
    let mut spec = w.spec("./app");
    spec.post_build = Some(api::kustomize::PostBuild {
        substitute_from: vec![
            from("ConfigMap", "vars", false),
            from("Secret", "secret-vars", false),
            from("ConfigMap", "absent", true),
        ],
        ..Default::default()
    });
    w.create("app", spec.clone()).await?;
    w.wait_applied("app", &rev).await?;
    assert_eq!(data_key(&w.cm("a").await?.context("a")?), "hello flux dflt");

    // A required source of variables that is missing fails the build.
    let mut missing = spec.clone();
    missing
        .post_build
        .as_mut()
        .unwrap()
        .substitute_from
        .push(from("ConfigMap", "nope", false));
    w.create("missing", missing).await?;
    let ks = w
        .wait_ready("missing", "False", Some("BuildFailed"))
        .await?;
    let msg = cond(&ks, "Ready").unwrap().message;
    assert!(
        msg.starts_with("substitute from 'ConfigMap/nope' error"),
        "{msg}"
    );

    // healthCheckExprs decide the health of matching kinds; an invalid one stalls.
    let mut exprs = w.spec("./app");
    exprs.name_prefix = Some("h-".into());
    exprs.wait = Some(true);
    exprs.timeout = Some("2s".into());
    exprs.health_check_exprs = vec![api::meta::CustomHealthCheck {
        api_version: "v1".into(),
        kind: Some("ConfigMap".into()),
        current: "data.key == 'never'".into(),
        ..Default::default()
    }];
    w.create("exprs", exprs).await?;
    let ks = w
        .wait_ready("exprs", "False", Some("HealthCheckFailed"))
        .await?;
    assert!(
        cond(&ks, "Healthy")
            .unwrap()
            .message
            .contains(&format!("ConfigMap/{ns}/h-a"))
    );
    let patch = json!({"spec": {"healthCheckExprs": [{"apiVersion": "v1", "kind": "ConfigMap", "current": "has(data.key) && data.key.startsWith('${greeting}')"}]}});
    w.ks.patch("exprs", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    w.wait_ready("exprs", "True", None).await?;
    let patch = json!({"spec": {"healthCheckExprs": [{"apiVersion": "v1", "kind": "ConfigMap", "current": "(("}]}});
    w.ks.patch("exprs", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    let ks = w
        .wait_ready("exprs", "False", Some("InvalidCELExpression"))
        .await?;
    assert_eq!(cond(&ks, "Stalled").map(|c| c.status), Some("True".into()));
    w.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_kubeconfig_and_default_service_account() -> Result<()> {
    let mut w = World::with(&[("app/a.yaml", &cm("a", "1"))], |o| {
        o.default_service_account = Some("nobody".into())
    })
    .await?;
    let ns = w.ns.clone();
    let rev = w.head()?;

    // --default-service-account applies to Kustomizations without serviceAccountName.
    w.create("def", w.spec("./app")).await?;
    let ks = w
        .wait_ready("def", "False", Some("ReconciliationFailed"))
        .await?;
    let msg = cond(&ks, "Ready").unwrap().message;
    assert!(
        msg.contains(&format!("system:serviceaccount:{ns}:nobody")),
        "{msg}"
    );
    assert!(w.cm("a").await?.is_none());

    // spec.kubeConfig: the kubeconfig in a Secret names the (here: same) cluster to apply to.
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(w.client.clone(), &ns);
    let put = |name: &str, value: String| {
        let mut s = k8s_openapi::api::core::v1::Secret::default();
        s.metadata.name = Some(name.into());
        s.string_data = Some([("value".to_string(), value)].into());
        s
    };
    let kubeconfig = harness::server().kubeconfig.clone();
    secrets
        .create(&PostParams::default(), &put("kc", kubeconfig.clone()))
        .await?;
    let mut spec = w.spec("./app");
    spec.kube_config = Some(api::meta::KubeConfigReference {
        secret_ref: Some(api::meta::SecretKeyReference {
            name: "kc".into(),
            key: None,
        }),
        ..Default::default()
    });
    spec.deletion_policy = Some("WaitForTermination".into());
    w.create("remote", spec.clone()).await?;
    w.wait_applied("remote", &rev).await?;
    assert!(w.cm("a").await?.is_some(), "applied through the kubeconfig");

    // Exec plugins are refused unless --insecure-kubeconfig-exec.
    let mut kc: Value = serde_json::to_value(kube::config::Kubeconfig::from_yaml(&kubeconfig)?)?;
    for u in kc["users"].as_array_mut().context("users")? {
        u["user"] = json!({"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "/bin/false"}});
    }
    secrets
        .create(
            &PostParams::default(),
            &put("kc-exec", serde_json::to_string(&kc)?),
        )
        .await?;
    let mut exec = spec.clone();
    exec.name_prefix = Some("exec-".into());
    exec.kube_config
        .as_mut()
        .unwrap()
        .secret_ref
        .as_mut()
        .unwrap()
        .name = "kc-exec".into();
    w.create("exec", exec).await?;
    let ks = w
        .wait_ready("exec", "False", Some("ReconciliationFailed"))
        .await?;
    let msg = cond(&ks, "Ready").unwrap().message;
    assert!(msg.contains("--insecure-kubeconfig-exec"), "{msg}");
    assert!(w.cm("exec-a").await?.is_none());

    // WaitForTermination: deleting the Kustomization deletes its objects first.
    w.delete("remote").await?;
    assert!(w.cm("a").await?.is_none());
    w.stop().await;
    Ok(())
}
