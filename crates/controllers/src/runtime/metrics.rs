//! Prometheus metrics with Flux's names and labels: `gotk_reconcile_duration_seconds`
//! (histogram by kind/name/namespace) and `gotk_resource_info` (one series per object with its
//! readiness, suspension and revision, as Flux's kube-state-metrics configuration exposes it).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;

fn duration_histogram() -> Histogram {
    // Flux's buckets: 10ms doubling ten times (up to ~5s, then +Inf).
    Histogram::new(exponential_buckets(0.01, 2.0, 10))
}

/// What `gotk_resource_info` reports about one object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceInfo {
    /// API group, e.g. `source.toolkit.fluxcd.io`.
    pub group: String,
    /// API version, e.g. `v1`.
    pub version: String,
    /// Kind, e.g. `GitRepository`.
    pub kind: String,
    /// Namespace of the object.
    pub namespace: String,
    /// Name of the object.
    pub name: String,
    /// Status of the `Ready` condition (`True`, `False`, `Unknown`).
    pub ready: String,
    /// Reason of the `Ready` condition.
    pub reason: String,
    /// Whether `spec.suspend` is set.
    pub suspended: bool,
    /// Revision of the current artifact or applied source.
    pub revision: String,
    /// Source URL, when the kind has one.
    pub url: String,
}

/// The metrics of a manager; shared by all its controllers.
pub struct Metrics {
    registry: Registry,
    durations: Family<Labels, Histogram, fn() -> Histogram>,
    info: Family<Labels, Gauge>,
    info_keys: Mutex<HashMap<String, Labels>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers the metric families.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let durations: Family<Labels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(duration_histogram);
        registry.register(
            "gotk_reconcile_duration_seconds",
            "The duration in seconds of a GitOps Toolkit resource reconciliation.",
            durations.clone(),
        );
        let info = Family::<Labels, Gauge>::default();
        registry.register(
            "gotk_resource_info",
            "The current state of a Flux resource.",
            info.clone(),
        );
        Self {
            registry,
            durations,
            info,
            info_keys: Mutex::new(HashMap::new()),
        }
    }

    /// Records how long a reconciliation of `kind` `namespace/name` took.
    pub fn observe_duration(&self, kind: &str, namespace: &str, name: &str, elapsed: Duration) {
        let labels = vec![
            ("kind".to_string(), kind.to_string()),
            ("name".to_string(), name.to_string()),
            ("namespace".to_string(), namespace.to_string()),
        ];
        self.durations
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Sets the info series of an object, replacing its previous label set.
    pub fn set_resource_info(&self, info: &ResourceInfo) {
        let labels = vec![
            ("customresource_group".to_string(), info.group.clone()),
            ("customresource_kind".to_string(), info.kind.clone()),
            ("customresource_version".to_string(), info.version.clone()),
            ("exported_namespace".to_string(), info.namespace.clone()),
            ("name".to_string(), info.name.clone()),
            ("ready".to_string(), info.ready.clone()),
            ("reason".to_string(), info.reason.clone()),
            ("revision".to_string(), info.revision.clone()),
            ("suspended".to_string(), info.suspended.to_string()),
            ("url".to_string(), info.url.clone()),
        ];
        let key = format!("{}/{}/{}", info.kind, info.namespace, info.name);
        let mut keys = self.info_keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = keys.insert(key, labels.clone())
            && old != labels
        {
            self.info.remove(&old);
        }
        self.info.get_or_create(&labels).set(1);
    }

    /// Drops the series of a deleted object.
    pub fn delete_resource(&self, kind: &str, namespace: &str, name: &str) {
        let key = format!("{kind}/{namespace}/{name}");
        let mut keys = self.info_keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = keys.remove(&key) {
            self.info.remove(&old);
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_flux_names_and_labels() {
        let m = Metrics::new();
        m.observe_duration(
            "GitRepository",
            "default",
            "podinfo",
            Duration::from_millis(30),
        );
        let mut info = ResourceInfo {
            kind: "GitRepository".into(),
            namespace: "default".into(),
            name: "podinfo".into(),
            ready: "Unknown".into(),
            ..Default::default()
        };
        m.set_resource_info(&info);
        info.ready = "True".into();
        m.set_resource_info(&info);
        let text = m.render();
        assert!(text.contains(
            "gotk_reconcile_duration_seconds_count{kind=\"GitRepository\",name=\"podinfo\",namespace=\"default\"} 1"
        ), "{text}");
        assert!(
            text.contains(
                "gotk_reconcile_duration_seconds_bucket{le=\"0.04\",kind=\"GitRepository\""
            ) || text.contains("le=\"0.04\""),
            "{text}"
        );
        assert!(text.contains("ready=\"True\""), "{text}");
        assert!(
            !text.contains("ready=\"Unknown\""),
            "old series kept: {text}"
        );
        m.delete_resource("GitRepository", "default", "podinfo");
        assert!(!m.render().contains("ready=\"True\""));
    }
}
