//! Request parsing: paths to routes, query parameters, Accept negotiation and body decoding.

use crate::error::{ApiError, ApiResult};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri, header};
use serde_json::Value;
use std::collections::HashMap;

/// A buffered request.
pub struct Req {
    /// Method.
    pub method: Method,
    /// Path.
    pub path: String,
    /// Query parameters (last value wins; empty pairs ignored).
    pub query: HashMap<String, String>,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
    /// Who the request runs as (after authentication and impersonation).
    pub user: std::sync::Arc<crate::auth::UserInfo>,
}

/// What a path addresses.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// `/version`.
    Version,
    /// `/healthz`, `/livez`, `/readyz` and their sub-checks.
    Health,
    /// `/api`.
    ApiVersions,
    /// `/apis`.
    ApiGroups,
    /// `/apis/<group>`.
    ApiGroup(String),
    /// `/api/v1` or `/apis/<group>/<version>`.
    ResourceList(String, String),
    /// `/openapi/v3`.
    OpenApiV3Root,
    /// `/openapi/v3/<path>`.
    OpenApiV3Doc(String),
    /// `/openapi/v2`, `/swagger*`.
    OpenApiV2,
    /// A resource path.
    Resource(Target),
}

/// A resource collection, item or subresource.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Group.
    pub group: String,
    /// Version.
    pub version: String,
    /// Namespace from the path.
    pub namespace: Option<String>,
    /// Plural resource.
    pub plural: String,
    /// Object name.
    pub name: Option<String>,
    /// Subresource.
    pub sub: Option<String>,
}

/// How the client wants objects rendered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Output {
    /// Plain objects/lists.
    Json,
    /// `meta.k8s.io/v1` Table (the second field: include full objects).
    Table(Include),
    /// PartialObjectMetadata(List).
    Metadata,
}

/// `includeObject` of Table requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Include {
    /// PartialObjectMetadata per row (default).
    Metadata,
    /// Full object.
    Object,
    /// No object.
    None,
}

impl Req {
    /// Builds a request from its parts.
    pub fn new(method: Method, uri: &Uri, headers: HeaderMap, body: Bytes) -> Self {
        let mut query = HashMap::new();
        if let Some(q) = uri.query() {
            for (k, v) in form_urlencoded::parse(q.as_bytes()) {
                if !k.is_empty() {
                    query.insert(k.into_owned(), v.into_owned());
                }
            }
        }
        Self {
            method,
            path: uri.path().to_string(),
            query,
            headers,
            body,
            user: Default::default(),
        }
    }

    /// A query parameter.
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query
            .get(name)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    /// A boolean query parameter, parsed like Go's `strconv.ParseBool` (`true`, `True`, `1`, `t`...).
    pub fn flag(&self, name: &str) -> bool {
        matches!(
            self.q(name),
            Some("true" | "True" | "TRUE" | "t" | "T" | "1")
        )
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The Content-Type without parameters, lower-cased ("" when absent).
    pub fn content_type(&self) -> String {
        self.header(header::CONTENT_TYPE.as_str())
            .map(|c| {
                c.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default()
    }

    /// Parses the path.
    pub fn route(&self) -> ApiResult<Route> {
        let segs: Vec<&str> = self
            .path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        let owned = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        Ok(match segs.as_slice() {
            ["version"] => Route::Version,
            ["healthz" | "livez" | "readyz", ..] => Route::Health,
            ["api"] => Route::ApiVersions,
            ["apis"] => Route::ApiGroups,
            ["apis", g] => Route::ApiGroup(g.to_string()),
            ["api", v] => Route::ResourceList(String::new(), v.to_string()),
            ["apis", g, v] => Route::ResourceList(g.to_string(), v.to_string()),
            ["openapi", "v3"] => Route::OpenApiV3Root,
            ["openapi", "v3", rest @ ..] => Route::OpenApiV3Doc(rest.join("/")),
            ["openapi", "v2", ..] => Route::OpenApiV2,
            [s, ..] if s.starts_with("swagger") => Route::OpenApiV2,
            ["api", v, rest @ ..] => Route::Resource(target("", v, &owned(rest))?),
            ["apis", g, v, rest @ ..] => Route::Resource(target(g, v, &owned(rest))?),
            _ => return Err(ApiError::no_route()),
        })
    }

    /// The requested rendering from the Accept header.
    pub fn output(&self) -> Output {
        let accept = self.header("accept").unwrap_or("");
        for part in accept.split(',') {
            let p = part.replace(' ', "");
            if p.contains("as=Table") && p.contains("g=meta.k8s.io") {
                let include = match self.q("includeObject") {
                    Some("Object") => Include::Object,
                    Some("None") => Include::None,
                    _ => Include::Metadata,
                };
                return Output::Table(include);
            }
            if p.contains("as=PartialObjectMetadata") && p.contains("g=meta.k8s.io") {
                return Output::Metadata;
            }
            if p.starts_with("application/json")
                || p.starts_with("*/*")
                || p.starts_with("application/*")
                || p.is_empty()
            {
                return Output::Json;
            }
        }
        Output::Json
    }

    /// Whether the client only accepts media types we cannot produce.
    pub fn accepts_nothing_we_serve(&self) -> bool {
        let Some(accept) = self.header("accept") else {
            return false;
        };
        !accept.split(',').any(|p| {
            let p = p.trim();
            p.is_empty()
                || p.starts_with("application/json")
                || p.starts_with("*/*")
                || p.starts_with("application/*")
                || p.starts_with("application/yaml")
        })
    }

    /// Decodes the body as a JSON object (JSON, or YAML when sent as YAML). Protobuf is refused.
    pub fn body_object(&self) -> ApiResult<Value> {
        let ct = self.content_type();
        if ct == "application/vnd.kubernetes.protobuf" {
            return crate::protobuf::decode(&self.body);
        }
        let v: Value = if ct == "application/yaml" || ct == "application/apply-patch+yaml" {
            decode_yaml(&self.body)?
        } else {
            decode_json(&self.body)?
        };
        Ok(v)
    }
}

/// Parses JSON into a value, with a Kubernetes-style error.
pub fn decode_json(bytes: &[u8]) -> ApiResult<Value> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "error decoding request body: json: cannot unmarshal: {e}"
        ))
    })
}

/// Parses YAML (or JSON, which is YAML) into a value.
pub fn decode_yaml(bytes: &[u8]) -> ApiResult<Value> {
    if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
        return Ok(v);
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::bad_request("error decoding YAML: invalid UTF-8"))?;
    serde_saphyr::from_str::<Value>(text)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))
}

fn target(group: &str, version: &str, rest: &[String]) -> ApiResult<Target> {
    let mk = |ns: Option<&String>, plural: &String, name: Option<&String>, sub: Option<&String>| {
        Target {
            group: group.to_string(),
            version: version.to_string(),
            namespace: ns.cloned(),
            plural: plural.clone(),
            name: name.cloned(),
            sub: sub.cloned(),
        }
    };
    Ok(match rest {
        [p] => mk(None, p, None, None),
        [p, n] => mk(None, p, Some(n), None),
        // `namespaces/<ns>/<sub>` is a namespace subresource only for the known ones.
        [ns, n, s] if ns == "namespaces" && (s == "status" || s == "finalize") => {
            mk(None, ns, Some(n), Some(s))
        }
        [ns_kw, ns, p] if ns_kw == "namespaces" => mk(Some(ns), p, None, None),
        [p, n, s] => mk(None, p, Some(n), Some(s)),
        [ns_kw, ns, p, n] if ns_kw == "namespaces" => mk(Some(ns), p, Some(n), None),
        [ns_kw, ns, p, n, s] if ns_kw == "namespaces" => mk(Some(ns), p, Some(n), Some(s)),
        _ => return Err(ApiError::no_route()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(path: &str) -> Route {
        let uri: Uri = path.parse().unwrap();
        Req::new(Method::GET, &uri, HeaderMap::new(), Bytes::new())
            .route()
            .unwrap()
    }

    #[test]
    fn routes() {
        assert_eq!(route("/version?timeout=5s"), Route::Version);
        assert_eq!(route("/apis/apps"), Route::ApiGroup("apps".into()));
        let Route::Resource(t) = route("/api/v1/namespaces/default/configmaps/x") else {
            panic!()
        };
        assert_eq!(
            (t.namespace.as_deref(), t.plural.as_str(), t.name.as_deref()),
            (Some("default"), "configmaps", Some("x"))
        );
        let Route::Resource(t) = route("/api/v1/namespaces/foo/status") else {
            panic!()
        };
        assert_eq!(
            (t.plural.as_str(), t.name.as_deref(), t.sub.as_deref()),
            ("namespaces", Some("foo"), Some("status"))
        );
        let Route::Resource(t) = route("/apis/example.com/v1/namespaces/ns/widgets/w/status")
        else {
            panic!()
        };
        assert_eq!(t.sub.as_deref(), Some("status"));
    }

    #[test]
    fn query_tolerates_empty_pairs() {
        let uri: Uri = "/api/v1/pods?&&limit=5&watch=1".parse().unwrap();
        let r = Req::new(Method::GET, &uri, HeaderMap::new(), Bytes::new());
        assert_eq!(r.q("limit"), Some("5"));
        assert!(r.flag("watch"));
    }
}
