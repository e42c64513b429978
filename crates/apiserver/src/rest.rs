//! The generic resource engine: get, list, create, update, patch, delete and deletecollection for
//! every registered resource, with the metadata rules of the Kubernetes API and per-kind hooks
//! only where semantics differ (namespaces, CRDs).

use crate::error::{ApiError, ApiResult, cause};
use crate::registry::ResourceInfo;
use crate::request::{Output, Req, Target};
use crate::selector::{FieldSelector, LabelSelector};
use crate::server::{Api, json_response, typed_response};
use crate::store::{Change, ObjKey};
use crate::util::{meta_mut, meta_str, now_rfc3339};
use axum::http::{HeaderValue, Method};
use axum::response::Response;
use base64::Engine;
use serde_json::{Value, json};
use std::sync::Arc;

/// How unknown fields are treated on writes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValidation {
    /// Reject with 400.
    Strict,
    /// Drop and warn.
    Warn,
    /// Drop silently.
    Ignore,
}

/// Per-request write options.
#[derive(Debug, Clone)]
pub struct WriteCtx {
    /// `dryRun=All`.
    pub dry_run: bool,
    /// Field manager name.
    pub manager: String,
    /// Unknown-field policy.
    pub validation: FieldValidation,
    /// Warnings for `Warning` headers.
    pub warnings: Vec<String>,
    /// Server-side apply: the apply engine maintains managedFields, not Update tracking.
    pub apply: bool,
    /// Who writes (RBAC escalation checks on roles and bindings).
    pub user: Arc<crate::auth::UserInfo>,
    /// RBAC objects read before the store mutation, for escalation checks made inside it.
    pub rbac: Option<Arc<crate::auth::rbac::Snapshot>>,
}

impl WriteCtx {
    fn from_req(req: &Req) -> ApiResult<Self> {
        let dry_run = match req.q("dryRun") {
            None => false,
            Some("All") => true,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "unsupported dry run value \"{other}\": supported values: \"All\""
                )));
            }
        };
        let validation = match req.q("fieldValidation") {
            None | Some("Warn") => FieldValidation::Warn,
            Some("Strict") => FieldValidation::Strict,
            Some("Ignore") => FieldValidation::Ignore,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "fieldValidation: Unsupported value: \"{other}\": supported values: \"Ignore\", \"Strict\", \"Warn\""
                )));
            }
        };
        let manager = match req.q("fieldManager") {
            Some(m) => {
                if m.len() > 128 {
                    return Err(ApiError::unprocessable(
                        "fieldManager: Too long: may not be longer than 128",
                    ));
                }
                m.to_string()
            }
            None => req
                .header("user-agent")
                .map(|ua| ua.split('/').next().unwrap_or(ua).to_string())
                .unwrap_or_default(),
        };
        Ok(Self {
            dry_run,
            manager,
            validation,
            warnings: vec![],
            apply: req.content_type() == "application/apply-patch+yaml",
            user: req.user.clone(),
            rbac: None,
        })
    }
}

fn wants_watch(req: &Req) -> bool {
    req.flag("watch")
}

/// Entry point for resource paths.
pub async fn handle(api: &Arc<Api>, req: Req, t: Target) -> ApiResult<Response> {
    let snap = api.registry.snapshot();
    let ri = snap
        .get(&t.group, &t.version, &t.plural)
        .ok_or_else(ApiError::no_route)?;
    if t.namespace.is_some() && !ri.namespaced {
        return Err(ApiError::no_route());
    }
    if let Some(sub) = &t.sub {
        if matches!(
            sub.as_str(),
            "log" | "exec" | "attach" | "portforward" | "proxy"
        ) && ri.plural == "pods"
        {
            return Err(ApiError::not_implemented(format!(
                "{}/{sub} is not supported by this API server (no kubelet)",
                ri.plural
            )));
        }
        if !ri.subresources.iter().any(|s| &s.name == sub) {
            return Err(ApiError::no_route());
        }
    }
    if req.accepts_nothing_we_serve() {
        return Err(ApiError::not_acceptable());
    }
    let ns = t.namespace.clone().unwrap_or_default();
    if t.sub.is_none() {
        let verb = match (&req.method, t.name.is_some()) {
            (&Method::GET | &Method::HEAD, false) if wants_watch(&req) => "watch",
            (&Method::GET | &Method::HEAD, false) => "list",
            (&Method::GET | &Method::HEAD, true) => "get",
            (&Method::POST, _) => "create",
            (&Method::PUT, _) => "update",
            (&Method::PATCH, _) => "patch",
            (&Method::DELETE, true) => "delete",
            (&Method::DELETE, false) => "deletecollection",
            _ => "",
        };
        if !ri.allows(verb) {
            return Err(ApiError::method_not_allowed(
                "the server does not allow this method on the requested resource",
            ));
        }
    }
    let writes = matches!(
        req.method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let resp = dispatch(api, &req, &ri, &t, &ns).await;
    if writes {
        // Acknowledge only durable writes (group commit, one fsync per batch).
        api.store.durable().await?;
    }
    resp
}

async fn dispatch(
    api: &Arc<Api>,
    req: &Req,
    ri: &Arc<ResourceInfo>,
    t: &Target,
    ns: &str,
) -> ApiResult<Response> {
    let ri = ri.clone();
    let ns = ns.to_string();
    match (&req.method, &t.name) {
        (&Method::GET | &Method::HEAD, None) if wants_watch(req) => {
            crate::watch::serve(api.clone(), req, ri, t.namespace.clone())
        }
        (&Method::GET | &Method::HEAD, None) => list(api, req, &ri, t.namespace.as_deref()),
        (&Method::GET | &Method::HEAD, Some(name)) => {
            get(api, req, &ri, &ns, name, t.sub.as_deref())
        }
        (&Method::POST, None) => create(api, req, &ri, &ns).await,
        (&Method::PUT, Some(name)) => update(api, req, &ri, &ns, name, t.sub.as_deref()),
        (&Method::PATCH, Some(name)) => patch(api, req, &ri, &ns, name, t.sub.as_deref()).await,
        (&Method::DELETE, Some(name)) if t.sub.is_none() => delete(api, req, &ri, &ns, name),
        (&Method::DELETE, None) => delete_collection(api, req, &ri, t.namespace.as_deref()),
        _ => Err(ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        )),
    }
}

/// The storage key of an object.
pub fn key(ri: &ResourceInfo, ns: &str, name: &str) -> ObjKey {
    ObjKey::new(
        &ri.group,
        &ri.plural,
        if ri.namespaced { ns } else { "" },
        name,
    )
}

/// Converts a stored object to the version the client asked for (CRD `None` conversion).
pub fn to_version(ri: &ResourceInfo, obj: &Value) -> Value {
    let mut o = obj.clone();
    crate::registry::convert_builtin(&mut o, &ri.api_version());
    o["apiVersion"] = json!(ri.api_version());
    if let Some(crd) = &ri.crd {
        crate::structural::default_values(&crd.schema, &mut o);
    }
    o
}

/// Renders one object per the Accept header.
pub fn render_object(ri: &ResourceInfo, obj: &Value, output: Output) -> (Value, &'static str) {
    match output {
        Output::Json => (to_version(ri, obj), "application/json"),
        Output::Metadata => (
            partial_metadata(obj),
            "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1",
        ),
        Output::Table(inc) => {
            let rv = meta_str(obj, "resourceVersion").to_string();
            (
                crate::table::table(ri, &[Arc::new(obj.clone())], inc, &rv, None, true),
                "application/json;as=Table;g=meta.k8s.io;v=v1",
            )
        }
    }
}

/// `PartialObjectMetadata` of an object.
pub fn partial_metadata(obj: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata").cloned().unwrap_or(json!({}))})
}

fn get(
    api: &Api,
    req: &Req,
    ri: &ResourceInfo,
    ns: &str,
    name: &str,
    sub: Option<&str>,
) -> ApiResult<Response> {
    if sub.is_none() && matches!(req.output(), Output::Json) {
        // Stored in the requested version: answer with the stored bytes, unparsed.
        if let Some(json) = api.store.get_raw(&key(ri, ns, name))
            && stored_as_requested(ri, &json)
        {
            let mut r = Response::new(axum::body::Body::from(json.to_vec()));
            r.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            return Ok(r);
        }
    }
    let obj = api
        .store
        .get(&key(ri, ns, name))
        .ok_or_else(|| ApiError::not_found(&ri.group, &ri.plural, name))?;
    if sub == Some("scale") {
        return Ok(json_response(200, &scale_view(ri, &obj)));
    }
    let (body, ct) = render_object(ri, &obj, req.output());
    Ok(typed_response(200, &body, ct))
}

/// The `autoscaling/v1 Scale` view of an object.
fn scale_view(ri: &ResourceInfo, obj: &Value) -> Value {
    let (spec_path, status_path, sel_path) = match ri.crd.as_ref().and_then(|c| c.scale.clone()) {
        Some(s) => (s.spec_replicas, s.status_replicas, s.label_selector),
        None => (".spec.replicas".into(), ".status.replicas".into(), None),
    };
    let at = |p: &str| {
        crate::jsonpath::first(obj, p)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let selector = match sel_path {
        Some(p) => at(&p),
        None => obj
            .pointer("/spec/selector/matchLabels")
            .and_then(Value::as_object)
            .map(|m| {
                json!(
                    m.iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                        .collect::<Vec<_>>()
                        .join(",")
                )
            })
            .unwrap_or(Value::Null),
    };
    let m = obj.get("metadata").cloned().unwrap_or(json!({}));
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {"name": m["name"], "namespace": m["namespace"], "uid": m["uid"], "resourceVersion": m["resourceVersion"], "creationTimestamp": m["creationTimestamp"]},
        "spec": {"replicas": at(&spec_path).as_i64().unwrap_or(0)},
        "status": {"replicas": at(&status_path).as_i64().unwrap_or(0), "selector": selector},
    })
}

/// A continue token: the snapshot resourceVersion of the first page (`-1`: continue at the
/// latest state, the "inconsistent" token handed out once the snapshot has been compacted) and
/// the last key returned.
#[derive(serde::Serialize, serde::Deserialize)]
struct ContinueToken {
    rv: i64,
    ns: String,
    name: String,
}

impl ContinueToken {
    fn encode(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(self).unwrap_or_default())
    }
}

/// The real server's message when a continue token's snapshot is no longer available.
const INCONSISTENT_CONTINUE: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

fn list(api: &Api, req: &Req, ri: &Arc<ResourceInfo>, ns: Option<&str>) -> ApiResult<Response> {
    let labels = LabelSelector::parse(req.q("labelSelector").unwrap_or(""))?;
    let fields = FieldSelector::parse(req.q("fieldSelector").unwrap_or(""), ri)?;
    if req.q("resourceVersionMatch").is_some() && req.q("resourceVersion").is_none() {
        return Err(ApiError::bad_request(
            "resourceVersionMatch is forbidden unless resourceVersion is provided",
        ));
    }
    let limit: usize = match req.q("limit") {
        Some(l) => l
            .parse()
            .map_err(|_| ApiError::bad_request(format!("invalid limit {l}")))?,
        None => 0,
    };
    let token = match req.q("continue") {
        Some(c) => {
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(c)
                .map_err(|_| {
                    ApiError::bad_request("continue key is not valid: illegal base64 data")
                })?;
            let t: ContinueToken = serde_json::from_slice(&bytes)
                .map_err(|_| ApiError::bad_request("continue key is not valid: invalid token"))?;
            if t.rv == 0 || t.rv < -1 {
                return Err(ApiError::bad_request(
                    "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
                ));
            }
            Some(t)
        }
        None => None,
    };
    // A continued list reads the snapshot of its first page (rebuilt from the event log); a
    // token of -1 continues at the latest state.
    let (list_rv, objects) = match &token {
        Some(t) if t.rv > 0 => {
            let at = t.rv as u64;
            let after = Some((t.ns.as_str(), t.name.as_str()));
            match api.store.list_at(&ri.group, &ri.plural, ns, at, after) {
                Some(objects) => (at, objects),
                None => {
                    let retry = ContinueToken {
                        rv: -1,
                        ns: t.ns.clone(),
                        name: t.name.clone(),
                    };
                    let mut status = ApiError::expired(INCONSISTENT_CONTINUE).status();
                    status["metadata"] = json!({"continue": retry.encode()});
                    return Ok(typed_response(410, &status, "application/json"));
                }
            }
        }
        _ => match (req.q("resourceVersion"), req.q("resourceVersionMatch")) {
            (Some(rv), Some("Exact")) => {
                let at: u64 = rv.parse().map_err(|_| {
                    ApiError::bad_request(format!("invalid resource version: {rv}"))
                })?;
                let objects = api
                    .store
                    .list_at(&ri.group, &ri.plural, ns, at, None)
                    .ok_or_else(|| {
                        ApiError::expired(format!(
                            "too old resource version: {at} ({})",
                            api.store.compacted_rv() + 1
                        ))
                    })?;
                (at, objects)
            }
            _ => api.store.list_raw(&ri.group, &ri.plural, ns),
        },
    };
    // Objects stay serialized unless a selector needs them parsed.
    let filtering = !req.q("labelSelector").unwrap_or("").is_empty()
        || !req.q("fieldSelector").unwrap_or("").is_empty();
    let mut items: Vec<crate::store::Raw> = Vec::new();
    let mut cont = None;
    let mut remaining = 0usize;
    for o in objects {
        if let Some(t) = &token
            && (o.namespace.as_str(), o.name.as_str()) <= (t.ns.as_str(), t.name.as_str())
        {
            continue;
        }
        if filtering {
            let Some(v) = o.value() else { continue };
            if !labels.matches(&v) || !fields.matches(&v) {
                continue;
            }
        }
        if limit > 0 && items.len() >= limit {
            if cont.is_none() {
                let last = items.last().expect("limit > 0");
                let t = ContinueToken {
                    rv: list_rv as i64,
                    ns: last.namespace.clone(),
                    name: last.name.clone(),
                };
                cont = Some(t.encode());
            }
            remaining += 1;
            continue;
        }
        items.push(o);
    }
    let mut meta = json!({"resourceVersion": list_rv.to_string()});
    if let Some(c) = &cont {
        meta["continue"] = json!(c);
        meta["remainingItemCount"] = json!(remaining);
    }
    let parsed = || -> Vec<Arc<Value>> { items.iter().filter_map(|r| r.value()).collect() };
    match req.output() {
        Output::Table(inc) => {
            let t = crate::table::table(
                ri,
                &parsed(),
                inc,
                &list_rv.to_string(),
                cont.as_deref(),
                true,
            );
            Ok(typed_response(
                200,
                &t,
                "application/json;as=Table;g=meta.k8s.io;v=v1",
            ))
        }
        Output::Metadata => {
            let body = json!({
                "kind": "PartialObjectMetadataList",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": meta,
                "items": parsed().iter().map(|o| partial_metadata(o)).collect::<Vec<_>>(),
            });
            Ok(typed_response(
                200,
                &body,
                "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
            ))
        }
        Output::Json => Ok(list_response(ri, &meta, &items)),
    }
}

/// Whether a stored built-in object's JSON is already what a JSON read at `ri`'s version returns
/// (same apiVersion; custom resources always go through defaulting).
fn stored_as_requested(ri: &ResourceInfo, json: &[u8]) -> bool {
    /// Just the apiVersion of a stored object.
    #[derive(serde::Deserialize)]
    struct Version<'a> {
        #[serde(rename = "apiVersion", borrow)]
        api_version: Option<&'a str>,
    }
    ri.crd.is_none()
        && serde_json::from_slice::<Version>(json)
            .ok()
            .and_then(|v| v.api_version)
            == Some(ri.api_version().as_str())
}

/// Serializes a list item by item from the stored JSON: objects already in the requested
/// version are copied as bytes, others are parsed and converted one at a time, so a large list
/// never exists as parsed values.
fn list_response(ri: &ResourceInfo, meta: &Value, items: &[crate::store::Raw]) -> Response {
    let mut out = Vec::with_capacity(64 + items.iter().map(|r| r.json.len() + 1).sum::<usize>());
    let head = json!({"kind": ri.list_kind(), "apiVersion": ri.api_version(), "metadata": meta});
    let head = serde_json::to_vec(&head).unwrap_or_default();
    // `{...}` without its closing brace, then `,"items":[...]}`.
    out.extend_from_slice(&head[..head.len().saturating_sub(1)]);
    out.extend_from_slice(b",\"items\":[");
    let mut first = true;
    for r in items {
        let same_version = stored_as_requested(ri, &r.json);
        let converted = match same_version {
            true => None,
            false => match r.value() {
                Some(o) => Some(to_version(ri, &o)),
                None => continue,
            },
        };
        if !first {
            out.push(b',');
        }
        first = false;
        match converted {
            // Stored in the requested version: the stored bytes are the answer.
            None => out.extend_from_slice(&r.json),
            Some(o) => {
                let _ = serde_json::to_writer(&mut out, &o);
            }
        }
    }
    out.extend_from_slice(b"]}");
    let mut r = Response::new(axum::body::Body::from(out));
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Sets create-time server metadata: uid, creationTimestamp, generation; clears what clients
/// may not set.
pub fn init_metadata(obj: &mut Value, generation: bool) {
    let m = meta_mut(obj);
    m.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
    m.insert("creationTimestamp".into(), json!(now_rfc3339()));
    for f in [
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
        "generation",
    ] {
        m.remove(f);
    }
    if generation {
        m.insert("generation".into(), json!(1));
    }
}

/// Namespace defaults: `spec.finalizers`, `status.phase`, the metadata.name label.
pub fn namespace_defaults(obj: &mut Value) {
    let name = meta_str(obj, "name").to_string();
    let m = meta_mut(obj);
    let labels = m.entry("labels").or_insert(json!({}));
    if !labels.is_object() {
        *labels = json!({});
    }
    labels["kubernetes.io/metadata.name"] = json!(name);
    if obj.pointer("/spec/finalizers").is_none() {
        obj["spec"] = json!({"finalizers": ["kubernetes"]});
    }
    if obj.pointer("/status/phase").is_none() {
        obj["status"] = json!({"phase": "Active"});
    }
}

fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253
        && !s.is_empty()
        && s.split('.').all(|p| !p.is_empty())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// DNS-1123 label check.
pub fn is_dns_label(s: &str) -> bool {
    s.len() <= 63 && !s.contains('.') && is_dns_subdomain(s)
}

fn validate_name(ri: &ResourceInfo, name: &str) -> ApiResult<()> {
    let label_only = ri.group.is_empty() && matches!(ri.plural.as_str(), "namespaces" | "services");
    let (ok, msg) = if label_only {
        (
            is_dns_label(name),
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        )
    } else {
        (
            is_dns_subdomain(name),
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        )
    };
    if ok {
        return Ok(());
    }
    Err(ApiError::invalid(
        &ri.kind,
        &ri.group,
        name,
        vec![cause(
            "FieldValueInvalid",
            "metadata.name",
            format!("Invalid value: \"{name}\": {msg}"),
        )],
    ))
}

/// Checks `apiVersion`/`kind` of a body against the endpoint, filling them when absent.
fn check_type(ri: &ResourceInfo, obj: &mut Value) -> ApiResult<()> {
    if !obj.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON object",
        ));
    }
    let av = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let expected = ri.api_version();
    // CRDs accept every served version of the group (conversion None); built-ins need the exact one.
    let same_group = |a: &str| match a.rsplit_once('/') {
        Some((g, _)) => g == ri.group,
        None => ri.group.is_empty(),
    };
    if !av.is_empty() && av != expected && !(ri.crd.is_some() && same_group(&av)) {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({av}) does not match the expected API version ({expected})"
        )));
    }
    if !kind.is_empty() && kind != ri.kind {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            ri.kind
        )));
    }
    obj["apiVersion"] = json!(expected);
    obj["kind"] = json!(ri.kind);
    Ok(())
}

fn check_namespace(ri: &ResourceInfo, obj: &mut Value, ns: &str) -> ApiResult<()> {
    let body_ns = meta_str(obj, "namespace").to_string();
    if ri.namespaced {
        if !body_ns.is_empty() && body_ns != ns {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        meta_mut(obj).insert("namespace".into(), json!(ns));
    } else {
        meta_mut(obj).remove("namespace");
    }
    Ok(())
}

fn ensure_namespace_usable(api: &Api, ri: &ResourceInfo, ns: &str, name: &str) -> ApiResult<()> {
    if !ri.namespaced {
        return Ok(());
    }
    let Some(nsobj) = api.store.get(&ObjKey::new("", "namespaces", "", ns)) else {
        return Err(ApiError::not_found("", "namespaces", ns));
    };
    if nsobj.pointer("/metadata/deletionTimestamp").is_some() {
        return Err(ApiError::forbidden(
            format!("{} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated", if ri.group.is_empty() { ri.plural.clone() } else { format!("{}.{}", ri.plural, ri.group) }),
            name,
            &ri.group,
            &ri.plural,
        )
        .with_details(json!({"name": name, "group": ri.group, "kind": ri.plural, "causes": [{"reason": "NamespaceTerminating", "message": format!("namespace {ns} is being terminated"), "field": "metadata.namespace"}]})));
    }
    Ok(())
}

/// Defaulting the built-in registry strategies do for kinds we serve generically.
fn builtin_defaults(ri: &ResourceInfo, obj: &mut Value) {
    crate::workloads::apply_defaults(&ri.group, &ri.plural, obj);
    if ri.group.is_empty() && ri.plural == "secrets" {
        if obj
            .get("type")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            obj["type"] = json!("Opaque");
        }
        // stringData is write-only: merged into data (base64) and never stored.
        if let Some(Value::Object(sd)) = obj.as_object_mut().and_then(|m| m.remove("stringData")) {
            if !obj.get("data").is_some_and(Value::is_object) {
                obj["data"] = json!({});
            }
            for (k, v) in sd {
                let text = v.as_str().unwrap_or_default().as_bytes().to_vec();
                obj["data"][k] = json!(base64::engine::general_purpose::STANDARD.encode(text));
            }
        }
    }
}

fn warning_headers(resp: &mut Response, warnings: &[String]) {
    for w in warnings {
        let text = format!("299 - \"{}\"", w.replace('"', "\\\""));
        if let Ok(v) = HeaderValue::from_str(&text) {
            resp.headers_mut().append("warning", v);
        }
    }
}

/// Schema admission shared by every write: unknown fields (per fieldValidation), pruning,
/// defaulting and value validation.
fn admit(ri: &ResourceInfo, obj: &mut Value, ctx: &mut WriteCtx) -> ApiResult<()> {
    let unknown = match &ri.crd {
        Some(crd) => crate::structural::prune(&crd.schema, obj, true),
        None => match crate::openapi::definition_for(&ri.group, &ri.version, &ri.kind) {
            Some(def) => {
                if let Some((path, want, got)) = crate::structural::type_mismatch_builtin(def, obj)
                {
                    return Err(ApiError::bad_request(format!(
                        "{kind} in version \"{v}\" cannot be handled as a {kind}: json: cannot unmarshal {got} into Go struct field {kind}.{path} of type {want}",
                        kind = ri.kind,
                        v = ri.version
                    )));
                }
                crate::structural::prune_builtin(def, obj)
            }
            None => vec![],
        },
    };
    if !unknown.is_empty() {
        let msgs: Vec<String> = unknown
            .iter()
            .map(|p| format!("unknown field \"{p}\""))
            .collect();
        match ctx.validation {
            FieldValidation::Strict => {
                return Err(ApiError::bad_request(format!(
                    "strict decoding error: {}",
                    msgs.join(", ")
                )));
            }
            FieldValidation::Warn => ctx.warnings.extend(msgs),
            FieldValidation::Ignore => {}
        }
    }
    if ri.crd.is_none() {
        builtin_defaults(ri, obj);
    }
    if let Some(crd) = &ri.crd {
        crate::structural::default_values(&crd.schema, obj);
        let mut causes = crate::structural::validate(&crd.schema, obj);
        if causes.is_empty() {
            causes = crate::validation_rules::validate(&crd.schema, obj);
        }
        if !causes.is_empty() {
            return Err(ApiError::invalid(
                &ri.kind,
                &ri.group,
                meta_str(obj, "name"),
                causes,
            ));
        }
    }
    if ri.group == "apiextensions.k8s.io" && ri.plural == "customresourcedefinitions" {
        crate::crd::admit_crd(obj)?;
    }
    Ok(())
}

async fn create(
    api: &Arc<Api>,
    req: &Req,
    ri: &Arc<ResourceInfo>,
    ns: &str,
) -> ApiResult<Response> {
    let mut ctx = WriteCtx::from_req(req)?;
    let mut obj = req.body_object()?;
    check_type(ri, &mut obj)?;
    check_namespace(ri, &mut obj, ns)?;
    if crate::review::is_review(ri) {
        crate::review::answer(api, &req.user, ri, ns, &mut obj)?;
        let (body, ct) = render_object(ri, &obj, req.output());
        return Ok(typed_response(201, &body, ct));
    }
    if let Some(crd) = &ri.crd
        && crate::crd::is_terminating(api, &crd.crd_name)
    {
        return Err(ApiError::method_not_allowed(
            "create not allowed while custom resource definition is terminating",
        ));
    }
    let mut name = meta_str(&obj, "name").to_string();
    if name.is_empty() {
        let gen_name = meta_str(&obj, "generateName").to_string();
        if gen_name.is_empty() {
            return Err(ApiError::invalid(
                &ri.kind,
                &ri.group,
                "",
                vec![cause(
                    "FieldValueRequired",
                    "metadata.name",
                    "Required value: name or generateName is required",
                )],
            ));
        }
        name = format!("{gen_name}{}", crate::util::random_suffix());
        meta_mut(&mut obj).insert("name".into(), json!(name));
    }
    validate_name(ri, &name)?;
    if !meta_str(&obj, "resourceVersion").is_empty() {
        return Err(ApiError::bad_request(
            "resourceVersion should not be set on objects to be created",
        ));
    }
    ensure_namespace_usable(api, ri, ns, &name)?;
    init_metadata(&mut obj, ri.generation || ri.crd.is_some());
    if ri.has_status() && ri.crd.is_some() {
        obj.as_object_mut().map(|m| m.remove("status"));
    }
    if ri.group.is_empty() && ri.plural == "namespaces" {
        namespace_defaults(&mut obj);
    }
    admit(ri, &mut obj, &mut ctx)?;
    crate::auth::rbac::check_write(api, &ctx.user, &ri.group, &ri.plural, &obj, None)?;
    if ri.group == "apiextensions.k8s.io" && ri.plural == "customresourcedefinitions" {
        crate::crd::on_create(api, &mut obj);
    }
    if !ctx.apply {
        crate::fields::track_update_typed(
            None,
            &mut obj,
            crate::apply::root_type(ri),
            &ctx.manager,
            &ri.api_version(),
            None,
            ri.has_status(),
        );
    }
    let resp_obj = if ctx.dry_run {
        obj
    } else {
        let k = key(ri, ns, &name);
        let out = api.store.mutate(&k, |cur, _| {
            if cur.is_some() {
                return Err(ApiError::already_exists(&ri.group, &ri.plural, &name));
            }
            Ok(Change::Put(obj))
        })?;
        let o = out.object.map(|o| (*o).clone()).unwrap_or_default();
        after_write(api, ri);
        o
    };
    let (body, ct) = render_object(ri, &resp_obj, req.output());
    let mut resp = typed_response(201, &body, ct);
    warning_headers(&mut resp, &ctx.warnings);
    Ok(resp)
}

fn after_write(api: &Api, ri: &ResourceInfo) {
    if ri.group == crate::auth::rbac::GROUP && ri.plural == "clusterroles" {
        // Keep aggregated ClusterRoles' rules current (the aggregation controller's job).
        let _ = crate::auth::bootstrap::sync_aggregation(api);
    }
    if ri.group == "apiextensions.k8s.io" && ri.plural == "customresourcedefinitions" {
        crate::crd::refresh_registry(api);
        api.controller_wake.notify_one();
    }
}

fn update(
    api: &Arc<Api>,
    req: &Req,
    ri: &Arc<ResourceInfo>,
    ns: &str,
    name: &str,
    sub: Option<&str>,
) -> ApiResult<Response> {
    let body = req.body_object()?;
    if sub == Some("scale") {
        let replicas = body.pointer("/spec/replicas").cloned().unwrap_or(json!(0));
        return write_existing(
            api,
            req,
            ri,
            ns,
            name,
            Some("scale"),
            false,
            |cur| set_replicas(ri, cur, replicas),
            true,
        );
    }
    write_existing(api, req, ri, ns, name, sub, true, |_| Ok(body), false)
}

fn set_replicas(ri: &ResourceInfo, cur: &Value, replicas: Value) -> ApiResult<Value> {
    let mut o = cur.clone();
    let path = ri
        .crd
        .as_ref()
        .and_then(|c| c.scale.as_ref())
        .map(|s| s.spec_replicas.clone())
        .unwrap_or(".spec.replicas".into());
    let mut target = &mut o;
    let parts: Vec<&str> = path.trim_start_matches('.').split('.').collect();
    for (i, p) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            target[*p] = replicas.clone();
            break;
        }
        if !target.get(*p).is_some_and(Value::is_object) {
            target[*p] = json!({});
        }
        target = &mut target[*p];
    }
    Ok(o)
}

async fn patch(
    api: &Arc<Api>,
    req: &Req,
    ri: &Arc<ResourceInfo>,
    ns: &str,
    name: &str,
    sub: Option<&str>,
) -> ApiResult<Response> {
    let ct = req.content_type();
    let kind = crate::patch::PatchKind::from_content_type(&ct, ri.crd.is_none())?;
    if req.q("force").is_some() && kind != crate::patch::PatchKind::Apply {
        return Err(ApiError::unprocessable(
            "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch",
        ));
    }
    let body = req.body.clone();
    if kind == crate::patch::PatchKind::Apply && sub != Some("scale") {
        let ar =
            crate::apply::ApplyRequest::parse(&body, req.q("fieldManager"), req.q("force"), name)?;
        let res = write_existing(
            api,
            req,
            ri,
            ns,
            name,
            sub,
            false,
            |cur| ar.patch(cur, ri, sub),
            false,
        );
        // Apply creates a missing object (not through a subresource), as a POST of the result.
        return match res {
            Err(e) if e.code == 404 && sub.is_none() => {
                let obj = ar.create(ri, name)?;
                let creq = Req {
                    method: req.method.clone(),
                    path: req.path.clone(),
                    query: req.query.clone(),
                    headers: req.headers.clone(),
                    body: serde_json::to_vec(&obj).map_err(ApiError::internal)?.into(),
                    user: req.user.clone(),
                };
                create(api, &creq, ri, ns).await
            }
            other => other,
        };
    }
    if sub == Some("scale") {
        return write_existing(
            api,
            req,
            ri,
            ns,
            name,
            Some("scale"),
            false,
            |cur| {
                let view = scale_view(ri, cur);
                let patched = crate::patch::apply(kind, &view, &body, ri)?;
                set_replicas(
                    ri,
                    cur,
                    patched
                        .pointer("/spec/replicas")
                        .cloned()
                        .unwrap_or(json!(0)),
                )
            },
            true,
        );
    }
    write_existing(
        api,
        req,
        ri,
        ns,
        name,
        sub,
        false,
        |cur| crate::patch::apply(kind, cur, &body, ri),
        false,
    )
}

/// The common update path of PUT and PATCH: read, transform, apply the metadata rules, admit,
/// and write unless nothing changed.
#[allow(clippy::too_many_arguments)]
fn write_existing<F>(
    api: &Arc<Api>,
    req: &Req,
    ri: &Arc<ResourceInfo>,
    ns: &str,
    name: &str,
    sub: Option<&str>,
    is_put: bool,
    transform: F,
    scale: bool,
) -> ApiResult<Response>
where
    F: FnOnce(&Value) -> ApiResult<Value>,
{
    let mut ctx = WriteCtx::from_req(req)?;
    ctx.rbac = crate::auth::rbac::Snapshot::for_write(api, &ri.group, &ctx.user);
    let k = key(ri, ns, name);
    let mut dry: Option<Value> = None;
    let out = api.store.mutate(&k, |cur, _| {
        let cur = cur.ok_or_else(|| ApiError::not_found(&ri.group, &ri.plural, name))?;
        let new = transform(cur)?;
        let result = finish_update(api, ri, cur, new, &mut ctx, sub, is_put, ns, name)?;
        if ctx.dry_run {
            dry = Some(match result {
                Change::Put(v) | Change::Delete(v) => v,
                Change::Keep => (**cur).clone(),
            });
            return Ok(Change::Keep);
        }
        Ok(result)
    })?;
    if out.etype.is_some() {
        after_write(api, ri);
    }
    let obj = match dry {
        Some(d) => d,
        None => out.object.map(|o| (*o).clone()).unwrap_or_default(),
    };
    let (body, ct) = if scale {
        (scale_view(ri, &obj), "application/json")
    } else {
        render_object(ri, &obj, req.output())
    };
    let mut resp = typed_response(200, &body, ct);
    warning_headers(&mut resp, &ctx.warnings);
    Ok(resp)
}

fn spec_view(ri: &ResourceInfo, o: &Value) -> Value {
    let mut v = o.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("metadata");
        m.remove("apiVersion");
        m.remove("kind");
        if ri.has_status() {
            m.remove("status");
        }
    }
    v
}

#[allow(clippy::too_many_arguments)]
fn finish_update(
    api: &Api,
    ri: &ResourceInfo,
    cur: &Value,
    mut new: Value,
    ctx: &mut WriteCtx,
    sub: Option<&str>,
    is_put: bool,
    ns: &str,
    name: &str,
) -> ApiResult<Change> {
    check_type(ri, &mut new)?;
    if !is_put || ri.namespaced {
        check_namespace(ri, &mut new, ns)?;
    } else {
        meta_mut(&mut new).remove("namespace");
    }
    let body_name = meta_str(&new, "name");
    if body_name.is_empty() {
        meta_mut(&mut new).insert("name".into(), json!(name));
    } else if body_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    let cur_rv = meta_str(cur, "resourceVersion");
    let new_rv = meta_str(&new, "resourceVersion");
    if !new_rv.is_empty() && new_rv != cur_rv {
        return Err(ApiError::conflict(&ri.group, &ri.plural, name));
    }
    if is_put && new_rv.is_empty() && ri.crd.is_some() {
        return Err(ApiError::invalid(
            &ri.kind,
            &ri.group,
            name,
            vec![cause(
                "FieldValueInvalid",
                "metadata.resourceVersion",
                "Invalid value: 0x0: must be specified for an update",
            )],
        ));
    }
    let new_uid = meta_str(&new, "uid");
    if !new_uid.is_empty() && new_uid != meta_str(cur, "uid") {
        return Err(ApiError::conflict_msg(
            &ri.group,
            &ri.plural,
            name,
            &format!(
                "Precondition failed: UID in precondition: {new_uid}, UID in object meta: {}",
                meta_str(cur, "uid")
            ),
        ));
    }
    // Client-written managedFields: non-empty replaces, `[{}]` clears, absent/empty keeps.
    let client_mf = new.pointer("/metadata/managedFields").cloned();
    let mut new = if sub == Some("status") {
        let mut o = cur.clone();
        match new.get("status") {
            Some(s) => o["status"] = s.clone(),
            None => {
                o.as_object_mut().map(|m| m.remove("status"));
            }
        }
        // Client-written managedFields (and the apply engine's) survive a status write.
        if let Some(mf) = &client_mf {
            meta_mut(&mut o).insert("managedFields".into(), mf.clone());
        }
        o
    } else if sub == Some("finalize") {
        // namespaces/finalize changes spec.finalizers only.
        let mut o = cur.clone();
        if o.get("spec").is_none_or(|s| !s.is_object()) {
            o["spec"] = json!({});
        }
        o["spec"]["finalizers"] = new
            .pointer("/spec/finalizers")
            .cloned()
            .unwrap_or_else(|| json!([]));
        o
    } else {
        if ri.has_status() {
            match cur.get("status") {
                Some(s) => new["status"] = s.clone(),
                None => {
                    new.as_object_mut().map(|m| m.remove("status"));
                }
            }
        }
        // A namespace's spec.finalizers change only through namespaces/finalize.
        if ri.group.is_empty() && ri.plural == "namespaces" && new.is_object() {
            match cur.pointer("/spec/finalizers") {
                Some(f) => {
                    if !new.get("spec").is_some_and(Value::is_object) {
                        new["spec"] = json!({});
                    }
                    new["spec"]["finalizers"] = f.clone();
                }
                None => {
                    if let Some(s) = new.get_mut("spec").and_then(Value::as_object_mut) {
                        s.remove("finalizers");
                    }
                }
            }
        }
        new
    };
    let cur_meta = cur.get("metadata").cloned().unwrap_or(json!({}));
    {
        let m = meta_mut(&mut new);
        for f in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "resourceVersion",
        ] {
            match cur_meta.get(f) {
                Some(v) => m.insert(f.into(), v.clone()),
                None => m.remove(f),
            };
        }
        m.remove("selfLink");
        match &client_mf {
            Some(Value::Array(a))
                if a.len() == 1 && a[0].as_object().is_some_and(|o| o.is_empty()) =>
            {
                m.remove("managedFields");
            }
            Some(Value::Array(a)) if !a.is_empty() => {}
            _ => match cur_meta.get("managedFields") {
                Some(v) => m.insert("managedFields".into(), v.clone()),
                None => m.remove("managedFields"),
            }
            .map(|_| ())
            .unwrap_or(()),
        }
    }
    normalize_times(&mut new);
    if cur_meta.get("deletionTimestamp").is_some() {
        let old: Vec<&Value> = cur_meta
            .get("finalizers")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        if let Some(nf) = new
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            && nf.iter().any(|f| !old.contains(&f))
        {
            return Err(ApiError::invalid(
                &ri.kind,
                &ri.group,
                name,
                vec![cause(
                    "FieldValueForbidden",
                    "metadata.finalizers",
                    "Forbidden: no new finalizers can be added if the object is being deleted",
                )],
            ));
        }
    }
    if ri.group.is_empty() && ri.plural == "namespaces" {
        namespace_defaults(&mut new);
        if cur_meta.get("deletionTimestamp").is_some() {
            new["status"]["phase"] = json!("Terminating");
        }
    }
    admit(ri, &mut new, ctx)?;
    // Inside the store mutation: read RBAC objects from the snapshot, never the store.
    let rbac_src = match ctx.rbac.as_deref() {
        Some(s) => crate::auth::rbac::Source::Snapshot(s),
        None => crate::auth::rbac::Source::Store(api),
    };
    crate::auth::rbac::check_write(rbac_src, &ctx.user, &ri.group, &ri.plural, &new, Some(cur))?;
    if ri.group == "apiextensions.k8s.io" && ri.plural == "customresourcedefinitions" {
        crate::crd::on_update(api, cur, &mut new);
    }
    let has_generation = cur_meta
        .get("generation")
        .and_then(Value::as_i64)
        .unwrap_or(0)
        > 0;
    if has_generation && spec_view(ri, cur) != spec_view(ri, &new) {
        let g = cur_meta["generation"].as_i64().unwrap_or(0) + 1;
        meta_mut(&mut new).insert("generation".into(), json!(g));
    }
    if !ctx.apply {
        crate::fields::track_update_typed(
            Some(cur),
            &mut new,
            crate::apply::root_type(ri),
            &ctx.manager,
            &ri.api_version(),
            sub,
            ri.has_status(),
        );
    }
    if new == *cur {
        return Ok(Change::Keep);
    }
    if cur_meta.get("deletionTimestamp").is_some()
        && finalizers_empty(&new)
        && !has_spec_finalizers(ri, &new)
    {
        return Ok(Change::Delete(new));
    }
    Ok(Change::Put(new))
}

/// Rewrites client-sent managedFields times to RFC3339 `Z` form, as decoding into typed
/// timestamps does upstream (clients such as Python send `+00:00` offsets).
fn normalize_times(o: &mut Value) {
    if let Some(mf) = o
        .pointer_mut("/metadata/managedFields")
        .and_then(Value::as_array_mut)
    {
        for e in mf {
            if let Some(t) = e
                .get("time")
                .and_then(Value::as_str)
                .and_then(crate::util::parse_rfc3339)
            {
                e["time"] = json!(crate::util::rfc3339(t));
            }
        }
    }
}

/// Whether a namespace still lists `spec.finalizers` (removed by the namespace controller).
fn has_spec_finalizers(ri: &ResourceInfo, o: &Value) -> bool {
    ri.group.is_empty()
        && ri.plural == "namespaces"
        && o.pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
}

fn finalizers_empty(o: &Value) -> bool {
    o.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_none_or(|a| a.is_empty())
}

/// What happens to an object's dependents (objects whose ownerReferences name it) when it is
/// deleted: `DeleteOptions.propagationPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// Dependents keep existing; the server removes their ownerReferences first (`orphan`
    /// finalizer on the owner).
    Orphan,
    /// The owner goes at once; the garbage collector deletes dependents afterwards.
    Background,
    /// Dependents are deleted first (`foregroundDeletion` finalizer on the owner).
    Foreground,
}

/// The finalizer that keeps an owner until its dependents are orphaned.
pub const ORPHAN_FINALIZER: &str = "orphan";
/// The finalizer that keeps an owner until its blocking dependents are deleted.
pub const FOREGROUND_FINALIZER: &str = "foregroundDeletion";

/// Options of one delete (the `DeleteOptions` body and query parameters).
#[derive(Debug, Default, Clone)]
pub struct DeleteOpts {
    /// `dryRun=All`.
    pub dry_run: bool,
    /// `preconditions.uid`.
    pub uid: Option<String>,
    /// `preconditions.resourceVersion`.
    pub rv: Option<String>,
    /// `propagationPolicy` (or the deprecated `orphanDependents`); None keeps the object's
    /// finalizers as they are (background).
    pub propagation: Option<Propagation>,
}

fn propagation_opts(policy: Option<&str>, orphan: Option<bool>) -> ApiResult<Option<Propagation>> {
    let invalid = |msg: String| {
        ApiError::invalid(
            "DeleteOptions",
            "meta.k8s.io",
            "",
            vec![cause(
                if msg.starts_with("Unsupported") {
                    "FieldValueNotSupported"
                } else {
                    "FieldValueInvalid"
                },
                "propagationPolicy",
                msg,
            )],
        )
    };
    let p = match policy {
        None => None,
        Some("Orphan") => Some(Propagation::Orphan),
        Some("Background") => Some(Propagation::Background),
        Some("Foreground") => Some(Propagation::Foreground),
        Some(other) => {
            return Err(invalid(format!(
                "Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
            )));
        }
    };
    match (p, orphan) {
        (Some(_), Some(_)) => Err(invalid(format!(
            "Invalid value: \"{}\": orphanDependents and deletionPropagation cannot be both set",
            policy.unwrap_or_default()
        ))),
        (None, Some(true)) => Ok(Some(Propagation::Orphan)),
        (None, Some(false)) => Ok(Some(Propagation::Background)),
        (p, None) => Ok(p),
    }
}

/// The finalizers an object gets for a propagation policy (upstream's
/// `deletionFinalizersForGarbageCollection`); None: unchanged.
fn finalizers_for(cur: &Value, p: Option<Propagation>) -> Option<Vec<Value>> {
    let p = p?;
    let mut f: Vec<Value> = cur
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let before = f.clone();
    let (add, remove): (Option<&str>, &[&str]) = match p {
        Propagation::Orphan => (Some(ORPHAN_FINALIZER), &[FOREGROUND_FINALIZER]),
        Propagation::Foreground => (Some(FOREGROUND_FINALIZER), &[ORPHAN_FINALIZER]),
        Propagation::Background => (None, &[ORPHAN_FINALIZER, FOREGROUND_FINALIZER]),
    };
    f.retain(|x| !remove.iter().any(|r| x == r));
    if let Some(a) = add
        && !f.iter().any(|x| x == a)
    {
        f.push(json!(a));
    }
    (f != before).then_some(f)
}

fn delete_opts(req: &Req) -> ApiResult<DeleteOpts> {
    let mut o = DeleteOpts::default();
    let mut policy = req.q("propagationPolicy").map(String::from);
    let mut orphan = match req.q("orphanDependents") {
        None => None,
        Some(v) => Some(v.parse::<bool>().map_err(|_| {
            ApiError::bad_request(format!("invalid value for orphanDependents: {v}"))
        })?),
    };
    if !req.body.is_empty() {
        let b = crate::request::decode_json(&req.body)?;
        if let Some(p) = b.get("propagationPolicy").and_then(Value::as_str) {
            policy = Some(p.to_string());
        }
        if let Some(v) = b.get("orphanDependents").and_then(Value::as_bool) {
            orphan = Some(v);
        }
        if let Some(d) = b.get("dryRun").and_then(Value::as_array) {
            for v in d {
                match v.as_str() {
                    Some("All") => o.dry_run = true,
                    other => {
                        return Err(ApiError::bad_request(format!(
                            "unsupported dry run value {other:?}"
                        )));
                    }
                }
            }
        }
        o.uid = b
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(String::from);
        o.rv = b
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(String::from);
    }
    match req.q("dryRun") {
        None => {}
        Some("All") => o.dry_run = true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unsupported dry run value \"{other}\""
            )));
        }
    }
    o.propagation = propagation_opts(policy.as_deref(), orphan)?;
    Ok(o)
}

fn delete(
    api: &Arc<Api>,
    req: &Req,
    ri: &Arc<ResourceInfo>,
    ns: &str,
    name: &str,
) -> ApiResult<Response> {
    let opts = delete_opts(req)?;
    if ri.group.is_empty()
        && ri.plural == "namespaces"
        && matches!(name, "default" | "kube-system" | "kube-public")
    {
        return Err(ApiError::forbidden(
            format!("namespaces \"{name}\" is forbidden: this namespace may not be deleted"),
            name,
            "",
            "namespaces",
        ));
    }
    let (obj, removed) = delete_object(api, ri, ns, name, &opts)?;
    let body = if removed && ri.crd.is_none() && ri.plural != "customresourcedefinitions" {
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {"name": name, "group": ri.group, "kind": ri.plural, "uid": meta_str(&obj, "uid")},
        })
    } else {
        to_version(ri, &obj)
    };
    Ok(json_response(200, &body))
}

/// Deletes (or starts deleting, with finalizers) one object; returns its last state and whether
/// it is gone.
fn delete_object(
    api: &Api,
    ri: &ResourceInfo,
    ns: &str,
    name: &str,
    opts: &DeleteOpts,
) -> ApiResult<(Value, bool)> {
    let k = key(ri, ns, name);
    let mut result: Option<(Value, bool)> = None;
    let is_ns = ri.group.is_empty() && ri.plural == "namespaces";
    api.store.mutate(&k, |cur, _| {
        let cur = cur.ok_or_else(|| ApiError::not_found(&ri.group, &ri.plural, name))?;
        if let Some(uid) = &opts.uid
            && uid != meta_str(cur, "uid")
        {
            return Err(ApiError::conflict_msg(&ri.group, &ri.plural, name, &format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {}", meta_str(cur, "uid"))));
        }
        if let Some(rv) = &opts.rv
            && rv != meta_str(cur, "resourceVersion")
        {
            return Err(ApiError::conflict_msg(&ri.group, &ri.plural, name, &format!("Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}", meta_str(cur, "resourceVersion"))));
        }
        let has_spec_finalizers = is_ns && cur.pointer("/spec/finalizers").and_then(Value::as_array).is_some_and(|a| !a.is_empty());
        let policy_finalizers = finalizers_for(cur, opts.propagation);
        let mut base = (**cur).clone();
        if let Some(f) = &policy_finalizers {
            if f.is_empty() {
                meta_mut(&mut base).remove("finalizers");
            } else {
                meta_mut(&mut base).insert("finalizers".into(), json!(f));
            }
        }
        let pending = !finalizers_empty(&base) || has_spec_finalizers;
        let change = if pending {
            if cur.pointer("/metadata/deletionTimestamp").is_some() {
                if policy_finalizers.is_some() { Change::Put(base) } else { Change::Keep }
            } else {
                let mut o = base;
                let m = meta_mut(&mut o);
                m.insert("deletionTimestamp".into(), json!(now_rfc3339()));
                m.insert("deletionGracePeriodSeconds".into(), json!(0));
                if let Some(g) = m.get("generation").and_then(Value::as_i64).filter(|g| *g > 0) {
                    m.insert("generation".into(), json!(g + 1));
                }
                if is_ns {
                    o["status"]["phase"] = json!("Terminating");
                }
                if ri.group == "apiextensions.k8s.io" && ri.plural == "customresourcedefinitions" {
                    crate::crd::set_condition(&mut o, "Terminating", "True", "InstanceDeletionInProgress", "CustomResource deletion is in progress");
                }
                Change::Put(o)
            }
        } else {
            Change::Delete((**cur).clone())
        };
        if opts.dry_run {
            result = Some(match change {
                Change::Keep => ((**cur).clone(), false),
                Change::Put(v) => (v, false),
                Change::Delete(v) => (v, true),
            });
            return Ok(Change::Keep);
        }
        Ok(change)
    })
    .map(|out| {
        if let Some(r) = result {
            return r;
        }
        let obj = out.object.map(|o| (*o).clone()).unwrap_or_default();
        let gone = out.etype == Some(crate::store::EventType::Deleted);
        if out.etype.is_some() {
            if ri.group == "apiextensions.k8s.io" && ri.plural == "customresourcedefinitions" {
                crate::crd::refresh_registry(api);
            }
            api.controller_wake.notify_one();
        }
        (obj, gone)
    })
}

/// Deletes an object on behalf of the server's own controllers.
pub fn internal_delete(api: &Api, ri: &ResourceInfo, ns: &str, name: &str) -> ApiResult<()> {
    delete_object(api, ri, ns, name, &DeleteOpts::default()).map(|_| ())
}

/// Deletes an object with explicit options (garbage collector, namespace controller); returns
/// whether it is gone.
pub fn internal_delete_with(
    api: &Api,
    ri: &ResourceInfo,
    ns: &str,
    name: &str,
    opts: &DeleteOpts,
) -> ApiResult<bool> {
    delete_object(api, ri, ns, name, opts).map(|(_, gone)| gone)
}

fn delete_collection(
    api: &Arc<Api>,
    req: &Req,
    ri: &Arc<ResourceInfo>,
    ns: Option<&str>,
) -> ApiResult<Response> {
    let opts = delete_opts(req)?;
    let labels = LabelSelector::parse(req.q("labelSelector").unwrap_or(""))?;
    let fields = FieldSelector::parse(req.q("fieldSelector").unwrap_or(""), ri)?;
    let (rv, objects) = api.store.list(&ri.group, &ri.plural, ns);
    let mut items = Vec::new();
    for o in objects {
        if !labels.matches(&o) || !fields.matches(&o) {
            continue;
        }
        match delete_object(
            api,
            ri,
            meta_str(&o, "namespace"),
            meta_str(&o, "name"),
            &opts,
        ) {
            Ok((obj, _)) => items.push(to_version(ri, &obj)),
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(json_response(
        200,
        &json!({"kind": ri.list_kind(), "apiVersion": ri.api_version(), "metadata": {"resourceVersion": rv.to_string()}, "items": items}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names() {
        assert!(is_dns_label("abc-1"));
        assert!(!is_dns_label("a.b"));
        assert!(is_dns_subdomain("a.b-c.d"));
        assert!(!is_dns_subdomain("A"));
        assert!(!is_dns_subdomain("-a"));
        assert!(!is_dns_subdomain("a..b"));
    }
}
