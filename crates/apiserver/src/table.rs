//! `meta.k8s.io/v1` Table rendering: kubectl's columns for common built-ins and CRD printer
//! columns, with dates rendered as ages.

use crate::registry::ResourceInfo;
use crate::request::Include;
use crate::rest::partial_metadata;
use crate::util::{age, meta_str};
use serde_json::{Value, json};
use std::sync::Arc;

struct Col {
    name: String,
    ty: String,
    format: String,
    description: String,
    priority: i64,
    source: Source,
}

enum Source {
    Name,
    Age,
    Path(String),
    Builtin(fn(&Value) -> Value),
}

fn col(name: &str, ty: &str, source: Source) -> Col {
    Col {
        name: name.into(),
        ty: ty.into(),
        format: String::new(),
        description: String::new(),
        priority: 0,
        source,
    }
}

fn count(v: Option<&Value>) -> Value {
    json!(
        v.map(|d| match d {
            Value::Object(m) => m.len(),
            Value::Array(a) => a.len(),
            _ => 0,
        })
        .unwrap_or(0)
    )
}

fn builtin_columns(ri: &ResourceInfo) -> Vec<Col> {
    let b = |n: &str, t: &str, f: fn(&Value) -> Value| col(n, t, Source::Builtin(f));
    let mut cols = vec![col("Name", "string", Source::Name)];
    match (ri.group.as_str(), ri.plural.as_str()) {
        ("", "configmaps") => cols.push(b("Data", "integer", |o| {
            json!(
                count(o.get("data")).as_u64().unwrap_or(0)
                    + count(o.get("binaryData")).as_u64().unwrap_or(0)
            )
        })),
        ("", "secrets") => {
            cols.push(b("Type", "string", |o| {
                o.get("type").cloned().unwrap_or(json!("Opaque"))
            }));
            cols.push(b("Data", "integer", |o| count(o.get("data"))));
        }
        ("", "namespaces") => cols.push(b("Status", "string", |o| {
            o.pointer("/status/phase").cloned().unwrap_or(json!(""))
        })),
        ("", "serviceaccounts") => cols.push(b("Secrets", "integer", |o| count(o.get("secrets")))),
        ("apps", "deployments") => {
            cols.push(b("Ready", "string", |o| {
                let ready = o
                    .pointer("/status/readyReplicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                let want = o
                    .pointer("/spec/replicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(1);
                json!(format!("{ready}/{want}"))
            }));
            cols.push(b("Up-to-date", "integer", |o| {
                json!(
                    o.pointer("/status/updatedReplicas")
                        .and_then(Value::as_i64)
                        .unwrap_or(0)
                )
            }));
            cols.push(b("Available", "integer", |o| {
                json!(
                    o.pointer("/status/availableReplicas")
                        .and_then(Value::as_i64)
                        .unwrap_or(0)
                )
            }));
        }
        ("", "pods") => {
            cols.push(b("Ready", "string", |o| {
                let total = o
                    .pointer("/spec/containers")
                    .and_then(Value::as_array)
                    .map(|a| a.len())
                    .unwrap_or(0);
                let ready = o
                    .pointer("/status/containerStatuses")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter(|c| c["ready"] == json!(true)).count())
                    .unwrap_or(0);
                json!(format!("{ready}/{total}"))
            }));
            cols.push(b("Status", "string", |o| {
                o.pointer("/status/phase")
                    .cloned()
                    .unwrap_or(json!("Pending"))
            }));
            cols.push(b("Restarts", "integer", |_| json!(0)));
        }
        ("apiextensions.k8s.io", "customresourcedefinitions") => {
            cols.push(col(
                "Created At",
                "date",
                Source::Path(".metadata.creationTimestamp".into()),
            ));
            return cols;
        }
        ("coordination.k8s.io", "leases") => cols.push(b("Holder", "string", |o| {
            o.pointer("/spec/holderIdentity")
                .cloned()
                .unwrap_or(json!(""))
        })),
        ("rbac.authorization.k8s.io", "rolebindings" | "clusterrolebindings") => {
            cols.push(b("Role", "string", |o| {
                json!(format!(
                    "{}/{}",
                    o.pointer("/roleRef/kind")
                        .and_then(Value::as_str)
                        .unwrap_or(""),
                    o.pointer("/roleRef/name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                ))
            }))
        }
        _ => {}
    }
    cols.push(col("Age", "date", Source::Age));
    cols
}

fn columns(ri: &ResourceInfo) -> Vec<Col> {
    let Some(crd) = &ri.crd else {
        return builtin_columns(ri);
    };
    if crd.printer_columns.is_empty() {
        return vec![
            col("Name", "string", Source::Name),
            col("Age", "date", Source::Age),
        ];
    }
    let mut cols = vec![col("Name", "string", Source::Name)];
    for c in &crd.printer_columns {
        let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        cols.push(Col {
            name: s("name"),
            ty: s("type"),
            format: s("format"),
            description: s("description"),
            priority: c.get("priority").and_then(Value::as_i64).unwrap_or(0),
            source: Source::Path(s("jsonPath")),
        });
    }
    cols
}

fn cell(c: &Col, o: &Value) -> Value {
    match &c.source {
        Source::Name => json!(meta_str(o, "name")),
        Source::Age => json!(age(meta_str(o, "creationTimestamp"))),
        Source::Builtin(f) => f(o),
        Source::Path(p) => match crate::jsonpath::first(o, p) {
            None | Some(Value::Null) => Value::Null,
            Some(v) if c.ty == "date" => json!(v.as_str().map(age).unwrap_or_default()),
            Some(v @ (Value::Object(_) | Value::Array(_))) => json!(v.to_string()),
            Some(v) => v.clone(),
        },
    }
}

/// A Table for the given objects. `with_defs = false` omits the column definitions (watch
/// events after the first).
pub fn table(
    ri: &ResourceInfo,
    objects: &[Arc<Value>],
    include: Include,
    rv: &str,
    cont: Option<&str>,
    with_defs: bool,
) -> Value {
    let cols = columns(ri);
    let defs: Vec<Value> = cols
        .iter()
        .map(|c| {
            let format = if matches!(c.source, Source::Name) { "name".to_string() } else { c.format.clone() };
            json!({"name": c.name, "type": c.ty, "format": format, "description": c.description, "priority": c.priority})
        })
        .collect();
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let cells: Vec<Value> = cols.iter().map(|c| cell(c, o)).collect();
            let mut row = json!({"cells": cells});
            match include {
                Include::Metadata => row["object"] = partial_metadata(o),
                Include::Object => row["object"] = crate::rest::to_version(ri, o),
                Include::None => {}
            }
            row
        })
        .collect();
    let mut meta = json!({"resourceVersion": rv});
    if let Some(c) = cont {
        meta["continue"] = json!(c);
    }
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": if with_defs { json!(defs) } else { json!([]) },
        "rows": rows,
    })
}
