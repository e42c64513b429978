//! Drift ignore rules (Flux `spec.ignore`): JSON pointers excluded from drift detection and,
//! when they differ, either dropped from the applied object (another apply manager owns the
//! field) or pinned to the in-cluster value (we own it), so the apply does not revert them.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

use crate::error::SsaError;

/// One rule: RFC 6901 JSON pointers, for the objects the selector matches (all when None).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IgnoreRule {
    /// JSON pointers, e.g. `/spec/replicas`, `/spec/template/spec/containers/0/image`.
    pub paths: Vec<String>,
    /// Which objects the rule applies to.
    pub selector: Option<IgnoreSelector>,
}

/// Object selector of an [`IgnoreRule`]: anchored regular expressions (empty matches all)
/// and Kubernetes label selector syntax for labels and annotations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IgnoreSelector {
    /// API group regex.
    pub group: String,
    /// API version regex.
    pub version: String,
    /// Kind regex.
    pub kind: String,
    /// Name regex.
    pub name: String,
    /// Namespace regex.
    pub namespace: String,
    /// Label selector (`a=b,c!=d,e in (x,y),!f`).
    pub label_selector: String,
    /// Annotation selector, same syntax.
    pub annotation_selector: String,
}

struct CompiledSelector {
    group: Regex,
    version: Regex,
    kind: Regex,
    name: Regex,
    namespace: Regex,
    labels: Vec<Requirement>,
    annotations: Vec<Requirement>,
}

/// Rules with their selectors compiled.
#[derive(Default)]
pub(crate) struct CompiledRules(Vec<(Option<CompiledSelector>, Vec<String>)>);

/// Compiles the rules; a bad regex or selector is an error naming it.
pub(crate) fn compile(rules: &[IgnoreRule]) -> Result<CompiledRules, SsaError> {
    let invalid = |what: &str, value: &str, reason: String| SsaError::InvalidIgnoreRule {
        what: what.to_string(),
        value: value.to_string(),
        reason,
    };
    let re = |what: &str, p: &str| {
        let anchored = if p.is_empty() {
            String::new()
        } else {
            format!("^(?:{p})$")
        };
        Regex::new(&anchored).map_err(|e| invalid(what, p, e.to_string()))
    };
    let mut out = Vec::new();
    for r in rules {
        for p in &r.paths {
            if !p.starts_with('/') {
                return Err(invalid("path", p, "a JSON pointer starts with '/'".into()));
            }
        }
        let sel = match &r.selector {
            None => None,
            Some(s) => Some(CompiledSelector {
                group: re("group", &s.group)?,
                version: re("version", &s.version)?,
                kind: re("kind", &s.kind)?,
                name: re("name", &s.name)?,
                namespace: re("namespace", &s.namespace)?,
                labels: parse_selector(&s.label_selector)
                    .map_err(|e| invalid("labelSelector", &s.label_selector, e))?,
                annotations: parse_selector(&s.annotation_selector)
                    .map_err(|e| invalid("annotationSelector", &s.annotation_selector, e))?,
            }),
        };
        out.push((sel, r.paths.clone()));
    }
    Ok(CompiledRules(out))
}

impl CompiledRules {
    /// True when there are no rules.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The ignored paths that apply to `obj`.
    pub(crate) fn paths_for(&self, obj: &Value) -> Vec<String> {
        let s = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or("");
        let (group, version) = match s("/apiVersion").split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", s("/apiVersion")),
        };
        let map = |field: &str| -> BTreeMap<String, String> {
            obj.pointer(&format!("/metadata/{field}"))
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut out = Vec::new();
        for (sel, paths) in &self.0 {
            let matches = match sel {
                None => true,
                Some(c) => {
                    c.group.is_match(group)
                        && c.version.is_match(version)
                        && c.kind.is_match(s("/kind"))
                        && c.name.is_match(s("/metadata/name"))
                        && c.namespace.is_match(s("/metadata/namespace"))
                        && c.labels.iter().all(|r| r.matches(&map("labels")))
                        && c.annotations.iter().all(|r| r.matches(&map("annotations")))
                }
            };
            if matches {
                out.extend(paths.iter().cloned());
            }
        }
        out
    }
}

/// One label selector requirement.
#[derive(Debug, PartialEq, Eq)]
enum Requirement {
    Exists(String),
    NotExists(String),
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

impl Requirement {
    fn matches(&self, m: &BTreeMap<String, String>) -> bool {
        match self {
            Requirement::Exists(k) => m.contains_key(k),
            Requirement::NotExists(k) => !m.contains_key(k),
            Requirement::Equals(k, v) => m.get(k) == Some(v),
            Requirement::NotEquals(k, v) => m.get(k) != Some(v),
            Requirement::In(k, vs) => m.get(k).is_some_and(|x| vs.contains(x)),
            Requirement::NotIn(k, vs) => m.get(k).is_none_or(|x| !vs.contains(x)),
        }
    }
}

/// Parses Kubernetes label selector syntax (equality- and set-based).
fn parse_selector(s: &str) -> Result<Vec<Requirement>, String> {
    let mut terms = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    terms.push(cur);
    let mut out = Vec::new();
    for t in terms.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        let key_ok = |k: &str| !k.is_empty() && !k.contains(char::is_whitespace);
        let set = |rest: &str| -> Result<Vec<String>, String> {
            let inner = rest
                .trim()
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .ok_or_else(|| format!("expected a parenthesised list in {t:?}"))?;
            Ok(inner.split(',').map(|v| v.trim().to_string()).collect())
        };
        let req = if let Some(k) = t.strip_prefix('!') {
            Requirement::NotExists(k.trim().to_string())
        } else if let Some((k, v)) = t.split_once("!=") {
            Requirement::NotEquals(k.trim().into(), v.trim().into())
        } else if let Some((k, v)) = t.split_once("==").or_else(|| t.split_once('=')) {
            Requirement::Equals(k.trim().into(), v.trim().into())
        } else if let Some((k, rest)) = t.split_once(" notin ") {
            Requirement::NotIn(k.trim().into(), set(rest)?)
        } else if let Some((k, rest)) = t.split_once(" in ") {
            Requirement::In(k.trim().into(), set(rest)?)
        } else {
            Requirement::Exists(t.to_string())
        };
        let key = match &req {
            Requirement::Exists(k)
            | Requirement::NotExists(k)
            | Requirement::Equals(k, _)
            | Requirement::NotEquals(k, _)
            | Requirement::In(k, _)
            | Requirement::NotIn(k, _) => k,
        };
        if !key_ok(key) {
            return Err(format!("invalid requirement {t:?}"));
        }
        out.push(req);
    }
    Ok(out)
}

fn unescape(seg: &str) -> String {
    seg.replace("~1", "/").replace("~0", "~")
}

/// Removes the value at a JSON pointer, if present.
pub(crate) fn remove_pointer(v: &mut Value, ptr: &str) {
    let Some((parent, last)) = ptr.rsplit_once('/') else {
        return;
    };
    let last = unescape(last);
    let target = if parent.is_empty() {
        Some(v)
    } else {
        v.pointer_mut(parent)
    };
    match target {
        Some(Value::Object(m)) => {
            m.remove(&last);
        }
        Some(Value::Array(a)) => {
            if let Ok(i) = last.parse::<usize>()
                && i < a.len()
            {
                a.remove(i);
            }
        }
        _ => {}
    }
}

/// Sets the value at a JSON pointer, creating missing parent objects; false when a parent is
/// not a container (or an array index is out of range).
pub(crate) fn set_pointer(v: &mut Value, ptr: &str, value: Value) -> bool {
    let segs: Vec<String> = ptr.split('/').skip(1).map(unescape).collect();
    let Some((last, parents)) = segs.split_last() else {
        return false;
    };
    let mut cur = v;
    for s in parents {
        cur = match cur {
            Value::Object(m) => m
                .entry(s.clone())
                .or_insert_with(|| Value::Object(Default::default())),
            Value::Array(a) => match s.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                Some(x) => x,
                None => return false,
            },
            _ => return false,
        };
    }
    match cur {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            true
        }
        Value::Array(a) => match last.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
            Some(x) => {
                *x = value;
                true
            }
            None => false,
        },
        _ => false,
    }
}

/// True when an Apply entry of a manager other than `owner` (no subresource) owns the field
/// at `ptr` of `live`; list indices are resolved to the `k:{...}` keys the managers recorded.
pub(crate) fn owned_by_other_apply_manager(live: &Value, ptr: &str, owner: &str) -> bool {
    let entries: Vec<(&str, &Value)> = live
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| {
            e.get("operation").and_then(Value::as_str) == Some("Apply")
                && e.get("subresource")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
        })
        .filter_map(|e| {
            Some((
                e.get("manager").and_then(Value::as_str).unwrap_or(""),
                e.get("fieldsV1")?,
            ))
        })
        .collect();
    let Some(segments) = fields_path(live, ptr, &entries) else {
        return false;
    };
    entries
        .iter()
        .filter(|(m, _)| *m != owner)
        .any(|(_, f)| walk(f, &segments).is_some())
}

fn walk<'a>(fields: &'a Value, segments: &[String]) -> Option<&'a Value> {
    let mut cur = fields;
    for s in segments {
        cur = cur.as_object()?.get(s)?;
    }
    Some(cur)
}

/// The fieldsV1 path (`f:spec`, `k:{"name":"app"}`, ...) of a JSON pointer into `live`.
fn fields_path(live: &Value, ptr: &str, entries: &[(&str, &Value)]) -> Option<Vec<String>> {
    let mut segments = Vec::new();
    let mut node = live;
    for raw in ptr.strip_prefix('/')?.split('/').map(unescape) {
        match node {
            Value::Array(items) => {
                let item = items.get(raw.parse::<usize>().ok()?)?;
                // The key of this item among the k: entries recorded under the parent path.
                let key = entries
                    .iter()
                    .filter_map(|(_, f)| walk(f, &segments)?.as_object())
                    .flat_map(|m| m.keys())
                    .filter(|k| k.starts_with("k:"))
                    .find(|k| {
                        serde_json::from_str::<serde_json::Map<String, Value>>(&k[2..])
                            .is_ok_and(|kv| kv.iter().all(|(f, v)| item.get(f) == Some(v)))
                    })?
                    .clone();
                segments.push(key);
                node = item;
            }
            Value::Object(m) => {
                segments.push(format!("f:{raw}"));
                node = m.get(&raw).unwrap_or(&Value::Null);
            }
            _ => {
                segments.push(format!("f:{raw}"));
                node = &Value::Null;
            }
        }
    }
    Some(segments)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selectors() {
        let rules = compile(&[
            IgnoreRule {
                paths: vec!["/spec/replicas".into()],
                selector: None,
            },
            IgnoreRule {
                paths: vec!["/data/x".into()],
                selector: Some(IgnoreSelector {
                    kind: "Config.*".into(),
                    label_selector: "app in (a,b),!skip,tier!=db".into(),
                    ..Default::default()
                }),
            },
        ])
        .unwrap();
        let cm = |labels: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": labels}});
        assert_eq!(
            rules.paths_for(&cm(json!({"app": "a"}))),
            ["/spec/replicas", "/data/x"]
        );
        assert_eq!(
            rules.paths_for(&cm(json!({"app": "c"}))),
            ["/spec/replicas"]
        );
        assert_eq!(
            rules.paths_for(&cm(json!({"app": "a", "skip": ""}))),
            ["/spec/replicas"]
        );
        assert_eq!(
            rules.paths_for(&cm(json!({"app": "b", "tier": "db"}))),
            ["/spec/replicas"]
        );
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "labels": {"app": "a"}}});
        assert_eq!(rules.paths_for(&secret), ["/spec/replicas"]);
        let bad = |sel: IgnoreSelector| {
            compile(&[IgnoreRule {
                paths: vec!["/a".into()],
                selector: Some(sel),
            }])
            .is_err()
        };
        assert!(bad(IgnoreSelector {
            kind: "(".into(),
            ..Default::default()
        }));
        assert!(bad(IgnoreSelector {
            label_selector: "a in x".into(),
            ..Default::default()
        }));
        assert!(
            compile(&[IgnoreRule {
                paths: vec!["spec".into()],
                selector: None
            }])
            .is_err()
        );
    }

    #[test]
    fn pointers() {
        let mut v = json!({"spec": {"a": [1, 2, 3], "b~/c": 1}});
        remove_pointer(&mut v, "/spec/a/1");
        remove_pointer(&mut v, "/spec/b~0~1c");
        remove_pointer(&mut v, "/spec/missing/x");
        assert_eq!(v, json!({"spec": {"a": [1, 3]}}));
        assert!(set_pointer(&mut v, "/spec/x/y", json!(5)));
        assert!(set_pointer(&mut v, "/spec/a/0", json!(9)));
        assert!(!set_pointer(&mut v, "/spec/a/7", json!(9)));
        assert_eq!(v, json!({"spec": {"a": [9, 3], "x": {"y": 5}}}));
    }

    #[test]
    fn ownership_through_list_keys() {
        let live = json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "app", "image": "x"}]}}},
        "metadata": {"managedFields": [
            {"manager": "flux", "operation": "Apply", "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"app\"}": {".": {}, "f:name": {}}}}}}}},
            {"manager": "hpa", "operation": "Apply", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
            {"manager": "injector", "operation": "Apply", "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"app\"}": {"f:image": {}}}}}}}},
            {"manager": "edit", "operation": "Update", "fieldsV1": {"f:metadata": {"f:labels": {}}}}
        ]}});
        assert!(owned_by_other_apply_manager(
            &live,
            "/spec/replicas",
            "flux"
        ));
        assert!(!owned_by_other_apply_manager(
            &live,
            "/spec/replicas",
            "hpa"
        ));
        assert!(owned_by_other_apply_manager(
            &live,
            "/spec/template/spec/containers/0/image",
            "flux"
        ));
        assert!(!owned_by_other_apply_manager(
            &live,
            "/spec/template/spec/containers/0/name",
            "flux"
        ));
        assert!(
            !owned_by_other_apply_manager(&live, "/metadata/labels", "flux"),
            "Update entries do not count"
        );
        assert!(!owned_by_other_apply_manager(
            &live,
            "/spec/template/spec/containers/5/image",
            "flux"
        ));
    }
}
