//! Git checkout of a GitRepository reference, with Flux's auth options and revision format.
//!
//! Two backends share one contract: gix (gitoxide, pure Rust; see `gitoxide.rs`), the default,
//! and the `git` command-line client driven with a private, throw-away configuration (`cmd.rs`),
//! used for `recurseSubmodules` and selectable with [`Backend`]. Either way credentials live only
//! in memory or in files of a 0700 temporary directory (CA bundle, SSH key, known_hosts, askpass)
//! and never on a command line, in a log or in an error message.

mod auth;
mod cmd;
mod error;
mod gitoxide;

pub use auth::{GitAuth, ProxyOptions, SshAuth};
pub use error::GitError;

use std::path::Path;
use std::time::Duration;

use api::source::GitRepositoryRef;

use crate::semver::{Constraints, latest_matching};
use cmd::Session;

/// Which revision to check out; Flux's precedence is commit > name > semver > tag > branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitRef {
    /// The tip of a branch (`spec.ref.branch`).
    Branch(String),
    /// A tag (`spec.ref.tag`); annotated tags are peeled to their commit.
    Tag(String),
    /// The highest tag satisfying a Masterminds semver constraint (`spec.ref.semver`).
    Semver(String),
    /// A full reference name such as `refs/heads/main` or `refs/pull/1/head` (`spec.ref.name`).
    Name(String),
    /// A commit SHA (`spec.ref.commit`), optionally looked up on a branch.
    Commit {
        /// The full commit SHA-1.
        sha: String,
        /// The branch the commit is on, used for fetching and in the revision.
        branch: Option<String>,
    },
}

impl Default for GitRef {
    fn default() -> Self {
        GitRef::Branch("master".to_string())
    }
}

impl GitRef {
    /// The reference a `spec.ref` selects (Flux defaults to the `master` branch when it is absent).
    pub fn from_spec(r: Option<&GitRepositoryRef>) -> GitRef {
        let Some(r) = r else {
            return GitRef::default();
        };
        let non_empty = |s: &Option<String>| s.as_ref().filter(|s| !s.is_empty()).cloned();
        if let Some(sha) = non_empty(&r.commit) {
            return GitRef::Commit {
                sha,
                branch: non_empty(&r.branch),
            };
        }
        if let Some(n) = non_empty(&r.name) {
            return GitRef::Name(n);
        }
        if let Some(s) = non_empty(&r.semver) {
            return GitRef::Semver(s);
        }
        if let Some(t) = non_empty(&r.tag) {
            return GitRef::Tag(t);
        }
        match non_empty(&r.branch) {
            Some(b) => GitRef::Branch(b),
            None => GitRef::default(),
        }
    }
}

/// Everything a checkout needs; build with `..Default::default()`.
#[derive(Debug, Clone)]
pub struct CheckoutOptions {
    /// Repository URL: `https://`, `http://` (no TLS), `ssh://`, `git://`; `file://` only with
    /// [`CheckoutOptions::allow_file_urls`].
    pub url: String,
    /// What to check out.
    pub reference: GitRef,
    /// Credentials and trust settings.
    pub auth: GitAuth,
    /// HTTP(S) proxy (`spec.proxySecretRef`).
    pub proxy: Option<ProxyOptions>,
    /// Fetch only the needed commit (depth 1) where the reference kind allows it.
    pub shallow: bool,
    /// Directories to check out (`spec.sparseCheckout`); empty means everything.
    pub sparse_checkout: Vec<String>,
    /// Check out submodules recursively with the same credentials (`spec.recurseSubmodules`).
    pub recurse_submodules: bool,
    /// Upper bound for the whole operation (`spec.timeout`, Flux's default 60s).
    pub timeout: Duration,
    /// Allow `file://` URLs (only `flux local up` does).
    pub allow_file_urls: bool,
}

impl Default for CheckoutOptions {
    fn default() -> Self {
        CheckoutOptions {
            url: String::new(),
            reference: GitRef::default(),
            auth: GitAuth::default(),
            proxy: None,
            shallow: true,
            sparse_checkout: Vec::new(),
            recurse_submodules: false,
            timeout: Duration::from_secs(60),
            allow_file_urls: false,
        }
    }
}

/// The result of resolving or checking out a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutResult {
    /// The full commit SHA-1 that was (or would be) checked out.
    pub commit: String,
    /// Flux's revision string: `<ref>@sha1:<commit>` (or `sha1:<commit>` for a bare commit).
    pub revision: String,
    /// The reference part of the revision: branch, tag, ref name (empty for a bare commit).
    pub reference: String,
}

impl CheckoutResult {
    fn new(reference: &str, commit: &str) -> Self {
        let revision = if reference.is_empty() {
            format!("sha1:{commit}")
        } else {
            format!("{reference}@sha1:{commit}")
        };
        CheckoutResult {
            commit: commit.to_string(),
            revision,
            reference: reference.to_string(),
        }
    }
}

/// Which implementation performs checkouts and resolutions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// gix (gitoxide), pure Rust. `recurseSubmodules` still goes through the git client.
    #[default]
    Gix,
    /// The `git` command-line client.
    Cli,
}

impl Backend {
    /// The backend named by the `FLUXRS_GIT_BACKEND` environment variable (`gix` or `cli`);
    /// the default ([`Backend::Gix`]) when unset or unknown.
    pub fn from_env() -> Backend {
        match std::env::var("FLUXRS_GIT_BACKEND").as_deref() {
            Ok("cli") | Ok("git") => Backend::Cli,
            Ok("gix") => Backend::Gix,
            _ => Backend::default(),
        }
    }
}

/// Clones `opts.reference` of `opts.url` into `dir` (created; must not exist or be empty) with
/// the backend [`Backend::from_env`] selects.
pub async fn checkout(opts: &CheckoutOptions, dir: &Path) -> Result<CheckoutResult, GitError> {
    checkout_with(Backend::from_env(), opts, dir).await
}

/// [`checkout`] with an explicit backend.
pub async fn checkout_with(
    backend: Backend,
    opts: &CheckoutOptions,
    dir: &Path,
) -> Result<CheckoutResult, GitError> {
    let r = match backend {
        // gix has no submodule update; the git client does that one case.
        Backend::Gix if !opts.recurse_submodules => {
            tokio::time::timeout(opts.timeout, gitoxide::checkout(opts, dir)).await
        }
        _ => tokio::time::timeout(opts.timeout, checkout_inner(opts, dir)).await,
    };
    r.unwrap_or_else(|_| {
        Err(GitError::Timeout {
            url: error::redact_url(&opts.url),
            after: opts.timeout,
        })
    })
}

/// Resolves `opts.reference` to a commit (like `git ls-remote`), without cloning. Lets a
/// controller skip the clone when the remote still points at the revision it already has.
pub async fn resolve(opts: &CheckoutOptions) -> Result<CheckoutResult, GitError> {
    resolve_with(Backend::from_env(), opts).await
}

/// [`resolve`] with an explicit backend.
pub async fn resolve_with(
    backend: Backend,
    opts: &CheckoutOptions,
) -> Result<CheckoutResult, GitError> {
    let r = match backend {
        Backend::Gix => tokio::time::timeout(opts.timeout, gitoxide::resolve(opts)).await,
        Backend::Cli => tokio::time::timeout(opts.timeout, resolve_inner(opts)).await,
    };
    r.unwrap_or_else(|_| {
        Err(GitError::Timeout {
            url: error::redact_url(&opts.url),
            after: opts.timeout,
        })
    })
}

async fn resolve_inner(opts: &CheckoutOptions) -> Result<CheckoutResult, GitError> {
    let s = Session::new(opts)?;
    match &opts.reference {
        GitRef::Commit { sha, branch } => {
            Ok(CheckoutResult::new(branch.as_deref().unwrap_or(""), sha))
        }
        GitRef::Branch(b) => {
            let r = format!("refs/heads/{b}");
            let refs = s.ls_remote(&[r.as_str()]).await?;
            let c = find_ref(&refs, &r).ok_or_else(|| s.ref_not_found(b))?;
            Ok(CheckoutResult::new(b, &c))
        }
        GitRef::Tag(t) => {
            let r = format!("refs/tags/{t}");
            let peeled = format!("{r}^{{}}");
            let refs = s.ls_remote(&[r.as_str(), peeled.as_str()]).await?;
            let c = find_ref(&refs, &r).ok_or_else(|| s.ref_not_found(t))?;
            Ok(CheckoutResult::new(t, &c))
        }
        GitRef::Name(n) => {
            let peeled = format!("{n}^{{}}");
            let refs = s.ls_remote(&[n.as_str(), peeled.as_str()]).await?;
            let c = find_ref(&refs, n).ok_or_else(|| s.ref_not_found(n))?;
            Ok(CheckoutResult::new(n, &c))
        }
        GitRef::Semver(c) => {
            let (tag, commit) = pick_semver_tag(&s, c).await?;
            Ok(CheckoutResult::new(&tag, &commit))
        }
    }
}

/// The commit a ref points at, preferring the peeled (`^{}`) entry of annotated tags.
pub(crate) fn find_ref(refs: &[(String, String)], name: &str) -> Option<String> {
    let peeled = format!("{name}^{{}}");
    refs.iter()
        .find(|(_, r)| *r == peeled)
        .or_else(|| refs.iter().find(|(_, r)| r == name))
        .map(|(sha, _)| sha.clone())
}

async fn pick_semver_tag(s: &Session<'_>, constraint: &str) -> Result<(String, String), GitError> {
    latest_semver_tag(&s.ls_remote_tags().await?, constraint, &s.redacted_url())
}

/// The newest tag among the remote `refs` (`(sha, ref)` pairs) that matches the semver
/// `constraint`, with its commit; `url` (redacted) names the repository in the error.
pub(crate) fn latest_semver_tag(
    refs: &[(String, String)],
    constraint: &str,
    url: &str,
) -> Result<(String, String), GitError> {
    let cs = Constraints::parse(constraint).map_err(GitError::InvalidSemver)?;
    let names: Vec<&str> = refs
        .iter()
        .filter_map(|(_, r)| r.strip_prefix("refs/tags/"))
        .filter(|r| !r.ends_with("^{}"))
        .collect();
    let (tag, _) =
        latest_matching(&cs, names.iter().copied()).ok_or_else(|| GitError::NoSemverMatch {
            url: url.to_string(),
            constraint: constraint.to_string(),
        })?;
    let commit = find_ref(refs, &format!("refs/tags/{tag}")).unwrap_or_default();
    Ok((tag.to_string(), commit))
}

async fn checkout_inner(opts: &CheckoutOptions, dir: &Path) -> Result<CheckoutResult, GitError> {
    let s = Session::new(opts)?;
    s.init_repo(dir).await?;
    let depth = opts.shallow;
    let (reference, target) = match &opts.reference {
        GitRef::Branch(b) => {
            s.fetch(
                dir,
                &format!("+refs/heads/{b}:refs/remotes/origin/{b}"),
                depth,
                b,
            )
            .await?;
            (b.clone(), format!("refs/remotes/origin/{b}"))
        }
        GitRef::Tag(t) => {
            s.fetch(dir, &format!("+refs/tags/{t}:refs/tags/{t}"), depth, t)
                .await?;
            (t.clone(), format!("refs/tags/{t}^{{commit}}"))
        }
        GitRef::Semver(c) => {
            let (tag, _) = pick_semver_tag(&s, c).await?;
            s.fetch(
                dir,
                &format!("+refs/tags/{tag}:refs/tags/{tag}"),
                depth,
                &tag,
            )
            .await?;
            let target = format!("refs/tags/{tag}^{{commit}}");
            (tag, target)
        }
        GitRef::Name(n) => {
            s.fetch(dir, &format!("+{n}:refs/fluxrs/target"), depth, n)
                .await?;
            (n.clone(), "refs/fluxrs/target^{commit}".to_string())
        }
        GitRef::Commit { sha, branch } => {
            match branch {
                Some(b) => {
                    // The whole branch history: the commit may be anywhere on it.
                    s.fetch(
                        dir,
                        &format!("+refs/heads/{b}:refs/remotes/origin/{b}"),
                        false,
                        b,
                    )
                    .await?;
                }
                None => {
                    // Protocol v2 servers hand out any reachable commit by id; otherwise fall back
                    // to fetching all branches.
                    if s.fetch(dir, sha, depth, sha).await.is_err() {
                        s.fetch(dir, "+refs/heads/*:refs/remotes/origin/*", false, sha)
                            .await?;
                    }
                }
            }
            let full = s
                .rev_parse(dir, &format!("{sha}^{{commit}}"))
                .await
                .map_err(|_| s.ref_not_found(sha))?;
            if let Some(b) = branch {
                // Flux refuses a commit that is not on the named branch.
                if !s
                    .is_ancestor(dir, &full, &format!("refs/remotes/origin/{b}"))
                    .await?
                {
                    return Err(s.ref_not_found(&format!("{sha} on branch {b}")));
                }
            }
            (branch.clone().unwrap_or_default(), full)
        }
    };
    s.checkout_target(dir, &target).await?;
    if opts.recurse_submodules {
        s.update_submodules(dir).await?;
    }
    let commit = s.rev_parse(dir, "HEAD").await?;
    Ok(CheckoutResult::new(&reference, &commit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_precedence() {
        let r = |b: Option<&str>,
                 t: Option<&str>,
                 s: Option<&str>,
                 n: Option<&str>,
                 c: Option<&str>| {
            GitRef::from_spec(Some(&GitRepositoryRef {
                branch: b.map(Into::into),
                tag: t.map(Into::into),
                semver: s.map(Into::into),
                name: n.map(Into::into),
                commit: c.map(Into::into),
            }))
        };
        assert_eq!(GitRef::from_spec(None), GitRef::Branch("master".into()));
        assert_eq!(
            r(Some("main"), None, None, None, None),
            GitRef::Branch("main".into())
        );
        assert_eq!(
            r(Some("main"), Some("v1"), None, None, None),
            GitRef::Tag("v1".into())
        );
        assert_eq!(
            r(Some("main"), Some("v1"), Some("^1"), None, None),
            GitRef::Semver("^1".into())
        );
        assert_eq!(
            r(
                Some("main"),
                Some("v1"),
                Some("^1"),
                Some("refs/heads/x"),
                None
            ),
            GitRef::Name("refs/heads/x".into())
        );
        assert_eq!(
            r(
                Some("main"),
                Some("v1"),
                Some("^1"),
                Some("refs/heads/x"),
                Some("abc")
            ),
            GitRef::Commit {
                sha: "abc".into(),
                branch: Some("main".into())
            }
        );
        assert_eq!(
            r(Some(""), None, None, None, None),
            GitRef::Branch("master".into())
        );
    }

    #[test]
    fn revision_format() {
        assert_eq!(CheckoutResult::new("main", "abc").revision, "main@sha1:abc");
        assert_eq!(CheckoutResult::new("", "abc").revision, "sha1:abc");
    }
}
