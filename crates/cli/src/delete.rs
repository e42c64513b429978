//! `flux delete source git|oci|bucket|helm|chart NAME`, `kustomization NAME`, `helmrelease
//! NAME`: confirm (unless `--silent`), delete, report.

use crate::cluster::{KubeArgs, block_on};
use crate::kinds::FluxKind;
use crate::output;
use clap::{Args, Subcommand};
use kube::api::DeleteParams;
use std::io::{BufRead, Write};

/// `flux delete` arguments.
#[derive(Args)]
pub struct DeleteArgs {
    #[command(subcommand)]
    what: Target,
    #[command(flatten)]
    kube: KubeArgs,
    /// Delete resource without asking for confirmation.
    #[arg(short = 's', long, global = true)]
    silent: bool,
}

#[derive(Subcommand)]
enum Target {
    /// Delete sources.
    Source {
        #[command(subcommand)]
        what: SourceTarget,
    },
    /// Delete a Kustomization resource.
    #[command(alias = "ks")]
    Kustomization(Name),
    /// Delete a HelmRelease resource.
    #[command(alias = "hr")]
    Helmrelease(Name),
}

#[derive(Subcommand)]
enum SourceTarget {
    /// Delete a GitRepository source.
    Git(Name),
    /// Delete an OCIRepository source.
    Oci(Name),
    /// Delete a Bucket source.
    Bucket(Name),
    /// Delete a HelmRepository source.
    Helm(Name),
    /// Delete a HelmChart source.
    Chart(Name),
}

#[derive(Args)]
struct Name {
    /// Name of the object.
    name: String,
}

/// Runs `flux delete`.
pub fn run(args: DeleteArgs) -> anyhow::Result<()> {
    let (kind, name) = match args.what {
        Target::Source { what } => match what {
            SourceTarget::Git(n) => (FluxKind::GitRepository, n.name),
            SourceTarget::Oci(n) => (FluxKind::OciRepository, n.name),
            SourceTarget::Bucket(n) => (FluxKind::Bucket, n.name),
            SourceTarget::Helm(n) => (FluxKind::HelmRepository, n.name),
            SourceTarget::Chart(n) => (FluxKind::HelmChart, n.name),
        },
        Target::Kustomization(n) => (FluxKind::Kustomization, n.name),
        Target::Helmrelease(n) => (FluxKind::HelmRelease, n.name),
    };
    block_on(async move {
        let cluster = args.kube.connect().await?;
        let api = kind.api(&cluster.client, &cluster.namespace);
        // Fail on a missing object before asking anything.
        api.get(&name)
            .await
            .map_err(|e| cluster.err_kind(e, kind))?;
        if !args.silent
            && !confirm(&format!(
                "Are you sure you want to delete this {}",
                kind.human_kind()
            ))
        {
            anyhow::bail!("aborting");
        }
        output::action(format!(
            "deleting {} {} in {} namespace",
            kind.human_kind(),
            name,
            cluster.namespace
        ));
        api.delete(&name, &DeleteParams::default())
            .await
            .map_err(|e| cluster.err_kind(e, kind))?;
        output::success(format!("{} deleted", kind.human_kind()));
        Ok(())
    })
}

/// Asks `label [y/N]` on stderr; only an explicit yes on stdin confirms.
fn confirm(label: &str) -> bool {
    eprint!("{label} [y/N]: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim(), "y" | "Y" | "yes" | "Yes")
}
