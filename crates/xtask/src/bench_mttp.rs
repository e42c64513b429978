//! `cargo run -p xtask --release -- bench mttp-kustomize --apps 100,500,1000`: Flux's "mean time
//! to production" (MTTP) scenario for Kustomizations, run against the embedded API server.
//!
//! Per run: a fresh `fluxrs-apiserver` process, one Git repository served over loopback smart
//! HTTP (`git http-backend`), one GitRepository and N Kustomizations (each with
//! `postBuild.substitute`, `prune`, `wait`, `targetNamespace`) applying a ServiceAccount, a
//! Service, a Deployment scaled to zero and an Ingress. Setup is applied with kubectl before the
//! controllers start; the clock runs from spawning `flux controllers --enable source,kustomize`
//! until every Kustomization is Ready, and the controller process's peak RSS (VmHWM) is read
//! just before it is stopped. Flux's published figures come from fluxcd/flux-benchmark on a
//! 16-core GitHub runner with kind; they are printed beside ours for scale, not as a same-machine
//! comparison (no real cluster can run here).

use anyhow::{Context, Result, anyhow, bail};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Flux 2.9 MTTP results for Kustomizations (fluxcd/flux-benchmark, 16-core runner): apps,
/// seconds, MiB.
const FLUX_REFERENCE: [(usize, u64, u64); 3] = [(100, 26, 134), (500, 120, 183), (1000, 253, 223)];

const NAMESPACE: &str = "apps";

/// The app manifests every Kustomization applies; `${INDEX}` is substituted per app.
const APP_FILES: [(&str, &str); 5] = [
    (
        "kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- serviceaccount.yaml\n- service.yaml\n- deployment.yaml\n- ingress.yaml\n",
    ),
    (
        "serviceaccount.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: podinfo-${INDEX}\n",
    ),
    (
        "service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: podinfo-${INDEX}\nspec:\n  type: ClusterIP\n  selector:\n    app: podinfo-${INDEX}\n  ports:\n  - name: http\n    port: 9898\n    protocol: TCP\n    targetPort: http\n",
    ),
    (
        "deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo-${INDEX}\nspec:\n  replicas: 0\n  selector:\n    matchLabels:\n      app: podinfo-${INDEX}\n  template:\n    metadata:\n      labels:\n        app: podinfo-${INDEX}\n    spec:\n      serviceAccountName: podinfo-${INDEX}\n      containers:\n      - name: podinfo\n        image: ghcr.io/stefanprodan/podinfo:6.7.0\n        ports:\n        - name: http\n          containerPort: 9898\n        resources:\n          requests:\n            cpu: ${MCPU}\n            memory: 16Mi\n",
    ),
    (
        "ingress.yaml",
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: podinfo-${INDEX}\nspec:\n  rules:\n  - host: podinfo-${INDEX}.example.com\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service:\n            name: podinfo-${INDEX}\n            port:\n              name: http\n",
    ),
];

/// Kills a child process on drop so that a failed run leaves nothing behind.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run_cmd(cmd: &mut Command, what: &str) -> Result<String> {
    let out = cmd.output().with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    run_cmd(
        Command::new("git")
            .args([
                "-c",
                "user.name=bench",
                "-c",
                "user.email=bench@example.com",
            ])
            .args(args)
            .current_dir(dir),
        &format!("git {}", args.join(" ")),
    )
}

/// Creates the app repository and a bare copy of it; returns the directory to serve.
fn make_repo(work: &Path) -> Result<PathBuf> {
    let src = work.join("src");
    std::fs::create_dir_all(src.join("app"))?;
    for (name, text) in APP_FILES {
        std::fs::write(src.join("app").join(name), text)?;
    }
    git(&src, &["init", "-q", "-b", "main"])?;
    git(&src, &["add", "."])?;
    git(&src, &["commit", "-q", "-m", "podinfo app"])?;
    let served = work.join("served");
    std::fs::create_dir_all(&served)?;
    git(
        work,
        &["clone", "-q", "--bare", "src", "served/podinfo.git"],
    )?;
    Ok(served)
}

/// Serves the bare repositories under `dir` over Git smart HTTP (`git http-backend`) on a free
/// loopback port; the server lives as long as the returned runtime.
fn serve_git(
    dir: &Path,
) -> Result<(
    tokio::runtime::Runtime,
    source::testutil::GitHttpServer,
    u16,
)> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the Git server runtime")?;
    let server = rt
        .block_on(source::testutil::GitHttpServer::start(
            dir.to_path_buf(),
            source::testutil::HttpAuth::None,
        ))
        .context("starting the Git HTTP server")?;
    let port = server.addr.port();
    Ok((rt, server, port))
}

fn start_apiserver(bin: &Path, dir: &Path) -> Result<(Guard, String)> {
    let mut child = Command::new(bin)
        .arg(dir)
        .arg("0")
        .arg("--insecure-http")
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?)
        .read_line(&mut line)?;
    let url = line
        .trim()
        .strip_prefix("READY ")
        .ok_or_else(|| anyhow!("API server did not start: {line:?}"))?
        .to_string();
    Ok((Guard(child), url))
}

fn kubectl_apply(kubeconfig: &Path, yaml: &str) -> Result<()> {
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["apply", "--server-side", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting kubectl apply")?;
    child
        .stdin
        .take()
        .ok_or_else(|| anyhow!("no stdin"))?
        .write_all(yaml.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "kubectl apply failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

fn flux_objects(apps: usize, git_port: u16) -> String {
    let mut y = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {NAMESPACE}\n---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: podinfo\n  namespace: {NAMESPACE}\nspec:\n  interval: 60m\n  url: http://127.0.0.1:{git_port}/podinfo.git\n  ref:\n    branch: main\n"
    );
    for i in 0..apps {
        y.push_str(&format!(
            "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: podinfo-{i}\n  namespace: {NAMESPACE}\nspec:\n  interval: 60m\n  retryInterval: 2m\n  timeout: 5m\n  path: ./app\n  prune: true\n  wait: true\n  targetNamespace: {NAMESPACE}\n  sourceRef:\n    kind: GitRepository\n    name: podinfo\n  postBuild:\n    substitute:\n      INDEX: \"{i}app\"\n      MCPU: \"1m\"\n"
        ));
    }
    y
}

/// A `GET` over plain HTTP/1.1 (the bench server runs without TLS).
fn http_get(addr: &str, path: &str) -> Result<serde_json::Value> {
    let mut s = TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: bench\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow!("malformed response"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let mut body = raw[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body)?;
    }
    serde_json::from_slice(&body).context("decoding list")
}

fn dechunk(mut b: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = b
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| anyhow!("bad chunk"))?;
        let n = usize::from_str_radix(std::str::from_utf8(&b[..eol])?.trim(), 16)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + n]);
        b = &b[eol + 2 + n + 2..];
    }
}

/// Counts Ready Kustomizations; also returns one not-ready message for progress reports.
fn ready_count(addr: &str) -> Result<(usize, usize, Option<String>)> {
    let list = http_get(
        addr,
        &format!("/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/{NAMESPACE}/kustomizations"),
    )?;
    let items = list["items"].as_array().cloned().unwrap_or_default();
    let mut ready = 0;
    let mut example = None;
    for it in &items {
        let cond = it["status"]["conditions"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["type"] == "Ready"));
        match cond {
            Some(c) if c["status"] == "True" => ready += 1,
            Some(c) if example.is_none() => {
                example = Some(format!(
                    "{}: {}",
                    it["metadata"]["name"].as_str().unwrap_or(""),
                    c["message"].as_str().unwrap_or("")
                ));
            }
            _ => {}
        }
    }
    Ok((ready, items.len(), example))
}

fn vm_hwm_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kib| kib / 1024.0)
        .unwrap_or(0.0)
}

struct RunResult {
    apps: usize,
    took: Duration,
    peak_mib: f64,
}

fn run_once(root: &Path, apps: usize, concurrent: usize, timeout: Duration) -> Result<RunResult> {
    let work = std::env::temp_dir().join(format!("mttp-{}-{apps}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let served = make_repo(&work)?;
    let (_git_rt, _git_server, git_port) = serve_git(&served)?;
    let (_api, url) = start_apiserver(
        &root.join("target/release/fluxrs-apiserver"),
        &work.join("api"),
    )
    .context("starting the API server")?;
    let addr = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("expected a plain-HTTP server, got {url}"))?
        .to_string();
    let kubeconfig = work.join("api/kubeconfig");
    let flux = root.join("target/release/flux");
    let crds = run_cmd(
        Command::new(&flux).args(["install", "--export"]),
        "flux install --export",
    )?;
    kubectl_apply(&kubeconfig, &crds).context("installing the CRDs")?;
    kubectl_apply(&kubeconfig, &flux_objects(apps, git_port))
        .context("creating the Flux objects")?;

    let log = std::fs::File::create(work.join("controllers.log"))?;
    let start = Instant::now();
    let controllers = Command::new(&flux)
        .args(["controllers", "--enable", "source,kustomize"])
        .arg(format!("--concurrent={concurrent}"))
        .arg("--storage-path")
        .arg(work.join("storage"))
        .args([
            "--storage-addr=127.0.0.1:0",
            "--metrics-addr=127.0.0.1:0",
            "--health-addr=127.0.0.1:0",
        ])
        .env("KUBECONFIG", &kubeconfig)
        .env("RUNTIME_NAMESPACE", "flux-system")
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .spawn()
        .context("starting flux controllers")?;
    let pid = controllers.id();
    let mut controllers = Guard(controllers);
    let mut last_report = Instant::now();
    loop {
        if let Some(status) = controllers.0.try_wait()? {
            bail!(
                "flux controllers exited with {status}; see {}",
                work.join("controllers.log").display()
            );
        }
        let (ready, total, example) = ready_count(&addr)?;
        if total == apps && ready == apps {
            break;
        }
        if start.elapsed() > timeout {
            bail!(
                "{ready}/{apps} Kustomizations Ready after {:?}; e.g. {}",
                timeout,
                example.unwrap_or_default()
            );
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            eprintln!(
                "  {apps} apps: {ready} Ready after {:.0} s",
                start.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let took = start.elapsed();
    let peak_mib = vm_hwm_mib(pid);
    drop(controllers);
    let _ = std::fs::remove_dir_all(&work);
    Ok(RunResult {
        apps,
        took,
        peak_mib,
    })
}

fn fmt_secs(s: f64) -> String {
    if s >= 60.0 {
        format!("{}m{:.0}s", (s / 60.0).floor(), s % 60.0)
    } else {
        format!("{s:.1}s")
    }
}

/// Entry point.
pub fn run(args: &[&str]) -> Result<()> {
    let mut apps = vec![100usize, 500, 1000];
    let mut concurrent = 20;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match *a {
            "--apps" => {
                apps = it
                    .next()
                    .ok_or_else(|| anyhow!("--apps needs a value"))?
                    .split(',')
                    .map(|n| n.parse().context("parsing --apps"))
                    .collect::<Result<_>>()?;
            }
            "--concurrent" => {
                concurrent = it
                    .next()
                    .ok_or_else(|| anyhow!("--concurrent needs a value"))?
                    .parse()?;
            }
            other => bail!(
                "unknown argument {other}; usage: bench mttp-kustomize [--apps 100,500,1000] [--concurrent 20]"
            ),
        }
    }
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "-p",
            "apiserver",
            "--bin",
            "fluxrs-apiserver",
            "-p",
            "cli",
            "--bin",
            "flux",
        ])
        .status()
        .context("building the release binaries")?;
    if !status.success() {
        bail!("building fluxrs-apiserver and flux failed");
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut results = Vec::new();
    for n in apps {
        eprintln!("► MTTP with {n} Kustomizations");
        results.push(run_once(&root, n, concurrent, Duration::from_secs(900))?);
    }
    println!(
        "\n{:>6}  {:>14}  {:>16}  {:>20}  {:>18}  {:>10}  {:>10}",
        "apps",
        "fluxrs time",
        "fluxrs peak RSS",
        "Flux 2.9 time (*)",
        "Flux 2.9 mem (*)",
        "time ×",
        "memory ×"
    );
    for r in results {
        let reference = FLUX_REFERENCE.iter().find(|(n, _, _)| *n == r.apps);
        let (ft, fm, tr, mr) = match reference {
            Some((_, secs, mib)) => (
                fmt_secs(*secs as f64),
                format!("{mib} MiB"),
                format!("{:.1}", *secs as f64 / r.took.as_secs_f64()),
                format!("{:.1}", *mib as f64 / r.peak_mib.max(0.1)),
            ),
            None => ("-".into(), "-".into(), "-".into(), "-".into()),
        };
        println!(
            "{:>6}  {:>14}  {:>12.1} MiB  {:>20}  {:>18}  {:>10}  {:>10}",
            r.apps,
            fmt_secs(r.took.as_secs_f64()),
            r.peak_mib,
            ft,
            fm,
            tr,
            mr
        );
    }
    println!(
        "\n(*) Flux 2.9 kustomize-controller, fluxcd/flux-benchmark on a 16-core GitHub runner with kind;\n    fluxrs: source+kustomize controllers in one process on this machine ({} cores), embedded API server.\n    × = Flux figure / fluxrs figure (higher is better for fluxrs).",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    Ok(())
}
