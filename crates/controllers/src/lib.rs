//! Flux's controllers as a library: the controller [`runtime`] (manager, leader election,
//! Events, Prometheus metrics, JSON logs, kstatus conditions) and one module per controller,
//! the GitRepository reconciler in [`source::gitrepository`] and the Kustomization reconciler in
//! [`kustomize::kustomization`].
//!
//! Everything talks to the cluster through kube-rs only, so the same code runs against a real
//! Kubernetes API server (kubeconfig or in-cluster config) and against fluxrs' embedded one.
//!
//! Embedding (what `flux controllers` and `flux local up` do):
//!
//! ```text
//! let client = Manager::default_client().await?;            // KUBECONFIG or in-cluster
//! let opts = ManagerOptions { enable: vec!["source".into()], storage_path, ..Default::default() };
//! let running = Manager::new(client, opts)?.start().await?;  // endpoints bound, controllers running
//! // running.metrics_addr / health_addr / storage_addr are the bound addresses (port 0 works)
//! running.wait(shutdown_signal).await?;                      // or running.shutdown().await
//! ```
//!
//! A new controller plugs in as a module with a `run(ctx, shutdown)` function started by
//! [`runtime::manager::Manager::start`], and uses the runtime pieces: [`runtime::patch`] for
//! the finalizer and the single status patch, [`runtime::conditions::summarize`] for
//! `Ready`/`Reconciling`/`Stalled`, [`runtime::schedule::Schedule`] for interval and backoff,
//! [`runtime::events::Recorder`] for Events, [`runtime::redact::Redactor`] for messages.

pub mod kustomize;
pub mod runtime;
pub mod source;

pub use runtime::manager::{Manager, ManagerOptions, RunningManager};
