//! `flux local up`: a whole GitOps loop on this machine with no cluster. Starts the embedded API
//! server, installs the CRDs, runs every implemented controller in-process, serves the local
//! source over loopback Git HTTP, creates a GitRepository and a Kustomization for it, shows
//! progress until they are Ready and prints the Flux objects and the applied objects.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use serde_json::{Value, json};

use crate::cluster::{now_rfc3339, parse_duration};
use crate::kinds::{FluxKind, Readiness, condition, readiness};
use crate::local_git::{GitHttpServer, Snapshot, git_dir_of, head_branch};
use crate::output;

/// Field manager of the objects `flux local up` writes (as `flux` does upstream).
const MANAGER: &str = "flux";
/// Namespace of the Flux objects.
const NAMESPACE: &str = "flux-system";
/// How often the objects are polled for progress.
const POLL: Duration = Duration::from_millis(300);
/// How often a local directory or repository is checked for changes while running.
const RESNAPSHOT: Duration = Duration::from_secs(3);

/// The bundled example repository, embedded so that an installed binary has it too.
const QUICKSTART: &[(&str, &str)] = &[
    (
        "README.md",
        include_str!("../../../examples/quickstart/README.md"),
    ),
    (
        "kustomization.yaml",
        include_str!("../../../examples/quickstart/kustomization.yaml"),
    ),
    (
        "base/kustomization.yaml",
        include_str!("../../../examples/quickstart/base/kustomization.yaml"),
    ),
    (
        "base/deployment.yaml",
        include_str!("../../../examples/quickstart/base/deployment.yaml"),
    ),
    (
        "base/service.yaml",
        include_str!("../../../examples/quickstart/base/service.yaml"),
    ),
    (
        "overlays/staging/kustomization.yaml",
        include_str!("../../../examples/quickstart/overlays/staging/kustomization.yaml"),
    ),
    (
        "overlays/staging/namespace.yaml",
        include_str!("../../../examples/quickstart/overlays/staging/namespace.yaml"),
    ),
    (
        "overlays/production/kustomization.yaml",
        include_str!("../../../examples/quickstart/overlays/production/kustomization.yaml"),
    ),
    (
        "overlays/production/namespace.yaml",
        include_str!("../../../examples/quickstart/overlays/production/namespace.yaml"),
    ),
];

/// `flux local up` arguments.
#[derive(Args)]
#[command(after_long_help = "\
Sources:
  With no argument the bundled quickstart example (podinfo with staging and production
  overlays) is written to <data-dir>/quickstart and reconciled.
  A local directory that is not a Git repository is committed into a bare repository under
  <data-dir>/git (one commit per change; re-checked every 3s while running, so edits are
  picked up). A local Git repository is used as it is, at its HEAD branch (committed content
  only). Both are served read-only over Git smart HTTP (git http-backend) on
  127.0.0.1:<random port>, because GitRepository URLs must be http(s)/ssh and the controllers
  never read local files. A http(s)/ssh URL is cloned by the source controller directly; a
  file:// URL names a local path.

Data directory:
  apiserver/ (database, credentials), kubeconfig, artifacts/, git/, controllers.log (the
  controllers' JSON logs; read them with `flux logs --data-dir DIR`). Running `flux local up`
  again on the same data directory resumes with the objects it has.

Examples:
  flux local up --once                      # the quickstart, exit when Ready
  flux local up ./my-fleet --path ./clusters/dev
  flux local up https://github.com/stefanprodan/podinfo --branch master --path ./kustomize")]
pub struct UpArgs {
    /// Local directory, local Git repository, or Git URL (http/https/ssh) to reconcile
    /// (default: the bundled quickstart example).
    source: Option<String>,
    /// Directory for the API server's database, the kubeconfig, artifacts and logs
    /// (default: $XDG_CACHE_HOME/fluxrs/local or ~/.cache/fluxrs/local).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Port of the embedded API server on 127.0.0.1 (default: the previous run's port on this
    /// data directory when free, so an exported KUBECONFIG keeps working, else a free one;
    /// 0 always picks a free one). The kubeconfig is rewritten on every start.
    #[arg(long)]
    port: Option<u16>,
    /// Exit when everything is Ready (0) or has failed (non-zero, with the object's message).
    #[arg(long)]
    once: bool,
    /// How long to wait for everything to become Ready.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    timeout: Duration,
    /// Path to the directory containing a kustomization.yaml file, or the set of plain
    /// manifests, inside the source.
    #[arg(long, default_value = "./")]
    path: String,
    /// Git branch (default: the HEAD branch of a local repository, `main` otherwise).
    #[arg(long)]
    branch: Option<String>,
    /// Reconciliation interval of the GitRepository and the Kustomization.
    #[arg(long, default_value = "1m", value_parser = parse_duration)]
    interval: Duration,
    /// Name of the GitRepository and the Kustomization (in namespace flux-system).
    #[arg(long, default_value = "flux-system")]
    name: String,
    /// postBuild.substitute variables, KEY=VALUE (repeatable; cluster_name=local is preset).
    #[arg(long = "substitute", value_name = "KEY=VALUE")]
    substitute: Vec<String>,
    /// Log level of the in-process controllers (written to <data-dir>/controllers.log).
    #[arg(long, default_value = "info")]
    log_level: String,
}

/// The default data directory: `$XDG_CACHE_HOME/fluxrs/local` or `~/.cache/fluxrs/local`.
pub fn default_data_dir() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| std::env::temp_dir().join("fluxrs-cache"));
    cache.join("fluxrs").join("local")
}

/// The file the in-process controllers log to.
pub fn log_file(data_dir: &Path) -> PathBuf {
    data_dir.join("controllers.log")
}

/// Where the source comes from.
enum Origin {
    /// A remote URL the source controller clones directly.
    Url(String),
    /// A plain directory snapshotted into a bare repository.
    Dir(Snapshot),
    /// An existing local repository (its git dir) at a branch.
    Repo(PathBuf),
}

/// Runs `flux local up`.
pub fn run(args: UpArgs) -> anyhow::Result<()> {
    let data_dir = args.data_dir.clone().unwrap_or_else(default_data_dir);
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    let data_dir = std::fs::canonicalize(&data_dir)
        .with_context(|| format!("resolving data directory {}", data_dir.display()))?;
    init_logging(&data_dir, &args.log_level)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(up(args, data_dir))
}

/// Sends the controllers' (and the API server's) logs to `<data-dir>/controllers.log` as
/// Flux-shaped JSON lines, so the terminal only shows progress.
fn init_logging(data_dir: &Path, level: &str) -> anyhow::Result<()> {
    use controllers::runtime::logging::{JsonLayer, filter, parse_level};
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let level = parse_level(level)?;
    let path = log_file(data_dir);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("opening log file {}", path.display()))?;
    let _ = tracing_subscriber::registry()
        .with(JsonLayer::new(std::sync::Mutex::new(file)).with_filter(filter(level)))
        .try_init();
    Ok(())
}

/// Resolves the source argument into an origin and its branch.
fn resolve_origin(args: &UpArgs, data_dir: &Path) -> anyhow::Result<(Origin, String)> {
    let is_url = |s: &str| {
        s.starts_with("http://")
            || s.starts_with("https://")
            || s.starts_with("ssh://")
            || s.starts_with("git@")
    };
    match args.source.as_deref() {
        Some(url) if is_url(url) => Ok((
            Origin::Url(url.to_string()),
            args.branch.clone().unwrap_or_else(|| "main".into()),
        )),
        Some(dir) => {
            // `file://` URLs name local paths (allowed in this mode only).
            let dir = PathBuf::from(dir.strip_prefix("file://").unwrap_or(dir));
            anyhow::ensure!(
                dir.is_dir(),
                "source '{}' is neither a directory nor a http(s)/ssh Git URL",
                dir.display()
            );
            let dir = std::fs::canonicalize(&dir)
                .with_context(|| format!("resolving source directory {}", dir.display()))?;
            if let Some(git_dir) = git_dir_of(&dir) {
                let branch = match &args.branch {
                    Some(b) => b.clone(),
                    None => head_branch(&git_dir)
                        .with_context(|| format!("reading the HEAD branch of {}", dir.display()))?,
                };
                Ok((Origin::Repo(git_dir), branch))
            } else {
                let branch = args.branch.clone().unwrap_or_else(|| "main".into());
                let snap = Snapshot::open(&dir, &data_dir.join("git").join("source.git"), &branch)?;
                Ok((Origin::Dir(snap), branch))
            }
        }
        None => {
            let dir = data_dir.join("quickstart");
            for (rel, text) in QUICKSTART {
                let p = dir.join(rel);
                if let Some(parent) = p.parent() {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("creating {}", parent.display()))?;
                }
                std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
            }
            let branch = args.branch.clone().unwrap_or_else(|| "main".into());
            let snap = Snapshot::open(&dir, &data_dir.join("git").join("quickstart.git"), &branch)?;
            Ok((Origin::Dir(snap), branch))
        }
    }
}

/// The revision marker of a local origin (its branch head), to notice new commits.
fn local_head(origin: &Origin, branch: &str) -> Option<String> {
    let git_dir = match origin {
        Origin::Url(_) => return None,
        Origin::Dir(s) => &s.git_dir,
        Origin::Repo(g) => g,
    };
    crate::local_git::git(
        git_dir,
        &[
            "--git-dir",
            &git_dir.to_string_lossy(),
            "rev-parse",
            "--verify",
            "-q",
            &format!("refs/heads/{branch}"),
        ],
        &[],
    )
    .ok()
}

async fn up(args: UpArgs, data_dir: PathBuf) -> anyhow::Result<()> {
    let started = Instant::now();
    let (origin, branch) = resolve_origin(&args, &data_dir)?;
    if let Origin::Dir(snap) = &origin {
        snap.commit_if_changed()
            .with_context(|| format!("snapshotting {}", snap.work.display()))?;
    }
    let kubeconfig = data_dir.join("kubeconfig");
    let mut ports = Ports::load(&data_dir);
    let start = |port: u16| {
        let mut cfg = apiserver::Config::new(data_dir.join("apiserver"));
        cfg.addr = SocketAddr::from(([127, 0, 0, 1], port));
        cfg.kubeconfig_out = Some(kubeconfig.clone());
        apiserver::start(cfg)
    };
    let in_use = |e: &apiserver::StartError| {
        let text = format!("{e}");
        text.contains("already open") || text.contains("Cannot acquire lock")
    };
    let server = match (args.port, ports.apiserver) {
        (Some(p), _) => start(p).await,
        (None, 0) => start(0).await,
        (None, saved) => match start(saved).await {
            Err(apiserver::StartError::Bind { .. }) => start(0).await,
            other => other,
        },
    };
    let server = match server {
        Ok(s) => s,
        Err(e) if in_use(&e) => anyhow::bail!(
            "data directory {} is in use by another `flux local up` or `flux local apiserver`",
            data_dir.display()
        ),
        Err(e) => {
            return Err(e)
                .with_context(|| format!("starting the API server in {}", data_dir.display()));
        }
    };
    ports.apiserver = server.addr.port();
    ports.save(&data_dir);
    output::action(format!("API server listening on {}", server.url));
    output::action(format!("kubeconfig: {}", kubeconfig.display()));
    eprintln!(
        "  export KUBECONFIG={}\n  kubectl get kustomizations,gitrepositories -A",
        kubeconfig.display()
    );
    let result = run_loop(
        &args,
        &data_dir,
        &server.kubeconfig,
        origin,
        branch,
        started,
    )
    .await;
    server.shutdown().await;
    result
}

async fn run_loop(
    args: &UpArgs,
    data_dir: &Path,
    kubeconfig_text: &str,
    origin: Origin,
    branch: String,
    started: Instant,
) -> anyhow::Result<()> {
    let kc = kube::config::Kubeconfig::from_yaml(kubeconfig_text)
        .context("reading the generated kubeconfig")?;
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .context("loading the generated kubeconfig")?;
    let client = kube::Client::try_from(config).context("creating the Kubernetes client")?;

    install_crds(&client).await?;
    let nss: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}
    }))?;
    nss.patch(NAMESPACE, &apply_params(), &Patch::Apply(&ns))
        .await
        .context("creating namespace flux-system")?;
    wait_served(&client).await?;

    // Controllers: every one this build implements.
    let enable: Vec<String> = controllers::runtime::manager::KNOWN_CONTROLLERS
        .iter()
        .map(|s| s.to_string())
        .collect();
    let with_ks = enable.iter().any(|c| c == "kustomize");
    let targets = Targets::new(&args.name, with_ks);
    let mut ports = Ports::load(data_dir);

    // Serve local sources on loopback, and point the objects at them before the controllers
    // start, so that a resumed run never fetches from the previous run's address.
    let (url, git_server) = match &origin {
        Origin::Url(u) => (u.clone(), None),
        Origin::Dir(s) => {
            let srv = GitHttpServer::start(&s.git_dir, &args.name, ports.git).await?;
            (srv.url.clone(), Some(srv))
        }
        Origin::Repo(g) => {
            let srv = GitHttpServer::start(g, &args.name, ports.git).await?;
            (srv.url.clone(), Some(srv))
        }
    };
    if let Some(port) = url
        .strip_prefix("http://127.0.0.1:")
        .and_then(|r| r.split('/').next())
        .and_then(|p| p.parse().ok())
        && git_server.is_some()
    {
        ports.git = port;
    }
    apply_objects(&client, args, &url, &branch, with_ks).await?;

    let loopback = |p| SocketAddr::from(([127, 0, 0, 1], p));
    let options = |storage_port| controllers::ManagerOptions {
        enable: enable.clone(),
        storage_path: data_dir.join("artifacts"),
        storage_addr: loopback(storage_port),
        metrics_addr: loopback(0),
        health_addr: loopback(0),
        runtime_namespace: NAMESPACE.into(),
        requeue_dependency: Duration::from_secs(2),
        min_retry_delay: Duration::from_millis(500),
        max_retry_delay: Duration::from_secs(30),
        allow_file_urls: true,
        ..controllers::ManagerOptions::default()
    };
    // The artifact server keeps its port across runs when it can: artifact URLs recorded in
    // the GitRepository status stay valid for the Kustomization on resume.
    let manager = match controllers::Manager::new(client.clone(), options(ports.storage))?
        .start()
        .await
    {
        Ok(m) => m,
        Err(_) if ports.storage != 0 => controllers::Manager::new(client.clone(), options(0))?
            .start()
            .await
            .context("starting the controllers")?,
        Err(e) => return Err(e).context("starting the controllers"),
    };
    if let Some(addr) = manager.storage_addr {
        ports.storage = addr.port();
    }
    ports.save(data_dir);
    output::action(format!(
        "controllers running: {} (logs: {})",
        enable.join(", "),
        log_file(data_dir).display()
    ));

    let result = async {
        output::action(format!(
            "GitRepository {NAMESPACE}/{} → {url} ({branch})",
            args.name
        ));
        if !with_ks {
            output::warning(
                "the kustomize controller is not part of this build: only the source is reconciled",
            );
        }
        let outcome = tokio::select! {
            r = wait_round(&client, &targets, args.timeout, || false) => r,
            _ = crate::controllers_cmd::shutdown_signal() => {
                output::action("interrupted, stopping");
                anyhow::bail!("interrupted before everything was ready");
            }
        };
        match outcome {
            Ok(Round::Failed(msg)) if args.once => anyhow::bail!("{msg}"),
            Ok(Round::Failed(_)) => {}
            Ok(_) => {
                output::success(format!(
                    "all ready in {:.1}s",
                    started.elapsed().as_secs_f64()
                ));
                print!("{}", status_tables(&client, &targets).await?);
            }
            Err(e) if args.once => return Err(e),
            Err(e) => output::failure(format!("{e:#}")),
        }
        if args.once {
            return Ok(());
        }
        output::action("watching for changes (Ctrl-C or SIGTERM to stop)");
        let mut last_head = local_head(&origin, &branch);
        // Whether the local source has a new commit (snapshotting a plain directory first).
        let mut changed = || {
            if let Origin::Dir(s) = &origin
                && let Err(e) = s.commit_if_changed()
            {
                output::failure(format!("{e}"));
                return false;
            }
            let head = local_head(&origin, &branch);
            if head == last_head {
                return false;
            }
            output::action(format!(
                "new commit {} on {branch}",
                head.as_deref()
                    .map(output::truncate_hex)
                    .unwrap_or_default()
            ));
            last_head = head;
            true
        };
        let mut pending = false;
        loop {
            if !pending {
                tokio::select! {
                    _ = crate::controllers_cmd::shutdown_signal() => break,
                    _ = tokio::time::sleep(RESNAPSHOT) => {}
                }
                if !changed() {
                    continue;
                }
            }
            pending = false;
            tokio::select! {
                _ = crate::controllers_cmd::shutdown_signal() => break,
                r = wait_round(&client, &targets, args.timeout, &mut changed) => match r {
                    Ok(Round::Done) => print!("{}", status_tables(&client, &targets).await?),
                    Ok(Round::Superseded) => pending = true,
                    // Already shown by the progress display.
                    Ok(Round::Failed(_)) => {}
                    Err(e) => output::failure(format!("{e:#}")),
                },
            }
        }
        output::action("stopping");
        anyhow::Ok(())
    }
    .await;
    manager
        .shutdown()
        .await
        .context("stopping the controllers")?;
    result
}

fn apply_params() -> PatchParams {
    PatchParams::apply(MANAGER).force()
}

/// Creates or updates Flux's CRDs (server-side apply, as `flux install` does).
async fn install_crds(client: &kube::Client) -> anyhow::Result<()> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in api::crds::all() {
        let name = crd.metadata.name.clone().unwrap_or_default();
        let mut value = serde_json::to_value(&crd)?;
        value["apiVersion"] = json!("apiextensions.k8s.io/v1");
        value["kind"] = json!("CustomResourceDefinition");
        crds.patch(&name, &apply_params(), &Patch::Apply(&value))
            .await
            .with_context(|| format!("installing CRD {name}"))?;
    }
    Ok(())
}

/// Waits until the Flux kinds are served (CRDs established).
async fn wait_served(client: &kube::Client) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    for kind in [FluxKind::GitRepository, FluxKind::Kustomization] {
        loop {
            match kind
                .api(client, NAMESPACE)
                .list(&ListParams::default().limit(1))
                .await
            {
                Ok(_) => break,
                Err(e) if Instant::now() > deadline => {
                    return Err(e).with_context(|| format!("waiting for the {} CRD", kind.kind()));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }
    Ok(())
}

/// Parses `--substitute` pairs over the preset `cluster_name=local`.
fn substitutions(pairs: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut vars = BTreeMap::from([("cluster_name".to_string(), "local".to_string())]);
    for p in pairs {
        let (k, v) = p
            .split_once('=')
            .with_context(|| format!("parsing --substitute '{p}': expected KEY=VALUE"))?;
        vars.insert(k.to_string(), v.to_string());
    }
    Ok(vars)
}

/// Creates or updates the GitRepository and the Kustomization.
async fn apply_objects(
    client: &kube::Client,
    args: &UpArgs,
    url: &str,
    branch: &str,
    with_ks: bool,
) -> anyhow::Result<()> {
    let interval = crate::cluster::format_go_duration(args.interval);
    let repo = json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": args.name, "namespace": NAMESPACE},
        "spec": {"interval": interval, "url": url, "ref": {"branch": branch}, "timeout": "60s"}
    });
    FluxKind::GitRepository
        .api(client, NAMESPACE)
        .patch(&args.name, &apply_params(), &Patch::Apply(&repo))
        .await
        .with_context(|| format!("applying GitRepository {NAMESPACE}/{}", args.name))?;
    if with_ks {
        let ks = json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": args.name, "namespace": NAMESPACE},
            "spec": {
                "interval": interval,
                "retryInterval": "10s",
                "path": args.path,
                "prune": true,
                "timeout": "2m0s",
                "sourceRef": {"kind": "GitRepository", "name": args.name},
                "postBuild": {"substitute": substitutions(&args.substitute)?},
            }
        });
        FluxKind::Kustomization
            .api(client, NAMESPACE)
            .patch(&args.name, &apply_params(), &Patch::Apply(&ks))
            .await
            .with_context(|| format!("applying Kustomization {NAMESPACE}/{}", args.name))?;
    }
    Ok(())
}

/// Loopback ports kept in the data directory, reused by the next run when free.
#[derive(Default)]
struct Ports {
    apiserver: u16,
    git: u16,
    storage: u16,
}

impl Ports {
    fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("ports.json")
    }

    fn load(data_dir: &Path) -> Self {
        let v: Value = std::fs::read_to_string(Self::path(data_dir))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null);
        let port = |k: &str| {
            v[k].as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .unwrap_or(0)
        };
        Self {
            apiserver: port("apiserver"),
            git: port("git"),
            storage: port("storage"),
        }
    }

    /// Best effort: a lost file only costs the next run its stable ports.
    fn save(&self, data_dir: &Path) {
        let _ = std::fs::write(
            Self::path(data_dir),
            json!({"apiserver": self.apiserver, "git": self.git, "storage": self.storage})
                .to_string(),
        );
    }
}

/// The objects `up` waits for.
struct Targets {
    name: String,
    with_ks: bool,
}

impl Targets {
    fn new(name: &str, with_ks: bool) -> Self {
        Self {
            name: name.to_string(),
            with_ks,
        }
    }
}

/// Progress display: indicatif spinners on a terminal, plain lines otherwise.
struct Progress {
    bars: Option<(indicatif::MultiProgress, Vec<indicatif::ProgressBar>)>,
    last: Vec<String>,
}

impl Progress {
    fn new(labels: &[String]) -> Self {
        let bars = std::io::stderr().is_terminal().then(|| {
            let mp = indicatif::MultiProgress::new();
            let style = indicatif::ProgressStyle::with_template("{spinner} {prefix} {wide_msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
            let bars = labels
                .iter()
                .map(|l| {
                    let pb = mp.add(indicatif::ProgressBar::new_spinner());
                    pb.set_style(style.clone());
                    pb.set_prefix(l.clone());
                    pb.enable_steady_tick(Duration::from_millis(100));
                    pb
                })
                .collect();
            (mp, bars)
        });
        Self {
            bars,
            last: vec![String::new(); labels.len()],
        }
    }

    fn update(&mut self, i: usize, label: &str, msg: &str) {
        match &self.bars {
            Some((_, bars)) => bars[i].set_message(msg.to_string()),
            None if self.last[i] != msg => output::waiting(format!("{label}: {msg}")),
            None => {}
        }
        self.last[i] = msg.to_string();
    }

    fn finish(&mut self, i: usize, label: &str, ok: bool, msg: &str) {
        let mark = if ok { "✔" } else { "✗" };
        let line = format!("{mark} {label}: {msg}");
        match &self.bars {
            // The outcome is a plain line above the live spinners, so it stays on screen.
            Some((mp, bars)) => {
                bars[i].finish_and_clear();
                if mp.println(&line).is_err() {
                    eprintln!("{line}");
                }
            }
            None => eprintln!("{line}"),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some((mp, bars)) = &self.bars {
            for b in bars {
                b.finish_and_clear();
            }
            let _ = mp.clear();
        }
    }
}

/// One line of a possibly multi-line message.
fn one_line(s: &str) -> String {
    s.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Requests a reconciliation of the GitRepository, then (once it is Ready) of the
/// Kustomization, and waits until both handled the request at the source's revision.
async fn wait_round(
    client: &kube::Client,
    targets: &Targets,
    timeout: Duration,
    mut superseded: impl FnMut() -> bool,
) -> anyhow::Result<Round> {
    let deadline = Instant::now() + timeout;
    let mut next_check = Instant::now() + RESNAPSHOT;
    let repo_api = FluxKind::GitRepository.api(client, NAMESPACE);
    let ks_api = FluxKind::Kustomization.api(client, NAMESPACE);
    let repo_label = format!("GitRepository/{NAMESPACE}/{}", targets.name);
    let ks_label = format!("Kustomization/{NAMESPACE}/{}", targets.name);
    let mut labels = vec![repo_label.clone()];
    if targets.with_ks {
        labels.push(ks_label.clone());
    }
    let repo_token = now_rfc3339();
    request(&repo_api, &targets.name, &repo_token).await?;
    let mut progress = Progress::new(&labels);
    let mut repo_done = false;
    let mut ks_token: Option<String> = None;
    let mut last_msgs = vec![String::new(); labels.len()];
    loop {
        if !repo_done {
            let obj = get(&repo_api, &targets.name).await?;
            let (state, msg) = judge(&obj, &repo_token, None);
            last_msgs[0] = msg.clone();
            match state {
                State::Ready => {
                    progress.finish(0, &repo_label, true, &msg);
                    repo_done = true;
                    if !targets.with_ks {
                        return Ok(Round::Done);
                    }
                    let token = now_rfc3339();
                    request(&ks_api, &targets.name, &token).await?;
                    ks_token = Some(token);
                }
                State::Failed => {
                    progress.finish(0, &repo_label, false, &msg);
                    return Ok(Round::Failed(format!("{repo_label}: {}", one_line(&msg))));
                }
                State::Waiting => progress.update(0, &repo_label, &msg),
            }
        }
        if targets.with_ks {
            match &ks_token {
                None => progress.update(1, &ks_label, "waiting for the source"),
                Some(token) => {
                    let rev =
                        get(&repo_api, &targets.name).await?["status"]["artifact"]["revision"]
                            .as_str()
                            .map(str::to_string);
                    let obj = get(&ks_api, &targets.name).await?;
                    let (state, msg) = judge(&obj, token, rev.as_deref());
                    last_msgs[1] = msg.clone();
                    match state {
                        State::Ready => {
                            progress.finish(1, &ks_label, true, &msg);
                            return Ok(Round::Done);
                        }
                        State::Failed => {
                            progress.finish(1, &ks_label, false, &msg);
                            return Ok(Round::Failed(format!("{ks_label}: {}", one_line(&msg))));
                        }
                        State::Waiting => progress.update(1, &ks_label, &msg),
                    }
                }
            }
        }
        if Instant::now() > next_check {
            next_check = Instant::now() + RESNAPSHOT;
            if superseded() {
                for (i, label) in labels.iter().enumerate() {
                    progress.finish(i, label, false, "superseded by a new commit");
                }
                return Ok(Round::Superseded);
            }
        }
        if Instant::now() > deadline {
            let (i, label) = if repo_done {
                (1, &ks_label)
            } else {
                (0, &repo_label)
            };
            progress.finish(i, label, false, &last_msgs[i]);
            return Ok(Round::Failed(format!(
                "timeout waiting for {label} to become ready: {}",
                one_line(&last_msgs[i])
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn get(api: &Api<DynamicObject>, name: &str) -> anyhow::Result<Value> {
    let obj = api
        .get(name)
        .await
        .with_context(|| format!("reading {name}"))?;
    Ok(crate::get::to_value(&obj))
}

/// Sets `reconcile.fluxcd.io/requestedAt` (as `flux reconcile` does).
async fn request(api: &Api<DynamicObject>, name: &str, token: &str) -> anyhow::Result<()> {
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Merge(
            json!({"metadata": {"annotations": {api::meta::RECONCILE_REQUEST_ANNOTATION: token}}}),
        ),
    )
    .await
    .with_context(|| format!("requesting a reconciliation of {name}"))?;
    Ok(())
}

/// How a round ended (other than with an error).
#[derive(Debug, PartialEq)]
enum Round {
    /// Everything is Ready.
    Done,
    /// The local source changed before the round finished; a new round starts.
    Superseded,
    /// An object failed or the timeout passed: the object and its Ready message, one line.
    Failed(String),
}

#[derive(Debug, PartialEq)]
enum State {
    Waiting,
    Ready,
    Failed,
}

/// Judges an object for one round: it must have handled `token` (or, for controllers that do
/// not record it, attempted `revision`), then its kstatus readiness decides.
fn judge(obj: &Value, token: &str, revision: Option<&str>) -> (State, String) {
    let status = &obj["status"];
    let handled = status["lastHandledReconcileAt"].as_str();
    let attempted = status["lastAttemptedRevision"].as_str();
    let current = match (handled, revision) {
        (Some(h), Some(rev)) => h == token && attempted.is_none_or(|a| a == rev),
        (Some(h), None) => h == token,
        (None, Some(rev)) => attempted == Some(rev),
        (None, None) => false,
    };
    let msg = condition(obj, "Ready")
        .and_then(|c| c["message"].as_str())
        .filter(|m| !m.is_empty())
        .unwrap_or("reconciling")
        .to_string();
    if !current {
        return (State::Waiting, msg);
    }
    // The request was handled at the source's revision: the conditions are the outcome.
    // Flux keeps `Reconciling` (reason ProgressingWithRetry) and the old observedGeneration on
    // failure, so kstatus alone would call a failed attempt "in progress" forever.
    if let Some(c) = condition(obj, "Stalled")
        && c["status"] == "True"
    {
        let m = c["message"].as_str().unwrap_or_default();
        return (State::Failed, if m.is_empty() { msg } else { m.into() });
    }
    match condition(obj, "Ready").and_then(|c| c["status"].as_str()) {
        Some("True") if readiness(obj) == Readiness::Ready => (State::Ready, msg),
        Some("False") => (State::Failed, msg),
        _ => (State::Waiting, msg),
    }
}

/// An object once no reconciliation is in flight (e.g. the one a handled request annotation
/// triggers again): Ready is True or False and two reads in a row agree; at most 10 s.
async fn settled(api: &Api<DynamicObject>, name: &str) -> anyhow::Result<Value> {
    let until = Instant::now() + Duration::from_secs(10);
    let mut last = get(api, name).await?;
    loop {
        tokio::time::sleep(POLL).await;
        let cur = get(api, name).await?;
        let ready = condition(&cur, "Ready").and_then(|c| c["status"].as_str());
        let same = cur["metadata"]["resourceVersion"] == last["metadata"]["resourceVersion"];
        if (same && matches!(ready, Some("True") | Some("False"))) || Instant::now() > until {
            return Ok(cur);
        }
        last = cur;
    }
}

/// The Flux objects' status table and the applied objects from the Kustomization inventory,
/// read once they settled.
async fn status_tables(client: &kube::Client, targets: &Targets) -> anyhow::Result<String> {
    let mut kinds = vec![FluxKind::GitRepository];
    if targets.with_ks {
        kinds.push(FluxKind::Kustomization);
    }
    let mut rows = Vec::new();
    let mut inventory = Vec::new();
    for kind in kinds {
        let obj = settled(&kind.api(client, NAMESPACE), &targets.name).await?;
        let (ready, msg) = crate::kinds::ready_and_message(&obj);
        rows.push(vec![
            format!("{}/{}", kind.kind().to_lowercase(), targets.name),
            kind.revision(&obj),
            crate::output::title_bool(crate::kinds::is_suspended(&obj)),
            ready,
            one_line(&msg),
        ]);
        if kind == FluxKind::Kustomization {
            inventory = obj["status"]["inventory"]["entries"]
                .as_array()
                .cloned()
                .unwrap_or_default();
        }
    }
    let mut out = String::from("\n");
    out.push_str(&output::table(
        Some(&["name", "revision", "suspended", "ready", "message"]),
        &rows,
    ));
    if targets.with_ks {
        let mut rows: Vec<Vec<String>> = Vec::new();
        for e in &inventory {
            let (Some(id), Some(version)) = (e["id"].as_str(), e["v"].as_str()) else {
                continue;
            };
            let Some((ns, name, group, kind)) = crate::tree::parse_id(id) else {
                continue;
            };
            let (status, message) = applied_status(client, id, version).await;
            rows.push(vec![
                kind,
                if ns.is_empty() { "-".into() } else { ns },
                name,
                if group.is_empty() {
                    version.to_string()
                } else {
                    format!("{group}/{version}")
                },
                status,
                one_line(&message),
            ]);
        }
        out.push('\n');
        if rows.is_empty() {
            out.push_str("no objects applied\n");
        } else {
            out.push_str(&output::table(
                Some(&[
                    "kind",
                    "namespace",
                    "name",
                    "api version",
                    "status",
                    "message",
                ]),
                &rows,
            ));
        }
    }
    Ok(out)
}

/// kstatus of an applied object (as the Kustomization's health assessment sees it): status
/// and message, `NotFound` when it is gone, `Unknown` when it cannot be read.
async fn applied_status(client: &kube::Client, id: &str, version: &str) -> (String, String) {
    let Ok(meta) = ssa::ObjMetadata::parse_inventory_id(id, version) else {
        return ("Unknown".into(), format!("invalid inventory id {id}"));
    };
    let gvk = kube::api::GroupVersionKind::gvk(&meta.group, &meta.version, &meta.kind);
    let (resource, caps) = match kube::discovery::pinned_kind(client, &gvk).await {
        Ok(r) => r,
        Err(e) => return ("Unknown".into(), e.to_string()),
    };
    let api: Api<DynamicObject> = match caps.scope {
        kube::discovery::Scope::Namespaced => {
            Api::namespaced_with(client.clone(), &meta.namespace, &resource)
        }
        kube::discovery::Scope::Cluster => Api::all_with(client.clone(), &resource),
    };
    match api.get_opt(&meta.name).await {
        Ok(Some(obj)) => {
            let r = ssa::kstatus::compute(&crate::get::to_value(&obj));
            (r.status.to_string(), r.message)
        }
        Ok(None) => ("NotFound".into(), String::new()),
        Err(e) => ("Unknown".into(), e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_needs_the_request_handled_at_the_source_revision() {
        let mut obj = json!({"metadata": {"generation": 1}, "status": {"observedGeneration": 1,
            "lastHandledReconcileAt": "t0", "lastAttemptedRevision": "main@sha1:a",
            "conditions": [{"type": "Ready", "status": "True", "message": "Applied revision: main@sha1:a"}]}});
        assert_eq!(judge(&obj, "t1", Some("main@sha1:a")).0, State::Waiting);
        assert_eq!(judge(&obj, "t0", Some("main@sha1:b")).0, State::Waiting);
        assert_eq!(
            judge(&obj, "t0", Some("main@sha1:a")),
            (State::Ready, "Applied revision: main@sha1:a".into())
        );
        obj["status"]["conditions"] = json!([{"type": "Ready", "status": "False", "message": "kustomization path not found"}]);
        assert_eq!(
            judge(&obj, "t0", Some("main@sha1:a")),
            (State::Failed, "kustomization path not found".into())
        );
        // Flux keeps Reconciling=True (ProgressingWithRetry) on failure: still a failure.
        obj["status"]["conditions"] = json!([
            {"type": "Ready", "status": "False", "message": "build failed"},
            {"type": "Reconciling", "status": "True", "reason": "ProgressingWithRetry"}]);
        assert_eq!(
            judge(&obj, "t0", Some("main@sha1:a")),
            (State::Failed, "build failed".into())
        );
        obj["status"]["conditions"] = json!([{"type": "Ready", "status": "Unknown", "message": "Reconciliation in progress"}]);
        assert_eq!(judge(&obj, "t0", Some("main@sha1:a")).0, State::Waiting);
        obj["status"]["conditions"] = json!([{"type": "Ready", "status": "False", "message": "kustomization path not found"}]);
        // A controller that does not record the request token: the attempted revision decides.
        obj["status"]
            .as_object_mut()
            .unwrap()
            .remove("lastHandledReconcileAt");
        assert_eq!(judge(&obj, "t9", Some("main@sha1:a")).0, State::Failed);
    }

    #[test]
    fn substitutions_preset_cluster_name_and_parse_pairs() {
        let v = substitutions(&["env=dev".into(), "cluster_name=ci".into()]).unwrap();
        assert_eq!(v["cluster_name"], "ci");
        assert_eq!(v["env"], "dev");
        assert!(substitutions(&["nope".into()]).is_err());
        assert_eq!(one_line("a\n b\n\n"), "a; b");
    }
}
