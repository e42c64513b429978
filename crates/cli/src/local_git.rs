//! Local sources for `flux local up`: snapshots of a plain directory into a bare Git repository
//! and a loopback Git smart-HTTP server (`git http-backend` as CGI) the source controller clones
//! from, since GitRepository URLs must be http/https/ssh and controllers never read local files.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;

/// Errors of the local Git plumbing.
#[derive(Debug, thiserror::Error)]
pub enum LocalGitError {
    /// A git command failed.
    #[error("running git {args} in {dir}: {message}")]
    Git {
        /// Arguments, space-separated.
        args: String,
        /// Working directory.
        dir: String,
        /// git's stderr, or the spawn error.
        message: String,
    },
    /// The HTTP listener could not bind.
    #[error("binding the local Git server on 127.0.0.1: {0}")]
    Bind(#[source] std::io::Error),
}

/// Runs git with a fixed identity and without the user's global configuration (so signing
/// or hooks settings of the user do not interfere with snapshots).
pub fn git(dir: &Path, args: &[&str], envs: &[(&str, &Path)]) -> Result<String, LocalGitError> {
    let mut cmd = std::process::Command::new("git");
    cmd.args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "flux local up")
        .env("GIT_AUTHOR_EMAIL", "flux-local@localhost")
        .env("GIT_COMMITTER_NAME", "flux local up")
        .env("GIT_COMMITTER_EMAIL", "flux-local@localhost")
        .stdin(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let err = |message: String| LocalGitError::Git {
        args: args.join(" "),
        dir: dir.display().to_string(),
        message,
    };
    let out = cmd.output().map_err(|e| err(e.to_string()))?;
    if !out.status.success() {
        return Err(err(String::from_utf8_lossy(&out.stderr).trim().to_string()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// If `dir` is the top of a Git work tree (or a bare repository), its git directory.
pub fn git_dir_of(dir: &Path) -> Option<PathBuf> {
    let top = git(dir, &["rev-parse", "--show-toplevel"], &[]).ok();
    if let Some(top) = top {
        let same = std::fs::canonicalize(&top).ok() == std::fs::canonicalize(dir).ok();
        if !same {
            return None;
        }
        let gd = git(dir, &["rev-parse", "--absolute-git-dir"], &[]).ok()?;
        return Some(PathBuf::from(gd));
    }
    // A bare repository: no work tree, but a git dir that is `dir` itself.
    let bare = git(dir, &["rev-parse", "--is-bare-repository"], &[]).ok()?;
    (bare == "true").then(|| std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()))
}

/// The branch HEAD points at in a repository.
pub fn head_branch(git_dir: &Path) -> Result<String, LocalGitError> {
    git(
        git_dir,
        &[
            "--git-dir",
            &git_dir.to_string_lossy(),
            "symbolic-ref",
            "--short",
            "HEAD",
        ],
        &[],
    )
}

/// A plain directory mirrored into a bare repository, one commit per content change.
pub struct Snapshot {
    /// The directory whose content is committed.
    pub work: PathBuf,
    /// The bare repository.
    pub git_dir: PathBuf,
    /// Branch the commits go to.
    pub branch: String,
}

impl Snapshot {
    /// Creates the bare repository if missing.
    pub fn open(work: &Path, git_dir: &Path, branch: &str) -> Result<Self, LocalGitError> {
        if !git_dir.join("HEAD").exists() {
            let parent = git_dir.parent().unwrap_or(Path::new("."));
            std::fs::create_dir_all(parent).map_err(|e| LocalGitError::Git {
                args: "init".into(),
                dir: parent.display().to_string(),
                message: e.to_string(),
            })?;
            git(
                parent,
                &[
                    "init",
                    "--bare",
                    "-q",
                    "-b",
                    branch,
                    &git_dir.to_string_lossy(),
                ],
                &[],
            )?;
        }
        Ok(Self {
            work: work.to_path_buf(),
            git_dir: git_dir.to_path_buf(),
            branch: branch.to_string(),
        })
    }

    /// Commits the directory's current content when it differs from the branch head; returns
    /// the new commit id, or `None` when nothing changed. Honours `.gitignore` files.
    pub fn commit_if_changed(&self) -> Result<Option<String>, LocalGitError> {
        let gd = self.git_dir.to_string_lossy().to_string();
        let wt = self.work.to_string_lossy().to_string();
        let index = self.git_dir.join("flux-local-index");
        let envs: [(&str, &Path); 1] = [("GIT_INDEX_FILE", &index)];
        let base = ["--git-dir", gd.as_str(), "--work-tree", wt.as_str()];
        let run = |extra: &[&str]| {
            let mut a: Vec<&str> = base.to_vec();
            a.extend_from_slice(extra);
            git(&self.work, &a, &envs)
        };
        run(&["add", "-A", "--", "."])?;
        let tree = run(&["write-tree"])?;
        let refname = format!("refs/heads/{}", self.branch);
        let parent = run(&["rev-parse", "--verify", "-q", &refname]).ok();
        if let Some(p) = &parent {
            let old_tree = run(&["rev-parse", &format!("{p}^{{tree}}")])?;
            if old_tree == tree {
                return Ok(None);
            }
        }
        let mut args = vec!["commit-tree", tree.as_str(), "-m", "flux local up snapshot"];
        if let Some(p) = &parent {
            args.extend_from_slice(&["-p", p.as_str()]);
        }
        let commit = run(&args)?;
        run(&["update-ref", &refname, &commit])?;
        Ok(Some(commit))
    }
}

/// A running loopback Git smart-HTTP server for one repository.
pub struct GitHttpServer {
    /// Clone URL, `http://127.0.0.1:<port>/<name>.git`.
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for GitHttpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct ServeState {
    git_dir: PathBuf,
    prefix: String,
}

impl GitHttpServer {
    /// Serves `git_dir` read-only at `http://127.0.0.1:<port>/<name>.git`: `preferred_port`
    /// when it is free (so URLs stay valid across runs), a random one otherwise.
    pub async fn start(
        git_dir: &Path,
        name: &str,
        preferred_port: u16,
    ) -> Result<Self, LocalGitError> {
        let state = Arc::new(ServeState {
            git_dir: git_dir.to_path_buf(),
            prefix: format!("/{name}.git"),
        });
        let app = axum::Router::new().fallback(handle).with_state(state);
        let listener = match tokio::net::TcpListener::bind(("127.0.0.1", preferred_port)).await {
            Ok(l) => l,
            Err(_) => tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(LocalGitError::Bind)?,
        };
        let addr = listener.local_addr().map_err(LocalGitError::Bind)?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            url: format!("http://{addr}/{name}.git"),
            task,
        })
    }
}

async fn handle(State(state): State<Arc<ServeState>>, req: Request) -> Response {
    match cgi(&state, req).await {
        Ok(r) => r,
        Err(e) => Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .body(Body::from(e))
            .unwrap_or_default(),
    }
}

/// Serves one request of the repository: the URL prefix is stripped and the git dir is the
/// project root, so any repository (bare or a work tree's `.git`) can be served; read-only.
async fn cgi(state: &ServeState, req: Request) -> Result<Response, String> {
    let path = req.uri().path().to_string();
    let Some(rest) = path.strip_prefix(&state.prefix) else {
        return Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Body::from("not found"))
            .map_err(|e| e.to_string());
    };
    // Read-only: refuse pushes.
    if rest.contains("git-receive-pack") || req.uri().query().unwrap_or("").contains("receive-pack")
    {
        return Response::builder()
            .status(StatusCode::FORBIDDEN)
            .body(Body::from("read-only"))
            .map_err(|e| e.to_string());
    }
    Ok(source::git_http::http_backend(&state.git_dir, rest, req).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn snapshots_commit_only_on_change_and_serve_over_http() {
        let tmp = tempfile::tempdir().unwrap();
        let work = tmp.path().join("app");
        std::fs::create_dir_all(&work).unwrap();
        std::fs::write(work.join("a.yaml"), "a: 1\n").unwrap();
        let snap = Snapshot::open(&work, &tmp.path().join("repo.git"), "main").unwrap();
        let first = snap.commit_if_changed().unwrap().expect("first commit");
        assert_eq!(snap.commit_if_changed().unwrap(), None);
        std::fs::write(work.join("a.yaml"), "a: 2\n").unwrap();
        let second = snap.commit_if_changed().unwrap().expect("second commit");
        assert_ne!(first, second);

        let server = GitHttpServer::start(&snap.git_dir, "app", 0).await.unwrap();
        let url = server.url.clone();
        let dest = tmp.path().join("clone");
        let dest_s = dest.to_string_lossy().to_string();
        let out = tokio::task::spawn_blocking(move || {
            git(
                std::path::Path::new("/"),
                &["clone", "-q", "-b", "main", &url, &dest_s],
                &[],
            )
        })
        .await
        .unwrap();
        out.unwrap();
        assert_eq!(
            std::fs::read_to_string(dest.join("a.yaml")).unwrap(),
            "a: 2\n"
        );
        assert_eq!(
            git_dir_of(&dest),
            Some(dest.join(".git").canonicalize().unwrap())
        );
        assert_eq!(head_branch(&dest.join(".git")).unwrap(), "main");
        assert_eq!(git_dir_of(&work), None);
    }
}
