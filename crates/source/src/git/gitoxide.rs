//! The gix (gitoxide) backend of [`super::checkout`] and [`super::resolve`].
//!
//! Transports: http(s) through gix's reqwest client, configured with our own rustls (ring) setup
//! for custom CAs and proxies; ssh through the OpenSSH client, started by a private wrapper script
//! that pins `known_hosts` and the identity; `git://` natively; `file://` (local mode only) through
//! `git-upload-pack`. The work tree is written straight from the commit's tree objects, so sparse
//! checkout writes only the listed directories. Credentials live in memory or in files of a 0700
//! temporary directory, never in the checkout's `.git/config`.

use std::any::Any;
use std::fs;
use std::io::Write;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use gix::bstr::ByteSlice;
use gix::objs::tree::EntryKind;
use gix::remote::Direction;

use super::cmd::{
    Target, ensure_empty_dir, io_err, is_missing_ref, pct, pinned_ssh, sh_quote, validate,
    write_private,
};
use super::error::{redact_url, scrub};
use super::{CheckoutOptions, CheckoutResult, GitError, GitRef, ProxyOptions, find_ref};

/// Remote references as `(object, name)` pairs in `git ls-remote` form: annotated tags appear a
/// second time as `<name>^{}` with the commit they point at.
type RemoteRefs = Vec<(String, String)>;

/// One operation's validated settings and private files.
struct Env {
    /// Holds the wrapper script, keys and known_hosts; removed on drop.
    tmp: tempfile::TempDir,
    target: Target,
    /// The URL as shown in errors (no user info).
    shown: String,
    secrets: Vec<String>,
    /// `Authorization: ...` sent with every HTTP request.
    extra_header: Option<String>,
    /// The script gix runs as its ssh client.
    ssh_wrapper: Option<PathBuf>,
    proxy: Option<ProxyOptions>,
    timeout: Duration,
    allow_file: bool,
    shallow: bool,
    sparse: Vec<String>,
    interrupt: Arc<AtomicBool>,
}

/// Sets the interrupt flag when the async caller goes away (timeout or cancellation), so the
/// blocking fetch stops at its next check.
struct InterruptOnDrop(Arc<AtomicBool>);

impl Drop for InterruptOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Clones `opts.reference` into `dir` with gix; the contract of [`super::checkout`].
pub(crate) async fn checkout(
    opts: &CheckoutOptions,
    dir: &Path,
) -> Result<CheckoutResult, GitError> {
    let env = Env::new(opts)?;
    let _guard = InterruptOnDrop(env.interrupt.clone());
    let reference = opts.reference.clone();
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || env.checkout(&reference, &dir))
        .await
        .map_err(|e| GitError::Command {
            op: "check out",
            url: redact_url(&opts.url),
            detail: format!("worker failed: {e}"),
        })?
}

/// Resolves `opts.reference` to a commit with gix, without cloning; the contract of
/// [`super::resolve`].
pub(crate) async fn resolve(opts: &CheckoutOptions) -> Result<CheckoutResult, GitError> {
    let env = Env::new(opts)?;
    let _guard = InterruptOnDrop(env.interrupt.clone());
    let reference = opts.reference.clone();
    tokio::task::spawn_blocking(move || env.resolve(&reference))
        .await
        .map_err(|e| GitError::Command {
            op: "list references of",
            url: redact_url(&opts.url),
            detail: format!("worker failed: {e}"),
        })?
}

/// Flattens an error and its sources into one line.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    parts.join(": ")
}

/// Is `name` a path component git would check out? (No `.`, `..`, `.git`, separators or NUL.)
fn safe_component(name: &[u8]) -> bool {
    !(name.is_empty()
        || name == b"."
        || name == b".."
        || name.eq_ignore_ascii_case(b".git")
        || name.contains(&b'/')
        || name.contains(&b'\\')
        || name.contains(&0))
}

impl Env {
    fn new(opts: &CheckoutOptions) -> Result<Env, GitError> {
        let target = validate(opts)?;
        let shown = redact_url(&opts.url);
        let tmp = tempfile::Builder::new()
            .prefix("fluxrs-gix-")
            .tempdir()
            .map_err(io_err("create temporary directory", Path::new("/tmp")))?;
        let t = tmp.path().to_path_buf();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&t, fs::Permissions::from_mode(0o700))
                .map_err(io_err("restrict permissions of", &t))?;
        }
        let auth = &target.auth;
        let mut secrets = auth.secrets();
        let extra_header = if !matches!(target.scheme.as_str(), "http" | "https") {
            None
        } else if let Some(token) = &auth.bearer_token {
            Some(format!("Authorization: Bearer {token}"))
        } else if let Some(user) = &auth.username {
            let basic = base64::engine::general_purpose::STANDARD
                .encode(format!("{user}:{}", auth.password.as_deref().unwrap_or("")));
            secrets.push(basic.clone());
            Some(format!("Authorization: Basic {basic}"))
        } else {
            None
        };
        if let Some(p) = opts.proxy.as_ref().and_then(|p| p.password.as_ref()) {
            secrets.push(p.clone());
            secrets.push(pct(p));
        }
        let ssh_wrapper = match (&auth.ssh, target.scheme.as_str()) {
            (Some(ssh), "ssh") => {
                let ssh = pinned_ssh(&t, ssh, opts.timeout)?;
                let mut script = String::from("#!/bin/sh\nunset SSH_AUTH_SOCK\n");
                if let Some(ap) = &ssh.askpass {
                    script.push_str(&format!(
                        "SSH_ASKPASS={}\nSSH_ASKPASS_REQUIRE=force\nDISPLAY=none\nexport SSH_ASKPASS SSH_ASKPASS_REQUIRE DISPLAY\n",
                        sh_quote(ap)
                    ));
                }
                script.push_str("exec ");
                script.push_str(&ssh.command);
                // ssh's complaints go to a private file that errors are classified from, not
                // to our process's stderr.
                script.push_str(&format!(" \"$@\" 2>>{}\n", sh_quote(&t.join("ssh.err"))));
                let w = t.join("ssh.sh");
                write_private(&w, script.as_bytes(), 0o700)?;
                Some(w)
            }
            _ => None,
        };
        secrets.retain(|s| !s.is_empty());
        Ok(Env {
            tmp,
            target,
            shown,
            secrets,
            extra_header,
            ssh_wrapper,
            proxy: opts.proxy.clone(),
            timeout: opts.timeout,
            allow_file: opts.allow_file_urls,
            shallow: opts.shallow,
            sparse: opts
                .sparse_checkout
                .iter()
                .map(|d| {
                    d.trim()
                        .trim_start_matches("./")
                        .trim_matches('/')
                        .to_string()
                })
                .collect(),
            interrupt: Arc::new(AtomicBool::new(false)),
        })
    }

    fn ref_not_found(&self, r: &str) -> GitError {
        GitError::RefNotFound {
            url: self.shown.clone(),
            reference: r.to_string(),
        }
    }

    /// Maps a gix error to our typed error, secrets scrubbed.
    fn fail(&self, op: &'static str, e: &(dyn std::error::Error + 'static)) -> GitError {
        let mut detail = chain(e);
        if let Ok(ssh) = fs::read_to_string(self.tmp.path().join("ssh.err")) {
            let lines: Vec<&str> = ssh
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("Warning: Permanently added"))
                .take(5)
                .collect();
            if !lines.is_empty() {
                detail = format!("{detail}; ssh: {}", lines.join("; "));
            }
        }
        let detail = scrub(&detail, &self.secrets);
        let url = self.shown.clone();
        let s = detail.to_ascii_lowercase();
        let has = |needles: &[&str]| needles.iter().any(|n| s.contains(n));
        if has(&[
            "host key verification failed",
            "remote host identification has changed",
        ]) {
            GitError::HostKey { url, detail }
        } else if has(&[
            "authentication",
            "401 unauthorized",
            "403 forbidden",
            "status code 401",
            "status code 403",
            "permission denied (publickey",
            "incorrect passphrase",
        ]) {
            GitError::Auth { url, detail }
        } else if has(&[
            "invalid peer certificate",
            "unknownissuer",
            "certificate",
            "tls handshake",
            "received corrupt message",
        ]) {
            GitError::Tls { url, detail }
        } else if has(&[
            "connection refused",
            "error sending request",
            "dns error",
            "failed to lookup address",
            "connection reset",
            "timed out",
            "no route to host",
            "network is unreachable",
            "could not connect",
            "connection closed by remote host",
        ]) {
            GitError::Unreachable { url, detail }
        } else if has(&[
            "404 not found",
            "status code 404",
            "repository not found",
            "does not appear to be a git repository",
            "no such file or directory",
            "not a git repository",
        ]) {
            GitError::RepositoryNotFound { url, detail }
        } else {
            GitError::classify(op, &url, &detail)
        }
    }

    /// Adds our settings to the repository's in-memory configuration (system and user git
    /// configuration are never read: repositories are opened isolated).
    fn configure(&self, repo: &mut gix::Repository) -> Result<(), GitError> {
        // No reflogs (they would need a committer identity) and nothing else from outside.
        let mut values: Vec<String> = vec![
            "core.logAllRefUpdates=false".to_string(),
            "user.name=fluxrs".to_string(),
            "user.email=fluxrs@localhost".to_string(),
        ];
        if let Some(w) = &self.ssh_wrapper {
            values.push(format!("core.sshCommand={}", w.display()));
            values.push("ssh.variant=ssh".to_string());
        }
        if self.allow_file {
            values.push("protocol.file.allow=always".to_string());
        }
        let mut cfg = repo.config_snapshot_mut();
        cfg.append_config(values.iter().map(String::as_str), gix::config::Source::Api)
            .map_err(|e| self.fail("configure", &e))?;
        cfg.commit().map_err(|e| self.fail("configure", &e))?;
        Ok(())
    }

    /// Transport options for http(s): our auth header, TLS roots and proxy.
    fn http_options(&self) -> Result<Box<dyn Any>, GitError> {
        use gix::protocol::transport::client::blocking_io::http;
        let tls = self.tls_config()?;
        let proxy = match &self.proxy {
            None => None,
            Some(p) => {
                let mut proxy =
                    reqwest::Proxy::all(p.address.as_str()).map_err(|e| GitError::InvalidUrl {
                        url: redact_url(&p.address),
                        reason: format!("invalid proxy address: {e}"),
                    })?;
                if let Some(u) = &p.username {
                    proxy = proxy.basic_auth(u, p.password.as_deref().unwrap_or(""));
                }
                Some(proxy)
            }
        };
        let timeout = self.timeout;
        let backend = http::reqwest::Options {
            configure_client: Some(Box::new(move |b: reqwest::blocking::ClientBuilder| {
                let mut b = b
                    .use_preconfigured_tls(tls.clone())
                    .timeout(timeout)
                    .no_proxy();
                if let Some(p) = &proxy {
                    b = b.proxy(p.clone());
                }
                Ok(b)
            })),
            configure_request: None,
        };
        let opts = http::Options {
            extra_headers: self.extra_header.iter().cloned().collect(),
            backend: Some(Arc::new(Mutex::new(backend))),
            connect_timeout: Some(self.timeout),
            ..Default::default()
        };
        Ok(Box::new(opts))
    }

    /// rustls with ring: the Secret's CA bundle replaces the system roots, as git's sslCAInfo does.
    fn tls_config(&self) -> Result<rustls::ClientConfig, GitError> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let bad_ca = |reason: String| GitError::Tls {
            url: self.shown.clone(),
            detail: reason,
        };
        let mut roots = rustls::RootCertStore::empty();
        match self.target.auth.ca_pem.as_ref() {
            Some(pem) if self.target.scheme == "https" => {
                for cert in CertificateDer::pem_slice_iter(pem) {
                    let cert = cert.map_err(|e| bad_ca(format!("invalid CA bundle: {e}")))?;
                    roots
                        .add(cert)
                        .map_err(|e| bad_ca(format!("invalid CA certificate: {e}")))?;
                }
                if roots.is_empty() {
                    return Err(bad_ca("the CA bundle holds no certificate".to_string()));
                }
            }
            _ => {
                let native = rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(native.certs);
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| bad_ca(format!("TLS setup: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(cfg)
    }

    /// Creates the repository (work tree at `dir`) with our configuration.
    fn init(&self, dir: &Path) -> Result<gix::Repository, GitError> {
        let mut repo = gix::ThreadSafeRepository::init_opts(
            dir,
            gix::create::Kind::WithWorktree,
            gix::create::Options::default(),
            gix::open::Options::isolated(),
        )
        .map_err(|e| self.fail("init repository for", &e))?
        .to_thread_local();
        self.configure(&mut repo)?;
        Ok(repo)
    }

    /// Connects to the remote with `specs` as fetch refspecs and runs `f` on the connection.
    fn with_connection<T>(
        &self,
        repo: &gix::Repository,
        specs: &[String],
        op: &'static str,
        f: impl FnOnce(
            gix::remote::Connection<
                '_,
                '_,
                '_,
                Box<dyn gix::protocol::transport::client::blocking_io::Transport + Send>,
            >,
        ) -> Result<T, gix::Error>,
    ) -> Result<T, GitError> {
        let remote = repo
            .remote_at(self.target.url.as_str())
            .map_err(|e| self.fail(op, &e))?
            .with_fetch_tags(gix::remote::fetch::Tags::None)
            .with_refspecs(specs.iter().map(String::as_str), Direction::Fetch)
            .map_err(|e| self.fail(op, &e))?;
        let mut conn = remote
            .connect(Direction::Fetch)
            .map_err(|e| self.fail(op, &e))?
            // Never prompt and never ask credential helpers: the Secret is the only source.
            .with_credentials(|_| {
                Err(gix::Error::from_error(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    "authentication failed: the server refused the credentials of the Secret (or requires some)",
                )))
            });
        if matches!(self.target.scheme.as_str(), "http" | "https") {
            conn.set_transport_options(self.http_options()?);
        }
        f(conn).map_err(|e| self.fail(op, &e))
    }

    /// `git ls-remote` for `specs` (their source side is the prefix asked of the server).
    fn ls_remote(&self, specs: &[String]) -> Result<RemoteRefs, GitError> {
        let repo_dir = self.tmp.path().join("ls-remote");
        let repo = gix::ThreadSafeRepository::init_opts(
            &repo_dir,
            gix::create::Kind::Bare,
            gix::create::Options::default(),
            gix::open::Options::isolated(),
        )
        .map_err(|e| self.fail("list references of", &e))?
        .to_thread_local();
        let mut repo = repo;
        self.configure(&mut repo)?;
        let refs = self.with_connection(&repo, specs, "list references of", |conn| {
            let (map, _) = conn.ref_map(gix::progress::Discard, Default::default())?;
            Ok(map.remote_refs)
        })?;
        let mut out = Vec::new();
        for r in &refs {
            let (name, target, peeled) = r.unpack();
            if let Some(t) = target {
                out.push((t.to_string(), name.to_string()));
            }
            if let Some(p) = peeled {
                out.push((p.to_string(), format!("{name}^{{}}")));
            }
        }
        Ok(out)
    }

    fn pick_semver(&self, constraint: &str) -> Result<(String, String), GitError> {
        let refs = self.ls_remote(&["+refs/tags/*:refs/tags/*".to_string()])?;
        super::latest_semver_tag(&refs, constraint, &self.shown)
    }

    fn resolve(&self, reference: &GitRef) -> Result<CheckoutResult, GitError> {
        let one = |full: &str, shown: &str| -> Result<String, GitError> {
            let refs = self.ls_remote(&[full.to_string()])?;
            find_ref(&refs, full).ok_or_else(|| self.ref_not_found(shown))
        };
        match reference {
            GitRef::Commit { sha, branch } => {
                Ok(CheckoutResult::new(branch.as_deref().unwrap_or(""), sha))
            }
            GitRef::Branch(b) => Ok(CheckoutResult::new(b, &one(&format!("refs/heads/{b}"), b)?)),
            GitRef::Tag(t) => Ok(CheckoutResult::new(t, &one(&format!("refs/tags/{t}"), t)?)),
            GitRef::Name(n) => Ok(CheckoutResult::new(n, &one(n, n)?)),
            GitRef::Semver(c) => {
                let (tag, commit) = self.pick_semver(c)?;
                Ok(CheckoutResult::new(&tag, &commit))
            }
        }
    }

    /// Fetches `spec` into `repo`; a reference the server does not have is [`GitError::RefNotFound`].
    fn fetch(
        &self,
        repo: &gix::Repository,
        spec: &str,
        shallow: bool,
        what: &str,
    ) -> Result<(), GitError> {
        let interrupt = self.interrupt.clone();
        let r = self.with_connection(repo, &[spec.to_string()], "fetch", |conn| {
            let mut prep = conn.prepare_fetch(gix::progress::Discard, Default::default())?;
            if shallow {
                prep =
                    prep.with_shallow(gix::remote::fetch::Shallow::DepthAtRemote(NonZeroU32::MIN));
            }
            let outcome = prep.receive(gix::progress::Discard, &interrupt)?;
            Ok(outcome.ref_map.mappings.len())
        });
        match r {
            Ok(0) => Err(self.ref_not_found(what)),
            Ok(_) => Ok(()),
            Err(GitError::Command { detail, .. } | GitError::RepositoryNotFound { detail, .. })
                if is_missing_ref(&detail) || detail.contains("matched any of") =>
            {
                Err(self.ref_not_found(what))
            }
            Err(e) => Err(e),
        }
    }

    /// The commit `name` (a local ref) points at, tags peeled.
    fn local_commit(
        &self,
        repo: &gix::Repository,
        name: &str,
        what: &str,
    ) -> Result<gix::ObjectId, GitError> {
        let mut r = repo
            .find_reference(name)
            .map_err(|_| self.ref_not_found(what))?;
        let c = r.peel_to_commit().map_err(|_| self.ref_not_found(what))?;
        Ok(c.id)
    }

    fn checkout(&self, reference: &GitRef, dir: &Path) -> Result<CheckoutResult, GitError> {
        ensure_empty_dir(dir)?;
        let repo = self.init(dir)?;
        let depth = self.shallow;
        let (name, commit) = match reference {
            GitRef::Branch(b) => {
                let dst = format!("refs/remotes/origin/{b}");
                self.fetch(&repo, &format!("+refs/heads/{b}:{dst}"), depth, b)?;
                (b.clone(), self.local_commit(&repo, &dst, b)?)
            }
            GitRef::Tag(t) => {
                let dst = format!("refs/tags/{t}");
                self.fetch(&repo, &format!("+{dst}:{dst}"), depth, t)?;
                (t.clone(), self.local_commit(&repo, &dst, t)?)
            }
            GitRef::Semver(c) => {
                let (tag, _) = self.pick_semver(c)?;
                let dst = format!("refs/tags/{tag}");
                self.fetch(&repo, &format!("+{dst}:{dst}"), depth, &tag)?;
                let commit = self.local_commit(&repo, &dst, &tag)?;
                (tag, commit)
            }
            GitRef::Name(n) => {
                let dst = "refs/fluxrs/target";
                self.fetch(&repo, &format!("+{n}:{dst}"), depth, n)?;
                (n.clone(), self.local_commit(&repo, dst, n)?)
            }
            GitRef::Commit { sha, branch } => {
                let id =
                    gix::ObjectId::from_hex(sha.as_bytes()).map_err(|_| self.ref_not_found(sha))?;
                match branch {
                    Some(b) => {
                        // The whole branch history: the commit may be anywhere on it.
                        let dst = format!("refs/remotes/origin/{b}");
                        self.fetch(&repo, &format!("+refs/heads/{b}:{dst}"), false, b)?;
                        let tip = self.local_commit(&repo, &dst, b)?;
                        // Flux refuses a commit that is not on the named branch.
                        if !self.is_ancestor(&repo, id, tip)? {
                            return Err(self.ref_not_found(&format!("{sha} on branch {b}")));
                        }
                    }
                    None => {
                        // Protocol v2 servers hand out any reachable commit by id; otherwise
                        // fall back to fetching all branches.
                        let by_id =
                            self.fetch(&repo, &format!("+{sha}:refs/fluxrs/target"), depth, sha);
                        if by_id.is_err() || !repo.has_object(id) {
                            self.fetch(&repo, "+refs/heads/*:refs/remotes/origin/*", false, sha)?;
                        }
                    }
                }
                let c = repo
                    .find_object(id)
                    .ok()
                    .and_then(|o| o.peel_to_commit().ok())
                    .ok_or_else(|| self.ref_not_found(sha))?;
                (branch.clone().unwrap_or_default(), c.id)
            }
        };
        self.set_head(&repo, commit)?;
        let tree = repo
            .find_commit(commit)
            .and_then(|c| c.tree_id().map(|t| t.detach()))
            .map_err(|e| self.fail("check out", &e))?;
        self.write_tree(&repo, tree, dir)?;
        Ok(CheckoutResult::new(&name, &commit.to_string()))
    }

    fn is_ancestor(
        &self,
        repo: &gix::Repository,
        id: gix::ObjectId,
        tip: gix::ObjectId,
    ) -> Result<bool, GitError> {
        let walk = repo
            .rev_walk([tip])
            .all()
            .map_err(|e| self.fail("check ancestry in", &e))?;
        for info in walk {
            let info = info.map_err(|e| self.fail("check ancestry in", &e))?;
            if info.id == id {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Points `HEAD` at `commit` (detached), as `git checkout --detach` leaves it.
    fn set_head(&self, repo: &gix::Repository, commit: gix::ObjectId) -> Result<(), GitError> {
        use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit};
        repo.edit_reference(RefEdit {
            change: Change::Update {
                log: LogChange::default(),
                expected: PreviousValue::Any,
                new: gix::refs::Target::Object(commit),
            },
            name: "HEAD".try_into().expect("HEAD is a valid ref name"),
            deref: false,
        })
        .map_err(|e| self.fail("check out", &e))?;
        Ok(())
    }

    /// Does the sparse-checkout list include the path `rel` (a file, or a whole directory)?
    fn included(&self, rel: &[u8]) -> bool {
        self.sparse.is_empty()
            || self.sparse.iter().any(|d| {
                d.is_empty()
                    || d == "."
                    || rel == d.as_bytes()
                    || (rel.starts_with(d.as_bytes()) && rel.get(d.len()) == Some(&b'/'))
            })
    }

    /// Might a directory `rel` contain an included path?
    fn may_contain(&self, rel: &[u8]) -> bool {
        self.included(rel)
            || self.sparse.iter().any(|d| {
                d.as_bytes().starts_with(rel) && d.as_bytes().get(rel.len()) == Some(&b'/')
            })
    }

    /// Walks the tree `id` below `dir/rel`: creates the directories (and an empty one for each
    /// submodule, as git leaves it) and collects the blobs and symlinks to write.
    fn walk_tree(
        &self,
        repo: &gix::Repository,
        id: gix::ObjectId,
        dir: &Path,
        rel: &mut Vec<u8>,
        out: &mut Vec<(PathBuf, EntryKind, gix::ObjectId)>,
    ) -> Result<(), GitError> {
        let fail = |e: &(dyn std::error::Error + 'static)| self.fail("check out", e);
        self.check_interrupt()?;
        let tree = repo.find_tree(id).map_err(|e| fail(&e))?;
        let entries: Vec<(EntryKind, Vec<u8>, gix::ObjectId)> = tree
            .decode()
            .map_err(|e| fail(&e))?
            .entries
            .iter()
            .map(|e| (e.mode.kind(), e.filename.to_vec(), e.oid.to_owned()))
            .collect();
        drop(tree);
        for (kind, name, oid) in entries {
            if !safe_component(&name) {
                return Err(GitError::Command {
                    op: "check out",
                    url: self.shown.clone(),
                    detail: format!("invalid path {:?} in tree {id}", name.as_bstr()),
                });
            }
            let len = rel.len();
            if !rel.is_empty() {
                rel.push(b'/');
            }
            rel.extend_from_slice(&name);
            let path = dir.join(rel.to_path_lossy());
            match kind {
                EntryKind::Tree if self.may_contain(rel) => {
                    if self.included(rel) {
                        fs::create_dir_all(&path).map_err(io_err("create directory", &path))?;
                    }
                    self.walk_tree(repo, oid, dir, rel, out)?;
                }
                EntryKind::Tree => {}
                _ if !self.included(rel) => {}
                EntryKind::Commit => {
                    fs::create_dir_all(&path).map_err(io_err("create directory", &path))?;
                }
                _ => {
                    self.ensure_parent(&path)?;
                    out.push((path, kind, oid));
                }
            }
            rel.truncate(len);
        }
        Ok(())
    }

    /// Writes the tree `id` into `dir`; blobs are read and written by up to four threads.
    fn write_tree(
        &self,
        repo: &gix::Repository,
        id: gix::ObjectId,
        dir: &Path,
    ) -> Result<(), GitError> {
        let mut files = Vec::new();
        self.walk_tree(repo, id, dir, &mut Vec::new(), &mut files)?;
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(4);
        if threads <= 1 || files.len() < 256 {
            return files.iter().try_for_each(|f| self.write_entry(repo, f));
        }
        let shared = repo.clone().into_sync();
        let per_thread = files.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let workers: Vec<_> = files
                .chunks(per_thread)
                .map(|chunk| {
                    let shared = &shared;
                    scope.spawn(move || {
                        let repo = shared.to_thread_local();
                        chunk.iter().try_for_each(|f| self.write_entry(&repo, f))
                    })
                })
                .collect();
            workers.into_iter().try_for_each(|w| {
                w.join().unwrap_or_else(|_| {
                    Err(GitError::Command {
                        op: "check out",
                        url: self.shown.clone(),
                        detail: "a checkout worker panicked".to_string(),
                    })
                })
            })
        })
    }

    fn check_interrupt(&self) -> Result<(), GitError> {
        if self.interrupt.load(Ordering::Relaxed) {
            return Err(GitError::Timeout {
                url: self.shown.clone(),
                after: self.timeout,
            });
        }
        Ok(())
    }

    /// Writes one blob (mode 0666/0777 less the umask, as git does) or symlink.
    fn write_entry(
        &self,
        repo: &gix::Repository,
        (path, kind, oid): &(PathBuf, EntryKind, gix::ObjectId),
    ) -> Result<(), GitError> {
        self.check_interrupt()?;
        let blob = repo
            .find_object(*oid)
            .map_err(|e| self.fail("check out", &e))?;
        if *kind == EntryKind::Link {
            let target = blob.data.to_path_lossy().into_owned();
            #[cfg(unix)]
            std::os::unix::fs::symlink(&target, path).map_err(io_err("create symlink", path))?;
            #[cfg(not(unix))]
            fs::write(path, target.to_string_lossy().as_bytes()).map_err(io_err("write", path))?;
            return Ok(());
        }
        let mut o = fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(if *kind == EntryKind::BlobExecutable {
                0o777
            } else {
                0o666
            });
        }
        let mut f = o.open(path).map_err(io_err("create file", path))?;
        f.write_all(&blob.data)
            .map_err(io_err("write file", path))?;
        Ok(())
    }

    /// Sparse checkouts create a listed directory's ancestors only when something is written.
    fn ensure_parent(&self, path: &Path) -> Result<(), GitError> {
        if !self.sparse.is_empty()
            && let Some(p) = path.parent()
        {
            fs::create_dir_all(p).map_err(io_err("create directory", p))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_components() {
        assert!(safe_component(b"a.txt"));
        for bad in [&b""[..], b".", b"..", b".git", b".GIT", b"a/b", b"a\\b"] {
            assert!(!safe_component(bad), "{:?}", bad.as_bstr());
        }
    }

    #[test]
    fn sparse_selection() {
        let env = Env::new(&CheckoutOptions {
            url: "https://h/r.git".into(),
            sparse_checkout: vec!["./apps/".into(), "infra/base".into()],
            ..Default::default()
        })
        .unwrap();
        assert!(env.included(b"apps"));
        assert!(env.included(b"apps/x.yaml"));
        assert!(!env.included(b"appsx/x.yaml"));
        assert!(!env.included(b"README.md"));
        assert!(env.may_contain(b"infra"));
        assert!(!env.included(b"infra"));
        assert!(env.included(b"infra/base/k.yaml"));
        assert!(!env.may_contain(b"infra/other"));
    }

    #[test]
    fn ssh_wrapper_is_private_and_pins_known_hosts() {
        let env = Env::new(&CheckoutOptions {
            url: "ssh://git@127.0.0.1:22/repo.git".into(),
            auth: crate::git::GitAuth {
                ssh: Some(crate::git::SshAuth {
                    identity: b"key".to_vec(),
                    known_hosts: b"h k v".to_vec(),
                    passphrase: Some("pw-secret".into()),
                }),
                ..Default::default()
            },
            ..Default::default()
        })
        .unwrap();
        let w = env.ssh_wrapper.clone().unwrap();
        let script = fs::read_to_string(&w).unwrap();
        assert!(script.contains("StrictHostKeyChecking=yes"), "{script}");
        assert!(script.contains("UserKnownHostsFile="), "{script}");
        assert!(!script.contains("pw-secret"), "{script}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let m = fs::metadata(&w).unwrap().permissions().mode() & 0o777;
            assert_eq!(m, 0o700);
        }
        let dir = env.tmp.path().to_path_buf();
        drop(env);
        assert!(!dir.exists());
    }
}
