//! Target selection: anchored regexes on GVK/name/namespace plus label and annotation selectors.

use regex::Regex;

use crate::resource::Resource;
use crate::types::Selector;

/// A compiled selector.
pub struct Compiled {
    group: Option<Regex>,
    version: Option<Regex>,
    kind: Option<Regex>,
    name: Option<Regex>,
    namespace: Option<Regex>,
    labels: Option<LabelSelector>,
    annotations: Option<LabelSelector>,
}

fn anchored(p: &str) -> Result<Option<Regex>, String> {
    if p.is_empty() {
        return Ok(None);
    }
    Regex::new(&format!("^(?:{p})$"))
        .map(Some)
        .map_err(|e| format!("bad regex '{p}': {e}"))
}

fn is_match(r: &Option<Regex>, s: &str) -> bool {
    r.as_ref().is_none_or(|r| r.is_match(s))
}

impl Compiled {
    /// Compiles a selector.
    pub fn new(s: &Selector) -> Result<Self, String> {
        Ok(Compiled {
            group: anchored(&s.group)?,
            version: anchored(&s.version)?,
            kind: anchored(&s.kind)?,
            name: anchored(&s.name)?,
            namespace: anchored(&s.namespace)?,
            labels: if s.label_selector.is_empty() {
                None
            } else {
                Some(LabelSelector::parse(&s.label_selector)?)
            },
            annotations: if s.annotation_selector.is_empty() {
                None
            } else {
                Some(LabelSelector::parse(&s.annotation_selector)?)
            },
        })
    }

    /// Whether a resource is selected (original or current name/namespace, current GVK).
    pub fn matches(&self, r: &Resource) -> bool {
        let cur = r.cur_id();
        let org = r.org_id();
        if !is_match(&self.namespace, org.effective_namespace())
            && !is_match(&self.namespace, cur.effective_namespace())
        {
            return false;
        }
        if !is_match(&self.name, &org.name) && !is_match(&self.name, &cur.name) {
            return false;
        }
        let gvk = r.gvk();
        if !is_match(&self.group, &gvk.group)
            || !is_match(&self.version, &gvk.version)
            || !is_match(&self.kind, &gvk.kind)
        {
            return false;
        }
        if let Some(ls) = &self.labels
            && !ls.matches(&r.labels())
        {
            return false;
        }
        if let Some(ls) = &self.annotations
            && !ls.matches(&r.annotations())
        {
            return false;
        }
        true
    }
}

enum Req {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A Kubernetes label selector (`a=b,c!=d,e in (x,y),!f,g`).
pub struct LabelSelector(Vec<Req>);

fn split_top(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => {
                depth += 1;
                cur.push(c)
            }
            ')' => {
                depth -= 1;
                cur.push(c)
            }
            ',' if depth == 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn set_values(s: &str) -> Result<Vec<String>, String> {
    let s = s.trim();
    let inner = s
        .strip_prefix('(')
        .and_then(|x| x.strip_suffix(')'))
        .ok_or_else(|| format!("found '{s}', expected: '('"))?;
    Ok(inner.split(',').map(|v| v.trim().to_string()).collect())
}

impl LabelSelector {
    /// Parses a selector string.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut reqs = Vec::new();
        for part in split_top(s) {
            let p = part.trim();
            if p.is_empty() {
                continue;
            }
            if let Some(k) = p.strip_prefix('!') {
                reqs.push(Req::NotExists(k.trim().into()));
            } else if let Some((k, v)) = p.split_once("!=") {
                reqs.push(Req::NotEq(k.trim().into(), v.trim().into()));
            } else if let Some((k, v)) = p.split_once("==") {
                reqs.push(Req::Eq(k.trim().into(), v.trim().into()));
            } else if let Some((k, v)) = p.split_once('=') {
                reqs.push(Req::Eq(k.trim().into(), v.trim().into()));
            } else if let Some(i) = p.find(" notin ") {
                reqs.push(Req::NotIn(p[..i].trim().into(), set_values(&p[i + 7..])?));
            } else if let Some(i) = p.find(" in ") {
                reqs.push(Req::In(p[..i].trim().into(), set_values(&p[i + 4..])?));
            } else if p.contains(' ') || p.contains('(') {
                return Err(format!("unable to parse requirement: '{p}'"));
            } else {
                reqs.push(Req::Exists(p.into()));
            }
        }
        Ok(LabelSelector(reqs))
    }

    /// Whether a label set satisfies every requirement.
    pub fn matches(&self, labels: &[(String, String)]) -> bool {
        let get = |k: &str| {
            labels
                .iter()
                .find(|(lk, _)| lk == k)
                .map(|(_, v)| v.as_str())
        };
        self.0.iter().all(|r| match r {
            Req::Eq(k, v) => get(k) == Some(v.as_str()),
            Req::NotEq(k, v) => get(k) != Some(v.as_str()),
            Req::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Req::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            Req::Exists(k) => get(k).is_some(),
            Req::NotExists(k) => get(k).is_none(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_selectors() {
        let l = vec![
            ("app".to_string(), "web".to_string()),
            ("tier".into(), "fe".into()),
        ];
        assert!(LabelSelector::parse("app=web").unwrap().matches(&l));
        assert!(
            LabelSelector::parse("app in (web, api),!x")
                .unwrap()
                .matches(&l)
        );
        assert!(!LabelSelector::parse("tier notin (fe)").unwrap().matches(&l));
        assert!(LabelSelector::parse("app!=api,tier").unwrap().matches(&l));
    }
}
