//! Integration tests of the controller runtime, the GitRepository and Kustomization reconcilers: the embedded
//! API server in-process, the manager in-process, real Git over `git http-backend` on 127.0.0.1.

#[path = "controllers/harness.rs"]
mod harness;

#[path = "controllers/gitserver.rs"]
mod gitserver;

#[path = "controllers/gitrepository.rs"]
mod gitrepository;

#[path = "controllers/runtime.rs"]
mod runtime;

#[path = "controllers/kustomization.rs"]
mod kustomization;
