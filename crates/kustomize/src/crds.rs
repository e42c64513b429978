//! `crds:` entries: OpenAPI definition files whose `x-kubernetes-*` extensions declare which
//! fields of custom resources hold names, labels, annotations and object references.

use serde_json::{Map, Value};

use crate::config::{NameBackRef, TransformerConfig};
use crate::error::Error;
use crate::types::FieldSpec;

fn ext<'a>(p: &'a Value, key: &str) -> Option<&'a str> {
    p.get(key).and_then(Value::as_str)
}

fn spec(kind: &str, path: &[String]) -> FieldSpec {
    FieldSpec {
        kind: kind.into(),
        path: path.join("/"),
        ..Default::default()
    }
}

/// A definition's schema: kustomize decodes `{"<type>": {"Schema": {...}}}` (Go's JSON field
/// matching is case-insensitive, so `schema` works too).
fn schema_of(def: &Value) -> Option<&Value> {
    def.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("schema"))
        .map(|(_, v)| v)
}

/// Walks one definition's properties (following `$ref`s to other definitions by name).
fn load(
    cfg: &mut TransformerConfig,
    kind: &str,
    defs: &Map<String, Value>,
    type_name: &str,
    path: &mut Vec<String>,
    depth: usize,
) -> Result<(), String> {
    // Definitions may refer to each other in cycles; kustomize would recurse forever.
    if depth > 32 {
        return Ok(());
    }
    let Some(props) = defs
        .get(type_name)
        .and_then(schema_of)
        .and_then(|d| d.get("properties"))
        .and_then(Value::as_object)
    else {
        return Ok(());
    };
    for (name, p) in props {
        path.push(name.clone());
        if ext(p, "x-kubernetes-annotation").is_some() {
            cfg.merge(&TransformerConfig {
                common_annotations: vec![spec(kind, path)],
                ..Default::default()
            })?;
        }
        if ext(p, "x-kubernetes-label-selector").is_some() {
            cfg.merge(&TransformerConfig {
                common_labels: vec![spec(kind, path)],
                ..Default::default()
            })?;
        }
        if ext(p, "x-kubernetes-identity").is_some() {
            cfg.merge(&TransformerConfig {
                name_prefix: vec![spec(kind, path)],
                ..Default::default()
            })?;
        }
        if let (Some(version), Some(rkind)) = (
            ext(p, "x-kubernetes-object-ref-api-version"),
            ext(p, "x-kubernetes-object-ref-kind"),
        ) {
            let key = ext(p, "x-kubernetes-object-ref-name-key").unwrap_or("name");
            let mut full = path.clone();
            full.push(key.to_string());
            let nbr = NameBackRef {
                group: String::new(),
                version: version.into(),
                kind: rkind.into(),
                field_specs: vec![spec(kind, &full)],
            };
            cfg.merge(&TransformerConfig {
                name_reference: vec![nbr],
                ..Default::default()
            })?;
        }
        if let Some(r) = ext(p, "$ref") {
            load(cfg, kind, defs, r, path, depth + 1)?;
        }
        path.pop();
    }
    Ok(())
}

/// Derives transformer field specs from an OpenAPI definitions file (JSON or YAML).
pub fn config_from_crds(text: &str, path: &str) -> Result<TransformerConfig, Error> {
    let bad = |msg: String| {
        Error::transform(
            format!("unable to parse open API definition from '{path}'"),
            msg,
        )
    };
    let v: Value = if text.starts_with('{') {
        serde_json::from_str(text).map_err(|e| bad(e.to_string()))?
    } else {
        crate::yamlio::parse_one(text, path)?
    };
    let mut out = TransformerConfig::default();
    let Some(defs) = v.as_object() else {
        return Ok(out);
    };
    for (name, def) in defs {
        let Some(props) = schema_of(def)
            .and_then(|d| d.get("properties"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        if !(props.contains_key("kind")
            && props.contains_key("apiVersion")
            && props.contains_key("metadata"))
        {
            continue;
        }
        let kind = name.rsplit('.').next().unwrap_or(name);
        load(&mut out, kind, defs, name, &mut Vec::new(), 0).map_err(bad)?;
    }
    Ok(out)
}
