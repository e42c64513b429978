//! Integration tests of the resource manager against the embedded API server (in-process,
//! TLS, temp data dir), with real kubectl where a user would use it.

#[path = "ssa/harness.rs"]
mod harness;

#[path = "ssa/apply.rs"]
mod apply;

#[path = "ssa/delete_wait.rs"]
mod delete_wait;
