//! A Git smart-HTTP server on loopback (`git http-backend` as CGI behind axum), with optional basic
//! or bearer authentication; used by this crate's tests and by `xtask bench git`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Credentials the server accepts; `None` serves anonymously.
#[derive(Debug, Clone, Default)]
pub enum HttpAuth {
    /// No authentication.
    #[default]
    None,
    /// HTTP basic authentication with this user and password.
    Basic(String, String),
    /// `Authorization: Bearer <token>`.
    Bearer(String),
}

struct Shared {
    root: PathBuf,
    auth: HttpAuth,
}

/// A running server; stopped when dropped.
pub struct GitHttpServer {
    /// The bound address.
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for GitHttpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl GitHttpServer {
    /// Serves the repositories under `root` (e.g. `root/repo.git` at `http://addr/repo.git`) on a
    /// random loopback port.
    pub async fn start(root: impl Into<PathBuf>, auth: HttpAuth) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            root: root.into(),
            auth,
        });
        let app = Router::new().fallback(cgi).with_state(shared);
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(GitHttpServer { addr, task })
    }

    /// `http://<addr>/<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }
}

fn authorized(auth: &HttpAuth, req: &Request) -> bool {
    let got = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match auth {
        HttpAuth::None => true,
        HttpAuth::Basic(u, p) => {
            let want = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
            got == Some(format!("Basic {want}").as_str())
        }
        HttpAuth::Bearer(t) => got == Some(format!("Bearer {t}").as_str()),
    }
}

async fn cgi(State(st): State<Arc<Shared>>, req: Request) -> Response {
    if !authorized(&st.auth, &req) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Basic realm=\"git\"")],
            "unauthorized",
        )
            .into_response();
    }
    let path = req.uri().path().to_string();
    crate::git_http::http_backend(&st.root, &path, req).await
}
