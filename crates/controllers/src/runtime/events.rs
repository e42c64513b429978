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
        }
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
}
