//! Discovery: aggregated (`apidiscovery.k8s.io` v2 and v2beta1) and legacy documents, generated
//! from the live registry.

use crate::error::{ApiError, ApiResult};
use crate::registry::{GroupEntry, ResourceInfo};
use crate::request::{Req, Route};
use crate::server::{Api, json_response, typed_response};
use axum::response::Response;
use serde_json::{Value, json};

/// Serves `/api`, `/apis`, `/apis/<g>`, `/api/v1` and `/apis/<g>/<v>`.
pub fn serve(api: &Api, req: &Req, route: Route) -> ApiResult<Response> {
    let snap = api.registry.snapshot();
    match route {
        Route::ApiVersions | Route::ApiGroups => {
            let legacy = route == Route::ApiVersions;
            if let Some(ver) = aggregated_version(req) {
                let groups: Vec<Value> = snap
                    .groups
                    .iter()
                    .filter(|g| g.name.is_empty() == legacy)
                    .map(aggregated_group)
                    .collect();
                let body = json!({
                    "kind": "APIGroupDiscoveryList",
                    "apiVersion": format!("apidiscovery.k8s.io/{ver}"),
                    "metadata": {},
                    "items": groups,
                });
                let ct = format!(
                    "application/json;g=apidiscovery.k8s.io;v={ver};as=APIGroupDiscoveryList"
                );
                return Ok(typed_response(200, &body, &ct));
            }
            if legacy {
                return Ok(json_response(
                    200,
                    &json!({
                        "kind": "APIVersions",
                        "versions": ["v1"],
                        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": api.address}],
                    }),
                ));
            }
            let groups: Vec<Value> = snap
                .groups
                .iter()
                .filter(|g| !g.name.is_empty())
                .map(legacy_group)
                .collect();
            Ok(json_response(
                200,
                &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
            ))
        }
        Route::ApiGroup(g) => {
            let entry = snap
                .group(&g)
                .filter(|_| !g.is_empty())
                .ok_or_else(ApiError::no_route)?;
            let mut body = legacy_group(entry);
            body["kind"] = json!("APIGroup");
            body["apiVersion"] = json!("v1");
            Ok(json_response(200, &body))
        }
        Route::ResourceList(g, v) => {
            let entry = snap.group(&g).ok_or_else(ApiError::no_route)?;
            let (_, resources) = entry
                .versions
                .iter()
                .find(|(ver, _)| *ver == v)
                .ok_or_else(ApiError::no_route)?;
            let mut list = Vec::new();
            for r in resources {
                list.push(legacy_resource(r));
                for s in &r.subresources {
                    let mut e = json!({
                        "name": format!("{}/{}", r.plural, s.name),
                        "singularName": "",
                        "namespaced": r.namespaced,
                        "kind": s.kind,
                        "verbs": s.verbs,
                    });
                    if s.group != r.group || s.version != r.version {
                        e["group"] = json!(s.group);
                        e["version"] = json!(s.version);
                    }
                    list.push(e);
                }
            }
            let gv = if g.is_empty() {
                v.clone()
            } else {
                format!("{g}/{v}")
            };
            Ok(json_response(
                200,
                &json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": list}),
            ))
        }
        _ => Err(ApiError::no_route()),
    }
}

/// The aggregated discovery version the client offered first, if any.
fn aggregated_version(req: &Req) -> Option<&'static str> {
    let accept = req.header("accept")?;
    for part in accept.split(',') {
        let p = part.replace(' ', "");
        if p.contains("g=apidiscovery.k8s.io") && p.contains("as=APIGroupDiscoveryList") {
            if p.contains("v=v2beta1") {
                return Some("v2beta1");
            }
            if p.contains("v=v2") {
                return Some("v2");
            }
        }
    }
    None
}

fn aggregated_group(g: &GroupEntry) -> Value {
    let versions: Vec<Value> = g
        .versions
        .iter()
        .map(|(v, rs)| {
            let resources: Vec<Value> = rs
                .iter()
                .map(|r| {
                    let mut e = json!({
                        "resource": r.plural,
                        "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
                        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
                        "singularResource": r.singular,
                        "verbs": r.verbs,
                    });
                    if !r.short_names.is_empty() {
                        e["shortNames"] = json!(r.short_names);
                    }
                    if !r.categories.is_empty() {
                        e["categories"] = json!(r.categories);
                    }
                    if !r.subresources.is_empty() {
                        e["subresources"] = r
                            .subresources
                            .iter()
                            .map(|s| {
                                json!({
                                    "subresource": s.name,
                                    "responseKind": {"group": s.group, "version": s.version, "kind": s.kind},
                                    "verbs": s.verbs,
                                })
                            })
                            .collect();
                    }
                    e
                })
                .collect();
            json!({"version": v, "resources": resources, "freshness": "Current"})
        })
        .collect();
    json!({"metadata": {"name": g.name, "creationTimestamp": null}, "versions": versions})
}

fn legacy_group(g: &GroupEntry) -> Value {
    let versions: Vec<Value> = g
        .versions
        .iter()
        .map(|(v, _)| json!({"groupVersion": format!("{}/{v}", g.name), "version": v}))
        .collect();
    let preferred = versions.first().cloned().unwrap_or(Value::Null);
    json!({"name": g.name, "versions": versions, "preferredVersion": preferred})
}

fn legacy_resource(r: &ResourceInfo) -> Value {
    let mut e = json!({
        "name": r.plural,
        "singularName": r.singular,
        "namespaced": r.namespaced,
        "kind": r.kind,
        "verbs": r.verbs,
    });
    if !r.short_names.is_empty() {
        e["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        e["categories"] = json!(r.categories);
    }
    e
}
