//! `flux create source git` and `flux create kustomization`: build the object exactly as
//! upstream does, print it with `--export`, or create-or-update it and wait for Ready.

use crate::cluster::{
    Cluster, KubeArgs, block_on, format_go_duration, is_not_found, parse_duration,
};
use crate::get::to_value;
use crate::kinds::FluxKind;
use crate::output;
use crate::suspend::wait_ready;
use clap::{Args, Subcommand};
use kube::api::{DynamicObject, PostParams};
use serde_json::{Map, Value, json};
use std::time::Duration;

/// `flux create` arguments.
#[derive(Args)]
pub struct CreateArgs {
    #[command(subcommand)]
    what: What,
    #[command(flatten)]
    kube: KubeArgs,
    /// Source sync interval.
    #[arg(long, global = true, default_value = "1m0s", value_parser = parse_duration)]
    interval: Duration,
    /// Export in YAML format to stdout.
    #[arg(long, global = true)]
    export: bool,
    /// Set labels on the resource (can specify multiple labels with commas: label1=value1,label2=value2).
    #[arg(long = "label", global = true, value_delimiter = ',')]
    labels: Vec<String>,
}

#[derive(Subcommand)]
enum What {
    /// Create or update sources.
    Source {
        #[command(subcommand)]
        what: SourceWhat,
        /// Set a timeout for fetch operations performed by source-controller (e.g. 'Git clone' or 'Helm repository index download').
        #[arg(long, global = true, value_parser = parse_duration)]
        fetch_timeout: Option<Duration>,
    },
    /// Create or update a Kustomization resource.
    #[command(alias = "ks")]
    Kustomization(KsFlags),
}

#[derive(Subcommand)]
enum SourceWhat {
    /// Create or update a GitRepository source.
    Git(GitFlags),
}

/// Flags of `create source git`.
#[derive(Args)]
struct GitFlags {
    /// Name of the GitRepository.
    name: String,
    /// Git address, e.g. ssh://git@host/org/repository.
    #[arg(long)]
    url: Option<String>,
    /// Git branch.
    #[arg(long)]
    branch: Option<String>,
    /// Git tag.
    #[arg(long)]
    tag: Option<String>,
    /// Git tag semver range.
    #[arg(long = "tag-semver")]
    tag_semver: Option<String>,
    /// Git reference name.
    #[arg(long = "ref-name")]
    ref_name: Option<String>,
    /// Git commit.
    #[arg(long)]
    commit: Option<String>,
    /// Basic authentication username.
    #[arg(short = 'u', long)]
    username: Option<String>,
    /// Basic authentication password.
    #[arg(short = 'p', long)]
    password: Option<String>,
    /// The name of an existing secret containing SSH or basic credentials.
    #[arg(long = "secret-ref")]
    secret_ref: Option<String>,
    /// When enabled, configures the GitRepository source to initialize and include Git submodules in the artifact it produces.
    #[arg(long)]
    recurse_submodules: bool,
    /// Set paths to ignore in git resource (can specify multiple paths with commas: path1,path2).
    #[arg(long = "ignore-paths", value_delimiter = ',')]
    ignore_paths: Vec<String>,
    /// Path to TLS CA file used for validating self-signed certificates.
    #[arg(long = "ca-file", value_name = "PATH")]
    ca_file: Option<std::path::PathBuf>,
    /// Assumes the deploy key is already setup, skips confirmation.
    #[arg(short = 's', long)]
    silent: bool,
}

/// Flags of `create kustomization`.
#[derive(Args)]
struct KsFlags {
    /// Name of the Kustomization.
    name: String,
    /// Source that contains the Kubernetes manifests in the format '[<kind>/]<name>.<namespace>', where kind must be one of: (GitRepository, OCIRepository, Bucket), if kind is not specified it defaults to GitRepository.
    #[arg(long)]
    source: Option<String>,
    /// Path to the directory containing a kustomization.yaml file.
    #[arg(long, default_value = "./")]
    path: String,
    /// Enable garbage collection.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    prune: bool,
    /// Enable health checking of all the applied resources.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    wait: bool,
    /// Workload to be included in the health assessment, in the format '<kind>/<name>.<namespace>'.
    #[arg(long = "health-check", value_delimiter = ',')]
    health_check: Vec<String>,
    /// Timeout of health checking operations.
    #[arg(long = "health-check-timeout", default_value = "2m0s", value_parser = parse_duration)]
    health_check_timeout: Duration,
    /// Kustomization that must be ready before this Kustomization can be applied, supported formats '<name>' and '<namespace>/<name>', also accepts comma-separated values.
    #[arg(long = "depends-on", value_delimiter = ',')]
    depends_on: Vec<String>,
    /// The name of the service account to impersonate when reconciling this Kustomization.
    #[arg(long = "service-account")]
    service_account: Option<String>,
    /// Decryption provider, available options are: (sops).
    #[arg(long = "decryption-provider", value_parser = ["sops"])]
    decryption_provider: Option<String>,
    /// Set the Kubernetes secret name that contains the OpenPGP private keys used for sops decryption.
    #[arg(long = "decryption-secret")]
    decryption_secret: Option<String>,
    /// Overrides the namespace of all Kustomization objects reconciled by this Kustomization.
    #[arg(long = "target-namespace")]
    target_namespace: Option<String>,
    /// The name of the Kubernetes Secret that contains a key with the kubeconfig file for connecting to a remote cluster.
    #[arg(long = "kubeconfig-secret-ref")]
    kubeconfig_secret_ref: Option<String>,
    /// The interval at which to retry a previously failed reconciliation.
    #[arg(long = "retry-interval", value_parser = parse_duration)]
    retry_interval: Option<Duration>,
}

/// Runs `flux create`.
pub fn run(args: CreateArgs) -> anyhow::Result<()> {
    let labels = parse_labels(&args.labels)?;
    let ns = args.kube.namespace.clone();
    match args.what {
        What::Source {
            what: SourceWhat::Git(g),
            fetch_timeout,
        } => {
            let obj = git_repository(&g, &ns, &labels, args.interval, fetch_timeout)?;
            if args.export {
                print!("{}", output::export_doc(&obj));
                return Ok(());
            }
            block_on(async move {
                let cluster = args.kube.connect().await?;
                apply_git(&cluster, &g, obj).await
            })
        }
        What::Kustomization(k) => {
            let obj = kustomization(&k, &ns, &labels, args.interval)?;
            if args.export {
                print!("{}", output::export_doc(&obj));
                return Ok(());
            }
            block_on(async move {
                output::generate("generating Kustomization");
                let cluster = args.kube.connect().await?;
                output::action("applying Kustomization");
                upsert(&cluster, FluxKind::Kustomization, &obj, "Kustomization").await?;
                output::waiting("waiting for Kustomization reconciliation");
                let ready = wait_ready(&cluster, FluxKind::Kustomization, &k.name).await?;
                output::success(format!("Kustomization {} is ready", k.name));
                output::success(FluxKind::Kustomization.success_message(&ready));
                Ok(())
            })
        }
    }
}

/// `--label k=v` pairs, validated as upstream does.
fn parse_labels(raw: &[String]) -> anyhow::Result<Map<String, Value>> {
    let mut out = Map::new();
    for l in raw {
        match l.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                out.insert(k.to_string(), Value::String(v.to_string()));
            }
            _ => anyhow::bail!("invalid label format '{l}', must be key=value"),
        }
    }
    Ok(out)
}

fn metadata(name: &str, ns: &str, labels: &Map<String, Value>) -> Value {
    let mut m = json!({"name": name, "namespace": ns});
    if !labels.is_empty() {
        m["labels"] = Value::Object(labels.clone());
    }
    m
}

/// The GitRepository upstream generates from the flags (fields set as its Go struct marshals).
fn git_repository(
    g: &GitFlags,
    ns: &str,
    labels: &Map<String, Value>,
    interval: Duration,
    fetch_timeout: Option<Duration>,
) -> anyhow::Result<Value> {
    let url = g.url.as_deref().unwrap_or_default();
    if url.is_empty() {
        anyhow::bail!("url is required");
    }
    let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("");
    if !matches!(scheme, "ssh" | "http" | "https") {
        anyhow::bail!("git URL scheme '{scheme}' not supported, can be: ssh, http and https");
    }
    if g.ca_file.is_some() && scheme == "ssh" {
        anyhow::bail!("specifying a CA file is not supported for Git over SSH");
    }
    let set = |o: &Option<String>| o.as_deref().filter(|s| !s.is_empty()).map(str::to_string);
    let (branch, tag, semver, ref_name, commit) = (
        set(&g.branch),
        set(&g.tag),
        set(&g.tag_semver),
        set(&g.ref_name),
        set(&g.commit),
    );
    if branch.is_none()
        && tag.is_none()
        && semver.is_none()
        && ref_name.is_none()
        && commit.is_none()
    {
        anyhow::bail!(
            "a Git ref is required, use one of the following: --branch, --tag, --commit, --ref-name or --tag-semver"
        );
    }
    // Precedence as upstream: commit (with its branch), then name, semver, tag, branch.
    let reference = if let Some(c) = commit {
        let mut r = json!({"commit": c});
        if let Some(b) = branch {
            r["branch"] = json!(b);
        }
        r
    } else if let Some(n) = ref_name {
        json!({"name": n})
    } else if let Some(s) = semver {
        json!({"semver": s})
    } else if let Some(t) = tag {
        json!({"tag": t})
    } else {
        json!({"branch": branch})
    };
    let mut spec = json!({
        "interval": format_go_duration(interval),
        "ref": reference,
        "url": url,
    });
    if g.recurse_submodules {
        spec["recurseSubmodules"] = json!(true);
    }
    if !g.ignore_paths.is_empty() {
        spec["ignore"] = json!(g.ignore_paths.join("\n"));
    }
    if let Some(t) = fetch_timeout.filter(|t| !t.is_zero()) {
        spec["timeout"] = json!(format_go_duration(t));
    }
    if let Some(s) = set(&g.secret_ref) {
        spec["secretRef"] = json!({"name": s});
    }
    Ok(json!({
        "apiVersion": FluxKind::GitRepository.resource().api_version,
        "kind": "GitRepository",
        "metadata": metadata(&g.name, ns, labels),
        "spec": spec,
    }))
}

/// Cleans `--path` as upstream's safe relative path does: always `./`-prefixed, no `..` escape.
fn safe_relative_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.trim().split(['/', '\\']) {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("./{}", parts.join("/"))
}

/// The Kustomization upstream generates from the flags.
fn kustomization(
    k: &KsFlags,
    ns: &str,
    labels: &Map<String, Value>,
    interval: Duration,
) -> anyhow::Result<Value> {
    let source = k.source.as_deref().unwrap_or_default();
    let (skind, rest) = match source.split_once('/') {
        Some((kind, rest)) => (kind, rest),
        None => ("", source),
    };
    let (sname, sns) = match rest.split_once('.') {
        Some((n, s)) => (n, Some(s)),
        None => (rest, None),
    };
    if sname.is_empty() {
        anyhow::bail!("invalid source '{source}', must be in format <kind>/<name>");
    }
    let skind = if skind.is_empty() {
        FluxKind::GitRepository
    } else {
        match FluxKind::from_kind(skind) {
            Some(k @ (FluxKind::GitRepository | FluxKind::OciRepository | FluxKind::Bucket)) => k,
            _ => anyhow::bail!(
                "source kind '{skind}' is not supported, must be one of: GitRepository, OCIRepository, Bucket"
            ),
        }
    };
    let mut source_ref = json!({"kind": skind.kind(), "name": sname});
    if let Some(s) = sns {
        source_ref["namespace"] = json!(s);
    }
    let mut spec = json!({
        "interval": format_go_duration(interval),
        "path": safe_relative_path(&k.path),
        "prune": k.prune,
        "sourceRef": source_ref,
    });
    if !k.depends_on.is_empty() {
        let deps: Vec<Value> = k
            .depends_on
            .iter()
            .map(|d| match d.split_once('/') {
                Some((n, name)) => json!({"name": name, "namespace": n}),
                None => json!({"name": d}),
            })
            .collect();
        spec["dependsOn"] = json!(deps);
    }
    if let Some(t) = k.target_namespace.as_deref().filter(|s| !s.is_empty()) {
        spec["targetNamespace"] = json!(t);
    }
    if let Some(s) = k.kubeconfig_secret_ref.as_deref().filter(|s| !s.is_empty()) {
        spec["kubeConfig"] = json!({"secretRef": {"name": s}});
    }
    if !k.health_check.is_empty() && !k.wait {
        let mut checks = Vec::new();
        for w in &k.health_check {
            let Some((kind, name_ns)) = w.split_once('/') else {
                anyhow::bail!(
                    "invalid health check '{w}' must be in the format 'kind/name.namespace'"
                );
            };
            if !matches!(
                kind,
                "Deployment" | "DaemonSet" | "StatefulSet" | "HelmRelease"
            ) {
                anyhow::bail!(
                    "invalid health check kind '{kind}' can be HelmRelease, Deployment, DaemonSet or StatefulSet"
                );
            }
            let Some((name, hns)) = name_ns.split_once('.') else {
                anyhow::bail!(
                    "invalid health check '{w}' must be in the format 'kind/name.namespace'"
                );
            };
            let mut check = json!({"kind": kind, "name": name, "namespace": hns});
            if kind == "HelmRelease" {
                check["apiVersion"] = json!(FluxKind::HelmRelease.resource().api_version);
            }
            checks.push(check);
        }
        spec["healthChecks"] = json!(checks);
        spec["timeout"] = json!(format_go_duration(k.health_check_timeout));
    }
    if k.wait {
        spec["wait"] = json!(true);
        spec["timeout"] = json!(format_go_duration(k.health_check_timeout));
    }
    if let Some(sa) = k.service_account.as_deref().filter(|s| !s.is_empty()) {
        spec["serviceAccountName"] = json!(sa);
    }
    if let Some(p) = &k.decryption_provider {
        let mut d = json!({"provider": p});
        if let Some(s) = k.decryption_secret.as_deref().filter(|s| !s.is_empty()) {
            d["secretRef"] = json!({"name": s});
        }
        spec["decryption"] = d;
    }
    if let Some(r) = k.retry_interval.filter(|d| !d.is_zero()) {
        spec["retryInterval"] = json!(format_go_duration(r));
    }
    Ok(json!({
        "apiVersion": FluxKind::Kustomization.resource().api_version,
        "kind": "Kustomization",
        "metadata": metadata(&k.name, ns, labels),
        "spec": spec,
    }))
}

/// Creates the object, or replaces labels and spec of the existing one (as upstream's upsert).
async fn upsert(cluster: &Cluster, kind: FluxKind, obj: &Value, what: &str) -> anyhow::Result<()> {
    let api = kind.api(&cluster.client, &cluster.namespace);
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    match api.get(name).await {
        Err(e) if is_not_found(&e) => {
            let new: DynamicObject = serde_json::from_value(obj.clone())?;
            api.create(&PostParams::default(), &new)
                .await
                .map_err(|e| cluster.err_kind(e, kind))?;
            output::success(format!("{what} created"));
        }
        Err(e) => return Err(cluster.err_kind(e, kind)),
        Ok(existing) => {
            let mut cur = to_value(&existing);
            cur["metadata"]["labels"] = obj["metadata"]["labels"].clone();
            if cur["metadata"]["labels"].is_null()
                && let Some(m) = cur["metadata"].as_object_mut()
            {
                m.remove("labels");
            }
            cur["spec"] = obj["spec"].clone();
            let updated: DynamicObject = serde_json::from_value(cur)?;
            api.replace(name, &PostParams::default(), &updated)
                .await
                .map_err(|e| cluster.err_kind(e, kind))?;
            output::success(format!("{what} updated"));
        }
    }
    Ok(())
}

async fn apply_git(cluster: &Cluster, g: &GitFlags, mut obj: Value) -> anyhow::Result<()> {
    output::generate("generating GitRepository source");
    let url = g.url.as_deref().unwrap_or_default();
    if g.secret_ref.as_deref().unwrap_or_default().is_empty() {
        if url.starts_with("ssh://") {
            anyhow::bail!(
                "generating SSH deploy keys is not supported yet: create a secret with the key and pass --secret-ref"
            );
        }
        // Basic auth needs both parts (as upstream's secret generator); a CA goes in `ca.crt`.
        let mut data = std::collections::BTreeMap::new();
        let set = |o: &Option<String>| o.clone().filter(|s| !s.is_empty());
        if let (Some(u), Some(p)) = (set(&g.username), set(&g.password)) {
            if url.starts_with("http://") {
                output::warning("insecure configuration: credentials configured for an HTTP URL");
            }
            data.insert("username".to_string(), u.into_bytes());
            data.insert("password".to_string(), p.into_bytes());
        }
        if let Some(path) = &g.ca_file {
            let ca = std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("unable to read TLS CA file: {e}"))?;
            data.insert("ca.crt".to_string(), ca);
        }
        if !data.is_empty() {
            output::action("applying secret with repository credentials");
            upsert_secret(cluster, &g.name, data).await?;
            obj["spec"]["secretRef"] = json!({"name": g.name});
            output::success("authentication configured");
        }
    }
    output::action("applying GitRepository source");
    upsert(
        cluster,
        FluxKind::GitRepository,
        &obj,
        "GitRepository source",
    )
    .await?;
    output::waiting("waiting for GitRepository source reconciliation");
    let ready = wait_ready(cluster, FluxKind::GitRepository, &g.name).await?;
    output::success("GitRepository source reconciliation completed");
    let Some(rev) = ready["status"]["artifact"]["revision"].as_str() else {
        anyhow::bail!("GitRepository source reconciliation completed but no artifact was found");
    };
    output::success(format!("fetched revision: {rev}"));
    Ok(())
}

/// The credentials Secret upstream generates for `--username/--password/--ca-file`, created or
/// replaced.
async fn upsert_secret(
    cluster: &Cluster,
    name: &str,
    data: std::collections::BTreeMap<String, Vec<u8>>,
) -> anyhow::Result<()> {
    use k8s_openapi::ByteString;
    use k8s_openapi::api::core::v1::Secret;
    let api: kube::Api<Secret> = kube::Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let mut secret = Secret {
        metadata: kube::api::ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(cluster.namespace.clone()),
            ..Default::default()
        },
        data: Some(data.into_iter().map(|(k, v)| (k, ByteString(v))).collect()),
        ..Default::default()
    };
    match api.get(name).await {
        Err(e) if is_not_found(&e) => {
            api.create(&PostParams::default(), &secret)
                .await
                .map_err(|e| cluster.err(e))?;
        }
        Err(e) => return Err(cluster.err(e)),
        Ok(existing) => {
            secret.metadata.resource_version = existing.metadata.resource_version;
            api.replace(name, &PostParams::default(), &secret)
                .await
                .map_err(|e| cluster.err(e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::safe_relative_path;

    #[test]
    fn paths_are_made_safe_and_relative() {
        assert_eq!(safe_relative_path("./"), "./");
        assert_eq!(safe_relative_path(""), "./");
        assert_eq!(safe_relative_path("apps/"), "./apps");
        assert_eq!(safe_relative_path("./clusters//prod/"), "./clusters/prod");
        assert_eq!(safe_relative_path("../../etc"), "./etc");
    }
}
