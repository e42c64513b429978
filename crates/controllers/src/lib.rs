//! Flux's controllers as a library: the controller [`runtime`] (manager, leader election,
//! Events, Prometheus metrics, JSON logs, kstatus conditions) and one module per controller,
//! starting with the GitRepository reconciler in [`source::gitrepository`].
//!
//! Everything talks to the cluster through kube-rs only, so the same code runs against a real
//! Kubernetes API server (kubeconfig or in-cluster config) and against fluxrs' embedded one.

pub mod runtime;
pub mod source;

pub use runtime::manager::{Manager, ManagerOptions, RunningManager};
