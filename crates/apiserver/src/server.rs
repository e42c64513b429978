//! The server: configuration, shared state, startup (storage, credentials, seeding, listener)
//! and the single request entry point that authenticates and routes every call.

use crate::error::{ApiError, ApiResult};
use crate::pki::Pki;
use crate::registry::Registry;
use crate::request::{Req, Route};
use crate::store::{ObjKey, Store};
use crate::transport::PeerIdentity;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{Notify, watch};

/// Largest accepted request body (upstream's limit).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// How to run the server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address (port 0 picks a free port).
    pub addr: SocketAddr,
    /// Data directory (database, credentials).
    pub data_dir: PathBuf,
    /// Serve HTTPS (true) or plain HTTP.
    pub tls: bool,
    /// Events kept for watch resume.
    pub event_retention: usize,
    /// Events that may queue for one watcher before it is disconnected (it then relists).
    pub watch_buffer: usize,
    /// Where to write the admin kubeconfig, if anywhere.
    pub kubeconfig_out: Option<PathBuf>,
    /// Authentication: anonymous access, static tokens, service-account token issuer.
    pub auth: crate::auth::AuthConfig,
    /// Simulate the controller manager and kubelet for workloads (Deployments, StatefulSets,
    /// DaemonSets, ReplicaSets, Jobs, Pods): see [`crate::workloads`].
    pub simulate_workloads: bool,
    /// How long a simulated workload takes to become ready (or to fail) after a change.
    pub workload_ready_delay: std::time::Duration,
    /// How long core/v1 and events.k8s.io/v1 Events live after their last write.
    pub event_ttl: std::time::Duration,
}

impl Config {
    /// Defaults: 127.0.0.1:0, TLS on, 10 000 retained events, 4096-event watch buffers,
    /// workload simulation on (ready after 500 ms), Events kept for one hour.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            tls: true,
            event_retention: 10_000,
            watch_buffer: 4096,
            kubeconfig_out: None,
            auth: crate::auth::AuthConfig::default(),
            simulate_workloads: true,
            workload_ready_delay: std::time::Duration::from_millis(500),
            event_ttl: std::time::Duration::from_secs(3600),
        }
    }
}

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory could not be created.
    #[error("creating data directory {path}: {source}")]
    DataDir {
        /// Directory.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Storage failed to open.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Credentials failed.
    #[error(transparent)]
    Pki(#[from] crate::pki::PkiError),
    /// TLS configuration failed.
    #[error(transparent)]
    Tls(#[from] crate::transport::TlsError),
    /// The listener could not bind.
    #[error("binding {addr}: {source}")]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Writing the kubeconfig failed.
    #[error("writing kubeconfig {path}: {source}")]
    Kubeconfig {
        /// File.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Authentication setup (token file, signing key) failed.
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),
    /// Seeding the initial objects failed.
    #[error("seeding initial objects: {0}")]
    Seed(ApiError),
}

/// Shared state of a running server.
pub struct Api {
    /// Storage.
    pub store: Store,
    /// Served resources.
    pub registry: Registry,
    /// Credentials.
    pub pki: Pki,
    /// Authentication state (static tokens, service-account token signer).
    pub auth: crate::auth::AuthState,
    /// Whether TLS (and therefore authentication) is on.
    pub tls: bool,
    /// Wakes the background controller (namespace and CRD cleanup).
    pub controller_wake: Notify,
    /// `host:port` clients reach us at.
    pub address: String,
}

/// A started server.
pub struct RunningServer {
    /// Bound address.
    pub addr: SocketAddr,
    /// `https://127.0.0.1:port` or `http://...`.
    pub url: String,
    /// Admin kubeconfig text.
    pub kubeconfig: String,
    /// Shared state (for in-process use).
    pub api: Arc<Api>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// Stops accepting, closes connections and waits for the listener task.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

/// Opens storage, seeds first-start objects, binds and starts serving.
pub async fn start(config: Config) -> Result<RunningServer, StartError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    let store = Store::open(
        &config.data_dir.join("state.redb"),
        config.event_retention,
        config.watch_buffer,
    )?;
    let pki = Pki::load_or_create(&config.data_dir)?;
    let auth = crate::auth::AuthState::new(&config.auth, &config.data_dir, &pki.admin_token)?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.addr,
        source,
    })?;
    let scheme = if config.tls { "https" } else { "http" };
    let url = format!("{scheme}://{addr}");
    let api = Arc::new(Api {
        store,
        registry: Registry::new(crate::builtin::resources()),
        pki,
        auth,
        tls: config.tls,
        controller_wake: Notify::new(),
        address: addr.to_string(),
    });
    seed(&api).map_err(StartError::Seed)?;
    api.store.durable_blocking();
    crate::crd::refresh_registry(&api);
    let kubeconfig = api.pki.kubeconfig(&url, config.tls);
    if let Some(p) = &config.kubeconfig_out {
        std::fs::write(p, &kubeconfig).map_err(|source| StartError::Kubeconfig {
            path: p.display().to_string(),
            source,
        })?;
    }
    let tls = if config.tls {
        Some(crate::transport::tls_config(&api.pki)?)
    } else {
        None
    };
    let router = Router::new().fallback(entry).with_state(api.clone());
    let (tx, rx) = watch::channel(false);
    tokio::spawn(crate::auth::bootstrap::run_aggregation(
        api.clone(),
        rx.clone(),
    ));
    let settings = crate::controller::Settings {
        simulate_workloads: config.simulate_workloads,
        workload_ready_delay: config.workload_ready_delay,
        event_ttl: config.event_ttl,
    };
    tokio::spawn(crate::controller::run(api.clone(), settings, rx.clone()));
    let task = tokio::spawn(crate::transport::serve(listener, router, tls, rx));
    Ok(RunningServer {
        addr,
        url,
        kubeconfig,
        api,
        shutdown: tx,
        task,
    })
}

/// Creates the namespaces and bootstrap RBAC objects every cluster has, once.
fn seed(api: &Api) -> ApiResult<()> {
    crate::auth::bootstrap::seed(api)?;
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        let key = ObjKey::new("", "namespaces", "", ns);
        api.store.mutate(&key, |cur, _| {
            if cur.is_some() {
                return Ok(crate::store::Change::Keep);
            }
            let mut obj =
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
            crate::rest::init_metadata(&mut obj, false);
            crate::rest::namespace_defaults(&mut obj);
            Ok(crate::store::Change::Put(obj))
        })?;
    }
    Ok(())
}

async fn entry(State(api): State<Arc<Api>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let peer = parts
        .extensions
        .get::<PeerIdentity>()
        .cloned()
        .unwrap_or_default();
    let user = match crate::auth::authn::authenticate(&api, &peer, &parts.headers) {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return ApiError::too_large().into_response(),
    };
    let mut req = Req::new(parts.method, &parts.uri, parts.headers, bytes);
    req.user = Arc::new(user);
    if let Err(e) = crate::auth::authorize_request(&api, &mut req) {
        return e.into_response();
    }
    let method = req.method.clone();
    let resp = match route(&api, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    if method == Method::HEAD {
        let (p, _) = resp.into_parts();
        return Response::from_parts(p, Body::empty());
    }
    resp
}

async fn route(api: &Arc<Api>, req: Req) -> ApiResult<Response> {
    let route = req.route()?;
    let get = req.method == Method::GET || req.method == Method::HEAD;
    match route {
        Route::Version if get => Ok(json_response(200, &version())),
        Route::Health if get => Ok(text_response("ok")),
        Route::ApiVersions | Route::ApiGroups | Route::ApiGroup(_) | Route::ResourceList(..)
            if get =>
        {
            crate::discovery::serve(api, &req, route)
        }
        Route::OpenApiV3Root if get => Ok(json_response(200, &crate::openapi::root(api))),
        Route::OpenApiV3Doc(path) if get => {
            crate::openapi::document(api, &path).map(|d| json_response(200, &d))
        }
        Route::OpenApiV2 => Err(ApiError::no_route()),
        Route::Resource(t)
            if req.method == Method::POST
                && t.group.is_empty()
                && t.plural == "serviceaccounts"
                && t.sub.as_deref() == Some("token") =>
        {
            let r = crate::auth::tokens::token_request(api, &req, &t);
            api.store.durable().await?;
            r
        }
        Route::Resource(target) => crate::rest::handle(api, req, target).await,
        _ => Err(ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        )),
    }
}

/// The `/version` body: Kubernetes 1.33.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": "v1.33.0-fluxrs",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": format!("{}/{}", std::env::consts::OS, if std::env::consts::ARCH == "x86_64" { "amd64" } else { std::env::consts::ARCH }),
    })
}

/// A JSON response with `application/json`.
pub fn json_response(code: u16, v: &Value) -> Response {
    typed_response(code, v, "application/json")
}

/// A JSON response with a given content type.
pub fn typed_response(code: u16, v: &Value, content_type: &str) -> Response {
    let body = serde_json::to_vec(v).unwrap_or_default();
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = axum::http::StatusCode::from_u16(code).unwrap_or(axum::http::StatusCode::OK);
    if let Ok(ct) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    r
}

fn text_response(s: &'static str) -> Response {
    let mut r = Response::new(Body::from(s));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}
