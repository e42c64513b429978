//! Reconcile errors classified as transient (retried with backoff) or terminal (stalled until
//! the spec changes), each carrying the Flux condition reason it is reported with.

use std::fmt;

/// Whether a failure is worth retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Retry with exponential backoff; `Ready=False`, `Reconciling=True`.
    Transient,
    /// Do not retry until the object changes; `Stalled=True`.
    Terminal,
}

/// A reconcile failure with the reason and message that go into the object's conditions and
/// events. The message must already be free of secrets (see [`crate::runtime::redact`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconcileError {
    /// Transient or terminal.
    pub kind: ErrorKind,
    /// Flux condition reason, e.g. `GitOperationFailed`.
    pub reason: String,
    /// Human-readable message.
    pub message: String,
}

impl ReconcileError {
    /// A failure that is retried with backoff.
    pub fn transient(reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Transient,
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// A failure that needs a spec change to recover.
    pub fn terminal(reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Terminal,
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// Whether this failure stalls the object.
    pub fn is_terminal(&self) -> bool {
        self.kind == ErrorKind::Terminal
    }
}

impl fmt::Display for ReconcileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ReconcileError {}

/// Errors of the runtime's own plumbing (API calls that are not part of a reconcile step).
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// An API call failed.
    #[error("{operation} {object}: {source}")]
    Kube {
        /// What was being done, e.g. `patching status of`.
        operation: &'static str,
        /// `kind namespace/name`.
        object: String,
        /// Cause.
        #[source]
        source: kube::Error,
    },
    /// Serializing an object failed.
    #[error("serializing {object}: {source}")]
    Serialize {
        /// `kind namespace/name`.
        object: String,
        /// Cause.
        #[source]
        source: serde_json::Error,
    },
}
