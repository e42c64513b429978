//! Runs the `git` client in an isolated environment whose only configuration is ours.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use base64::Engine;

use super::error::{redact_url, scrub};
use super::{CheckoutOptions, GitAuth, GitError};

/// One operation's private environment: a 0700 temp dir holding config and key files.
pub(crate) struct Session<'a> {
    opts: &'a CheckoutOptions,
    _tmp: tempfile::TempDir,
    env: Vec<(String, String)>,
    url: String,
    secrets: Vec<String>,
}

pub(crate) fn io_err<'p>(
    op: &'static str,
    path: &'p Path,
) -> impl FnOnce(std::io::Error) -> GitError + 'p {
    move |source| GitError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// Refuses to check out into a directory that already has entries.
pub(crate) fn ensure_empty_dir(dir: &Path) -> Result<(), GitError> {
    if dir.exists()
        && fs::read_dir(dir)
            .map_err(io_err("read checkout directory", dir))?
            .next()
            .is_some()
    {
        return Err(GitError::Io {
            op: "check out into non-empty directory",
            path: dir.to_path_buf(),
            source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
        });
    }
    Ok(())
}

/// Writes a file only the current user can read.
pub(crate) fn write_private(path: &Path, data: &[u8], mode: u32) -> Result<(), GitError> {
    let mut o = fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = o
        .open(path)
        .map_err(io_err("create credential file", path))?;
    f.write_all(data)
        .map_err(io_err("write credential file", path))?;
    Ok(())
}

/// OpenSSH pinned to the credentials of a GitRepository: the host key, identity and passphrase
/// are private files under a session's temporary directory, nothing from the user's SSH setup
/// is read.
pub(crate) struct PinnedSsh {
    /// The `ssh` command line (without the destination), shell-quoted.
    pub command: String,
    /// For an encrypted identity: the askpass program printing its passphrase.
    pub askpass: Option<std::path::PathBuf>,
}

/// Writes the files for `ssh` into `dir` and builds the pinned `ssh` command line.
pub(crate) fn pinned_ssh(
    dir: &Path,
    ssh: &super::SshAuth,
    timeout: std::time::Duration,
) -> Result<PinnedSsh, GitError> {
    let kh = dir.join("known_hosts");
    write_private(&kh, &ssh.known_hosts, 0o600)?;
    let mut command = format!(
        "ssh -F /dev/null -o UserKnownHostsFile={} -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no -o PreferredAuthentications=publickey -o ConnectTimeout={}",
        sh_quote(&kh),
        timeout.as_secs().max(1)
    );
    if !ssh.identity.is_empty() {
        let id = dir.join("identity");
        let mut key = ssh.identity.clone();
        // OpenSSH refuses key files without a final newline.
        if !key.ends_with(b"\n") {
            key.push(b'\n');
        }
        write_private(&id, &key, 0o600)?;
        command.push_str(&format!(" -i {}", sh_quote(&id)));
    }
    let mut askpass = None;
    match &ssh.passphrase {
        Some(pass) if !pass.is_empty() => {
            // ssh reads the passphrase from an askpass program that prints a private file.
            let pf = dir.join("passphrase");
            write_private(&pf, pass.as_bytes(), 0o600)?;
            let ap = dir.join("askpass.sh");
            let script = format!("#!/bin/sh\nexec cat {}\n", sh_quote(&pf));
            write_private(&ap, script.as_bytes(), 0o700)?;
            askpass = Some(ap);
        }
        _ => command.push_str(" -o BatchMode=yes"),
    }
    Ok(PinnedSsh { command, askpass })
}

/// Quotes a value for a git config file.
fn config_value(v: &str) -> String {
    let escaped = v
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
        .replace('\t', "\\t");
    format!("\"{escaped}\"")
}

/// Percent-encodes URL user info.
pub(crate) fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Single-quotes a word for the shell that runs `GIT_SSH_COMMAND`.
pub(crate) fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// Splits `scheme://[userinfo@]host[:port]/path` into (scheme, userinfo, origin, stripped URL).
fn split_url(url: &str) -> Option<(String, Option<String>, String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u.to_string()), h),
        None => (None, authority),
    };
    if host.is_empty() && scheme != "file" {
        return None;
    }
    let scheme = scheme.to_ascii_lowercase();
    Some((
        scheme.clone(),
        userinfo,
        format!("{scheme}://{host}/"),
        format!("{scheme}://{host}{path}"),
    ))
}

/// A validated repository location, shared by both backends.
pub(crate) struct Target {
    /// Lower-case scheme: `http`, `https`, `ssh`, `git` or `file`.
    pub(crate) scheme: String,
    /// `scheme://host[:port]/`, the scope of HTTP credentials.
    pub(crate) origin: String,
    /// The URL handed to the transport: no password in it.
    pub(crate) url: String,
    /// The credentials, with those embedded in an http(s) URL moved in.
    pub(crate) auth: GitAuth,
}

/// Validates the URL and auth combination of `opts` (scheme allowed, known_hosts for ssh).
pub(crate) fn validate(opts: &CheckoutOptions) -> Result<Target, GitError> {
    let shown = redact_url(&opts.url);
    let invalid = |reason: &str| GitError::InvalidUrl {
        url: shown.clone(),
        reason: reason.to_string(),
    };
    let (scheme, userinfo, origin, stripped) =
        split_url(&opts.url).ok_or_else(|| invalid("expected scheme://host/path"))?;
    let mut auth = opts.auth.clone();
    let url = match scheme.as_str() {
        "http" | "https" => {
            // Credentials embedded in the URL move into the config file, off the command line.
            if let Some(ui) = userinfo {
                let (u, p) = ui.split_once(':').unwrap_or((&ui, ""));
                if auth.username.is_none() && auth.bearer_token.is_none() {
                    auth.username = Some(u.to_string());
                    auth.password = Some(p.to_string());
                }
            }
            stripped
        }
        // ssh has no use for a password in the URL; drop it so it never reaches a command line.
        "ssh" => match userinfo.as_deref().and_then(|u| u.split_once(':')) {
            Some((user, _)) => stripped.replacen("ssh://", &format!("ssh://{user}@"), 1),
            None => opts.url.clone(),
        },
        "git" => {
            if auth.username.is_some() || auth.bearer_token.is_some() {
                return Err(invalid("git:// cannot carry credentials"));
            }
            opts.url.clone()
        }
        "file" if opts.allow_file_urls => opts.url.clone(),
        "file" => return Err(invalid("file:// URLs are only allowed in local mode")),
        other => return Err(invalid(&format!("unsupported scheme {other:?}"))),
    };
    if scheme == "ssh" && auth.ssh.as_ref().is_none_or(|s| s.known_hosts.is_empty()) {
        return Err(GitError::MissingKnownHosts { url: shown });
    }
    Ok(Target {
        scheme,
        origin,
        url,
        auth,
    })
}

impl<'a> Session<'a> {
    /// Validates the URL and auth combination and writes the private configuration.
    pub(crate) fn new(opts: &'a CheckoutOptions) -> Result<Self, GitError> {
        let Target {
            scheme,
            origin,
            url,
            auth,
        } = validate(opts)?;
        let tmp = tempfile::Builder::new()
            .prefix("fluxrs-git-")
            .tempdir()
            .map_err(io_err("create temporary directory", Path::new("/tmp")))?;
        let t = tmp.path();
        // Only the current user may enter the directory holding the credential files.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(t, fs::Permissions::from_mode(0o700))
                .map_err(io_err("restrict permissions of", t))?;
        }
        let mut config = String::from(
            "[advice]\n\tdetachedHead = false\n[init]\n\tdefaultBranch = main\n[gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n",
        );
        // The key of `[http "<origin>"]` scopes credentials to the repository's own server.
        let mut http = String::new();
        if let Some(token) = &auth.bearer_token {
            http.push_str(&format!(
                "\textraHeader = {}\n",
                config_value(&format!("Authorization: Bearer {token}"))
            ));
        } else if let Some(user) = &auth.username {
            let basic = base64::engine::general_purpose::STANDARD
                .encode(format!("{user}:{}", auth.password.as_deref().unwrap_or("")));
            http.push_str(&format!(
                "\textraHeader = {}\n",
                config_value(&format!("Authorization: Basic {basic}"))
            ));
        }
        if let Some(ca) = auth.ca_pem.as_ref().filter(|_| scheme == "https") {
            let p = t.join("ca.crt");
            write_private(&p, ca, 0o600)?;
            http.push_str(&format!(
                "\tsslCAInfo = {}\n",
                config_value(&p.display().to_string())
            ));
        }
        if !http.is_empty() {
            config.push_str(&format!("[http {}]\n{http}", config_value(&origin)));
        }
        if let Some(proxy) = &opts.proxy {
            let mut addr = proxy.address.clone();
            if let Some(u) = &proxy.username
                && let Some((s, rest)) = addr.split_once("://")
            {
                let p = proxy.password.as_deref().unwrap_or("");
                addr = format!("{s}://{}:{}@{rest}", pct(u), pct(p));
            }
            config.push_str(&format!("[http]\n\tproxy = {}\n", config_value(&addr)));
        }
        if opts.allow_file_urls {
            config.push_str("[protocol \"file\"]\n\tallow = always\n");
        }
        let cfg_path = t.join("gitconfig");
        write_private(&cfg_path, config.as_bytes(), 0o600)?;

        let mut allowed = String::from("http:https:ssh:git");
        if opts.allow_file_urls {
            allowed.push_str(":file");
        }
        let mut env: Vec<(String, String)> = vec![
            (
                "PATH".into(),
                std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()),
            ),
            ("HOME".into(), t.display().to_string()),
            ("GIT_CONFIG_NOSYSTEM".into(), "1".into()),
            ("GIT_CONFIG_GLOBAL".into(), cfg_path.display().to_string()),
            ("GIT_TERMINAL_PROMPT".into(), "0".into()),
            ("GIT_ALLOW_PROTOCOL".into(), allowed),
            ("LC_ALL".into(), "C".into()),
        ];
        if let Some(ssh) = &auth.ssh {
            let ssh = pinned_ssh(t, ssh, opts.timeout)?;
            if let Some(ap) = &ssh.askpass {
                env.push(("SSH_ASKPASS".into(), ap.display().to_string()));
                env.push(("SSH_ASKPASS_REQUIRE".into(), "force".into()));
                env.push(("DISPLAY".into(), "none".into()));
            }
            env.push(("GIT_SSH_COMMAND".into(), ssh.command));
        }
        let mut secrets = auth.secrets();
        if let Some(p) = opts.proxy.as_ref().and_then(|p| p.password.as_ref()) {
            secrets.push(p.clone());
            secrets.push(pct(p));
        }
        if let Some(u) = &auth.username {
            let basic = base64::engine::general_purpose::STANDARD
                .encode(format!("{u}:{}", auth.password.as_deref().unwrap_or("")));
            secrets.push(basic);
        }
        Ok(Session {
            opts,
            _tmp: tmp,
            env,
            url,
            secrets,
        })
    }

    pub(crate) fn redacted_url(&self) -> String {
        redact_url(&self.opts.url)
    }

    pub(crate) fn ref_not_found(&self, r: &str) -> GitError {
        GitError::RefNotFound {
            url: self.redacted_url(),
            reference: r.to_string(),
        }
    }

    async fn run(
        &self,
        op: &'static str,
        dir: Option<&Path>,
        args: &[&str],
    ) -> Result<String, GitError> {
        let mut cmd = tokio::process::Command::new("git");
        cmd.env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(d) = dir {
            cmd.current_dir(d);
        }
        let out = cmd
            .output()
            .await
            .map_err(io_err("run git in", dir.unwrap_or(Path::new("."))))?;
        if !out.status.success() {
            let stderr = scrub(&String::from_utf8_lossy(&out.stderr), &self.secrets);
            return Err(GitError::classify(op, &self.redacted_url(), &stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `git ls-remote <url> <patterns>` as (sha, ref) pairs.
    pub(crate) async fn ls_remote(
        &self,
        patterns: &[&str],
    ) -> Result<Vec<(String, String)>, GitError> {
        let mut args = vec!["ls-remote", self.url.as_str()];
        args.extend_from_slice(patterns);
        let out = self.run("list references of", None, &args).await?;
        Ok(parse_ls_remote(&out))
    }

    /// All tags of the remote, peeled entries included.
    pub(crate) async fn ls_remote_tags(&self) -> Result<Vec<(String, String)>, GitError> {
        let out = self
            .run(
                "list tags of",
                None,
                &["ls-remote", "--tags", self.url.as_str()],
            )
            .await?;
        Ok(parse_ls_remote(&out))
    }

    /// Creates an empty repository with `origin` and, if asked, the sparse-checkout patterns.
    pub(crate) async fn init_repo(&self, dir: &Path) -> Result<(), GitError> {
        ensure_empty_dir(dir)?;
        fs::create_dir_all(dir).map_err(io_err("create checkout directory", dir))?;
        self.run("init repository for", Some(dir), &["init", "-q", "."])
            .await?;
        self.run(
            "configure",
            Some(dir),
            &["remote", "add", "origin", self.url.as_str()],
        )
        .await?;
        if !self.opts.sparse_checkout.is_empty() {
            // Non-cone patterns anchored at the root: exactly the listed directories, like go-git.
            let mut patterns = String::new();
            for d in &self.opts.sparse_checkout {
                let d = d.trim().trim_start_matches("./").trim_matches('/');
                if d.is_empty() || d == "." {
                    patterns.push_str("/*\n");
                } else {
                    patterns.push_str(&format!("/{d}/\n"));
                }
            }
            let info = dir.join(".git/info");
            fs::create_dir_all(&info).map_err(io_err("create", &info))?;
            fs::write(info.join("sparse-checkout"), patterns)
                .map_err(io_err("write sparse-checkout patterns in", &info))?;
            self.run(
                "configure",
                Some(dir),
                &["config", "core.sparseCheckout", "true"],
            )
            .await?;
        }
        Ok(())
    }

    /// Fetches one refspec (or commit id) from origin.
    pub(crate) async fn fetch(
        &self,
        dir: &Path,
        refspec: &str,
        shallow: bool,
        what: &str,
    ) -> Result<(), GitError> {
        let mut args = vec!["fetch", "-q", "--no-tags", "--no-write-fetch-head"];
        if shallow {
            args.push("--depth=1");
        }
        args.extend_from_slice(&["origin", refspec]);
        match self.run("fetch", Some(dir), &args).await {
            Err(GitError::Command { detail, .. } | GitError::RepositoryNotFound { detail, .. })
                if is_missing_ref(&detail) =>
            {
                Err(self.ref_not_found(what))
            }
            other => other.map(|_| ()),
        }
    }

    pub(crate) async fn rev_parse(&self, dir: &Path, rev: &str) -> Result<String, GitError> {
        let out = self
            .run(
                "resolve revision in",
                Some(dir),
                &["rev-parse", "--verify", "-q", rev],
            )
            .await?;
        Ok(out.trim().to_string())
    }

    pub(crate) async fn is_ancestor(&self, dir: &Path, a: &str, b: &str) -> Result<bool, GitError> {
        match self
            .run(
                "check ancestry in",
                Some(dir),
                &["merge-base", "--is-ancestor", a, b],
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(GitError::Command { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn checkout_target(&self, dir: &Path, target: &str) -> Result<(), GitError> {
        self.run(
            "check out",
            Some(dir),
            &["checkout", "-q", "--detach", target],
        )
        .await
        .map(|_| ())
    }

    pub(crate) async fn update_submodules(&self, dir: &Path) -> Result<(), GitError> {
        self.run(
            "update submodules of",
            Some(dir),
            &["submodule", "update", "-q", "--init", "--recursive"],
        )
        .await
        .map(|_| ())
    }

    /// The path of the private directory (for tests of cleanup).
    #[cfg(test)]
    pub(crate) fn private_dir(&self) -> std::path::PathBuf {
        self._tmp.path().to_path_buf()
    }
}

pub(crate) fn is_missing_ref(detail: &str) -> bool {
    let d = detail.to_ascii_lowercase();
    [
        "couldn't find remote ref",
        "no such remote ref",
        "not our ref",
        "unadvertised object",
        "remote error: upload-pack: not our ref",
    ]
    .iter()
    .any(|n| d.contains(n))
}

fn parse_ls_remote(out: &str) -> Vec<(String, String)> {
    out.lines()
        .filter_map(|l| {
            let (sha, r) = l.split_once('\t')?;
            Some((sha.trim().to_string(), r.trim().to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_split() {
        let (s, u, o, st) = split_url("https://u:p@host:8443/org/repo.git").unwrap();
        assert_eq!(s, "https");
        assert_eq!(u.as_deref(), Some("u:p"));
        assert_eq!(o, "https://host:8443/");
        assert_eq!(st, "https://host:8443/org/repo.git");
        assert!(split_url("host/path").is_none());
    }

    #[test]
    fn ssh_url_password_is_dropped() {
        let opts = CheckoutOptions {
            url: "ssh://git:hunter2@127.0.0.1:22/repo.git".into(),
            auth: crate::git::GitAuth {
                ssh: Some(crate::git::SshAuth {
                    identity: b"key".to_vec(),
                    known_hosts: b"h k v".to_vec(),
                    passphrase: None,
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let s = Session::new(&opts).unwrap();
        assert_eq!(s.url, "ssh://git@127.0.0.1:22/repo.git");
        assert!(!s.redacted_url().contains("hunter2"));
        // Every credential file is private to the user.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let dir = s.private_dir();
            assert_eq!(
                std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
                0o700
            );
            for f in ["identity", "known_hosts", "gitconfig"] {
                let m = std::fs::metadata(dir.join(f)).unwrap().permissions().mode() & 0o777;
                assert_eq!(m, 0o600, "{f}");
            }
        }
        // The private directory goes away with the session.
        let dir = s.private_dir();
        drop(s);
        assert!(!dir.exists());
    }

    #[test]
    fn config_quoting() {
        assert_eq!(config_value(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(pct("a b:@"), "a%20b%3A%40");
    }
}
