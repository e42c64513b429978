//! RBAC: Role/ClusterRole/RoleBinding/ClusterRoleBinding evaluation (default deny, any matching
//! rule allows, `system:masters` bypass), rule listing for SelfSubjectRulesReview, and the
//! escalation/bind checks on writes of roles and bindings.

use super::{Attributes, UserInfo, forbidden_status};
use crate::error::{ApiError, ApiResult};
use crate::server::Api;
use crate::store::ObjKey;
use crate::util::meta_str;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;

/// The RBAC API group.
pub const GROUP: &str = "rbac.authorization.k8s.io";

/// An authorization decision.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    /// Allowed.
    pub allowed: bool,
    /// Why (`RBAC: allowed by ...`), or resolution errors on denial (`RBAC: ...`).
    pub reason: String,
}

/// Where RBAC objects are read from: the live store, or a snapshot taken before a store mutation
/// (checks made inside a mutation must not take the store lock again).
#[derive(Clone, Copy)]
pub enum Source<'a> {
    /// The live store.
    Store(&'a Api),
    /// A snapshot.
    Snapshot(&'a Snapshot),
}

impl<'a> From<&'a Api> for Source<'a> {
    fn from(api: &'a Api) -> Self {
        Source::Store(api)
    }
}

impl<'a> From<&'a std::sync::Arc<Api>> for Source<'a> {
    fn from(api: &'a std::sync::Arc<Api>) -> Self {
        Source::Store(api)
    }
}

impl<'a> From<&'a Snapshot> for Source<'a> {
    fn from(s: &'a Snapshot) -> Self {
        Source::Snapshot(s)
    }
}

impl Source<'_> {
    /// Objects of one RBAC resource, optionally in one namespace.
    fn list(&self, resource: &str, ns: Option<&str>) -> Vec<Arc<Value>> {
        match self {
            Source::Store(api) => api.store.list(GROUP, resource, ns).1,
            Source::Snapshot(s) => s
                .objects(resource)
                .iter()
                .filter(|o| ns.is_none_or(|n| meta_str(o, "namespace") == n))
                .cloned()
                .collect(),
        }
    }

    /// One RBAC object.
    fn get(&self, resource: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        match self {
            Source::Store(api) => api.store.get(&ObjKey::new(GROUP, resource, ns, name)),
            Source::Snapshot(s) => s
                .objects(resource)
                .iter()
                .find(|o| meta_str(o, "namespace") == ns && meta_str(o, "name") == name)
                .cloned(),
        }
    }
}

/// Every Role, ClusterRole and binding at one moment.
#[derive(Debug, Default)]
pub struct Snapshot {
    roles: Vec<Arc<Value>>,
    cluster_roles: Vec<Arc<Value>>,
    role_bindings: Vec<Arc<Value>>,
    cluster_role_bindings: Vec<Arc<Value>>,
}

impl Snapshot {
    /// Reads the RBAC objects from the store.
    pub fn take(api: &Api) -> Self {
        let l = |r: &str| api.store.list(GROUP, r, None).1;
        Self {
            roles: l("roles"),
            cluster_roles: l("clusterroles"),
            role_bindings: l("rolebindings"),
            cluster_role_bindings: l("clusterrolebindings"),
        }
    }

    /// The snapshot a write of `group` by `user` needs for its escalation checks, taken before
    /// the store mutation (`None` when no check will read RBAC objects).
    pub fn for_write(api: &Api, group: &str, user: &UserInfo) -> Option<Arc<Self>> {
        (group == GROUP && !user.is_master()).then(|| Arc::new(Self::take(api)))
    }

    fn objects(&self, resource: &str) -> &[Arc<Value>] {
        match resource {
            "roles" => &self.roles,
            "clusterroles" => &self.cluster_roles,
            "rolebindings" => &self.role_bindings,
            "clusterrolebindings" => &self.cluster_role_bindings,
            _ => &[],
        }
    }
}

/// One policy rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rule {
    /// Verbs.
    pub verbs: Vec<String>,
    /// API groups.
    pub api_groups: Vec<String>,
    /// Resources (`res`, `res/sub`, `*`, `*/sub`).
    pub resources: Vec<String>,
    /// Resource names (empty: any).
    pub resource_names: Vec<String>,
    /// Non-resource URLs (exact or trailing `*`).
    pub non_resource_urls: Vec<String>,
}

impl Rule {
    /// Parses a `PolicyRule` object (missing lists are empty).
    pub fn from_json(v: &Value) -> Self {
        let list = |k: &str| -> Vec<String> {
            v[k].as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        Self {
            verbs: list("verbs"),
            api_groups: list("apiGroups"),
            resources: list("resources"),
            resource_names: list("resourceNames"),
            non_resource_urls: list("nonResourceURLs"),
        }
    }

    /// The rule as a `PolicyRule` object (empty lists omitted, `verbs` always present).
    pub fn to_json(&self) -> Value {
        let mut v = json!({"verbs": self.verbs});
        for (k, l) in [
            ("apiGroups", &self.api_groups),
            ("resources", &self.resources),
            ("resourceNames", &self.resource_names),
            ("nonResourceURLs", &self.non_resource_urls),
        ] {
            if !l.is_empty() {
                v[k] = json!(l);
            }
        }
        v
    }

    /// Whether the rule allows the request (upstream `RuleAllows`).
    pub fn allows(&self, a: &Attributes) -> bool {
        let has = |l: &[String], s: &str| l.iter().any(|x| x == s || x == "*");
        if !has(&self.verbs, &a.verb) {
            return false;
        }
        if !a.resource_request {
            return self.non_resource_urls.iter().any(|u| {
                u == "*"
                    || u == &a.path
                    || (u.ends_with('*') && a.path.starts_with(&u[..u.len() - 1]))
            });
        }
        if !has(&self.api_groups, &a.group) {
            return false;
        }
        let combined = if a.subresource.is_empty() {
            a.resource.clone()
        } else {
            format!("{}/{}", a.resource, a.subresource)
        };
        let resource_ok = self.resources.iter().any(|r| {
            r == "*"
                || *r == combined
                || (!a.subresource.is_empty()
                    && r.strip_prefix("*/") == Some(a.subresource.as_str()))
        });
        resource_ok && (self.resource_names.is_empty() || self.resource_names.contains(&a.name))
    }

    /// Whether this (owner) rule covers every permission of `sub` (upstream `ruleCovers`).
    fn covers(&self, sub: &Rule) -> bool {
        let has = |l: &[String], s: &str| l.iter().any(|x| x == s);
        let has_all = |l: &[String], s: &[String]| s.iter().all(|x| has(l, x));
        let verbs = has(&self.verbs, "*") || has_all(&self.verbs, &sub.verbs);
        let groups = has(&self.api_groups, "*") || has_all(&self.api_groups, &sub.api_groups);
        let resources = has(&self.resources, "*")
            || sub.resources.iter().all(|r| {
                has(&self.resources, r)
                    || r.split_once('/')
                        .is_some_and(|(_, s)| has(&self.resources, &format!("*/{s}")))
            });
        let urls = sub.non_resource_urls.iter().all(|u| {
            self.non_resource_urls
                .iter()
                .any(|o| o == u || (o.ends_with('*') && u.starts_with(&o[..o.len() - 1])))
        });
        let names = if sub.resource_names.is_empty() {
            self.resource_names.is_empty()
        } else {
            self.resource_names.is_empty() || has_all(&self.resource_names, &sub.resource_names)
        };
        verbs && groups && resources && urls && names
    }

    /// The rule split into single-permission rules (one verb × group × resource × name, or one
    /// verb × URL).
    fn breakdown(&self) -> Vec<Rule> {
        let mut out = vec![];
        let one = |v: &str| vec![v.to_string()];
        for g in &self.api_groups {
            for r in &self.resources {
                for v in &self.verbs {
                    if self.resource_names.is_empty() {
                        out.push(Rule {
                            verbs: one(v),
                            api_groups: one(g),
                            resources: one(r),
                            ..Rule::default()
                        });
                    }
                    for n in &self.resource_names {
                        out.push(Rule {
                            verbs: one(v),
                            api_groups: one(g),
                            resources: one(r),
                            resource_names: one(n),
                            ..Rule::default()
                        });
                    }
                }
            }
        }
        for u in &self.non_resource_urls {
            for v in &self.verbs {
                out.push(Rule {
                    verbs: one(v),
                    non_resource_urls: one(u),
                    ..Rule::default()
                });
            }
        }
        out
    }

    /// Go's `%q` of a string slice: `["a" "b"]`.
    fn q(l: &[String]) -> String {
        format!(
            "[{}]",
            l.iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(" ")
        )
    }

    /// Upstream's `CompactString`: `{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`.
    pub fn compact_string(&self) -> String {
        let mut parts = vec![];
        for (k, l) in [
            ("APIGroups", &self.api_groups),
            ("Resources", &self.resources),
            ("NonResourceURLs", &self.non_resource_urls),
            ("ResourceNames", &self.resource_names),
            ("Verbs", &self.verbs),
        ] {
            if !l.is_empty() {
                parts.push(format!("{k}:{}", Self::q(l)));
            }
        }
        format!("{{{}}}", parts.join(", "))
    }
}

/// Whether a binding subject names the user (`appliesTo` upstream).
fn subject_matches(s: &Value, user: &UserInfo, binding_ns: &str) -> bool {
    let name = s["name"].as_str().unwrap_or_default();
    match s["kind"].as_str().unwrap_or_default() {
        "User" => user.name == name,
        "Group" => user.groups.iter().any(|g| g == name),
        "ServiceAccount" => {
            let ns = s["namespace"]
                .as_str()
                .filter(|n| !n.is_empty())
                .unwrap_or(binding_ns);
            !ns.is_empty() && user.name == format!("system:serviceaccount:{ns}:{name}")
        }
        _ => false,
    }
}

fn describe_subject(s: &Value, binding_ns: &str) -> String {
    let kind = s["kind"].as_str().unwrap_or_default();
    let name = s["name"].as_str().unwrap_or_default();
    if kind == "ServiceAccount" {
        let ns = s["namespace"]
            .as_str()
            .filter(|n| !n.is_empty())
            .unwrap_or(binding_ns);
        return format!("{kind} {:?}", format!("{name}/{ns}"));
    }
    format!("{kind} {name:?}")
}

/// A ClusterRole's rules; an aggregated role's are the union of the roles its selectors match
/// (computed here too, so evaluation never waits for the aggregation write-back).
pub fn cluster_role_rules<'a>(src: impl Into<Source<'a>>, name: &str) -> Option<Vec<Rule>> {
    let src = src.into();
    let role = src.get("clusterroles", "", name)?;
    let mut seen = BTreeSet::new();
    Some(effective_rules(src, &role, &mut seen))
}

/// Rules of a ClusterRole object, resolving `aggregationRule` recursively.
pub fn effective_rules<'a>(
    src: impl Into<Source<'a>>,
    role: &Value,
    seen: &mut BTreeSet<String>,
) -> Vec<Rule> {
    let src = src.into();
    seen.insert(meta_str(role, "name").to_string());
    let Some(selectors) = role
        .pointer("/aggregationRule/clusterRoleSelectors")
        .and_then(Value::as_array)
    else {
        return role["rules"]
            .as_array()
            .map(|a| a.iter().map(Rule::from_json).collect())
            .unwrap_or_default();
    };
    let roles = src.list("clusterroles", None);
    let mut out: Vec<Rule> = vec![];
    for r in roles.iter() {
        let n = meta_str(r, "name");
        if seen.contains(n) {
            continue;
        }
        if selectors
            .iter()
            .any(|s| selector_matches(s, &r["metadata"]["labels"]))
        {
            for rule in effective_rules(src, r, seen) {
                if !out.contains(&rule) {
                    out.push(rule);
                }
            }
        }
    }
    out
}

/// A `LabelSelector` object (matchLabels + matchExpressions) against a labels map.
pub fn selector_matches(sel: &Value, labels: &Value) -> bool {
    let label = |k: &str| labels.get(k).and_then(Value::as_str);
    let labels_ok = sel["matchLabels"]
        .as_object()
        .map(|m| m.iter().all(|(k, v)| label(k) == v.as_str()))
        .unwrap_or(true);
    let exprs_ok = sel["matchExpressions"]
        .as_array()
        .map(|es| {
            es.iter().all(|e| {
                let k = e["key"].as_str().unwrap_or_default();
                let vals: Vec<&str> = e["values"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                match e["operator"].as_str().unwrap_or_default() {
                    "In" => label(k).is_some_and(|v| vals.contains(&v)),
                    "NotIn" => label(k).is_none_or(|v| !vals.contains(&v)),
                    "Exists" => label(k).is_some(),
                    "DoesNotExist" => label(k).is_none(),
                    _ => false,
                }
            })
        })
        .unwrap_or(true);
    // An empty selector (`{}`) matches nothing in aggregation, as upstream skips it.
    let empty = sel["matchLabels"].as_object().is_none_or(|m| m.is_empty())
        && sel["matchExpressions"]
            .as_array()
            .is_none_or(|a| a.is_empty());
    !empty && labels_ok && exprs_ok
}

/// Rules of a binding's `roleRef` (a Role in `ns` or a ClusterRole), or the resolution error.
pub fn role_ref_rules<'a>(
    src: impl Into<Source<'a>>,
    role_ref: &Value,
    ns: &str,
) -> Result<Vec<Rule>, String> {
    let src = src.into();
    let name = role_ref["name"].as_str().unwrap_or_default();
    match role_ref["kind"].as_str().unwrap_or_default() {
        "ClusterRole" => cluster_role_rules(src, name)
            .ok_or_else(|| format!("clusterrole.rbac.authorization.k8s.io {name:?} not found")),
        "Role" if !ns.is_empty() => src
            .get("roles", ns, name)
            .map(|r| {
                r["rules"]
                    .as_array()
                    .map(|a| a.iter().map(Rule::from_json).collect())
                    .unwrap_or_default()
            })
            .ok_or_else(|| format!("role.rbac.authorization.k8s.io {name:?} not found")),
        k => Err(format!("unsupported role reference kind: {k:?}")),
    }
}

/// Visits every rule granted to `user` in namespace `ns` (cluster-wide bindings first, then the
/// namespace's RoleBindings), with a description of where it comes from; `visit` returns false
/// to stop. Returns the resolution errors met (bindings whose role is missing).
fn visit_rules(
    src: Source<'_>,
    user: &UserInfo,
    ns: &str,
    visit: &mut dyn FnMut(&dyn Fn() -> String, &Rule) -> bool,
) -> Vec<String> {
    let mut errors = vec![];
    let crbs = src.list("clusterrolebindings", None);
    for b in crbs.iter() {
        let Some(subject) = b["subjects"]
            .as_array()
            .and_then(|ss| ss.iter().find(|s| subject_matches(s, user, "")))
        else {
            continue;
        };
        if b["roleRef"]["kind"] != "ClusterRole" {
            continue;
        }
        match role_ref_rules(src, &b["roleRef"], "") {
            Ok(rules) => {
                let describe = || {
                    format!(
                        "ClusterRoleBinding {:?} of ClusterRole {:?} to {}",
                        meta_str(b, "name"),
                        b["roleRef"]["name"].as_str().unwrap_or_default(),
                        describe_subject(subject, "")
                    )
                };
                for r in &rules {
                    if !visit(&describe, r) {
                        return errors;
                    }
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if ns.is_empty() {
        return errors;
    }
    let rbs = src.list("rolebindings", Some(ns));
    for b in rbs.iter() {
        let Some(subject) = b["subjects"]
            .as_array()
            .and_then(|ss| ss.iter().find(|s| subject_matches(s, user, ns)))
        else {
            continue;
        };
        match role_ref_rules(src, &b["roleRef"], ns) {
            Ok(rules) => {
                let describe = || {
                    format!(
                        "RoleBinding {:?} of {} {:?} to {}",
                        format!("{}/{ns}", meta_str(b, "name")),
                        b["roleRef"]["kind"].as_str().unwrap_or_default(),
                        b["roleRef"]["name"].as_str().unwrap_or_default(),
                        describe_subject(subject, ns)
                    )
                };
                for r in &rules {
                    if !visit(&describe, r) {
                        return errors;
                    }
                }
            }
            Err(e) => errors.push(e),
        }
    }
    errors
}

fn aggregate(errors: &[String]) -> String {
    match errors {
        [] => String::new(),
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// Decides a request for `user`: `system:masters` always, otherwise the first RBAC rule that
/// allows it; denials carry `RBAC: <resolution errors>` as the reason when there were any.
pub fn authorize<'a>(src: impl Into<Source<'a>>, user: &UserInfo, a: &Attributes) -> Decision {
    if user.is_master() {
        return Decision {
            allowed: true,
            reason: String::new(),
        };
    }
    let mut reason = None;
    let errors = visit_rules(src.into(), user, &a.namespace, &mut |describe, rule| {
        if rule.allows(a) {
            reason = Some(format!("RBAC: allowed by {}", describe()));
            return false;
        }
        true
    });
    match reason {
        Some(reason) => Decision {
            allowed: true,
            reason,
        },
        None if errors.is_empty() => Decision::default(),
        None => Decision {
            allowed: false,
            reason: format!("RBAC: {}", aggregate(&errors)),
        },
    }
}

/// Every rule that applies to `user` in `ns` (cluster-wide ones included) and the resolution
/// errors met.
pub fn rules_for<'a>(
    src: impl Into<Source<'a>>,
    user: &UserInfo,
    ns: &str,
) -> (Vec<Rule>, Vec<String>) {
    let mut rules: Vec<Rule> = vec![];
    let errors = visit_rules(src.into(), user, ns, &mut |_, r| {
        rules.push(r.clone());
        true
    });
    (rules, errors)
}

/// Upstream `ConfirmNoEscalation`: `user` must already hold every permission in `requested`
/// within `ns`, else the error text naming the missing rules.
pub fn confirm_no_escalation<'a>(
    src: impl Into<Source<'a>>,
    user: &UserInfo,
    ns: &str,
    requested: &[Rule],
) -> Result<(), String> {
    if user.is_master() {
        return Ok(());
    }
    let (owner, errors) = rules_for(src, user, ns);
    let mut missing: Vec<Rule> = requested
        .iter()
        .flat_map(Rule::breakdown)
        .filter(|sub| !owner.iter().any(|o| o.covers(sub)))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    missing = compact(missing);
    // Upstream collects the descriptions in a sorted string set.
    let descriptions: BTreeSet<String> = missing.iter().map(Rule::compact_string).collect();
    let groups = Rule::q(&user.groups);
    let mut msg = format!(
        "user {:?} (groups={groups}) is attempting to grant RBAC permissions not currently held:\n{}",
        user.name,
        descriptions.into_iter().collect::<Vec<_>>().join("\n")
    );
    if !errors.is_empty() {
        msg.push_str(&format!("; resolution errors: [{}]", errors.join(" ")));
    }
    Err(msg)
}

/// Merges single-group single-resource rules without names that differ only in verbs
/// (upstream `CompactRules`).
fn compact(rules: Vec<Rule>) -> Vec<Rule> {
    let mut out: Vec<Rule> = vec![];
    for r in rules {
        let simple = r.api_groups.len() == 1
            && r.resources.len() == 1
            && r.resource_names.is_empty()
            && r.non_resource_urls.is_empty();
        if simple
            && let Some(existing) = out.iter_mut().find(|o| {
                o.api_groups == r.api_groups
                    && o.resources == r.resources
                    && o.resource_names.is_empty()
                    && o.non_resource_urls.is_empty()
            })
        {
            for v in r.verbs {
                if !existing.verbs.contains(&v) {
                    existing.verbs.push(v);
                }
            }
            continue;
        }
        out.push(r);
    }
    out
}

fn rules_of(obj: &Value) -> Vec<Rule> {
    obj["rules"]
        .as_array()
        .map(|a| a.iter().map(Rule::from_json).collect())
        .unwrap_or_default()
}

/// Escalation and bind checks on a write (create or update) of a Role, ClusterRole, RoleBinding
/// or ClusterRoleBinding by `user`; `cur` is the stored object for updates (unchanged rules or
/// roleRef are not re-checked, as upstream).
pub fn check_write<'a>(
    src: impl Into<Source<'a>>,
    user: &UserInfo,
    group: &str,
    resource: &str,
    obj: &Value,
    cur: Option<&Value>,
) -> ApiResult<()> {
    if group != GROUP {
        return Ok(());
    }
    let src = src.into();
    let ns = meta_str(obj, "namespace");
    let name = meta_str(obj, "name");
    if let Some(c) = cur
        && matches!(resource, "rolebindings" | "clusterrolebindings")
        && c["roleRef"] != obj["roleRef"]
    {
        // Upstream reports the rejected (new) value.
        let r = &obj["roleRef"];
        let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
        let kind = if resource == "rolebindings" {
            "RoleBinding"
        } else {
            "ClusterRoleBinding"
        };
        return Err(ApiError::invalid(
            kind,
            GROUP,
            name,
            vec![crate::error::cause(
                "FieldValueInvalid",
                "roleRef",
                format!(
                    "Invalid value: rbac.RoleRef{{APIGroup:{:?}, Kind:{:?}, Name:{:?}}}: cannot change roleRef",
                    s("apiGroup"),
                    s("kind"),
                    s("name")
                ),
            )],
        ));
    }
    if user.is_master() {
        return Ok(());
    }
    let deny = |msg: String| forbidden_status(GROUP, resource, name, &msg);
    match resource {
        "roles" | "clusterroles" => {
            if cur.is_some_and(|c| {
                c["rules"] == obj["rules"] && c["aggregationRule"] == obj["aggregationRule"]
            }) {
                return Ok(());
            }
            let escalate = Attributes::resource("escalate", GROUP, resource, "", ns, name);
            if authorize(src, user, &escalate).allowed {
                return Ok(());
            }
            confirm_no_escalation(src, user, ns, &rules_of(obj)).map_err(deny)?;
            if resource == "clusterroles"
                && obj.get("aggregationRule").is_some_and(|a| !a.is_null())
            {
                let full = [
                    Rule {
                        verbs: vec!["*".into()],
                        api_groups: vec!["*".into()],
                        resources: vec!["*".into()],
                        ..Rule::default()
                    },
                    Rule {
                        verbs: vec!["*".into()],
                        non_resource_urls: vec!["*".into()],
                        ..Rule::default()
                    },
                ];
                confirm_no_escalation(src, user, "", &full).map_err(|_| {
                    deny("must have cluster-admin privileges to use the aggregationRule".into())
                })?;
            }
            Ok(())
        }
        "rolebindings" | "clusterrolebindings" => {
            let role_ref = &obj["roleRef"];
            // roleRef cannot change, but new subjects are new grants: only updates that keep
            // the subjects (metadata, GC fields) skip the check.
            if cur.is_some_and(|c| c["subjects"] == obj["subjects"]) {
                return Ok(());
            }
            let role_resource = match role_ref["kind"].as_str() {
                Some("Role") => "roles",
                _ => "clusterroles",
            };
            let bind = Attributes::resource(
                "bind",
                GROUP,
                role_resource,
                "",
                ns,
                role_ref["name"].as_str().unwrap_or_default(),
            );
            if authorize(src, user, &bind).allowed {
                return Ok(());
            }
            // A missing role is the role lister's NotFound (singular resource), as upstream.
            let rules = role_ref_rules(src, role_ref, ns).map_err(|_| {
                let singular = if role_resource == "roles" {
                    "role"
                } else {
                    "clusterrole"
                };
                ApiError::not_found(
                    GROUP,
                    singular,
                    role_ref["name"].as_str().unwrap_or_default(),
                )
            })?;
            confirm_no_escalation(src, user, ns, &rules).map_err(deny)
        }
        _ => Ok(()),
    }
}

/// A 403 for a review or token call that may not name another identity.
pub fn deny(a: &Attributes, user: &str) -> ApiError {
    super::forbidden(user, a, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(v: Value) -> Rule {
        Rule::from_json(&v)
    }

    #[test]
    fn rule_matching() {
        let r = rule(
            json!({"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods", "pods/log"]}),
        );
        let a =
            |verb: &str, res: &str, sub: &str| Attributes::resource(verb, "", res, sub, "ns", "p");
        assert!(r.allows(&a("get", "pods", "")));
        assert!(r.allows(&a("get", "pods", "log")));
        assert!(!r.allows(&a("get", "pods", "exec")));
        assert!(!r.allows(&a("delete", "pods", "")));
        assert!(!r.allows(&Attributes::resource("get", "apps", "pods", "", "ns", "p")));
        let star_sub = rule(json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*/status"]}));
        assert!(star_sub.allows(&a("update", "deployments", "status")));
        assert!(!star_sub.allows(&a("update", "deployments", "")));
        let named = rule(
            json!({"verbs": ["get", "list"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["cfg"]}),
        );
        assert!(named.allows(&Attributes::resource(
            "get",
            "",
            "configmaps",
            "",
            "ns",
            "cfg"
        )));
        assert!(!named.allows(&Attributes::resource(
            "get",
            "",
            "configmaps",
            "",
            "ns",
            "other"
        )));
        assert!(!named.allows(&Attributes::resource(
            "list",
            "",
            "configmaps",
            "",
            "ns",
            ""
        )));
        let urls = rule(json!({"verbs": ["get"], "nonResourceURLs": ["/apis/*", "/version"]}));
        assert!(urls.allows(&Attributes::non_resource("get", "/apis/apps/v1")));
        assert!(urls.allows(&Attributes::non_resource("get", "/version")));
        assert!(!urls.allows(&Attributes::non_resource("get", "/version/x")));
        assert!(!urls.allows(&Attributes::non_resource("post", "/version")));
    }

    #[test]
    fn coverage_and_compaction() {
        let owner = rule(
            json!({"verbs": ["get", "list"], "apiGroups": [""], "resources": ["*/log", "pods"]}),
        );
        let want =
            rule(json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods", "pods/log"]}));
        assert!(want.breakdown().iter().all(|s| owner.covers(s)));
        let more =
            rule(json!({"verbs": ["get", "delete"], "apiGroups": [""], "resources": ["secrets"]}));
        let missing = compact(
            more.breakdown()
                .into_iter()
                .filter(|s| !owner.covers(s))
                .collect(),
        );
        assert_eq!(missing.len(), 1);
        assert_eq!(
            missing[0].compact_string(),
            r#"{APIGroups:[""], Resources:["secrets"], Verbs:["get" "delete"]}"#
        );
        // Named owner rules do not cover unnamed permissions.
        let named = rule(
            json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["a"]}),
        );
        assert!(!named.covers(&rule(
            json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]})
        )));
    }

    #[test]
    fn selectors() {
        let labels = json!({"rbac.authorization.k8s.io/aggregate-to-view": "true"});
        assert!(selector_matches(
            &json!({"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}}),
            &labels
        ));
        assert!(!selector_matches(
            &json!({"matchLabels": {"x": "y"}}),
            &labels
        ));
        assert!(!selector_matches(&json!({}), &labels));
        assert!(selector_matches(
            &json!({"matchExpressions": [{"key": "rbac.authorization.k8s.io/aggregate-to-view", "operator": "Exists"}]}),
            &labels
        ));
    }
}
