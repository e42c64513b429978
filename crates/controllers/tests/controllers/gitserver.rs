//! A real Git server for the tests: `git http-backend` (the CGI program shipped with git) behind
//! a small HTTP server on 127.0.0.1, optionally requiring basic auth or a bearer token; plus
//! helpers that create repositories and commits with the git CLI.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// Credentials the server demands.
#[derive(Clone, Debug, Default)]
pub enum Auth {
    /// Anyone may read.
    #[default]
    None,
    /// HTTP basic auth with this user and password.
    Basic(String, String),
    /// `Authorization: Bearer <token>`.
    Bearer(String),
}

struct ServerState {
    root: PathBuf,
    auth: Auth,
}

/// A running Git HTTP server.
pub struct GitServer {
    pub root: PathBuf,
    pub base_url: String,
    _dir: tempfile::TempDir,
}

impl GitServer {
    /// Starts a server with an empty project root.
    pub async fn start(auth: Auth) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let root = dir.path().to_path_buf();
        let state = Arc::new(ServerState {
            root: root.clone(),
            auth,
        });
        let app = axum::Router::new().fallback(handle).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            root,
            base_url: format!("http://{addr}"),
            _dir: dir,
        })
    }

    /// Starts a server over HTTPS with a freshly generated CA; returns it and the CA's PEM.
    pub async fn start_tls(auth: Auth) -> Result<(Self, String)> {
        let dir = tempfile::tempdir()?;
        let root = dir.path().to_path_buf();
        let state = Arc::new(ServerState {
            root: root.clone(),
            auth,
        });
        let app = axum::Router::new().fallback(handle).with_state(state);
        // The API server's PKI helper issues a CA and a server certificate for 127.0.0.1.
        let pki = apiserver::pki::Pki::generate()?;
        let tls = apiserver::transport::tls_config(&pki)?;
        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let app = app.clone();
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let svc = hyper::service::service_fn(
                        move |req: hyper::Request<hyper::body::Incoming>| {
                            let mut app = app.clone();
                            async move {
                                use tower_service::Service;
                                app.call(req.map(Body::new)).await
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Ok((
            Self {
                root,
                base_url: format!("https://{addr}"),
                _dir: dir,
            },
            pki.ca_cert.clone(),
        ))
    }

    /// Creates a bare repository `name.git` with one commit on `main` holding `files`.
    pub fn create_repo(&self, name: &str, files: &[(&str, &str)]) -> Result<Repo> {
        let repo = Repo {
            git_dir: self.root.join(format!("{name}.git")),
            work: self.root.join(format!("{name}.work")),
        };
        std::fs::create_dir_all(&repo.work)?;
        git(
            &self.root,
            &[
                "init",
                "--bare",
                "-q",
                "-b",
                "main",
                repo.git_dir.to_str().unwrap(),
            ],
        )?;
        repo.commit(files, "initial commit")?;
        Ok(repo)
    }

    /// The clone URL of a repository.
    pub fn url(&self, name: &str) -> String {
        format!("{}/{name}.git", self.base_url)
    }
}

/// A bare repository with a separate work tree used to make commits.
pub struct Repo {
    pub git_dir: PathBuf,
    pub work: PathBuf,
}

impl Repo {
    pub fn git(&self, args: &[&str]) -> Result<String> {
        let mut full = vec![
            "--git-dir",
            self.git_dir.to_str().unwrap(),
            "--work-tree",
            self.work.to_str().unwrap(),
        ];
        full.extend_from_slice(args);
        git(&self.work, &full)
    }

    /// Writes `files` into the work tree and commits them on `main`; returns the commit id.
    pub fn commit(&self, files: &[(&str, &str)], message: &str) -> Result<String> {
        for (path, content) in files {
            let p = self.work.join(path);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(p, content)?;
        }
        self.git(&["add", "-A"])?;
        self.git(&["commit", "-q", "-m", message])?;
        Ok(self.git(&["rev-parse", "HEAD"])?.trim().to_string())
    }

    /// Creates a lightweight tag at HEAD.
    pub fn tag(&self, tag: &str) -> Result<()> {
        self.git(&["tag", tag]).map(|_| ())
    }
}

/// Runs git with a fixed identity and no user/system configuration.
pub fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "Flux Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Flux Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .context("running git")?;
    if !out.status.success() {
        bail!(
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn authorized(auth: &Auth, headers: &HeaderMap) -> bool {
    use base64::Engine;
    let got = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match auth {
        Auth::None => true,
        Auth::Basic(u, p) => {
            got == format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        }
        Auth::Bearer(t) => got == format!("Bearer {t}"),
    }
}

async fn handle(State(state): State<Arc<ServerState>>, req: Request) -> Response {
    if !authorized(&state.auth, req.headers()) {
        let mut r = Response::builder().status(StatusCode::UNAUTHORIZED);
        if matches!(state.auth, Auth::Basic(..)) {
            r = r.header("WWW-Authenticate", "Basic realm=\"git\"");
        }
        return r.body(Body::from("unauthorized")).expect("static response");
    }
    let path = req.uri().path().to_string();
    source::git_http::http_backend(&state.root, &path, req).await
}

/// A running OpenSSH `sshd` on 127.0.0.1 that accepts two client keys for the current user.
pub struct Sshd {
    _child: tokio::process::Child,
    _dir: tempfile::TempDir,
    pub port: u16,
    pub user: String,
    /// `known_hosts` line pinning the server's host key.
    pub known_hosts: String,
    /// `known_hosts` line with some other key for the same host.
    pub wrong_known_hosts: String,
    /// Client key without passphrase.
    pub key: String,
    /// Client key protected by [`Sshd::passphrase`].
    pub encrypted_key: String,
    pub passphrase: String,
}

fn ssh_keygen(path: &Path, passphrase: &str) -> Result<()> {
    let out = std::process::Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-C",
            "controllers-test",
            "-N",
            passphrase,
            "-f",
        ])
        .arg(path)
        .output()
        .context("running ssh-keygen")?;
    if !out.status.success() {
        bail!(
            "ssh-keygen failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

impl Sshd {
    /// Generates host and client keys and starts sshd in the foreground on a free port.
    pub async fn start() -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let p = |n: &str| dir.path().join(n);
        let passphrase = "open sesame 4711".to_string();
        ssh_keygen(&p("host"), "")?;
        ssh_keygen(&p("other_host"), "")?;
        ssh_keygen(&p("client"), "")?;
        ssh_keygen(&p("client_enc"), &passphrase)?;
        let authorized = format!(
            "{}{}",
            std::fs::read_to_string(p("client.pub"))?,
            std::fs::read_to_string(p("client_enc.pub"))?
        );
        std::fs::write(p("authorized_keys"), authorized)?;
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            l.local_addr()?.port()
        };
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\nAuthorizedKeysFile {}\n\
             StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nLogLevel ERROR\n",
            p("host").display(),
            p("sshd.pid").display(),
            p("authorized_keys").display()
        );
        std::fs::write(p("sshd_config"), config)?;
        // Privilege separation directory sshd insists on when started as root.
        let _ = std::fs::create_dir_all("/run/sshd");
        let child = tokio::process::Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(p("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting sshd")?;
        let start = std::time::Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if start.elapsed() > std::time::Duration::from_secs(10) {
                bail!("sshd did not listen on {port}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let pin = |pubfile: &str| -> Result<String> {
            let text = std::fs::read_to_string(p(pubfile))?;
            let mut parts = text.split_whitespace();
            let (kind, key) = (
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
            );
            Ok(format!("[127.0.0.1]:{port} {kind} {key}\n"))
        };
        let user = match std::env::var("USER") {
            Ok(u) if !u.is_empty() => u,
            _ => String::from_utf8_lossy(
                &std::process::Command::new("id").arg("-un").output()?.stdout,
            )
            .trim()
            .to_string(),
        };
        Ok(Self {
            port,
            user,
            known_hosts: pin("host.pub")?,
            wrong_known_hosts: pin("other_host.pub")?,
            key: std::fs::read_to_string(p("client"))?,
            encrypted_key: std::fs::read_to_string(p("client_enc"))?,
            passphrase,
            _child: child,
            _dir: dir,
        })
    }

    /// The ssh URL of a repository given by its absolute path.
    pub fn url(&self, repo: &Path) -> String {
        format!(
            "ssh://{}@127.0.0.1:{}{}",
            self.user,
            self.port,
            repo.display()
        )
    }
}
