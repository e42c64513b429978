//! Authentication, authorization (RBAC), impersonation and service-account tokens: who a request
//! comes from and whether that identity may do what it asks, as the Kubernetes API server decides.

pub mod authn;
pub mod bootstrap;
pub mod impersonation;
pub mod rbac;
pub mod tokens;

use crate::error::{ApiError, ApiResult};
use crate::request::Req;
use crate::server::Api;
use axum::http::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Group every authenticated identity carries.
pub const AUTHENTICATED: &str = "system:authenticated";
/// Group of anonymous requests.
pub const UNAUTHENTICATED: &str = "system:unauthenticated";
/// User name of anonymous requests.
pub const ANONYMOUS: &str = "system:anonymous";
/// Group that bypasses RBAC.
pub const MASTERS: &str = "system:masters";
/// User name of the admin credentials the server generates (cert CN and admin token).
pub const ADMIN_USER: &str = "kubernetes-admin";

/// An authenticated identity (`user.Info` upstream).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserInfo {
    /// User name, e.g. `alice` or `system:serviceaccount:ns:sa`.
    pub name: String,
    /// Stable unique id, when the authenticator knows one.
    pub uid: String,
    /// Groups, `system:authenticated` included.
    pub groups: Vec<String>,
    /// Extra attributes (impersonation `Impersonate-Extra-*`, token ids).
    pub extra: BTreeMap<String, Vec<String>>,
}

impl UserInfo {
    /// A user with groups; `system:authenticated` is appended unless present.
    pub fn authenticated(name: impl Into<String>, uid: impl Into<String>, groups: &[&str]) -> Self {
        let mut groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        if !groups.iter().any(|g| g == AUTHENTICATED) {
            groups.push(AUTHENTICATED.into());
        }
        Self {
            name: name.into(),
            uid: uid.into(),
            groups,
            extra: BTreeMap::new(),
        }
    }

    /// The admin identity (`kubernetes-admin`, `system:masters`).
    pub fn admin() -> Self {
        Self::authenticated(ADMIN_USER, "", &[MASTERS])
    }

    /// The anonymous identity.
    pub fn anonymous() -> Self {
        Self {
            name: ANONYMOUS.into(),
            groups: vec![UNAUTHENTICATED.into()],
            ..Self::default()
        }
    }

    /// Whether the identity bypasses RBAC.
    pub fn is_master(&self) -> bool {
        self.groups.iter().any(|g| g == MASTERS)
    }

    /// `userInfo` as the authentication API renders it (empty uid/extra omitted).
    pub fn to_json(&self) -> Value {
        let mut v = json!({"username": self.name, "groups": self.groups});
        if !self.uid.is_empty() {
            v["uid"] = json!(self.uid);
        }
        if !self.extra.is_empty() {
            v["extra"] = json!(self.extra);
        }
        v
    }
}

/// What a request asks to do (`authorizer.Attributes` upstream).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attributes {
    /// Verb: `get`, `list`, `watch`, `create`, ..., or the lower-case HTTP method for paths.
    pub verb: String,
    /// Resource request (true) or non-resource path (false).
    pub resource_request: bool,
    /// API group (`""` for core).
    pub group: String,
    /// API version.
    pub version: String,
    /// Plural resource.
    pub resource: String,
    /// Subresource.
    pub subresource: String,
    /// Namespace (`""` for cluster scope).
    pub namespace: String,
    /// Object name (`""` for collections).
    pub name: String,
    /// Request path (non-resource requests).
    pub path: String,
}

impl Attributes {
    /// Resource attributes.
    pub fn resource(
        verb: &str,
        group: &str,
        resource: &str,
        subresource: &str,
        namespace: &str,
        name: &str,
    ) -> Self {
        Self {
            verb: verb.into(),
            resource_request: true,
            group: group.into(),
            resource: resource.into(),
            subresource: subresource.into(),
            namespace: namespace.into(),
            name: name.into(),
            ..Self::default()
        }
    }

    /// Non-resource attributes.
    pub fn non_resource(verb: &str, path: &str) -> Self {
        Self {
            verb: verb.into(),
            path: path.into(),
            ..Self::default()
        }
    }

    /// The attributes of an HTTP request, derived from its path, method and query like upstream's
    /// `RequestInfoFactory` (`/api/v1/...` and `/apis/<g>/<v>/...` with a resource are resource
    /// requests; everything else, discovery included, is a path).
    pub fn of_request(req: &Req) -> Self {
        let parts: Vec<&str> = req
            .path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        let method_verb = match req.method {
            Method::POST => "create",
            Method::GET | Method::HEAD => "get",
            Method::PUT => "update",
            Method::PATCH => "patch",
            Method::DELETE => "delete",
            _ => "",
        };
        let non_resource = || Self::non_resource(&req.method.as_str().to_lowercase(), &req.path);
        let (group, rest) = match parts.as_slice() {
            ["api", rest @ ..] if rest.len() >= 2 => ("", rest),
            ["apis", g, rest @ ..] if rest.len() >= 2 => (*g, rest),
            _ => return non_resource(),
        };
        let version = rest[0];
        let mut cur = &rest[1..];
        let mut a = Self {
            verb: method_verb.into(),
            resource_request: true,
            group: group.into(),
            version: version.into(),
            path: req.path.clone(),
            ..Self::default()
        };
        if cur.first() == Some(&"namespaces") && cur.len() > 1 {
            a.namespace = cur[1].to_string();
            // `namespaces/<ns>/<sub>` is the namespace's own subresource only for status/finalize.
            if cur.len() > 2 && !matches!(cur[2], "status" | "finalize") {
                cur = &cur[2..];
            }
        }
        if let Some(r) = cur.first() {
            a.resource = r.to_string();
        }
        if let Some(n) = cur.get(1) {
            a.name = n.to_string();
        }
        if let Some(s) = cur.get(2) {
            a.subresource = s.to_string();
        }
        if a.name.is_empty() && a.verb == "get" {
            a.verb = if req.flag("watch") { "watch" } else { "list" }.into();
            if let Some(fs) = req.q("fieldSelector")
                && let Some(n) = exact_name(fs)
            {
                a.name = n;
            }
        } else if a.name.is_empty() && a.verb == "delete" {
            a.verb = "deletecollection".into();
        } else if !a.name.is_empty() && a.verb == "get" && req.flag("watch") {
            a.verb = "watch".into();
        }
        a
    }
}

/// `metadata.name=<n>` (or `==`) as the only term of a field selector.
fn exact_name(fs: &str) -> Option<String> {
    if fs.contains(',') {
        return None;
    }
    let v = fs
        .strip_prefix("metadata.name==")
        .or_else(|| fs.strip_prefix("metadata.name="))?;
    (!v.is_empty() && !v.contains('/')).then(|| v.to_string())
}

/// How the server authenticates and authorizes.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Requests without credentials become `system:anonymous` (true) or get 401 (false, default).
    pub anonymous: bool,
    /// A static token file (`token,user,uid,"group1,group2"` per line, like `--token-auth-file`).
    pub token_file: Option<PathBuf>,
    /// Static tokens given directly.
    pub tokens: Vec<StaticToken>,
    /// Issuer (`iss`) of service-account tokens; also the audience the server accepts.
    pub issuer: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            anonymous: false,
            token_file: None,
            tokens: vec![],
            issuer: "https://kubernetes.default.svc.cluster.local".into(),
        }
    }
}

/// One static bearer token.
#[derive(Debug, Clone)]
pub struct StaticToken {
    /// The secret.
    pub token: String,
    /// Identity it authenticates as (`system:authenticated` is added automatically).
    pub user: UserInfo,
}

/// Errors setting up authentication.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The token file could not be read.
    #[error("reading token file {path}: {source}")]
    TokenFile {
        /// File.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A line of the token file is malformed.
    #[error("parsing token file {path} line {line}: {reason}")]
    TokenLine {
        /// File.
        path: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The service-account signing key failed.
    #[error("loading service account signing key: {0}")]
    SigningKey(String),
    /// Reading or writing the signing key failed.
    #[error(transparent)]
    Pki(#[from] crate::pki::PkiError),
}

/// Authentication state of a running server: static tokens and the token signer.
pub struct AuthState {
    /// Configuration.
    pub config: AuthConfig,
    /// Static tokens by value.
    pub static_tokens: std::collections::HashMap<String, UserInfo>,
    /// Service-account token signer/verifier.
    pub signer: tokens::Signer,
}

impl AuthState {
    /// Loads the token file and the signing key (generated into `data_dir/pki` on first start).
    pub fn new(
        config: &AuthConfig,
        data_dir: &std::path::Path,
        admin_token: &str,
    ) -> Result<Self, AuthError> {
        let mut static_tokens = std::collections::HashMap::new();
        static_tokens.insert(admin_token.to_string(), UserInfo::admin());
        if let Some(p) = &config.token_file {
            let text = std::fs::read_to_string(p).map_err(|source| AuthError::TokenFile {
                path: p.display().to_string(),
                source,
            })?;
            for t in tokens::parse_token_file(&text, &p.display().to_string())? {
                static_tokens.insert(t.token, t.user);
            }
        }
        for t in &config.tokens {
            let mut u = t.user.clone();
            if !u.groups.iter().any(|g| g == AUTHENTICATED) {
                u.groups.push(AUTHENTICATED.into());
            }
            static_tokens.insert(t.token.clone(), u);
        }
        let key = crate::pki::service_account_key(data_dir)?;
        let signer = tokens::Signer::new(&key, &config.issuer)?;
        Ok(Self {
            config: config.clone(),
            static_tokens,
            signer,
        })
    }
}

/// Applies impersonation and authorizes the request as the resulting identity; on success the
/// request carries that identity in `req.user`.
pub fn authorize_request(api: &Api, req: &mut Req) -> ApiResult<()> {
    let user = impersonation::apply(api, &req.user, &req.headers, &req.path)?;
    req.user = std::sync::Arc::new(user);
    let attrs = Attributes::of_request(req);
    let decision = rbac::authorize(api, &req.user, &attrs);
    if decision.allowed {
        return Ok(());
    }
    Err(forbidden(&req.user.name, &attrs, &decision.reason))
}

/// The 403 Status the real server writes for a denied request: `<resource>[.<group>] "<name>" is
/// forbidden: User "<u>" cannot <verb> resource "<r>" in API group "<g>" in the namespace "<ns>"`
/// (or `at the cluster scope`, or `cannot <verb> path "<p>"`), `: <reason>` appended when the
/// authorizer gave one.
pub fn forbidden(user: &str, a: &Attributes, reason: &str) -> ApiError {
    let mut msg = if !a.resource_request {
        format!("User {user:?} cannot {} path {:?}", a.verb, a.path)
    } else {
        let res = if a.subresource.is_empty() {
            a.resource.clone()
        } else {
            format!("{}/{}", a.resource, a.subresource)
        };
        if a.namespace.is_empty() {
            format!(
                "User {user:?} cannot {} resource {res:?} in API group {:?} at the cluster scope",
                a.verb, a.group
            )
        } else {
            format!(
                "User {user:?} cannot {} resource {res:?} in API group {:?} in the namespace {:?}",
                a.verb, a.group, a.namespace
            )
        }
    };
    if !reason.is_empty() {
        msg = format!("{msg}: {reason}");
    }
    forbidden_status(&a.group, &a.resource, &a.name, &msg)
}

/// `errors.NewForbidden`: `<qualified resource> "<name>" is forbidden: <msg>`.
pub fn forbidden_status(group: &str, resource: &str, name: &str, msg: &str) -> ApiError {
    let qualified = if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    };
    let message = if resource.is_empty() && group.is_empty() {
        format!("forbidden: {msg}")
    } else if name.is_empty() {
        format!("{qualified} is forbidden: {msg}")
    } else {
        format!("{qualified} {name:?} is forbidden: {msg}")
    };
    let mut details = json!({"kind": resource});
    if !group.is_empty() {
        details["group"] = json!(group);
    }
    if !name.is_empty() {
        details["name"] = json!(name);
    }
    ApiError::forbidden(message, "", "", "").with_details(details)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;
    use axum::http::{HeaderMap, Uri};

    fn attrs(method: Method, path: &str) -> Attributes {
        let uri: Uri = path.parse().unwrap();
        Attributes::of_request(&Req::new(method, &uri, HeaderMap::new(), Bytes::new()))
    }

    #[test]
    fn request_attributes_like_request_info() {
        let a = attrs(Method::GET, "/api/v1/namespaces/ns/configmaps/c");
        assert_eq!(
            (
                a.verb.as_str(),
                a.resource.as_str(),
                a.namespace.as_str(),
                a.name.as_str()
            ),
            ("get", "configmaps", "ns", "c")
        );
        let a = attrs(Method::GET, "/apis/apps/v1/deployments?watch=true");
        assert_eq!(
            (a.verb.as_str(), a.group.as_str(), a.namespace.as_str()),
            ("watch", "apps", "")
        );
        let a = attrs(
            Method::GET,
            "/api/v1/namespaces/ns/configmaps?fieldSelector=metadata.name%3Dc",
        );
        assert_eq!((a.verb.as_str(), a.name.as_str()), ("list", "c"));
        let a = attrs(Method::DELETE, "/api/v1/namespaces/ns/configmaps");
        assert_eq!(a.verb, "deletecollection");
        // A namespace is its own namespace; its status is a subresource.
        let a = attrs(Method::PUT, "/api/v1/namespaces/ns/status");
        assert_eq!(
            (
                a.resource.as_str(),
                a.name.as_str(),
                a.subresource.as_str(),
                a.namespace.as_str()
            ),
            ("namespaces", "ns", "status", "ns")
        );
        let a = attrs(Method::GET, "/api/v1/namespaces/ns/pods/p/log");
        assert_eq!(
            (a.resource.as_str(), a.subresource.as_str()),
            ("pods", "log")
        );
        let a = attrs(
            Method::POST,
            "/api/v1/namespaces/ns/serviceaccounts/sa/token",
        );
        assert_eq!(
            (a.verb.as_str(), a.subresource.as_str()),
            ("create", "token")
        );
        // Discovery and other paths are non-resource requests.
        for p in [
            "/api",
            "/api/v1",
            "/apis/apps",
            "/apis/apps/v1",
            "/version",
            "/openapi/v3",
        ] {
            let a = attrs(Method::GET, p);
            assert!(!a.resource_request, "{p}");
            assert_eq!((a.verb.as_str(), a.path.as_str()), ("get", p));
        }
    }

    #[test]
    fn forbidden_messages() {
        let a = Attributes::resource("delete", "", "configmaps", "", "ns", "c");
        assert_eq!(
            forbidden("alice", &a, "").message,
            "configmaps \"c\" is forbidden: User \"alice\" cannot delete resource \"configmaps\" in API group \"\" in the namespace \"ns\""
        );
        let a = Attributes::resource("list", "apps", "deployments", "", "", "");
        assert_eq!(
            forbidden(
                "alice",
                &a,
                "RBAC: clusterrole.rbac.authorization.k8s.io \"x\" not found"
            )
            .message,
            "deployments.apps is forbidden: User \"alice\" cannot list resource \"deployments\" in API group \"apps\" at the cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io \"x\" not found"
        );
        let a = Attributes::resource("get", "", "pods", "log", "ns", "p");
        assert!(
            forbidden("bob", &a, "")
                .message
                .contains("cannot get resource \"pods/log\"")
        );
        let a = Attributes::non_resource("get", "/metrics");
        assert_eq!(
            forbidden("bob", &a, "").message,
            "forbidden: User \"bob\" cannot get path \"/metrics\""
        );
    }
}
