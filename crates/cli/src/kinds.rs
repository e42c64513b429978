//! The Flux kinds the everyday commands work on, their API coordinates (from `crates/api`), and
//! what upstream reads out of each (revision, suspend flag, readiness, success message).

use api::meta::condition_type as condition;
use kube::Resource;
use kube::api::{Api, ApiResource, DynamicObject};
use serde_json::Value;

/// A Flux kind the CLI handles generically.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FluxKind {
    /// `source.toolkit.fluxcd.io/v1` GitRepository.
    GitRepository,
    /// `source.toolkit.fluxcd.io/v1` OCIRepository.
    OciRepository,
    /// `source.toolkit.fluxcd.io/v1` Bucket.
    Bucket,
    /// `source.toolkit.fluxcd.io/v1` HelmRepository.
    HelmRepository,
    /// `source.toolkit.fluxcd.io/v1` HelmChart.
    HelmChart,
    /// `kustomize.toolkit.fluxcd.io/v1` Kustomization.
    Kustomization,
    /// `helm.toolkit.fluxcd.io/v2` HelmRelease.
    HelmRelease,
}

/// Source kinds in the order `flux get sources all` lists them.
pub const SOURCES: [FluxKind; 5] = [
    FluxKind::GitRepository,
    FluxKind::OciRepository,
    FluxKind::Bucket,
    FluxKind::HelmRepository,
    FluxKind::HelmChart,
];

impl FluxKind {
    /// API coordinates, taken from the typed API in `crates/api`.
    pub fn resource(self) -> ApiResource {
        match self {
            Self::GitRepository => ApiResource::erase::<api::source::GitRepository>(&()),
            Self::OciRepository => ApiResource::erase::<api::source::OCIRepository>(&()),
            Self::Bucket => ApiResource::erase::<api::source::Bucket>(&()),
            Self::HelmRepository => ApiResource::erase::<api::source::HelmRepository>(&()),
            Self::HelmChart => ApiResource::erase::<api::source::HelmChart>(&()),
            Self::Kustomization => ApiResource::erase::<api::kustomize::Kustomization>(&()),
            Self::HelmRelease => ApiResource::erase::<api::helm::HelmRelease>(&()),
        }
    }

    /// The kind name (`GitRepository`).
    pub fn kind(self) -> String {
        match self {
            Self::GitRepository => api::source::GitRepository::kind(&()),
            Self::OciRepository => api::source::OCIRepository::kind(&()),
            Self::Bucket => api::source::Bucket::kind(&()),
            Self::HelmRepository => api::source::HelmRepository::kind(&()),
            Self::HelmChart => api::source::HelmChart::kind(&()),
            Self::Kustomization => api::kustomize::Kustomization::kind(&()),
            Self::HelmRelease => api::helm::HelmRelease::kind(&()),
        }
        .into_owned()
    }

    /// How upstream names the kind in suspend/resume/delete messages (`source git`).
    pub fn human_kind(self) -> &'static str {
        match self {
            Self::GitRepository => "source git",
            Self::OciRepository => "source oci",
            Self::Bucket => "source bucket",
            Self::HelmRepository => "source helm",
            Self::HelmChart => "source chart",
            Self::Kustomization => "kustomization",
            Self::HelmRelease => "helmrelease",
        }
    }

    /// Looks a kind up by its name (case-insensitive), as `--source=Kind/name` spells it.
    pub fn from_kind(name: &str) -> Option<Self> {
        [Self::Kustomization, Self::HelmRelease]
            .into_iter()
            .chain(SOURCES)
            .find(|k| k.kind().eq_ignore_ascii_case(name))
    }

    /// Namespaced API handle.
    pub fn api(self, client: &kube::Client, ns: &str) -> Api<DynamicObject> {
        Api::namespaced_with(client.clone(), ns, &self.resource())
    }

    /// API handle over all namespaces.
    pub fn api_all(self, client: &kube::Client) -> Api<DynamicObject> {
        Api::all_with(client.clone(), &self.resource())
    }

    /// The revision upstream shows for an object: the artifact's for sources, the last applied
    /// for Kustomizations, the latest release's chart version for HelmReleases.
    pub fn revision(self, obj: &Value) -> String {
        let status = &obj["status"];
        let s = match self {
            Self::Kustomization => status["lastAppliedRevision"].as_str(),
            Self::HelmRelease => status["history"][0]["chartVersion"]
                .as_str()
                .or_else(|| status["lastAttemptedRevision"].as_str()),
            _ => status["artifact"]["revision"].as_str(),
        };
        s.unwrap_or_default().to_string()
    }

    /// What `reconcile`/`resume`/`create` print once the object is ready.
    pub fn success_message(self, obj: &Value) -> String {
        let rev = self.revision(obj);
        match self {
            Self::HelmRelease => format!("applied revision {rev}"),
            Self::Kustomization => format!("applied revision {rev}"),
            _ => format!("fetched revision {rev}"),
        }
    }
}

/// Whether `spec.suspend` is true.
pub fn is_suspended(obj: &Value) -> bool {
    obj["spec"]["suspend"].as_bool().unwrap_or(false)
}

/// A condition of `status.conditions` by type (exact match).
pub fn condition<'a>(obj: &'a Value, ctype: &str) -> Option<&'a Value> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"].as_str() == Some(ctype))
}

/// READY and MESSAGE columns: the Ready condition's status and message, or upstream's
/// placeholder when the object was never reconciled.
pub fn ready_and_message(obj: &Value) -> (String, String) {
    match condition(obj, condition::READY) {
        Some(c) => (
            c["status"].as_str().unwrap_or_default().to_string(),
            c["message"].as_str().unwrap_or_default().to_string(),
        ),
        None => ("False".into(), "waiting to be reconciled".into()),
    }
}

/// `--status-selector type=status`: the last condition whose type matches case-insensitively
/// must have the given status (case-insensitively).
pub fn status_matches(obj: &Value, ctype: &str, cstatus: &str) -> bool {
    let found = obj["status"]["conditions"].as_array().and_then(|cs| {
        cs.iter().rev().find(|c| {
            c["type"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case(ctype))
        })
    });
    found.is_some_and(|c| {
        c["status"]
            .as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case(cstatus))
    })
}

/// Readiness of a reconciled object, in kstatus terms.
#[derive(Debug, PartialEq)]
pub enum Readiness {
    /// Still being reconciled (or not yet observed).
    InProgress,
    /// Ready=True for the current generation.
    Ready,
    /// Failed: Stalled, or Ready=False and no longer reconciling; carries the message.
    Failed(String),
}

/// Evaluates an object's readiness for its current generation.
pub fn readiness(obj: &Value) -> Readiness {
    let generation = obj["metadata"]["generation"].as_i64().unwrap_or(0);
    let observed = obj["status"]["observedGeneration"].as_i64().unwrap_or(-1);
    if observed < generation {
        return Readiness::InProgress;
    }
    let is_true = |t: &str| condition(obj, t).and_then(|c| c["status"].as_str()) == Some("True");
    if is_true(condition::STALLED) {
        let msg = condition(obj, condition::STALLED)
            .and_then(|c| c["message"].as_str())
            .unwrap_or_default();
        return Readiness::Failed(msg.to_string());
    }
    match condition(obj, condition::READY) {
        Some(c) if c["status"] == "True" => Readiness::Ready,
        Some(c) if c["status"] == "False" && !is_true(condition::RECONCILING) => {
            Readiness::Failed(c["message"].as_str().unwrap_or_default().to_string())
        }
        _ => Readiness::InProgress,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn api_coordinates_come_from_the_typed_api() {
        let r = FluxKind::GitRepository.resource();
        assert_eq!(r.api_version, "source.toolkit.fluxcd.io/v1");
        assert_eq!(r.plural, "gitrepositories");
        assert_eq!(
            FluxKind::HelmRelease.resource().api_version,
            "helm.toolkit.fluxcd.io/v2"
        );
        assert_eq!(
            FluxKind::from_kind("ocirepository"),
            Some(FluxKind::OciRepository)
        );
        assert_eq!(FluxKind::from_kind("Deployment"), None);
    }

    #[test]
    fn readiness_follows_generation_and_conditions() {
        let mut obj = json!({"metadata": {"generation": 2}, "status": {"observedGeneration": 1,
            "conditions": [{"type": "Ready", "status": "True", "message": "ok"}]}});
        assert_eq!(readiness(&obj), Readiness::InProgress);
        obj["status"]["observedGeneration"] = json!(2);
        assert_eq!(readiness(&obj), Readiness::Ready);
        obj["status"]["conditions"] = json!([
            {"type": "Ready", "status": "False", "message": "boom"},
            {"type": "Reconciling", "status": "True"}]);
        assert_eq!(readiness(&obj), Readiness::InProgress);
        obj["status"]["conditions"] =
            json!([{"type": "Ready", "status": "False", "message": "boom"}]);
        assert_eq!(readiness(&obj), Readiness::Failed("boom".into()));
        assert!(status_matches(&obj, "ready", "false"));
        assert!(!status_matches(&obj, "ready", "true"));
    }
}
