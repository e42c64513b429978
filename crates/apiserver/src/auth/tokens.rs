//! Bearer tokens: the static token file, service-account JWTs signed by the server (ES256) and
//! the TokenRequest subresource (`POST .../serviceaccounts/<name>/token`).

use super::{AuthError, StaticToken, UserInfo};
use crate::error::{ApiError, ApiResult, cause};
use crate::request::{Req, Target};
use crate::server::{Api, json_response};
use crate::store::ObjKey;
use crate::util::{meta_str, now_secs, rfc3339};
use base64::Engine;
use ring::signature::{self, KeyPair};
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;
use serde_json::{Value, json};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Parses a `--token-auth-file` CSV: `token,user,uid[,"group1,group2"]` per line; blank lines and
/// `#` comments are skipped.
pub fn parse_token_file(text: &str, path: &str) -> Result<Vec<StaticToken>, AuthError> {
    let mut out = vec![];
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields = split_csv(line);
        let err = |reason: &str| AuthError::TokenLine {
            path: path.to_string(),
            line: i + 1,
            reason: reason.to_string(),
        };
        if fields.len() < 3 {
            return Err(err("expected at least 3 columns: token,user,uid"));
        }
        if fields[0].is_empty() || fields[1].is_empty() {
            return Err(err("token and user must not be empty"));
        }
        let groups: Vec<&str> = fields
            .get(3)
            .map(|g| {
                g.split(',')
                    .map(str::trim)
                    .filter(|g| !g.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        out.push(StaticToken {
            token: fields[0].clone(),
            user: UserInfo::authenticated(fields[1].as_str(), fields[2].as_str(), &groups),
        });
    }
    Ok(out)
}

/// Splits one CSV line honouring double quotes (`""` is a literal quote).
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = vec![];
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    fields.push(cur);
    fields.into_iter().map(|f| f.trim().to_string()).collect()
}

/// Claims of a verified service-account token that authentication needs.
#[derive(Debug, Clone, PartialEq)]
pub struct SaClaims {
    /// Namespace of the service account.
    pub namespace: String,
    /// Name of the service account.
    pub name: String,
    /// uid of the service account the token was issued for.
    pub uid: String,
    /// Token id.
    pub jti: Option<String>,
    /// Audiences.
    pub audiences: Vec<String>,
    /// Expiry (unix seconds).
    pub exp: i64,
}

/// Why a token was rejected (never shown to clients: they get 401 `Unauthorized`).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts or not JSON.
    #[error("verifying service account token: malformed token")]
    Malformed,
    /// Signature mismatch.
    #[error("verifying service account token: invalid signature")]
    Signature,
    /// Expired or not yet valid.
    #[error("verifying service account token: token is expired or not yet valid")]
    Time,
    /// Issuer or audience do not match.
    #[error("verifying service account token: issuer or audience mismatch")]
    Audience,
}

/// Signs and verifies service-account JWTs with the server's P-256 key.
pub struct Signer {
    key: signature::EcdsaKeyPair,
    rng: ring::rand::SystemRandom,
    kid: String,
}

impl Signer {
    /// A signer from a PKCS#8 PEM P-256 key.
    pub fn new(pem: &str, _issuer: &str) -> Result<Self, AuthError> {
        let der = match PrivateKeyDer::from_pem_slice(pem.as_bytes()) {
            Ok(PrivateKeyDer::Pkcs8(k)) => k.secret_pkcs8_der().to_vec(),
            Ok(_) => return Err(AuthError::SigningKey("key is not PKCS#8".into())),
            Err(e) => return Err(AuthError::SigningKey(e.to_string())),
        };
        let rng = ring::rand::SystemRandom::new();
        let key = signature::EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &der,
            &rng,
        )
        .map_err(|e| AuthError::SigningKey(e.to_string()))?;
        let kid = B64.encode(
            &ring::digest::digest(&ring::digest::SHA256, key.public_key().as_ref()).as_ref()[..20],
        );
        Ok(Self { key, rng, kid })
    }

    /// Signs claims into a compact JWS (`header.payload.signature`).
    pub fn sign(&self, claims: &Value) -> ApiResult<String> {
        let header = json!({"alg": "ES256", "kid": self.kid});
        let input = format!(
            "{}.{}",
            B64.encode(serde_json::to_vec(&header).map_err(ApiError::internal)?),
            B64.encode(serde_json::to_vec(claims).map_err(ApiError::internal)?)
        );
        let sig = self
            .key
            .sign(&self.rng, input.as_bytes())
            .map_err(|_| ApiError::internal("signing service account token"))?;
        Ok(format!("{input}.{}", B64.encode(sig.as_ref())))
    }

    /// Verifies signature, time window, issuer and audience (`audience` must be listed).
    pub fn verify(&self, token: &str, audience: &str) -> Result<SaClaims, TokenError> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let header: Value = B64
            .decode(h)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(TokenError::Malformed)?;
        if header["alg"] != "ES256" {
            return Err(TokenError::Signature);
        }
        let sig = B64.decode(s).map_err(|_| TokenError::Malformed)?;
        let public = signature::UnparsedPublicKey::new(
            &signature::ECDSA_P256_SHA256_FIXED,
            self.key.public_key().as_ref(),
        );
        public
            .verify(format!("{h}.{p}").as_bytes(), &sig)
            .map_err(|_| TokenError::Signature)?;
        let c: Value = B64
            .decode(p)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(TokenError::Malformed)?;
        let now = now_secs();
        let exp = c["exp"].as_i64().ok_or(TokenError::Malformed)?;
        let nbf = c["nbf"].as_i64().unwrap_or(0);
        // One minute of leeway, as upstream's validator allows for clock skew.
        if now > exp + 60 || now + 60 < nbf {
            return Err(TokenError::Time);
        }
        if c["iss"].as_str() != Some(audience) {
            return Err(TokenError::Audience);
        }
        let audiences: Vec<String> = match &c["aud"] {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            _ => vec![],
        };
        if !audiences.iter().any(|a| a == audience) {
            return Err(TokenError::Audience);
        }
        let k = &c["kubernetes.io"];
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        Ok(SaClaims {
            namespace: s(&k["namespace"]),
            name: s(&k["serviceaccount"]["name"]),
            uid: s(&k["serviceaccount"]["uid"]),
            jti: c["jti"].as_str().map(String::from),
            audiences,
            exp,
        })
    }

    /// Issues a token for a service account object.
    pub fn issue(
        &self,
        issuer: &str,
        sa: &Value,
        audiences: &[String],
        expiration_seconds: i64,
        bound: Option<&Value>,
    ) -> ApiResult<(String, i64)> {
        let now = now_secs();
        let exp = now + expiration_seconds;
        let ns = meta_str(sa, "namespace");
        let name = meta_str(sa, "name");
        let mut k8s = json!({
            "namespace": ns,
            "serviceaccount": {"name": name, "uid": meta_str(sa, "uid")},
        });
        if let Some(b) = bound
            && let Some(kind) = b["kind"].as_str()
        {
            k8s[kind.to_lowercase()] = json!({"name": b["name"], "uid": b["uid"]});
        }
        let claims = json!({
            "aud": audiences,
            "exp": exp,
            "iat": now,
            "iss": issuer,
            "jti": uuid::Uuid::new_v4().to_string(),
            "kubernetes.io": k8s,
            "nbf": now,
            "sub": format!("system:serviceaccount:{ns}:{name}"),
        });
        Ok((self.sign(&claims)?, exp))
    }
}

/// Issues a token for an existing service account as TokenRequest would (audience: the API
/// server), for in-process callers that want to act as that account.
pub fn issue_service_account_token(
    api: &Api,
    ns: &str,
    name: &str,
    expiration_seconds: i64,
) -> ApiResult<String> {
    let sa = api
        .store
        .get(&ObjKey::new("", "serviceaccounts", ns, name))
        .ok_or_else(|| ApiError::not_found("", "serviceaccounts", name))?;
    let issuer = api.auth.config.issuer.clone();
    let (token, _) = api.auth.signer.issue(
        &issuer,
        &sa,
        std::slice::from_ref(&issuer),
        expiration_seconds,
        None,
    )?;
    Ok(token)
}

/// `POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token`: a TokenRequest answered with a
/// signed token (201), never stored.
pub fn token_request(api: &Api, req: &Req, t: &Target) -> ApiResult<axum::response::Response> {
    let ns = t.namespace.clone().unwrap_or_default();
    let name = t.name.clone().unwrap_or_default();
    let mut body = if req.body.is_empty() {
        json!({})
    } else {
        req.body_object()?
    };
    if !body.is_object() {
        return Err(ApiError::bad_request("TokenRequest body must be an object"));
    }
    if let Some(k) = body["kind"].as_str()
        && k != "TokenRequest"
    {
        return Err(ApiError::bad_request(format!(
            "expected TokenRequest, got {k}"
        )));
    }
    let sa = api
        .store
        .get(&ObjKey::new("", "serviceaccounts", &ns, &name))
        .ok_or_else(|| ApiError::not_found("", "serviceaccounts", &name))?;
    let spec = body["spec"].clone();
    let expiration = spec["expirationSeconds"].as_i64().unwrap_or(3600);
    if expiration < 600 {
        return Err(ApiError::invalid(
            "TokenRequest",
            "authentication.k8s.io",
            &name,
            vec![cause(
                "FieldValueInvalid",
                "spec.expirationSeconds",
                format!(
                    "Invalid value: {expiration}: may not specify a duration less than 10 minutes"
                ),
            )],
        ));
    }
    if expiration > 1 << 32 {
        return Err(ApiError::invalid(
            "TokenRequest",
            "authentication.k8s.io",
            &name,
            vec![cause(
                "FieldValueTooLong",
                "spec.expirationSeconds",
                format!(
                    "Invalid value: {expiration}: may not specify a duration larger than 2^32 seconds"
                ),
            )],
        ));
    }
    let issuer = api.auth.config.issuer.clone();
    let audiences: Vec<String> = match spec["audiences"].as_array() {
        Some(a) if !a.is_empty() => a
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        _ => vec![issuer.clone()],
    };
    let bound = spec.get("boundObjectRef").filter(|b| b.is_object());
    let (token, exp) = api
        .auth
        .signer
        .issue(&issuer, &sa, &audiences, expiration, bound)?;
    body["apiVersion"] = json!("authentication.k8s.io/v1");
    body["kind"] = json!("TokenRequest");
    let meta = body
        .as_object_mut()
        .map(|m| m.entry("metadata").or_insert(json!({})).clone())
        .unwrap_or_default();
    let mut meta = if meta.is_object() { meta } else { json!({}) };
    meta["name"] = json!(name);
    meta["namespace"] = json!(ns);
    meta["creationTimestamp"] = Value::Null;
    body["metadata"] = meta;
    body["spec"]["audiences"] = json!(audiences);
    body["spec"]["expirationSeconds"] = json!(expiration);
    if body["spec"].get("boundObjectRef").is_none() {
        body["spec"]["boundObjectRef"] = Value::Null;
    }
    body["status"] = json!({"token": token, "expirationTimestamp": rfc3339(exp)});
    Ok(json_response(201, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> Signer {
        let key = rcgen::KeyPair::generate().unwrap().serialize_pem();
        Signer::new(&key, "iss").unwrap()
    }

    #[test]
    fn token_file_lines() {
        let t = parse_token_file(
            "# comment\ns3cret,alice,u1,\"devs,flux\"\n\nt2,bob,u2\n",
            "f",
        )
        .unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].user.name, "alice");
        assert_eq!(t[0].user.groups, ["devs", "flux", "system:authenticated"]);
        assert_eq!(t[1].user.groups, ["system:authenticated"]);
        let err = parse_token_file("only,two\n", "f").unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let s = signer();
        let sa = json!({"metadata": {"namespace": "ns", "name": "sa", "uid": "u-1"}});
        let (tok, _) = s.issue("iss", &sa, &["iss".into()], 3600, None).unwrap();
        let c = s.verify(&tok, "iss").unwrap();
        assert_eq!(
            (c.namespace.as_str(), c.name.as_str(), c.uid.as_str()),
            ("ns", "sa", "u-1")
        );
        // Another audience is not accepted by the API server.
        let (other, _) = s.issue("iss", &sa, &["vault".into()], 3600, None).unwrap();
        assert!(matches!(s.verify(&other, "iss"), Err(TokenError::Audience)));
        // A token from another key fails the signature check.
        let (foreign, _) = signer()
            .issue("iss", &sa, &["iss".into()], 3600, None)
            .unwrap();
        assert!(matches!(
            s.verify(&foreign, "iss"),
            Err(TokenError::Signature)
        ));
        // Swapping the payload breaks the signature.
        let parts: Vec<&str> = tok.split('.').collect();
        let forged_payload = B64.encode(br#"{"iss":"iss","aud":["iss"],"exp":9999999999,"kubernetes.io":{"namespace":"kube-system","serviceaccount":{"name":"admin","uid":"x"}}}"#);
        let forged = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
        assert!(matches!(
            s.verify(&forged, "iss"),
            Err(TokenError::Signature)
        ));
        // Expired.
        let (old, _) = s.issue("iss", &sa, &["iss".into()], -3600, None).unwrap();
        assert!(matches!(s.verify(&old, "iss"), Err(TokenError::Time)));
    }
}
