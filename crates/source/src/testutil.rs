//! A Git smart-HTTP server on loopback (`git http-backend` as CGI behind axum), with optional basic
//! or bearer authentication; used by this crate's tests and by `xtask bench git`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
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
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 1 << 30).await else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let hdr = |n: &HeaderName| {
        parts
            .headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let mut cmd = tokio::process::Command::new("git");
    cmd.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", &st.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", &st.root)
        .env("REQUEST_METHOD", parts.method.as_str())
        .env("PATH_INFO", parts.uri.path())
        .env("QUERY_STRING", parts.uri.query().unwrap_or(""))
        .env("CONTENT_TYPE", hdr(&header::CONTENT_TYPE))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("REMOTE_USER", "git")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let enc = hdr(&header::CONTENT_ENCODING);
    if !enc.is_empty() {
        cmd.env("HTTP_CONTENT_ENCODING", enc);
    }
    let proto = hdr(&HeaderName::from_static("git-protocol"));
    if !proto.is_empty() {
        cmd.env("GIT_PROTOCOL", proto);
    }
    let Ok(mut child) = cmd.spawn() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut stdin = child.stdin.take().expect("piped stdin");
    // Write the request body concurrently with reading the response so neither pipe fills up.
    tokio::spawn(async move {
        let _ = stdin.write_all(&body).await;
    });
    let stdout = child.stdout.take().expect("piped stdout");
    tokio::spawn(async move {
        let _ = child.wait().await;
    });
    let mut reader = BufReader::new(stdout);
    let mut status = StatusCode::OK;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            let v = v.trim();
            if k.eq_ignore_ascii_case("status") {
                let code = v.split_whitespace().next().and_then(|c| c.parse().ok());
                status = code
                    .and_then(|c| StatusCode::from_u16(c).ok())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            } else if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                headers.push((n, v));
            }
        }
    }
    let mut resp = Response::new(Body::from_stream(tokio_util::io::ReaderStream::new(reader)));
    *resp.status_mut() = status;
    for (n, v) in headers {
        resp.headers_mut().append(n, v);
    }
    resp
}
