//! Rendered files → manifests and hooks, as Helm's release utilities do it: documents split on
//! `---`, hooks recognised by `helm.sh/hook`, unknown hook events dropped, stable install order by
//! kind (unknown kinds last, alphabetically).

use crate::yamlconv::{self, Node};
use saphyr_parser::{Event, ScalarStyle};
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
    if let Some(h) = head_streaming(doc) {
        return h;
    }
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

/// The text a Go string field receives from a scalar (null → empty).
fn scalar_text(v: &str, style: ScalarStyle) -> String {
    if style == ScalarStyle::Plain && matches!(v, "" | "~" | "null" | "Null" | "NULL") {
        String::new()
    } else {
        v.to_string()
    }
}

/// Reads the head from the parser's event stream without building the document (rendered
/// output is large and only `kind`, `metadata.name` and `metadata.annotations` matter), still
/// scanning the whole first document so syntax errors surface. `None` asks for the full parse
/// (aliases, merge keys or complex keys, whose meaning needs the tree).
fn head_streaming(doc: &str) -> Option<Result<Head, yamlconv::YamlError>> {
    struct Frame {
        map: bool,
        key: Option<String>,
        awaiting_key: bool,
    }
    let mut h = Head {
        kind: String::new(),
        name: String::new(),
        annotations: None,
    };
    let mut stack: Vec<Frame> = Vec::new();
    let mut parser = saphyr_parser::Parser::new_from_str(doc);
    // The map keys leading to the innermost frame, when every frame on the way is a map.
    let keys = |stack: &[Frame]| -> Option<Vec<String>> {
        let mut out = Vec::with_capacity(stack.len());
        for f in stack {
            if !f.map {
                return None;
            }
            out.push(f.key.clone().unwrap_or_default());
        }
        Some(out)
    };
    while let Some(ev) = parser.next_event() {
        let ev = match ev {
            Ok((ev, _)) => ev,
            Err(e) => {
                return Some(Err(yamlconv::YamlError::Syntax(format!(
                    "line {}: {}",
                    e.marker().line(),
                    e.info()
                ))));
            }
        };
        match ev {
            Event::DocumentEnd | Event::StreamEnd => break,
            Event::Alias(_) => return None,
            Event::Scalar(v, style, _, _) => {
                let Some(top) = stack.last_mut() else {
                    continue;
                };
                if top.map && top.awaiting_key {
                    if v == "<<" {
                        return None;
                    }
                    top.key = Some(v.into_owned());
                    top.awaiting_key = false;
                    continue;
                }
                if top.map {
                    top.awaiting_key = true;
                }
                // Frames are root..innermost; the value sits under the innermost frame's key.
                let Some(path) = keys(&stack) else { continue };
                match path
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .as_slice()
                {
                    ["kind"] => h.kind = scalar_text(&v, style),
                    ["metadata", "name"] => h.name = scalar_text(&v, style),
                    ["metadata", "annotations", k] => {
                        let k = k.to_string();
                        h.annotations
                            .get_or_insert_with(Vec::new)
                            .push((k, scalar_text(&v, style)));
                    }
                    _ => {}
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let map = matches!(ev, Event::MappingStart(..));
                if let Some(top) = stack.last() {
                    if top.map && top.awaiting_key {
                        return None;
                    }
                } else if !map {
                    // A sequence document has no head.
                }
                if map
                    && let Some(path) = keys(&stack)
                    && path.len() == 2
                    && path[0] == "metadata"
                    && path[1] == "annotations"
                {
                    h.annotations.get_or_insert_with(Vec::new);
                }
                stack.push(Frame {
                    map,
                    key: None,
                    awaiting_key: map,
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                if let Some(top) = stack.last_mut()
                    && top.map
                {
                    top.awaiting_key = true;
                }
            }
            Event::StreamStart | Event::DocumentStart(_) | Event::Nothing => {}
        }
    }
    Some(Ok(h))
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
    fn streaming_head_agrees_with_the_tree() {
        for doc in [
            "kind: Job\nmetadata:\n  name: x\n  annotations:\n    helm.sh/hook: pre-install\n    w: 5\nspec:\n  kind: Inner\n",
            "apiVersion: v1\nkind: ~\nmetadata: {name: 'q', labels: {kind: no}}\n",
            "- a\n- b\n",
            "# only a comment",
            "a: &x {kind: A}\n<<: *x\n",
            "metadata:\n  annotations: {}\n  name: n\nkind: K\nkind: L\n",
        ] {
            let fast = head_streaming(doc);
            let node = yamlconv::parse_first(doc).unwrap();
            let Some(fast) = fast else { continue };
            let fast = fast.unwrap();
            let (kind, name) = match &node {
                Some(n @ Node::Map(_)) => (
                    n.get("kind").and_then(Node::as_text).unwrap_or_default(),
                    n.get("metadata")
                        .and_then(|m| m.get("name"))
                        .and_then(Node::as_text)
                        .unwrap_or_default(),
                ),
                _ => (String::new(), String::new()),
            };
            assert_eq!((fast.kind, fast.name), (kind, name), "{doc}");
        }
        assert!(head_streaming("a: b\n c: d\n").unwrap().is_err());
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
