//! `flux check [--pre]`: the Kubernetes version prerequisite, then (without `--pre`) the Flux
//! controller Deployments and the Flux CRDs, in upstream's output style.

use crate::cluster::{Cluster, KubeArgs, block_on, is_not_found};
use crate::output;
use clap::Args;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ListParams};

/// Lowest Kubernetes minor version Flux 2.9 supports.
const MIN_MINOR: u64 = 32;

/// `flux check` arguments.
#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    kube: KubeArgs,
    /// Only run pre-installation checks.
    #[arg(long)]
    pre: bool,
}

/// Runs `flux check`.
pub fn run(args: CheckArgs) -> anyhow::Result<()> {
    block_on(async move {
        let cluster = args.kube.connect().await?;
        output::action("checking prerequisites");
        let mut ok = kubernetes_version(&cluster).await?;
        if args.pre {
            if !ok {
                anyhow::bail!("prerequisites checks failed");
            }
            output::success("prerequisites checks passed");
            return Ok(());
        }
        output::action("checking controllers");
        ok &= controllers(&cluster).await?;
        output::action("checking crds");
        ok &= crds(&cluster).await?;
        if !ok {
            anyhow::bail!("check failed");
        }
        output::success("all checks passed");
        Ok(())
    })
}

async fn kubernetes_version(cluster: &Cluster) -> anyhow::Result<bool> {
    let info = cluster
        .client
        .apiserver_version()
        .await
        .map_err(|e| cluster.err(e))?;
    let v = info.git_version.trim_start_matches('v');
    let core = v.split(['-', '+']).next().unwrap_or(v);
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    let major = parts.next().flatten();
    let minor = parts.next().flatten();
    let constraint = format!(">=1.{MIN_MINOR}.0-0");
    match (major, minor) {
        (Some(1), Some(m)) if m >= MIN_MINOR => {
            output::success(format!("Kubernetes {v} {constraint}"));
            Ok(true)
        }
        (Some(maj), Some(_)) if maj > 1 => {
            output::success(format!("Kubernetes {v} {constraint}"));
            Ok(true)
        }
        _ => {
            output::failure(format!(
                "Kubernetes version {v} does not match {constraint}"
            ));
            Ok(false)
        }
    }
}

/// Flux controller Deployments (label `app.kubernetes.io/part-of=flux`) must be ready. With
/// none (controllers running in-process, as `flux local up` does) there is nothing to check.
async fn controllers(cluster: &Cluster) -> anyhow::Result<bool> {
    let api: Api<Deployment> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let list = match api
        .list(&ListParams::default().labels("app.kubernetes.io/part-of=flux"))
        .await
    {
        Ok(l) => l,
        Err(e) if is_not_found(&e) => {
            output::warning("the API server does not serve Deployments");
            return Ok(true);
        }
        Err(e) => return Err(cluster.err(e)),
    };
    if list.items.is_empty() {
        output::warning(format!(
            "no controller deployments found in {} namespace (controllers may run in-process)",
            cluster.namespace
        ));
        return Ok(true);
    }
    let mut ok = true;
    for d in &list.items {
        let name = d.metadata.name.clone().unwrap_or_default();
        let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let ready = d
            .status
            .as_ref()
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0);
        if ready >= want {
            output::success(format!("{name}: deployment ready"));
        } else {
            output::failure(format!("{name}: deployment not ready"));
            ok = false;
        }
        let images = d
            .spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .map(|p| {
                p.containers
                    .iter()
                    .filter_map(|c| c.image.clone())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        for image in images {
            output::action(image);
        }
    }
    Ok(ok)
}

/// Every Flux CRD must be installed; prints `name/storageVersion` as upstream.
async fn crds(cluster: &Cluster) -> anyhow::Result<bool> {
    let api: Api<CustomResourceDefinition> = Api::all(cluster.client.clone());
    let mut ok = true;
    let mut wanted = api::crds::all();
    wanted.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    for crd in wanted {
        let name = crd.metadata.name.clone().unwrap_or_default();
        match api.get(&name).await {
            Ok(found) => {
                let storage = found
                    .spec
                    .versions
                    .iter()
                    .find(|v| v.storage)
                    .map(|v| v.name.clone())
                    .unwrap_or_default();
                output::success(format!("{name}/{storage}"));
            }
            Err(e) if is_not_found(&e) => {
                output::failure(format!("{name} not found"));
                ok = false;
            }
            Err(e) => return Err(cluster.err(e)),
        }
    }
    Ok(ok)
}
