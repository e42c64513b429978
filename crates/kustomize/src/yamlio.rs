//! YAML in and out of the engine (the `yaml` crate): documents as `serde_json::Value`, output
//! byte-identical to `kubectl kustomize`.

use serde_json::Value;

use crate::error::Error;

/// Parses a (possibly multi-document) YAML stream; empty documents come back as `null`.
pub fn parse_all(text: &str, path: &str) -> Result<Vec<Value>, Error> {
    yaml::parse_documents(text).map_err(|e| Error::Yaml {
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
    yaml::to_multi_doc_string(docs)
}
