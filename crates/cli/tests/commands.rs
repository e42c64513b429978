//! The everyday `flux` commands (get, create, suspend/resume, reconcile, export, delete, tree,
//! events, check) run as a user runs them: the real binary with `--kubeconfig`, against the
//! embedded API server started in-process (TLS, random port, temp data dir) with Flux's CRDs.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

#[path = "commands/build_diff.rs"]
mod build_diff;
#[path = "commands/get_all.rs"]
mod get_all;

/// The shared server: its kubeconfig and a runtime handle for in-test API calls.
struct Env {
    kubeconfig: PathBuf,
    rt: tokio::runtime::Runtime,
    client: kube::Client,
}

static ENV: OnceLock<Env> = OnceLock::new();

/// Starts the API server once per test binary and installs the Flux CRDs.
fn env() -> &'static Env {
    ENV.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let kubeconfig = dir.join("kubeconfig");
        let client = rt.block_on(async {
            let mut cfg = apiserver::Config::new(dir.join("data"));
            cfg.tls = true;
            cfg.kubeconfig_out = Some(kubeconfig.clone());
            let server = apiserver::start(cfg).await.expect("server starts");
            // Keep the server for the life of the test process.
            std::mem::forget(server);
            let kc = kube::config::Kubeconfig::read_from(&kubeconfig).expect("kubeconfig");
            let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
                .await
                .expect("config");
            let client = kube::Client::try_from(config).expect("client");
            let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
            for crd in api::crds::all() {
                crds.create(&PostParams::default(), &crd)
                    .await
                    .expect("create crd");
            }
            client
        });
        Env {
            kubeconfig,
            rt,
            client,
        }
    })
}

/// A fresh namespace for one test (fixed names keep golden outputs stable; the server is new
/// for every run of this binary).
fn namespace(name: &str) -> String {
    let e = env();
    let name = name.to_string();
    e.rt.block_on(async {
        let nss: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(e.client.clone());
        let ns = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
        nss.create(&PostParams::default(), &ns)
            .await
            .expect("namespace");
    });
    name
}

/// Runs `flux ARGS --kubeconfig K`.
fn flux(args: &[&str]) -> Output {
    let e = env();
    Command::new(env!("CARGO_BIN_EXE_flux"))
        .args(args)
        .arg("--kubeconfig")
        .arg(&e.kubeconfig)
        .stdin(Stdio::null())
        .output()
        .expect("running flux")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts success and returns stdout.
fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "flux failed: stdout={} stderr={}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

fn resource(api_version: &str, kind: &str, plural: &str) -> ApiResource {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: api_version.into(),
        kind: kind.into(),
        plural: plural.into(),
    }
}

fn git_repos(ns: &str) -> Api<DynamicObject> {
    Api::namespaced_with(
        env().client.clone(),
        ns,
        &resource(
            "source.toolkit.fluxcd.io/v1",
            "GitRepository",
            "gitrepositories",
        ),
    )
}

fn kustomizations(ns: &str) -> Api<DynamicObject> {
    Api::namespaced_with(
        env().client.clone(),
        ns,
        &resource(
            "kustomize.toolkit.fluxcd.io/v1",
            "Kustomization",
            "kustomizations",
        ),
    )
}

/// Creates an object from JSON.
fn create(api: &Api<DynamicObject>, obj: Value) {
    let obj: DynamicObject = serde_json::from_value(obj).unwrap();
    env()
        .rt
        .block_on(api.create(&PostParams::default(), &obj))
        .expect("create");
}

/// Reads an object as JSON.
fn read(api: &Api<DynamicObject>, name: &str) -> Value {
    let o = env().rt.block_on(api.get(name)).expect("get");
    serde_json::to_value(o).unwrap()
}

/// Merge-patches the status subresource (plays the controller).
fn patch_status(api: &Api<DynamicObject>, name: &str, status: Value) {
    env()
        .rt
        .block_on(api.patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": status })),
        ))
        .expect("patch status");
}

const SHA: &str = "2a3f1c0e5b6d7a8f9e0d1c2b3a4f5e6d7c8b9a0f";

fn git_repo(ns: &str, name: &str) -> Value {
    json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"interval": "1m", "url": "https://github.com/stefanprodan/podinfo", "ref": {"branch": "master"}}
    })
}

fn ready_status(generation: i64, revision: &str, message: &str) -> Value {
    json!({
        "observedGeneration": generation,
        "conditions": [{
            "type": "Ready", "status": "True", "reason": "Succeeded", "message": message,
            "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": generation
        }],
        "artifact": {
            "path": "gitrepository/x/y/z.tar.gz", "url": "http://source/x.tar.gz",
            "revision": revision, "digest": "sha256:00", "lastUpdateTime": "2026-01-01T00:00:00Z"
        }
    })
}

fn golden(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Starts `flux ARGS --kubeconfig K` in the background (the test then plays the controller).
fn spawn_flux(args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_flux"))
        .args(args)
        .arg("--kubeconfig")
        .arg(&env().kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn flux")
}

/// Polls (up to 20 s) until `f` returns something.
fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..200 {
        if let Some(v) = f() {
            return v;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

fn try_read(api: &Api<DynamicObject>, name: &str) -> Option<Value> {
    env()
        .rt
        .block_on(api.get_opt(name))
        .expect("get")
        .map(|o| serde_json::to_value(o).unwrap())
}

/// Asserts a failed run printed exactly one `✗ ` line and returns it.
fn one_error_line(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(1),
        "stdout={} stderr={}",
        stdout(o),
        stderr(o)
    );
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {err:?}");
    assert!(lines[0].starts_with("✗ "), "{err}");
    lines[0].to_string()
}

#[test]
fn create_source_git_export_prints_upstream_yaml() {
    let out = ok(flux(&[
        "create",
        "source",
        "git",
        "podinfo",
        "--url=https://github.com/stefanprodan/podinfo",
        "--branch=master",
        "--ignore-paths",
        ".cosign,non-existent-dir/",
        "--namespace=default",
        "--export",
    ]));
    assert_eq!(out, golden("create_source_git_export.yaml"));

    // Ref precedence and the optional fields, as upstream sets them.
    let out = ok(flux(&[
        "create",
        "source",
        "git",
        "app",
        "--url=ssh://git@github.com/org/app",
        "--commit=abc123",
        "--branch=main",
        "--tag=v1",
        "--secret-ref=app-key",
        "--recurse-submodules",
        "--interval=10m",
        "--fetch-timeout=90s",
        "--label=env=prod",
        "--export",
    ]));
    assert_eq!(
        out,
        "---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  labels:\n    env: prod\n  name: app\n  namespace: flux-system\nspec:\n  interval: 10m0s\n  recurseSubmodules: true\n  ref:\n    branch: main\n    commit: abc123\n  secretRef:\n    name: app-key\n  timeout: 1m30s\n  url: ssh://git@github.com/org/app\n\n"
    );
    let out = ok(flux(&[
        "create",
        "source",
        "git",
        "app",
        "--url=https://example.com/app",
        "--tag-semver=>=1.0.0 <2.0.0",
        "--export",
    ]));
    assert!(
        out.contains("  ref:\n    semver: '>=1.0.0 <2.0.0'\n"),
        "{out}"
    );
}

#[test]
fn create_kustomization_export_prints_upstream_yaml() {
    let out = ok(flux(&[
        "create",
        "kustomization",
        "mysql",
        "--source=GitRepository/apps",
        "--path=./apps/",
        "--decryption-provider=sops",
        "--decryption-secret=sops-age",
        "--export",
    ]));
    assert_eq!(out, golden("create_kustomization_export.yaml"));
    let out = ok(flux(&[
        "create",
        "ks",
        "podinfo",
        "-n",
        "default",
        "--source=gitrepository/podinfo.flux-system",
        "--path=kustomize",
        "--prune=true",
        "--interval=5m",
        "--wait",
        "--health-check-timeout=3m",
        "--depends-on=infra,flux-system/crds",
        "--target-namespace=apps",
        "--service-account=deployer",
        "--retry-interval=1m",
        "--label",
        "team=apps",
        "--export",
    ]));
    assert_eq!(out, golden("create_kustomization_full_export.yaml"));
}

#[test]
fn create_rejects_invalid_flags_with_one_line() {
    let line = one_error_line(&flux(&[
        "create",
        "source",
        "git",
        "x",
        "--url=https://h/r",
        "--export",
    ]));
    assert_eq!(
        line,
        "✗ a Git ref is required, use one of the following: --branch, --tag, --commit, --ref-name or --tag-semver"
    );
    let line = one_error_line(&flux(&[
        "create",
        "source",
        "git",
        "x",
        "--url=ftp://h/r",
        "--branch=main",
    ]));
    assert_eq!(
        line,
        "✗ git URL scheme 'ftp' not supported, can be: ssh, http and https"
    );
    let line = one_error_line(&flux(&[
        "create",
        "source",
        "git",
        "x",
        "--url=ssh://git@h/r",
        "--branch=main",
        "--ca-file=/tmp/ca.pem",
        "--export",
    ]));
    assert_eq!(
        line,
        "✗ specifying a CA file is not supported for Git over SSH"
    );
    let line = one_error_line(&flux(&[
        "create",
        "ks",
        "x",
        "--source=HelmRepository/x",
        "--export",
    ]));
    assert!(
        line.contains("source kind 'HelmRepository' is not supported"),
        "{line}"
    );
}

#[test]
fn get_sources_git_prints_upstream_columns_from_real_status() {
    let ns = namespace("get");
    let api = git_repos(&ns);
    create(&api, git_repo(&ns, "podinfo"));
    create(&api, git_repo(&ns, "waiting"));
    let rev = format!("master@sha1:{SHA}");
    patch_status(
        &api,
        "podinfo",
        ready_status(1, &rev, &format!("stored artifact for revision '{rev}'")),
    );
    let out = ok(flux(&["get", "sources", "git", "-n", &ns]));
    assert_eq!(out, golden("get_sources_git.txt"));

    // One object by name; --no-header.
    let out = ok(flux(&[
        "get",
        "sources",
        "git",
        "waiting",
        "--no-header",
        "-n",
        &ns,
    ]));
    assert_eq!(out, "waiting\t\tFalse\tFalse\twaiting to be reconciled\t\n");

    // --status-selector keeps only matching objects (case-insensitive, as upstream).
    let out = ok(flux(&[
        "get",
        "sources",
        "git",
        "-n",
        &ns,
        "--status-selector",
        "ready=true",
    ]));
    assert!(out.contains("podinfo") && !out.contains("waiting"), "{out}");
    let line = one_error_line(&flux(&[
        "get",
        "sources",
        "git",
        "--status-selector",
        "ready",
    ]));
    assert_eq!(
        line,
        "✗ expected status selector in type=status format, but found: ready"
    );

    // Nothing there: a failure line on stderr, exit 0, as upstream.
    let o = flux(&["get", "sources", "git", "-n", "default"]);
    assert!(o.status.success());
    assert_eq!(
        stderr(&o),
        "✗ no GitRepository objects found in \"default\" namespace\n"
    );
    let o = flux(&["get", "sources", "git", "nope", "-n", &ns]);
    assert_eq!(
        stderr(&o),
        format!("✗ GitRepository object 'nope' not found in \"{ns}\" namespace\n")
    );
}

#[test]
fn get_all_namespaces_puts_namespace_first_and_get_all_prefixes_kinds() {
    let a = namespace("team-a");
    let b = namespace("team-b");
    create(&git_repos(&a), git_repo(&a, "one"));
    create(&git_repos(&b), git_repo(&b, "two"));
    let ks = kustomizations(&a);
    create(&ks, kustomization(&a, "apps", "one"));
    patch_status(
        &ks,
        "apps",
        json!({
            "observedGeneration": 1, "lastAppliedRevision": format!("main@sha1:{SHA}"),
            "conditions": [{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded",
                "message": format!("Applied revision: main@sha1:{SHA}"), "lastTransitionTime": "2026-01-01T00:00:00Z"}]
        }),
    );

    // Other tests' objects share the server: compare the cells of our rows.
    let out = ok(flux(&["get", "sources", "git", "-A"]));
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split('\t').map(str::trim).collect())
        .collect();
    assert_eq!(
        rows[0],
        [
            "NAMESPACE",
            "NAME",
            "REVISION",
            "SUSPENDED",
            "READY",
            "MESSAGE",
            ""
        ]
    );
    for (ns, name) in [("team-a", "one"), ("team-b", "two")] {
        assert!(
            rows.contains(&vec![
                ns,
                name,
                "",
                "False",
                "False",
                "waiting to be reconciled",
                ""
            ]),
            "{out}"
        );
    }
    // Every line has the same column layout (tab-separated, padded).
    let width = out.lines().next().unwrap().find("\tNAME").unwrap() + 1;
    assert!(
        out.lines().all(|l| l.as_bytes()[width - 1] == b'\t'),
        "{out}"
    );

    let out = ok(flux(&["get", "ks", "-n", &a]));
    assert_eq!(
        out,
        "NAME\tREVISION          \tSUSPENDED\tREADY\tMESSAGE                             \t\n\
         apps\tmain@sha1:2a3f1c0e\tFalse    \tTrue \tApplied revision: main@sha1:2a3f1c0e\t\n"
    );

    let out = ok(flux(&["get", "all", "-n", &a]));
    assert_eq!(
        out,
        "NAME             \tREVISION\tSUSPENDED\tREADY\tMESSAGE                 \t\n\
         gitrepository/one\t        \tFalse    \tFalse\twaiting to be reconciled\t\n\
         \n\
         NAME              \tREVISION          \tSUSPENDED\tREADY\tMESSAGE                             \t\n\
         kustomization/apps\tmain@sha1:2a3f1c0e\tFalse    \tTrue \tApplied revision: main@sha1:2a3f1c0e\t\n\
         \n"
    );
}

fn kustomization(ns: &str, name: &str, source: &str) -> Value {
    json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"interval": "5m", "path": "./apps", "prune": true,
                 "sourceRef": {"kind": "GitRepository", "name": source}}
    })
}

#[test]
fn suspend_and_resume_flip_spec_suspend() {
    let ns = namespace("suspend");
    let api = git_repos(&ns);
    create(&api, git_repo(&ns, "podinfo"));
    create(&api, git_repo(&ns, "other"));

    let o = flux(&["suspend", "source", "git", "podinfo", "-n", &ns]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        format!("► suspending source git podinfo in {ns} namespace\n✔ source git suspended\n")
    );
    assert_eq!(read(&api, "podinfo")["spec"]["suspend"], true);
    assert!(read(&api, "other")["spec"]["suspend"].is_null());
    let out = ok(flux(&[
        "get",
        "sources",
        "git",
        "podinfo",
        "--no-header",
        "-n",
        &ns,
    ]));
    assert!(
        out.contains("\tTrue\t"),
        "SUSPENDED column shows True: {out}"
    );

    // A suspended object cannot be reconciled.
    let line = one_error_line(&flux(&["reconcile", "source", "git", "podinfo", "-n", &ns]));
    assert_eq!(line, "✗ resource is suspended");

    let o = flux(&[
        "resume",
        "source",
        "git",
        "podinfo",
        "-n",
        &ns,
        "--wait=false",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        format!("► resuming source git podinfo in {ns} namespace\n✔ source git resumed\n")
    );
    let obj = read(&api, "podinfo");
    assert_eq!(obj["spec"]["suspend"], false);
    assert!(obj["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"].is_string());

    // --all acts on every object of the kind in the namespace.
    ok(flux(&["suspend", "source", "git", "--all", "-n", &ns]));
    assert_eq!(read(&api, "podinfo")["spec"]["suspend"], true);
    assert_eq!(read(&api, "other")["spec"]["suspend"], true);
}

#[test]
fn resume_waits_for_ready_and_prints_the_revision() {
    let ns = namespace("resume");
    let api = git_repos(&ns);
    let mut repo = git_repo(&ns, "podinfo");
    repo["spec"]["suspend"] = json!(true);
    create(&api, repo);
    let child = spawn_flux(&[
        "resume",
        "source",
        "git",
        "podinfo",
        "-n",
        &ns,
        "--timeout=30s",
    ]);
    // Play the controller: once resumed, report Ready for the new generation.
    let generation = eventually("resume patch", || {
        let o = try_read(&api, "podinfo")?;
        (o["spec"]["suspend"] == false).then(|| o["metadata"]["generation"].as_i64().unwrap())
    });
    let rev = format!("master@sha1:{SHA}");
    patch_status(&api, "podinfo", ready_status(generation, &rev, "stored"));
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).ends_with(&format!(
        "◎ waiting for GitRepository reconciliation\n✔ GitRepository reconciliation completed\n✔ fetched revision {rev}\n"
    )), "{}", stderr(&o));
}

#[test]
fn reconcile_annotates_and_waits_for_the_controller() {
    let ns = namespace("reconcile");
    let api = git_repos(&ns);
    create(&api, git_repo(&ns, "podinfo"));
    let ks = kustomizations(&ns);
    create(&ks, kustomization(&ns, "apps", "podinfo"));

    let child = spawn_flux(&[
        "reconcile",
        "ks",
        "apps",
        "--with-source",
        "-n",
        &ns,
        "--timeout=30s",
    ]);
    let rev = format!("main@sha1:{SHA}");
    // The source first: answer its request with a new artifact.
    let requested = eventually("source annotation", || {
        try_read(&api, "podinfo")?["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"]
            .as_str()
            .map(str::to_string)
    });
    let mut status = ready_status(1, &rev, "stored artifact");
    status["lastHandledReconcileAt"] = json!(requested);
    patch_status(&api, "podinfo", status);
    // Then the Kustomization.
    let requested = eventually("kustomization annotation", || {
        try_read(&ks, "apps")?["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"]
            .as_str()
            .map(str::to_string)
    });
    patch_status(
        &ks,
        "apps",
        json!({
            "observedGeneration": 1, "lastAppliedRevision": rev, "lastHandledReconcileAt": requested,
            "conditions": [{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded",
                "message": "Applied", "lastTransitionTime": "2026-01-01T00:00:00Z"}]
        }),
    );
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        format!(
            "► annotating GitRepository podinfo in {ns} namespace\n\
             ✔ GitRepository annotated\n\
             ◎ waiting for GitRepository reconciliation\n\
             ✔ GitRepository reconciliation completed\n\
             ✔ fetched revision {rev}\n\
             ► annotating Kustomization apps in {ns} namespace\n\
             ✔ Kustomization annotated\n\
             ◎ waiting for Kustomization reconciliation\n\
             ✔ Kustomization reconciliation completed\n\
             ✔ applied revision {rev}\n"
        )
    );
}

#[test]
fn reconcile_reports_failure_and_timeout_in_one_line() {
    let ns = namespace("reconcile-fail");
    let api = git_repos(&ns);
    create(&api, git_repo(&ns, "broken"));
    let child = spawn_flux(&[
        "reconcile",
        "source",
        "git",
        "broken",
        "-n",
        &ns,
        "--timeout=30s",
    ]);
    let requested = eventually("annotation", || {
        try_read(&api, "broken")?["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"]
            .as_str()
            .map(str::to_string)
    });
    patch_status(
        &api,
        "broken",
        json!({
            "observedGeneration": 1, "lastHandledReconcileAt": requested,
            "conditions": [{"type": "Ready", "status": "False", "reason": "GitOperationFailed",
                "message": "failed to checkout and determine revision: unable to clone", "lastTransitionTime": "2026-01-01T00:00:00Z"}]
        }),
    );
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        err.lines().last().unwrap(),
        "✗ GitRepository reconciliation failed: failed to checkout and determine revision: unable to clone"
    );

    // Nobody answers: the timeout ends the wait with one line.
    create(&api, git_repo(&ns, "idle"));
    let o = flux(&[
        "reconcile",
        "source",
        "git",
        "idle",
        "-n",
        &ns,
        "--timeout=1s",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o).lines().last().unwrap(),
        format!("✗ timeout waiting for GitRepository {ns}/idle reconciliation")
    );
}

#[test]
fn create_source_git_applies_and_waits_for_ready() {
    let ns = namespace("create");
    let api = git_repos(&ns);
    let rev = format!("master@sha1:{SHA}");
    let args = [
        "create",
        "source",
        "git",
        "podinfo",
        "--url=https://github.com/stefanprodan/podinfo",
        "--branch=master",
        "-n",
        &ns,
        "--timeout=30s",
    ];
    let child = spawn_flux(&args);
    let obj = eventually("GitRepository", || try_read(&api, "podinfo"));
    assert_eq!(obj["spec"]["ref"]["branch"], "master");
    assert_eq!(obj["spec"]["interval"], "1m0s");
    patch_status(&api, "podinfo", ready_status(1, &rev, "stored"));
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        format!(
            "✚ generating GitRepository source\n\
             ► applying GitRepository source\n\
             ✔ GitRepository source created\n\
             ◎ waiting for GitRepository source reconciliation\n\
             ✔ GitRepository source reconciliation completed\n\
             ✔ fetched revision: {rev}\n"
        )
    );

    // Running it again with another branch updates the spec (new generation) and waits again.
    let mut args2 = args.to_vec();
    args2[5] = "--branch=main";
    let child = spawn_flux(&args2);
    let generation = eventually("updated spec", || {
        let o = try_read(&api, "podinfo")?;
        (o["spec"]["ref"]["branch"] == "main")
            .then(|| o["metadata"]["generation"].as_i64().unwrap())
    });
    assert_eq!(generation, 2);
    patch_status(
        &api,
        "podinfo",
        ready_status(
            2,
            "main@sha1:0000000000000000000000000000000000000000",
            "stored",
        ),
    );
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("✔ GitRepository source updated\n"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn create_kustomization_applies_and_waits_for_ready() {
    let ns = namespace("create-ks");
    let ks = kustomizations(&ns);
    let child = spawn_flux(&[
        "create",
        "kustomization",
        "apps",
        "--source=podinfo",
        "--path=./deploy",
        "--prune=true",
        "-n",
        &ns,
        "--timeout=30s",
    ]);
    let obj = eventually("Kustomization", || try_read(&ks, "apps"));
    assert_eq!(
        obj["spec"]["sourceRef"],
        json!({"kind": "GitRepository", "name": "podinfo"})
    );
    assert_eq!(obj["spec"]["prune"], true);
    patch_status(
        &ks,
        "apps",
        json!({
            "observedGeneration": 1, "lastAppliedRevision": "main@sha1:abc",
            "conditions": [{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded",
                "message": "Applied", "lastTransitionTime": "2026-01-01T00:00:00Z"}]
        }),
    );
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "✚ generating Kustomization\n► applying Kustomization\n✔ Kustomization created\n\
         ◎ waiting for Kustomization reconciliation\n✔ Kustomization apps is ready\n\
         ✔ applied revision main@sha1:abc\n"
    );
}

#[test]
fn export_prints_only_what_recreates_the_objects() {
    let ns = namespace("export");
    let api = git_repos(&ns);
    let mut repo = git_repo(&ns, "podinfo");
    repo["metadata"]["labels"] = json!({"app": "podinfo"});
    repo["metadata"]["annotations"] = json!({"note": "kept"});
    repo["spec"]["timeout"] = json!("60s");
    create(&api, repo);
    create(&api, git_repo(&ns, "second"));
    patch_status(
        &api,
        "podinfo",
        ready_status(1, "master@sha1:abc", "stored"),
    );

    let out = ok(flux(&["export", "source", "git", "podinfo", "-n", &ns]));
    assert_eq!(
        out,
        format!(
            "---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  annotations:\n    note: kept\n  labels:\n    app: podinfo\n  name: podinfo\n  namespace: {ns}\nspec:\n  interval: 1m0s\n  ref:\n    branch: master\n  timeout: 1m0s\n  url: https://github.com/stefanprodan/podinfo\n\n"
        )
    );
    let out = ok(flux(&["export", "source", "git", "--all", "-n", &ns]));
    assert_eq!(out.matches("---\n").count(), 2, "{out}");
    assert!(
        out.contains("  name: second\n") && !out.contains("status"),
        "{out}"
    );

    let ks = kustomizations(&ns);
    create(&ks, kustomization(&ns, "apps", "podinfo"));
    let out = ok(flux(&["export", "ks", "apps", "-n", &ns]));
    assert_eq!(
        out,
        format!(
            "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: {ns}\nspec:\n  interval: 5m0s\n  path: ./apps\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: podinfo\n\n"
        )
    );
    assert_eq!(
        one_error_line(&flux(&["export", "ks", "-n", &ns])),
        "✗ name is required"
    );
}

#[test]
fn delete_removes_the_object_and_missing_objects_fail_in_one_line() {
    let ns = namespace("delete");
    let api = git_repos(&ns);
    create(&api, git_repo(&ns, "podinfo"));
    // No confirmation on a closed stdin: nothing is deleted.
    let line = one_error_line(
        &flux(&["delete", "source", "git", "podinfo", "-n", &ns]).with_prompt_stripped(),
    );
    assert_eq!(line, "✗ aborting");
    assert!(try_read(&api, "podinfo").is_some());

    let o = flux(&["delete", "source", "git", "podinfo", "--silent", "-n", &ns]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        format!("► deleting source git podinfo in {ns} namespace\n✔ source git deleted\n")
    );
    assert!(try_read(&api, "podinfo").is_none());

    let line = one_error_line(&flux(&[
        "delete", "source", "git", "podinfo", "-s", "-n", &ns,
    ]));
    assert_eq!(
        line,
        "✗ gitrepositories.source.toolkit.fluxcd.io \"podinfo\" not found"
    );
    let line = one_error_line(&flux(&["suspend", "ks", "nope", "-n", &ns]));
    assert_eq!(
        line,
        "✗ kustomizations.kustomize.toolkit.fluxcd.io \"nope\" not found"
    );
}

/// The confirmation prompt has no newline of its own; drop it so the error line stands alone.
trait StripPrompt {
    fn with_prompt_stripped(self) -> Output;
}

impl StripPrompt for Output {
    fn with_prompt_stripped(mut self) -> Output {
        let err = String::from_utf8_lossy(&self.stderr).into_owned();
        let err = err
            .strip_prefix("Are you sure you want to delete this source git [y/N]: ")
            .unwrap_or(&err)
            .to_string();
        self.stderr = err.into_bytes();
        self
    }
}

#[test]
fn tree_draws_the_inventory_with_nested_kustomizations() {
    let ns = namespace("tree");
    let ks = kustomizations(&ns);
    create(&ks, kustomization(&ns, "root", "repo"));
    create(&ks, kustomization(&ns, "apps", "repo"));
    let entry = |id: &str| json!({"id": id, "v": "v1"});
    patch_status(
        &ks,
        "root",
        json!({"inventory": {"entries": [
            entry("_apps__Namespace"),
            entry("_system__controller_rbac.authorization.k8s.io_ClusterRole"),
            entry(&format!("{ns}_apps_kustomize.toolkit.fluxcd.io_Kustomization")),
            entry("apps_settings__ConfigMap"),
        ]}}),
    );
    patch_status(
        &ks,
        "apps",
        json!({"inventory": {"entries": [
            entry("apps_podinfo__Service"),
            entry("apps_podinfo_apps_Deployment"),
        ]}}),
    );
    let out = ok(flux(&["tree", "kustomization", "root", "-n", &ns]));
    assert_eq!(out, golden("tree_kustomization.txt"));
}

#[test]
fn events_lists_flux_object_events_with_upstream_columns() {
    let ns = namespace("events");
    let events: Api<DynamicObject> = Api::namespaced_with(
        env().client.clone(),
        &ns,
        &resource("v1", "Event", "events"),
    );
    let past = |days: i64| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        k8s_openapi::jiff::Timestamp::from_second(now - days * 86400)
            .unwrap()
            .to_string()
    };
    let event = |name: &str,
                 kind: &str,
                 api_version: &str,
                 obj: &str,
                 typ: &str,
                 reason: &str,
                 msg: &str,
                 at: String| {
        json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": ns},
            "involvedObject": {"apiVersion": api_version, "kind": kind, "name": obj, "namespace": ns},
            "type": typ, "reason": reason, "message": msg,
            "firstTimestamp": at, "lastTimestamp": at, "count": 1,
            "source": {"component": "source-controller"}
        })
    };
    create(
        &events,
        event(
            "e1",
            "GitRepository",
            "source.toolkit.fluxcd.io/v1",
            "podinfo",
            "Normal",
            "NewArtifact",
            "stored artifact for commit 'Initial'",
            past(3),
        ),
    );
    create(
        &events,
        event(
            "e2",
            "Kustomization",
            "kustomize.toolkit.fluxcd.io/v1",
            "apps",
            "Warning",
            "ReconciliationFailed",
            "kustomization path not found",
            past(2),
        ),
    );
    create(
        &events,
        event(
            "e3",
            "Pod",
            "v1",
            "web-0",
            "Normal",
            "Pulled",
            "not a flux object",
            past(1),
        ),
    );

    let out = ok(flux(&["events", "-n", &ns]));
    assert_eq!(
        out,
        "LAST SEEN\tTYPE   \tREASON              \tOBJECT               \tMESSAGE                             \t\n\
         3d       \tNormal \tNewArtifact         \tGitRepository/podinfo\tstored artifact for commit 'Initial'\t\n\
         2d       \tWarning\tReconciliationFailed\tKustomization/apps   \tkustomization path not found        \t\n"
    );
    let out = ok(flux(&["events", "-n", &ns, "--for", "Kustomization/apps"]));
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.contains("ReconciliationFailed"));
    let out = ok(flux(&["events", "-n", &ns, "--for", "gitrepository"]));
    assert!(
        out.contains("NewArtifact") && !out.contains("ReconciliationFailed"),
        "{out}"
    );
    let line = one_error_line(&flux(&["events", "-n", &ns, "--types", "Error"]));
    assert_eq!(
        line,
        "✗ type 'Error' not supported, valid types are: Normal, Warning"
    );
    let out = ok(flux(&["events", "-n", &ns, "--types", "Normal"]));
    assert!(
        out.contains("NewArtifact") && !out.contains("ReconciliationFailed"),
        "{out}"
    );
}

#[test]
fn an_unreachable_server_is_one_readable_line() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    // A port nothing listens on (bound then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(&kc, format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:{port}\n\
         contexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user:\n    token: t\n"
    )).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_flux"))
        .args(["get", "sources", "git", "--kubeconfig"])
        .arg(&kc)
        .output()
        .unwrap();
    let line = one_error_line(&o);
    assert!(
        line.starts_with(&format!(
            "✗ unable to reach the Kubernetes API server at http://127.0.0.1:{port}: "
        )),
        "{line}"
    );
    assert!(line.to_lowercase().contains("refused"), "{line}");
    let o = Command::new(env!("CARGO_BIN_EXE_flux"))
        .args([
            "get",
            "sources",
            "git",
            "--kubeconfig",
            "/nonexistent/kubeconfig",
        ])
        .output()
        .unwrap();
    assert!(one_error_line(&o).starts_with("✗ reading kubeconfig /nonexistent/kubeconfig: "));
}

#[test]
fn check_passes_with_the_crds_installed() {
    let o = flux(&["check", "--pre"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.starts_with("► checking prerequisites\n✔ Kubernetes 1."),
        "{err}"
    );
    assert!(err.ends_with("✔ prerequisites checks passed\n"), "{err}");
    let o = flux(&["check"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("✔ gitrepositories.source.toolkit.fluxcd.io/v1\n"),
        "{err}"
    );
    assert!(
        err.contains("✔ helmreleases.helm.toolkit.fluxcd.io/v2\n"),
        "{err}"
    );
    assert!(err.ends_with("✔ all checks passed\n"), "{err}");
}

#[test]
fn completion_scripts_cover_the_command_tree() {
    for shell in ["bash", "zsh", "fish"] {
        let o = Command::new(env!("CARGO_BIN_EXE_flux"))
            .args(["completion", shell])
            .output()
            .unwrap();
        let out = ok(o);
        for word in ["reconcile", "kustomization", "status-selector"] {
            assert!(out.contains(word), "{shell} completion lacks {word}");
        }
    }
}

#[test]
fn get_watch_prints_the_current_rows_then_each_change() {
    use std::io::BufRead;
    let ns = namespace("watch");
    let api = git_repos(&ns);
    create(&api, git_repo(&ns, "podinfo"));
    let mut child = spawn_flux(&["get", "sources", "git", "-w", "-n", &ns, "--timeout=20s"]);
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = || lines.next().expect("a line").expect("utf-8");
    assert_eq!(
        next(),
        "NAME   \tREVISION\tSUSPENDED\tREADY\tMESSAGE                 \t"
    );
    assert_eq!(
        next(),
        "podinfo\t        \tFalse    \tFalse\twaiting to be reconciled\t"
    );
    // A watch of one object by name (a field selector) alongside; another object is ignored.
    create(&api, git_repo(&ns, "other"));
    let mut named = spawn_flux(&[
        "get",
        "sources",
        "git",
        "podinfo",
        "-w",
        "-n",
        &ns,
        "--timeout=20s",
    ]);
    let mut named_lines = std::io::BufReader::new(named.stdout.take().unwrap()).lines();
    let mut named_next = || named_lines.next().expect("a line").expect("utf-8");
    assert!(named_next().starts_with("NAME"));
    assert!(named_next().starts_with("podinfo\t"));
    assert!(
        next().starts_with("other\t"),
        "the unfiltered watch sees the new object"
    );
    // The listing is printed; a change made now arrives through the watch as a new row.
    let rev = format!("master@sha1:{SHA}");
    patch_status(&api, "podinfo", ready_status(1, &rev, "stored artifact"));
    assert_eq!(
        next(),
        "podinfo\tmaster@sha1:2a3f1c0e\tFalse\tTrue\tstored artifact\t"
    );
    assert_eq!(
        named_next(),
        "podinfo\tmaster@sha1:2a3f1c0e\tFalse\tTrue\tstored artifact\t"
    );
    named.kill().expect("stop the named watch");
    named.wait().unwrap();
    child.kill().expect("stop the watch");
    child.wait().unwrap();
}

#[test]
fn context_flag_selects_the_kubeconfig_context() {
    // A kubeconfig whose current context points nowhere, plus the real one by name.
    let text = std::fs::read_to_string(&env().kubeconfig).unwrap();
    let mut kc: Value = serde_json::to_value(
        kube::config::Kubeconfig::from_yaml(&text).expect("kubeconfig parses"),
    )
    .unwrap();
    let real = kc["current-context"].as_str().unwrap().to_string();
    let real_ctx = kc["contexts"][0].clone();
    kc["clusters"].as_array_mut().unwrap().push(json!({
        "name": "nowhere", "cluster": {"server": "http://127.0.0.1:9"}
    }));
    let mut broken = real_ctx.clone();
    broken["name"] = json!("broken");
    broken["context"]["cluster"] = json!("nowhere");
    kc["contexts"].as_array_mut().unwrap().push(broken);
    kc["current-context"] = json!("broken");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    // JSON is YAML: the kubeconfig loader reads it as is.
    std::fs::write(&path, serde_json::to_string(&kc).unwrap()).unwrap();
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_flux"))
            .args(["check", "--pre", "--kubeconfig"])
            .arg(&path)
            .args(extra)
            .output()
            .unwrap()
    };
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o)
            .lines()
            .last()
            .unwrap()
            .contains("http://127.0.0.1:9"),
        "{}",
        stderr(&o)
    );
    let o = run(&["--context", &real]);
    assert!(o.status.success(), "{}", stderr(&o));
    // KUBECONFIG works too, as with kubectl.
    let o = Command::new(env!("CARGO_BIN_EXE_flux"))
        .args(["check", "--pre", "--context", &real])
        .env("KUBECONFIG", &path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn create_source_git_with_basic_auth_stores_a_secret() {
    let ns = namespace("create-auth");
    let api = git_repos(&ns);
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(
        &ca,
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let ca_flag = format!("--ca-file={}", ca.display());
    let child = spawn_flux(&[
        "create",
        "source",
        "git",
        "private",
        "--url=https://git.example.com/org/private",
        "--branch=main",
        "--username=git",
        "--password=s3cret",
        &ca_flag,
        "-n",
        &ns,
        "--timeout=30s",
    ]);
    let obj = eventually("GitRepository", || try_read(&api, "private"));
    assert_eq!(obj["spec"]["secretRef"], json!({"name": "private"}));
    let secrets: Api<k8s_openapi::api::core::v1::Secret> =
        Api::namespaced(env().client.clone(), &ns);
    let secret = env().rt.block_on(secrets.get("private")).expect("secret");
    let data = secret.data.expect("data");
    assert_eq!(data["username"].0, b"git");
    assert_eq!(data["password"].0, b"s3cret");
    assert!(data["ca.crt"].0.starts_with(b"-----BEGIN CERTIFICATE-----"));
    patch_status(&api, "private", ready_status(1, "main@sha1:abc", "stored"));
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "► applying secret with repository credentials\n✔ authentication configured\n"
        ),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("s3cret"), "credentials never printed");
}

#[test]
fn create_kustomization_health_checks_export() {
    let out = ok(flux(&[
        "create",
        "kustomization",
        "podinfo",
        "--source=OCIRepository/podinfo",
        "--health-check=Deployment/podinfo.apps,HelmRelease/redis.db",
        "--export",
    ]));
    assert!(out.contains(
        "  healthChecks:\n  - kind: Deployment\n    name: podinfo\n    namespace: apps\n  - apiVersion: helm.toolkit.fluxcd.io/v2\n    kind: HelmRelease\n    name: redis\n    namespace: db\n"
    ), "{out}");
    assert!(
        out.contains("  timeout: 2m0s\n") && out.contains("    kind: OCIRepository\n"),
        "{out}"
    );
    let line = one_error_line(&flux(&[
        "create",
        "ks",
        "x",
        "--source=podinfo",
        "--health-check=Service/podinfo.apps",
        "--export",
    ]));
    assert_eq!(
        line,
        "✗ invalid health check kind 'Service' can be HelmRelease, Deployment, DaemonSet or StatefulSet"
    );
}

#[test]
fn a_cluster_without_flux_crds_gets_clear_errors() {
    let dir = tempfile::tempdir().unwrap().keep();
    let kubeconfig = dir.join("kubeconfig");
    env().rt.block_on(async {
        let mut cfg = apiserver::Config::new(dir.join("data"));
        cfg.kubeconfig_out = Some(kubeconfig.clone());
        std::mem::forget(apiserver::start(cfg).await.expect("second server"));
    });
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_flux"))
            .args(args)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .output()
            .unwrap()
    };
    let want = "✗ no matches for kind \"GitRepository\" in version \"source.toolkit.fluxcd.io/v1\" (are the Flux CRDs installed?)";
    assert_eq!(one_error_line(&run(&["get", "sources", "git"])), want);
    assert_eq!(
        one_error_line(&run(&["suspend", "source", "git", "x"])),
        want
    );
    assert_eq!(
        one_error_line(&run(&["reconcile", "ks", "x"])),
        "✗ no matches for kind \"Kustomization\" in version \"kustomize.toolkit.fluxcd.io/v1\" (are the Flux CRDs installed?)"
    );
    let o = run(&["check"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("✗ gitrepositories.source.toolkit.fluxcd.io not found\n"),
        "{err}"
    );
    assert!(err.ends_with("✗ check failed\n"), "{err}");
    // --pre only looks at the Kubernetes version.
    assert!(run(&["check", "--pre"]).status.success());
}

fn dynamic(ns: &str, api_version: &str, kind: &str, plural: &str) -> Api<DynamicObject> {
    Api::namespaced_with(
        env().client.clone(),
        ns,
        &resource(api_version, kind, plural),
    )
}

#[test]
fn get_sources_all_and_helmreleases() {
    let ns = namespace("all-sources");
    create(&git_repos(&ns), git_repo(&ns, "app"));
    let oci = dynamic(
        &ns,
        "source.toolkit.fluxcd.io/v1",
        "OCIRepository",
        "ocirepositories",
    );
    create(
        &oci,
        json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
            "metadata": {"name": "manifests", "namespace": ns},
            "spec": {"interval": "5m", "url": "oci://ghcr.io/stefanprodan/manifests/podinfo", "ref": {"tag": "latest"}}
        }),
    );
    let helm = dynamic(
        &ns,
        "source.toolkit.fluxcd.io/v1",
        "HelmRepository",
        "helmrepositories",
    );
    create(
        &helm,
        json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository",
            "metadata": {"name": "charts", "namespace": ns},
            "spec": {"interval": "1h", "url": "https://stefanprodan.github.io/podinfo"}
        }),
    );
    let out = ok(flux(&["get", "sources", "all", "-n", &ns, "--no-header"]));
    let names: Vec<&str> = out
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split('\t').next().unwrap().trim())
        .collect();
    assert_eq!(
        names,
        [
            "gitrepository/app",
            "ocirepository/manifests",
            "helmrepository/charts"
        ]
    );

    let hr = dynamic(
        &ns,
        "helm.toolkit.fluxcd.io/v2",
        "HelmRelease",
        "helmreleases",
    );
    create(
        &hr,
        json!({
            "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "podinfo", "namespace": ns},
            "spec": {"interval": "10m", "chart": {"spec": {"chart": "podinfo",
                "sourceRef": {"kind": "HelmRepository", "name": "charts"}}}}
        }),
    );
    patch_status(
        &hr,
        "podinfo",
        json!({
            "observedGeneration": 1,
            "history": [{"chartName": "podinfo", "chartVersion": "6.7.1", "configDigest": "sha256:00",
                "digest": "sha256:00", "firstDeployed": "2026-01-01T00:00:00Z", "lastDeployed": "2026-01-01T00:00:00Z",
                "name": "podinfo", "namespace": ns, "status": "deployed", "version": 1}],
            "conditions": [{"type": "Ready", "status": "True", "reason": "InstallSucceeded",
                "message": "Helm install succeeded for release podinfo with chart podinfo@6.7.1",
                "lastTransitionTime": "2026-01-01T00:00:00Z"}]
        }),
    );
    let out = ok(flux(&["get", "hr", "-n", &ns]));
    assert_eq!(
        out,
        "NAME   \tREVISION\tSUSPENDED\tREADY\tMESSAGE                                                            \t\n\
         podinfo\t6.7.1   \tFalse    \tTrue \tHelm install succeeded for release podinfo with chart podinfo@6.7.1\t\n"
    );
}

#[test]
fn events_watch_streams_new_events() {
    use std::io::BufRead;
    let ns = namespace("events-watch");
    let events = dynamic(&ns, "v1", "Event", "events");
    let mut child = spawn_flux(&["events", "-w", "-n", &ns, "--timeout=20s"]);
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = || lines.next().expect("a line").expect("utf-8");
    assert_eq!(next(), "LAST SEEN\tTYPE\tREASON\tOBJECT\tMESSAGE\t");
    let now = k8s_openapi::jiff::Timestamp::from_second(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
    )
    .unwrap()
    .to_string();
    create(
        &events,
        json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "live", "namespace": ns},
            "involvedObject": {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "name": "podinfo", "namespace": ns},
            "type": "Normal", "reason": "NewArtifact", "message": "stored artifact",
            "firstTimestamp": now, "lastTimestamp": now, "count": 1
        }),
    );
    let line = next();
    let cells: Vec<&str> = line.split('\t').collect();
    assert!(cells[0].ends_with('s'), "an age in seconds: {line}");
    assert_eq!(
        &cells[1..],
        [
            "Normal",
            "NewArtifact",
            "GitRepository/podinfo",
            "stored artifact",
            ""
        ]
    );
    child.kill().expect("stop the watch");
    child.wait().unwrap();
}

#[test]
fn usage_errors_are_one_line() {
    let o = Command::new(env!("CARGO_BIN_EXE_flux"))
        .args(["get", "sources", "git", "--bogus"])
        .output()
        .unwrap();
    assert_eq!(one_error_line(&o), "✗ unexpected argument '--bogus' found");
    let o = Command::new(env!("CARGO_BIN_EXE_flux"))
        .args(["reconcile", "source", "git"])
        .output()
        .unwrap();
    assert!(one_error_line(&o).contains("<NAME>"), "{}", stderr(&o));
    // --help still prints the command's help on stdout, successfully.
    let o = Command::new(env!("CARGO_BIN_EXE_flux"))
        .args(["reconcile", "kustomization", "--help"])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(stdout(&o).contains("--with-source"));
}

#[test]
fn reconcile_helmrelease_force_sets_the_force_annotation_too() {
    let ns = namespace("reconcile-hr");
    let hr = dynamic(
        &ns,
        "helm.toolkit.fluxcd.io/v2",
        "HelmRelease",
        "helmreleases",
    );
    create(
        &hr,
        json!({
            "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "podinfo", "namespace": ns},
            "spec": {"interval": "10m", "chart": {"spec": {"chart": "podinfo",
                "sourceRef": {"kind": "HelmRepository", "name": "charts"}}}}
        }),
    );
    let child = spawn_flux(&[
        "reconcile",
        "hr",
        "podinfo",
        "--force",
        "-n",
        &ns,
        "--timeout=30s",
    ]);
    let annotations = eventually("annotations", || {
        let a = try_read(&hr, "podinfo")?["metadata"]["annotations"].clone();
        a.is_object().then_some(a)
    });
    let requested = annotations["reconcile.fluxcd.io/requestedAt"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        annotations["reconcile.fluxcd.io/forceAt"],
        requested.as_str()
    );
    assert!(annotations["reconcile.fluxcd.io/resetAt"].is_null());
    patch_status(
        &hr,
        "podinfo",
        json!({
            "observedGeneration": 1, "lastHandledReconcileAt": requested, "lastHandledForceAt": requested,
            "history": [{"chartName": "podinfo", "chartVersion": "6.7.1", "configDigest": "sha256:00",
                "digest": "sha256:00", "firstDeployed": "2026-01-01T00:00:00Z", "lastDeployed": "2026-01-01T00:00:00Z",
                "name": "podinfo", "namespace": ns, "status": "deployed", "version": 2}],
            "conditions": [{"type": "Ready", "status": "True", "reason": "UpgradeSucceeded",
                "message": "upgraded", "lastTransitionTime": "2026-01-01T00:00:00Z"}]
        }),
    );
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).ends_with("✔ HelmRelease reconciliation completed\n✔ applied revision 6.7.1\n"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn kubeconfig_flags_may_come_before_the_command() {
    let ns = namespace("root-flags");
    create(&git_repos(&ns), git_repo(&ns, "early"));
    let o = Command::new(env!("CARGO_BIN_EXE_flux"))
        .arg("--kubeconfig")
        .arg(&env().kubeconfig)
        .args(["-n", &ns, "get", "sources", "git", "--no-header"])
        .output()
        .unwrap();
    assert_eq!(ok(o), "early\t\tFalse\tFalse\twaiting to be reconciled\t\n");
}
