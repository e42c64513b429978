//! Access and token reviews: create-only kinds that are answered, never stored —
//! SelfSubjectAccessReview, SubjectAccessReview, LocalSubjectAccessReview,
//! SelfSubjectRulesReview, SelfSubjectReview and TokenReview, decided by the same RBAC evaluation
//! that guards every request.

use crate::auth::rbac::{self, Rule};
use crate::auth::{Attributes, UserInfo};
use crate::error::{ApiError, ApiResult, cause};
use crate::registry::ResourceInfo;
use crate::server::Api;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Whether the resource is one of the review kinds.
pub fn is_review(ri: &ResourceInfo) -> bool {
    matches!(
        (ri.group.as_str(), ri.plural.as_str()),
        (
            "authorization.k8s.io",
            "selfsubjectaccessreviews"
                | "subjectaccessreviews"
                | "localsubjectaccessreviews"
                | "selfsubjectrulesreviews"
        ) | (
            "authentication.k8s.io",
            "selfsubjectreviews" | "tokenreviews"
        )
    )
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// The attributes a review asks about (`spec.resourceAttributes` or `spec.nonResourceAttributes`).
fn review_attributes(ri: &ResourceInfo, spec: &Value) -> ApiResult<Attributes> {
    if let Some(r) = spec.get("resourceAttributes").filter(|r| r.is_object()) {
        let mut a = Attributes::resource(
            &s(&r["verb"]),
            &s(&r["group"]),
            &s(&r["resource"]),
            &s(&r["subresource"]),
            &s(&r["namespace"]),
            &s(&r["name"]),
        );
        a.version = s(&r["version"]);
        return Ok(a);
    }
    if let Some(n) = spec.get("nonResourceAttributes").filter(|r| r.is_object()) {
        return Ok(Attributes::non_resource(&s(&n["verb"]), &s(&n["path"])));
    }
    Err(ApiError::invalid(
        &ri.kind,
        &ri.group,
        "",
        vec![cause(
            "FieldValueRequired",
            "spec.resourceAttributes",
            "Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified",
        )],
    ))
}

fn access_status(api: &Api, user: &UserInfo, a: &Attributes) -> Value {
    let d = rbac::authorize(api, user, a);
    let mut st = json!({"allowed": d.allowed});
    if !d.reason.is_empty() {
        st["reason"] = json!(d.reason);
    }
    st
}

/// The identity a SubjectAccessReview names in its spec.
fn spec_user(ri: &ResourceInfo, spec: &Value) -> ApiResult<UserInfo> {
    let groups: Vec<String> = spec["groups"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|g| g.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let name = s(&spec["user"]);
    if name.is_empty() && groups.is_empty() {
        return Err(ApiError::invalid(
            &ri.kind,
            &ri.group,
            "",
            vec![cause(
                "FieldValueInvalid",
                "spec.user",
                "Invalid value: \"\": at least one of user or group must be specified",
            )],
        ));
    }
    let extra: BTreeMap<String, Vec<String>> = spec["extra"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let vals = v
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|x| x.as_str().map(String::from))
                                .collect()
                        })
                        .unwrap_or_default();
                    (k.clone(), vals)
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(UserInfo {
        name,
        uid: s(&spec["uid"]),
        groups,
        extra,
    })
}

fn rules_status(api: &Api, user: &UserInfo, ns: &str) -> Value {
    let (rules, errors) = if user.is_master() {
        // The privileged group holds everything whatever the bindings say.
        (
            vec![
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
            ],
            vec![],
        )
    } else {
        rbac::rules_for(api, user, ns)
    };
    let mut resource_rules = vec![];
    let mut non_resource_rules = vec![];
    for r in rules {
        if !r.resources.is_empty() {
            let mut v =
                json!({"verbs": r.verbs, "apiGroups": r.api_groups, "resources": r.resources});
            if !r.resource_names.is_empty() {
                v["resourceNames"] = json!(r.resource_names);
            }
            resource_rules.push(v);
        }
        if !r.non_resource_urls.is_empty() {
            non_resource_rules
                .push(json!({"verbs": r.verbs, "nonResourceURLs": r.non_resource_urls}));
        }
    }
    let mut st = json!({
        "resourceRules": resource_rules,
        "nonResourceRules": non_resource_rules,
        "incomplete": false,
    });
    if !errors.is_empty() {
        st["evaluationError"] = json!(errors.join(", "));
    }
    st
}

/// Fills `status` of a review object created by `user` (after impersonation) at namespace `ns`
/// of the URL (LocalSubjectAccessReview only).
pub fn answer(
    api: &Api,
    user: &UserInfo,
    ri: &ResourceInfo,
    ns: &str,
    obj: &mut Value,
) -> ApiResult<()> {
    let spec = obj["spec"].clone();
    let status = match ri.plural.as_str() {
        "selfsubjectaccessreviews" => {
            let a = review_attributes(ri, &spec)?;
            access_status(api, user, &a)
        }
        "subjectaccessreviews" => {
            let a = review_attributes(ri, &spec)?;
            access_status(api, &spec_user(ri, &spec)?, &a)
        }
        "localsubjectaccessreviews" => {
            let a = review_attributes(ri, &spec)?;
            if !a.resource_request || a.namespace != ns {
                return Err(ApiError::bad_request(format!(
                    "spec.resourceAttributes.namespace must match namespace: {ns}"
                )));
            }
            access_status(api, &spec_user(ri, &spec)?, &a)
        }
        "selfsubjectrulesreviews" => rules_status(api, user, &s(&spec["namespace"])),
        "selfsubjectreviews" => json!({"userInfo": user.to_json()}),
        "tokenreviews" => {
            let token = s(&spec["token"]);
            match crate::auth::authn::authenticate_token(api, &token) {
                Some(u) => json!({
                    "authenticated": true,
                    "user": u.to_json(),
                    "audiences": [api.auth.config.issuer],
                }),
                None => json!({"authenticated": false, "error": "invalid bearer token"}),
            }
        }
        _ => return Ok(()),
    };
    obj["status"] = status;
    Ok(())
}
