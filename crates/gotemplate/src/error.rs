//! The error type of parsing and executing templates.

/// A template error. The message is exactly what Go's `text/template` prints, e.g.
/// `template: t:1:3: executing "t" at <.a.b>: nil pointer evaluating interface {}.b`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A syntax error found while parsing (`template: NAME:LINE: MESSAGE`).
    #[error("{0}")]
    Parse(String),
    /// An error while executing
    /// (`template: NAME:LINE:COL: executing "NAME" at <NODE>: MESSAGE`).
    #[error("{message}")]
    Exec {
        /// The full message.
        message: String,
        /// The messages of the errors this one wraps (Go's `errors.Unwrap` chain below the
        /// `ExecError`), outermost first: for `error calling include: ...` the nested
        /// template error and its own causes; for a plain function error its message.
        /// Helm's error reformatting walks this chain.
        causes: Vec<String>,
    },
    /// A render limit (depth, output size, deadline) was exceeded.
    #[error("{0}")]
    Limit(String),
}

impl Error {
    /// The message text.
    pub fn message(&self) -> &str {
        match self {
            Error::Parse(m) | Error::Limit(m) => m,
            Error::Exec { message, .. } => message,
        }
    }

    /// The full unwrap chain: this error's message followed by its causes.
    pub fn chain(&self) -> Vec<String> {
        let mut v = vec![self.message().to_string()];
        if let Error::Exec { causes, .. } = self {
            v.extend(causes.iter().cloned());
        }
        v
    }

    pub(crate) fn exec(message: String) -> Error {
        Error::Exec {
            message,
            causes: Vec::new(),
        }
    }
}
