//! Watch streams: initial events or replay from a resourceVersion, live events with selector
//! transitions, bookmarks (incl. the initial-events-end bookmark), timeouts, and disconnection of
//! watchers that fall behind (writers never wait for watchers).

use crate::error::{ApiError, ApiResult, cause};
use crate::registry::ResourceInfo;
use crate::request::{Output, Req};
use crate::rest::{partial_metadata, to_version};
use crate::selector::{FieldSelector, LabelSelector};
use crate::server::Api;
use crate::store::{Event, EventType, WatchStart};
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// Bookmark interval while idle.
const BOOKMARK_EVERY: Duration = Duration::from_secs(30);

struct Filter {
    ns: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    fn matches(&self, o: &Value) -> bool {
        self.labels.matches(o) && self.fields.matches(o)
    }
}

struct Encoder {
    ri: Arc<ResourceInfo>,
    output: Output,
    defs_sent: bool,
}

impl Encoder {
    fn frame(&mut self, etype: &str, obj: &Value) -> Bytes {
        let object = match self.output {
            Output::Json => to_version(&self.ri, obj),
            Output::Metadata => partial_metadata(obj),
            Output::Table(inc) => {
                let rv = crate::util::meta_str(obj, "resourceVersion").to_string();
                let t = crate::table::table(
                    &self.ri,
                    &[Arc::new(obj.clone())],
                    inc,
                    &rv,
                    None,
                    !self.defs_sent,
                );
                self.defs_sent = true;
                t
            }
        };
        line(json!({"type": etype, "object": object}))
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        line(
            json!({"type": "BOOKMARK", "object": {"kind": self.ri.kind, "apiVersion": self.ri.api_version(), "metadata": meta}}),
        )
    }
}

fn line(v: Value) -> Bytes {
    let mut b = serde_json::to_vec(&v).unwrap_or_default();
    b.push(b'\n');
    Bytes::from(b)
}

/// Starts a watch and returns the streaming response.
pub fn serve(
    api: Arc<Api>,
    req: &Req,
    ri: Arc<ResourceInfo>,
    ns: Option<String>,
) -> ApiResult<Response> {
    let labels = LabelSelector::parse(req.q("labelSelector").unwrap_or(""))?;
    let fields = FieldSelector::parse(req.q("fieldSelector").unwrap_or(""), &ri)?;
    let bookmarks = req.flag("allowWatchBookmarks");
    let rv_param = req.q("resourceVersion");
    let rv: Option<u64> = match rv_param {
        None => None,
        Some(s) => Some(
            s.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {s}")))?,
        ),
    };
    let send_initial = match req.q("sendInitialEvents") {
        None => None,
        Some("true" | "True" | "1") => Some(true),
        Some("false" | "False" | "0") => Some(false),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "invalid sendInitialEvents value: {other}"
            )));
        }
    };
    if send_initial.is_some() {
        let mut causes = vec![];
        if req.q("resourceVersionMatch") != Some("NotOlderThan") {
            causes.push(cause("FieldValueInvalid", "resourceVersionMatch", "Invalid value: \"\": sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"));
        }
        if send_initial == Some(true) && !bookmarks {
            causes.push(cause(
                "FieldValueForbidden",
                "allowWatchBookmarks",
                "Forbidden: sendInitialEvents requires allowWatchBookmarks=true",
            ));
        }
        if !causes.is_empty() {
            return Err(ApiError::invalid("ListOptions", "meta.k8s.io", "", causes));
        }
    }
    let from = match (send_initial, rv) {
        (Some(true), _) => None,
        (Some(false), Some(n)) if n > 0 => Some(n),
        (Some(false), _) => Some(api.store.current_rv()),
        (None, None | Some(0)) => None,
        (None, Some(n)) => Some(n),
    };
    let timeout = req
        .q("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs);
    let filter = Filter {
        ns: ns.clone(),
        labels,
        fields,
    };
    let mut enc = Encoder {
        ri: ri.clone(),
        output: req.output(),
        defs_sent: false,
    };
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(16);
    let content_type = match enc.output {
        Output::Json => "application/json",
        Output::Metadata => "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1",
        Output::Table(_) => "application/json;as=Table;g=meta.k8s.io;v=v1",
    };
    let started = api.store.watch(&ri.group, &ri.plural, ns.as_deref(), from);
    tokio::spawn(async move {
        let (start, mut live) = match started {
            Ok(s) => s,
            Err(e) => {
                let _ = tx
                    .send(Ok(line(json!({"type": "ERROR", "object": e.status()}))))
                    .await;
                return;
            }
        };
        let mut last_rv;
        match start {
            WatchStart::Initial { objects, rv } => {
                last_rv = rv;
                for o in objects {
                    if filter.matches(&o) && tx.send(Ok(enc.frame("ADDED", &o))).await.is_err() {
                        return;
                    }
                }
                if send_initial == Some(true) && tx.send(Ok(enc.bookmark(rv, true))).await.is_err()
                {
                    return;
                }
            }
            WatchStart::Replay { events, rv } => {
                last_rv = rv;
                for e in events {
                    if let Some(f) = translate(&filter, &e, &mut enc)
                        && tx.send(Ok(f)).await.is_err()
                    {
                        return;
                    }
                }
            }
        }
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        loop {
            let sleep_until = {
                let bm = tokio::time::Instant::now() + BOOKMARK_EVERY;
                match deadline {
                    Some(d) if d < bm => d,
                    _ => bm,
                }
            };
            tokio::select! {
                ev = live.recv() => match ev {
                    Ok(e) => {
                        if e.rv <= last_rv {
                            continue;
                        }
                        last_rv = e.rv;
                        if e.key.group != ri.group || e.key.resource != ri.plural {
                            continue;
                        }
                        if let Some(f) = translate(&filter, &e, &mut enc)
                            && tx.send(Ok(f)).await.is_err()
                        {
                            return;
                        }
                    }
                    // Too slow: disconnect; the client relists.
                    Err(broadcast::error::RecvError::Lagged(_)) | Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = tokio::time::sleep_until(sleep_until) => {
                    let done = deadline.is_some_and(|d| tokio::time::Instant::now() >= d);
                    if bookmarks && tx.send(Ok(enc.bookmark(last_rv, false))).await.is_err() {
                        return;
                    }
                    if done {
                        return;
                    }
                }
                _ = tx.closed() => return,
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    Ok(resp)
}

/// Maps a stored event to what this watcher sees (selector transitions, namespace filter).
fn translate(filter: &Filter, e: &Event, enc: &mut Encoder) -> Option<Bytes> {
    if let Some(ns) = &filter.ns
        && &e.key.namespace != ns
    {
        return None;
    }
    let now = filter.matches(&e.object);
    let before = e.old.as_ref().map(|o| filter.matches(o));
    let etype = match (e.etype, before, now) {
        (EventType::Added, _, true) => "ADDED",
        (EventType::Deleted, _, true) => "DELETED",
        (EventType::Modified, Some(true) | None, true) => "MODIFIED",
        (EventType::Modified, Some(false), true) => "ADDED",
        (EventType::Modified, Some(true), false) => "DELETED",
        _ => return None,
    };
    Some(enc.frame(etype, &e.object))
}
