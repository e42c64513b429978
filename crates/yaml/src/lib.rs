//! Multi-document YAML read and write in kubectl/kustomize style.
//!
//! * [`parse_documents`] / [`parse`] read YAML into `serde_json::Value`s, keeping key order, with
//!   the scalar rules kustomize applies (`yes`/`on` stay strings; `0777` is octal; unquoted dates
//!   become RFC 3339 strings), anchors/aliases resolved and `<<` merge keys applied.
//! * [`to_string`] / [`to_multi_doc_string`] write values byte-for-byte as `kubectl kustomize`
//!   prints them, keys in go-yaml's natural order; [`to_string_keep_order`] keeps the value's
//!   own key order. [`sort_keys`] and [`key_cmp`] expose that order.
//!
//! * [`scalar_sites`] / [`set_scalar`] edit scalar values inside YAML text in place, keeping
//!   comments and layout (image automation's `# {"$imagepolicy": ...}` markers).
//!
//! Not done yet: `.inf`/`.nan` (kustomize rejects them, we
//! keep them as strings); number spellings are normalized as kustomize does (`1.0` → `1`,
//! `0x1F` → `31`), which is the point of byte-identical output.

mod read;
mod setter;
mod sort;
mod timestamp;
mod write;

pub use read::{ScalarRules, parse, parse_documents, parse_documents_with};
pub use setter::{PathSegment, ScalarSite, scalar_sites, set_scalar};
pub use sort::{key_cmp, sort_keys};

use serde_json::Value;

/// Why YAML text could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum YamlError {
    /// The text is not valid YAML (or uses something JSON cannot hold).
    #[error("parsing yaml at line {line}: {message}")]
    Syntax {
        /// 1-based line of the problem.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// [`parse`] was given a stream with more than one document.
    #[error("parsing yaml: expected one document, found {0}")]
    MultipleDocuments(usize),
}

/// Writes one document (no `---`), ending in a newline, keys in go-yaml order.
pub fn to_string(value: &Value) -> String {
    write::document(value, write::KeyOrder::Sorted)
}

/// Writes one document keeping the value's own key order.
pub fn to_string_keep_order(value: &Value) -> String {
    write::document(value, write::KeyOrder::AsIs)
}

/// Writes documents separated by `---` lines, as `kubectl kustomize` prints a build result.
pub fn to_multi_doc_string(docs: &[Value]) -> String {
    let mut out = String::new();
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&to_string(d));
    }
    out
}
