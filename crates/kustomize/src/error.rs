//! Errors of the kustomize engine; each names the operation and the file or field involved.

/// Everything that can go wrong in a build.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A filesystem operation failed.
    #[error("{op} '{path}'")]
    Io {
        /// What we were doing.
        op: &'static str,
        /// The path involved.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A path escapes the kustomization or source root.
    #[error("security; {0}")]
    Security(String),
    /// A directory was expected.
    #[error("must build at directory: not a valid directory: '{0}'")]
    NotADirectory(String),
    /// A kustomization refers (directly or not) to itself or to a parent directory.
    #[error("cycle detected: candidate root '{candidate}' contains visited root '{visited}'")]
    Cycle {
        /// The directory that would be entered.
        candidate: String,
        /// The directory already on the path.
        visited: String,
    },
    /// Kustomizations nest too deeply.
    #[error("kustomization nesting deeper than {max} levels at '{path}'")]
    TooDeep {
        /// Where the limit was hit.
        path: String,
        /// The limit.
        max: usize,
    },
    /// Remote bases/resources are refused.
    #[error("remote resource '{0}' is not supported: only local paths can be built")]
    Remote(String),
    /// A feature Flux does not allow (helm charts, exec/container plugins).
    #[error("{0}")]
    Unsupported(String),
    /// No kustomization file in a directory.
    #[error(
        "unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory '{0}'"
    )]
    MissingKustomization(String),
    /// Several kustomization files in one directory.
    #[error("found multiple kustomization files under: {0}")]
    MultipleKustomizations(String),
    /// A kustomization file did not parse or has bad fields.
    #[error("invalid Kustomization '{path}': {msg}")]
    InvalidKustomization {
        /// The file.
        path: String,
        /// What is wrong.
        msg: String,
    },
    /// A YAML/JSON document did not parse.
    #[error("parse YAML in '{path}': {msg}")]
    Yaml {
        /// The file.
        path: String,
        /// The parser's message.
        msg: String,
    },
    /// A resource is malformed (missing kind, name, ...).
    #[error("invalid resource in '{path}': {msg}")]
    InvalidResource {
        /// The file (or generator).
        path: String,
        /// What is wrong.
        msg: String,
    },
    /// Two resources with one id.
    #[error("may not add resource with an already registered id: {0}")]
    DuplicateId(String),
    /// A transformer, generator or patch failed.
    #[error("{context}: {msg}")]
    Transform {
        /// Which transformer or field, and on what.
        context: String,
        /// What went wrong.
        msg: String,
    },
    /// Wraps an error with the file or path it happened under.
    #[error("{context}")]
    Context {
        /// Where.
        context: String,
        /// The error.
        #[source]
        source: Box<Error>,
    },
}

impl Error {
    /// A transformer/generator error.
    pub fn transform(context: impl Into<String>, msg: impl Into<String>) -> Self {
        Error::Transform {
            context: context.into(),
            msg: msg.into(),
        }
    }

    /// Wraps with a context message.
    pub fn context(self, context: impl Into<String>) -> Self {
        Error::Context {
            context: context.into(),
            source: Box::new(self),
        }
    }

    /// The whole chain on one line: `outer: inner: cause` (what anyhow's `{:#}` prints).
    pub fn chain(&self) -> String {
        let mut out = self.to_string();
        let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(self);
        while let Some(e) = cur {
            out.push_str(": ");
            out.push_str(&e.to_string());
            cur = e.source();
        }
        out
    }
}
