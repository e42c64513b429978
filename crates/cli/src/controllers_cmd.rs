//! `flux controllers`: runs the enabled Flux controllers in this process against the cluster the
//! kubeconfig (or the in-cluster service account) names, with the upstream controllers' flags.

use std::time::Duration;

use anyhow::Context;
use clap::{ArgAction, Args};
use controllers::runtime::logging::{self, LogEncoding};
use controllers::runtime::manager::parse_listen_addr;
use controllers::runtime::schedule::parse_go_duration;
use controllers::{Manager, ManagerOptions};

/// `flux controllers` arguments (names and defaults of Flux's controller flags).
#[derive(Args)]
pub struct ControllersArgs {
    /// Controllers to run, comma-separated: source, kustomize.
    #[arg(long, value_delimiter = ',', default_value = "source")]
    enable: Vec<String>,
    /// The number of concurrent reconciles per controller.
    #[arg(long, default_value_t = 2)]
    concurrent: u16,
    /// The interval at which failing dependencies are reevaluated.
    #[arg(long, default_value = "30s")]
    requeue_dependency: String,
    /// The local storage path.
    #[arg(long, default_value = "/data")]
    storage_path: std::path::PathBuf,
    /// The address the static file server binds to.
    #[arg(long, default_value = ":9090")]
    storage_addr: String,
    /// The advertised address of the static file server (host[:port]); defaults to the bound one.
    #[arg(long, default_value = "")]
    storage_adv_addr: String,
    /// The address the metric endpoint binds to.
    #[arg(long, default_value = ":8080")]
    metrics_addr: String,
    /// The address the health endpoint binds to.
    #[arg(long, default_value = ":9440")]
    health_addr: String,
    /// Log level: trace, debug, info, error.
    #[arg(long, default_value = "info")]
    log_level: String,
    /// Log encoding: json or console.
    #[arg(long, default_value = "json")]
    log_encoding: String,
    /// Watch for resources in all namespaces (false: only the RUNTIME_NAMESPACE).
    #[arg(long, num_args = 0..=1, default_value_t = true, default_missing_value = "true", action = ArgAction::Set)]
    watch_all_namespaces: bool,
    /// Watch for resources with matching labels, e.g. 'sharding.fluxcd.io/shard=shard1'.
    #[arg(long, default_value = "")]
    watch_label_selector: String,
    /// Enable leader election for controller manager.
    #[arg(long, num_args = 0..=1, default_value_t = false, default_missing_value = "true", action = ArgAction::Set)]
    leader_elect: bool,
    /// The address of the events receiver (notification-controller), e.g.
    /// 'http://notification-controller.flux-system.svc.cluster.local./'.
    #[arg(long, default_value = "")]
    events_addr: String,
    /// The maximum number of artifacts to be kept in storage per object.
    #[arg(long, default_value_t = 2)]
    artifact_retention_records: usize,
    /// When set to true, references between custom resources are allowed only if the
    /// reference and the referee are in the same namespace.
    #[arg(long, num_args = 0..=1, default_value_t = false, default_missing_value = "true", action = ArgAction::Set)]
    no_cross_namespace_refs: bool,
    /// Disallow remote bases usage in Kustomize overlays (remote bases are never fetched by
    /// this engine; the flag is accepted for compatibility).
    #[arg(long, num_args = 0..=1, default_value_t = false, default_missing_value = "true", action = ArgAction::Set)]
    no_remote_bases: bool,
    /// Default service account used for impersonation.
    #[arg(long, default_value = "")]
    default_service_account: String,
    /// Allow use of the user.exec section in kubeconfigs provided for remote apply.
    #[arg(long, num_args = 0..=1, default_value_t = false, default_missing_value = "true", action = ArgAction::Set)]
    insecure_kubeconfig_exec: bool,
    /// Allow that kubeconfigs provided for remote apply can disable TLS verification.
    #[arg(long, num_args = 0..=1, default_value_t = false, default_missing_value = "true", action = ArgAction::Set)]
    insecure_kubeconfig_tls: bool,
    /// A comma separated list of key=value pairs describing the state of feature gates
    /// (StrictPostBuildSubstitutions=true|false).
    #[arg(long, default_value = "")]
    feature_gates: String,
}

/// Feature gates `--feature-gates` accepts.
const FEATURE_GATES: &[&str] = &["StrictPostBuildSubstitutions"];

/// Parses `--feature-gates` (`Gate=true,Other=false`) into the enabled gates.
fn parse_feature_gates(s: &str) -> anyhow::Result<Vec<String>> {
    let mut enabled = Vec::new();
    for pair in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').with_context(|| {
            format!("parsing --feature-gates '{pair}': expected Gate=true|false")
        })?;
        let (k, v) = (k.trim(), v.trim());
        if !FEATURE_GATES.contains(&k) {
            anyhow::bail!(
                "parsing --feature-gates: unknown feature gate '{k}' (known: {})",
                FEATURE_GATES.join(", ")
            );
        }
        match v.to_ascii_lowercase().as_str() {
            "true" => enabled.push(k.to_string()),
            "false" => enabled.retain(|g| g != k),
            _ => anyhow::bail!("parsing --feature-gates: invalid value '{v}' for {k}"),
        }
    }
    Ok(enabled)
}

/// Runs `flux controllers` until interrupted (SIGINT/SIGTERM) or leadership is lost.
pub fn run(args: ControllersArgs) -> anyhow::Result<()> {
    let encoding: LogEncoding = args.log_encoding.parse()?;
    logging::init(&args.log_level, encoding)?;
    let gates = parse_feature_gates(&args.feature_gates)?;
    let requeue_dependency = parse_go_duration(&args.requeue_dependency)
        .with_context(|| format!("parsing --requeue-dependency '{}'", args.requeue_dependency))?;
    let options = ManagerOptions {
        enable: args
            .enable
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        concurrent: args.concurrent,
        requeue_dependency,
        storage_path: args.storage_path,
        storage_addr: parse_listen_addr(&args.storage_addr)?,
        storage_adv_addr: (!args.storage_adv_addr.is_empty()).then_some(args.storage_adv_addr),
        metrics_addr: parse_listen_addr(&args.metrics_addr)?,
        health_addr: parse_listen_addr(&args.health_addr)?,
        watch_all_namespaces: args.watch_all_namespaces,
        watch_label_selector: (!args.watch_label_selector.is_empty())
            .then_some(args.watch_label_selector),
        leader_elect: args.leader_elect,
        artifact_retention_records: args.artifact_retention_records,
        events_addr: (!args.events_addr.is_empty()).then_some(args.events_addr),
        no_cross_namespace_refs: args.no_cross_namespace_refs,
        no_remote_bases: args.no_remote_bases,
        default_service_account: (!args.default_service_account.is_empty())
            .then_some(args.default_service_account),
        insecure_kubeconfig_exec: args.insecure_kubeconfig_exec,
        insecure_kubeconfig_tls: args.insecure_kubeconfig_tls,
        strict_substitutions: gates.iter().any(|g| g == "StrictPostBuildSubstitutions"),
        ..ManagerOptions::default()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let client = Manager::default_client()
            .await
            .context("loading kubeconfig or in-cluster config")?;
        let manager = Manager::new(client, options)?.start().await?;
        manager.wait(shutdown_signal()).await?;
        // Let in-flight log lines and connections drain.
        tokio::time::sleep(Duration::from_millis(50)).await;
        anyhow::Ok(())
    })
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (what Kubernetes sends on pod termination); used by
/// `flux controllers` and `flux local up`.
pub(crate) async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_gates() {
        assert_eq!(
            parse_feature_gates("StrictPostBuildSubstitutions=true").unwrap(),
            vec!["StrictPostBuildSubstitutions".to_string()]
        );
        assert!(parse_feature_gates("").unwrap().is_empty());
        assert!(
            parse_feature_gates(
                "StrictPostBuildSubstitutions=true,StrictPostBuildSubstitutions=false"
            )
            .unwrap()
            .is_empty()
        );
        assert!(parse_feature_gates("Nope=true").is_err());
        assert!(parse_feature_gates("StrictPostBuildSubstitutions").is_err());
    }
}
