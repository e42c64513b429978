//! `meta.k8s.io/v1` Table rendering: kubectl's columns for common built-ins and CRD printer
//! columns, with dates rendered as ages.

use crate::registry::ResourceInfo;
use crate::request::Include;
use crate::rest::partial_metadata;
use crate::util::{age, meta_str};
use serde_json::{Value, json};
use std::sync::Arc;

pub(crate) struct Col {
    pub(crate) name: String,
    pub(crate) ty: String,
    pub(crate) format: String,
    pub(crate) description: String,
    pub(crate) priority: i64,
    pub(crate) source: Source,
}

pub(crate) enum Source {
    Name,
    Age,
    Path(String),
    Builtin(fn(&Value) -> Value),
}

pub(crate) fn col(name: &str, ty: &str, source: Source) -> Col {
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
    if let Some(cols) = kinds::columns(ri.group.as_str(), ri.plural.as_str()) {
        return cols;
    }
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
            cols.push(col("Age", "date", Source::Age));
            kinds::template_wide(&mut cols, true);
            return cols;
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
            cols.push(b("Status", "string", pod_status_cell));
            cols.push(b("Restarts", "string", |o| {
                // The sum of restarts, with the age of the last termination as kubectl shows it.
                let statuses = o
                    .pointer("/status/containerStatuses")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let n: i64 = statuses
                    .iter()
                    .filter_map(|c| c["restartCount"].as_i64())
                    .sum();
                let last = statuses
                    .iter()
                    .filter_map(|c| c.pointer("/lastState/terminated/finishedAt"))
                    .filter_map(Value::as_str)
                    .max();
                match last {
                    Some(t) if n > 0 => json!(format!("{n} ({} ago)", crate::util::age(t))),
                    _ => json!(n.to_string()),
                }
            }));
        }
        ("apiextensions.k8s.io", "customresourcedefinitions") => {
            // The real server's default table convertor: the creation time as an RFC 3339
            // timestamp, not an age.
            cols.push(b("Created At", "date", |o| {
                json!(meta_str(o, "creationTimestamp"))
            }));
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
            // Cells read the requested version's fields (an HPA stored as v1 listed as v2).
            let converted;
            let o = if o.get("apiVersion").and_then(Value::as_str) == Some(&*ri.api_version()) {
                o
            } else {
                converted = Arc::new(crate::rest::to_version(ri, o));
                &converted
            };
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

/// kubectl's printer columns (Kubernetes 1.33) for further built-ins. The server always emits
/// the wide cells; kubectl hides priority-1 columns unless `-o wide`.
mod kinds {
    use super::{Col, Source, col};
    use crate::util::{age, human_duration, meta_str, parse_rfc3339};
    use serde_json::{Map, Value, json};

    fn b(name: &str, ty: &str, f: fn(&Value) -> Value) -> Col {
        col(name, ty, Source::Builtin(f))
    }

    fn wide(mut c: Col) -> Col {
        c.priority = 1;
        c
    }

    fn name() -> Col {
        col("Name", "string", Source::Name)
    }

    fn age_col() -> Col {
        col("Age", "date", Source::Age)
    }

    fn s<'a>(o: &'a Value, ptr: &str) -> &'a str {
        o.pointer(ptr).and_then(Value::as_str).unwrap_or("")
    }

    fn int(o: &Value, ptr: &str) -> i64 {
        o.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
    }

    fn arr<'a>(o: &'a Value, ptr: &str) -> &'a [Value] {
        o.pointer(ptr)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    fn or_none(v: String) -> Value {
        json!(if v.is_empty() {
            "<none>".to_string()
        } else {
            v
        })
    }

    /// `k=v,…` sorted by key (`labels.FormatLabels` without the `<none>`).
    fn labels(m: Option<&Value>) -> String {
        let Some(Value::Object(m)) = m else {
            return String::new();
        };
        let mut kv: Vec<String> = m
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect();
        kv.sort();
        kv.join(",")
    }

    /// A LabelSelector as `labels.Selector.String()`: requirements sorted by key.
    fn selector(sel: Option<&Value>) -> String {
        let Some(sel) = sel else {
            return String::new();
        };
        let mut reqs: Vec<(String, String)> = Vec::new();
        if let Some(Value::Object(m)) = sel.get("matchLabels") {
            for (k, v) in m {
                reqs.push((k.clone(), format!("{k}={}", v.as_str().unwrap_or(""))));
            }
        }
        for e in sel
            .get("matchExpressions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let k = e.get("key").and_then(Value::as_str).unwrap_or("");
            let mut vals: Vec<&str> = e
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            vals.sort();
            let text = match e.get("operator").and_then(Value::as_str).unwrap_or("") {
                "In" => format!("{k} in ({})", vals.join(",")),
                "NotIn" => format!("{k} notin ({})", vals.join(",")),
                "Exists" => k.to_string(),
                "DoesNotExist" => format!("!{k}"),
                _ => continue,
            };
            reqs.push((k.to_string(), text));
        }
        reqs.sort_by(|a, b| a.0.cmp(&b.0));
        reqs.into_iter().map(|r| r.1).collect::<Vec<_>>().join(",")
    }

    fn containers(o: &Value, ptr: &str) -> (Value, Value) {
        let cs = arr(o, ptr);
        let get = |k: &str| {
            cs.iter()
                .map(|c| c.get(k).and_then(Value::as_str).unwrap_or(""))
                .collect::<Vec<_>>()
                .join(",")
        };
        (json!(get("name")), json!(get("image")))
    }

    const CRONJOB_TEMPLATE: &str = "/spec/jobTemplate/spec/template/spec/containers";
    const TEMPLATE: &str = "/spec/template/spec/containers";

    /// The wide Containers and Images columns of a workload with a pod template, plus Selector
    /// (`metav1.FormatLabelSelector`) when `with_selector`.
    pub(super) fn template_wide(cols: &mut Vec<Col>, with_selector: bool) {
        cols.push(wide(b("Containers", "string", |o| {
            containers(o, TEMPLATE).0
        })));
        cols.push(wide(b("Images", "string", |o| containers(o, TEMPLATE).1)));
        if with_selector {
            cols.push(wide(b("Selector", "string", |o| {
                or_none(selector(o.pointer("/spec/selector")))
            })));
        }
    }

    fn lb_status(o: &Value, ptr: &str) -> String {
        let mut seen = std::collections::HashSet::new();
        arr(o, ptr)
            .iter()
            .filter_map(|i| {
                let ip = i.get("ip").and_then(Value::as_str).unwrap_or("");
                let host = i.get("hostname").and_then(Value::as_str).unwrap_or("");
                if !ip.is_empty() {
                    Some(ip.to_string())
                } else if !host.is_empty() {
                    Some(host.to_string())
                } else {
                    None
                }
            })
            .filter(|a| seen.insert(a.clone()))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn strs(o: &Value, ptr: &str) -> Vec<String> {
        arr(o, ptr)
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    }

    fn ts_age(o: &Value, ptr: &str) -> String {
        match s(o, ptr) {
            "" => "<unknown>".into(),
            t => age(t),
        }
    }

    fn access_modes(o: &Value, ptr: &str) -> String {
        let modes = strs(o, ptr);
        [
            ("ReadWriteOnce", "RWO"),
            ("ReadOnlyMany", "ROX"),
            ("ReadWriteMany", "RWX"),
            ("ReadWriteOncePod", "RWOP"),
        ]
        .iter()
        .filter(|(m, _)| modes.iter().any(|x| x == m))
        .map(|(_, a)| *a)
        .collect::<Vec<_>>()
        .join(",")
    }

    fn quantity(o: &Value, ptr: &str) -> String {
        match o.pointer(ptr) {
            Some(Value::String(q)) => q.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => "0".into(),
        }
    }

    fn created_at() -> Col {
        b("Created At", "date", |o| {
            json!(meta_str(o, "creationTimestamp"))
        })
    }

    fn int_or_na(v: Option<&Value>) -> Value {
        match v {
            Some(Value::String(x)) => json!(x),
            Some(Value::Number(n)) => json!(n.to_string()),
            _ => json!("N/A"),
        }
    }

    fn service_external_ip(o: &Value) -> String {
        let ext = strs(o, "/spec/externalIPs");
        match o
            .pointer("/spec/type")
            .and_then(Value::as_str)
            .unwrap_or("ClusterIP")
        {
            "ClusterIP" | "NodePort" => {
                if ext.is_empty() {
                    "<none>".into()
                } else {
                    ext.join(",")
                }
            }
            "LoadBalancer" => {
                let lb = lb_status(o, "/status/loadBalancer/ingress");
                if !ext.is_empty() {
                    let mut r: Vec<String> = Vec::new();
                    if !lb.is_empty() {
                        r.extend(lb.split(',').map(str::to_string));
                    }
                    r.extend(ext);
                    r.join(",")
                } else if !lb.is_empty() {
                    lb
                } else {
                    "<pending>".into()
                }
            }
            "ExternalName" => s(o, "/spec/externalName").into(),
            _ => "<unknown>".into(),
        }
    }

    fn service_ports(o: &Value) -> String {
        let ports: Vec<String> = arr(o, "/spec/ports")
            .iter()
            .map(|p| {
                let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
                let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
                match p.get("nodePort").and_then(Value::as_i64).unwrap_or(0) {
                    0 => format!("{port}/{proto}"),
                    np => format!("{port}:{np}/{proto}"),
                }
            })
            .collect();
        if ports.is_empty() {
            "<none>".into()
        } else {
            ports.join(",")
        }
    }

    fn job_has(o: &Value, ty: &str) -> bool {
        arr(o, "/status/conditions")
            .iter()
            .any(|c| c["type"] == json!(ty) && c["status"] == json!("True"))
    }

    fn job_status(o: &Value) -> Value {
        let st = if job_has(o, "Complete") {
            "Complete"
        } else if job_has(o, "Failed") {
            "Failed"
        } else if o.pointer("/metadata/deletionTimestamp").is_some() {
            "Terminating"
        } else if job_has(o, "Suspended") {
            "Suspended"
        } else if job_has(o, "FailureTarget") {
            "FailureTarget"
        } else {
            "Running"
        };
        json!(st)
    }

    fn job_completions(o: &Value) -> Value {
        let ok = int(o, "/status/succeeded");
        if let Some(c) = o.pointer("/spec/completions").and_then(Value::as_i64) {
            return json!(format!("{ok}/{c}"));
        }
        match int(o, "/spec/parallelism") {
            p if p > 1 => json!(format!("{ok}/1 of {p}")),
            _ => json!(format!("{ok}/1")),
        }
    }

    fn job_duration(o: &Value) -> Value {
        let start = parse_rfc3339(s(o, "/status/startTime"));
        let end = parse_rfc3339(s(o, "/status/completionTime"));
        json!(match (start, end) {
            (None, _) => String::new(),
            (Some(st), None) => human_duration(crate::util::now_secs() - st),
            (Some(st), Some(e)) => human_duration(e - st),
        })
    }

    fn format_hosts(o: &Value) -> Value {
        let rules = arr(o, "/spec/rules");
        let mut list: Vec<&str> = Vec::new();
        let mut more = false;
        for r in rules {
            if list.len() == 3 {
                more = true;
            }
            let h = r.get("host").and_then(Value::as_str).unwrap_or("");
            if !more && !h.is_empty() {
                list.push(h);
            }
        }
        if list.is_empty() {
            return json!("*");
        }
        let ret = list.join(",");
        json!(if more {
            format!("{ret} + {} more...", rules.len() - 3)
        } else {
            ret
        })
    }

    fn event_times(o: &Value) -> (String, String, i64) {
        let first = match s(o, "/firstTimestamp") {
            "" => ts_age(o, "/eventTime"),
            _ => ts_age(o, "/firstTimestamp"),
        };
        let mut last = match s(o, "/lastTimestamp") {
            "" => first.clone(),
            _ => ts_age(o, "/lastTimestamp"),
        };
        let mut count = int(o, "/count");
        if o.get("series").is_some_and(|v| !v.is_null()) {
            last = ts_age(o, "/series/lastObservedTime");
            count = int(o, "/series/count");
        } else if count == 0 {
            count = 1;
        }
        (first, last, count)
    }

    fn endpoints(o: &Value) -> Value {
        let mut list: Vec<String> = Vec::new();
        let mut total = 0usize;
        let mut more = false;
        for ss in arr(o, "/subsets") {
            let ports = arr(ss, "/ports");
            for a in arr(ss, "/addresses") {
                let ip = a.get("ip").and_then(Value::as_str).unwrap_or("");
                if ports.is_empty() {
                    total += 1;
                    if list.len() < 3 {
                        list.push(ip.to_string());
                    } else {
                        more = true;
                    }
                }
                for p in ports {
                    total += 1;
                    if list.len() < 3 {
                        let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
                        list.push(format!("{ip}:{port}"));
                    } else {
                        more = true;
                    }
                }
            }
        }
        let mut ret = list.join(",");
        if more {
            ret = format!("{ret} + {} more...", total - 3);
        }
        or_none(ret)
    }

    fn quota(o: &Value, limits: bool) -> Value {
        let hard = o
            .pointer("/status/hard")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_else(Map::new);
        let mut keys: Vec<&String> = hard.keys().collect();
        keys.sort();
        let parts: Vec<String> = keys
            .into_iter()
            .filter(|k| {
                let p: Vec<&str> = k.split('.').collect();
                (p.len() > 1 && p[0] == "limits") == limits
            })
            .map(|k| {
                let esc = k.replace('~', "~0").replace('/', "~1");
                format!(
                    "{k}: {}/{}",
                    quantity(o, &format!("/status/used/{esc}")),
                    quantity(o, &format!("/status/hard/{esc}"))
                )
            })
            .collect();
        json!(parts.join(", "))
    }

    fn unknown(v: &str) -> Value {
        json!(if v.is_empty() { "<unknown>" } else { v })
    }

    fn node_address(o: &Value, ty: &str) -> Value {
        json!(
            arr(o, "/status/addresses")
                .iter()
                .find(|a| a["type"] == json!(ty))
                .and_then(|a| a["address"].as_str())
                .unwrap_or("<none>")
        )
    }

    /// One HPA metric as `current/target`, following kubectl's formatting per source type.
    fn hpa_metric(spec: &Value, status: Option<&Value>) -> String {
        let q = |v: &Value| match v {
            Value::String(x) => x.clone(),
            Value::Number(n) => n.to_string(),
            _ => "0".into(),
        };
        let ty = spec["type"].as_str().unwrap_or("");
        let key = match ty {
            "External" => "external",
            "Pods" => "pods",
            "Object" => "object",
            "Resource" => "resource",
            "ContainerResource" => "containerResource",
            _ => return "<unknown type>".into(),
        };
        let sp = &spec[key];
        let st = status.map(|s| &s[key]).filter(|v| v.is_object());
        let target = &sp["target"];
        let current = &st.map(|s| &s["current"]).cloned().unwrap_or(Value::Null);
        match ty {
            "External" | "Object" => {
                if !target["averageValue"].is_null() {
                    let cur = match &current["averageValue"] {
                        Value::Null => "<unknown>".into(),
                        v => q(v),
                    };
                    format!("{cur}/{} (avg)", q(&target["averageValue"]))
                } else {
                    let cur = if st.is_some() {
                        q(&current["value"])
                    } else {
                        "<unknown>".into()
                    };
                    format!("{cur}/{}", q(&target["value"]))
                }
            }
            "Pods" => {
                let cur = if st.is_some() {
                    q(&current["averageValue"])
                } else {
                    "<unknown>".into()
                };
                format!("{cur}/{}", q(&target["averageValue"]))
            }
            _ => {
                let name = sp["name"].as_str().unwrap_or("");
                if !target["averageValue"].is_null() {
                    let cur = if st.is_some() {
                        q(&current["averageValue"])
                    } else {
                        "<unknown>".into()
                    };
                    format!("{name}: {cur}/{}", q(&target["averageValue"]))
                } else {
                    let cur = match current["averageUtilization"].as_i64() {
                        Some(u) => format!("{u}%"),
                        None => "<unknown>".into(),
                    };
                    let tgt = match target["averageUtilization"].as_i64() {
                        Some(u) => format!("{u}%"),
                        None => "<auto>".into(),
                    };
                    format!("{name}: {cur}/{tgt}")
                }
            }
        }
    }

    fn hpa_metrics(o: &Value) -> Value {
        let specs = arr(o, "/spec/metrics");
        if specs.is_empty() {
            return json!("<none>");
        }
        let statuses = arr(o, "/status/currentMetrics");
        let list: Vec<String> = specs
            .iter()
            .enumerate()
            .map(|(i, sp)| hpa_metric(sp, statuses.get(i)))
            .collect();
        json!(if list.len() > 2 {
            format!("{} + {} more...", list[..2].join(", "), list.len() - 2)
        } else {
            list.join(", ")
        })
    }

    pub(super) fn columns(group: &str, plural: &str) -> Option<Vec<Col>> {
        let mut cols = vec![name()];
        match (group, plural) {
            ("", "services") => {
                cols.push(b("Type", "string", |o| {
                    json!(
                        o.pointer("/spec/type")
                            .and_then(Value::as_str)
                            .unwrap_or("ClusterIP")
                    )
                }));
                cols.push(b("Cluster-IP", "string", |o| {
                    or_none(match s(o, "/spec/clusterIPs/0") {
                        "" => s(o, "/spec/clusterIP").into(),
                        ip => ip.into(),
                    })
                }));
                cols.push(b("External-IP", "string", |o| {
                    json!(service_external_ip(o))
                }));
                cols.push(b("Port(s)", "string", |o| json!(service_ports(o))));
                cols.push(age_col());
                cols.push(wide(b("Selector", "string", |o| {
                    or_none(labels(o.pointer("/spec/selector")))
                })));
            }
            ("apps", "replicasets") => {
                cols.push(b("Desired", "integer", |o| json!(int(o, "/spec/replicas"))));
                cols.push(b("Current", "integer", |o| {
                    json!(int(o, "/status/replicas"))
                }));
                cols.push(b("Ready", "integer", |o| {
                    json!(int(o, "/status/readyReplicas"))
                }));
                cols.push(age_col());
                template_wide(&mut cols, true);
            }
            ("apps", "statefulsets") => {
                cols.push(b("Ready", "string", |o| {
                    json!(format!(
                        "{}/{}",
                        int(o, "/status/readyReplicas"),
                        o.pointer("/spec/replicas")
                            .and_then(Value::as_i64)
                            .unwrap_or(1)
                    ))
                }));
                cols.push(age_col());
                template_wide(&mut cols, false);
            }
            ("apps", "daemonsets") => {
                cols.push(b("Desired", "integer", |o| {
                    json!(int(o, "/status/desiredNumberScheduled"))
                }));
                cols.push(b("Current", "integer", |o| {
                    json!(int(o, "/status/currentNumberScheduled"))
                }));
                cols.push(b("Ready", "integer", |o| {
                    json!(int(o, "/status/numberReady"))
                }));
                cols.push(b("Up-to-date", "integer", |o| {
                    json!(int(o, "/status/updatedNumberScheduled"))
                }));
                cols.push(b("Available", "integer", |o| {
                    json!(int(o, "/status/numberAvailable"))
                }));
                cols.push(b("Node Selector", "string", |o| {
                    or_none(labels(o.pointer("/spec/template/spec/nodeSelector")))
                }));
                cols.push(age_col());
                template_wide(&mut cols, true);
            }
            ("batch", "jobs") => {
                cols.push(b("Status", "string", job_status));
                cols.push(b("Completions", "string", job_completions));
                cols.push(b("Duration", "string", job_duration));
                cols.push(age_col());
                template_wide(&mut cols, true);
            }
            ("batch", "cronjobs") => {
                cols.push(b("Schedule", "string", |o| json!(s(o, "/spec/schedule"))));
                cols.push(b("Timezone", "string", |o| {
                    or_none(s(o, "/spec/timeZone").into())
                }));
                cols.push(b("Suspend", "boolean", |o| {
                    // Upstream defaults `suspend` to false.
                    json!(match o.pointer("/spec/suspend").and_then(Value::as_bool) {
                        Some(true) => "True",
                        _ => "False",
                    })
                }));
                cols.push(b("Active", "integer", |o| {
                    json!(arr(o, "/status/active").len())
                }));
                cols.push(b("Last Schedule", "date", |o| {
                    match s(o, "/status/lastScheduleTime") {
                        "" => json!("<none>"),
                        t => json!(age(t)),
                    }
                }));
                cols.push(age_col());
                cols.push(wide(b("Containers", "string", |o| {
                    containers(o, CRONJOB_TEMPLATE).0
                })));
                cols.push(wide(b("Images", "string", |o| {
                    containers(o, CRONJOB_TEMPLATE).1
                })));
                cols.push(wide(b("Selector", "string", |o| {
                    or_none(selector(o.pointer("/spec/jobTemplate/spec/selector")))
                })));
            }
            ("networking.k8s.io", "ingresses") => {
                cols.push(b("Class", "string", |o| {
                    or_none(s(o, "/spec/ingressClassName").into())
                }));
                cols.push(b("Hosts", "string", format_hosts));
                cols.push(b("Address", "string", |o| {
                    json!(lb_status(o, "/status/loadBalancer/ingress"))
                }));
                cols.push(b("Ports", "string", |o| {
                    json!(if arr(o, "/spec/tls").is_empty() {
                        "80"
                    } else {
                        "80, 443"
                    })
                }));
                cols.push(age_col());
            }
            ("", "events") => {
                return Some(vec![
                    b("Last Seen", "string", |o| json!(event_times(o).1)),
                    b("Type", "string", |o| json!(s(o, "/type"))),
                    b("Reason", "string", |o| json!(s(o, "/reason"))),
                    b("Object", "string", |o| {
                        let kind = s(o, "/involvedObject/kind").to_lowercase();
                        json!(match s(o, "/involvedObject/name") {
                            "" => kind,
                            n => format!("{kind}/{n}"),
                        })
                    }),
                    wide(b("Subobject", "string", |o| {
                        json!(s(o, "/involvedObject/fieldPath"))
                    })),
                    wide(b("Source", "string", |o| {
                        let comp = match s(o, "/source/component") {
                            "" => s(o, "/reportingComponent"),
                            c => c,
                        };
                        let inst = match s(o, "/source/host") {
                            "" => s(o, "/reportingInstance"),
                            h => h,
                        };
                        json!(match inst {
                            "" => comp.to_string(),
                            i => format!("{comp}, {i}"),
                        })
                    })),
                    b("Message", "string", |o| json!(s(o, "/message").trim())),
                    wide(b("First Seen", "string", |o| json!(event_times(o).0))),
                    wide(b("Count", "string", |o| json!(event_times(o).2))),
                    wide(col("Name", "string", Source::Name)),
                ]);
            }
            ("", "persistentvolumeclaims") => {
                cols.push(b("Status", "string", |o| {
                    if o.pointer("/metadata/deletionTimestamp").is_some() {
                        return json!("Terminating");
                    }
                    // Upstream defaults the phase to Pending.
                    json!(match s(o, "/status/phase") {
                        "" => "Pending",
                        p => p,
                    })
                }));
                cols.push(b("Volume", "string", |o| json!(s(o, "/spec/volumeName"))));
                cols.push(b("Capacity", "string", |o| {
                    json!(match s(o, "/spec/volumeName") {
                        "" => String::new(),
                        _ => s(o, "/status/capacity/storage").to_string(),
                    })
                }));
                cols.push(b("Access Modes", "string", |o| {
                    json!(match s(o, "/spec/volumeName") {
                        "" => String::new(),
                        _ => access_modes(o, "/status/accessModes"),
                    })
                }));
                cols.push(b("StorageClass", "string", |o| {
                    let ann = s(
                        o,
                        "/metadata/annotations/volume.beta.kubernetes.io~1storage-class",
                    );
                    json!(if ann.is_empty() {
                        s(o, "/spec/storageClassName")
                    } else {
                        ann
                    })
                }));
                cols.push(b("VolumeAttributesClass", "string", |o| {
                    json!(match s(o, "/spec/volumeAttributesClassName") {
                        "" => "<unset>",
                        c => c,
                    })
                }));
                cols.push(age_col());
                cols.push(wide(b("VolumeMode", "string", |o| {
                    // Upstream defaults the volume mode to Filesystem.
                    json!(match s(o, "/spec/volumeMode") {
                        "" => "Filesystem",
                        m => m,
                    })
                })));
            }
            ("", "persistentvolumes") => {
                cols.push(b("Capacity", "string", |o| {
                    json!(s(o, "/spec/capacity/storage"))
                }));
                cols.push(b("Access Modes", "string", |o| {
                    json!(access_modes(o, "/spec/accessModes"))
                }));
                cols.push(b("Reclaim Policy", "string", |o| {
                    json!(match s(o, "/spec/persistentVolumeReclaimPolicy") {
                        "" => "Retain",
                        p => p,
                    })
                }));
                cols.push(b("Status", "string", |o| {
                    if o.pointer("/metadata/deletionTimestamp").is_some() {
                        return json!("Terminating");
                    }
                    json!(match s(o, "/status/phase") {
                        "" => "Pending",
                        p => p,
                    })
                }));
                cols.push(b("Claim", "string", |o| {
                    json!(match s(o, "/spec/claimRef/name") {
                        "" => String::new(),
                        n => format!("{}/{n}", s(o, "/spec/claimRef/namespace")),
                    })
                }));
                cols.push(b("StorageClass", "string", |o| {
                    let ann = s(
                        o,
                        "/metadata/annotations/volume.beta.kubernetes.io~1storage-class",
                    );
                    json!(if ann.is_empty() {
                        s(o, "/spec/storageClassName")
                    } else {
                        ann
                    })
                }));
                cols.push(b("VolumeAttributesClass", "string", |o| {
                    json!(match s(o, "/spec/volumeAttributesClassName") {
                        "" => "<unset>",
                        c => c,
                    })
                }));
                cols.push(b("Reason", "string", |o| json!(s(o, "/status/reason"))));
                cols.push(age_col());
                cols.push(wide(b("VolumeMode", "string", |o| {
                    json!(match s(o, "/spec/volumeMode") {
                        "" => "Filesystem",
                        m => m,
                    })
                })));
            }
            ("", "endpoints") => {
                cols.push(b("Endpoints", "string", endpoints));
                cols.push(age_col());
            }
            ("rbac.authorization.k8s.io", "roles" | "clusterroles") | ("", "limitranges") => {
                cols.push(created_at());
            }
            ("networking.k8s.io", "networkpolicies") => {
                cols.push(b("Pod-Selector", "string", |o| {
                    or_none(selector(o.pointer("/spec/podSelector")))
                }));
                cols.push(age_col());
            }
            ("policy", "poddisruptionbudgets") => {
                cols.push(b("Min Available", "string", |o| {
                    int_or_na(o.pointer("/spec/minAvailable"))
                }));
                cols.push(b("Max Unavailable", "string", |o| {
                    int_or_na(o.pointer("/spec/maxUnavailable"))
                }));
                cols.push(b("Allowed Disruptions", "integer", |o| {
                    json!(int(o, "/status/disruptionsAllowed"))
                }));
                cols.push(age_col());
            }
            ("storage.k8s.io", "storageclasses") => {
                cols[0] = b("Name", "string", |o| {
                    let n = meta_str(o, "name");
                    let def = [
                        "storageclass.kubernetes.io~1is-default-class",
                        "storageclass.beta.kubernetes.io~1is-default-class",
                    ]
                    .iter()
                    .any(|a| s(o, &format!("/metadata/annotations/{a}")) == "true");
                    json!(if def {
                        format!("{n} (default)")
                    } else {
                        n.to_string()
                    })
                });
                cols.push(b("Provisioner", "string", |o| json!(s(o, "/provisioner"))));
                cols.push(b("ReclaimPolicy", "string", |o| {
                    json!(match s(o, "/reclaimPolicy") {
                        "" => "Delete",
                        p => p,
                    })
                }));
                cols.push(b("VolumeBindingMode", "string", |o| {
                    json!(match s(o, "/volumeBindingMode") {
                        "" => "Immediate",
                        m => m,
                    })
                }));
                cols.push(b("AllowVolumeExpansion", "string", |o| {
                    json!(
                        o.get("allowVolumeExpansion")
                            .and_then(Value::as_bool)
                            .unwrap_or(false)
                    )
                }));
                cols.push(age_col());
            }
            ("", "resourcequotas") => {
                cols.push(age_col());
                cols.push(b("Request", "string", |o| quota(o, false)));
                cols.push(b("Limit", "string", |o| quota(o, true)));
            }
            ("", "nodes") => {
                cols.push(b("Status", "string", |o| {
                    let ready = arr(o, "/status/conditions")
                        .iter()
                        .rev()
                        .find(|c| c["type"] == json!("Ready"));
                    let mut st = vec![match ready {
                        Some(c) if c["status"] == json!("True") => "Ready",
                        Some(_) => "NotReady",
                        None => "Unknown",
                    }];
                    if o.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
                        st.push("SchedulingDisabled");
                    }
                    json!(st.join(","))
                }));
                cols.push(b("Roles", "string", |o| {
                    let mut roles: Vec<String> = Vec::new();
                    if let Some(Value::Object(m)) = o.pointer("/metadata/labels") {
                        for (k, v) in m {
                            let v = v.as_str().unwrap_or("");
                            let role = match k.strip_prefix("node-role.kubernetes.io/") {
                                Some(r) => r,
                                None if k == "kubernetes.io/role" => v,
                                None => "",
                            };
                            if !role.is_empty() && !roles.iter().any(|r| r == role) {
                                roles.push(role.to_string());
                            }
                        }
                    }
                    roles.sort();
                    or_none(roles.join(","))
                }));
                cols.push(age_col());
                cols.push(b("Version", "string", |o| {
                    json!(s(o, "/status/nodeInfo/kubeletVersion"))
                }));
                cols.push(wide(b("Internal-IP", "string", |o| {
                    node_address(o, "InternalIP")
                })));
                cols.push(wide(b("External-IP", "string", |o| {
                    node_address(o, "ExternalIP")
                })));
                cols.push(wide(b("OS-Image", "string", |o| {
                    unknown(s(o, "/status/nodeInfo/osImage"))
                })));
                cols.push(wide(b("Kernel-Version", "string", |o| {
                    unknown(s(o, "/status/nodeInfo/kernelVersion"))
                })));
                cols.push(wide(b("Container-Runtime", "string", |o| {
                    unknown(s(o, "/status/nodeInfo/containerRuntimeVersion"))
                })));
            }
            ("autoscaling", "horizontalpodautoscalers") => {
                cols.push(b("Reference", "string", |o| {
                    json!(format!(
                        "{}/{}",
                        s(o, "/spec/scaleTargetRef/kind"),
                        s(o, "/spec/scaleTargetRef/name")
                    ))
                }));
                cols.push(b("Targets", "string", hpa_metrics));
                cols.push(b("MinPods", "string", |o| {
                    json!(
                        match o.pointer("/spec/minReplicas").and_then(Value::as_i64) {
                            Some(n) => n.to_string(),
                            None => "<unset>".into(),
                        }
                    )
                }));
                cols.push(b("MaxPods", "string", |o| {
                    json!(int(o, "/spec/maxReplicas"))
                }));
                cols.push(b("Replicas", "string", |o| {
                    json!(int(o, "/status/currentReplicas"))
                }));
                cols.push(age_col());
            }
            ("scheduling.k8s.io", "priorityclasses") => {
                cols.push(b("Value", "integer", |o| json!(int(o, "/value"))));
                cols.push(b("Global-Default", "boolean", |o| {
                    json!(
                        o.get("globalDefault")
                            .and_then(Value::as_bool)
                            .unwrap_or(false)
                    )
                }));
                cols.push(age_col());
                cols.push(b("PreemptionPolicy", "string", |o| {
                    // Upstream defaults the policy to PreemptLowerPriority.
                    json!(match s(o, "/preemptionPolicy") {
                        "" => "PreemptLowerPriority",
                        p => p,
                    })
                }));
            }
            _ => return None,
        }
        Some(cols)
    }
}

/// The STATUS cell of a pod as kubectl prints it: a container's waiting or terminated reason
/// wins over the phase; `Terminating` once deletion started.
fn pod_status_cell(o: &Value) -> Value {
    if o.pointer("/metadata/deletionTimestamp").is_some() {
        return json!("Terminating");
    }
    let mut reason = o
        .pointer("/status/reason")
        .or_else(|| o.pointer("/status/phase"))
        .and_then(Value::as_str)
        .unwrap_or("Pending")
        .to_string();
    if let Some(cs) = o
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
    {
        for c in cs.iter().rev() {
            if let Some(r) = c.pointer("/state/waiting/reason").and_then(Value::as_str) {
                reason = r.to_string();
            } else if let Some(r) = c
                .pointer("/state/terminated/reason")
                .and_then(Value::as_str)
            {
                reason = r.to_string();
            }
        }
    }
    json!(reason)
}
