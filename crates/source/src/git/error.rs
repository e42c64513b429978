//! Typed Git errors classified from the git client's output, with secrets scrubbed.

use std::path::PathBuf;
use std::time::Duration;

use crate::semver::SemverError;

/// Errors of Git operations. Messages carry the repository URL without user info and never any
/// credential.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The URL is malformed or its scheme is not allowed.
    #[error("invalid repository URL {url}: {reason}")]
    InvalidUrl {
        /// The URL (user info removed).
        url: String,
        /// Why it is refused.
        reason: String,
    },
    /// A Secret's data is unusable.
    #[error("invalid secret {secret}: {reason}")]
    InvalidSecret {
        /// The Secret name.
        secret: String,
        /// What is wrong.
        reason: String,
    },
    /// An `ssh://` URL was given without `known_hosts`.
    #[error("clone {url}: ssh requires known_hosts to verify the server's host key")]
    MissingKnownHosts {
        /// The URL.
        url: String,
    },
    /// The server rejected the credentials (or required some).
    #[error("clone {url}: authentication failed: {detail}")]
    Auth {
        /// The URL.
        url: String,
        /// The git client's explanation, scrubbed.
        detail: String,
    },
    /// The SSH host key did not match `known_hosts`.
    #[error("clone {url}: host key verification failed: {detail}")]
    HostKey {
        /// The URL.
        url: String,
        /// The git client's explanation, scrubbed.
        detail: String,
    },
    /// TLS failed (unknown CA, bad certificate).
    #[error("clone {url}: TLS error: {detail}")]
    Tls {
        /// The URL.
        url: String,
        /// The git client's explanation, scrubbed.
        detail: String,
    },
    /// The server could not be reached.
    #[error("clone {url}: unable to reach the server: {detail}")]
    Unreachable {
        /// The URL.
        url: String,
        /// The git client's explanation, scrubbed.
        detail: String,
    },
    /// The repository does not exist on the server.
    #[error("clone {url}: repository not found: {detail}")]
    RepositoryNotFound {
        /// The URL.
        url: String,
        /// The git client's explanation, scrubbed.
        detail: String,
    },
    /// The branch, tag, ref name or commit does not exist.
    #[error("clone {url}: reference {reference:?} not found")]
    RefNotFound {
        /// The URL.
        url: String,
        /// The reference asked for.
        reference: String,
    },
    /// `spec.ref.semver` is not a valid constraint.
    #[error("semver parse error: {0}")]
    InvalidSemver(#[source] SemverError),
    /// No tag satisfies the semver constraint.
    #[error("clone {url}: no tag matches semver constraint {constraint:?}")]
    NoSemverMatch {
        /// The URL.
        url: String,
        /// The constraint.
        constraint: String,
    },
    /// The operation took longer than the timeout.
    #[error("clone {url}: timed out after {after:?}")]
    Timeout {
        /// The URL.
        url: String,
        /// The timeout.
        after: Duration,
    },
    /// Any other failure of a git command.
    #[error("{op} {url}: {detail}")]
    Command {
        /// The operation, e.g. `fetch`.
        op: &'static str,
        /// The URL.
        url: String,
        /// The git client's output, scrubbed.
        detail: String,
    },
    /// Local I/O failed (temp files, checkout directory) or `git` could not be started.
    #[error("{op} {path}")]
    Io {
        /// The operation.
        op: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl GitError {
    /// Builds the typed error for a failed git command from its stderr (already scrubbed).
    pub(crate) fn classify(op: &'static str, url: &str, stderr: &str) -> GitError {
        let detail = summarize(stderr);
        let url = url.to_string();
        let s = stderr.to_ascii_lowercase();
        let has = |needles: &[&str]| needles.iter().any(|n| s.contains(n));
        if has(&[
            "host key verification failed",
            "remote host identification has changed",
            "no matching host key",
        ]) {
            GitError::HostKey { url, detail }
        } else if has(&[
            "authentication failed",
            "could not read username",
            "could not read password",
            "terminal prompts disabled",
            "permission denied (publickey",
            "permission denied, please try again",
            "incorrect passphrase",
            "error: 401",
            "error: 403",
            "http 401",
            "http 403",
            "invalid credentials",
        ]) {
            GitError::Auth { url, detail }
        } else if has(&[
            "ssl certificate problem",
            "server certificate verification failed",
            "certificate verify failed",
            "ssl_connect",
            "unable to get local issuer",
        ]) {
            GitError::Tls { url, detail }
        } else if has(&[
            "could not resolve host",
            "connection refused",
            "failed to connect",
            "unable to connect",
            "connection timed out",
            "couldn't connect",
            "no route to host",
            "network is unreachable",
            "connection reset",
            "connection closed by remote host",
            "empty reply from server",
        ]) {
            GitError::Unreachable { url, detail }
        } else if has(&[
            "repository not found",
            "does not appear to be a git repository",
            "error: 404",
            "not found",
            "no such file or directory",
        ]) && !has(&["couldn't find remote ref", "remote ref"])
        {
            GitError::RepositoryNotFound { url, detail }
        } else {
            GitError::Command { op, url, detail }
        }
    }
}

/// Keeps the informative lines of git's stderr (errors and fatals), bounded in length.
fn summarize(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("hint:"))
        .collect();
    let important: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("fatal:") || l.starts_with("error:") || l.contains("denied"))
        .collect();
    let chosen = if important.is_empty() {
        lines
    } else {
        important
    };
    let mut s = chosen.join("; ");
    if s.len() > 600 {
        let mut cut = 600;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// Removes user info (`user:pass@`) from a URL for display.
pub(crate) fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if let Some((userinfo, host)) = authority.rsplit_once('@') {
            // ssh user names (git@) are not secret; anything with a password is dropped.
            if scheme.starts_with("ssh") && !userinfo.contains(':') {
                return url.to_string();
            }
            return format!("{scheme}://{host}{path}");
        }
    }
    url.to_string()
}

/// Replaces every occurrence of each secret with `***`.
pub(crate) fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if s.len() >= 3 {
            out = out.replace(s.as_str(), "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_redaction() {
        assert_eq!(
            redact_url("https://user:pa55@host/x.git"),
            "https://host/x.git"
        );
        assert_eq!(redact_url("https://host/x.git"), "https://host/x.git");
        assert_eq!(redact_url("ssh://git@host/x"), "ssh://git@host/x");
        assert_eq!(redact_url("ssh://git:pw@host/x"), "ssh://host/x");
    }

    #[test]
    fn classification() {
        let c = |s| GitError::classify("fetch", "u", s);
        assert!(matches!(
            c("fatal: Authentication failed for 'http://x/'"),
            GitError::Auth { .. }
        ));
        assert!(matches!(
            c("Host key verification failed.\nfatal: Could not read from remote repository."),
            GitError::HostKey { .. }
        ));
        assert!(matches!(
            c(
                "fatal: unable to access 'http://127.0.0.1:1/': Failed to connect to 127.0.0.1 port 1"
            ),
            GitError::Unreachable { .. }
        ));
        assert!(matches!(
            c("fatal: couldn't find remote ref refs/heads/nope"),
            GitError::Command { .. }
        ));
        assert_eq!(
            scrub("token s3cr3t here", &["s3cr3t".into()]),
            "token *** here"
        );
    }
}
