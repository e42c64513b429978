//! Connection to the cluster for the everyday commands: the global kubeconfig flags, the kube-rs
//! client, readable one-line errors, Go-style durations and the async runtime.

use clap::Args;
use kube::config::{KubeConfigOptions, Kubeconfig};
use std::path::PathBuf;
use std::time::Duration;

/// Flags every cluster command takes (upstream's persistent root flags).
#[derive(Args, Clone, Debug)]
pub struct KubeArgs {
    /// Path to the kubeconfig file.
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The name of the kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The namespace scope for this operation.
    #[arg(
        short = 'n',
        long,
        global = true,
        env = "FLUX_SYSTEM_NAMESPACE",
        default_value = "flux-system"
    )]
    pub namespace: String,
    /// Timeout for this operation.
    #[arg(long, global = true, default_value = "5m0s", value_parser = parse_duration)]
    pub timeout: Duration,
}

/// A connected client plus the flags it came from.
pub struct Cluster {
    /// The kube-rs client.
    pub client: kube::Client,
    /// Namespace from `-n`.
    pub namespace: String,
    /// Overall deadline from `--timeout`.
    pub timeout: Duration,
    /// Server URL, for error messages.
    pub url: String,
}

impl KubeArgs {
    /// Builds a client from `--kubeconfig`/`--context` (or `$KUBECONFIG`, `~/.kube/config`,
    /// in-cluster config, as kubectl does).
    pub async fn connect(&self) -> anyhow::Result<Cluster> {
        let opts = KubeConfigOptions {
            context: self.context.clone(),
            ..Default::default()
        };
        let config = if let Some(path) = &self.kubeconfig {
            let kc = Kubeconfig::read_from(path)
                .map_err(|e| anyhow::anyhow!("reading kubeconfig {}: {}", path.display(), e))?;
            kube::Config::from_custom_kubeconfig(kc, &opts)
                .await
                .map_err(|e| anyhow::anyhow!("loading kubeconfig {}: {}", path.display(), e))?
        } else if self.context.is_some() {
            kube::Config::from_kubeconfig(&opts)
                .await
                .map_err(|e| anyhow::anyhow!("loading kubeconfig: {e}"))?
        } else {
            kube::Config::infer()
                .await
                .map_err(|e| anyhow::anyhow!("loading kubeconfig: {e}"))?
        };
        let url = config.cluster_url.to_string();
        let url = url.trim_end_matches('/').to_string();
        let client = kube::Client::try_from(config)
            .map_err(|e| anyhow::anyhow!("creating the Kubernetes client: {}", root_cause(&e)))?;
        Ok(Cluster {
            client,
            namespace: self.namespace.clone(),
            timeout: self.timeout,
            url,
        })
    }
}

impl Cluster {
    /// Turns a client error into one readable line: the API server's own message for API
    /// errors (as kubectl and upstream flux print them), the root cause for transport errors.
    pub fn err(&self, e: kube::Error) -> anyhow::Error {
        match e {
            kube::Error::Api(status) => {
                if status.message.is_empty() {
                    anyhow::anyhow!("{} (HTTP {})", status.reason, status.code)
                } else {
                    anyhow::anyhow!("{}", status.message)
                }
            }
            other => anyhow::anyhow!(
                "unable to reach the Kubernetes API server at {}: {}",
                self.url,
                root_cause(&other)
            ),
        }
    }
}

impl Cluster {
    /// Like [`Cluster::err`], naming the kind when the API does not serve it at all (a 404
    /// without an object name: the CRD is not installed), as upstream's "no matches for kind".
    pub fn err_kind(&self, e: kube::Error, kind: crate::kinds::FluxKind) -> anyhow::Error {
        if let kube::Error::Api(status) = &e
            && status.code == 404
            && status.details.as_ref().is_none_or(|d| d.name.is_empty())
        {
            let r = kind.resource();
            return anyhow::anyhow!(
                "no matches for kind \"{}\" in version \"{}\" (are the Flux CRDs installed?)",
                r.kind,
                r.api_version
            );
        }
        self.err(e)
    }
}

/// Whether an error is the API's 404.
pub fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

/// The innermost message of an error chain (the useful part of transport errors).
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cur: &dyn std::error::Error = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Runs a future on a fresh multi-threaded runtime (the commands are otherwise synchronous).
pub fn block_on<F: std::future::Future<Output = anyhow::Result<()>>>(f: F) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("starting the async runtime: {e}"))?;
    rt.block_on(f)
}

/// Parses a Go duration (`1m`, `1m30s`, `1.5h`, `500ms`), as upstream's flags accept.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    api::meta::duration::parse(s).ok_or_else(|| format!("invalid duration \"{s}\""))
}

/// Formats a duration as Go's `time.Duration.String()` does (`1m0s`, `1h30m0s`, `500ms`).
pub fn format_go_duration(d: Duration) -> String {
    api::meta::duration::format(d)
}

/// Re-spells a duration string the way a Go round trip through `metav1.Duration` prints it
/// (`5m` → `5m0s`); leaves anything unparsable alone.
pub fn normalize_duration(s: &str) -> String {
    match parse_duration(s) {
        Ok(d) => format_go_duration(d),
        Err(_) => s.to_string(),
    }
}

/// The current time as RFC 3339 with nanoseconds (Go's `time.RFC3339Nano`).
pub fn now_rfc3339() -> String {
    now_timestamp().to_string()
}

/// The current time.
pub fn now_timestamp() -> k8s_openapi::jiff::Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    k8s_openapi::jiff::Timestamp::new(d.as_secs() as i64, d.subsec_nanos() as i32)
        .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_round_trip_as_go_prints_them() {
        for (input, want) in [
            ("1m", "1m0s"),
            ("60s", "1m0s"),
            ("5m", "5m0s"),
            ("1h", "1h0m0s"),
            ("90m", "1h30m0s"),
            ("2m30s", "2m30s"),
            ("1.5s", "1.5s"),
            ("500ms", "500ms"),
            ("10h0m0s", "10h0m0s"),
            ("0", "0s"),
        ] {
            assert_eq!(normalize_duration(input), want, "{input}");
        }
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("m").is_err());
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
    }
}

/// Commands that take [`KubeArgs`] (the cluster commands).
const CLUSTER_COMMANDS: &[&str] = &[
    "get",
    "reconcile",
    "suspend",
    "resume",
    "create",
    "delete",
    "export",
    "tree",
    "events",
    "check",
    "logs",
    "build",
    "diff",
];

/// Lets the kubeconfig flags come before the command, as upstream's persistent root flags do
/// (`flux -n apps --context prod get ks`): moves them right after the command name when that
/// command is a cluster command. Other commands keep their own flags (e.g. `helm template -n`).
pub fn hoist_global_flags(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    const WITH_VALUE: &[&str] = &[
        "-n",
        "--namespace",
        "--kubeconfig",
        "--context",
        "--timeout",
    ];
    let mut it = args.into_iter();
    let Some(bin) = it.next() else {
        return Vec::new();
    };
    let rest: Vec<std::ffi::OsString> = it.collect();
    let mut hoisted = Vec::new();
    let mut i = 0;
    while i < rest.len() {
        let a = rest[i].to_string_lossy();
        if WITH_VALUE.contains(&a.as_ref()) && i + 1 < rest.len() {
            hoisted.push(rest[i].clone());
            hoisted.push(rest[i + 1].clone());
            i += 2;
        } else if WITH_VALUE
            .iter()
            .any(|f| f.starts_with("--") && a.starts_with(&format!("{f}=")))
        {
            hoisted.push(rest[i].clone());
            i += 1;
        } else {
            break;
        }
    }
    let is_cluster_cmd = rest
        .get(i)
        .is_some_and(|c| CLUSTER_COMMANDS.contains(&c.to_string_lossy().as_ref()));
    if hoisted.is_empty() || !is_cluster_cmd {
        return std::iter::once(bin).chain(rest).collect();
    }
    let mut out = vec![bin, rest[i].clone()];
    out.extend(hoisted);
    out.extend(rest[i + 1..].iter().cloned());
    out
}

#[cfg(test)]
mod hoist_tests {
    use super::hoist_global_flags;

    fn run(args: &[&str]) -> Vec<String> {
        hoist_global_flags(args.iter().map(Into::into).collect())
            .into_iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn leading_kube_flags_move_after_cluster_commands_only() {
        assert_eq!(
            run(&["flux", "-n", "apps", "--context=prod", "get", "ks"]),
            ["flux", "get", "-n", "apps", "--context=prod", "ks"]
        );
        assert_eq!(
            run(&["flux", "get", "ks", "-n", "x"]),
            ["flux", "get", "ks", "-n", "x"]
        );
        assert_eq!(
            run(&["flux", "-n", "x", "helm", "template"]),
            ["flux", "-n", "x", "helm", "template"]
        );
        assert_eq!(run(&["flux"]), ["flux"]);
    }
}
