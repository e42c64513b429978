//! The manager: binds the metrics and health endpoints, optionally wins leader election, starts
//! the enabled controllers with kube-runtime, and shuts everything down together.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kube::Client;
use tokio::sync::watch;
use tracing::{error, info};

use crate::runtime::http::{self, Readiness};
use crate::runtime::leader::{LeaderElector, LeaseTiming};
use crate::runtime::metrics::Metrics;

/// Controllers `--enable` accepts, in Flux's component names.
pub const KNOWN_CONTROLLERS: &[&str] = &["source", "kustomize"];

/// Settings of a manager (the flags of `flux controllers`).
#[derive(Debug, Clone)]
pub struct ManagerOptions {
    /// Controllers to run (`source`, ...).
    pub enable: Vec<String>,
    /// Concurrent reconciles per controller (`--concurrent`).
    pub concurrent: u16,
    /// Requeue delay for objects waiting on a dependency (`--requeue-dependency`).
    pub requeue_dependency: Duration,
    /// Artifact storage directory (`--storage-path`).
    pub storage_path: PathBuf,
    /// Listen address of the artifact server (`--storage-addr`).
    pub storage_addr: SocketAddr,
    /// Host (and port) put in artifact URLs (`--storage-adv-addr`); the bound address if unset.
    pub storage_adv_addr: Option<String>,
    /// Listen address of `/metrics` (`--metrics-addr`).
    pub metrics_addr: SocketAddr,
    /// Listen address of `/healthz` and `/readyz` (`--health-addr`).
    pub health_addr: SocketAddr,
    /// Watch every namespace (`--watch-all-namespaces`), else only `runtime_namespace`.
    pub watch_all_namespaces: bool,
    /// Only reconcile objects matching this label selector (`--watch-label-selector`).
    pub watch_label_selector: Option<String>,
    /// Run leader election on a Lease (`--leader-elect`).
    pub leader_elect: bool,
    /// Timing of the election.
    pub lease_timing: LeaseTiming,
    /// Namespace of the controllers (`RUNTIME_NAMESPACE`): the Lease lives here, and it is the
    /// watched namespace when not watching all.
    pub runtime_namespace: String,
    /// Lowest retry delay of failing objects.
    pub min_retry_delay: Duration,
    /// Highest retry delay of failing objects.
    pub max_retry_delay: Duration,
    /// Artifacts kept per object besides the current one (`--artifact-retention-records`).
    pub artifact_retention_records: usize,
    /// Allow `file://` Git URLs (only `flux local up` sets this).
    pub allow_file_urls: bool,
    /// notification-controller's event endpoint (`--events-addr`); events are also POSTed there.
    pub events_addr: Option<String>,
    /// Refuse references to sources and dependencies in other namespaces (`--no-cross-namespace-refs`).
    pub no_cross_namespace_refs: bool,
    /// Refuse remote Kustomize bases (`--no-remote-bases`); our engine never fetches them anyway.
    pub no_remote_bases: bool,
    /// Service account impersonated by Kustomizations without `serviceAccountName`
    /// (`--default-service-account`).
    pub default_service_account: Option<String>,
    /// Allow exec plugins in `spec.kubeConfig` kubeconfigs (`--insecure-kubeconfig-exec`).
    pub insecure_kubeconfig_exec: bool,
    /// Allow `insecure-skip-tls-verify` in `spec.kubeConfig` kubeconfigs (`--insecure-kubeconfig-tls`).
    pub insecure_kubeconfig_tls: bool,
    /// Fail post-build substitution on undefined variables without default
    /// (`--feature-gates=StrictPostBuildSubstitutions=true`).
    pub strict_substitutions: bool,
    /// Configuration of the manager's client, used to build impersonating clients
    /// (`serviceAccountName`); inferred from the environment when unset.
    pub kube_config: Option<kube::Config>,
}

impl Default for ManagerOptions {
    fn default() -> Self {
        Self {
            enable: vec!["source".into()],
            concurrent: 4,
            requeue_dependency: Duration::from_secs(30),
            storage_path: PathBuf::from("/data"),
            storage_addr: SocketAddr::from(([0, 0, 0, 0], 9090)),
            storage_adv_addr: None,
            metrics_addr: SocketAddr::from(([0, 0, 0, 0], 8080)),
            health_addr: SocketAddr::from(([0, 0, 0, 0], 9440)),
            watch_all_namespaces: true,
            watch_label_selector: None,
            leader_elect: false,
            lease_timing: LeaseTiming::default(),
            runtime_namespace: std::env::var("RUNTIME_NAMESPACE")
                .unwrap_or_else(|_| "flux-system".into()),
            min_retry_delay: Duration::from_millis(750),
            max_retry_delay: Duration::from_secs(15 * 60),
            artifact_retention_records: 2,
            allow_file_urls: false,
            events_addr: None,
            no_cross_namespace_refs: false,
            no_remote_bases: false,
            default_service_account: None,
            insecure_kubeconfig_exec: false,
            insecure_kubeconfig_tls: false,
            strict_substitutions: false,
            kube_config: None,
        }
    }
}

/// Parses Go-style listen addresses: `:8080` means every interface.
pub fn parse_listen_addr(s: &str) -> Result<SocketAddr, ManagerError> {
    let full = if s.starts_with(':') {
        format!("0.0.0.0{s}")
    } else {
        s.to_string()
    };
    full.parse()
        .map_err(|_| ManagerError::Address(s.to_string()))
}

/// Errors of the manager.
#[derive(Debug, thiserror::Error)]
pub enum ManagerError {
    /// An unknown controller name in `--enable`.
    #[error("enabling controller '{0}': unknown controller (known: {known})", known = KNOWN_CONTROLLERS.join(", "))]
    UnknownController(String),
    /// A malformed listen address.
    #[error("parsing listen address '{0}'")]
    Address(String),
    /// An endpoint could not start.
    #[error(transparent)]
    Http(#[from] http::HttpError),
    /// The source controller's storage could not start.
    #[error("starting artifact storage: {0}")]
    Storage(String),
    /// Leadership was lost; the process must exit so that another replica takes over.
    #[error("leader election lost")]
    LeadershipLost,
}

/// What every controller of a manager shares.
pub struct Shared {
    /// API client.
    pub client: Client,
    /// Metrics registry.
    pub metrics: Arc<Metrics>,
    /// The manager's settings.
    pub options: ManagerOptions,
}

impl Shared {
    /// The watcher configuration for the manager's `--watch-label-selector`.
    pub fn watcher_config(&self) -> kube::runtime::watcher::Config {
        let cfg = kube::runtime::watcher::Config::default();
        match &self.options.watch_label_selector {
            Some(sel) if !sel.is_empty() => cfg.labels(sel),
            _ => cfg,
        }
    }

    /// The Api of `K` over the watched namespaces.
    pub fn watched_api<K>(&self) -> kube::Api<K>
    where
        K: kube::Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>,
    {
        if self.options.watch_all_namespaces {
            kube::Api::all(self.client.clone())
        } else {
            kube::Api::namespaced(self.client.clone(), &self.options.runtime_namespace)
        }
    }
}

/// A configured manager.
pub struct Manager {
    client: Client,
    options: ManagerOptions,
}

/// A started manager: its bound addresses and a handle to stop it.
pub struct RunningManager {
    /// Bound `/metrics` address.
    pub metrics_addr: SocketAddr,
    /// Bound health address.
    pub health_addr: SocketAddr,
    /// Bound artifact server address, when the source controller runs.
    pub storage_addr: Option<SocketAddr>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), ManagerError>>,
}

impl RunningManager {
    /// Stops the controllers and endpoints and waits for them.
    pub async fn shutdown(self) -> Result<(), ManagerError> {
        let _ = self.shutdown.send(true);
        self.task.await.unwrap_or(Ok(()))
    }

    /// Waits until the manager stops on its own (leadership lost) or `signal` resolves.
    pub async fn wait(
        self,
        signal: impl std::future::Future<Output = ()>,
    ) -> Result<(), ManagerError> {
        let RunningManager {
            shutdown, mut task, ..
        } = self;
        tokio::select! {
            r = &mut task => r.unwrap_or(Ok(())),
            _ = signal => {
                let _ = shutdown.send(true);
                task.await.unwrap_or(Ok(()))
            }
        }
    }
}

impl Manager {
    /// A manager using `client` (from kubeconfig or in-cluster config).
    pub fn new(client: Client, options: ManagerOptions) -> Result<Self, ManagerError> {
        for c in &options.enable {
            if !KNOWN_CONTROLLERS.contains(&c.as_str()) {
                return Err(ManagerError::UnknownController(c.clone()));
            }
        }
        Ok(Self { client, options })
    }

    /// A client from `KUBECONFIG`/`~/.kube/config` or the in-cluster service account.
    pub async fn default_client() -> Result<Client, kube::Error> {
        Client::try_default().await
    }

    /// Binds the endpoints and starts the controllers in the background.
    pub async fn start(self) -> Result<RunningManager, ManagerError> {
        let (tx, rx) = watch::channel(false);
        let metrics = Arc::new(Metrics::new());
        // Ready as soon as the endpoints serve, leader or standby (controller-runtime's ping
        // check): a standby that never became ready would stall rolling updates, since the
        // old leader only releases the lease when it is replaced.
        let ready = Readiness::default();
        ready.set(true);
        let metrics_addr =
            http::serve_metrics(self.options.metrics_addr, metrics.clone(), rx.clone()).await?;
        let health_addr =
            http::serve_health(self.options.health_addr, ready.clone(), rx.clone()).await?;
        let shared = Arc::new(Shared {
            client: self.client.clone(),
            metrics,
            options: self.options.clone(),
        });

        let mut storage_addr = None;
        let mut source_ctx = None;
        if self.options.enable.iter().any(|c| c == "source") {
            let (ctx, addr) = crate::source::SourceContext::start(shared.clone(), rx.clone())
                .await
                .map_err(|e| ManagerError::Storage(e.to_string()))?;
            storage_addr = Some(addr);
            source_ctx = Some(ctx);
        }

        let kustomize_ctx = if self.options.enable.iter().any(|c| c == "kustomize") {
            Some(crate::kustomize::KustomizeContext::new(shared.clone()).await)
        } else {
            None
        };

        let elector = self.options.leader_elect.then(|| {
            let identity = format!(
                "{}_{}",
                std::env::var("HOSTNAME").unwrap_or_else(|_| "fluxrs".into()),
                uuid::Uuid::new_v4()
            );
            LeaderElector::new(
                self.client.clone(),
                &self.options.runtime_namespace,
                &lease_name(&self.options.enable),
                &identity,
                self.options.lease_timing.clone(),
            )
        });

        info!(
            metrics = %metrics_addr,
            health = %health_addr,
            storage = ?storage_addr,
            "manager listening"
        );
        let mut stop = rx.clone();
        let task = tokio::spawn(async move {
            if let Some(e) = &elector {
                info!(identity = %e.identity(), "attempting to acquire leader lease");
                tokio::select! {
                    _ = e.acquire() => {}
                    _ = stop.wait_for(|s| *s) => return Ok(()),
                }
            }
            let mut controllers = tokio::task::JoinSet::new();
            if let Some(ctx) = source_ctx {
                controllers.spawn(crate::source::gitrepository::run(ctx, rx.clone()));
            }
            if let Some(ctx) = kustomize_ctx {
                controllers.spawn(crate::kustomize::kustomization::run(ctx, rx.clone()));
            }
            info!(controllers = ?shared.options.enable, "starting controllers");
            let lost = async {
                match &elector {
                    Some(e) => e.hold().await,
                    None => std::future::pending().await,
                }
            };
            let result = tokio::select! {
                _ = lost => {
                    error!("leader election lost");
                    // No longer the leader: stop reconciling at once, mid-flight or not.
                    controllers.abort_all();
                    Err(ManagerError::LeadershipLost)
                }
                _ = stop.wait_for(|s| *s) => Ok(()),
            };
            ready.set(false);
            // On shutdown the controllers drain their in-flight reconciles themselves.
            while controllers.join_next().await.is_some() {}
            if let Some(e) = &elector {
                e.release().await;
            }
            result
        });
        Ok(RunningManager {
            metrics_addr,
            health_addr,
            storage_addr,
            shutdown: tx,
            task,
        })
    }
}

/// Name of the election Lease (`<component>-leader-election`, as Flux's controllers).
pub fn lease_name(enable: &[String]) -> String {
    match enable {
        [one] if one == "source" => "source-controller-leader-election".into(),
        [one] => format!("{one}-controller-leader-election"),
        _ => "flux-controllers-leader-election".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_style_addresses() {
        assert_eq!(
            parse_listen_addr(":8080").unwrap(),
            "0.0.0.0:8080".parse().unwrap()
        );
        assert_eq!(
            parse_listen_addr("127.0.0.1:0").unwrap(),
            "127.0.0.1:0".parse().unwrap()
        );
        assert!(parse_listen_addr("nope").is_err());
        assert_eq!(
            lease_name(&["source".into()]),
            "source-controller-leader-election"
        );
    }
}
