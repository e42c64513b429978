//! Rendered files → manifests and hooks, as Helm's release utilities do it: documents split on
//! `---`, hooks recognised by `helm.sh/hook`, unknown hook events dropped, stable install order by
//! kind (unknown kinds last, alphabetically).

use crate::yamlconv::{self, Node};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Helm's install order by kind.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

/// A regular manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Template path (`chart/templates/x.yaml`).
    pub name: String,
    /// The document, trimmed.
    pub content: String,
    /// Its `kind`.
    pub kind: String,
}

/// A hook manifest.
#[derive(Debug, Clone)]
pub struct Hook {
    /// `metadata.name`.
    pub name: String,
    /// `kind`.
    pub kind: String,
    /// Template path.
    pub path: String,
    /// The document, trimmed.
    pub manifest: String,
    /// Events (`test-success` normalised to `test`).
    pub events: Vec<String>,
    /// `helm.sh/hook-weight`.
    pub weight: i64,
}

/// A document that is not valid YAML.
#[derive(Debug, thiserror::Error)]
#[error("YAML parse error on {path}: {source}")]
pub struct SortError {
    /// The template path.
    pub path: String,
    /// The cause.
    #[source]
    pub source: yamlconv::YamlError,
}

fn sep() -> &'static regex::Regex {
    static SEP: OnceLock<regex::Regex> = OnceLock::new();
    SEP.get_or_init(|| {
        regex::Regex::new(r"(?:^|[\t\n\f\r ]*\n)---[\t\n\f\r ]*").expect("valid regex")
    })
}

/// Go's `strings.TrimSpace` (ASCII and Unicode white space).
pub fn trim_space(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace())
}

/// Helm's `SplitManifests`, in document order.
pub fn split_manifests(big: &str) -> Vec<String> {
    sep()
        .split(trim_space(big))
        .filter(|d| !d.is_empty())
        .map(|d| trim_space(d).to_string())
        .collect()
}

struct Head {
    kind: String,
    name: String,
    annotations: Option<Vec<(String, String)>>,
}

fn head(doc: &str) -> Result<Head, yamlconv::YamlError> {
    let node = yamlconv::parse_first(doc)?;
    let mut h = Head {
        kind: String::new(),
        name: String::new(),
        annotations: None,
    };
    let Some(node @ Node::Map(_)) = node else {
        return Ok(h);
    };
    h.kind = node.get("kind").and_then(Node::as_text).unwrap_or_default();
    if let Some(md) = node.get("metadata") {
        h.name = md.get("name").and_then(Node::as_text).unwrap_or_default();
        if let Some(Node::Map(entries)) = md.get("annotations") {
            h.annotations = Some(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_text().unwrap_or_default()))
                    .collect(),
            );
        }
    }
    Ok(h)
}

fn order_of(kind: &str) -> Option<usize> {
    INSTALL_ORDER.iter().position(|k| *k == kind)
}

fn less_by_kind(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (order_of(a), order_of(b)) {
        (None, None) => a.cmp(b),
        (None, Some(_)) => Greater,
        (Some(_), None) => Less,
        (Some(x), Some(y)) => x.cmp(&y),
    }
}

/// Helm's `SortManifests` with the install order: files in path order, partials and blank files
/// skipped, hooks split out.
pub fn sort_manifests(
    files: &BTreeMap<String, String>,
) -> Result<(Vec<Hook>, Vec<Manifest>), SortError> {
    let mut hooks = Vec::new();
    let mut generic = Vec::new();
    for (path, content) in files {
        let base = path.rsplit('/').next().unwrap_or(path);
        if base.starts_with('_') || trim_space(content).is_empty() {
            continue;
        }
        for doc in split_manifests(content) {
            let h = head(&doc).map_err(|source| SortError {
                path: path.clone(),
                source,
            })?;
            let hook_types = h
                .annotations
                .as_ref()
                .and_then(|a| a.iter().rev().find(|(k, _)| k == "helm.sh/hook"))
                .map(|(_, v)| v.clone());
            let Some(hook_types) = hook_types else {
                generic.push(Manifest {
                    name: path.clone(),
                    content: doc,
                    kind: h.kind,
                });
                continue;
            };
            let weight = h
                .annotations
                .as_ref()
                .and_then(|a| a.iter().rev().find(|(k, _)| k == "helm.sh/hook-weight"))
                .and_then(|(_, v)| go_atoi(v))
                .unwrap_or(0);
            let mut events = Vec::new();
            let mut unknown = false;
            for t in hook_types.split(',') {
                let t = trim_space(t).to_lowercase();
                if !HOOK_EVENTS.contains(&t.as_str()) {
                    unknown = true;
                    break;
                }
                events.push(if t == "test-success" {
                    "test".to_string()
                } else {
                    t
                });
            }
            if unknown {
                continue;
            }
            hooks.push(Hook {
                name: h.name,
                kind: h.kind,
                path: path.clone(),
                manifest: doc,
                events,
                weight,
            });
        }
    }
    hooks.sort_by(|a, b| less_by_kind(&a.kind, &b.kind));
    generic.sort_by(|a, b| less_by_kind(&a.kind, &b.kind));
    Ok((hooks, generic))
}

/// Go's `strconv.Atoi`.
fn go_atoi(s: &str) -> Option<i64> {
    let d = s.strip_prefix(['+', '-']).unwrap_or(s);
    if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_helm() {
        assert_eq!(
            split_manifests("a: 1\n---\nb: 2\n---\n\n"),
            vec!["a: 1", "b: 2"]
        );
        assert_eq!(split_manifests("---\na: 1"), vec!["a: 1"]);
        assert_eq!(
            split_manifests("a: |\n  x\n  ---\n  y"),
            vec!["a: |\n  x\n  ---\n  y"]
        );
        assert_eq!(split_manifests("a\n---b\n"), vec!["a", "b"]);
    }

    #[test]
    fn sorts_by_kind_and_splits_hooks() {
        let mut files = BTreeMap::new();
        files.insert(
            "c/templates/a.yaml".to_string(),
            "kind: Deployment\n---\nkind: Zed\n---\nkind: Service\n---\nkind: Alpha\n".to_string(),
        );
        files.insert(
            "c/templates/h.yaml".to_string(),
            "kind: Job\nmetadata:\n  annotations:\n    helm.sh/hook: pre-install\n---\nkind: Pod\nmetadata:\n  annotations:\n    helm.sh/hook: bogus\n".to_string(),
        );
        files.insert("c/templates/_p.tpl".to_string(), "kind: X".to_string());
        let (hooks, m) = sort_manifests(&files).unwrap();
        let kinds: Vec<&str> = m.iter().map(|m| m.kind.as_str()).collect();
        assert_eq!(kinds, ["Service", "Deployment", "Alpha", "Zed"]);
        assert_eq!(hooks.len(), 1);
        assert_eq!(hooks[0].events, ["pre-install"]);
    }
}
