//! Values coalescing exactly as Helm v4.1.4 does it: chart defaults < parent values < user values,
//! maps merged, scalars and lists replaced, `null` deleting a key (coalesce) or kept (merge),
//! `global` copied down into every subchart.

use crate::chart::Chart;
use serde_json::{Map, Value};

/// A values tree (`map[string]interface{}` in Helm).
pub type Values = Map<String, Value>;

/// Errors while coalescing.
#[derive(Debug, thiserror::Error)]
pub enum CoalesceError {
    /// A subchart's key holds a non-map value.
    #[error("type mismatch on {name}: %!t({go_type}={value})")]
    TypeMismatch {
        /// The subchart name.
        name: String,
        /// Go's name of the value's type.
        go_type: &'static str,
        /// The value as Go prints it with `%v`.
        value: String,
    },
}

fn concat_prefix(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}.{b}")
    }
}

/// Helm's `CoalesceValues`: user values `vals` over the chart's defaults, nulls deleting keys.
pub fn coalesce_values(chart: &Chart, vals: &Values) -> Result<Values, CoalesceError> {
    let mut dest = vals.clone();
    coalesce(chart, &mut dest, "", false)?;
    Ok(dest)
}

/// Helm's `MergeValues`: like [`coalesce_values`] but nulls are kept.
pub fn merge_values(chart: &Chart, vals: &Values) -> Result<Values, CoalesceError> {
    let mut dest = vals.clone();
    coalesce(chart, &mut dest, "", true)?;
    Ok(dest)
}

fn coalesce(
    chart: &Chart,
    dest: &mut Values,
    prefix: &str,
    merge: bool,
) -> Result<(), CoalesceError> {
    coalesce_chart_values(chart, dest, prefix, merge);
    coalesce_deps(chart, dest, prefix, merge)
}

fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

fn coalesce_deps(
    chart: &Chart,
    dest: &mut Values,
    prefix: &str,
    merge: bool,
) -> Result<(), CoalesceError> {
    for sub in &chart.dependencies {
        let name = sub.name().to_string();
        let mut dv = match dest.remove(&name) {
            None => Map::new(),
            Some(Value::Object(m)) => m,
            Some(other) => {
                let value = match &other {
                    Value::String(s) => s.clone(),
                    v => v.to_string(),
                };
                return Err(CoalesceError::TypeMismatch {
                    name,
                    go_type: go_type(&other),
                    value,
                });
            }
        };
        let sub_prefix = concat_prefix(prefix, chart.name());
        coalesce_globals(&mut dv, dest);
        coalesce(sub, &mut dv, &sub_prefix, merge)?;
        dest.insert(name, Value::Object(dv));
    }
    Ok(())
}

/// Copies the parent's `global` into the subchart's values; the parent wins.
fn coalesce_globals(dest: &mut Values, src: &Values) {
    let mut dg = match dest.get("global") {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return,
    };
    let sg = match src.get("global") {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return,
    };
    for (key, val) in sg {
        if let Value::Object(vv) = val {
            let mut vv = vv;
            match dg.get(&key) {
                None => {
                    dg.insert(key, Value::Object(vv));
                }
                Some(Value::Object(destv)) => {
                    coalesce_tables(&mut vv, destv.clone(), true);
                    dg.insert(key, Value::Object(vv));
                }
                Some(_) => {}
            }
        } else if matches!(dg.get(&key), Some(Value::Object(_))) {
            // A table in the subchart's globals is not replaced by a scalar.
        } else {
            dg.insert(key, val);
        }
    }
    dest.insert("global".into(), Value::Object(dg));
}

fn coalesce_chart_values(c: &Chart, v: &mut Values, _prefix: &str, merge: bool) {
    for (key, val) in &c.values {
        match v.get_mut(key) {
            Some(Value::Null) if !merge => {
                v.remove(key);
            }
            Some(Value::Object(dest)) => {
                if let Value::Object(src) = val {
                    let merge = merge || c.dependencies.iter().any(|d| d.name() == key);
                    coalesce_tables(dest, src.clone(), merge);
                }
            }
            Some(_) => {}
            None => {
                v.insert(key.clone(), val.clone());
            }
        }
    }
}

/// Helm's `coalesceTablesFullKey`: `dst` is authoritative; `src` fills the gaps.
pub fn coalesce_tables(dst: &mut Values, mut src: Values, merge: bool) {
    let src_non_nil: std::collections::HashSet<String> = src
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, _)| k.clone())
        .collect();
    for (key, val) in dst.iter() {
        if val.is_null() {
            src.insert(key.clone(), Value::Null);
        }
    }
    for (key, val) in src {
        match dst.get_mut(&key) {
            Some(Value::Null) if !merge && src_non_nil.contains(&key) => {
                dst.remove(&key);
            }
            None => {
                dst.insert(key, val);
            }
            Some(dv) => {
                if let Value::Object(sv) = val
                    && let Value::Object(dm) = dv
                {
                    coalesce_tables(dm, sv, merge);
                }
            }
        }
    }
}

/// Helm's `Values.Table`: walks a dotted path of maps.
pub fn table<'a>(v: &'a Values, path: &str) -> Option<&'a Values> {
    let mut cur = v;
    for part in path.split('.') {
        match cur.get(part) {
            Some(Value::Object(m)) => cur = m,
            _ => return None,
        }
    }
    Some(cur)
}

/// Helm's `Values.PathValue`: a non-table value at a dotted path.
pub fn path_value<'a>(v: &'a Values, path: &str) -> Option<&'a Value> {
    if path.is_empty() {
        return None;
    }
    let (parent, key) = match path.rsplit_once('.') {
        Some((p, k)) => (table(v, p)?, k),
        None => (v, path),
    };
    match parent.get(key) {
        Some(Value::Object(_)) | None => None,
        Some(x) => Some(x),
    }
}

/// Helm's `MergeMaps` for `-f` files: maps merged recursively, everything else replaced.
pub use crate::yamlconv::merge_maps;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Values {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn null_deletes_chart_default() {
        let chart = Chart {
            values: obj(json!({"a": 1, "m": {"x": 1, "y": 2}})),
            ..Default::default()
        };
        let out =
            coalesce_values(&chart, &obj(json!({"a": null, "m": {"y": null, "z": 3}}))).unwrap();
        assert_eq!(Value::Object(out), json!({"m": {"x": 1, "z": 3}}));
    }

    #[test]
    fn merge_keeps_nulls() {
        let chart = Chart {
            values: obj(json!({"m": {"x": 1}})),
            ..Default::default()
        };
        let out = merge_values(&chart, &obj(json!({"m": {"x": null}}))).unwrap();
        assert_eq!(Value::Object(out), json!({"m": {"x": null}}));
    }

    #[test]
    fn globals_flow_down() {
        let mut sub = Chart {
            values: obj(json!({"global": {"g": "sub", "h": 1}, "k": 1})),
            ..Default::default()
        };
        sub.metadata.name = "sub".into();
        let mut parent = Chart {
            values: obj(json!({"global": {"g": "parent"}})),
            ..Default::default()
        };
        parent.metadata.name = "p".into();
        parent.dependencies.push(sub);
        let out = coalesce_values(&parent, &Values::new()).unwrap();
        assert_eq!(out["sub"]["global"], json!({"g": "parent", "h": 1}));
        assert_eq!(out["sub"]["k"], json!(1));
    }

    #[test]
    fn path_lookups() {
        let v = obj(json!({"a": {"b": {"c": true}}, "t": 1}));
        assert_eq!(path_value(&v, "a.b.c"), Some(&json!(true)));
        assert_eq!(path_value(&v, "a.b"), None);
        assert_eq!(path_value(&v, "t"), Some(&json!(1)));
        assert!(table(&v, "a.b").is_some());
    }
}
