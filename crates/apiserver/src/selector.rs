//! Label and field selectors as the list/watch/deletecollection query parameters spell them.

use crate::error::{ApiError, ApiResult};
use crate::registry::ResourceInfo;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Op {
    Eq(String),
    Ne(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    NotExists,
}

/// A parsed label selector: every requirement must hold.
#[derive(Debug, Clone, Default)]
pub struct LabelSelector(Vec<(String, Op)>);

/// A parsed field selector.
#[derive(Debug, Clone, Default)]
pub struct FieldSelector(Vec<(String, bool, String)>);

fn label_key_ok(k: &str) -> bool {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-.".contains(c))
    });
    name_ok && prefix_ok
}

fn label_value_ok(v: &str) -> bool {
    v.is_empty()
        || (v.len() <= 63
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && v.starts_with(|c: char| c.is_ascii_alphanumeric())
            && v.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

/// Splits on commas outside parentheses.
fn split_top(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

impl LabelSelector {
    /// Parses `k=v,k!=v,k in (a,b),k notin (a),k,!k`.
    pub fn parse(s: &str) -> ApiResult<Self> {
        let mut reqs = Vec::new();
        let err = |r: &str, why: &str| {
            ApiError::bad_request(format!("unable to parse requirement: {r}: {why}"))
        };
        for raw in split_top(s) {
            let r = raw.trim();
            if r.is_empty() {
                continue;
            }
            let (key, op) = if let Some(k) = r.strip_prefix('!') {
                (k.trim().to_string(), Op::NotExists)
            } else if let Some((k, v)) = r.split_once("!=") {
                (k.trim().to_string(), Op::Ne(v.trim().to_string()))
            } else if let Some((k, v)) = r.split_once("==") {
                (k.trim().to_string(), Op::Eq(v.trim().to_string()))
            } else if let Some((k, v)) = r.split_once('=') {
                (k.trim().to_string(), Op::Eq(v.trim().to_string()))
            } else if let Some(idx) = r.find(" notin ").or_else(|| r.find(" notin(")) {
                (
                    r[..idx].trim().to_string(),
                    Op::NotIn(set_values(&r[idx + 6..]).ok_or_else(|| err(r, "invalid set"))?),
                )
            } else if let Some(idx) = r.find(" in ").or_else(|| r.find(" in(")) {
                (
                    r[..idx].trim().to_string(),
                    Op::In(set_values(&r[idx + 3..]).ok_or_else(|| err(r, "invalid set"))?),
                )
            } else {
                (r.to_string(), Op::Exists)
            };
            if !label_key_ok(&key) {
                return Err(err(r, &format!("invalid label key \"{key}\"")));
            }
            let values: Vec<&String> = match &op {
                Op::Eq(v) | Op::Ne(v) => vec![v],
                Op::In(vs) | Op::NotIn(vs) => vs.iter().collect(),
                _ => vec![],
            };
            if let Some(bad) = values.iter().find(|v| !label_value_ok(v)) {
                return Err(err(r, &format!("invalid label value: \"{bad}\"")));
            }
            reqs.push((key, op));
        }
        Ok(Self(reqs))
    }

    /// Whether the selector selects everything.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Matches an object's labels.
    pub fn matches(&self, obj: &Value) -> bool {
        let labels = obj.get("metadata").and_then(|m| m.get("labels"));
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|(k, op)| match op {
            Op::Eq(v) => get(k) == Some(v.as_str()),
            Op::Ne(v) => get(k) != Some(v.as_str()),
            Op::In(vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Op::NotIn(vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            Op::Exists => get(k).is_some(),
            Op::NotExists => get(k).is_none(),
        })
    }
}

fn set_values(s: &str) -> Option<Vec<String>> {
    let s = s.trim();
    let inner = s.strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect(),
    )
}

/// Field paths a resource can be selected by.
fn supported(ri: &ResourceInfo, field: &str) -> bool {
    if matches!(field, "metadata.name" | "metadata.namespace") {
        return true;
    }
    if let Some(crd) = &ri.crd {
        return crd
            .selectable_fields
            .iter()
            .any(|f| f.trim_start_matches('.') == field);
    }
    let extras: &[&str] = match (ri.group.as_str(), ri.plural.as_str()) {
        ("", "pods") => &[
            "status.phase",
            "spec.nodeName",
            "spec.serviceAccountName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        ("", "events") | ("events.k8s.io", "events") => &[
            "involvedObject.kind",
            "involvedObject.name",
            "involvedObject.namespace",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
            "regarding.kind",
            "regarding.name",
            "regarding.namespace",
            "regarding.uid",
        ],
        ("", "secrets") => &["type"],
        ("", "namespaces") => &["status.phase"],
        ("", "nodes") => &["spec.unschedulable"],
        ("apps", "replicasets") => &["status.replicas"],
        ("batch", "jobs") => &["status.successful"],
        _ => &[],
    };
    extras.contains(&field)
}

impl FieldSelector {
    /// Parses `f=v,f==v,f!=v`, refusing fields the resource does not support.
    pub fn parse(s: &str, ri: &ResourceInfo) -> ApiResult<Self> {
        let mut out = Vec::new();
        for raw in s.split(',') {
            let r = raw.trim();
            if r.is_empty() {
                continue;
            }
            let (f, eq, v) = if let Some((f, v)) = r.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = r.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = r.split_once('=') {
                (f, true, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{r}'; can't understand '{r}'"
                )));
            };
            let f = f.trim();
            if !supported(ri, f) {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {f}"
                )));
            }
            out.push((f.to_string(), eq, v.trim().to_string()));
        }
        Ok(Self(out))
    }

    /// The exact name this selector pins, if any (`metadata.name=x`).
    pub fn pinned_name(&self) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, eq, _)| f == "metadata.name" && *eq)
            .map(|(_, _, v)| v.as_str())
    }

    /// Matches an object.
    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(f, eq, v)| {
            let mut cur = Some(obj);
            for part in f.split('.') {
                cur = cur.and_then(|c| c.get(part));
            }
            let actual = match cur {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            (actual == *v) == *eq
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selector_semantics() {
        let o = json!({"metadata": {"labels": {"app": "web", "tier": "fe"}}});
        let cases = [
            ("app=web", true),
            ("app==web,tier=fe", true),
            ("app!=web", false),
            ("env!=prod", true),
            ("tier in (fe,be)", true),
            ("tier notin (fe)", false),
            ("env notin (x)", true),
            ("app", true),
            ("!app", false),
            ("!env", true),
        ];
        for (s, want) in cases {
            assert_eq!(LabelSelector::parse(s).unwrap().matches(&o), want, "{s}");
        }
        assert!(LabelSelector::parse("a=b=c").is_err());
        assert!(LabelSelector::parse("-bad=x").is_err());
    }
}
