//! `values.schema.json` validation of the coalesced values, for the chart and every subchart,
//! with Helm v4's report layout (`<chart>:` then `- at '<pointer>': <message>` lines).

use crate::chart::Chart;
use crate::coalesce::Values;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

/// Values that do not satisfy a chart's schema, or a schema that cannot be compiled.
#[derive(Debug, thiserror::Error)]
#[error("values don't meet the specifications of the schema(s) in the following chart(s):\n{0}")]
pub struct SchemaError(pub String);

fn num(v: &Value) -> String {
    match v.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
        _ => v.to_string(),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn message(err: &jsonschema::ValidationError<'_>) -> String {
    let inst = err.instance();
    match err.kind() {
        ValidationErrorKind::Required { property } => {
            format!(
                "missing property '{}'",
                property.as_str().unwrap_or_default()
            )
        }
        ValidationErrorKind::Minimum { limit } => {
            format!("minimum: got {}, want {}", num(inst), num(limit))
        }
        ValidationErrorKind::Maximum { limit } => {
            format!("maximum: got {}, want {}", num(inst), num(limit))
        }
        ValidationErrorKind::Enum { options } => {
            let opts: Vec<String> = options
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|o| match o {
                            Value::String(s) => format!("'{s}'"),
                            other => other.to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            format!("value must be one of {}", opts.join(", "))
        }
        ValidationErrorKind::Type { kind } => {
            let want = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(ts) => {
                    let v: Vec<String> = ts.iter().map(|t| t.to_string()).collect();
                    v.join(" or ")
                }
            };
            format!("got {}, want {}", json_type(inst), want)
        }
        _ => err.to_string(),
    }
}

fn validate_one(schema: &[u8], values: &Values) -> Result<(), String> {
    let schema: Value =
        serde_json::from_slice(schema).map_err(|e| format!("- invalid schema: {e}\n"))?;
    let validator =
        jsonschema::validator_for(&schema).map_err(|e| format!("- invalid schema: {e}\n"))?;
    let instance = Value::Object(values.clone());
    let mut out = String::new();
    for e in validator.iter_errors(&instance) {
        out.push_str(&format!("- at '{}': {}\n", e.instance_path(), message(&e)));
    }
    if out.is_empty() { Ok(()) } else { Err(out) }
}

fn validate_rec(chart: &Chart, values: &Values, out: &mut String) {
    if let Some(schema) = &chart.schema
        && let Err(e) = validate_one(schema, values)
    {
        out.push_str(&format!("{}:\n{e}", chart.name()));
    }
    for sub in &chart.dependencies {
        let empty = Values::new();
        let sv = match values.get(sub.name()) {
            Some(Value::Object(m)) => m,
            _ => &empty,
        };
        validate_rec(sub, sv, out);
    }
}

/// Helm's `ValidateAgainstSchema` over the chart tree.
pub fn validate(chart: &Chart, values: &Values) -> Result<(), SchemaError> {
    let mut out = String::new();
    validate_rec(chart, values, &mut out);
    if out.is_empty() {
        Ok(())
    } else {
        Err(SchemaError(out))
    }
}
