//! Impersonation (`Impersonate-User`, `-Group`, `-Uid`, `-Extra-<key>`): each requested attribute is
//! authorized for the real caller with verb `impersonate`, then the request runs as the new
//! identity (Flux's `serviceAccountName` multi-tenancy relies on this).

use super::authn::parse_service_account;
use super::{ANONYMOUS, AUTHENTICATED, Attributes, UNAUTHENTICATED, UserInfo, forbidden, rbac};
use crate::error::{ApiError, ApiResult};
use crate::server::Api;
use axum::http::HeaderMap;
use std::collections::BTreeMap;

const USER: &str = "impersonate-user";
const GROUP: &str = "impersonate-group";
const UID: &str = "impersonate-uid";
const EXTRA: &str = "impersonate-extra-";

/// The identity a request runs as: the caller itself without impersonation headers, else the
/// impersonated identity once every part of it is authorized (403 otherwise). Groups, uid or
/// extras without a user are refused with the 500 upstream answers (`uri` names the request).
pub fn apply(api: &Api, caller: &UserInfo, headers: &HeaderMap, uri: &str) -> ApiResult<UserInfo> {
    let text = |v: &axum::http::HeaderValue| v.to_str().unwrap_or_default().to_string();
    let user = headers.get(USER).map(text);
    let groups: Vec<String> = headers.get_all(GROUP).iter().map(text).collect();
    let uid = headers.get(UID).map(text);
    let mut extra: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in headers {
        if let Some(key) = k.as_str().strip_prefix(EXTRA) {
            extra
                .entry(percent_decode(key).to_lowercase())
                .or_default()
                .push(text(v));
        }
    }
    let Some(user) = user.filter(|u| !u.is_empty()) else {
        if groups.is_empty() && uid.is_none() && extra.is_empty() {
            return Ok(caller.clone());
        }
        // Go's `%v` of the `[]ObjectReference` upstream builds (Kind, Namespace, Name, UID,
        // APIVersion, ResourceVersion, FieldPath), and its answer: an internal error.
        let mut reqs: Vec<String> = groups
            .iter()
            .map(|g| format!("{{Group  {g}    }}"))
            .collect();
        for (k, vs) in &extra {
            for v in vs {
                reqs.push(format!("{{UserExtra  {v}  authentication.k8s.io/v1  {k}}}"));
            }
        }
        if let Some(u) = &uid {
            reqs.push(format!("{{UID  {u}  authentication.k8s.io/v1  }}"));
        }
        return Err(ApiError {
            code: 500,
            reason: "InternalError",
            message: format!(
                "Internal Server Error: {uri:?}: requested [{}] without impersonating a user",
                reqs.join(" ")
            ),
            details: None,
        });
    };
    let check = |a: Attributes| -> ApiResult<()> {
        let d = rbac::authorize(api, caller, &a);
        if d.allowed {
            Ok(())
        } else {
            Err(forbidden(&caller.name, &a, &d.reason))
        }
    };
    let mut out_groups = groups.clone();
    if let Some((ns, name)) = parse_service_account(&user) {
        check(Attributes::resource(
            "impersonate",
            "",
            "serviceaccounts",
            "",
            ns,
            name,
        ))?;
        if groups.is_empty() {
            out_groups = vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{ns}"),
            ];
        }
    } else {
        check(Attributes::resource(
            "impersonate",
            "",
            "users",
            "",
            "",
            &user,
        ))?;
    }
    for g in &groups {
        check(Attributes::resource("impersonate", "", "groups", "", "", g))?;
    }
    for (k, vs) in &extra {
        for v in vs {
            check(Attributes::resource(
                "impersonate",
                "authentication.k8s.io",
                "userextras",
                k,
                "",
                v,
            ))?;
        }
    }
    if let Some(u) = &uid {
        check(Attributes::resource(
            "impersonate",
            "authentication.k8s.io",
            "uids",
            "",
            "",
            u,
        ))?;
    }
    if user == ANONYMOUS {
        if !out_groups.iter().any(|g| g == UNAUTHENTICATED) {
            out_groups.push(UNAUTHENTICATED.into());
        }
    } else if !out_groups
        .iter()
        .any(|g| g == AUTHENTICATED || g == UNAUTHENTICATED)
    {
        out_groups.push(AUTHENTICATED.into());
    }
    Ok(UserInfo {
        name: user,
        uid: uid.unwrap_or_default(),
        groups: out_groups,
        extra,
    })
}

/// Decodes `%XX` escapes (header names carry percent-encoded extra keys, e.g. `%2f` for `/`).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_keys_are_percent_decoded() {
        assert_eq!(
            percent_decode("scopes.example.com%2fx"),
            "scopes.example.com/x"
        );
        assert_eq!(percent_decode("plain"), "plain");
        assert_eq!(percent_decode("bad%zz"), "bad%zz");
    }
}
