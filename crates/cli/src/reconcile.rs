//! `flux reconcile`: request a reconciliation through the `reconcile.fluxcd.io/requestedAt`
//! annotation and wait until the controller reports it handled and the object Ready.

use crate::cluster::{Cluster, KubeArgs, block_on, now_rfc3339};
use crate::get::to_value;
use crate::kinds::{FluxKind, Readiness, is_suspended, readiness};
use crate::output;
use crate::suspend::POLL;
use clap::{Args, Subcommand};
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};

/// `flux reconcile` arguments.
#[derive(Args)]
pub struct ReconcileArgs {
    #[command(subcommand)]
    what: Target,
    #[command(flatten)]
    kube: KubeArgs,
}

#[derive(Subcommand)]
enum Target {
    /// Reconcile sources.
    Source {
        #[command(subcommand)]
        what: SourceTarget,
    },
    /// Reconcile a Kustomization resource.
    #[command(alias = "ks")]
    Kustomization(WithSource),
    /// Reconcile a HelmRelease resource.
    #[command(alias = "hr")]
    Helmrelease(HelmReleaseFlags),
}

#[derive(Subcommand)]
enum SourceTarget {
    /// Reconcile a GitRepository source.
    Git(Name),
    /// Reconcile an OCIRepository source.
    Oci(Name),
    /// Reconcile a Bucket source.
    Bucket(Name),
    /// Reconcile a HelmRepository source.
    Helm(Name),
    /// Reconcile a HelmChart source.
    Chart(Name),
}

#[derive(Args)]
struct Name {
    /// Name of the object.
    name: String,
}

#[derive(Args)]
struct WithSource {
    /// Name of the object.
    name: String,
    /// Reconcile the source as well.
    #[arg(long)]
    with_source: bool,
}

#[derive(Args)]
struct HelmReleaseFlags {
    #[command(flatten)]
    common: WithSource,
    /// Force a one-off install or upgrade of the HelmRelease resource.
    #[arg(long)]
    force: bool,
    /// Reset the retry counter for a failed HelmRelease.
    #[arg(long)]
    reset: bool,
}

/// Runs `flux reconcile`.
pub fn run(args: ReconcileArgs) -> anyhow::Result<()> {
    let mut extra: Vec<&'static str> = Vec::new();
    let (kind, name, with_source) = match args.what {
        Target::Source { what } => match what {
            SourceTarget::Git(n) => (FluxKind::GitRepository, n.name, false),
            SourceTarget::Oci(n) => (FluxKind::OciRepository, n.name, false),
            SourceTarget::Bucket(n) => (FluxKind::Bucket, n.name, false),
            SourceTarget::Helm(n) => (FluxKind::HelmRepository, n.name, false),
            SourceTarget::Chart(n) => (FluxKind::HelmChart, n.name, false),
        },
        Target::Kustomization(w) => (FluxKind::Kustomization, w.name, w.with_source),
        Target::Helmrelease(h) => {
            // --force/--reset carry the same token as the reconcile request, as upstream sets them.
            if h.force {
                extra.push(api::meta::FORCE_REQUEST_ANNOTATION);
            }
            if h.reset {
                extra.push(api::meta::RESET_REQUEST_ANNOTATION);
            }
            (FluxKind::HelmRelease, h.common.name, h.common.with_source)
        }
    };
    block_on(async move {
        let cluster = args.kube.connect().await?;
        let deadline = tokio::time::Instant::now() + cluster.timeout;
        let ns = cluster.namespace.clone();
        if with_source {
            let obj = get(&cluster, kind, &ns, &name).await?;
            if let Some((skind, sns, sname)) = source_of(kind, &obj, &ns) {
                reconcile(&cluster, skind, &sns, &sname, &[], deadline).await?;
            }
        }
        reconcile(&cluster, kind, &ns, &name, &extra, deadline).await
    })
}

async fn get(cluster: &Cluster, kind: FluxKind, ns: &str, name: &str) -> anyhow::Result<Value> {
    let obj = kind
        .api(&cluster.client, ns)
        .get(name)
        .await
        .map_err(|e| cluster.err_kind(e, kind))?;
    Ok(to_value(&obj))
}

/// The source an applier points at: `spec.sourceRef` of a Kustomization, `spec.chartRef` or
/// `spec.chart.spec.sourceRef` of a HelmRelease (namespace defaulting to the object's).
fn source_of(kind: FluxKind, obj: &Value, ns: &str) -> Option<(FluxKind, String, String)> {
    let r = match kind {
        FluxKind::Kustomization => &obj["spec"]["sourceRef"],
        FluxKind::HelmRelease if obj["spec"]["chartRef"].is_object() => &obj["spec"]["chartRef"],
        FluxKind::HelmRelease => &obj["spec"]["chart"]["spec"]["sourceRef"],
        _ => return None,
    };
    let skind = FluxKind::from_kind(r["kind"].as_str()?)?;
    let sns = r["namespace"].as_str().unwrap_or(ns).to_string();
    Some((skind, sns, r["name"].as_str()?.to_string()))
}

/// Annotates one object and waits for the controller to handle the request.
async fn reconcile(
    cluster: &Cluster,
    kind: FluxKind,
    ns: &str,
    name: &str,
    extra_annotations: &[&str],
    deadline: tokio::time::Instant,
) -> anyhow::Result<()> {
    let obj = get(cluster, kind, ns, name).await?;
    if is_suspended(&obj) {
        anyhow::bail!("resource is suspended");
    }
    output::action(format!(
        "annotating {} {} in {} namespace",
        kind.kind(),
        name,
        ns
    ));
    let requested = now_rfc3339();
    let mut annotations = serde_json::Map::new();
    for a in std::iter::once(&api::meta::RECONCILE_REQUEST_ANNOTATION).chain(extra_annotations) {
        annotations.insert(a.to_string(), json!(requested));
    }
    let patch = json!({"metadata": {"annotations": annotations}});
    kind.api(&cluster.client, ns)
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| cluster.err_kind(e, kind))?;
    output::success(format!("{} annotated", kind.kind()));
    output::waiting(format!("waiting for {} reconciliation", kind.kind()));
    loop {
        let obj = get(cluster, kind, ns, name).await?;
        if obj["status"]["lastHandledReconcileAt"].as_str() == Some(requested.as_str()) {
            match readiness(&obj) {
                Readiness::Ready => {
                    output::success(format!("{} reconciliation completed", kind.kind()));
                    output::success(kind.success_message(&obj));
                    return Ok(());
                }
                Readiness::Failed(msg) => {
                    anyhow::bail!("{} reconciliation failed: {}", kind.kind(), msg)
                }
                Readiness::InProgress => {}
            }
        }
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!(
                "timeout waiting for {} {}/{} reconciliation",
                kind.kind(),
                ns,
                name
            );
        }
        tokio::time::sleep(POLL).await;
    }
}
