//! `flux suspend` and `flux resume`: flip `spec.suspend` on sources, Kustomizations and
//! HelmReleases (one, several or `--all`); resume then waits for Ready unless `--wait=false`.

use crate::cluster::{Cluster, KubeArgs, block_on};
use crate::get::to_value;
use crate::kinds::{FluxKind, Readiness, readiness};
use crate::output;
use clap::{Args, Subcommand};
use kube::api::{ListParams, Patch, PatchParams};
use serde_json::json;

/// `flux suspend` arguments.
#[derive(Args)]
pub struct SuspendArgs {
    #[command(subcommand)]
    what: Target,
    #[command(flatten)]
    kube: KubeArgs,
    /// Suspend all resources of that kind in the namespace.
    #[arg(long, global = true)]
    all: bool,
}

/// `flux resume` arguments.
#[derive(Args)]
pub struct ResumeArgs {
    #[command(subcommand)]
    what: Target,
    #[command(flatten)]
    kube: KubeArgs,
    /// Resume all resources of that kind in the namespace.
    #[arg(long, global = true)]
    all: bool,
    /// Waits for the resources to become ready after resuming them.
    #[arg(long, global = true, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    wait: bool,
}

#[derive(Subcommand)]
enum Target {
    /// Sources (git, oci, bucket, helm, chart).
    Source {
        #[command(subcommand)]
        what: SourceTarget,
    },
    /// Kustomizations.
    #[command(alias = "ks")]
    Kustomization(Names),
    /// HelmReleases.
    #[command(alias = "hr")]
    Helmrelease(Names),
}

#[derive(Subcommand)]
enum SourceTarget {
    /// GitRepository sources.
    Git(Names),
    /// OCIRepository sources.
    Oci(Names),
    /// Bucket sources.
    Bucket(Names),
    /// HelmRepository sources.
    Helm(Names),
    /// HelmChart sources.
    Chart(Names),
}

#[derive(Args)]
struct Names {
    /// Names of the objects.
    names: Vec<String>,
}

impl Target {
    fn split(self) -> (FluxKind, Vec<String>) {
        match self {
            Target::Source { what } => match what {
                SourceTarget::Git(n) => (FluxKind::GitRepository, n.names),
                SourceTarget::Oci(n) => (FluxKind::OciRepository, n.names),
                SourceTarget::Bucket(n) => (FluxKind::Bucket, n.names),
                SourceTarget::Helm(n) => (FluxKind::HelmRepository, n.names),
                SourceTarget::Chart(n) => (FluxKind::HelmChart, n.names),
            },
            Target::Kustomization(n) => (FluxKind::Kustomization, n.names),
            Target::Helmrelease(n) => (FluxKind::HelmRelease, n.names),
        }
    }
}

/// Runs `flux suspend`.
pub fn suspend(args: SuspendArgs) -> anyhow::Result<()> {
    let (kind, names) = args.what.split();
    block_on(async move {
        let cluster = args.kube.connect().await?;
        let Some(names) = resolve(&cluster, kind, names, args.all).await? else {
            return Ok(());
        };
        for name in &names {
            output::action(format!(
                "suspending {} {} in {} namespace",
                kind.human_kind(),
                name,
                cluster.namespace
            ));
            set_suspend(&cluster, kind, name, true, None).await?;
            output::success(format!("{} suspended", kind.human_kind()));
        }
        Ok(())
    })
}

/// Runs `flux resume`.
pub fn resume(args: ResumeArgs) -> anyhow::Result<()> {
    let (kind, names) = args.what.split();
    block_on(async move {
        let cluster = args.kube.connect().await?;
        let Some(names) = resolve(&cluster, kind, names, args.all).await? else {
            return Ok(());
        };
        for name in &names {
            output::action(format!(
                "resuming {} {} in {} namespace",
                kind.human_kind(),
                name,
                cluster.namespace
            ));
            // Request a reconcile too, so the controller acts at once rather than at the next interval.
            let now = crate::cluster::now_rfc3339();
            set_suspend(&cluster, kind, name, false, Some(&now)).await?;
            output::success(format!("{} resumed", kind.human_kind()));
        }
        if !args.wait {
            return Ok(());
        }
        for name in &names {
            output::waiting(format!("waiting for {} reconciliation", kind.kind()));
            let obj = wait_ready(&cluster, kind, name).await?;
            output::success(format!("{} reconciliation completed", kind.kind()));
            output::success(kind.success_message(&obj));
        }
        Ok(())
    })
}

/// The names to act on: the given ones, or every object of the kind with `--all`.
async fn resolve(
    cluster: &Cluster,
    kind: FluxKind,
    names: Vec<String>,
    all: bool,
) -> anyhow::Result<Option<Vec<String>>> {
    if all {
        let list = kind
            .api(&cluster.client, &cluster.namespace)
            .list(&ListParams::default())
            .await
            .map_err(|e| cluster.err_kind(e, kind))?;
        if list.items.is_empty() {
            output::failure(format!(
                "no {} objects found in {} namespace",
                kind.kind(),
                cluster.namespace
            ));
            return Ok(None);
        }
        return Ok(Some(
            list.items
                .into_iter()
                .filter_map(|o| o.metadata.name)
                .collect(),
        ));
    }
    if names.is_empty() {
        anyhow::bail!("{} name is required", kind.human_kind());
    }
    // Every named object must exist before any is changed (upstream gets them all first).
    let api = kind.api(&cluster.client, &cluster.namespace);
    for n in &names {
        api.get(n).await.map_err(|e| cluster.err_kind(e, kind))?;
    }
    Ok(Some(names))
}

/// Sets `spec.suspend` (and optionally the reconcile request annotation) with a merge patch;
/// a missing object fails with the API server's message.
async fn set_suspend(
    cluster: &Cluster,
    kind: FluxKind,
    name: &str,
    suspend: bool,
    requested_at: Option<&str>,
) -> anyhow::Result<()> {
    let api = kind.api(&cluster.client, &cluster.namespace);
    let mut patch = json!({"spec": {"suspend": suspend}});
    if let Some(at) = requested_at {
        patch["metadata"] = json!({"annotations": {api::meta::RECONCILE_REQUEST_ANNOTATION: at}});
    }
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| cluster.err_kind(e, kind))?;
    Ok(())
}

/// Polls until the object is Ready for its current generation; fails on a terminal failure or
/// at the timeout.
pub async fn wait_ready(
    cluster: &Cluster,
    kind: FluxKind,
    name: &str,
) -> anyhow::Result<serde_json::Value> {
    let api = kind.api(&cluster.client, &cluster.namespace);
    let deadline = tokio::time::Instant::now() + cluster.timeout;
    loop {
        let obj = to_value(&api.get(name).await.map_err(|e| cluster.err_kind(e, kind))?);
        match readiness(&obj) {
            Readiness::Ready => return Ok(obj),
            Readiness::Failed(msg) => anyhow::bail!("{msg}"),
            Readiness::InProgress => {}
        }
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!(
                "timeout waiting for {} {}/{} to become ready",
                kind.kind(),
                cluster.namespace,
                name
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// How often the waits poll (upstream polls every 2 s; a little faster keeps tests quick).
pub const POLL: std::time::Duration = std::time::Duration::from_millis(500);
