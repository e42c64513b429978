//! Embedded Kubernetes-compatible API server: durable storage, REST/JSON API, watch, discovery,
//! OpenAPI, CRDs and patches, served over HTTPS (generated CA, admin cert/token) or plain HTTP.

pub mod apply;
pub mod auth;
pub mod builtin;
pub mod controller;
pub mod crd;
pub mod discovery;
pub mod error;
pub mod fields;
pub mod gc;
pub mod jsonpath;
pub mod namespaces;
pub mod openapi;
pub mod patch;
pub mod pki;
pub mod protobuf;
pub mod registry;
pub mod request;
pub mod rest;
pub mod review;
pub mod selector;
pub mod server;
pub mod store;
pub mod structural;
pub mod table;
pub mod transport;
pub mod util;
pub mod validation_rules;
pub mod watch;
pub mod workloads;

pub use server::{Api, Config, RunningServer, StartError, start};
