//! Test harness: one in-process API server per test binary (TLS, temp data dir, Flux CRDs
//! installed), a kube client from its kubeconfig, per-test namespaces and managers, and
//! polling helpers.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use controllers::{Manager, ManagerOptions, RunningManager};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};

/// The shared API server.
pub struct Server {
    pub kubeconfig: String,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A unique lowercase name.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id() % 10000,
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// Starts (once) the API server on its own runtime thread; it lives until the process exits.
pub fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        let (tx, rx) = std::sync::mpsc::channel();
        let d = dir.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let cfg = apiserver::Config::new(d.join("apiserver"));
                let s = apiserver::start(cfg).await.expect("api server starts");
                tx.send(s.kubeconfig.clone()).expect("send kubeconfig");
                std::future::pending::<()>().await;
            });
        });
        let kubeconfig = rx.recv().expect("kubeconfig");
        Server { kubeconfig }
    })
}

/// A client for the shared server (installs the CRDs on first use).
pub async fn client() -> Result<Client> {
    logs();
    let srv = server();
    let kc = Kubeconfig::from_yaml(&srv.kubeconfig).context("parsing kubeconfig")?;
    let config = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default()).await?;
    let client = Client::try_from(config)?;
    install_crds(&client).await?;
    Ok(client)
}

async fn install_crds(client: &Client) -> Result<()> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in api::crds::all() {
        let name = crd.metadata.name.clone().unwrap_or_default();
        match crds.create(&PostParams::default(), &crd).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => return Err(e).with_context(|| format!("creating CRD {name}")),
        }
    }
    let repos: Api<api::source::GitRepository> = Api::all(client.clone());
    eventually(Duration::from_secs(20), || async {
        Ok(repos.list(&ListParams::default()).await.is_ok())
    })
    .await
    .context("GitRepository API served")?;
    Ok(())
}

/// Captured JSON log lines of every manager in this test process (installed once, globally).
#[derive(Clone, Default)]
pub struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;
    fn make_writer(&'a self) -> LogBuffer {
        self.clone()
    }
}

impl LogBuffer {
    /// Everything logged so far, one parsed JSON object per line.
    pub fn lines(&self) -> Vec<serde_json::Value> {
        let bytes = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {l}"))
            })
            .collect()
    }
    /// Everything logged so far, raw.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

/// Installs the runtime's JSON log layer (debug level) into a shared buffer, once.
pub fn logs() -> &'static LogBuffer {
    static LOGS: OnceLock<LogBuffer> = OnceLock::new();
    LOGS.get_or_init(|| {
        use tracing_subscriber::Layer;
        use tracing_subscriber::layer::SubscriberExt;
        let buf = LogBuffer::default();
        let layer = controllers::runtime::logging::JsonLayer::new(buf.clone()).with_filter(
            controllers::runtime::logging::filter(tracing::level_filters::LevelFilter::DEBUG),
        );
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer));
        buf
    })
}

/// Creates a fresh namespace.
pub async fn namespace(client: &Client) -> Result<String> {
    let name = unique("ns");
    let api: Api<Namespace> = Api::all(client.clone());
    let mut ns = Namespace::default();
    ns.metadata.name = Some(name.clone());
    api.create(&PostParams::default(), &ns).await?;
    Ok(name)
}

/// Options of a manager confined to `namespace`, on random loopback ports, storing in `storage`.
pub fn options(namespace: &str, storage: &std::path::Path) -> ManagerOptions {
    let lo = |p| std::net::SocketAddr::from(([127, 0, 0, 1], p));
    ManagerOptions {
        enable: vec!["source".into()],
        concurrent: 2,
        storage_path: storage.to_path_buf(),
        storage_addr: lo(0),
        storage_adv_addr: None,
        metrics_addr: lo(0),
        health_addr: lo(0),
        watch_all_namespaces: false,
        runtime_namespace: namespace.to_string(),
        min_retry_delay: Duration::from_millis(200),
        max_retry_delay: Duration::from_secs(2),
        ..ManagerOptions::default()
    }
}

/// Starts a manager.
pub async fn manager(client: &Client, opts: ManagerOptions) -> Result<RunningManager> {
    Ok(Manager::new(client.clone(), opts)?.start().await?)
}

/// Polls `f` until it returns true or `timeout` passes.
pub async fn eventually<F, Fut>(timeout: Duration, mut f: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    let start = Instant::now();
    let mut last_err = None;
    while start.elapsed() < timeout {
        match f().await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) => last_err = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    match last_err {
        Some(e) => Err(e.context(format!("condition not met within {timeout:?}"))),
        None => bail!("condition not met within {timeout:?}"),
    }
}

/// Polls `f` until it yields a value or `timeout` passes; the error names the last failure.
pub async fn wait_for<T, F, Fut>(timeout: Duration, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let start = Instant::now();
    let mut last_err = None;
    while start.elapsed() < timeout {
        match f().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last_err = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    match last_err {
        Some(e) => Err(e.context(format!("condition not met within {timeout:?}"))),
        None => bail!("condition not met within {timeout:?}"),
    }
}

/// Sets `reconcile.fluxcd.io/requestedAt` on `name` to a fresh value and waits (up to `timeout`)
/// until `handled` reads it back from the object's `status.lastHandledReconcileAt`.
pub async fn request_reconcile<K>(
    api: &Api<K>,
    name: &str,
    timeout: Duration,
    handled: impl Fn(&K) -> Option<String>,
) -> Result<K>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let value = unique("req");
    let patch = serde_json::json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": value}}});
    api.patch(
        name,
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&patch),
    )
    .await?;
    wait_for(timeout, || {
        let api = api.clone();
        let value = value.clone();
        let handled = &handled;
        async move {
            let obj = api.get(name).await?;
            Ok((handled(&obj).as_deref() == Some(value.as_str())).then_some(obj))
        }
    })
    .await
}

/// GET over plain HTTP from a loopback endpoint: (status, body).
pub async fn http_get(url: &str) -> Result<(u16, Vec<u8>)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").context("http URL")?;
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut s = tokio::net::TcpStream::connect(host).await?;
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await?;
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("response head")?;
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let status: u16 = head.split_whitespace().nth(1).context("status")?.parse()?;
    let mut body = buf[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Ok((status, body))
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(nl) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..nl]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&b[nl + 2..nl + 2 + size]);
        b = &b[nl + 2 + size + 2..];
    }
    out
}
