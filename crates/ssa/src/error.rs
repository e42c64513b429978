//! Errors of the resource manager.

/// An error of a resource-manager operation; messages name the operation and the object.
#[derive(Debug, thiserror::Error)]
pub enum SsaError {
    /// An object lacks a field every Kubernetes object must have.
    #[error("invalid object {subject}: {reason}")]
    InvalidObject {
        /// What could be read of the object (`Kind/namespace/name`).
        subject: String,
        /// What is wrong.
        reason: String,
    },
    /// An inventory id could not be parsed.
    #[error("unable to parse inventory id {id:?}: {reason}")]
    InvalidInventoryId {
        /// The id as stored.
        id: String,
        /// What is wrong.
        reason: String,
    },
    /// The API server does not serve the object's kind.
    #[error("no matches for kind {kind:?} in version {api_version:?} ({subject})")]
    UnknownKind {
        /// `group/version` or `version` of the object.
        api_version: String,
        /// The kind.
        kind: String,
        /// The object's subject.
        subject: String,
    },
    /// Discovery of a group/version failed.
    #[error("discovery of {api_version} failed: {source}")]
    Discovery {
        /// `group/version`.
        api_version: String,
        /// The client error.
        #[source]
        source: kube::Error,
    },
    /// A request about one object failed.
    #[error("{operation} {subject} failed: {source}")]
    Request {
        /// What was attempted (`dry-run apply`, `apply`, `get`, `delete`, ...).
        operation: &'static str,
        /// The object's subject.
        subject: String,
        /// The client error (the API server's status message included).
        #[source]
        source: kube::Error,
    },
    /// An immutable field changed and recreation was not allowed.
    #[error("{subject} dry-run failed ({reason}): {message}")]
    Immutable {
        /// The object's subject.
        subject: String,
        /// The API status reason (`Invalid`, ...).
        reason: String,
        /// The API server's message naming the field.
        message: String,
    },
    /// Several objects failed to apply in one stage; every message listed.
    #[error("{}", .0.join("\n"))]
    Multiple(Vec<String>),
    /// Waiting for objects timed out or an object failed.
    #[error("{0}")]
    Wait(String),
    /// A custom health check expression is invalid or failed to evaluate.
    #[error("health check expression for {kind} ({api_version}) {field}: {reason}")]
    HealthCheckExpr {
        /// apiVersion of the check.
        api_version: String,
        /// kind of the check.
        kind: String,
        /// `current`, `inProgress` or `failed`.
        field: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// Not implemented (only in the first commit of the API).
    #[error("{0}: not implemented yet")]
    NotImplemented(&'static str),
}
