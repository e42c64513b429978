//! source-controller: the artifact storage and its HTTP server shared by the source kinds, and
//! one module per kind (starting with [`gitrepository`]).

pub mod gitrepository;

use std::net::SocketAddr;
use std::sync::Arc;

use ::source::storage::{RetentionPolicy, Storage};
use tokio::sync::watch;

use crate::runtime::events::Recorder;
use crate::runtime::manager::Shared;

/// The API group of the source kinds (prefix of event annotations).
pub const GROUP: &str = "source.toolkit.fluxcd.io";
/// The controller name used in Events and logs.
pub const CONTROLLER_NAME: &str = "source-controller";

/// Errors starting the source controller.
#[derive(Debug, thiserror::Error)]
pub enum SourceStartError {
    /// The storage directory could not be opened.
    #[error("opening artifact storage at {path}: {source}")]
    Storage {
        /// Directory.
        path: String,
        /// Cause.
        #[source]
        source: ::source::storage::StorageError,
    },
    /// The artifact server could not bind.
    #[error("binding artifact server on {addr}: {source}")]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// What the source kinds' reconcilers share.
pub struct SourceContext {
    /// Manager-wide state (client, metrics, options).
    pub shared: Arc<Shared>,
    /// Artifact storage.
    pub storage: Storage,
    /// Event recorder reporting as `source-controller`.
    pub recorder: Recorder,
    /// Retention of old artifacts.
    pub retention: RetentionPolicy,
}

impl SourceContext {
    /// Opens the storage and starts the artifact server; returns the context and the server's
    /// bound address.
    pub async fn start(
        shared: Arc<Shared>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(Arc<Self>, SocketAddr), SourceStartError> {
        let opts = &shared.options;
        let addr = opts.storage_addr;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| SourceStartError::Bind { addr, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| SourceStartError::Bind { addr, source })?;
        // Artifact URLs carry the advertised address; without one, the bound address (with
        // 0.0.0.0 replaced by loopback so that the URL is usable on this machine).
        let adv = match &opts.storage_adv_addr {
            Some(a) if !a.is_empty() => a.clone(),
            _ if bound.ip().is_unspecified() => format!("127.0.0.1:{}", bound.port()),
            _ => bound.to_string(),
        };
        let storage =
            Storage::new(&opts.storage_path, &adv).map_err(|source| SourceStartError::Storage {
                path: opts.storage_path.display().to_string(),
                source,
            })?;
        let router = ::source::server::router(storage.clone());
        tokio::spawn(async move {
            let stop = async move {
                let _ = shutdown.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, router)
                .with_graceful_shutdown(stop)
                .await
            {
                tracing::error!(error = %e, "artifact server stopped");
            }
        });
        let retention = RetentionPolicy {
            records: opts.artifact_retention_records.max(1),
            ..RetentionPolicy::default()
        };
        let recorder = Recorder::new(shared.client.clone(), CONTROLLER_NAME)
            .with_events_addr(shared.options.events_addr.clone());
        Ok((
            Arc::new(Self {
                shared,
                storage,
                recorder,
                retention,
            }),
            bound,
        ))
    }
}
