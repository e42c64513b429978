//! Object identity (group/version/kind/namespace/name), inventory ids and owner labels.

use std::collections::HashSet;

use serde_json::Value;

use crate::error::SsaError;

/// Who applies: the server-side apply field manager and the group used for owner labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// Field manager name, e.g. `kustomize-controller`.
    pub field_manager: String,
    /// Label group, e.g. `kustomize.toolkit.fluxcd.io` (labels `<group>/name`, `<group>/namespace`).
    pub group: String,
}

/// The identity of one object.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjMetadata {
    /// API group, `""` for the core group.
    pub group: String,
    /// API version within the group.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Namespace, `""` if cluster-scoped (or not set).
    pub namespace: String,
    /// Name.
    pub name: String,
}

const FIELD_SEP: char = '_';
const COLON_ESCAPED: &str = "__";

impl ObjMetadata {
    /// Reads apiVersion, kind, metadata.namespace and metadata.name of an object.
    pub fn from_object(v: &Value) -> Result<Self, SsaError> {
        let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or("");
        let api_version = s("/apiVersion");
        let kind = s("/kind");
        let name = s("/metadata/name");
        let namespace = s("/metadata/namespace");
        let subject = || {
            let k = if kind.is_empty() { "<no kind>" } else { kind };
            if namespace.is_empty() {
                format!("{k}/{name}")
            } else {
                format!("{k}/{namespace}/{name}")
            }
        };
        let fail = |reason: &str| SsaError::InvalidObject {
            subject: subject(),
            reason: reason.to_string(),
        };
        if api_version.is_empty() {
            return Err(fail("apiVersion is missing"));
        }
        if kind.is_empty() {
            return Err(fail("kind is missing"));
        }
        if name.is_empty() {
            return Err(fail("metadata.name is missing"));
        }
        let (group, version) = split_api_version(api_version);
        Ok(Self {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        })
    }

    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The inventory id `<namespace>_<name>_<group>_<kind>` as Flux (cli-utils) writes it;
    /// colons in the name are written as `__`.
    pub fn inventory_id(&self) -> String {
        format!(
            "{}{FIELD_SEP}{}{FIELD_SEP}{}{FIELD_SEP}{}",
            self.namespace,
            self.name.replace(':', COLON_ESCAPED),
            self.group,
            self.kind
        )
    }

    /// Parses an inventory id written by [`ObjMetadata::inventory_id`], with the version stored
    /// beside it in the inventory entry.
    pub fn parse_inventory_id(id: &str, version: &str) -> Result<Self, SsaError> {
        let fail = |reason: &str| SsaError::InvalidInventoryId {
            id: id.to_string(),
            reason: reason.to_string(),
        };
        // namespace is the first field, kind the last, group the one before: names may hold `__`.
        let (namespace, rest) = id
            .split_once(FIELD_SEP)
            .ok_or_else(|| fail("too few fields"))?;
        let (rest, kind) = rest
            .rsplit_once(FIELD_SEP)
            .ok_or_else(|| fail("too few fields"))?;
        let (name, group) = rest
            .rsplit_once(FIELD_SEP)
            .ok_or_else(|| fail("too few fields"))?;
        let name = name.replace(COLON_ESCAPED, ":");
        if name.contains(FIELD_SEP) {
            return Err(fail("too many fields"));
        }
        if name.is_empty() {
            return Err(fail("empty name"));
        }
        if kind.is_empty() {
            return Err(fail("empty kind"));
        }
        Ok(Self {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
            namespace: namespace.to_string(),
            name,
        })
    }

    /// Flux's change-set subject: `Kind/namespace/name`, or `Kind/name` when cluster-scoped.
    pub fn subject(&self) -> String {
        if self.namespace.is_empty() {
            format!("{}/{}", self.kind, self.name)
        } else {
            format!("{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }

    /// True when both name the same object (version ignored).
    pub fn same_object(&self, other: &ObjMetadata) -> bool {
        self.group == other.group
            && self.kind == other.kind
            && self.namespace == other.namespace
            && self.name == other.name
    }
}

impl std::fmt::Display for ObjMetadata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.subject())
    }
}

/// Splits `group/version` (or the core group's `version`).
fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

/// Objects in `old` that are not in `new` (group, kind, namespace and name compared; not the
/// version), in the order of `old`: what a prune deletes.
pub fn stale_objects(old: &[ObjMetadata], new: &[ObjMetadata]) -> Vec<ObjMetadata> {
    let keep: HashSet<(&str, &str, &str, &str)> = new
        .iter()
        .map(|o| {
            (
                o.group.as_str(),
                o.kind.as_str(),
                o.namespace.as_str(),
                o.name.as_str(),
            )
        })
        .collect();
    old.iter()
        .filter(|o| {
            !keep.contains(&(
                o.group.as_str(),
                o.kind.as_str(),
                o.namespace.as_str(),
                o.name.as_str(),
            ))
        })
        .cloned()
        .collect()
}

/// Sets the owner labels `<group>/name` and `<group>/namespace` on an object
/// (creating `metadata.labels` if needed).
pub fn set_owner_labels(obj: &mut Value, name: &str, namespace: &str, group: &str) {
    let Some(o) = obj.as_object_mut() else {
        return;
    };
    let meta = o
        .entry("metadata")
        .or_insert_with(|| Value::Object(Default::default()));
    if !meta.is_object() {
        *meta = Value::Object(Default::default());
    }
    let Some(meta) = meta.as_object_mut() else {
        return;
    };
    let labels = meta
        .entry("labels")
        .or_insert_with(|| Value::Object(Default::default()));
    if !labels.is_object() {
        *labels = Value::Object(Default::default());
    }
    if let Some(labels) = labels.as_object_mut() {
        labels.insert(format!("{group}/name"), Value::String(name.to_string()));
        labels.insert(
            format!("{group}/namespace"),
            Value::String(namespace.to_string()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(group: &str, kind: &str, ns: &str, name: &str) -> ObjMetadata {
        ObjMetadata {
            group: group.into(),
            version: "v1".into(),
            kind: kind.into(),
            namespace: ns.into(),
            name: name.into(),
        }
    }

    #[test]
    fn inventory_ids_round_trip() {
        let cases = [
            (
                meta("apps", "Deployment", "default", "web"),
                "default_web_apps_Deployment",
            ),
            (meta("", "Namespace", "", "apps"), "_apps__Namespace"),
            (meta("", "ConfigMap", "ns", "a-b.c"), "ns_a-b.c__ConfigMap"),
            (
                meta(
                    "rbac.authorization.k8s.io",
                    "ClusterRole",
                    "",
                    "system:flux:view",
                ),
                "_system__flux__view_rbac.authorization.k8s.io_ClusterRole",
            ),
        ];
        for (m, id) in cases {
            assert_eq!(m.inventory_id(), id);
            assert_eq!(
                ObjMetadata::parse_inventory_id(id, "v1").unwrap(),
                m,
                "{id}"
            );
        }
    }

    #[test]
    fn bad_inventory_ids() {
        for id in ["", "a", "a_b", "ns_a_b_c_", "ns_a_b_c_d"] {
            assert!(ObjMetadata::parse_inventory_id(id, "v1").is_err(), "{id}");
        }
    }

    #[test]
    fn from_object_and_subject() {
        let o = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w", "namespace": "n"}});
        let m = ObjMetadata::from_object(&o).unwrap();
        assert_eq!(
            m,
            ObjMetadata {
                version: "v1".into(),
                ..meta("apps", "Deployment", "n", "w")
            }
        );
        assert_eq!(m.subject(), "Deployment/n/w");
        assert_eq!(m.api_version(), "apps/v1");
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}});
        assert_eq!(
            ObjMetadata::from_object(&ns).unwrap().subject(),
            "Namespace/x"
        );
        let bad = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}});
        let err = ObjMetadata::from_object(&bad).unwrap_err().to_string();
        assert!(err.contains("metadata.name"), "{err}");
    }

    #[test]
    fn stale_ignores_version() {
        let mut a = meta("apps", "Deployment", "n", "a");
        a.version = "v1beta1".into();
        let b = meta("", "ConfigMap", "n", "b");
        let old = vec![a.clone(), b.clone()];
        let new = vec![meta("apps", "Deployment", "n", "a")];
        assert_eq!(stale_objects(&old, &new), vec![b]);
        assert!(stale_objects(&new, &old).is_empty());
    }

    #[test]
    fn owner_labels() {
        let mut o = json!({"metadata": {"name": "x", "labels": {"app": "y"}}});
        set_owner_labels(&mut o, "apps", "flux-system", "kustomize.toolkit.fluxcd.io");
        assert_eq!(
            o["metadata"]["labels"],
            json!({"app": "y", "kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"})
        );
        let mut bare = json!({});
        set_owner_labels(&mut bare, "a", "b", "g");
        assert_eq!(bare["metadata"]["labels"]["g/name"], "a");
    }
}
