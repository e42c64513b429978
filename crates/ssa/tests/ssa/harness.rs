//! One in-process API server per test binary, clients, unique names and object builders.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result};
use kube::api::{Api, ApiResource, DynamicObject, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::{Value, json};
use ssa::{ObjMetadata, Owner, ResourceManager};

/// The shared API server: its kubeconfig (text and a file for kubectl).
pub struct Server {
    pub kubeconfig: String,
    pub kubeconfig_path: std::path::PathBuf,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A unique lowercase name.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id() % 10000,
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// Starts (once) the API server on its own runtime thread; it lives until the process exits.
pub fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        let (tx, rx) = std::sync::mpsc::channel();
        let d = dir.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let cfg = apiserver::Config::new(d.join("apiserver"));
                let s = apiserver::start(cfg).await.expect("api server starts");
                tx.send(s.kubeconfig.clone()).expect("send kubeconfig");
                std::future::pending::<()>().await;
            });
        });
        let kubeconfig = rx.recv().expect("kubeconfig");
        let kubeconfig_path = dir.join("kubeconfig");
        std::fs::write(&kubeconfig_path, &kubeconfig).expect("write kubeconfig");
        Server {
            kubeconfig,
            kubeconfig_path,
        }
    })
}

/// A client for the shared server.
pub async fn client() -> Result<Client> {
    let kc = Kubeconfig::from_yaml(&server().kubeconfig).context("parsing kubeconfig")?;
    let config = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default()).await?;
    Ok(Client::try_from(config)?)
}

/// The Flux kustomize-controller owner.
pub fn owner() -> Owner {
    Owner {
        field_manager: "kustomize-controller".into(),
        group: "kustomize.toolkit.fluxcd.io".into(),
    }
}

/// A resource manager for the shared server.
pub async fn manager() -> Result<ResourceManager> {
    Ok(ResourceManager::new(client().await?, owner()))
}

/// Creates a fresh namespace.
pub async fn namespace(client: &Client) -> Result<String> {
    let name = unique("ns");
    let api: Api<DynamicObject> =
        Api::all_with(client.clone(), &ar("", "v1", "Namespace", "namespaces"));
    let ns: DynamicObject = serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
    )?;
    api.create(&PostParams::default(), &ns).await?;
    Ok(name)
}

/// An ApiResource by hand.
pub fn ar(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: if group.is_empty() {
            version.into()
        } else {
            format!("{group}/{version}")
        },
        kind: kind.into(),
        plural: plural.into(),
    }
}

/// The dynamic API of an object's kind in its namespace.
pub fn api_for(client: &Client, m: &ObjMetadata, plural: &str) -> Api<DynamicObject> {
    let r = ar(&m.group, &m.version, &m.kind, plural);
    if m.namespace.is_empty() {
        Api::all_with(client.clone(), &r)
    } else {
        Api::namespaced_with(client.clone(), &m.namespace, &r)
    }
}

/// GETs an object as JSON (None when absent).
pub async fn get(client: &Client, m: &ObjMetadata, plural: &str) -> Result<Option<Value>> {
    let api = api_for(client, m, plural);
    Ok(api
        .get_opt(&m.name)
        .await?
        .map(|o| serde_json::to_value(o).expect("json")))
}

/// A ConfigMap.
pub fn configmap(ns: &str, name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": data})
}

/// A Deployment scaled to zero.
pub fn deployment(ns: &str, name: &str, image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image}]}}}})
}

/// A namespaced CRD `<plural>.<group>` of kind `kind` with a status subresource and an
/// open spec (at most `max_spec_props` properties when given).
pub fn crd(group: &str, kind: &str, plural: &str, max_spec_props: Option<u64>) -> Value {
    let mut spec = json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true});
    if let Some(m) = max_spec_props {
        spec["maxProperties"] = json!(m);
    }
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{group}")},
        "spec": {"group": group, "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": kind.to_lowercase(), "listKind": format!("{kind}List")},
            "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": spec,
                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}]}})
}

/// A unique CRD group.
pub fn group() -> String {
    format!("{}.example.com", unique("g"))
}

/// Runs kubectl against the shared server.
pub fn kubectl(args: &[&str], stdin: Option<&str>) -> Result<String> {
    use std::io::Write;
    let mut cmd = std::process::Command::new("kubectl");
    cmd.arg("--kubeconfig")
        .arg(&server().kubeconfig_path)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().context("running kubectl")?;
    if let Some(s) = stdin {
        child
            .stdin
            .take()
            .context("stdin")?
            .write_all(s.as_bytes())?;
    }
    drop(child.stdin.take());
    let out = child.wait_with_output()?;
    anyhow::ensure!(
        out.status.success(),
        "kubectl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
