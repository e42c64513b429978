//! Workload status simulation: what the controller manager and the kubelet would write for
//! Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and Pods, so health checks (kstatus,
//! `kubectl rollout status`, `kubectl wait`) behave as on a cluster whose pods start.
//!
//! A workload becomes ready [`crate::Config::workload_ready_delay`] after each spec change
//! (first a "progressing" status, then the final one); a Deployment scaled to zero is available
//! at once. The annotation [`SIMULATE_ANNOTATION`] with the value `fail` makes it fail instead:
//! Deployments report `Progressing=False` (`ProgressDeadlineExceeded`), StatefulSets, DaemonSets
//! and ReplicaSets never get ready replicas, Jobs get `Failed` (`BackoffLimitExceeded`) and Pods
//! stay not ready (`CrashLoopBackOff`). The value `pending` keeps a workload progressing forever;
//! `off` leaves its status alone (as if no controller ran).
//!
//! Status writes go through the store like any status update (new resourceVersion, watch event,
//! generation untouched, managedFields entry for `kube-controller-manager` or `kubelet`).

use crate::server::Api;
use crate::store::{Change, EventType, ObjKey};
use crate::util::{meta_str, now_rfc3339};
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, watch};

/// Annotation that steers the simulation of one workload: `fail` or `pending`.
pub const SIMULATE_ANNOTATION: &str = "fluxrs.io/simulate";

/// The simulated kinds as (group, resource).
pub const SIMULATED: [(&str, &str); 6] = [
    ("apps", "deployments"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("apps", "replicasets"),
    ("batch", "jobs"),
    ("", "pods"),
];

fn is_simulated(k: &ObjKey) -> bool {
    SIMULATED
        .iter()
        .any(|(g, r)| k.group == *g && k.resource == *r)
}

/// Which status a workload gets now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Pods are starting: the controller has observed the change, nothing is ready yet.
    Progressing,
    /// Every replica is ready and available.
    Ready,
    /// The rollout failed (the `fail` annotation).
    Failed,
}

/// Per-object timers: when the current spec (uid + generation) was first observed.
struct Sim {
    delay: Duration,
    seen: HashMap<ObjKey, (String, Instant)>,
}

impl Sim {
    /// The phase of `obj` now, and when it will change if it is still progressing.
    fn phase(&mut self, key: &ObjKey, obj: &Value) -> (Phase, Option<Instant>) {
        let mode = simulate_mode(obj);
        let marker = format!(
            "{}/{}/{mode}",
            meta_str(obj, "uid"),
            obj.pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0)
        );
        let now = Instant::now();
        let already = already_observed(key, obj);
        let delay = self.delay;
        let entry = self.seen.entry(key.clone()).or_insert_with(|| {
            // After a restart, a status that already reflects this spec is not replayed.
            let start = if already {
                now.checked_sub(delay).unwrap_or(now)
            } else {
                now
            };
            (marker.clone(), start)
        });
        if entry.0 != marker {
            *entry = (marker, now);
        }
        if mode == "pending" {
            return (Phase::Progressing, None);
        }
        let due = entry.1 + delay;
        if now < due && !zero_replicas(key, obj) {
            return (Phase::Progressing, Some(due));
        }
        if mode == "fail" {
            (Phase::Failed, None)
        } else {
            (Phase::Ready, None)
        }
    }
}

fn simulate_mode(obj: &Value) -> &str {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(SIMULATE_ANNOTATION))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Defaults the API server itself sets on workloads (upstream's `SetDefaults_*` for apps/v1):
/// replicas, rollout strategies, history limits, progress deadline. `kubectl rollout status`
/// refuses StatefulSets and DaemonSets without a `RollingUpdate` strategy.
pub fn apply_defaults(group: &str, plural: &str, obj: &mut Value) {
    if group != "apps" || !obj.get("spec").is_some_and(Value::is_object) {
        return;
    }
    let spec = &mut obj["spec"];
    // Only objects are filled in: other shapes are left for validation to report.
    let set = |spec: &mut Value, k: &str, v: Value| {
        if let Some(m) = spec.as_object_mut()
            && m.get(k).is_none_or(Value::is_null)
        {
            m.insert(k.to_string(), v);
        }
    };
    match plural {
        "deployments" => {
            set(spec, "replicas", json!(1));
            set(spec, "revisionHistoryLimit", json!(10));
            set(spec, "progressDeadlineSeconds", json!(600));
            set(spec, "strategy", json!({}));
            set(&mut spec["strategy"], "type", json!("RollingUpdate"));
            if spec["strategy"]["type"] == "RollingUpdate" {
                set(&mut spec["strategy"], "rollingUpdate", json!({}));
                let ru = &mut spec["strategy"]["rollingUpdate"];
                set(ru, "maxUnavailable", json!("25%"));
                set(ru, "maxSurge", json!("25%"));
            }
        }
        "statefulsets" => {
            set(spec, "replicas", json!(1));
            set(spec, "revisionHistoryLimit", json!(10));
            set(spec, "podManagementPolicy", json!("OrderedReady"));
            set(spec, "updateStrategy", json!({}));
            set(&mut spec["updateStrategy"], "type", json!("RollingUpdate"));
            if spec["updateStrategy"]["type"] == "RollingUpdate" {
                set(&mut spec["updateStrategy"], "rollingUpdate", json!({}));
                set(
                    &mut spec["updateStrategy"]["rollingUpdate"],
                    "partition",
                    json!(0),
                );
            }
            set(
                spec,
                "persistentVolumeClaimRetentionPolicy",
                json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
            );
        }
        "daemonsets" => {
            set(spec, "revisionHistoryLimit", json!(10));
            set(spec, "updateStrategy", json!({}));
            set(&mut spec["updateStrategy"], "type", json!("RollingUpdate"));
            if spec["updateStrategy"]["type"] == "RollingUpdate" {
                set(&mut spec["updateStrategy"], "rollingUpdate", json!({}));
                let ru = &mut spec["updateStrategy"]["rollingUpdate"];
                set(ru, "maxUnavailable", json!(1));
                set(ru, "maxSurge", json!(0));
            }
        }
        "replicasets" => set(spec, "replicas", json!(1)),
        _ => {}
    }
}

fn already_observed(key: &ObjKey, obj: &Value) -> bool {
    match key.resource.as_str() {
        "pods" | "jobs" => obj.pointer("/status/startTime").is_some(),
        _ => {
            obj.pointer("/status/observedGeneration")
                .and_then(Value::as_i64)
                .is_some()
                && obj.pointer("/status/observedGeneration") == obj.pointer("/metadata/generation")
        }
    }
}

fn zero_replicas(key: &ObjKey, obj: &Value) -> bool {
    matches!(
        key.resource.as_str(),
        "deployments" | "replicasets" | "statefulsets"
    ) && replicas(obj) == 0
}

fn replicas(obj: &Value) -> i64 {
    obj.pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
        .max(0)
}

/// Runs the simulation until shutdown: reacts to every change of a simulated kind and to the
/// timers of progressing workloads.
pub async fn run(api: Arc<Api>, delay: Duration, mut shutdown: watch::Receiver<bool>) {
    let mut rx = api.store.subscribe();
    let mut sim = Sim {
        delay,
        seen: HashMap::new(),
    };
    let mut queue: BTreeSet<ObjKey> = all_keys(&api);
    let mut timers: Vec<(Instant, ObjKey)> = Vec::new();
    loop {
        for key in std::mem::take(&mut queue) {
            // One odd object must not stop the simulation for everything else.
            let due = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                reconcile(&api, &mut sim, &key)
            }))
            .unwrap_or_else(|_| {
                tracing::error!(resource = %key.resource, namespace = %key.namespace, name = %key.name, "workload simulation panicked");
                None
            });
            if let Some(due) = due {
                timers.push((due, key));
            }
        }
        let next = timers.iter().map(|(t, _)| *t).min();
        let sleep = async {
            match next {
                Some(t) => tokio::time::sleep_until(t.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            ev = rx.recv() => {
                let mut ev = ev;
                loop {
                    match ev {
                        Ok(e) => {
                            if is_simulated(&e.key) {
                                if e.etype == EventType::Deleted {
                                    sim.seen.remove(&e.key);
                                    queue.remove(&e.key);
                                } else {
                                    queue.insert(e.key.clone());
                                }
                            }
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => {
                            queue = all_keys(&api);
                            sim.seen.retain(|k, _| queue.contains(k));
                        }
                        Err(broadcast::error::RecvError::Closed) => return,
                    }
                    // Drain what is already queued so a burst is handled as one batch.
                    match rx.try_recv() {
                        Ok(e) => ev = Ok(e),
                        Err(broadcast::error::TryRecvError::Lagged(n)) => {
                            ev = Err(broadcast::error::RecvError::Lagged(n))
                        }
                        Err(_) => break,
                    }
                }
            }
            _ = sleep => {
                let now = Instant::now();
                timers.retain(|(t, k)| {
                    if *t <= now {
                        queue.insert(k.clone());
                        false
                    } else {
                        true
                    }
                });
            }
            _ = shutdown.changed() => return,
        }
    }
}

fn all_keys(api: &Api) -> BTreeSet<ObjKey> {
    let mut out = BTreeSet::new();
    for (g, r) in SIMULATED {
        for o in api.store.list(g, r, None).1 {
            out.insert(ObjKey::new(
                g,
                r,
                meta_str(&o, "namespace"),
                meta_str(&o, "name"),
            ));
        }
    }
    out
}

/// Brings one object's status to what the simulation wants now; returns when to look again.
fn reconcile(api: &Api, sim: &mut Sim, key: &ObjKey) -> Option<Instant> {
    let obj = api.store.get(key)?;
    if obj.pointer("/metadata/deletionTimestamp").is_some() || simulate_mode(&obj) == "off" {
        return None;
    }
    let (phase, due) = sim.phase(key, &obj);
    let nodes = api.store.count("", "nodes").max(1) as i64;
    let Some(mut status) = desired_status(key, &obj, phase, nodes) else {
        return due;
    };
    let old = obj.get("status").cloned().unwrap_or(json!({}));
    carry_times(&mut status, &old);
    if status == old {
        return due;
    }
    let uid = meta_str(&obj, "uid").to_string();
    let manager = if key.resource == "pods" {
        "kubelet"
    } else {
        "kube-controller-manager"
    };
    let res = api.store.mutate(key, |cur, _| {
        let Some(cur) = cur else {
            return Ok(Change::Keep);
        };
        if meta_str(cur, "uid") != uid || cur.get("metadata") != obj.get("metadata") {
            // Changed meanwhile: the change's own event queues another pass.
            return Ok(Change::Keep);
        }
        let mut new = (**cur).clone();
        new["status"] = status.clone();
        let av = cur
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        crate::fields::track_update(Some(cur), &mut new, manager, &av, Some("status"), true);
        Ok(Change::Put(new))
    });
    if let Err(e) = res {
        tracing::warn!(error = %e, resource = %key.resource, namespace = %key.namespace, name = %key.name, "writing simulated workload status failed");
    }
    due
}

/// The status the simulated controllers would write for `obj` in `phase` (None: leave as is).
pub fn desired_status(key: &ObjKey, obj: &Value, phase: Phase, nodes: i64) -> Option<Value> {
    let old = obj.get("status").cloned().unwrap_or(json!({}));
    let generation = obj
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let name = meta_str(obj, "name");
    let hash = template_hash(obj);
    let now = now_rfc3339();
    let n = replicas(obj);
    match key.resource.as_str() {
        "deployments" => Some(deployment(obj, &old, phase, generation, name, &hash, &now)),
        "replicasets" => {
            let mut s = json!({"observedGeneration": generation, "replicas": n});
            if n > 0 {
                s["fullyLabeledReplicas"] = json!(n);
            }
            if phase == Phase::Ready && n > 0 {
                s["readyReplicas"] = json!(n);
                s["availableReplicas"] = json!(n);
            }
            Some(s)
        }
        "statefulsets" => {
            let rev = format!("{name}-{hash}");
            let current = match phase {
                Phase::Ready => rev.clone(),
                _ => old
                    .get("currentRevision")
                    .and_then(Value::as_str)
                    .unwrap_or(&rev)
                    .to_string(),
            };
            let mut s = json!({
                "observedGeneration": generation,
                "replicas": n,
                "currentReplicas": n,
                "updatedReplicas": n,
                "currentRevision": current,
                "updateRevision": rev,
                "collisionCount": 0,
                "availableReplicas": 0,
            });
            if phase == Phase::Ready {
                s["availableReplicas"] = json!(n);
                if n > 0 {
                    s["readyReplicas"] = json!(n);
                }
            }
            Some(s)
        }
        "daemonsets" => {
            let mut s = json!({
                "observedGeneration": generation,
                "desiredNumberScheduled": nodes,
                "currentNumberScheduled": nodes,
                "numberMisscheduled": 0,
                "numberReady": 0,
                "updatedNumberScheduled": nodes,
            });
            if phase == Phase::Ready {
                s["numberReady"] = json!(nodes);
                s["numberAvailable"] = json!(nodes);
            } else {
                s["numberUnavailable"] = json!(nodes);
            }
            Some(s)
        }
        "jobs" => job(obj, &old, phase, &now),
        "pods" => Some(pod(obj, phase, &now)),
        _ => None,
    }
}

fn cond(t: &str, status: &str, reason: &str, message: &str, now: &str, update: bool) -> Value {
    let mut c = json!({
        "type": t,
        "status": status,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    });
    if update {
        c["lastUpdateTime"] = json!(now);
    }
    c
}

fn deployment(
    obj: &Value,
    old: &Value,
    phase: Phase,
    generation: i64,
    name: &str,
    hash: &str,
    now: &str,
) -> Value {
    let n = replicas(obj);
    let rs = format!("{name}-{hash}");
    let paused = obj
        .pointer("/spec/paused")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut s = json!({"observedGeneration": generation});
    if n > 0 {
        s["replicas"] = json!(n);
        s["updatedReplicas"] = json!(n);
    }
    // A rollout over pods that were all available keeps them serving (rolling update): the
    // Deployment stays Available while the new ReplicaSet is not ready (or fails).
    let serving = n > 0
        && old.get("availableReplicas").and_then(Value::as_i64) >= Some(n)
        && old
            .get("conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Available" && c["status"] == "True")
            });
    if serving && phase != Phase::Ready {
        s["updatedReplicas"] = json!(0);
        s["readyReplicas"] = json!(n);
        s["availableReplicas"] = json!(n);
        let progressing = match phase {
            Phase::Failed => cond(
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                &format!("ReplicaSet \"{rs}\" has timed out progressing."),
                now,
                true,
            ),
            _ => cond(
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                &format!("ReplicaSet \"{rs}\" is progressing."),
                now,
                true,
            ),
        };
        let available = cond(
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            now,
            true,
        );
        s["conditions"] = json!([available, progressing]);
        return s;
    }
    let available = |s: &mut Value| {
        if n > 0 {
            s["readyReplicas"] = json!(n);
            s["availableReplicas"] = json!(n);
        }
        cond(
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            now,
            true,
        )
    };
    let unavailable = |s: &mut Value| {
        s["unavailableReplicas"] = json!(n);
        // maxUnavailable (default 25%, rounded down) may still leave the minimum met.
        let max_unavailable = max_unavailable(obj, n);
        if n - max_unavailable <= 0 {
            cond(
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                now,
                true,
            )
        } else {
            cond(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                now,
                true,
            )
        }
    };
    let (avail, progressing) = match phase {
        Phase::Ready => (
            available(&mut s),
            cond(
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                &format!("ReplicaSet \"{rs}\" has successfully progressed."),
                now,
                true,
            ),
        ),
        Phase::Progressing => (
            unavailable(&mut s),
            cond(
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                &format!("ReplicaSet \"{rs}\" is progressing."),
                now,
                true,
            ),
        ),
        Phase::Failed => (
            unavailable(&mut s),
            cond(
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                &format!("ReplicaSet \"{rs}\" has timed out progressing."),
                now,
                true,
            ),
        ),
    };
    let progressing = if paused {
        cond(
            "Progressing",
            "Unknown",
            "DeploymentPaused",
            "Deployment is paused",
            now,
            true,
        )
    } else {
        progressing
    };
    s["conditions"] = json!([avail, progressing]);
    s
}

/// `spec.strategy.rollingUpdate.maxUnavailable` resolved against `n` (default 25%, rounded down).
fn max_unavailable(obj: &Value, n: i64) -> i64 {
    if obj.pointer("/spec/strategy/type").and_then(Value::as_str) == Some("Recreate") {
        return n;
    }
    match obj.pointer("/spec/strategy/rollingUpdate/maxUnavailable") {
        Some(Value::Number(v)) => v.as_i64().unwrap_or(0),
        Some(Value::String(p)) => p
            .trim_end_matches('%')
            .parse::<i64>()
            .map(|pct| n * pct / 100)
            .unwrap_or(0),
        _ => n * 25 / 100,
    }
}

fn job(obj: &Value, old: &Value, phase: Phase, now: &str) -> Option<Value> {
    let finished = old
        .get("conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                matches!(c["type"].as_str(), Some("Complete" | "Failed")) && c["status"] == "True"
            })
        });
    if finished {
        // A finished Job's status is final.
        return None;
    }
    if obj.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
        return Some(json!({
            "conditions": [cond("Suspended", "True", "JobSuspended", "Job suspended", now, false)
                .as_object()
                .cloned()
                .map(|mut m| { m.insert("lastProbeTime".into(), json!(now)); Value::Object(m) })],
        }));
    }
    let completions = obj
        .pointer("/spec/completions")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let parallelism = obj
        .pointer("/spec/parallelism")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let backoff = obj
        .pointer("/spec/backoffLimit")
        .and_then(Value::as_i64)
        .unwrap_or(6);
    let mut s = json!({
        "startTime": now,
        "ready": 0,
        "terminating": 0,
        "uncountedTerminatedPods": {},
    });
    let job_cond = |t: &str, reason: &str, message: &str| {
        let mut c = cond(t, "True", reason, message, now, false);
        c["lastProbeTime"] = json!(now);
        c
    };
    match phase {
        Phase::Progressing => {
            s["active"] = json!(parallelism.min(completions).max(1));
        }
        Phase::Ready => {
            s["succeeded"] = json!(completions);
            s["completionTime"] = json!(now);
            let msg = "Reached expected number of succeeded pods";
            s["conditions"] = json!([
                job_cond("SuccessCriteriaMet", "CompletionsReached", msg),
                job_cond("Complete", "CompletionsReached", msg),
            ]);
        }
        Phase::Failed => {
            s["failed"] = json!(backoff + 1);
            let msg = "Job has reached the specified backoff limit";
            s["conditions"] = json!([
                job_cond("FailureTarget", "BackoffLimitExceeded", msg),
                job_cond("Failed", "BackoffLimitExceeded", msg),
            ]);
        }
    }
    Some(s)
}

fn pod(obj: &Value, phase: Phase, now: &str) -> Value {
    let containers: Vec<&Value> = obj
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let names: Vec<&str> = containers
        .iter()
        .filter_map(|c| c.get("name").and_then(Value::as_str))
        .collect();
    let ready = phase == Phase::Ready;
    let uid = meta_str(obj, "uid");
    let hex = uid.replace('-', "");
    let ip_seed = u32::from_str_radix(&hex[..hex.len().min(6)], 16).unwrap_or(7);
    let pod_ip = format!("10.244.{}.{}", (ip_seed >> 8) % 250, ip_seed % 250 + 2);
    let pc = |t: &str, ok: bool| {
        let mut c = json!({"type": t, "status": if ok { "True" } else { "False" }, "lastProbeTime": null, "lastTransitionTime": now});
        if !ok {
            c["reason"] = json!("ContainersNotReady");
            c["message"] = json!(format!(
                "containers with unready status: [{}]",
                names.join(" ")
            ));
        }
        c
    };
    let statuses: Vec<Value> = containers
        .iter()
        .map(|c| {
            let cname = c.get("name").and_then(Value::as_str).unwrap_or("");
            let image = c.get("image").and_then(Value::as_str).unwrap_or("");
            let id = crate::util::fnv_hex(format!("{uid}/{cname}").as_bytes()).to_lowercase();
            let mut st = json!({
                "name": cname,
                "image": image,
                "imageID": "",
                "containerID": format!("containerd://{id}{id}{id}{id}"),
                "ready": ready,
                "started": ready,
                "restartCount": 0,
            });
            if ready {
                st["state"] = json!({"running": {"startedAt": now}});
            } else {
                st["restartCount"] = json!(3);
                st["state"] = json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off 40s restarting failed container={cname} pod={}_{}({uid})", meta_str(obj, "name"), meta_str(obj, "namespace"))}});
                st["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "Error", "startedAt": now, "finishedAt": now, "containerID": format!("containerd://{id}{id}{id}{id}")}});
            }
            st
        })
        .collect();
    let (phase_name, conditions) = match phase {
        Phase::Progressing => (
            "Pending",
            vec![
                pc("PodReadyToStartContainers", false),
                pc("Initialized", true),
                pc("Ready", false),
                pc("ContainersReady", false),
                pc("PodScheduled", true),
            ],
        ),
        _ => (
            "Running",
            vec![
                pc("PodReadyToStartContainers", true),
                pc("Initialized", true),
                pc("Ready", ready),
                pc("ContainersReady", ready),
                pc("PodScheduled", true),
            ],
        ),
    };
    let mut conditions = conditions;
    if phase == Phase::Progressing {
        // Not-yet-started containers report ContainerCreating, not a crash.
        for c in &mut conditions {
            if c["status"] == "False" {
                c.as_object_mut().map(|m| {
                    m.remove("reason");
                    m.remove("message")
                });
                if c["type"] == "Ready" || c["type"] == "ContainersReady" {
                    c["reason"] = json!("ContainersNotReady");
                    c["message"] = json!(format!(
                        "containers with unready status: [{}]",
                        names.join(" ")
                    ));
                }
            }
        }
    }
    let statuses: Vec<Value> = if phase == Phase::Progressing {
        statuses
            .into_iter()
            .map(|mut s| {
                s["restartCount"] = json!(0);
                s["state"] = json!({"waiting": {"reason": "ContainerCreating"}});
                s.as_object_mut().map(|m| m.remove("lastState"));
                s
            })
            .collect()
    } else {
        statuses
    };
    let qos = qos_class(&containers);
    json!({
        "phase": phase_name,
        "conditions": conditions,
        "hostIP": "10.0.0.10",
        "hostIPs": [{"ip": "10.0.0.10"}],
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": now,
        "containerStatuses": statuses,
        "qosClass": qos,
    })
}

fn qos_class(containers: &[&Value]) -> &'static str {
    let res = |c: &Value, k: &str| {
        c.pointer(&format!("/resources/{k}"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    if containers
        .iter()
        .all(|c| res(c, "requests").is_empty() && res(c, "limits").is_empty())
    {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        let (req, lim) = (res(c, "requests"), res(c, "limits"));
        ["cpu", "memory"]
            .iter()
            .all(|r| lim.contains_key(*r) && req.get(*r).is_none_or(|v| Some(v) == lim.get(*r)))
    });
    if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// Keeps the timestamps of the current status where the corresponding value did not change
/// (conditions keep `lastTransitionTime` while their status holds and `lastUpdateTime` while
/// nothing changes; start times are set once), so an unchanged status compares equal.
fn carry_times(new: &mut Value, old: &Value) {
    for f in ["startTime", "completionTime"] {
        if let (Some(o), Some(_)) = (old.get(f), new.get(f)) {
            new[f] = o.clone();
        }
    }
    let old_conds: Vec<&Value> = old
        .get("conditions")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    if let Some(conds) = new.get_mut("conditions").and_then(Value::as_array_mut) {
        for c in conds {
            let Some(o) = old_conds.iter().find(|o| o["type"] == c["type"]) else {
                continue;
            };
            if o["status"] == c["status"] {
                copy(c, o, "lastTransitionTime");
                if o["reason"] == c["reason"] && o["message"] == c["message"] {
                    copy(c, o, "lastUpdateTime");
                    copy(c, o, "lastProbeTime");
                }
            }
        }
    }
    let old_cs: Map<String, Value> = old
        .get("containerStatuses")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|c| (c["name"].as_str().unwrap_or("").to_string(), c.clone()))
                .collect()
        })
        .unwrap_or_default();
    if let Some(cs) = new
        .get_mut("containerStatuses")
        .and_then(Value::as_array_mut)
    {
        for c in cs {
            let Some(o) = old_cs.get(c["name"].as_str().unwrap_or("")) else {
                continue;
            };
            for p in [
                "/state/running/startedAt",
                "/lastState/terminated/startedAt",
                "/lastState/terminated/finishedAt",
            ] {
                if let (Some(ov), Some(nv)) = (o.pointer(p), c.pointer_mut(p)) {
                    *nv = ov.clone();
                }
            }
        }
    }
}

fn copy(dst: &mut Value, src: &Value, field: &str) {
    if let Some(v) = src.get(field)
        && dst.get(field).is_some()
    {
        dst[field] = v.clone();
    }
}

/// A stable, pod-template-hash-like suffix for the template of a workload.
fn template_hash(obj: &Value) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let t = obj
        .pointer("/spec/template")
        .map(|t| t.to_string())
        .unwrap_or_default();
    let mut h: u32 = 0x811c_9dc5;
    for b in t.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    let mut out = String::new();
    let mut v = h as u64;
    for _ in 0..10 {
        out.push(ALPHABET[(v % ALPHABET.len() as u64) as usize] as char);
        v /= ALPHABET.len() as u64;
        if v == 0 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(g: &str, r: &str) -> ObjKey {
        ObjKey::new(g, r, "ns", "x")
    }

    #[test]
    fn deployment_ready_and_failed() {
        let d = json!({"metadata": {"name": "x", "uid": "u", "generation": 3}, "spec": {"replicas": 2, "template": {}}});
        let s = desired_status(&key("apps", "deployments"), &d, Phase::Ready, 1).unwrap();
        assert_eq!(s["observedGeneration"], 3);
        assert_eq!(s["availableReplicas"], 2);
        assert_eq!(s["conditions"][0]["reason"], "MinimumReplicasAvailable");
        assert_eq!(s["conditions"][1]["reason"], "NewReplicaSetAvailable");
        let f = desired_status(&key("apps", "deployments"), &d, Phase::Failed, 1).unwrap();
        assert_eq!(f["conditions"][1]["status"], "False");
        assert_eq!(f["conditions"][1]["reason"], "ProgressDeadlineExceeded");
        assert!(f.get("availableReplicas").is_none());
    }

    #[test]
    fn rollout_over_available_pods_stays_available() {
        let mut d = json!({"metadata": {"name": "x", "uid": "u", "generation": 1}, "spec": {"replicas": 2, "template": {}}});
        let ready = desired_status(&key("apps", "deployments"), &d, Phase::Ready, 1).unwrap();
        d["status"] = ready;
        d["metadata"]["generation"] = json!(2);
        let s = desired_status(&key("apps", "deployments"), &d, Phase::Progressing, 1).unwrap();
        assert_eq!(s["updatedReplicas"], 0);
        assert_eq!(s["availableReplicas"], 2);
        assert_eq!(s["conditions"][0]["status"], "True");
        assert_eq!(s["conditions"][1]["reason"], "ReplicaSetUpdated");
    }

    #[test]
    fn carried_times_make_equal_statuses_compare_equal() {
        let d = json!({"metadata": {"name": "x", "uid": "u", "generation": 1}, "spec": {"replicas": 1}});
        let mut a = desired_status(&key("apps", "deployments"), &d, Phase::Ready, 1).unwrap();
        a["conditions"][0]["lastTransitionTime"] = json!("2020-01-01T00:00:00Z");
        let mut b = desired_status(&key("apps", "deployments"), &d, Phase::Ready, 1).unwrap();
        carry_times(&mut b, &a);
        assert_eq!(a, b);
    }

    #[test]
    fn max_unavailable_forms() {
        let d = |s: Value| json!({"spec": {"strategy": s}});
        assert_eq!(max_unavailable(&d(json!({})), 4), 1);
        assert_eq!(
            max_unavailable(&d(json!({"rollingUpdate": {"maxUnavailable": "50%"}})), 4),
            2
        );
        assert_eq!(
            max_unavailable(&d(json!({"rollingUpdate": {"maxUnavailable": 3}})), 4),
            3
        );
        assert_eq!(max_unavailable(&d(json!({"type": "Recreate"})), 4), 4);
    }

    #[test]
    fn job_final_status_is_kept() {
        let j = json!({"metadata": {"name": "j"}, "spec": {}, "status": {"conditions": [{"type": "Complete", "status": "True"}]}});
        assert!(desired_status(&key("batch", "jobs"), &j, Phase::Failed, 1).is_none());
        let j = json!({"metadata": {"name": "j"}, "spec": {"completions": 3}});
        let s = desired_status(&key("batch", "jobs"), &j, Phase::Ready, 1).unwrap();
        assert_eq!(s["succeeded"], 3);
        assert_eq!(s["conditions"][1]["type"], "Complete");
    }
}
