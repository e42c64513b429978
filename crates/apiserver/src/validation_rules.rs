//! CRD validation rules (`x-kubernetes-validations`, CEL): each rule is evaluated with `self`
//! bound to the value at its schema node, and a false result is a 422 cause on that field with
//! the rule's message, as kube-apiserver reports it (`spec: Invalid value: "object": <message>`).

use crate::error::{Cause, cause};
use serde_json::Value;

/// Evaluates every validation rule of a custom resource's schema against the object; rules that
/// use `oldSelf` (transition rules) are skipped, as on create.
pub fn validate(schema: &Value, obj: &Value) -> Vec<Cause> {
    let mut out = vec![];
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (k, s) in props {
            if matches!(k.as_str(), "metadata" | "apiVersion" | "kind") {
                continue;
            }
            if let Some(v) = obj.get(k) {
                walk(s, v, k, &mut out);
            }
        }
    }
    if let Some(rules) = schema.get("x-kubernetes-validations") {
        evaluate(rules, obj, "", "object", &mut out);
    }
    out
}

/// The OpenAPI type name upstream puts in `Invalid value: "<type>"`.
fn type_name(s: &Value, v: &Value) -> &'static str {
    match s.get("type").and_then(Value::as_str) {
        Some("object") => "object",
        Some("array") => "array",
        Some("string") => "string",
        Some("integer") => "integer",
        Some("number") => "number",
        Some("boolean") => "boolean",
        _ => match v {
            Value::Object(_) => "object",
            Value::Array(_) => "array",
            Value::String(_) => "string",
            Value::Bool(_) => "boolean",
            _ => "number",
        },
    }
}

fn walk(s: &Value, v: &Value, path: &str, out: &mut Vec<Cause>) {
    if v.is_null() {
        return;
    }
    if let Some(rules) = s.get("x-kubernetes-validations") {
        evaluate(rules, v, path, type_name(s, v), out);
    }
    match v {
        Value::Object(m) => {
            let props = s.get("properties").and_then(Value::as_object);
            let additional = s.get("additionalProperties").filter(|a| a.is_object());
            for (k, child) in m {
                if let Some(cs) = props.and_then(|p| p.get(k)) {
                    walk(cs, child, &format!("{path}.{k}"), out);
                } else if let Some(cs) = additional {
                    walk(cs, child, &format!("{path}[{k}]"), out);
                }
            }
        }
        Value::Array(items) => {
            if let Some(is) = s.get("items") {
                for (i, child) in items.iter().enumerate() {
                    walk(is, child, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

fn evaluate(rules: &Value, v: &Value, path: &str, type_name: &str, out: &mut Vec<Cause>) {
    let Some(rules) = rules.as_array() else {
        return;
    };
    for r in rules {
        let Some(src) = r.get("rule").and_then(Value::as_str) else {
            continue;
        };
        if src.contains("oldSelf") {
            continue;
        }
        let message = r
            .get("message")
            .and_then(Value::as_str)
            .map(String::from)
            .unwrap_or_else(|| format!("failed rule: {src}"));
        let field = match r.get("fieldPath").and_then(Value::as_str) {
            Some(fp) if !fp.is_empty() => format!("{path}{fp}"),
            _ => path.to_string(),
        };
        let reason = match r.get("reason").and_then(Value::as_str) {
            Some("FieldValueRequired") => "FieldValueRequired",
            Some("FieldValueForbidden") => "FieldValueForbidden",
            Some("FieldValueDuplicate") => "FieldValueDuplicate",
            _ => "FieldValueInvalid",
        };
        let verdict = run(src, v);
        // `messageExpression` (a CEL string over `self`) overrides `message` when it yields text.
        let message = match (&verdict, r.get("messageExpression").and_then(Value::as_str)) {
            (Ok(false), Some(expr)) => message_expression(expr, v).unwrap_or(message),
            _ => message,
        };
        let text = match verdict {
            Ok(true) => continue,
            Ok(false) => match reason {
                "FieldValueRequired" => format!("Required value: {message}"),
                "FieldValueForbidden" => format!("Forbidden: {message}"),
                "FieldValueDuplicate" => format!("Duplicate value: {message}"),
                _ => format!("Invalid value: \"{type_name}\": {message}"),
            },
            Err(e) => format!("Invalid value: \"{type_name}\": {e} evaluating rule: {message}"),
        };
        out.push(cause(reason, &field, text));
    }
}

/// JSON to a CEL value with Kubernetes' typing: every OpenAPI integer is a CEL `int` (serde
/// would make non-negative ones `uint`, and `uint + int` has no overload).
fn to_cel(v: &Value) -> cel::Value {
    match v {
        Value::Null => cel::Value::Null,
        Value::Bool(b) => cel::Value::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => cel::Value::Int(i),
            (None, Some(f)) => cel::Value::Float(f),
            _ => cel::Value::Null,
        },
        Value::String(s) => cel::Value::String(std::sync::Arc::new(s.clone())),
        Value::Array(a) => cel::Value::List(std::sync::Arc::new(a.iter().map(to_cel).collect())),
        Value::Object(m) => {
            let map: std::collections::HashMap<String, cel::Value> =
                m.iter().map(|(k, v)| (k.clone(), to_cel(v))).collect();
            cel::Value::from(map)
        }
    }
}

/// Evaluates a `messageExpression`; `None` unless it yields a non-empty string.
fn message_expression(src: &str, v: &Value) -> Option<String> {
    let program = cel::Program::compile(src).ok()?;
    let mut ctx = cel::Context::default();
    ctx.add_variable_from_value("self", to_cel(v));
    match program.execute(&ctx) {
        Ok(cel::Value::String(s)) if !s.trim().is_empty() => Some(s.to_string()),
        _ => None,
    }
}

/// Compiles and runs one rule with `self` bound to `v`.
fn run(src: &str, v: &Value) -> Result<bool, String> {
    let program = cel::Program::compile(src).map_err(|e| format!("compilation failed: {e}"))?;
    let mut ctx = cel::Context::default();
    ctx.add_variable_from_value("self", to_cel(v));
    match program.execute(&ctx) {
        Ok(cel::Value::Bool(b)) => Ok(b),
        Ok(other) => Err(format!("rule did not evaluate to a bool: {other:?}")),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "properties": {
            "spec": {
                "type": "object",
                "x-kubernetes-validations": [
                    {"message": "either chart or chartRef must be set", "rule": "(has(self.chart) && !has(self.chartRef)) || (!has(self.chart) && has(self.chartRef))"},
                    {"message": "cannot set both .spec.secretRef and .spec.serviceAccountName", "rule": "!has(self.secretRef) || !has(self.serviceAccountName)"}
                ],
                "properties": {
                    "chart": {"type": "object"},
                    "chartRef": {"type": "object"},
                    "secretRef": {"type": "object"},
                    "serviceAccountName": {"type": "string"},
                    "oidcProviders": {"type": "array", "items": {"type": "object"}},
                    "steps": {"type": "array", "items": {
                        "type": "object",
                        "x-kubernetes-validations": [{"message": ".retryInterval can only be set when .name is 'RetryOnFailure'", "rule": "!has(self.retryInterval) || self.name == 'RetryOnFailure'"}],
                        "properties": {"name": {"type": "string"}, "retryInterval": {"type": "string"}}
                    }},
                    "type": {"type": "string"}
                }
            }
        }})
    }

    #[test]
    fn flux_rules() {
        let s = schema();
        assert!(validate(&s, &json!({"spec": {"chart": {}}})).is_empty());
        let c = validate(&s, &json!({"spec": {}}));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].field, "spec");
        assert_eq!(
            c[0].message,
            "Invalid value: \"object\": either chart or chartRef must be set"
        );
        let c = validate(
            &s,
            &json!({"spec": {"chartRef": {}, "secretRef": {}, "serviceAccountName": "x"}}),
        );
        assert_eq!(
            c.len(),
            1,
            "{:?}",
            c.iter().map(|c| &c.message).collect::<Vec<_>>()
        );
        let c = validate(
            &s,
            &json!({"spec": {"chart": {}, "steps": [{"name": "RetryOnFailure", "retryInterval": "1m"}, {"name": "X", "retryInterval": "1m"}]}}),
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].field, "spec.steps[1]");
    }

    #[test]
    fn integers_are_cel_ints() {
        let v = json!({"replicas": 3, "ratio": 0.5, "name": "abc", "items": [1, 2]});
        for rule in [
            "self.replicas + 1 == 4",
            "self.replicas > 0",
            "self.ratio < 1.0",
            "self.name.startsWith('a')",
            "self.items.all(i, i > 0)",
            "size(self.items) == 2",
        ] {
            assert_eq!(run(rule, &v), Ok(true), "{rule}");
        }
        assert_eq!(run("self.replicas - 5 < 0", &v), Ok(true));
    }

    #[test]
    fn message_expressions() {
        let s = json!({"type": "object", "properties": {"spec": {"type": "object",
            "x-kubernetes-validations": [{"rule": "self.replicas <= 5", "message": "too many", "messageExpression": "'replicas ' + string(self.replicas) + ' exceeds 5'"}],
            "properties": {"replicas": {"type": "integer"}}}}});
        let c = validate(&s, &json!({"spec": {"replicas": 7}}));
        assert_eq!(
            c[0].message,
            "Invalid value: \"object\": replicas 7 exceeds 5"
        );
    }

    #[test]
    fn size_and_string_comparisons() {
        let s = json!({"type": "object", "properties": {"spec": {"type": "object",
            "x-kubernetes-validations": [{"message": "generic-oidc receivers must define at least one oidcProvider", "rule": "self.type != 'generic-oidc' || (has(self.oidcProviders) && size(self.oidcProviders) > 0)"}],
            "properties": {"type": {"type": "string"}, "oidcProviders": {"type": "array", "items": {"type": "object"}}}}}});
        assert_eq!(
            validate(&s, &json!({"spec": {"type": "generic-oidc"}})).len(),
            1
        );
        assert_eq!(
            validate(
                &s,
                &json!({"spec": {"type": "generic-oidc", "oidcProviders": []}})
            )
            .len(),
            1
        );
        assert!(
            validate(
                &s,
                &json!({"spec": {"type": "generic-oidc", "oidcProviders": [{}]}})
            )
            .is_empty()
        );
        assert!(validate(&s, &json!({"spec": {"type": "github"}})).is_empty());
    }
}
