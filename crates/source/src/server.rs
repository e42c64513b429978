//! The artifact HTTP server: plain HTTP GET/HEAD of files under the storage root.
//!
//! Only normal path components not starting with `.` are accepted (no `..`, no lock or temp files),
//! and only regular files are served (symlinks are refused), so nothing outside the root leaks.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

use crate::storage::{Storage, checked_rel_path};

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Binding the listen address failed.
    #[error("bind artifact server on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The server stopped with an I/O error.
    #[error("serve artifacts")]
    Serve(#[source] std::io::Error),
}

/// The axum router serving `storage` (mount it into a bigger app, or use [`serve`]).
pub fn router(storage: Storage) -> Router {
    Router::new()
        .fallback(serve_file)
        .with_state(storage.root().to_path_buf())
}

/// Binds `addr` and serves the store until the future is dropped; returns the bound address through
/// `on_bound` first (useful with port 0).
pub async fn serve(
    storage: Storage,
    addr: SocketAddr,
    on_bound: impl FnOnce(SocketAddr),
) -> Result<(), ServerError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| ServerError::Bind { addr, source })?;
    on_bound(local);
    axum::serve(listener, router(storage))
        .await
        .map_err(ServerError::Serve)
}

async fn serve_file(State(root): State<PathBuf>, req: Request) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let raw = req.uri().path().trim_start_matches('/');
    let Some(decoded) = percent_decode(raw) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let Ok(rel) = checked_rel_path(&decoded) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let path = root.join(rel);
    let meta = match tokio::fs::symlink_metadata(&path).await {
        Ok(m) if m.is_file() => m,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let content_type = if decoded.ends_with(".tar.gz") || decoded.ends_with(".tgz") {
        "application/gzip"
    } else {
        "application/octet-stream"
    };
    let mut resp = if req.method() == Method::HEAD {
        Response::new(Body::empty())
    } else {
        let file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(_) => return StatusCode::NOT_FOUND.into_response(),
        };
        Response::new(Body::from_stream(tokio_util::io::ReaderStream::new(file)))
    };
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(meta.len()));
    resp
}

/// Decodes `%XX` escapes; `None` on malformed escapes or non-UTF-8 results.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hi = (*b.get(i + 1)? as char).to_digit(16)?;
            let lo = (*b.get(i + 2)? as char).to_digit(16)?;
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
