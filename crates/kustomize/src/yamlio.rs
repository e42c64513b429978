//! YAML in and out of the engine: documents as `serde_json::Value`, output as kustomize prints it.

use serde_json::Value;

use crate::error::Error;

/// Parses a (possibly multi-document) YAML stream; empty documents come back as `null`.
pub fn parse_all(text: &str, path: &str) -> Result<Vec<Value>, Error> {
    serde_saphyr::from_multiple::<Value>(text).map_err(|e| Error::Yaml {
        path: path.to_string(),
        msg: e.to_string(),
    })
}

/// Parses a single YAML document.
pub fn parse_one(text: &str, path: &str) -> Result<Value, Error> {
    let mut docs = parse_all(text, path)?;
    match docs.len() {
        0 => Ok(Value::Null),
        1 => Ok(docs.remove(0)),
        n => Err(Error::Yaml {
            path: path.to_string(),
            msg: format!("expected one document, found {n}"),
        }),
    }
}

/// Writes documents as one YAML stream separated by `---`, like `kubectl kustomize`.
pub fn to_multi_doc(docs: &[Value]) -> String {
    let mut out = String::new();
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&serde_saphyr::to_string(d).unwrap_or_default());
    }
    out
}
