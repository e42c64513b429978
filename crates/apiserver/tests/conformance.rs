//! Conformance: the API server driven by real clients (kubectl, the Python `kubernetes` client)
//! and raw HTTP, asserting what those clients observe.

#[path = "conformance/common.rs"]
mod common;

#[path = "conformance/basics.rs"]
mod basics;
#[path = "conformance/cel.rs"]
mod cel;
#[path = "conformance/crash.rs"]
mod crash;
#[path = "conformance/crd.rs"]
mod crd;
#[path = "conformance/errors.rs"]
mod errors;
#[path = "conformance/gc.rs"]
mod gc;
#[path = "conformance/kube_rs.rs"]
mod kube_rs;
#[path = "conformance/kubectl_crud.rs"]
mod kubectl_crud;
#[path = "conformance/pagination.rs"]
mod pagination;
#[path = "conformance/python.rs"]
mod python;
#[path = "conformance/rbac.rs"]
mod rbac;
#[path = "conformance/ssa.rs"]
mod ssa;
#[path = "conformance/tables.rs"]
mod tables;
#[path = "conformance/update_fields.rs"]
mod update_fields;
#[path = "conformance/watch.rs"]
mod watch;
#[path = "conformance/workloads.rs"]
mod workloads;
