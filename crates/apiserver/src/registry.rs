//! The resource registry: every served group/version/resource, built-in or from a CRD, with what
//! discovery, routing and the write pipeline need to know about it.

use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

/// A subresource served under an item path (`status`, `scale`, ...).
#[derive(Debug, Clone)]
pub struct Subresource {
    /// Name such as `status`.
    pub name: String,
    /// Group of the kind the subresource speaks.
    pub group: String,
    /// Version of that kind.
    pub version: String,
    /// Kind such as `Scale`.
    pub kind: String,
    /// Verbs.
    pub verbs: Vec<String>,
}

/// Scale subresource paths of a CRD.
#[derive(Debug, Clone)]
pub struct ScalePaths {
    /// `.spec.replicas`-style path.
    pub spec_replicas: String,
    /// `.status.replicas`-style path.
    pub status_replicas: String,
    /// Optional `.status.selector` path.
    pub label_selector: Option<String>,
}

/// What a custom resource carries from its CRD.
#[derive(Debug, Clone)]
pub struct CrdVersionInfo {
    /// CRD object name (`<plural>.<group>`).
    pub crd_name: String,
    /// The version's `openAPIV3Schema`.
    pub schema: Value,
    /// `additionalPrinterColumns`.
    pub printer_columns: Vec<Value>,
    /// The storage version of the CRD.
    pub storage_version: String,
    /// Scale subresource, when declared.
    pub scale: Option<ScalePaths>,
    /// Extra selectable field JSON paths.
    pub selectable_fields: Vec<String>,
}

/// One served resource at one version.
#[derive(Debug, Clone)]
pub struct ResourceInfo {
    /// API group ("" for core).
    pub group: String,
    /// Version.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Plural resource name.
    pub plural: String,
    /// Singular name.
    pub singular: String,
    /// Namespaced (true) or cluster-scoped.
    pub namespaced: bool,
    /// Verbs.
    pub verbs: Vec<String>,
    /// Short names.
    pub short_names: Vec<String>,
    /// Categories such as `all`.
    pub categories: Vec<String>,
    /// Subresources.
    pub subresources: Vec<Subresource>,
    /// Whether `metadata.generation` is maintained.
    pub generation: bool,
    /// Set for custom resources.
    pub crd: Option<Arc<CrdVersionInfo>>,
}

impl ResourceInfo {
    /// `group/version` or `version` for core.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Whether a `status` subresource exists.
    pub fn has_status(&self) -> bool {
        self.subresources.iter().any(|s| s.name == "status")
    }

    /// Whether the verb is served.
    pub fn allows(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    /// `<Kind>List`.
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    /// The version objects are stored in.
    pub fn storage_version(&self) -> &str {
        self.crd
            .as_ref()
            .map(|c| c.storage_version.as_str())
            .unwrap_or(&self.version)
    }
}

/// A group and its served versions in preference order.
#[derive(Debug, Clone)]
pub struct GroupEntry {
    /// Group name ("" for core).
    pub name: String,
    /// Versions, preferred first, each with its resources in order.
    pub versions: Vec<(String, Vec<Arc<ResourceInfo>>)>,
}

/// An immutable view of everything served; replaced wholesale when CRDs change.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Groups in discovery order (core first).
    pub groups: Vec<GroupEntry>,
    by_gvr: HashMap<(String, String, String), Arc<ResourceInfo>>,
    by_gvk: HashMap<(String, String, String), Arc<ResourceInfo>>,
    /// Monotonic generation of this snapshot (bumped on every change).
    pub generation: u64,
}

impl Snapshot {
    /// Builds a snapshot from resources; group order follows first appearance, versions are
    /// ordered by Kubernetes version priority.
    pub fn build(resources: Vec<ResourceInfo>, generation: u64) -> Self {
        let mut order: Vec<String> = Vec::new();
        let mut grouped: HashMap<String, BTreeMap<String, Vec<Arc<ResourceInfo>>>> = HashMap::new();
        let mut by_gvr = HashMap::new();
        let mut by_gvk = HashMap::new();
        for r in resources {
            let r = Arc::new(r);
            if !grouped.contains_key(&r.group) {
                order.push(r.group.clone());
            }
            grouped
                .entry(r.group.clone())
                .or_default()
                .entry(r.version.clone())
                .or_default()
                .push(r.clone());
            by_gvr.insert(
                (r.group.clone(), r.version.clone(), r.plural.clone()),
                r.clone(),
            );
            by_gvk.insert((r.group.clone(), r.version.clone(), r.kind.clone()), r);
        }
        let groups = order
            .into_iter()
            .map(|g| {
                let mut versions: Vec<(String, Vec<Arc<ResourceInfo>>)> =
                    grouped.remove(&g).unwrap_or_default().into_iter().collect();
                versions.sort_by_key(|v| std::cmp::Reverse(version_priority(&v.0)));
                GroupEntry { name: g, versions }
            })
            .collect();
        Self {
            groups,
            by_gvr,
            by_gvk,
            generation,
        }
    }

    /// Looks a resource up by group, version and plural.
    pub fn get(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceInfo>> {
        self.by_gvr
            .get(&(group.to_string(), version.to_string(), plural.to_string()))
            .cloned()
    }

    /// Looks a resource up by group, version and kind.
    pub fn by_kind(&self, group: &str, version: &str, kind: &str) -> Option<Arc<ResourceInfo>> {
        self.by_gvk
            .get(&(group.to_string(), version.to_string(), kind.to_string()))
            .cloned()
    }

    /// The group entry, if served.
    pub fn group(&self, name: &str) -> Option<&GroupEntry> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// Every resource at its preferred version.
    pub fn preferred(&self) -> impl Iterator<Item = &Arc<ResourceInfo>> {
        self.groups
            .iter()
            .filter_map(|g| g.versions.first())
            .flat_map(|(_, rs)| rs.iter())
    }
}

/// Sort key implementing Kubernetes version priority: GA > beta > alpha, higher numbers first,
/// non-matching strings last (alphabetical).
pub fn version_priority(v: &str) -> (u8, u64, u64, std::cmp::Reverse<String>) {
    let Some(rest) = v.strip_prefix('v') else {
        return (0, 0, 0, std::cmp::Reverse(v.to_string()));
    };
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let Ok(major) = digits.parse::<u64>() else {
        return (0, 0, 0, std::cmp::Reverse(v.to_string()));
    };
    let tail = &rest[digits.len()..];
    if tail.is_empty() {
        return (3, major, 0, std::cmp::Reverse(String::new()));
    }
    for (prefix, rank) in [("beta", 2u8), ("alpha", 1u8)] {
        if let Some(n) = tail.strip_prefix(prefix)
            && let Ok(minor) = n.parse::<u64>()
        {
            return (rank, major, minor, std::cmp::Reverse(String::new()));
        }
    }
    (0, 0, 0, std::cmp::Reverse(v.to_string()))
}

/// The live registry: built-ins plus established CRDs, swapped atomically.
#[derive(Debug)]
pub struct Registry {
    builtins: Vec<ResourceInfo>,
    current: RwLock<Arc<Snapshot>>,
}

impl Registry {
    /// A registry serving the given built-in resources.
    pub fn new(builtins: Vec<ResourceInfo>) -> Self {
        let snap = Arc::new(Snapshot::build(builtins.clone(), 1));
        Self {
            builtins,
            current: RwLock::new(snap),
        }
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.read().expect("registry lock").clone()
    }

    /// The built-in resources.
    pub fn builtins(&self) -> &[ResourceInfo] {
        &self.builtins
    }

    /// Replaces the custom resources with `crds`.
    pub fn set_custom(&self, crds: Vec<ResourceInfo>) {
        let mut cur = self.current.write().expect("registry lock");
        let mut all = self.builtins.clone();
        all.extend(crds);
        *cur = Arc::new(Snapshot::build(all, cur.generation + 1));
    }
}

/// Converts a built-in object between served versions of its kind where the schemas differ
/// (beyond `apiVersion`, which the caller sets): autoscaling/v1 ↔ v2 HorizontalPodAutoscaler,
/// mapping `targetCPUUtilizationPercentage`/`currentCPUUtilizationPercentage` to and from the
/// CPU `Resource` metric as the real server does. Other kinds are left unchanged.
pub fn convert_builtin(obj: &mut Value, to_api_version: &str) {
    let from = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    if obj.get("kind").and_then(Value::as_str) != Some("HorizontalPodAutoscaler")
        || from == to_api_version
    {
        return;
    }
    match (from, to_api_version) {
        ("autoscaling/v2", "autoscaling/v1") => hpa_v2_to_v1(obj),
        ("autoscaling/v1", "autoscaling/v2") => hpa_v1_to_v2(obj),
        _ => {}
    }
}

/// The CPU utilization of a v2 `Resource` metric list (`spec.metrics` with `target`, or
/// `status.currentMetrics` with `current`).
fn cpu_utilization(metrics: Option<&Value>, field: &str) -> Option<Value> {
    metrics?.as_array()?.iter().find_map(|m| {
        let r = m.get("resource")?;
        (m.get("type")?.as_str()? == "Resource" && r.get("name")?.as_str()? == "cpu")
            .then(|| r.get(field)?.get("averageUtilization").cloned())
            .flatten()
    })
}

fn hpa_v2_to_v1(obj: &mut Value) {
    if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
        let cpu = cpu_utilization(spec.get("metrics"), "target");
        spec.remove("metrics");
        spec.remove("behavior");
        if let Some(c) = cpu {
            spec.insert("targetCPUUtilizationPercentage".into(), c);
        }
    }
    if let Some(status) = obj.get_mut("status").and_then(Value::as_object_mut) {
        let cpu = cpu_utilization(status.get("currentMetrics"), "current");
        status.remove("currentMetrics");
        status.remove("conditions");
        if let Some(c) = cpu {
            status.insert("currentCPUUtilizationPercentage".into(), c);
        }
    }
}

fn hpa_v1_to_v2(obj: &mut Value) {
    if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut)
        && let Some(c) = spec.remove("targetCPUUtilizationPercentage")
    {
        spec.insert(
            "metrics".into(),
            serde_json::json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": c}}}]),
        );
    }
    if let Some(status) = obj.get_mut("status").and_then(Value::as_object_mut)
        && let Some(c) = status.remove("currentCPUUtilizationPercentage")
    {
        status.insert(
            "currentMetrics".into(),
            serde_json::json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": c}}}]),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_order() {
        let mut v = vec![
            "v1alpha1", "v2beta1", "v1", "v2", "v1beta2", "foo", "v1beta1",
        ];
        v.sort_by_key(|b| std::cmp::Reverse(version_priority(b)));
        assert_eq!(
            v,
            [
                "v2", "v1", "v2beta1", "v1beta2", "v1beta1", "v1alpha1", "foo"
            ]
        );
    }

    #[test]
    fn hpa_cpu_target_round_trips_between_v1_and_v2() {
        let v2 = serde_json::json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "spec": {"maxReplicas": 5, "metrics": [
                {"type": "Resource", "resource": {"name": "memory", "target": {"type": "Utilization", "averageUtilization": 70}}},
                {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}}}
            ]},
            "status": {"currentReplicas": 1, "desiredReplicas": 1, "currentMetrics": [
                {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 42, "averageValue": "10m"}}}
            ]}
        });
        let mut v1 = v2.clone();
        super::convert_builtin(&mut v1, "autoscaling/v1");
        assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 60);
        assert!(v1["spec"].get("metrics").is_none());
        assert_eq!(v1["status"]["currentCPUUtilizationPercentage"], 42);
        assert!(v1["status"].get("currentMetrics").is_none());
        v1["apiVersion"] = serde_json::json!("autoscaling/v1");
        let mut back = v1.clone();
        super::convert_builtin(&mut back, "autoscaling/v2");
        assert_eq!(
            back["spec"]["metrics"],
            serde_json::json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}}}])
        );
        assert_eq!(
            back["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"],
            42
        );
        assert!(back["spec"].get("targetCPUUtilizationPercentage").is_none());
    }
}
