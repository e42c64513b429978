//! Git smart HTTP: a bridge from one HTTP request to `git http-backend` run as CGI, shared by the
//! loopback server of `flux local up` and the test server in [`crate::testutil`].

use std::path::Path;
use std::process::Stdio;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Answers `req` with `git http-backend` serving the repositories under `project_root`;
/// `path_info` is the request path relative to it (e.g. `/repo.git/info/refs`). The response
/// body is streamed; git runs without system or global configuration.
pub async fn http_backend(project_root: &Path, path_info: &str, req: Request) -> Response {
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
        .env("GIT_PROJECT_ROOT", project_root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", project_root)
        .env("REQUEST_METHOD", parts.method.as_str())
        .env(
            "PATH_INFO",
            if path_info.is_empty() { "/" } else { path_info },
        )
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
