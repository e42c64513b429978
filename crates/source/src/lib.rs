//! Source fetchers, artifact storage, the artifact HTTP server and the artifact consumer.
//!
//! - [`storage`]: Flux's artifact layout, reproducible tar.gz packing, locks, garbage collection.
//! - [`server`]: the plain-HTTP artifact server.
//! - [`fetch`]: the consumer side: download, digest verification, safe extraction.
//! - [`git`]: Git checkout of a branch, tag, semver range, ref name or commit, with auth.
//! - [`ignore`]: `.sourceignore` and Flux's default excludes.
//! - [`semver`]: Masterminds/semver v3 constraints.
//! - [`verify`]: OpenPGP verification of commit and tag signatures.
//! - [`git_http`]: Git smart HTTP through `git http-backend` (used by `flux local up`).
//! - [`testutil`]: a Git smart-HTTP server for tests and benchmarks.

pub mod archive;
pub mod fetch;
pub mod git;
pub mod git_http;
pub mod ignore;
pub mod semver;
pub mod server;
pub mod storage;
pub mod testutil;
pub mod verify;
