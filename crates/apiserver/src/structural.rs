//! Structural OpenAPI schemas: the CRD admission check, pruning of unknown fields (CRD schemas
//! and the embedded built-in definitions), defaulting and value validation.

use crate::error::{Cause, cause};
use regex::Regex;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn flag(s: &Value, k: &str) -> bool {
    s.get(k).and_then(Value::as_bool).unwrap_or(false)
}

/// Prunes fields a CRD schema does not declare from a custom resource; returns their paths.
/// `root` keeps `apiVersion`, `kind` and standard `metadata`.
pub fn prune(schema: &Value, obj: &mut Value, root: bool) -> Vec<String> {
    let mut out = Vec::new();
    if root && let Some(m) = obj.as_object_mut() {
        if let Some(meta) = m.get_mut("metadata") {
            prune_def(OBJECT_META, meta, "metadata", &mut out, 0);
        }
        let mut props = schema
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for k in ["apiVersion", "kind", "metadata"] {
            props.insert(k.into(), Value::Bool(true));
        }
        prune_object(schema, &props, m, "", &mut out);
        return out;
    }
    prune_node(schema, obj, "", &mut out);
    out
}

fn prune_object(
    schema: &Value,
    props: &Map<String, Value>,
    m: &mut Map<String, Value>,
    path: &str,
    out: &mut Vec<String>,
) {
    let preserve = flag(schema, "x-kubernetes-preserve-unknown-fields");
    let additional = schema.get("additionalProperties");
    let keys: Vec<String> = m.keys().cloned().collect();
    for k in keys {
        let p = join(path, &k);
        if let Some(ps) = props.get(&k) {
            if ps.is_object()
                && let Some(v) = m.get_mut(&k)
            {
                prune_node(ps, v, &p, out);
            }
        } else if let Some(a) = additional.filter(|a| a.is_object()) {
            if let Some(v) = m.get_mut(&k) {
                prune_node(a, v, &p, out);
            }
        } else if !(preserve || additional == Some(&Value::Bool(true))) {
            m.remove(&k);
            out.push(p);
        }
    }
}

fn prune_node(schema: &Value, v: &mut Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if flag(schema, "x-kubernetes-embedded-resource") {
                if let Some(meta) = m.get_mut("metadata") {
                    prune_def(OBJECT_META, meta, &join(path, "metadata"), out, 0);
                }
                let mut props = schema
                    .get("properties")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                for k in ["apiVersion", "kind", "metadata"] {
                    props.insert(k.into(), Value::Bool(true));
                }
                prune_object(schema, &props, m, path, out);
                return;
            }
            let props = schema
                .get("properties")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            if props.is_empty()
                && schema.get("additionalProperties").is_none()
                && schema.get("type").is_none()
            {
                return;
            }
            prune_object(schema, &props, m, path, out);
        }
        Value::Array(a) => {
            if let Some(items) = schema.get("items").filter(|i| i.is_object()) {
                for (i, e) in a.iter_mut().enumerate() {
                    prune_node(items, e, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

/// Prunes a built-in object against its embedded definition; returns unknown field paths.
pub fn prune_builtin(def: &str, obj: &mut Value) -> Vec<String> {
    let mut out = Vec::new();
    prune_def(def, obj, "", &mut out, 0);
    out
}

/// The first field of a built-in object whose JSON type does not match its definition, as
/// `(path, expected type, actual type)`: what decoding into the Go type would reject.
pub fn type_mismatch_builtin(def: &str, obj: &Value) -> Option<(String, String, &'static str)> {
    let s = crate::openapi::definitions().get(def)?;
    mismatch(s, obj, "", 0)
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Null => "null",
    }
}

fn mismatch(
    s: &Value,
    v: &Value,
    path: &str,
    depth: usize,
) -> Option<(String, String, &'static str)> {
    if depth > 64 || v.is_null() {
        return None;
    }
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/components/schemas/")?;
        return mismatch(crate::openapi::definitions().get(name)?, v, path, depth + 1);
    }
    if s.get("format").and_then(Value::as_str) == Some("int-or-string")
        || flag(s, "x-kubernetes-int-or-string")
    {
        return if v.is_string() || v.is_number() {
            None
        } else {
            Some((path.into(), "int-or-string".into(), json_type(v)))
        };
    }
    if let Some(t) = s.get("type").and_then(Value::as_str)
        && !type_ok(t, v)
    {
        return Some((path.into(), t.into(), json_type(v)));
    }
    match v {
        Value::Object(m) => {
            if let Some(props) = s.get("properties").and_then(Value::as_object) {
                for (k, c) in m {
                    if let Some(ps) = props.get(k)
                        && let Some(e) = mismatch(ps, c, &join(path, k), depth + 1)
                    {
                        return Some(e);
                    }
                }
            } else if let Some(a) = s.get("additionalProperties").filter(|a| a.is_object()) {
                for (k, c) in m {
                    if let Some(e) = mismatch(a, c, &join(path, k), depth + 1) {
                        return Some(e);
                    }
                }
            }
            None
        }
        Value::Array(arr) => {
            let items = s.get("items")?;
            arr.iter()
                .enumerate()
                .find_map(|(i, e)| mismatch(items, e, &format!("{path}[{i}]"), depth + 1))
        }
        _ => None,
    }
}

fn prune_def(def: &str, v: &mut Value, path: &str, out: &mut Vec<String>, depth: usize) {
    if let Some(s) = crate::openapi::definitions().get(def) {
        prune_defs_node(s, v, path, out, depth);
    }
}

fn prune_defs_node(s: &Value, v: &mut Value, path: &str, out: &mut Vec<String>, depth: usize) {
    if depth > 64 {
        return;
    }
    if let Some(r) = s.get("$ref").and_then(Value::as_str)
        && let Some(name) = r.strip_prefix("#/components/schemas/")
    {
        prune_def(name, v, path, out, depth + 1);
        return;
    }
    if let Some(a) = s.get("allOf").and_then(Value::as_array)
        && a.len() == 1
    {
        prune_defs_node(&a[0], v, path, out, depth + 1);
        return;
    }
    match v {
        Value::Object(m) => {
            if flag(s, "x-kubernetes-preserve-unknown-fields") {
                return;
            }
            if let Some(props) = s.get("properties").and_then(Value::as_object) {
                let keys: Vec<String> = m.keys().cloned().collect();
                for k in keys {
                    let p = join(path, &k);
                    match props.get(&k) {
                        Some(ps) => {
                            if let Some(val) = m.get_mut(&k) {
                                prune_defs_node(ps, val, &p, out, depth + 1);
                            }
                        }
                        None => {
                            m.remove(&k);
                            out.push(p);
                        }
                    }
                }
            } else if let Some(a) = s.get("additionalProperties").filter(|a| a.is_object()) {
                for (k, val) in m.iter_mut() {
                    prune_defs_node(a, val, &join(path, k), out, depth + 1);
                }
            }
        }
        Value::Array(arr) => {
            if let Some(items) = s.get("items") {
                for (i, e) in arr.iter_mut().enumerate() {
                    prune_defs_node(items, e, &format!("{path}[{i}]"), out, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// Fills `default`s of absent fields, recursively (objects, items, additionalProperties).
pub fn default_values(schema: &Value, v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (k, ps) in props {
                    let nullable = flag(ps, "nullable");
                    if let Some(d) = ps.get("default") {
                        match m.get(k) {
                            None => {
                                m.insert(k.clone(), d.clone());
                            }
                            Some(Value::Null) if !nullable => {
                                m.insert(k.clone(), d.clone());
                            }
                            _ => {}
                        }
                    }
                    if let Some(child) = m.get_mut(k) {
                        default_values(ps, child);
                    }
                }
            }
            if let Some(a) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                for child in m.values_mut() {
                    default_values(a, child);
                }
            }
        }
        Value::Array(arr) => {
            if let Some(items) = schema.get("items").filter(|i| i.is_object()) {
                for e in arr.iter_mut() {
                    default_values(items, e);
                }
            }
        }
        _ => {}
    }
}

fn render(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

fn regex(p: &str) -> Option<Regex> {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<Regex>>>> = OnceLock::new();
    let mut c = CACHE.get_or_init(Default::default).lock().ok()?;
    c.entry(p.to_string())
        .or_insert_with(|| Regex::new(p).ok())
        .clone()
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        _ => true,
    }
}

fn format_ok(f: &str, s: &str) -> bool {
    match f {
        "date-time" => crate::util::parse_rfc3339(s).is_some(),
        "date" => s.len() == 10 && crate::util::parse_rfc3339(&format!("{s}T00:00:00Z")).is_some(),
        "uuid" => uuid::Uuid::parse_str(s).is_ok(),
        "ipv4" => s.parse::<std::net::Ipv4Addr>().is_ok(),
        "ipv6" => s.parse::<std::net::Ipv6Addr>().is_ok(),
        "byte" => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.decode(s).is_ok()
        }
        _ => true,
    }
}

/// Validates a custom resource against its schema; returns the failures as 422 causes.
pub fn validate(schema: &Value, obj: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(m) = obj.as_object() {
        let mut root = schema.clone();
        if let Some(props) = root.get_mut("properties").and_then(Value::as_object_mut) {
            // metadata/apiVersion/kind are validated by the generic path.
            props.remove("metadata");
            props.remove("apiVersion");
            props.remove("kind");
        }
        let mut copy = m.clone();
        copy.remove("metadata");
        copy.remove("apiVersion");
        copy.remove("kind");
        check(&root, &Value::Object(copy), "", &mut out);
    }
    out
}

fn check(s: &Value, v: &Value, path: &str, out: &mut Vec<Cause>) {
    let field = path.to_string();
    let invalid = |out: &mut Vec<Cause>, msg: String| {
        out.push(cause(
            "FieldValueInvalid",
            &field,
            format!("Invalid value: {}: {msg}", render(v)),
        ));
    };
    if v.is_null() {
        if !flag(s, "nullable")
            && s.get("type").is_some()
            && !flag(s, "x-kubernetes-preserve-unknown-fields")
        {
            let t = s["type"].as_str().unwrap_or("");
            out.push(cause(
                "FieldValueTypeInvalid",
                &field,
                format!("Invalid value: \"null\": {path} in body must be of type {t}: \"null\""),
            ));
        }
        return;
    }
    if flag(s, "x-kubernetes-int-or-string") {
        if !(v.is_string() || type_ok("integer", v)) {
            invalid(
                out,
                format!(
                    "{path} in body must be of type integer,string: {}",
                    render(v)
                ),
            );
            return;
        }
    } else if let Some(t) = s.get("type").and_then(Value::as_str)
        && !type_ok(t, v)
    {
        let actual = match v {
            Value::String(_) => "string",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
            Value::Null => "null",
        };
        out.push(cause(
            "FieldValueTypeInvalid",
            &field,
            format!(
                "Invalid value: \"{actual}\": {path} in body must be of type {t}: \"{actual}\""
            ),
        ));
        return;
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        let supported: Vec<String> = e.iter().map(render).collect();
        out.push(cause(
            "FieldValueNotSupported",
            &field,
            format!(
                "Unsupported value: {}: supported values: {}",
                render(v),
                supported.join(", ")
            ),
        ));
    }
    match v {
        Value::String(st) => {
            let len = st.chars().count() as u64;
            if let Some(max) = s.get("maxLength").and_then(Value::as_u64)
                && len > max
            {
                out.push(cause(
                    "FieldValueTooLong",
                    &field,
                    format!("Too long: may not be more than {max} bytes"),
                ));
            }
            if let Some(min) = s.get("minLength").and_then(Value::as_u64)
                && len < min
            {
                invalid(
                    out,
                    format!("{path} in body should be at least {min} chars long"),
                );
            }
            if let Some(p) = s.get("pattern").and_then(Value::as_str)
                && let Some(re) = regex(p)
                && !re.is_match(st)
            {
                invalid(out, format!("{path} in body should match '{p}'"));
            }
            if let Some(f) = s.get("format").and_then(Value::as_str)
                && !format_ok(f, st)
            {
                invalid(
                    out,
                    format!("{path} in body must be of type {f}: {}", render(v)),
                );
            }
        }
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(0.0);
            if let Some(max) = s.get("maximum").and_then(Value::as_f64) {
                let excl = flag(s, "exclusiveMaximum");
                if x > max || (excl && x >= max) {
                    let rel = if excl {
                        "less than"
                    } else {
                        "less than or equal to"
                    };
                    invalid(out, format!("{path} in body should be {rel} {max}"));
                }
            }
            if let Some(min) = s.get("minimum").and_then(Value::as_f64) {
                let excl = flag(s, "exclusiveMinimum");
                if x < min || (excl && x <= min) {
                    let rel = if excl {
                        "greater than"
                    } else {
                        "greater than or equal to"
                    };
                    invalid(out, format!("{path} in body should be {rel} {min}"));
                }
            }
            if let Some(m) = s.get("multipleOf").and_then(Value::as_f64)
                && m > 0.0
                && (x / m).fract() != 0.0
            {
                invalid(out, format!("{path} in body should be a multiple of {m}"));
            }
        }
        Value::Array(a) => {
            if let Some(max) = s.get("maxItems").and_then(Value::as_u64)
                && a.len() as u64 > max
            {
                out.push(cause(
                    "FieldValueTooMany",
                    &field,
                    format!("Too many: {}: must have at most {max} items", a.len()),
                ));
            }
            if let Some(min) = s.get("minItems").and_then(Value::as_u64)
                && (a.len() as u64) < min
            {
                invalid(
                    out,
                    format!("{path} in body should have at least {min} items"),
                );
            }
            let list_type = s.get("x-kubernetes-list-type").and_then(Value::as_str);
            if flag(s, "uniqueItems") || list_type == Some("set") {
                for (i, e) in a.iter().enumerate() {
                    if a[..i].contains(e) {
                        out.push(cause(
                            "FieldValueDuplicate",
                            &format!("{path}[{i}]"),
                            format!("Duplicate value: {}", render(e)),
                        ));
                    }
                }
            }
            if list_type == Some("map")
                && let Some(keys) = s
                    .get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
            {
                let key_of = |e: &Value| {
                    keys.iter()
                        .map(|k| {
                            e.get(k.as_str().unwrap_or(""))
                                .cloned()
                                .unwrap_or(Value::Null)
                        })
                        .collect::<Vec<_>>()
                };
                for (i, e) in a.iter().enumerate() {
                    let k = key_of(e);
                    if a[..i].iter().any(|x| key_of(x) == k) {
                        let shown: Map<String, Value> = keys
                            .iter()
                            .filter_map(|kk| kk.as_str())
                            .zip(k.iter())
                            .map(|(a, b)| (a.to_string(), b.clone()))
                            .collect();
                        out.push(cause(
                            "FieldValueDuplicate",
                            &format!("{path}[{i}]"),
                            format!("Duplicate value: {}", Value::Object(shown)),
                        ));
                    }
                }
            }
            if let Some(items) = s.get("items").filter(|i| i.is_object()) {
                for (i, e) in a.iter().enumerate() {
                    check(items, e, &format!("{path}[{i}]"), out);
                }
            }
        }
        Value::Object(m) => {
            if let Some(req) = s.get("required").and_then(Value::as_array) {
                for r in req.iter().filter_map(Value::as_str) {
                    if !m.contains_key(r) {
                        out.push(cause(
                            "FieldValueRequired",
                            &join(path, r),
                            "Required value",
                        ));
                    }
                }
            }
            if let Some(max) = s.get("maxProperties").and_then(Value::as_u64)
                && m.len() as u64 > max
            {
                out.push(cause(
                    "FieldValueTooMany",
                    &field,
                    format!("Too many: {}: must have at most {max} items", m.len()),
                ));
            }
            if let Some(min) = s.get("minProperties").and_then(Value::as_u64)
                && (m.len() as u64) < min
            {
                invalid(
                    out,
                    format!("{path} in body should have at least {min} properties"),
                );
            }
            let props = s.get("properties").and_then(Value::as_object);
            let additional = s.get("additionalProperties").filter(|a| a.is_object());
            for (k, child) in m {
                if let Some(ps) = props.and_then(|p| p.get(k)) {
                    check(ps, child, &join(path, k), out);
                } else if let Some(a) = additional {
                    check(a, child, &join(path, k), out);
                }
            }
        }
        _ => {}
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        for sub in all {
            check(sub, v, path, out);
        }
    }
    if let Some(any) = s.get("anyOf").and_then(Value::as_array)
        && !any.iter().any(|sub| {
            let mut o = Vec::new();
            check(sub, v, path, &mut o);
            o.is_empty()
        })
    {
        invalid(
            out,
            format!("{path} in body must match at least one schema (anyOf)"),
        );
    }
    if let Some(one) = s.get("oneOf").and_then(Value::as_array) {
        let n = one
            .iter()
            .filter(|sub| {
                let mut o = Vec::new();
                check(sub, v, path, &mut o);
                o.is_empty()
            })
            .count();
        if n != 1 {
            invalid(
                out,
                format!("{path} in body must match exactly one schema (oneOf)"),
            );
        }
    }
    if let Some(not) = s.get("not") {
        let mut o = Vec::new();
        check(not, v, path, &mut o);
        if o.is_empty() {
            invalid(
                out,
                format!("{path} in body must not match the schema (not)"),
            );
        }
    }
}

/// Checks that a CRD version schema is structural; `base` is the field path of the schema.
pub fn check_structural(schema: &Value, base: &str) -> Vec<Cause> {
    let mut out = Vec::new();
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        out.push(cause(
            "FieldValueInvalid",
            &format!("{base}.type"),
            "Invalid value: \"\": must be object at the root",
        ));
    }
    structural_node(schema, base, &mut out, false);
    out
}

fn structural_node(s: &Value, path: &str, out: &mut Vec<Cause>, in_junctor: bool) {
    let Some(m) = s.as_object() else { return };
    if m.contains_key("$ref") {
        out.push(cause(
            "FieldValueForbidden",
            &format!("{path}.$ref"),
            "Forbidden: $ref is not allowed in structural schemas",
        ));
    }
    let exempt =
        flag(s, "x-kubernetes-int-or-string") || flag(s, "x-kubernetes-preserve-unknown-fields");
    if !in_junctor
        && !exempt
        && m.get("type")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        out.push(cause(
            "FieldValueRequired",
            &format!("{path}.type"),
            "Required value: must not be empty for specified object fields",
        ));
    }
    if m.contains_key("properties")
        && m.get("additionalProperties")
            .is_some_and(|a| a != &Value::Bool(false))
    {
        out.push(cause(
            "FieldValueForbidden",
            &format!("{path}.additionalProperties"),
            "Forbidden: additionalProperties and properties are mutual exclusive",
        ));
    }
    if let Some(props) = m.get("properties").and_then(Value::as_object) {
        for (k, c) in props {
            structural_node(c, &format!("{path}.properties[{k}]"), out, in_junctor);
        }
    }
    if let Some(items) = m.get("items") {
        structural_node(items, &format!("{path}.items"), out, in_junctor);
    }
    if let Some(a) = m.get("additionalProperties").filter(|a| a.is_object()) {
        structural_node(a, &format!("{path}.additionalProperties"), out, in_junctor);
    }
    for j in ["allOf", "anyOf", "oneOf"] {
        if let Some(arr) = m.get(j).and_then(Value::as_array) {
            for (i, c) in arr.iter().enumerate() {
                structural_node(c, &format!("{path}.{j}[{i}]"), out, true);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "properties": {"spec": {"type": "object", "required": ["size"], "properties": {
            "size": {"type": "integer", "minimum": 1, "maximum": 10},
            "color": {"type": "string", "enum": ["red", "blue"], "default": "red"},
            "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
            "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
        }}}})
    }

    #[test]
    fn prune_default_validate() {
        let mut o = json!({"apiVersion": "x/v1", "kind": "W", "metadata": {"name": "a", "bogus": 1},
                           "spec": {"size": 3, "foo": 1, "extra": {"any": 1}}, "top": true});
        let mut pruned = prune(&schema(), &mut o, true);
        pruned.sort();
        assert_eq!(pruned, ["metadata.bogus", "spec.foo", "top"]);
        default_values(&schema(), &mut o);
        assert_eq!(o["spec"]["color"], "red");
        assert_eq!(o["spec"]["extra"]["any"], 1);
        assert!(validate(&schema(), &o).is_empty());
        let bad = json!({"spec": {"size": "x", "color": "green", "tags": ["a", "a"]}});
        let causes = validate(&schema(), &bad);
        let reasons: Vec<&str> = causes.iter().map(|c| c.reason.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "FieldValueTypeInvalid",
                "FieldValueNotSupported",
                "FieldValueDuplicate"
            ]
        );
        assert_eq!(causes[0].field, "spec.size");
        assert!(validate(&schema(), &json!({"spec": {}}))[0].reason == "FieldValueRequired");
        assert!(!validate(&schema(), &json!({"spec": {"size": 11}})).is_empty());
    }

    #[test]
    fn structural_rules() {
        assert!(check_structural(&schema(), "s").is_empty());
        let bad = json!({"type": "object", "properties": {"spec": {"properties": {}}}});
        let c = check_structural(&bad, "s");
        assert_eq!(c[0].field, "s.properties[spec].type");
    }
}
