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
        source: Box<kube::Error>,
    },
    /// A request about one object failed.
    #[error("{subject} {operation} failed: {message}")]
    Request {
        /// What was attempted (`apply`, `get`, `delete`, `metadata cleanup`, ...).
        operation: &'static str,
        /// The object's subject.
        subject: String,
        /// The API server's message (or the client error).
        message: String,
        /// The client error.
        #[source]
        source: Box<kube::Error>,
    },
    /// The server-side dry-run apply of an object was refused (invalid object, immutable field
    /// changed without force, missing namespace, ...).
    #[error("{subject} {}{message}", dry_run_prefix(.reason))]
    DryRun {
        /// The object's subject.
        subject: String,
        /// The API status reason (`Invalid`, `NotFound`, ...), may be empty.
        reason: String,
        /// The API server's message.
        message: String,
        /// True when the error is an immutable-field change (recreate with force).
        immutable: bool,
    },
    /// Several objects failed to apply in one stage; every message listed.
    #[error("{}", .0.join("\n"))]
    Multiple(Vec<String>),
    /// Deleting some objects failed; the change set of what was done is kept.
    #[error("delete failed, errors: {}", .errors.join("; "))]
    Delete {
        /// One message per failed object.
        errors: Vec<String>,
        /// The entries of the objects that were handled.
        changes: crate::changeset::ChangeSet,
    },
    /// Waiting for objects timed out or an object failed.
    #[error("{0}")]
    Wait(String),
    /// A drift ignore rule is invalid.
    #[error("invalid drift ignore rule {what} {value:?}: {reason}")]
    InvalidIgnoreRule {
        /// Which part (`path`, `kind`, `labelSelector`, ...).
        what: String,
        /// The value given.
        value: String,
        /// Why it is refused.
        reason: String,
    },
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
}

fn dry_run_prefix(reason: &str) -> String {
    match reason {
        "NotFound" => "not found: ".to_string(),
        "NamespaceNotSpecified" => "namespace not specified: ".to_string(),
        "" => "dry-run failed: ".to_string(),
        r => format!("dry-run failed ({r}): "),
    }
}
