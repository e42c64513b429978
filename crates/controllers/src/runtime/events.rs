//! core/v1 Event recorder with Flux's conventions: the reporting controller as source, the
//! involved object, `Normal`/`Warning` types, `<group>/revision` annotations, and the
//! Kubernetes recorder's aggregation of repeated events into a count.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client, Resource, ResourceExt};
use serde_json::json;
use tracing::warn;

/// Event type of successful operations.
pub const NORMAL: &str = "Normal";
/// Event type of failures.
pub const WARNING: &str = "Warning";

/// How long identical events are folded into one (the Kubernetes recorder's window).
const AGGREGATION_WINDOW: Duration = Duration::from_secs(600);

/// Records Events for the objects a controller reconciles.
pub struct Recorder {
    client: Client,
    /// `source-controller`, `kustomize-controller`, ...
    controller: String,
    /// Identity of this process (hostname), for `reportingInstance`.
    instance: String,
    seen: Mutex<HashMap<String, (String, String, i32, Instant)>>,
    /// notification-controller's event endpoint (`--events-addr`), if any.
    events_addr: Option<String>,
}

impl Recorder {
    /// A recorder reporting as `controller` (e.g. `source-controller`).
    pub fn new(client: Client, controller: impl Into<String>) -> Self {
        let instance = std::env::var("HOSTNAME")
            .ok()
            .filter(|h| !h.is_empty())
            .or_else(|| {
                std::fs::read_to_string("/etc/hostname")
                    .ok()
                    .map(|s| s.trim().to_string())
            })
            .unwrap_or_else(|| "localhost".into());
        Self {
            client,
            controller: controller.into(),
            instance,
            seen: Mutex::new(HashMap::new()),
            events_addr: None,
        }
    }

    /// Also POSTs every event to notification-controller at `addr` (Flux's `--events-addr`).
    pub fn with_events_addr(mut self, addr: Option<String>) -> Self {
        self.events_addr = addr.filter(|a| !a.is_empty());
        self
    }

    /// Name of the reporting controller.
    pub fn controller(&self) -> &str {
        &self.controller
    }

    /// Records an event about `obj`. `annotations` carry Flux's metadata (e.g.
    /// `source.toolkit.fluxcd.io/revision`). Failures are logged, never returned: an event
    /// that cannot be written must not fail a reconcile.
    pub async fn publish<K>(
        &self,
        obj: &K,
        event_type: &str,
        reason: &str,
        message: &str,
        annotations: BTreeMap<String, String>,
    ) where
        K: Resource<DynamicType = ()>,
    {
        let namespace = obj.namespace().unwrap_or_else(|| "default".into());
        if let Some(addr) = &self.events_addr {
            self.forward(addr, obj, event_type, reason, message, &annotations);
        }
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        let uid = obj.uid().unwrap_or_default();
        let key = format!("{uid}\x00{event_type}\x00{reason}\x00{message}");
        let now = k8s_openapi::jiff::Timestamp::now();
        // Repeated identical events bump the count of the existing Event instead of piling up.
        let existing = {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            seen.retain(|_, v| v.3.elapsed() < AGGREGATION_WINDOW);
            seen.get_mut(&key).map(|v| {
                v.2 += 1;
                v.3 = Instant::now();
                (v.0.clone(), v.1.clone(), v.2)
            })
        };
        if let Some((ns, name, count)) = existing {
            let patch = json!({"count": count, "lastTimestamp": Time(now)});
            let api: Api<Event> = Api::namespaced(self.client.clone(), &ns);
            match api
                .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => return,
                Err(e) => {
                    warn!(error = %e, "updating event {ns}/{name} failed; recording a new one")
                }
            }
        }
        let name = format!("{}.{:x}", obj.name_any(), now.as_nanosecond() as u128);
        let event = Event {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(namespace.clone()),
                annotations: (!annotations.is_empty()).then_some(annotations),
                ..Default::default()
            },
            involved_object: ObjectReference {
                api_version: Some(K::api_version(&()).into_owned()),
                kind: Some(K::kind(&()).into_owned()),
                name: Some(obj.name_any()),
                namespace: obj.namespace(),
                uid: obj.uid(),
                resource_version: obj.resource_version(),
                field_path: None,
            },
            reason: Some(reason.to_string()),
            message: Some(message.to_string()),
            type_: Some(event_type.to_string()),
            source: Some(EventSource {
                component: Some(self.controller.clone()),
                host: None,
            }),
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            event_time: Some(MicroTime(now)),
            count: Some(1),
            action: Some(reason.to_string()),
            reporting_component: Some(self.controller.clone()),
            reporting_instance: Some(self.instance.clone()),
            ..Default::default()
        };
        match api.create(&PostParams::default(), &event).await {
            Ok(_) => {
                let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
                seen.insert(key, (namespace, name, 1, Instant::now()));
            }
            Err(e) => {
                warn!(error = %e, "recording event {reason} for {namespace}/{} failed", obj.name_any())
            }
        }
    }

    /// Sends the event to notification-controller in its `eventv1.Event` shape, in the
    /// background: a slow or absent receiver must not hold up reconciles.
    fn forward<K>(
        &self,
        addr: &str,
        obj: &K,
        event_type: &str,
        reason: &str,
        message: &str,
        annotations: &BTreeMap<String, String>,
    ) where
        K: Resource<DynamicType = ()>,
    {
        let body = json!({
            "involvedObject": {
                "apiVersion": K::api_version(&()),
                "kind": K::kind(&()),
                "name": obj.name_any(),
                "namespace": obj.namespace(),
                "uid": obj.uid(),
                "resourceVersion": obj.resource_version(),
            },
            "severity": if event_type == WARNING { "error" } else { "info" },
            "timestamp": k8s_openapi::jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "message": message,
            "reason": reason,
            "metadata": annotations,
            "reportingController": self.controller,
            "reportingInstance": self.instance,
        });
        let url = addr.to_string();
        tokio::spawn(async move {
            if let Err(e) = post_json(&url, &body).await {
                warn!(error = %e, "unable to send event to {url}");
            }
        });
    }
}

/// POSTs JSON to a plain-HTTP URL (the in-cluster notification endpoint is plain HTTP).
async fn post_json(url: &str, body: &serde_json::Value) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let invalid = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, m.to_string());
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| invalid("events address must be http://"))?;
    let (authority, path) = match rest.split_once('/') {
        Some((a, p)) => (a, format!("/{p}")),
        None => (rest, "/".to_string()),
    };
    let target = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let payload = body.to_string();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    );
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(&target).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut head = vec![0u8; 64];
        let n = stream.read(&mut head).await?;
        let line = String::from_utf8_lossy(&head[..n]).to_string();
        let code = line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse::<u16>().ok())
            .unwrap_or(0);
        if (200..300).contains(&code) {
            Ok(())
        } else {
            Err(std::io::Error::other(format!("unexpected response {code}")))
        }
    };
    tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "posting event timed out"))?
}
