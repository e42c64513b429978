//! Authentication: client certificates (CN = user, O = groups), static and service-account bearer
//! tokens, anonymous requests; first match wins as in kube-apiserver's union authenticator.

use super::{AUTHENTICATED, UserInfo};
use crate::error::{ApiError, ApiResult};
use crate::server::Api;
use crate::transport::PeerIdentity;
use axum::http::{HeaderMap, header};

/// The identity of a verified client certificate: subject CN is the user, each O a group.
/// `None` when the certificate cannot be parsed or has no CN.
pub fn cert_identity(der: &[u8]) -> Option<UserInfo> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let subject = cert.subject();
    let cn = subject
        .iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok())?
        .to_string();
    let groups: Vec<&str> = subject
        .iter_organization()
        .filter_map(|a| a.as_str().ok())
        .collect();
    Some(UserInfo::authenticated(cn, "", &groups))
}

/// Authenticates a request from its transport identity and headers.
///
/// Order as upstream's union authenticator: client certificate, then bearer token (one that
/// matches nothing is 401), then anonymous (if enabled) or 401. Plain HTTP without credentials is
/// the trusted local port and acts as the admin.
pub fn authenticate(api: &Api, peer: &PeerIdentity, headers: &HeaderMap) -> ApiResult<UserInfo> {
    if let Some(u) = &peer.cert_user {
        return Ok(u.clone());
    }
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    // As upstream's bearer authenticator: a scheme other than `Bearer` or an empty token is
    // no credential at all; a token that matches nothing is 401.
    let token = auth.and_then(|h| {
        let (scheme, rest) = h.split_once(' ')?;
        let t = rest.trim();
        (scheme.eq_ignore_ascii_case("bearer") && !t.is_empty()).then_some(t)
    });
    if let Some(token) = token {
        return authenticate_token(api, token).ok_or_else(ApiError::unauthorized);
    }
    if peer.client_cert {
        // Verified by the TLS layer but without a usable subject.
        return Err(ApiError::unauthorized());
    }
    if !api.tls {
        return Ok(UserInfo::admin());
    }
    if api.auth.config.anonymous {
        return Ok(UserInfo::anonymous());
    }
    Err(ApiError::unauthorized())
}

/// The identity a bearer token stands for: a static token or a valid service-account JWT.
pub fn authenticate_token(api: &Api, token: &str) -> Option<UserInfo> {
    if let Some(u) = api.auth.static_tokens.get(token) {
        return Some(u.clone());
    }
    let claims = api
        .auth
        .signer
        .verify(token, &api.auth.config.issuer)
        .ok()?;
    let sa = api.store.get(&crate::store::ObjKey::new(
        "",
        "serviceaccounts",
        &claims.namespace,
        &claims.name,
    ))?;
    // A token outlives neither its service account nor a recreated one with another uid.
    if crate::util::meta_str(&sa, "uid") != claims.uid
        || !crate::util::meta_str(&sa, "deletionTimestamp").is_empty()
    {
        return None;
    }
    let mut u = service_account_user(&claims.namespace, &claims.name);
    u.uid = claims.uid;
    if let Some(id) = claims.jti {
        u.extra.insert(
            "authentication.kubernetes.io/credential-id".into(),
            vec![format!("JTI={id}")],
        );
    }
    Some(u)
}

/// The identity of a service account: `system:serviceaccount:<ns>:<name>` in groups
/// `system:serviceaccounts`, `system:serviceaccounts:<ns>` and `system:authenticated`.
pub fn service_account_user(ns: &str, name: &str) -> UserInfo {
    UserInfo {
        name: format!("system:serviceaccount:{ns}:{name}"),
        uid: String::new(),
        groups: vec![
            "system:serviceaccounts".into(),
            format!("system:serviceaccounts:{ns}"),
            AUTHENTICATED.into(),
        ],
        extra: Default::default(),
    }
}

/// Splits `system:serviceaccount:<ns>:<name>` into namespace and name.
pub fn parse_service_account(user: &str) -> Option<(&str, &str)> {
    let rest = user.strip_prefix("system:serviceaccount:")?;
    let (ns, name) = rest.split_once(':')?;
    (!ns.is_empty() && !name.is_empty() && !name.contains(':')).then_some((ns, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_account_names() {
        assert_eq!(
            parse_service_account("system:serviceaccount:flux:kc"),
            Some(("flux", "kc"))
        );
        assert_eq!(parse_service_account("system:serviceaccount:flux"), None);
        assert_eq!(parse_service_account("alice"), None);
        let u = service_account_user("t1", "sa");
        assert_eq!(u.groups[1], "system:serviceaccounts:t1");
    }

    #[test]
    fn certificate_subject_becomes_identity() {
        let pki = crate::pki::Pki::generate().unwrap();
        let (cert, _) = pki.issue_client_cert("alice", &["devs", "flux"]).unwrap();
        let der = rustls::pki_types::pem::PemObject::from_pem_slice(cert.as_bytes())
            .map(|c: rustls::pki_types::CertificateDer<'static>| c.to_vec())
            .unwrap();
        let u = cert_identity(&der).unwrap();
        assert_eq!(u.name, "alice");
        assert_eq!(u.groups, ["devs", "flux", "system:authenticated"]);
        let admin = rustls::pki_types::pem::PemObject::from_pem_slice(pki.admin_cert.as_bytes())
            .map(|c: rustls::pki_types::CertificateDer<'static>| c.to_vec())
            .unwrap();
        assert!(cert_identity(&admin).unwrap().is_master());
    }
}
