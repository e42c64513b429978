//! kstatus: the health of an object computed from its status, with sigs.k8s.io/cli-utils semantics.

use serde_json::Value;

/// The computed status of an object.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Status {
    /// Not yet at its desired state.
    InProgress,
    /// Failed to reach its desired state.
    Failed,
    /// At its desired state.
    Current,
    /// Being deleted.
    Terminating,
    /// Does not exist.
    NotFound,
    /// Cannot be told.
    Unknown,
}

impl Status {
    /// kstatus's spelling: `InProgress`, `Failed`, `Current`, `Terminating`, `NotFound`, `Unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::InProgress => "InProgress",
            Status::Failed => "Failed",
            Status::Current => "Current",
            Status::Terminating => "Terminating",
            Status::NotFound => "NotFound",
            Status::Unknown => "Unknown",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status with its human-readable message.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Result {
    /// The status.
    pub status: Status,
    /// Why.
    pub message: String,
}

/// Computes the kstatus of an object as returned by the API server.
pub fn compute(obj: &Value) -> Result {
    let _ = obj;
    Result {
        status: Status::Unknown,
        message: "not implemented yet".into(),
    }
}
