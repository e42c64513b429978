//! Name hash suffixes for generated ConfigMaps and Secrets, computed exactly as kustomize does.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::resource::Resource;

/// Go's `json.Marshal` string escaping (HTML-safe: `<`, `>`, `&`, U+2028/9 escaped).
fn go_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's `json.Marshal` of a decoded value: maps with sorted keys, no spaces.
fn go_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => go_json_string(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json_string(k, out);
                out.push(':');
                go_json(&m[*k], out);
            }
            out.push('}');
        }
    }
}

/// Field value as kustomize's hasher reads it: missing → "", scalar → its text, map → map.
fn node_value(obj: &Value, path: &[&str]) -> Value {
    let mut cur = obj;
    for p in path {
        match cur.get(p) {
            Some(v) => cur = v,
            None => return Value::String(String::new()),
        }
    }
    match cur {
        Value::Object(_) => cur.clone(),
        Value::Array(_) => Value::Null,
        Value::Null => Value::String(String::new()),
        other => Value::String(crate::resource::scalar_string(other).unwrap_or_default()),
    }
}

/// The 10-character hash kustomize appends to a generated object's name.
pub fn hash_of(obj: &Value) -> String {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let mut m = Map::new();
    let encoded = match kind {
        "ConfigMap" => {
            m.insert("kind".into(), "ConfigMap".into());
            // kustomize looks the name up as one field literally called "metadata/name", which
            // never exists: the name does not take part in the hash.
            m.insert("name".into(), node_value(obj, &["metadata/name"]));
            m.insert("data".into(), node_value(obj, &["data"]));
            let bd = node_value(obj, &["binaryData"]);
            if bd.is_object() {
                m.insert("binaryData".into(), bd);
            }
            let mut s = String::new();
            go_json(&Value::Object(m), &mut s);
            s
        }
        "Secret" => {
            m.insert("kind".into(), "Secret".into());
            m.insert("type".into(), node_value(obj, &["type"]));
            m.insert("name".into(), node_value(obj, &["metadata/name"]));
            m.insert("data".into(), node_value(obj, &["data"]));
            let sd = node_value(obj, &["stringData"]);
            if sd.is_object() {
                m.insert("stringData".into(), sd);
            }
            let mut s = String::new();
            go_json(&Value::Object(m), &mut s);
            s
        }
        _ => {
            let mut s = String::new();
            go_json(obj, &mut s);
            s
        }
    };
    let digest = Sha256::digest(encoded.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex[..10]
        .chars()
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

/// Appends `-<hash>` to every resource that asked for it.
pub fn apply(list: &mut [Resource]) -> Result<(), Error> {
    for r in list.iter_mut() {
        if r.needs_hash {
            let h = hash_of(&r.obj);
            r.store_previous_id();
            let name = format!("{}-{h}", r.name());
            r.set_name(&name);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn known_configmap_hash() {
        // `kubectl kustomize` names this generated ConfigMap `app-m8f5bdkbt7`.
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "app"},
            "data": {"A": "1", "B": "two", "C": "quoted", "D": "a=b"}});
        assert_eq!(hash_of(&cm), "m8f5bdkbt7");
        let mut s = String::new();
        go_json(&json!({"b": "<&>", "a": 1}), &mut s);
        assert_eq!(s, r#"{"a":1,"b":"\u003c\u0026\u003e"}"#);
    }
}
