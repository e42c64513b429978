//! Test harness: one shared in-process server (TLS, temp data dir) plus helpers that run
//! kubectl and Python scripts against it.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A running server and the files clients need.
pub struct Env {
    pub url: String,
    pub kubeconfig: PathBuf,
    pub dir: PathBuf,
    pub token: String,
}

/// Output of a client process.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "command failed: stdout={} stderr={}",
            self.stdout, self.stderr
        );
        self
    }
    pub fn fails(self) -> Self {
        assert_ne!(
            self.code, 0,
            "command unexpectedly succeeded: {}",
            self.stdout
        );
        self
    }
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

/// Starts a server on its own runtime thread; it lives until the test process exits.
pub fn start(tls: bool, retention: usize) -> Env {
    start_with(tls, retention, 4096)
}

/// Starts a server with a given per-watcher buffer.
pub fn start_with(tls: bool, retention: usize, watch_buffer: usize) -> Env {
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
            let mut cfg = apiserver::Config::new(&d);
            cfg.tls = tls;
            cfg.event_retention = retention;
            cfg.watch_buffer = watch_buffer;
            cfg.kubeconfig_out = Some(d.join("kubeconfig"));
            let s = apiserver::start(cfg).await.expect("server starts");
            tx.send((s.url.clone(), s.api.pki.admin_token.clone()))
                .expect("send url");
            std::future::pending::<()>().await;
        });
    });
    let (url, token) = rx.recv().expect("server url");
    Env {
        url,
        kubeconfig: dir.join("kubeconfig"),
        dir,
        token,
    }
}

/// The shared TLS server most tests use (each test works in its own namespace).
pub fn shared() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| start(true, 10_000))
}

fn run(mut cmd: Command, stdin: Option<&str>) -> Out {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn client");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    let o = child.wait_with_output().expect("client output");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

impl Env {
    /// Runs `kubectl` (the dispatcher by default) with a fresh cache dir.
    pub fn kubectl(&self, args: &[&str]) -> Out {
        self.kubectl_bin("kubectl", args, None)
    }

    /// Runs kubectl with stdin.
    pub fn kubectl_in(&self, input: &str, args: &[&str]) -> Out {
        self.kubectl_bin("kubectl", args, Some(input))
    }

    /// Runs a specific kubectl binary.
    pub fn kubectl_bin(&self, bin: &str, args: &[&str], input: Option<&str>) -> Out {
        let cache = tempfile::tempdir().expect("cache dir");
        let mut cmd = Command::new(bin);
        cmd.arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(cache.path())
            .args(args);
        run(cmd, input)
    }

    /// Runs a Python script with the kubeconfig in `KUBECONFIG`; the script gets `SERVER`,
    /// `TOKEN` and `CA` (path) in its environment too.
    pub fn python(&self, script: &str) -> Out {
        let mut cmd = Command::new("python3");
        cmd.arg("-c").arg(script);
        cmd.env("KUBECONFIG", &self.kubeconfig)
            .env("SERVER", &self.url)
            .env("TOKEN", &self.token)
            .env("CA", self.dir.join("pki/ca.crt"));
        run(cmd, None)
    }

    /// Creates a fresh namespace and returns its name.
    pub fn namespace(&self, prefix: &str) -> String {
        let ns = unique(prefix);
        let o = self.python(&format!(
            "{PY_PRELUDE}\nv1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name='{ns}')))"
        ));
        assert_eq!(o.code, 0, "create namespace: {}", o.stderr);
        ns
    }
}

/// Python prelude: loads the kubeconfig and creates the usual API objects, plus a raw HTTP
/// helper `raw(method, path, body=None, headers={})` returning (status, headers, body bytes).
pub const PY_PRELUDE: &str = r#"
import os, json, ssl, urllib.request, urllib.error
from kubernetes import client, config, watch
config.load_kube_config()
api_client = client.ApiClient()
v1 = client.CoreV1Api()
apps = client.AppsV1Api()
custom = client.CustomObjectsApi()
ext = client.ApiextensionsV1Api()
from kubernetes.client.rest import ApiException

def raw(method, path, body=None, headers=None, token=True):
    ctx = ssl.create_default_context(cafile=os.environ['CA'])
    h = dict(headers or {})
    if token:
        h.setdefault('Authorization', 'Bearer ' + os.environ['TOKEN'])
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(os.environ['SERVER'] + path, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=20) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()
"#;

/// Runs a Python script after the prelude and asserts it exits 0; returns stdout.
pub fn py(env: &Env, body: &str) -> String {
    let o = env.python(&format!("{PY_PRELUDE}\n{body}"));
    assert_eq!(
        o.code, 0,
        "python failed:\nstdout={}\nstderr={}",
        o.stdout, o.stderr
    );
    o.stdout
}

/// Path of a versioned kubectl (`kubectl.1.31`) beside the dispatcher `kubectl` on PATH.
pub fn versioned_kubectl(version: &str) -> String {
    let name = format!("kubectl.{version}");
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("kubectl"))
                .filter(|k| k.exists())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    for k in on_path {
        let real = std::fs::canonicalize(&k).unwrap_or(k);
        let candidate = real.with_file_name(&name);
        if candidate.exists() {
            return candidate.display().to_string();
        }
    }
    name
}

/// A kube-rs client for the shared server, built from its kubeconfig.
pub async fn kube_client() -> kube::Client {
    let env = shared();
    let kc = kube::config::Kubeconfig::read_from(&env.kubeconfig).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    kube::Client::try_from(cfg).unwrap()
}
