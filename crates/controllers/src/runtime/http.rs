//! The manager's HTTP endpoints: Prometheus `/metrics`, and `/healthz` + `/readyz` probes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::sync::watch;

use crate::runtime::metrics::Metrics;

/// Errors starting an endpoint.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The listener could not bind.
    #[error("binding {what} endpoint on {addr}: {source}")]
    Bind {
        /// `metrics` or `health`.
        what: &'static str,
        /// Address.
        addr: SocketAddr,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// Shared readiness flag: `/readyz` answers 200 once the controllers run.
#[derive(Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    /// Marks the manager ready (or not).
    pub fn set(&self, ready: bool) {
        self.0.store(ready, Ordering::SeqCst);
    }
    /// Whether the manager is ready.
    pub fn get(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

async fn bind(what: &'static str, addr: SocketAddr) -> Result<tokio::net::TcpListener, HttpError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| HttpError::Bind { what, addr, source })
}

fn spawn(listener: tokio::net::TcpListener, router: Router, mut shutdown: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let stop = async move {
            let _ = shutdown.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, router)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::error!(error = %e, "http endpoint stopped");
        }
    });
}

/// Serves `/metrics` on `addr`; returns the bound address (port 0 picks one).
pub async fn serve_metrics(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    shutdown: watch::Receiver<bool>,
) -> Result<SocketAddr, HttpError> {
    let listener = bind("metrics", addr).await?;
    let local = listener.local_addr().map_err(|source| HttpError::Bind {
        what: "metrics",
        addr,
        source,
    })?;
    let router = Router::new().route(
        "/metrics",
        get(move || {
            let m = metrics.clone();
            async move {
                (
                    [(
                        header::CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    m.render(),
                )
            }
        }),
    );
    spawn(listener, router, shutdown);
    Ok(local)
}

/// Serves `/healthz` (always ok while the process serves) and `/readyz` (ok once ready).
pub async fn serve_health(
    addr: SocketAddr,
    ready: Readiness,
    shutdown: watch::Receiver<bool>,
) -> Result<SocketAddr, HttpError> {
    let listener = bind("health", addr).await?;
    let local = listener.local_addr().map_err(|source| HttpError::Bind {
        what: "health",
        addr,
        source,
    })?;
    let router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let r = ready.clone();
                async move {
                    if r.get() {
                        (StatusCode::OK, "ok").into_response()
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
                    }
                }
            }),
        );
    spawn(listener, router, shutdown);
    Ok(local)
}
