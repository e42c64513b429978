//! Shared fixtures: upstream repositories built with the git CLI, `git daemon`, and `sshd`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Runs git with a neutral identity and no user/system configuration; returns trimmed stdout.
pub fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_ALLOW_PROTOCOL", "file:http")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("run git {args:?}"))?;
    if !out.status.success() {
        bail!(
            "git {args:?} in {}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// An upstream repository: a bare repo under `<root>/srv/<name>.git` and a work tree that pushes to it.
pub struct Upstream {
    pub srv: PathBuf,
    pub bare: PathBuf,
    pub work: PathBuf,
}

impl Upstream {
    pub fn new(root: &Path, name: &str) -> Result<Self> {
        let srv = root.join("srv");
        std::fs::create_dir_all(&srv)?;
        let bare = srv.join(format!("{name}.git"));
        git(
            &srv,
            &["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()],
        )?;
        let work = root.join(format!("work-{name}"));
        std::fs::create_dir_all(&work)?;
        git(&work, &["init", "-q", "-b", "main"])?;
        git(&work, &["remote", "add", "origin", bare.to_str().unwrap()])?;
        Ok(Upstream { srv, bare, work })
    }

    pub fn write(&self, rel: &str, content: &str) -> Result<()> {
        let p = self.work.join(rel);
        std::fs::create_dir_all(p.parent().unwrap())?;
        std::fs::write(p, content)?;
        Ok(())
    }

    /// Commits everything and returns the new commit id.
    pub fn commit(&self, msg: &str) -> Result<String> {
        git(&self.work, &["add", "-A"])?;
        git(&self.work, &["commit", "-q", "-m", msg])?;
        git(&self.work, &["rev-parse", "HEAD"])
    }

    pub fn push_all(&self) -> Result<()> {
        git(&self.work, &["push", "-q", "--force", "origin", "--all"])?;
        git(&self.work, &["push", "-q", "--force", "origin", "--tags"])?;
        Ok(())
    }

    pub fn tag(&self, name: &str, annotated: bool) -> Result<()> {
        if annotated {
            git(
                &self.work,
                &["tag", "-a", name, "-m", &format!("release {name}")],
            )?;
        } else {
            git(&self.work, &["tag", name])?;
        }
        Ok(())
    }

    pub fn git(&self, args: &[&str]) -> Result<String> {
        git(&self.work, args)
    }
}

/// A port that was free a moment ago.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn wait_for_port(port: u16, child: &mut Child, what: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!("{what} exited early: {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("{what} did not listen on port {port}")
}

/// A child process killed on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `git daemon` exporting everything under `base` on a random loopback port.
pub fn git_daemon(base: &Path) -> Result<(Proc, u16)> {
    let port = free_port()?;
    let mut child = Command::new("git")
        .args([
            "daemon",
            "--export-all",
            "--reuseaddr",
            "--listen=127.0.0.1",
            &format!("--port={port}"),
            &format!("--base-path={}", base.display()),
            base.to_str().unwrap(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("start git daemon")?;
    wait_for_port(port, &mut child, "git daemon")?;
    Ok((Proc(child), port))
}

/// Keys and a running sshd accepting `client` keys for the current user.
pub struct Sshd {
    pub _proc: Proc,
    pub port: u16,
    pub user: String,
    /// known_hosts line for the server's real host key.
    pub known_hosts: String,
    /// known_hosts line with a different key for the same host.
    pub wrong_known_hosts: String,
    /// Unencrypted client key.
    pub key_plain: String,
    /// Passphrase-protected client key and its passphrase.
    pub key_encrypted: String,
    pub passphrase: String,
}

fn keygen(path: &Path, passphrase: &str) -> Result<()> {
    let out = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            passphrase,
            "-C",
            "fluxrs-test",
            "-f",
        ])
        .arg(path)
        .output()
        .context("run ssh-keygen")?;
    if !out.status.success() {
        bail!("ssh-keygen: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

pub fn sshd(dir: &Path) -> Result<Sshd> {
    std::fs::create_dir_all(dir)?;
    let host = dir.join("host_key");
    let other_host = dir.join("other_host_key");
    let plain = dir.join("client_plain");
    let enc = dir.join("client_enc");
    let passphrase = "correct horse battery";
    keygen(&host, "")?;
    keygen(&other_host, "")?;
    keygen(&plain, "")?;
    keygen(&enc, passphrase)?;
    let mut authorized = std::fs::read_to_string(plain.with_extension("pub"))?;
    authorized.push_str(&std::fs::read_to_string(enc.with_extension("pub"))?);
    std::fs::write(dir.join("authorized_keys"), authorized)?;
    let port = free_port()?;
    let config = format!(
        "Port {port}\nListenAddress 127.0.0.1\nHostKey {host}\nPidFile {pid}\nAuthorizedKeysFile {ak}\nStrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin prohibit-password\nLogLevel ERROR\n",
        host = host.display(),
        pid = dir.join("sshd.pid").display(),
        ak = dir.join("authorized_keys").display(),
    );
    let cfg = dir.join("sshd_config");
    std::fs::write(&cfg, config)?;
    // sshd started as root wants its privilege-separation directory.
    let _ = std::fs::create_dir_all("/run/sshd");
    let mut child = Command::new("/usr/sbin/sshd")
        .arg("-D")
        .arg("-e")
        .arg("-f")
        .arg(&cfg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("start sshd")?;
    wait_for_port(port, &mut child, "sshd")?;
    let host_pub = std::fs::read_to_string(host.with_extension("pub"))?;
    let other_pub = std::fs::read_to_string(other_host.with_extension("pub"))?;
    let line = |pubkey: &str| {
        let mut parts = pubkey.split_whitespace();
        format!(
            "[127.0.0.1]:{port} {} {}\n",
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default()
        )
    };
    let user = std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| {
            String::from_utf8_lossy(&Command::new("id").arg("-un").output().unwrap().stdout)
                .trim()
                .to_string()
        });
    Ok(Sshd {
        _proc: Proc(child),
        port,
        user,
        known_hosts: line(&host_pub),
        wrong_known_hosts: line(&other_pub),
        key_plain: std::fs::read_to_string(&plain)?,
        key_encrypted: std::fs::read_to_string(&enc)?,
        passphrase: passphrase.to_string(),
    })
}

/// Relative paths of all regular files under `dir`, sorted, skipping `.git`.
pub fn list_tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if e.file_name() == ".git" {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}
