//! kstatus: the health of an object computed from its status, with sigs.k8s.io/cli-utils semantics.

use serde_json::Value;

/// The computed status of an object.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Status {
    /// Not yet at its desired state.
    InProgress,
    /// Failed to reach its desired state.
    Failed,
    /// At its desired state.
    Current,
    /// Being deleted.
    Terminating,
    /// Does not exist.
    NotFound,
    /// Cannot be told.
    Unknown,
}

impl Status {
    /// kstatus's spelling: `InProgress`, `Failed`, `Current`, `Terminating`, `NotFound`, `Unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::InProgress => "InProgress",
            Status::Failed => "Failed",
            Status::Current => "Current",
            Status::Terminating => "Terminating",
            Status::NotFound => "NotFound",
            Status::Unknown => "Unknown",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status with its human-readable message.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Result {
    /// The status.
    pub status: Status,
    /// Why.
    pub message: String,
}

impl Result {
    fn new(status: Status, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
    fn current(message: impl Into<String>) -> Self {
        Self::new(Status::Current, message)
    }
    fn in_progress(message: impl Into<String>) -> Self {
        Self::new(Status::InProgress, message)
    }
    fn failed(message: impl Into<String>) -> Self {
        Self::new(Status::Failed, message)
    }
}

/// Computes the kstatus of an object as returned by the API server: deletion, then
/// `observedGeneration` and the `Reconciling`/`Stalled` conditions, then the rules of the
/// built-in kinds, then a `Ready` condition; anything else is Current.
pub fn compute(obj: &Value) -> Result {
    if let Some(r) = generic(obj) {
        return r;
    }
    let group = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .and_then(|a| a.split_once('/').map(|(g, _)| g))
        .unwrap_or("");
    let kind = str_at(obj, "/kind").unwrap_or("");
    match (group, kind) {
        ("", "Service") => service(obj),
        ("", "Pod") => pod(obj),
        ("", "Secret") | ("", "ConfigMap") | ("batch", "CronJob") => {
            Result::current("Resource is always ready")
        }
        ("", "PersistentVolumeClaim") => pvc(obj),
        ("apps", "StatefulSet") => statefulset(obj),
        ("apps" | "extensions", "DaemonSet") => daemonset(obj),
        ("apps" | "extensions", "Deployment") => deployment(obj),
        ("apps" | "extensions", "ReplicaSet") => replicaset(obj),
        ("policy", "PodDisruptionBudget") => {
            Result::current("AllowedDisruptions has been computed.")
        }
        ("batch", "Job") => job(obj),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => crd(obj),
        _ => ready_condition(obj).unwrap_or_else(|| Result::current("Resource is current")),
    }
}

fn str_at<'a>(obj: &'a Value, ptr: &str) -> Option<&'a str> {
    obj.pointer(ptr).and_then(Value::as_str)
}

fn int_at(obj: &Value, ptr: &str) -> Option<i64> {
    obj.pointer(ptr).and_then(Value::as_i64)
}

fn conditions(obj: &Value) -> impl Iterator<Item = Condition<'_>> {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| Condition {
            type_: c.get("type").and_then(Value::as_str).unwrap_or(""),
            status: c.get("status").and_then(Value::as_str).unwrap_or(""),
            reason: c.get("reason").and_then(Value::as_str).unwrap_or(""),
            message: c.get("message").and_then(Value::as_str).unwrap_or(""),
        })
}

struct Condition<'a> {
    type_: &'a str,
    status: &'a str,
    reason: &'a str,
    message: &'a str,
}

/// Deletion, generation and the standard `Reconciling`/`Stalled` conditions.
fn generic(obj: &Value) -> Option<Result> {
    if str_at(obj, "/metadata/deletionTimestamp").is_some_and(|t| !t.is_empty()) {
        return Some(Result::new(
            Status::Terminating,
            "Resource scheduled for deletion",
        ));
    }
    if let (Some(generation), Some(observed)) = (
        int_at(obj, "/metadata/generation"),
        int_at(obj, "/status/observedGeneration"),
    ) && generation != observed
    {
        let kind = str_at(obj, "/kind").unwrap_or("");
        return Some(Result::in_progress(format!(
            "{kind} generation is {generation}, but latest observed generation is {observed}"
        )));
    }
    for c in conditions(obj) {
        if c.type_ == "Reconciling" && c.status == "True" {
            return Some(Result::in_progress(c.message));
        }
        if c.type_ == "Stalled" && c.status == "True" {
            return Some(Result::failed(c.message));
        }
    }
    None
}

fn ready_condition(obj: &Value) -> Option<Result> {
    let c = conditions(obj).find(|c| c.type_ == "Ready")?;
    match c.status {
        "True" => Some(Result::current("Resource is Ready")),
        "False" | "Unknown" => Some(Result::in_progress(c.message)),
        _ => None,
    }
}

fn deployment(obj: &Value) -> Result {
    // No progress deadline means the controller never reports ProgressDeadlineExceeded.
    let mut progressing = obj.pointer("/spec/progressDeadlineSeconds").is_none()
        || int_at(obj, "/spec/progressDeadlineSeconds") == Some(i64::from(i32::MAX));
    let mut available = false;
    for c in conditions(obj) {
        match c.type_ {
            "Progressing" => {
                if c.reason == "ProgressDeadlineExceeded" {
                    return Result::failed("Progress deadline exceeded");
                }
                if c.status == "True" && c.reason == "NewReplicaSetAvailable" {
                    progressing = true;
                }
            }
            "Available" if c.status == "True" => available = true,
            _ => {}
        }
    }
    let spec = int_at(obj, "/spec/replicas").unwrap_or(1);
    let replicas = int_at(obj, "/status/replicas").unwrap_or(0);
    let updated = int_at(obj, "/status/updatedReplicas").unwrap_or(0);
    let ready = int_at(obj, "/status/readyReplicas").unwrap_or(0);
    let avail = int_at(obj, "/status/availableReplicas").unwrap_or(0);
    if spec > replicas {
        return Result::in_progress(format!("Replicas: {replicas}/{spec}"));
    }
    if spec > updated {
        return Result::in_progress(format!("Updated: {updated}/{spec}"));
    }
    if replicas > spec {
        return Result::in_progress(format!("Pending termination: {}", replicas - spec));
    }
    if updated > avail {
        return Result::in_progress(format!("Available: {avail}/{updated}"));
    }
    if spec > ready {
        return Result::in_progress(format!("Ready: {ready}/{spec}"));
    }
    if !progressing {
        return Result::in_progress("ReplicaSet not Available");
    }
    if !available {
        return Result::in_progress("Deployment not Available");
    }
    Result::current(format!("Deployment is available. Replicas: {replicas}"))
}

fn statefulset(obj: &Value) -> Result {
    if str_at(obj, "/spec/updateStrategy/type") == Some("OnDelete") {
        return Result::current("StatefulSet is using the ondelete update strategy");
    }
    let spec = int_at(obj, "/spec/replicas").unwrap_or(1);
    let ready = int_at(obj, "/status/readyReplicas").unwrap_or(0);
    let current = int_at(obj, "/status/currentReplicas").unwrap_or(0);
    let updated = int_at(obj, "/status/updatedReplicas").unwrap_or(0);
    let replicas = int_at(obj, "/status/replicas").unwrap_or(0);
    let partition = int_at(obj, "/spec/updateStrategy/rollingUpdate/partition");
    if spec > replicas {
        return Result::in_progress(format!("Replicas: {replicas}/{spec}"));
    }
    if spec > ready {
        return Result::in_progress(format!("Ready: {ready}/{spec}"));
    }
    if replicas > spec {
        return Result::in_progress(format!("Pending termination: {}", replicas - spec));
    }
    if let Some(partition) = partition {
        if updated < spec - partition {
            return Result::in_progress(format!("updated: {updated}/{}", spec - partition));
        }
        return Result::current(format!("Partition rollout complete. updated: {updated}"));
    }
    if spec > current {
        return Result::in_progress(format!("current: {current}/{spec}"));
    }
    if str_at(obj, "/status/currentRevision").unwrap_or("")
        != str_at(obj, "/status/updateRevision").unwrap_or("")
    {
        return Result::in_progress("Waiting for updated revision to match current");
    }
    Result::current(format!(
        "All replicas scheduled as expected. Replicas: {replicas}"
    ))
}

fn replicaset(obj: &Value) -> Result {
    if conditions(obj).any(|c| c.type_ == "ReplicaFailure" && c.status == "True") {
        return Result::in_progress("Replica Failure condition. Check Pods");
    }
    let spec = int_at(obj, "/spec/replicas").unwrap_or(1);
    let replicas = int_at(obj, "/status/replicas").unwrap_or(0);
    let ready = int_at(obj, "/status/readyReplicas").unwrap_or(0);
    let avail = int_at(obj, "/status/availableReplicas").unwrap_or(0);
    let labelled = int_at(obj, "/status/fullyLabeledReplicas").unwrap_or(0);
    if spec > labelled {
        return Result::in_progress(format!("Labelled: {labelled}/{spec}"));
    }
    if spec > avail {
        return Result::in_progress(format!("Available: {avail}/{spec}"));
    }
    if spec > ready {
        return Result::in_progress(format!("Ready: {ready}/{spec}"));
    }
    if replicas > spec {
        return Result::in_progress(format!("Pending termination: {}", replicas - spec));
    }
    Result::current(format!("ReplicaSet is available. Replicas: {replicas}"))
}

fn daemonset(obj: &Value) -> Result {
    let kind = str_at(obj, "/kind").unwrap_or("");
    if int_at(obj, "/metadata/generation").is_none() {
        return Result::in_progress(format!("{kind} metadata.generation not found"));
    }
    if int_at(obj, "/status/observedGeneration").is_none() {
        return Result::in_progress(format!("{kind} status.observedGeneration not found"));
    }
    let Some(desired) = int_at(obj, "/status/desiredNumberScheduled") else {
        return Result::in_progress("Missing .status.desiredNumberScheduled");
    };
    let current = int_at(obj, "/status/currentNumberScheduled").unwrap_or(0);
    let updated = int_at(obj, "/status/updatedNumberScheduled").unwrap_or(0);
    let avail = int_at(obj, "/status/numberAvailable").unwrap_or(0);
    let ready = int_at(obj, "/status/numberReady").unwrap_or(0);
    if desired > current {
        return Result::in_progress(format!("Current: {current}/{desired}"));
    }
    if desired > updated {
        return Result::in_progress(format!("Updated: {updated}/{desired}"));
    }
    if desired > avail {
        return Result::in_progress(format!("Available: {avail}/{desired}"));
    }
    if desired > ready {
        return Result::in_progress(format!("Ready: {ready}/{desired}"));
    }
    Result::current(format!(
        "All replicas scheduled as expected. Replicas: {desired}"
    ))
}

fn pvc(obj: &Value) -> Result {
    let phase = str_at(obj, "/status/phase").unwrap_or("unknown");
    if phase != "Bound" {
        return Result::in_progress(format!("PVC is not Bound. phase: {phase}"));
    }
    Result::current("PVC is Bound")
}

fn pod(obj: &Value) -> Result {
    match str_at(obj, "/status/phase").unwrap_or("") {
        "Succeeded" => Result::current("Pod has completed successfully"),
        "Failed" => Result::current("Pod has completed, but not successfully"),
        "Running" => {
            if conditions(obj).any(|c| c.type_ == "Ready" && c.status == "True") {
                return Result::current("Pod is Ready");
            }
            let crashing: Vec<&str> = obj
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|cs| {
                    cs.pointer("/state/waiting/reason").and_then(Value::as_str)
                        == Some("CrashLoopBackOff")
                })
                .filter_map(|cs| cs.get("name").and_then(Value::as_str))
                .collect();
            if !crashing.is_empty() {
                return Result::failed(format!(
                    "Containers in CrashLoop state: {}",
                    crashing.join(",")
                ));
            }
            Result::in_progress("Pod is running but is not Ready")
        }
        "Pending" => {
            let unschedulable = conditions(obj).any(|c| {
                c.type_ == "PodScheduled" && c.status == "False" && c.reason == "Unschedulable"
            });
            if unschedulable {
                // kstatus allows a 15 s scheduling window after creation before calling it Failed.
                let young = str_at(obj, "/metadata/creationTimestamp")
                    .and_then(age_seconds)
                    .is_some_and(|age| age < 15);
                if young {
                    return Result::in_progress("Pod has not been scheduled");
                }
                return Result::failed("Pod could not be scheduled");
            }
            Result::in_progress("Pod is in the Pending phase")
        }
        "" => Result::in_progress("Pod phase not available"),
        other => Result::new(Status::Unknown, format!("unknown phase {other}")),
    }
}

fn job(obj: &Value) -> Result {
    let parallelism = int_at(obj, "/spec/parallelism").unwrap_or(1);
    let completions = int_at(obj, "/spec/completions").unwrap_or(parallelism);
    let succeeded = int_at(obj, "/status/succeeded").unwrap_or(0);
    let active = int_at(obj, "/status/active").unwrap_or(0);
    let failed = int_at(obj, "/status/failed").unwrap_or(0);
    for c in conditions(obj) {
        if c.type_ == "Complete" && c.status == "True" {
            return Result::current(format!(
                "Job Completed. succeeded: {succeeded}/{completions}"
            ));
        }
        if c.type_ == "Failed" && c.status == "True" {
            return Result::failed(format!("Job Failed. failed: {failed}/{completions}"));
        }
    }
    if str_at(obj, "/status/startTime").unwrap_or("").is_empty() {
        return Result::in_progress("Job not started");
    }
    Result::current(format!(
        "Job in progress. success:{succeeded}, active: {active}, failed: {failed}"
    ))
}

fn service(obj: &Value) -> Result {
    if str_at(obj, "/spec/type") == Some("LoadBalancer")
        && str_at(obj, "/spec/clusterIP").unwrap_or("").is_empty()
    {
        return Result::in_progress("ClusterIP not set. Service type: LoadBalancer");
    }
    Result::current("Service is ready")
}

fn crd(obj: &Value) -> Result {
    for c in conditions(obj) {
        if c.type_ == "NamesAccepted" && c.status == "False" {
            return Result::failed(c.message);
        }
        if c.type_ == "Established" {
            if c.status == "False" && c.reason != "Installing" {
                return Result::failed(c.message);
            }
            if c.status == "True" {
                return Result::current("CRD is established");
            }
        }
    }
    Result::in_progress("Install in progress")
}

/// Seconds since an RFC 3339 UTC timestamp (`2024-01-02T03:04:05Z`), None if unparsable.
fn age_seconds(ts: &str) -> Option<i64> {
    let b = ts.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[10] != b'T' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| ts.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (h, mi, s) = (n(11..13)?, n(14..16)?, n(17..19)?);
    // days from civil (Howard Hinnant's algorithm)
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    let then = days * 86400 + h * 3600 + mi * 60 + s;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs() as i64;
    Some(now - then)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(api_version: &str, kind: &str, extra: Value) -> Value {
        let mut o = json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "x", "namespace": "n"}});
        merge(&mut o, extra);
        o
    }

    fn merge(into: &mut Value, from: Value) {
        match (into, from) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, v) in b {
                    merge(a.entry(k).or_insert(Value::Null), v);
                }
            }
            (slot, v) => *slot = v,
        }
    }

    #[test]
    fn table() {
        use Status::*;
        let cases: Vec<(&str, Value, Status, &str)> = vec![
            (
                "deleting",
                obj(
                    "v1",
                    "ConfigMap",
                    json!({"metadata": {"deletionTimestamp": "2024-01-01T00:00:00Z"}}),
                ),
                Terminating,
                "Resource scheduled for deletion",
            ),
            (
                "configmap",
                obj("v1", "ConfigMap", json!({})),
                Current,
                "Resource is always ready",
            ),
            (
                "secret",
                obj("v1", "Secret", json!({})),
                Current,
                "Resource is always ready",
            ),
            (
                "namespace",
                obj("v1", "Namespace", json!({"status": {"phase": "Active"}})),
                Current,
                "Resource is current",
            ),
            (
                "generation not observed",
                obj(
                    "apps/v1",
                    "Deployment",
                    json!({"metadata": {"generation": 2}, "status": {"observedGeneration": 1}}),
                ),
                InProgress,
                "Deployment generation is 2, but latest observed generation is 1",
            ),
            (
                "deployment no status",
                obj("apps/v1", "Deployment", json!({"spec": {"replicas": 2}})),
                InProgress,
                "Replicas: 0/2",
            ),
            (
                "deployment updating",
                obj(
                    "apps/v1",
                    "Deployment",
                    json!({"spec": {"replicas": 2},
                "status": {"replicas": 2, "updatedReplicas": 1}}),
                ),
                InProgress,
                "Updated: 1/2",
            ),
            (
                "deployment unavailable",
                obj(
                    "apps/v1",
                    "Deployment",
                    json!({"spec": {"replicas": 1},
                "status": {"replicas": 1, "updatedReplicas": 1, "availableReplicas": 0}}),
                ),
                InProgress,
                "Available: 0/1",
            ),
            (
                "deployment extra pods",
                obj(
                    "apps/v1",
                    "Deployment",
                    json!({"spec": {"replicas": 1},
                "status": {"replicas": 2, "updatedReplicas": 1}}),
                ),
                InProgress,
                "Pending termination: 1",
            ),
            (
                "deployment deadline",
                obj(
                    "apps/v1",
                    "Deployment",
                    json!({"spec": {"replicas": 1},
                "status": {"conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}}),
                ),
                Failed,
                "Progress deadline exceeded",
            ),
            (
                "deployment deadline set, not progressed",
                obj(
                    "apps/v1",
                    "Deployment",
                    json!({"spec": {"replicas": 1, "progressDeadlineSeconds": 600},
                "status": {"replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1}}),
                ),
                InProgress,
                "ReplicaSet not Available",
            ),
            (
                "deployment not available",
                obj(
                    "apps/v1",
                    "Deployment",
                    json!({"spec": {"replicas": 1},
                "status": {"replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1}}),
                ),
                InProgress,
                "Deployment not Available",
            ),
            (
                "deployment current",
                obj(
                    "apps/v1",
                    "Deployment",
                    json!({"metadata": {"generation": 1},
                "spec": {"replicas": 1, "progressDeadlineSeconds": 600},
                "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1,
                  "conditions": [{"type": "Available", "status": "True"}, {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]}}),
                ),
                Current,
                "Deployment is available. Replicas: 1",
            ),
            (
                "deployment scaled to zero",
                obj(
                    "apps/v1",
                    "Deployment",
                    json!({"spec": {"replicas": 0},
                "status": {"conditions": [{"type": "Available", "status": "True"}]}}),
                ),
                Current,
                "Deployment is available. Replicas: 0",
            ),
            (
                "statefulset ready",
                obj(
                    "apps/v1",
                    "StatefulSet",
                    json!({"spec": {"replicas": 2},
                "status": {"replicas": 2, "readyReplicas": 2, "currentReplicas": 2, "updatedReplicas": 2, "currentRevision": "a", "updateRevision": "a"}}),
                ),
                Current,
                "All replicas scheduled as expected. Replicas: 2",
            ),
            (
                "statefulset revision",
                obj(
                    "apps/v1",
                    "StatefulSet",
                    json!({"spec": {"replicas": 1},
                "status": {"replicas": 1, "readyReplicas": 1, "currentReplicas": 1, "currentRevision": "a", "updateRevision": "b"}}),
                ),
                InProgress,
                "Waiting for updated revision to match current",
            ),
            (
                "statefulset ondelete",
                obj(
                    "apps/v1",
                    "StatefulSet",
                    json!({"spec": {"updateStrategy": {"type": "OnDelete"}}}),
                ),
                Current,
                "StatefulSet is using the ondelete update strategy",
            ),
            (
                "statefulset partition",
                obj(
                    "apps/v1",
                    "StatefulSet",
                    json!({"spec": {"replicas": 3, "updateStrategy": {"rollingUpdate": {"partition": 1}}},
                "status": {"replicas": 3, "readyReplicas": 3, "updatedReplicas": 1}}),
                ),
                InProgress,
                "updated: 1/2",
            ),
            (
                "daemonset no generation",
                obj("apps/v1", "DaemonSet", json!({})),
                InProgress,
                "DaemonSet metadata.generation not found",
            ),
            (
                "daemonset not observed",
                obj(
                    "apps/v1",
                    "DaemonSet",
                    json!({"metadata": {"generation": 1}}),
                ),
                InProgress,
                "DaemonSet status.observedGeneration not found",
            ),
            (
                "daemonset ready",
                obj(
                    "apps/v1",
                    "DaemonSet",
                    json!({"metadata": {"generation": 1}, "status": {"observedGeneration": 1,
                "desiredNumberScheduled": 2, "currentNumberScheduled": 2, "updatedNumberScheduled": 2, "numberAvailable": 2, "numberReady": 2}}),
                ),
                Current,
                "All replicas scheduled as expected. Replicas: 2",
            ),
            (
                "daemonset unavailable",
                obj(
                    "apps/v1",
                    "DaemonSet",
                    json!({"metadata": {"generation": 1}, "status": {"observedGeneration": 1,
                "desiredNumberScheduled": 2, "currentNumberScheduled": 2, "updatedNumberScheduled": 2, "numberAvailable": 1}}),
                ),
                InProgress,
                "Available: 1/2",
            ),
            (
                "replicaset failure",
                obj(
                    "apps/v1",
                    "ReplicaSet",
                    json!({"status": {"conditions": [{"type": "ReplicaFailure", "status": "True"}]}}),
                ),
                InProgress,
                "Replica Failure condition. Check Pods",
            ),
            (
                "replicaset ready",
                obj(
                    "apps/v1",
                    "ReplicaSet",
                    json!({"spec": {"replicas": 1},
                "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1, "fullyLabeledReplicas": 1}}),
                ),
                Current,
                "ReplicaSet is available. Replicas: 1",
            ),
            (
                "pod running ready",
                obj(
                    "v1",
                    "Pod",
                    json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}),
                ),
                Current,
                "Pod is Ready",
            ),
            (
                "pod crashloop",
                obj(
                    "v1",
                    "Pod",
                    json!({"status": {"phase": "Running", "containerStatuses": [
                {"name": "app", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}),
                ),
                Failed,
                "Containers in CrashLoop state: app",
            ),
            (
                "pod pending",
                obj("v1", "Pod", json!({"status": {"phase": "Pending"}})),
                InProgress,
                "Pod is in the Pending phase",
            ),
            (
                "pod unschedulable long ago",
                obj(
                    "v1",
                    "Pod",
                    json!({"metadata": {"creationTimestamp": "2020-01-01T00:00:00Z"},
                "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]}}),
                ),
                Failed,
                "Pod could not be scheduled",
            ),
            (
                "pod succeeded",
                obj("v1", "Pod", json!({"status": {"phase": "Succeeded"}})),
                Current,
                "Pod has completed successfully",
            ),
            (
                "pod no phase",
                obj("v1", "Pod", json!({})),
                InProgress,
                "Pod phase not available",
            ),
            (
                "job not started",
                obj("batch/v1", "Job", json!({})),
                InProgress,
                "Job not started",
            ),
            (
                "job complete",
                obj(
                    "batch/v1",
                    "Job",
                    json!({"spec": {"completions": 1}, "status": {"succeeded": 1,
                "conditions": [{"type": "Complete", "status": "True"}]}}),
                ),
                Current,
                "Job Completed. succeeded: 1/1",
            ),
            (
                "job failed",
                obj(
                    "batch/v1",
                    "Job",
                    json!({"status": {"failed": 2,
                "conditions": [{"type": "Failed", "status": "True"}]}}),
                ),
                Failed,
                "Job Failed. failed: 2/1",
            ),
            (
                "job running",
                obj(
                    "batch/v1",
                    "Job",
                    json!({"status": {"startTime": "2024-01-01T00:00:00Z", "active": 1}}),
                ),
                Current,
                "Job in progress. success:0, active: 1, failed: 0",
            ),
            (
                "pvc pending",
                obj(
                    "v1",
                    "PersistentVolumeClaim",
                    json!({"status": {"phase": "Pending"}}),
                ),
                InProgress,
                "PVC is not Bound. phase: Pending",
            ),
            (
                "pvc bound",
                obj(
                    "v1",
                    "PersistentVolumeClaim",
                    json!({"status": {"phase": "Bound"}}),
                ),
                Current,
                "PVC is Bound",
            ),
            (
                "lb service without ip",
                obj("v1", "Service", json!({"spec": {"type": "LoadBalancer"}})),
                InProgress,
                "ClusterIP not set. Service type: LoadBalancer",
            ),
            (
                "clusterip service",
                obj(
                    "v1",
                    "Service",
                    json!({"spec": {"type": "ClusterIP", "clusterIP": "10.0.0.1"}}),
                ),
                Current,
                "Service is ready",
            ),
            (
                "crd installing",
                obj(
                    "apiextensions.k8s.io/v1",
                    "CustomResourceDefinition",
                    json!({}),
                ),
                InProgress,
                "Install in progress",
            ),
            (
                "crd established",
                obj(
                    "apiextensions.k8s.io/v1",
                    "CustomResourceDefinition",
                    json!({"status": {"conditions": [
                {"type": "NamesAccepted", "status": "True"}, {"type": "Established", "status": "True"}]}}),
                ),
                Current,
                "CRD is established",
            ),
            (
                "crd names conflict",
                obj(
                    "apiextensions.k8s.io/v1",
                    "CustomResourceDefinition",
                    json!({"status": {"conditions": [
                {"type": "NamesAccepted", "status": "False", "reason": "ListKindConflict", "message": "conflict"}]}}),
                ),
                Failed,
                "conflict",
            ),
            (
                "cr ready",
                obj(
                    "example.com/v1",
                    "Widget",
                    json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
                ),
                Current,
                "Resource is Ready",
            ),
            (
                "cr not ready",
                obj(
                    "example.com/v1",
                    "Widget",
                    json!({"status": {"conditions": [
                {"type": "Ready", "status": "False", "reason": "Failing", "message": "broken"}]}}),
                ),
                InProgress,
                "broken",
            ),
            (
                "cr reconciling",
                obj(
                    "example.com/v1",
                    "Widget",
                    json!({"status": {"conditions": [
                {"type": "Reconciling", "status": "True", "message": "working"}, {"type": "Ready", "status": "True"}]}}),
                ),
                InProgress,
                "working",
            ),
            (
                "cr stalled",
                obj(
                    "example.com/v1",
                    "Widget",
                    json!({"status": {"conditions": [
                {"type": "Stalled", "status": "True", "message": "gave up"}]}}),
                ),
                Failed,
                "gave up",
            ),
            (
                "cr no conditions",
                obj("example.com/v1", "Widget", json!({"status": {}})),
                Current,
                "Resource is current",
            ),
            (
                "pdb",
                obj("policy/v1", "PodDisruptionBudget", json!({})),
                Current,
                "AllowedDisruptions has been computed.",
            ),
            (
                "cronjob",
                obj("batch/v1", "CronJob", json!({})),
                Current,
                "Resource is always ready",
            ),
        ];
        for (name, o, status, message) in cases {
            let r = compute(&o);
            assert_eq!((r.status, r.message.as_str()), (status, message), "{name}");
        }
    }

    #[test]
    fn timestamps() {
        assert!(age_seconds("2020-01-01T00:00:00Z").unwrap() > 86400 * 365);
        assert_eq!(age_seconds("garbage"), None);
        assert_eq!(Status::InProgress.to_string(), "InProgress");
    }
}
