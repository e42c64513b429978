//! `/openapi/v3`: the root index and per-group-version OpenAPI 3.0 documents, derived from the
//! embedded Kubernetes 1.33 definitions for built-ins and from CRD schemas for custom resources.

use crate::error::{ApiError, ApiResult};
use crate::registry::ResourceInfo;
use crate::server::Api;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::sync::{Arc, Mutex, OnceLock};

static DEFINITIONS_GZ: &[u8] = include_bytes!("../data/v1.33-definitions.json.gz");

/// The embedded definitions, converted to OpenAPI 3 style (`$ref` to components, no null types).
pub fn definitions() -> &'static Map<String, Value> {
    static DEFS: OnceLock<Map<String, Value>> = OnceLock::new();
    DEFS.get_or_init(|| {
        let mut text = String::new();
        let _ = flate2::read::GzDecoder::new(DEFINITIONS_GZ).read_to_string(&mut text);
        let mut root: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let mut defs = match root.get_mut("$defs").map(Value::take) {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        for v in defs.values_mut() {
            convert(v);
        }
        defs
    })
}

fn convert(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get_mut("$ref")
                && let Some(name) = r.strip_prefix("#/$defs/")
            {
                *r = format!("#/components/schemas/{name}");
            }
            if let Some(Value::Array(types)) = m.get("type") {
                let non_null: Vec<Value> = types
                    .iter()
                    .filter(|t| t.as_str() != Some("null"))
                    .cloned()
                    .collect();
                if non_null.len() == 1 {
                    m.insert("type".into(), non_null[0].clone());
                } else {
                    m.remove("type");
                }
            }
            for (_, c) in m.iter_mut() {
                convert(c);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(convert),
        _ => {}
    }
}

/// Definition name of a built-in kind.
pub fn definition_for(group: &str, version: &str, kind: &str) -> Option<&'static str> {
    static INDEX: OnceLock<HashMap<(String, String, String), String>> = OnceLock::new();
    let idx = INDEX.get_or_init(|| {
        let mut m = HashMap::new();
        for (name, d) in definitions() {
            if let Some(Value::Array(gvks)) = d.get("x-kubernetes-group-version-kind") {
                for g in gvks {
                    let s = |k: &str| g.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                    m.insert((s("group"), s("version"), s("kind")), name.clone());
                }
            }
        }
        m
    });
    idx.get(&(group.to_string(), version.to_string(), kind.to_string()))
        .map(String::as_str)
}

type Docs = BTreeMap<String, (String, Arc<Value>)>;
type DocCache = Mutex<HashMap<String, (u64, Arc<Docs>)>>;

fn docs(api: &Api) -> Arc<Docs> {
    static CACHE: OnceLock<DocCache> = OnceLock::new();
    let snap = api.registry.snapshot();
    let cache = CACHE.get_or_init(Default::default);
    if let Some((g, d)) = cache.lock().expect("openapi cache").get(&api.address)
        && *g == snap.generation
    {
        return d.clone();
    }
    let mut out = Docs::new();
    for g in &snap.groups {
        for (v, resources) in &g.versions {
            let key = if g.name.is_empty() {
                format!("api/{v}")
            } else {
                format!("apis/{}/{v}", g.name)
            };
            let doc = gv_document(&key, resources);
            let hash = crate::util::fnv_hex(&serde_json::to_vec(&doc).unwrap_or_default());
            out.insert(key, (hash, Arc::new(doc)));
        }
    }
    let out = Arc::new(out);
    cache
        .lock()
        .expect("openapi cache")
        .insert(api.address.clone(), (snap.generation, out.clone()));
    out
}

/// `GET /openapi/v3`.
pub fn root(api: &Api) -> Value {
    let paths: Map<String, Value> = docs(api)
        .iter()
        .map(|(k, (hash, _))| {
            (
                k.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{k}?hash={hash}")}),
            )
        })
        .collect();
    json!({"paths": paths})
}

/// `GET /openapi/v3/<api/v1|apis/g/v>`.
pub fn document(api: &Api, path: &str) -> ApiResult<Value> {
    docs(api)
        .get(path)
        .map(|(_, d)| (**d).clone())
        .ok_or_else(ApiError::no_route)
}

fn schema_name(r: &ResourceInfo) -> String {
    if r.crd.is_none()
        && let Some(n) = definition_for(&r.group, &r.version, &r.kind)
    {
        return n.to_string();
    }
    let rev: Vec<&str> = r.group.split('.').rev().collect();
    format!("{}.{}.{}", rev.join("."), r.version, r.kind)
}

fn gv_document(key: &str, resources: &[Arc<ResourceInfo>]) -> Value {
    let defs = definitions();
    let mut schemas = Map::new();
    let mut wanted: Vec<String> = vec!["io.k8s.apimachinery.pkg.apis.meta.v1.Status".into()];
    let mut paths = Map::new();
    for r in resources {
        let name = schema_name(r);
        if let Some(crd) = &r.crd {
            let mut s = crd.schema.clone();
            if let Some(props) = s.get_mut("properties").and_then(Value::as_object_mut) {
                props.insert("metadata".into(), json!({"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}));
                props
                    .entry("apiVersion")
                    .or_insert(json!({"type": "string"}));
                props.entry("kind").or_insert(json!({"type": "string"}));
            }
            s["x-kubernetes-group-version-kind"] =
                json!([{"group": r.group, "version": r.version, "kind": r.kind}]);
            schemas.insert(name.clone(), s);
            wanted.push("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta".into());
        } else if defs.contains_key(&name) {
            wanted.push(name.clone());
        }
        add_paths(&mut paths, key, r, &name);
    }
    // Transitive closure of referenced definitions.
    let mut seen: HashSet<String> = schemas.keys().cloned().collect();
    while let Some(n) = wanted.pop() {
        if !seen.insert(n.clone()) {
            continue;
        }
        if let Some(d) = defs.get(&n) {
            collect_refs(d, &mut wanted);
            schemas.insert(n, d.clone());
        }
    }
    let crd_schemas: Vec<Value> = schemas.values().cloned().collect();
    for s in crd_schemas {
        let mut refs = Vec::new();
        collect_refs(&s, &mut refs);
        for n in refs {
            if !schemas.contains_key(&n)
                && let Some(d) = defs.get(&n)
            {
                schemas.insert(n, d.clone());
            }
        }
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref")
                && let Some(n) = r.strip_prefix("#/components/schemas/")
            {
                out.push(n.to_string());
            }
            m.values().for_each(|c| collect_refs(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| collect_refs(c, out)),
        _ => {}
    }
}

fn param(name: &str, desc: &str) -> Value {
    json!({"name": name, "in": "query", "description": desc, "schema": {"type": "string", "uniqueItems": true}})
}

fn add_paths(paths: &mut Map<String, Value>, key: &str, r: &ResourceInfo, schema: &str) {
    let gvk = json!({"group": r.group, "version": r.version, "kind": r.kind});
    let sref = json!({"$ref": format!("#/components/schemas/{schema}")});
    let body = json!({"content": {"*/*": {"schema": sref}}, "required": true});
    let ok =
        json!({"200": {"description": "OK", "content": {"application/json": {"schema": sref}}}});
    let write_params = json!([
        param(
            "dryRun",
            "When present, indicates that modifications should not be persisted."
        ),
        param(
            "fieldManager",
            "fieldManager is a name associated with the actor or entity that is making these changes."
        ),
        param(
            "fieldValidation",
            "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields."
        ),
    ]);
    let op = |action: &str, extra: Value| {
        let mut o = json!({
            "operationId": format!("{action}{}", r.kind),
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk,
            "responses": ok,
        });
        if let (Some(o), Value::Object(e)) = (o.as_object_mut(), extra) {
            o.extend(e);
        }
        o
    };
    let base = if r.namespaced {
        format!("/{key}/namespaces/{{namespace}}/{}", r.plural)
    } else {
        format!("/{key}/{}", r.plural)
    };
    paths.insert(
        base.clone(),
        json!({
            "get": op("list", json!({})),
            "post": op("post", json!({"parameters": write_params, "requestBody": body})),
        }),
    );
    let mut patch_types = Map::new();
    for t in [
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/apply-patch+yaml",
    ] {
        patch_types.insert(t.into(), json!({"schema": {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"}}));
    }
    if r.crd.is_none() {
        patch_types.insert(
            "application/strategic-merge-patch+json".into(),
            json!({"schema": {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"}}),
        );
    }
    let mut patch_params = write_params.clone();
    if let Some(a) = patch_params.as_array_mut() {
        a.push(param(
            "force",
            "Force is going to \"force\" Apply requests.",
        ));
    }
    let item = json!({
        "get": op("get", json!({})),
        "put": op("put", json!({"parameters": write_params, "requestBody": body})),
        "patch": op("patch", json!({"parameters": patch_params, "requestBody": {"content": patch_types, "required": true}})),
        "delete": op("delete", json!({"parameters": [param("dryRun", "dry run")]})),
    });
    paths.insert(format!("{base}/{{name}}"), item.clone());
    if r.has_status() {
        paths.insert(format!("{base}/{{name}}/status"), item);
    }
}
