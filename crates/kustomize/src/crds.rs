//! `crds:` entries: OpenAPI definitions whose `x-kubernetes-object-ref-*` extensions declare
//! name references in custom resources.

use serde_json::Value;

use crate::config::{NameBackRef, TransformerConfig};
use crate::error::Error;
use crate::types::FieldSpec;

fn walk(
    props: &Value,
    path: &mut Vec<String>,
    kind: &str,
    group: &str,
    version: &str,
    out: &mut TransformerConfig,
) {
    let Some(m) = props.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, schema) in m {
        path.push(name.clone());
        if let (Some(rk), av) = (
            schema
                .get("x-kubernetes-object-ref-kind")
                .and_then(Value::as_str),
            schema
                .get("x-kubernetes-object-ref-api-version")
                .and_then(Value::as_str)
                .unwrap_or(""),
        ) {
            let (rg, rv) = crate::resid::parse_group_version(av);
            let fs = FieldSpec {
                group: group.into(),
                version: version.into(),
                kind: kind.into(),
                path: path.join("/"),
                create: false,
            };
            let nbr = NameBackRef {
                group: rg.into(),
                version: rv.into(),
                kind: rk.into(),
                field_specs: vec![fs],
            };
            let _ = out.merge(&TransformerConfig {
                name_reference: vec![nbr],
                ..Default::default()
            });
        }
        walk(schema, path, kind, group, version, out);
        path.pop();
    }
}

/// Derives name-reference field specs from an OpenAPI definitions file.
pub fn config_from_crds(text: &str, path: &str) -> Result<TransformerConfig, Error> {
    let v = crate::yamlio::parse_one(text, path)?;
    let mut out = TransformerConfig::default();
    let Some(defs) = v.as_object() else {
        return Ok(out);
    };
    for (_, def) in defs {
        let Some(gvks) = def
            .get("x-kubernetes-group-version-kind")
            .and_then(Value::as_array)
        else {
            continue;
        };
        for g in gvks {
            let s = |k: &str| g.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            walk(
                def,
                &mut Vec::new(),
                &s("kind"),
                &s("group"),
                &s("version"),
                &mut out,
            );
        }
    }
    Ok(out)
}
