//! Access and token reviews: create-only kinds that are answered, never stored. Until RBAC
//! lands (issue 6) every authenticated caller is the admin, so every access review is allowed.

use crate::registry::ResourceInfo;
use serde_json::{Value, json};

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

/// The admin identity every authenticated request carries for now.
fn admin_user() -> Value {
    json!({"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]})
}

/// Fills `status` of a review object.
pub fn answer(ri: &ResourceInfo, obj: &mut Value) {
    let status = match ri.plural.as_str() {
        "selfsubjectrulesreviews" => json!({
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": false,
        }),
        "selfsubjectreviews" => json!({"userInfo": admin_user()}),
        // Only the admin token is known; anything else is unauthenticated.
        "tokenreviews" => {
            json!({"authenticated": false, "error": "token reviews are not supported by this server"})
        }
        _ => {
            json!({"allowed": true, "reason": "the embedded API server grants every authenticated caller full access"})
        }
    };
    obj["status"] = status;
}
