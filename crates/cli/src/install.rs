//! `flux install --export`: the Flux CRDs plus the manifests that run fluxrs' controllers in a
//! cluster (namespace, service accounts, RBAC, Services and one Deployment per component, each
//! running `flux controllers --enable <controller>` from the fluxrs image).

use anyhow::Context;
use clap::Args;
use serde_json::{Value, json};

/// Upstream's component names and the `flux controllers --enable` name of each.
const COMPONENTS: &[(&str, &str)] = &[
    ("source-controller", "source"),
    ("kustomize-controller", "kustomize"),
    ("helm-controller", "helm"),
    ("notification-controller", "notification"),
    ("image-reflector-controller", "image-reflector"),
    ("image-automation-controller", "image-automation"),
];

/// `flux install` arguments.
#[derive(Args)]
pub struct InstallArgs {
    /// Write the install manifests to stdout and exit.
    #[arg(long)]
    export: bool,
    /// List of components to install (default: every controller this build implements).
    #[arg(long, value_delimiter = ',')]
    components: Vec<String>,
    /// List of components in addition to those supplied or defaulted.
    #[arg(long, value_delimiter = ',')]
    components_extra: Vec<String>,
    /// Container registry where the fluxrs image is published.
    #[arg(long, default_value = "ghcr.io/fluxrs")]
    registry: String,
    /// Image tag of the controllers (default: this CLI's version).
    #[arg(short = 'v', long)]
    version: Option<String>,
    /// The namespace scope for the installation.
    #[arg(short = 'n', long, default_value = "flux-system")]
    namespace: String,
    /// Set the log level of the controllers (debug, info, error).
    #[arg(long, default_value = "info")]
    log_level: String,
    /// Watch for custom resources in all namespaces (false: only the install namespace).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    watch_all_namespaces: bool,
    /// The internal cluster domain.
    #[arg(long, default_value = "cluster.local")]
    cluster_domain: String,
    /// Kubernetes secret name used for pulling the controller image from a private registry.
    #[arg(long)]
    image_pull_secret: Option<String>,
}

/// Runs `flux install`.
pub fn run(args: InstallArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.export,
        "installing into a cluster is not implemented yet; use `flux install --export | kubectl apply -f -`"
    );
    print!("{}", export_manifests(&args)?);
    Ok(())
}

/// The components to install: the chosen ones, each checked against this build.
fn components(args: &InstallArgs) -> anyhow::Result<Vec<(&'static str, &'static str)>> {
    let known = controllers::runtime::manager::KNOWN_CONTROLLERS;
    let mut names: Vec<String> = if args.components.is_empty() {
        COMPONENTS
            .iter()
            .filter(|(_, c)| known.contains(c))
            .map(|(n, _)| n.to_string())
            .collect()
    } else {
        args.components.clone()
    };
    names.extend(args.components_extra.iter().cloned());
    let mut out = Vec::new();
    for n in names.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let Some(&(name, ctrl)) = COMPONENTS.iter().find(|(c, _)| *c == n) else {
            anyhow::bail!(
                "component {n} is not a Flux component (known: {})",
                COMPONENTS
                    .iter()
                    .map(|c| c.0)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        };
        anyhow::ensure!(
            known.contains(&ctrl),
            "component {name} is not implemented by this build of fluxrs (implemented: {})",
            known.join(", ")
        );
        if !out.iter().any(|(c, _)| *c == name) {
            out.push((name, ctrl));
        }
    }
    Ok(out)
}

/// The install manifests as a multi-document YAML stream: CRDs first, then the namespace,
/// RBAC, Services and Deployments.
pub fn export_manifests(args: &InstallArgs) -> anyhow::Result<String> {
    let comps = components(args)?;
    let mut docs: Vec<Value> = Vec::new();
    docs.push(namespace(args));
    for crd in api::crds::all() {
        docs.push(serde_json::to_value(&crd).context("serializing a CRD")?);
    }
    docs.extend(rbac(args, &comps));
    for (name, ctrl) in &comps {
        docs.extend(service(args, name));
        docs.push(json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": args.namespace, "labels": labels(args, Some(name))},
        }));
        docs.push(deployment(args, name, ctrl));
    }
    let mut out = String::from("---\n# Flux components (fluxrs)\n");
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&serde_saphyr::to_string(doc).context("writing a manifest as YAML")?);
    }
    Ok(out)
}

fn version(args: &InstallArgs) -> String {
    args.version
        .clone()
        .unwrap_or_else(|| format!("v{}", env!("CARGO_PKG_VERSION")))
}

fn labels(args: &InstallArgs, component: Option<&str>) -> Value {
    let mut l = json!({
        "app.kubernetes.io/instance": args.namespace,
        "app.kubernetes.io/part-of": "flux",
        "app.kubernetes.io/version": version(args),
    });
    if let Some(c) = component {
        l["app.kubernetes.io/component"] = json!(c);
    }
    l
}

fn namespace(args: &InstallArgs) -> Value {
    let mut l = labels(args, None);
    l["pod-security.kubernetes.io/warn"] = json!("restricted");
    l["pod-security.kubernetes.io/warn-version"] = json!("latest");
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": args.namespace, "labels": l}})
}

/// `crd-controller-<ns>` for every controller's service account; `cluster-reconciler-<ns>`
/// (cluster-admin) for the controllers that apply arbitrary objects.
fn rbac(args: &InstallArgs, comps: &[(&str, &str)]) -> Vec<Value> {
    let ns = &args.namespace;
    let all = |group: &str| json!({"apiGroups": [group], "resources": ["*"], "verbs": ["*"]});
    let role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": format!("crd-controller-{ns}"), "labels": labels(args, None)},
        "rules": [
            all("source.toolkit.fluxcd.io"),
            all("kustomize.toolkit.fluxcd.io"),
            all("helm.toolkit.fluxcd.io"),
            all("notification.toolkit.fluxcd.io"),
            all("image.toolkit.fluxcd.io"),
            {"apiGroups": [""], "resources": ["namespaces", "secrets", "configmaps", "serviceaccounts"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
            {"apiGroups": [""], "resources": ["configmaps/status"], "verbs": ["get", "update", "patch"]},
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
            {"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]},
        ],
    });
    let subjects = |names: &[&str]| -> Value {
        Value::Array(
            names
                .iter()
                .map(|n| json!({"kind": "ServiceAccount", "name": n, "namespace": ns}))
                .collect(),
        )
    };
    let all_names: Vec<&str> = comps.iter().map(|c| c.0).collect();
    let mut docs = vec![
        role,
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": format!("crd-controller-{ns}"), "labels": labels(args, None)},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": format!("crd-controller-{ns}")},
            "subjects": subjects(&all_names),
        }),
    ];
    let reconcilers: Vec<&str> = all_names
        .iter()
        .copied()
        .filter(|n| *n == "kustomize-controller" || *n == "helm-controller")
        .collect();
    if !reconcilers.is_empty() {
        docs.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": format!("cluster-reconciler-{ns}"), "labels": labels(args, None)},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": subjects(&reconcilers),
        }));
    }
    docs
}

/// The Services upstream has: the artifact server of source-controller, the event receiver
/// and webhook receiver of notification-controller.
fn service(args: &InstallArgs, name: &str) -> Vec<Value> {
    let svc = |svc_name: &str, target: &str| {
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": svc_name, "namespace": args.namespace, "labels": labels(args, Some(name))},
            "spec": {
                "type": "ClusterIP",
                "selector": {"app": name},
                "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": target}],
            },
        })
    };
    match name {
        "source-controller" => vec![svc(name, "http")],
        "notification-controller" => {
            vec![svc(name, "http"), svc("webhook-receiver", "http-webhook")]
        }
        _ => Vec::new(),
    }
}

fn deployment(args: &InstallArgs, name: &str, ctrl: &str) -> Value {
    let ns = &args.namespace;
    let mut cmd = vec![
        "flux".to_string(),
        "controllers".into(),
        format!("--enable={ctrl}"),
        format!("--watch-all-namespaces={}", args.watch_all_namespaces),
        format!("--log-level={}", args.log_level),
        "--log-encoding=json".into(),
        "--leader-elect=true".into(),
    ];
    let mut ports = vec![
        json!({"containerPort": 8080, "name": "http-prom", "protocol": "TCP"}),
        json!({"containerPort": 9440, "name": "healthz", "protocol": "TCP"}),
    ];
    let mut mounts = vec![json!({"name": "temp", "mountPath": "/tmp"})];
    let mut volumes = vec![json!({"name": "temp", "emptyDir": {}})];
    if ctrl != "notification" {
        cmd.push(format!(
            "--events-addr=http://notification-controller.{ns}.svc.{}./",
            args.cluster_domain
        ));
    }
    if ctrl == "source" {
        cmd.push("--storage-path=/data".into());
        cmd.push(format!(
            "--storage-adv-addr=source-controller.$(RUNTIME_NAMESPACE).svc.{}.",
            args.cluster_domain
        ));
        ports.insert(
            0,
            json!({"containerPort": 9090, "name": "http", "protocol": "TCP"}),
        );
        mounts.push(json!({"name": "data", "mountPath": "/data"}));
        volumes.push(json!({"name": "data", "emptyDir": {}}));
    }
    let mut pod_spec = json!({
        "serviceAccountName": name,
        "terminationGracePeriodSeconds": 10,
        "securityContext": {"fsGroup": 1337},
        "containers": [{
            "name": "manager",
            "image": format!("{}/flux:{}", args.registry.trim_end_matches('/'), version(args)),
            "imagePullPolicy": "IfNotPresent",
            "command": cmd,
            "env": [
                {"name": "RUNTIME_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            ],
            "ports": ports,
            "livenessProbe": {"httpGet": {"path": "/healthz", "port": "healthz"}},
            "readinessProbe": {"httpGet": {"path": "/readyz", "port": "healthz"}},
            "resources": {"limits": {"cpu": "1000m", "memory": "1Gi"}, "requests": {"cpu": "50m", "memory": "64Mi"}},
            "securityContext": {
                "allowPrivilegeEscalation": false,
                "capabilities": {"drop": ["ALL"]},
                "readOnlyRootFilesystem": true,
                "runAsNonRoot": true,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "volumeMounts": mounts,
        }],
        "volumes": volumes,
    });
    if let Some(secret) = &args.image_pull_secret {
        pod_spec["imagePullSecrets"] = json!([{"name": secret}]);
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": labels(args, Some(name))},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {
                    // As upstream's install: `flux logs` finds the pods by these.
                    "labels": {
                        "app": name,
                        "app.kubernetes.io/part-of": "flux",
                        "app.kubernetes.io/instance": ns,
                    },
                    "annotations": {"prometheus.io/port": "8080", "prometheus.io/scrape": "true"},
                },
                "spec": pod_spec,
            },
        },
    })
}
