//! `flux logs`: the controllers' JSON logs, formatted and filtered as upstream prints them.
//! Local mode (`--data-dir`) reads the log file `flux local up` writes; otherwise the logs of
//! the Flux controller pods in `--flux-namespace` are read through the API.

use std::io::{BufRead, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use futures::{AsyncBufReadExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, LogParams};
use serde_json::Value;

use crate::cluster::{KubeArgs, block_on, parse_duration};

/// `flux logs` arguments.
#[derive(Args)]
pub struct LogsArgs {
    /// Displays logs for objects across all namespaces.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
    /// The namespace where the Flux components are running.
    #[arg(long, default_value = "flux-system")]
    flux_namespace: String,
    /// Specifies if the logs should be streamed.
    #[arg(short = 'f', long)]
    follow: bool,
    /// Displays errors and information logs by level (debug, info, error).
    #[arg(long)]
    level: Option<String>,
    /// Displays logs for a specific kind (e.g. Kustomization).
    #[arg(long)]
    kind: Option<String>,
    /// Specifies the name of the object logs to be displayed.
    #[arg(long)]
    name: Option<String>,
    /// Lines of recent log file to display (-1: all).
    #[arg(long, default_value_t = -1, allow_hyphen_values = true)]
    tail: i64,
    /// Only return logs newer than a relative duration like 5s, 2m, or 3h.
    #[arg(long, value_parser = parse_duration)]
    since: Option<Duration>,
    /// Local mode: read the in-process controllers' log of `flux local up` with this data
    /// directory instead of pod logs.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Local mode with the default data directory of `flux local up`.
    #[arg(long)]
    local: bool,
    #[command(flatten)]
    kube: KubeArgs,
}

/// The filters of one invocation.
struct Filter {
    level: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
    since: Option<k8s_openapi::jiff::Timestamp>,
}

impl Filter {
    fn from_args(args: &LogsArgs) -> Self {
        Self {
            level: args.level.clone(),
            kind: args.kind.clone(),
            name: args.name.clone(),
            namespace: (!args.all_namespaces).then(|| args.kube.namespace.clone()),
            since: args.since.and_then(|d| {
                let now = crate::cluster::now_timestamp();
                let span = k8s_openapi::jiff::SignedDuration::try_from(d).ok()?;
                now.checked_sub(span).ok()
            }),
        }
    }

    /// The formatted line for a JSON log line that passes the filters, as upstream's
    /// template prints it: `<ts> <level> <Kind>[/<name>.<namespace>] - <msg> <error>`.
    fn format(&self, line: &str) -> Option<String> {
        let line = line.trim();
        if !line.starts_with('{') {
            return None;
        }
        let v: Value = serde_json::from_str(line).ok()?;
        let s = |k: &str| v[k].as_str().unwrap_or_default();
        let kind = match s("reconciler kind") {
            "" => s("controllerKind"),
            k => k,
        };
        if self.level.as_deref().is_some_and(|want| s("level") != want) {
            return None;
        }
        if let Some(want) = &self.kind
            && !want.eq_ignore_ascii_case(s("reconciler kind"))
            && !want.eq_ignore_ascii_case(s("controllerKind"))
        {
            return None;
        }
        if let Some(want) = &self.name
            && !want.eq_ignore_ascii_case(s("name"))
        {
            return None;
        }
        if let Some(want) = &self.namespace
            && !want.eq_ignore_ascii_case(s("namespace"))
        {
            return None;
        }
        if let Some(since) = self.since
            && let Ok(ts) = s("ts").parse::<k8s_openapi::jiff::Timestamp>()
            && ts < since
        {
            return None;
        }
        let object = if s("name").is_empty() {
            String::new()
        } else {
            format!("/{}.{}", s("name"), s("namespace"))
        };
        Some(format!(
            "{} {} {kind}{object} - {} {}",
            s("ts"),
            s("level"),
            s("msg"),
            s("error")
        ))
    }
}

/// Runs `flux logs`.
pub fn run(args: LogsArgs) -> anyhow::Result<()> {
    let filter = Filter::from_args(&args);
    if args.local || args.data_dir.is_some() {
        let dir = args
            .data_dir
            .clone()
            .unwrap_or_else(crate::local_up::default_data_dir);
        return local(
            &crate::local_up::log_file(&dir),
            &filter,
            args.tail,
            args.follow,
        );
    }
    block_on(async move {
        let cluster = args.kube.connect().await?;
        // As upstream: the Flux Deployments, then one Pod of each (a running one first).
        let deployments: Api<Deployment> =
            Api::namespaced(cluster.client.clone(), &args.flux_namespace);
        let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &args.flux_namespace);
        let list = deployments
            .list(&ListParams::default().labels("app.kubernetes.io/part-of=flux"))
            .await
            .map_err(|e| cluster.err(e))?;
        let mut chosen = Vec::new();
        for d in &list.items {
            let labels = d
                .spec
                .as_ref()
                .and_then(|s| s.template.metadata.as_ref())
                .and_then(|m| m.labels.clone())
                .unwrap_or_default();
            let selector: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let mut found = pods
                .list(&ListParams::default().labels(&selector.join(",")))
                .await
                .map_err(|e| cluster.err(e))?
                .items;
            found.sort_by_key(|p| {
                p.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Running")
            });
            if let Some(p) = found.into_iter().next() {
                chosen.push(p.metadata.name.unwrap_or_default());
            }
        }
        anyhow::ensure!(
            !chosen.is_empty(),
            "no Flux pods found in namespace {}",
            args.flux_namespace
        );
        let params = LogParams {
            container: Some("manager".into()),
            follow: args.follow,
            tail_lines: (args.tail >= 0).then_some(args.tail),
            since_seconds: args.since.map(|d| d.as_secs() as i64),
            ..LogParams::default()
        };
        let mut streams = Vec::new();
        for name in &chosen {
            let stream = pods
                .log_stream(name, &params)
                .await
                .map_err(|e| cluster.err(e))?;
            streams.push(stream.lines());
        }
        let mut merged = futures::stream::select_all(streams);
        while let Some(line) = merged.try_next().await.context("reading controller logs")? {
            if let Some(out) = filter.format(&line) {
                println!("{out}");
            }
        }
        Ok(())
    })
}

/// Local mode: prints the filtered tail of the log file, then follows it if asked.
fn local(path: &std::path::Path, filter: &Filter, tail: i64, follow: bool) -> anyhow::Result<()> {
    let file = std::fs::File::open(path).with_context(|| {
        format!(
            "opening {} (has `flux local up` run with this data directory?)",
            path.display()
        )
    })?;
    let mut reader = std::io::BufReader::new(file);
    let mut lines: Vec<String> = Vec::new();
    let mut buf = String::new();
    while reader.read_line(&mut buf).context("reading the log file")? > 0 {
        lines.push(std::mem::take(&mut buf));
    }
    // `--tail` counts log lines before filtering, as the pod log API does upstream.
    let skip = if tail >= 0 {
        lines.len().saturating_sub(tail as usize)
    } else {
        0
    };
    for l in &lines[skip..] {
        if let Some(out) = filter.format(l) {
            println!("{out}");
        }
    }
    if !follow {
        return Ok(());
    }
    let mut pos = reader
        .stream_position()
        .context("reading the log file position")?;
    loop {
        std::thread::sleep(Duration::from_millis(250));
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if len < pos {
            // Truncated or replaced: start over.
            pos = 0;
        }
        if len == pos {
            continue;
        }
        let mut f = std::fs::File::open(path).context("reopening the log file")?;
        f.seek(SeekFrom::Start(pos))
            .context("seeking the log file")?;
        let mut r = std::io::BufReader::new(f);
        loop {
            buf.clear();
            let n = r.read_line(&mut buf).context("reading the log file")?;
            // Only whole lines; a partial last line is read again next time.
            if n == 0 || !buf.ends_with('\n') {
                break;
            }
            pos += n as u64;
            if let Some(out) = filter.format(&buf) {
                println!("{out}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter() -> Filter {
        Filter {
            level: None,
            kind: None,
            name: None,
            namespace: Some("flux-system".into()),
            since: None,
        }
    }

    const LINE: &str = r#"{"level":"info","ts":"2026-01-01T00:00:00.000Z","msg":"stored artifact","controllerKind":"GitRepository","name":"podinfo","namespace":"flux-system"}"#;

    #[test]
    fn formats_like_upstream_and_filters() {
        let f = filter();
        assert_eq!(
            f.format(LINE).unwrap(),
            "2026-01-01T00:00:00.000Z info GitRepository/podinfo.flux-system - stored artifact "
        );
        let err = r#"{"level":"error","ts":"t","msg":"Reconciler error","error":"boom","controllerKind":"Kustomization","name":"a","namespace":"flux-system"}"#;
        assert_eq!(
            f.format(err).unwrap(),
            "t error Kustomization/a.flux-system - Reconciler error boom"
        );
        // Lines about no object belong to no namespace: shown with -A only.
        let manager = r#"{"level":"info","ts":"t","msg":"starting controllers"}"#;
        assert!(f.format(manager).is_none());
        let mut all = filter();
        all.namespace = None;
        assert_eq!(
            all.format(manager).unwrap(),
            "t info  - starting controllers "
        );
        let mut f = filter();
        f.kind = Some("kustomization".into());
        assert!(f.format(LINE).is_none());
        assert!(f.format(err).is_some());
        let mut f = filter();
        f.level = Some("error".into());
        assert!(f.format(LINE).is_none());
        let mut f = filter();
        f.name = Some("PODINFO".into());
        assert!(f.format(LINE).is_some());
        let mut f = filter();
        f.namespace = Some("apps".into());
        assert!(f.format(LINE).is_none());
        assert!(f.format("not json").is_none());
    }
}
