//! `flux events`: core/v1 Events about Flux objects, oldest first, with upstream's columns
//! (LAST SEEN, TYPE, REASON, OBJECT, MESSAGE; NAMESPACE first under `-A`).

use crate::cluster::{KubeArgs, block_on, now_timestamp};
use crate::output;
use clap::Args;
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ListParams, WatchEvent, WatchParams};

/// `flux events` arguments.
#[derive(Args)]
pub struct EventsArgs {
    #[command(flatten)]
    kube: KubeArgs,
    /// Display events from all namespaces.
    #[arg(short = 'A', long = "all-namespaces")]
    all_namespaces: bool,
    /// Get the events for a particular object ('<kind>/<name>') or kind ('<kind>').
    #[arg(long = "for", value_name = "KIND/NAME")]
    for_object: Option<String>,
    /// Filter events by type (Normal, Warning), comma separated.
    #[arg(long, value_delimiter = ',')]
    types: Vec<String>,
    /// Stream new events as they happen (until --timeout).
    #[arg(short = 'w', long)]
    watch: bool,
}

/// Runs `flux events`.
pub fn run(args: EventsArgs) -> anyhow::Result<()> {
    // `--for Kind/name` selects one object, `--for Kind` every object of the kind.
    let wanted = match &args.for_object {
        Some(f) => match f.split_once('/') {
            Some((k, n)) if !k.is_empty() && !n.is_empty() => {
                Some((k.to_string(), Some(n.to_string())))
            }
            None if !f.is_empty() => Some((f.clone(), None)),
            _ => anyhow::bail!("invalid --for '{f}', must be in the format <kind>[/<name>]"),
        },
        None => None,
    };
    for t in &args.types {
        if !t.eq_ignore_ascii_case("Normal") && !t.eq_ignore_ascii_case("Warning") {
            anyhow::bail!("type '{t}' not supported, valid types are: Normal, Warning");
        }
    }
    let filter = Filter {
        wanted,
        types: args.types.clone(),
    };
    block_on(async move {
        let cluster = args.kube.connect().await?;
        let api: Api<Event> = if args.all_namespaces {
            Api::all(cluster.client.clone())
        } else {
            Api::namespaced(cluster.client.clone(), &cluster.namespace)
        };
        let list = api
            .list(&ListParams::default())
            .await
            .map_err(|e| cluster.err(e))?;
        let mut events: Vec<&Event> = list.items.iter().filter(|e| filter.keeps(e)).collect();
        let mut h = vec!["Last seen", "Type", "Reason", "Object", "Message"];
        if args.all_namespaces {
            h.insert(0, "Namespace");
        }
        if events.is_empty() && !args.watch {
            output::failure(format!(
                "no events found in {} namespace",
                if args.all_namespaces {
                    "any".to_string()
                } else {
                    format!("\"{}\"", cluster.namespace)
                }
            ));
            return Ok(());
        }
        events.sort_by_key(|e| last_seen(e));
        let rows: Vec<Vec<String>> = events.iter().map(|e| row(e, args.all_namespaces)).collect();
        print!("{}", output::table(Some(&h), &rows));
        if !args.watch {
            return Ok(());
        }
        // Stream new and updated events, one row each, until the timeout.
        let rv = list.metadata.resource_version.unwrap_or_default();
        let watch = async {
            use futures::TryStreamExt;
            use std::io::Write;
            let mut rv = rv;
            loop {
                let stream = api
                    .watch(&WatchParams::default().timeout(290), &rv)
                    .await
                    .map_err(|e| cluster.err(e))?;
                futures::pin_mut!(stream);
                while let Some(ev) = stream.try_next().await.map_err(|e| cluster.err(e))? {
                    match ev {
                        WatchEvent::Added(e) | WatchEvent::Modified(e) => {
                            if let Some(v) = &e.metadata.resource_version {
                                rv = v.clone();
                            }
                            if filter.keeps(&e) {
                                print!("{}", output::table(None, &[row(&e, args.all_namespaces)]));
                                let _ = std::io::stdout().flush();
                            }
                        }
                        WatchEvent::Deleted(_) => {}
                        WatchEvent::Bookmark(b) => rv = b.metadata.resource_version,
                        WatchEvent::Error(e) => anyhow::bail!("watch failed: {}", e.message),
                    }
                }
            }
        };
        match tokio::time::timeout(cluster.timeout, watch).await {
            Ok(r) => r,
            Err(_) => Ok(()),
        }
    })
}

/// Which events to show.
struct Filter {
    /// `--for`: kind and optional name.
    wanted: Option<(String, Option<String>)>,
    /// `--types`.
    types: Vec<String>,
}

impl Filter {
    fn keeps(&self, e: &Event) -> bool {
        let io = &e.involved_object;
        let matches_for = match &self.wanted {
            Some((k, n)) => {
                io.kind
                    .as_deref()
                    .is_some_and(|ik| ik.eq_ignore_ascii_case(k))
                    && n.as_deref().is_none_or(|n| io.name.as_deref() == Some(n))
            }
            // Without --for: events about Flux objects only.
            None => io
                .api_version
                .as_deref()
                .is_some_and(|v| v.contains(".toolkit.fluxcd.io/")),
        };
        let type_ok = self.types.is_empty()
            || self.types.iter().any(|t| {
                e.type_
                    .as_deref()
                    .is_some_and(|et| et.eq_ignore_ascii_case(t))
            });
        matches_for && type_ok
    }
}

/// The table cells of one event.
fn row(e: &Event, all_namespaces: bool) -> Vec<String> {
    let now = now_timestamp();
    let mut r = Vec::new();
    if all_namespaces {
        r.push(e.metadata.namespace.clone().unwrap_or_default());
    }
    let age = last_seen(e)
        .map(|t| human_duration(now.as_second() - t.as_second()))
        .unwrap_or_else(|| "<unknown>".into());
    r.push(age);
    r.push(e.type_.clone().unwrap_or_default());
    r.push(e.reason.clone().unwrap_or_default());
    r.push(format!(
        "{}/{}",
        e.involved_object.kind.clone().unwrap_or_default(),
        e.involved_object.name.clone().unwrap_or_default()
    ));
    r.push(e.message.clone().unwrap_or_default().trim_end().to_string());
    r
}

/// When the event last happened: `lastTimestamp`, else `eventTime`, else creation.
fn last_seen(e: &Event) -> Option<k8s_openapi::jiff::Timestamp> {
    e.last_timestamp
        .as_ref()
        .map(|t| t.0)
        .or_else(|| e.event_time.as_ref().map(|t| t.0))
        .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

/// Kubernetes' human-readable age (`45s`, `5m10s`, `3h`, `2d4h`), as kubectl and flux print it.
pub fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    if secs < 0 {
        return "0s".into();
    }
    if secs < 120 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        let s = secs % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = secs / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{}h", hours / 24, h)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{}d", hours / 24 / 365, dy)
        };
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::human_duration;

    #[test]
    fn ages_read_like_kubectl() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(119), "119s");
        assert_eq!(human_duration(310), "5m10s");
        assert_eq!(human_duration(600), "10m");
        assert_eq!(human_duration(3 * 3600 + 120), "3h2m");
        assert_eq!(human_duration(30 * 3600), "30h");
        assert_eq!(human_duration(52 * 3600), "2d4h");
        assert_eq!(human_duration(-5), "<invalid>");
    }
}
