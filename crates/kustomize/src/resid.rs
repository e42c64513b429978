//! Resource identity: group/version/kind, name and namespace, as kustomize compares them.

use std::fmt;

/// Namespace kustomize assumes for namespaced objects without one.
pub const DEFAULT_NAMESPACE: &str = "default";
/// Effective namespace kustomize gives cluster-scoped objects.
pub const NOT_A_NAMESPACE: &str = "_non_namespaceable_";

/// Kinds (by apiVersion) that kustomize knows to be cluster-scoped. This is the table built into
/// Kustomize v5.5 (from an older Kubernetes schema), not the live cluster's: kustomize treats
/// every other kind, including newer built-ins, as namespaced, and we must do the same.
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    (
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingWebhookConfiguration",
    ),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"),
    ("apiregistration.k8s.io/v1", "APIService"),
    ("apiregistration.k8s.io/v1beta1", "APIService"),
    ("certificates.k8s.io/v1", "CertificateSigningRequest"),
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema"),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "PriorityLevelConfiguration",
    ),
    ("networking.k8s.io/v1", "IngressClass"),
    ("networking.k8s.io/v1beta1", "IngressClass"),
    ("node.k8s.io/v1", "RuntimeClass"),
    ("node.k8s.io/v1beta1", "RuntimeClass"),
    ("policy/v1beta1", "PodSecurityPolicy"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"),
    ("scheduling.k8s.io/v1", "PriorityClass"),
    ("scheduling.k8s.io/v1beta1", "PriorityClass"),
    ("storage.k8s.io/v1", "CSIDriver"),
    ("storage.k8s.io/v1", "CSINode"),
    ("storage.k8s.io/v1", "StorageClass"),
    ("storage.k8s.io/v1", "VolumeAttachment"),
    ("storage.k8s.io/v1beta1", "CSIDriver"),
    ("storage.k8s.io/v1beta1", "CSINode"),
    ("storage.k8s.io/v1beta1", "StorageClass"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment"),
    ("v1", "ComponentStatus"),
    ("v1", "Namespace"),
    ("v1", "Node"),
    ("v1", "NodeProxyOptions"),
    ("v1", "PersistentVolume"),
];

/// Group, version and kind of an object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Gvk {
    /// API group; empty for the core group.
    pub group: String,
    /// API version.
    pub version: String,
    /// Kind.
    pub kind: String,
}

/// Splits `group/version` (or a bare core `version`).
pub fn parse_group_version(api_version: &str) -> (&str, &str) {
    match api_version.find('/') {
        Some(i) => (&api_version[..i], &api_version[i + 1..]),
        None => ("", api_version),
    }
}

impl Gvk {
    /// Builds a GVK from parts.
    pub fn new(group: &str, version: &str, kind: &str) -> Self {
        Gvk {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
        }
    }

    /// Builds a GVK from an `apiVersion` and `kind`.
    pub fn from_api_version(api_version: &str, kind: &str) -> Self {
        let (g, v) = parse_group_version(api_version);
        Gvk::new(g, v, kind)
    }

    /// `group/version` or `version`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Whether kustomize's built-in schema knows this type to be cluster-scoped.
    pub fn is_cluster_scoped(&self) -> bool {
        let av = self.api_version();
        CLUSTER_SCOPED
            .iter()
            .any(|(a, k)| *a == av && *k == self.kind)
    }

    /// Whether this GVK is selected by `sel`, where empty selector fields match anything.
    pub fn is_selected(&self, sel: &Gvk) -> bool {
        (sel.group.is_empty() || sel.group == self.group)
            && (sel.version.is_empty() || sel.version == self.version)
            && (sel.kind.is_empty() || sel.kind == self.kind)
    }

    /// kustomize's `Kind.version.group` rendering with placeholders for empty parts.
    pub fn id_string(&self) -> String {
        format!(
            "{}.{}.{}",
            if self.kind.is_empty() {
                "[noKind]"
            } else {
                &self.kind
            },
            if self.version.is_empty() {
                "[noVer]"
            } else {
                &self.version
            },
            if self.group.is_empty() {
                "[noGrp]"
            } else {
                &self.group
            },
        )
    }
}

/// The identity of a resource: GVK, name and namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ResId {
    /// Group/version/kind.
    pub gvk: Gvk,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace` as written (may be empty).
    pub namespace: String,
    /// Whether the type is cluster-scoped (decided when the id was made).
    pub cluster_scoped: bool,
}

impl ResId {
    /// Builds an id, deciding cluster scope from the built-in table.
    pub fn new(gvk: Gvk, name: &str, namespace: &str) -> Self {
        let cluster_scoped = gvk.is_cluster_scoped();
        ResId {
            gvk,
            name: name.into(),
            namespace: namespace.into(),
            cluster_scoped,
        }
    }

    /// The namespace used for comparisons: `default` for an unset namespace, a marker for
    /// cluster-scoped types.
    pub fn effective_namespace(&self) -> &str {
        if self.cluster_scoped {
            NOT_A_NAMESPACE
        } else if self.namespace.is_empty() || self.namespace == DEFAULT_NAMESPACE {
            DEFAULT_NAMESPACE
        } else {
            &self.namespace
        }
    }

    /// Same effective namespace.
    pub fn ns_equals(&self, o: &ResId) -> bool {
        self.effective_namespace() == o.effective_namespace()
    }

    /// Same GVK and name, regardless of namespace.
    pub fn gvkn_equals(&self, o: &ResId) -> bool {
        self.gvk == o.gvk && self.name == o.name
    }

    /// kustomize's id equality: GVK, name and effective namespace.
    pub fn equals(&self, o: &ResId) -> bool {
        self.ns_equals(o) && self.gvkn_equals(o)
    }
}

impl fmt::Display for ResId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}.{}",
            self.gvk.id_string(),
            if self.name.is_empty() {
                "[noName]"
            } else {
                &self.name
            },
            if self.namespace.is_empty() {
                "[noNs]"
            } else {
                &self.namespace
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effective_namespace_rules() {
        let d = ResId::new(Gvk::new("apps", "v1", "Deployment"), "a", "");
        assert_eq!(d.effective_namespace(), "default");
        let n = ResId::new(Gvk::new("", "v1", "Namespace"), "a", "x");
        assert_eq!(n.effective_namespace(), NOT_A_NAMESPACE);
        let e = ResId::new(Gvk::new("apps", "v1", "Deployment"), "a", "default");
        assert!(d.equals(&e));
        assert_eq!(d.to_string(), "Deployment.v1.apps/a.[noNs]");
    }
}
