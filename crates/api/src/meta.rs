//! Types shared by every Flux API group (the `fluxcd/pkg/apis/meta` vocabulary): conditions,
//! artifacts, object references, inventories, selectors, and the constants for condition types,
//! reasons, annotations, labels and the finalizer.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The Go duration pattern Flux puts on every `interval` field. Anything else (`10years`, `1d`,
/// a bare number) is rejected at admission, so a malformed duration never reaches a controller.
pub const DURATION_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$";
/// The duration pattern of `timeout` fields that do not accept hours.
pub const TIMEOUT_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$";

/// The finalizer every Flux controller puts on the objects it reconciles.
pub const FINALIZER: &str = "finalizers.fluxcd.io";

/// Annotation that asks for an immediate reconciliation; its value is echoed in
/// `status.lastHandledReconcileAt` once handled.
pub const RECONCILE_REQUEST_ANNOTATION: &str = "reconcile.fluxcd.io/requestedAt";
/// Annotation that asks helm-controller to force a release (value echoed in `lastHandledForceAt`).
pub const FORCE_REQUEST_ANNOTATION: &str = "reconcile.fluxcd.io/forceAt";
/// Annotation that asks helm-controller to reset its remediation counters.
pub const RESET_REQUEST_ANNOTATION: &str = "reconcile.fluxcd.io/resetAt";

/// Condition types of the kstatus vocabulary and of Flux's controllers.
pub mod condition_type {
    /// The object is fully reconciled.
    pub const READY: &str = "Ready";
    /// The controller is working on the object.
    pub const RECONCILING: &str = "Reconciling";
    /// The controller cannot make progress without a change to the object.
    pub const STALLED: &str = "Stalled";
    /// The applied objects are healthy (Kustomization, HelmRelease).
    pub const HEALTHY: &str = "Healthy";
    /// The artifact of the source is in storage.
    pub const ARTIFACT_IN_STORAGE: &str = "ArtifactInStorage";
    /// The source could not be fetched.
    pub const FETCH_FAILED: &str = "FetchFailed";
    /// The source's signature was verified.
    pub const SOURCE_VERIFIED: &str = "SourceVerified";
    /// The artifact is outdated compared to the spec.
    pub const ARTIFACT_OUTDATED: &str = "ArtifactOutdated";
    /// Storage operations failed.
    pub const STORAGE_OPERATION_FAILED: &str = "StorageOperationFailed";
    /// Included artifacts could not be fetched (GitRepository `include`).
    pub const INCLUDE_UNAVAILABLE: &str = "IncludeUnavailable";
    /// A HelmChart could not be built or packaged.
    pub const BUILD_FAILED: &str = "BuildFailed";
    /// The cluster state drifted from the HelmRelease (helm-controller).
    pub const DRIFTED: &str = "Drifted";
    /// The HelmRelease's release is installed/upgraded.
    pub const RELEASED: &str = "Released";
    /// The HelmRelease's tests succeeded.
    pub const TEST_SUCCESS: &str = "TestSuccess";
    /// The HelmRelease was remediated (rolled back or uninstalled).
    pub const REMEDIATED: &str = "Remediated";
}

/// Condition reasons used by Flux's controllers (same strings as upstream).
pub mod reason {
    /// The operation succeeded.
    pub const SUCCEEDED: &str = "Succeeded";
    /// The operation failed.
    pub const FAILED: &str = "Failed";
    /// The reconciliation is in progress.
    pub const PROGRESSING: &str = "Progressing";
    /// The reconciliation is progressing again after a failure.
    pub const PROGRESSING_WITH_RETRY: &str = "ProgressingWithRetry";
    /// The object is suspended.
    pub const SUSPENDED: &str = "Suspended";
    /// A `dependsOn` dependency is not ready.
    pub const DEPENDENCY_NOT_READY: &str = "DependencyNotReady";
    /// Kustomization applied and (if asked) healthy.
    pub const RECONCILIATION_SUCCEEDED: &str = "ReconciliationSucceeded";
    /// Applying the objects failed.
    pub const RECONCILIATION_FAILED: &str = "ReconciliationFailed";
    /// The source artifact could not be fetched.
    pub const ARTIFACT_FAILED: &str = "ArtifactFailed";
    /// The kustomization or chart could not be built.
    pub const BUILD_FAILED: &str = "BuildFailed";
    /// Health checks failed.
    pub const HEALTH_CHECK_FAILED: &str = "HealthCheckFailed";
    /// Garbage collection of stale objects failed.
    pub const PRUNE_FAILED: &str = "PruneFailed";
    /// `spec.path` does not exist in the artifact.
    pub const INVALID_PATH: &str = "InvalidPath";
    /// A cross-namespace reference was refused (`--no-cross-namespace-refs`).
    pub const ACCESS_DENIED: &str = "AccessDenied";
    /// The stored artifact matches the upstream revision.
    pub const ARTIFACT_UP_TO_DATE: &str = "ArtifactUpToDate";
    /// Reading or writing artifact storage failed.
    pub const STORAGE_OPERATION_FAILED: &str = "StorageOperationFailed";
    /// A URL in the spec is malformed.
    pub const URL_INVALID: &str = "URLInvalid";
    /// Authentication with the source failed (missing or wrong credentials).
    pub const AUTHENTICATION_FAILED: &str = "AuthenticationFailed";
    /// A Git operation failed.
    pub const GIT_OPERATION_FAILED: &str = "GitOperationFailed";
    /// A Git operation succeeded.
    pub const GIT_OPERATION_SUCCEEDED: &str = "GitOperationSucceeded";
    /// Signature verification of the source failed.
    pub const VERIFICATION_FAILED: &str = "VerificationFailed";
    /// Pulling an OCI artifact failed.
    pub const OCI_PULL_FAILED: &str = "OCIArtifactPullFailed";
    /// Extracting or copying an OCI layer failed.
    pub const OCI_LAYER_OPERATION_FAILED: &str = "OCIArtifactLayerOperationFailed";
    /// A bucket operation failed.
    pub const BUCKET_OPERATION_FAILED: &str = "BucketOperationFailed";
    /// Fetching or parsing a Helm repository index failed.
    pub const INDEXATION_FAILED: &str = "IndexationFailed";
    /// Pulling a Helm chart failed.
    pub const CHART_PULL_FAILED: &str = "ChartPullFailed";
    /// Packaging a Helm chart failed.
    pub const CHART_PACKAGE_FAILED: &str = "ChartPackageFailed";
    /// Archiving a source into an artifact failed.
    pub const ARCHIVE_OPERATION_FAILED: &str = "ArchiveOperationFailed";
    /// The artifact lock could not be acquired.
    pub const ACQUIRE_LOCK_FAILED: &str = "AcquireLockFailed";
    /// Helm install succeeded.
    pub const INSTALL_SUCCEEDED: &str = "InstallSucceeded";
    /// Helm install failed.
    pub const INSTALL_FAILED: &str = "InstallFailed";
    /// Helm upgrade succeeded.
    pub const UPGRADE_SUCCEEDED: &str = "UpgradeSucceeded";
    /// Helm upgrade failed.
    pub const UPGRADE_FAILED: &str = "UpgradeFailed";
    /// Helm tests succeeded.
    pub const TEST_SUCCEEDED: &str = "TestSucceeded";
    /// Helm tests failed.
    pub const TEST_FAILED: &str = "TestFailed";
    /// Helm rollback succeeded.
    pub const ROLLBACK_SUCCEEDED: &str = "RollbackSucceeded";
    /// Helm rollback failed.
    pub const ROLLBACK_FAILED: &str = "RollbackFailed";
    /// Helm uninstall succeeded.
    pub const UNINSTALL_SUCCEEDED: &str = "UninstallSucceeded";
    /// Helm uninstall failed.
    pub const UNINSTALL_FAILED: &str = "UninstallFailed";
    /// The cluster state drifted from the release.
    pub const DRIFT_DETECTED: &str = "DriftDetected";
    /// No drift between the cluster and the release.
    pub const NO_DRIFT_DETECTED: &str = "NoDriftDetected";
}

/// Labels and annotations Flux puts on, or reads from, the objects it applies.
pub mod labels {
    /// Name of the Kustomization that applied an object.
    pub const KUSTOMIZE_NAME: &str = "kustomize.toolkit.fluxcd.io/name";
    /// Namespace of the Kustomization that applied an object.
    pub const KUSTOMIZE_NAMESPACE: &str = "kustomize.toolkit.fluxcd.io/namespace";
    /// Name of the HelmRelease that owns an object.
    pub const HELM_NAME: &str = "helm.toolkit.fluxcd.io/name";
    /// Namespace of the HelmRelease that owns an object.
    pub const HELM_NAMESPACE: &str = "helm.toolkit.fluxcd.io/namespace";
    /// Server-side apply policy of an object: `Ignore`, `IfNotPresent`, `Merge`, `Override`.
    pub const KUSTOMIZE_SSA: &str = "kustomize.toolkit.fluxcd.io/ssa";
    /// `Disabled` keeps an object out of garbage collection.
    pub const KUSTOMIZE_PRUNE: &str = "kustomize.toolkit.fluxcd.io/prune";
    /// `Enabled` recreates an object whose immutable fields changed.
    pub const KUSTOMIZE_FORCE: &str = "kustomize.toolkit.fluxcd.io/force";
    /// `disabled` skips post-build variable substitution for an object.
    pub const KUSTOMIZE_SUBSTITUTE: &str = "kustomize.toolkit.fluxcd.io/substitute";
    /// `disabled` skips SOPS decryption for an object.
    pub const KUSTOMIZE_DECRYPT: &str = "kustomize.toolkit.fluxcd.io/decrypt";
    /// `disabled` excludes an object from a HelmRelease's drift detection.
    pub const HELM_DRIFT_DETECTION: &str = "helm.toolkit.fluxcd.io/driftDetection";
    /// Checksum annotation kustomize-controller puts on applied objects.
    pub const KUSTOMIZE_CHECKSUM: &str = "kustomize.toolkit.fluxcd.io/checksum";
}

/// Event metadata keys Flux puts in event annotations (prefixed with the controller's group).
pub mod event {
    /// Revision the event refers to, as `<group>/revision`.
    pub const REVISION_KEY: &str = "revision";
    /// Token that deduplicates notifications, as `<group>/token`.
    pub const TOKEN_KEY: &str = "token";
}

/// Go `time.Duration` strings, the format of every `interval`/`timeout` field and of Flux's flags.
pub mod duration {
    use std::time::Duration;

    /// Parses a Go duration (`1m30s`, `500ms`, `1.5h`, `0`); `None` for anything else
    /// (`10years`, a bare `5`, an empty string).
    pub fn parse(s: &str) -> Option<Duration> {
        let s = s.trim();
        if s == "0" {
            return Some(Duration::ZERO);
        }
        if s.is_empty() {
            return None;
        }
        let mut total_nanos = 0f64;
        let mut rest = s;
        while !rest.is_empty() {
            let num_end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            if num_end == 0 {
                return None;
            }
            let n: f64 = rest[..num_end].parse().ok()?;
            rest = &rest[num_end..];
            let unit_end = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let nanos_per_unit = match &rest[..unit_end] {
                "ns" => 1.0,
                "us" | "µs" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                "m" => 60e9,
                "h" => 3600e9,
                _ => return None,
            };
            total_nanos += n * nanos_per_unit;
            rest = &rest[unit_end..];
        }
        Some(Duration::from_nanos(total_nanos.round() as u64))
    }

    /// Formats a duration as Go's `time.Duration.String()` does (`1m0s`, `1h30m0s`, `500ms`).
    pub fn format(d: Duration) -> String {
        let nanos = d.as_nanos();
        if nanos == 0 {
            return "0s".into();
        }
        if nanos < 1_000_000_000 {
            // Sub-second values use the largest unit that keeps an integer part.
            let (unit, div) = if nanos < 1_000 {
                ("ns", 1u128)
            } else if nanos < 1_000_000 {
                ("µs", 1_000)
            } else {
                ("ms", 1_000_000)
            };
            return format!("{}{}", trim_fraction(nanos, div), unit);
        }
        let total_secs = nanos / 1_000_000_000;
        let frac = nanos % 1_000_000_000;
        let h = total_secs / 3600;
        let m = (total_secs % 3600) / 60;
        let s = total_secs % 60;
        let secs = trim_fraction(s * 1_000_000_000 + frac, 1_000_000_000);
        if h > 0 {
            format!("{h}h{m}m{secs}s")
        } else if m > 0 {
            format!("{m}m{secs}s")
        } else {
            format!("{secs}s")
        }
    }

    /// `value / div` as a decimal with trailing zeros removed.
    fn trim_fraction(value: u128, div: u128) -> String {
        let int = value / div;
        let frac = value % div;
        if frac == 0 {
            return int.to_string();
        }
        let width = div.to_string().len() - 1;
        let digits = format!("{frac:0width$}");
        format!("{int}.{}", digits.trim_end_matches('0'))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn parses_and_formats_like_go() {
            for (input, secs) in [
                ("1m30s", 90.0),
                ("500ms", 0.5),
                ("1.5h", 5400.0),
                ("0", 0.0),
            ] {
                assert_eq!(parse(input), Some(Duration::from_secs_f64(secs)), "{input}");
            }
            for bad in ["10years", "5", "", "m", "5x", "1d"] {
                assert_eq!(parse(bad), None, "{bad}");
            }
            for (input, go) in [
                ("5m", "5m0s"),
                ("1h", "1h0m0s"),
                ("90s", "1m30s"),
                ("500ms", "500ms"),
                ("1.5s", "1.5s"),
            ] {
                assert_eq!(format(parse(input).unwrap()), go, "{input}");
            }
        }
    }
}

/// A condition in the kstatus vocabulary (the shape of `metav1.Condition`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// Type of the condition, e.g. `Ready`.
    #[schemars(
        regex(
            pattern = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
        ),
        length(max = 316)
    )]
    pub r#type: String,
    /// `True`, `False` or `Unknown`.
    #[schemars(extend("enum" = ["True", "False", "Unknown"]))]
    pub status: String,
    /// Generation of the object the condition was computed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0), extend("format" = "int64"))]
    pub observed_generation: Option<i64>,
    /// When the status last changed (RFC 3339).
    #[schemars(extend("format" = "date-time"))]
    pub last_transition_time: String,
    /// Machine-readable CamelCase reason.
    #[schemars(
        regex(pattern = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"),
        length(min = 1, max = 1024)
    )]
    pub reason: String,
    /// Human-readable message.
    #[schemars(length(max = 32768))]
    pub message: String,
}

/// An artifact produced by a source: a tarball in storage, addressed by URL and verified by digest.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// Path of the artifact relative to the storage root: `<kind>/<namespace>/<name>/<file>`.
    pub path: String,
    /// HTTP address of the artifact as served by the source controller.
    pub url: String,
    /// Human-readable identifier of the source revision, e.g. `main@sha1:<hex>`.
    pub revision: String,
    /// Digest of the artifact file: `<algorithm>:<checksum>`.
    #[schemars(regex(pattern = r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$"))]
    pub digest: String,
    /// When the artifact was last updated (RFC 3339).
    #[schemars(extend("format" = "date-time"))]
    pub last_update_time: String,
    /// Size of the artifact file in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "int64"))]
    pub size: Option<i64>,
    /// Metadata of the upstream source (e.g. OCI annotations).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// Reference to an object in the same namespace.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
pub struct LocalObjectReference {
    /// Name of the referent.
    pub name: String,
}

/// Reference to a key of a Secret in the same namespace.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
pub struct SecretKeyReference {
    /// Name of the Secret.
    pub name: String,
    /// Key in the Secret; each consumer documents its default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// Where to find a kubeconfig for applying to a remote cluster: a Secret key or a ConfigMap
/// (the latter for workload-identity based access).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"message": "exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef must be specified", "rule": "has(self.configMapRef) || has(self.secretRef)"},
    {"message": "exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef must be specified", "rule": "!has(self.configMapRef) || !has(self.secretRef)"}
]))]
pub struct KubeConfigReference {
    /// ConfigMap with the remote cluster's provider settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<LocalObjectReference>,
    /// Secret key holding a kubeconfig (default keys `value` then `value.yaml`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretKeyReference>,
}

/// The objects a Kustomization or HelmRelease applied.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
pub struct ResourceInventory {
    /// One entry per applied object.
    pub entries: Vec<ResourceRef>,
}

/// One inventory entry.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
pub struct ResourceRef {
    /// Object id `<namespace>_<name>_<group>_<kind>`.
    pub id: String,
    /// API version of the object.
    pub v: String,
}

/// Selects objects by group/version/kind, name, namespace, labels and annotations (kustomize's
/// patch target selector; name and namespace are regular expressions).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    /// API group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// API version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name (regular expression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace (regular expression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Annotation selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotation_selector: Option<String>,
    /// Label selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<String>,
}

/// A kustomize patch (strategic merge or JSON 6902) and the objects it applies to.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
pub struct Patch {
    /// The patch document, YAML or JSON.
    pub patch: String,
    /// Objects to patch; without it the patch names its target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Selector>,
}

/// A kustomize image override.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    /// Image name to match.
    pub name: String,
    /// Replacement name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
    /// Replacement tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_tag: Option<String>,
    /// Replacement digest (takes precedence over the tag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// Labels and annotations added to every applied object.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
pub struct CommonMetadata {
    /// Annotations to add.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Labels to add.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// Reference to an object of any kind, optionally in another namespace (health checks).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespacedObjectKindReference {
    /// API version of the referent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the referent.
    pub kind: String,
    /// Name of the referent.
    pub name: String,
    /// Namespace of the referent; defaults to the referrer's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// CEL expressions that compute the health of a custom resource kind.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomHealthCheck {
    /// API version of the kind the expressions apply to.
    pub api_version: String,
    /// Kind the expressions apply to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Expression that is true when the object is healthy.
    pub current: String,
    /// Expression that is true while the object is progressing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_progress: Option<String>,
    /// Expression that is true when the object failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

/// `status.lastHandledReconcileAt`, flattened into every status that honours
/// [`RECONCILE_REQUEST_ANNOTATION`].
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReconcileRequestStatus {
    /// Last handled value of the reconcile request annotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}

/// Selects namespaces by labels.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceSelector {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
}

/// Namespaces allowed to reference an object (cross-namespace access control).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessFrom {
    pub namespace_selectors: Vec<NamespaceSelector>,
}

/// A dependency (`dependsOn`) that must be ready first; `readyExpr` is a CEL expression overriding the Ready check.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DependencyReference {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_expr: Option<String>,
}

/// JSON pointers to ignore in drift detection, on the selected objects.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IgnoreRule {
    pub paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Selector>,
}

/// Schema of a Go `int` field: an integer with no declared width.
pub(crate) fn go_int_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": "integer"})
}

/// Schema of free-form JSON (e.g. Helm values): any value, kept as is by the API server.
pub(crate) fn preserve_unknown_fields_schema(
    _: &mut schemars::SchemaGenerator,
) -> schemars::Schema {
    schemars::json_schema!({"x-kubernetes-preserve-unknown-fields": true})
}
