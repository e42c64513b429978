//! Editing scalar values inside YAML text in place, keeping comments, key order and layout —
//! what Flux's image automation does to `# {"$imagepolicy": "ns:name"}` marked fields.

use crate::YamlError;
use saphyr_parser::{Event, Parser, ScalarStyle};
use std::ops::Range;

/// One step of the path from a document's root to a scalar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// Where a scalar value (not a key) sits in YAML text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalarSite {
    /// Index of the document in the stream, counting every document from 0.
    pub document: usize,
    /// Keys and indices from the document root.
    pub path: Vec<PathSegment>,
    /// The scalar's text as read (after unquoting), not resolved to a type.
    pub value: String,
    /// Byte range of the scalar's source, quotes included.
    pub range: Range<usize>,
    /// 1-based line where the scalar starts.
    pub line: usize,
    /// The comment that ends the scalar's last line (text after `#`, trimmed), if any.
    pub comment: Option<String>,
}

enum Frame {
    Map {
        key: Option<String>,
        expecting_key: bool,
    },
    Seq {
        index: usize,
    },
}

/// Lists every scalar value of every document in `text` with its path and place.
pub fn scalar_sites(text: &str) -> Result<Vec<ScalarSite>, YamlError> {
    // The parser counts characters; edits need byte offsets.
    let byte_at: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect();
    let to_byte = |ci: usize| byte_at.get(ci).copied().unwrap_or(text.len());
    let mut sites = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut document = 0usize;
    let mut seen_document = false;
    for item in Parser::new_from_str(text) {
        let (ev, span) = item.map_err(|e| YamlError::Syntax {
            line: e.marker().line(),
            message: e.info().to_string(),
        })?;
        match ev {
            Event::DocumentStart(_) => {
                if seen_document {
                    document += 1;
                }
                seen_document = true;
                stack.clear();
            }
            Event::MappingStart(..) => {
                stack.push(Frame::Map {
                    key: None,
                    expecting_key: true,
                });
            }
            Event::SequenceStart(..) => {
                stack.push(Frame::Seq { index: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                advance(&mut stack);
            }
            Event::Scalar(value, style, ..) => {
                if let Some(Frame::Map {
                    key,
                    expecting_key: true,
                }) = stack.last_mut()
                {
                    *key = Some(value.to_string());
                    if let Some(Frame::Map { expecting_key, .. }) = stack.last_mut() {
                        *expecting_key = false;
                    }
                    continue;
                }
                let mut path = path_of(&stack);
                if let Some(last) = current_segment(&stack) {
                    path.push(last);
                }
                let start = to_byte(span.start.index());
                let end = to_byte(span.end.index());
                let range = source_range(text, start, end, style);
                let comment = line_comment(text, range.end);
                sites.push(ScalarSite {
                    document,
                    path,
                    value: value.to_string(),
                    line: span.start.line(),
                    range,
                    comment,
                });
                advance(&mut stack);
            }
            Event::Alias(_) => advance(&mut stack),
            _ => {}
        }
    }
    Ok(sites)
}

/// Replaces the scalar at `site` with `value`, keeping its quoting style where the value allows
/// (a plain scalar that would no longer read as the same string becomes double-quoted).
pub fn set_scalar(text: &str, site: &ScalarSite, value: &str) -> String {
    let original = &text[site.range.clone()];
    let replacement = if original.starts_with('\'') && !value.contains('\n') {
        format!("'{}'", value.replace('\'', "''"))
    } else if original.starts_with('"') || !plain_ok(value) {
        crate::write::double_quoted(value)
    } else {
        value.to_string()
    };
    let mut out = String::with_capacity(text.len() + replacement.len());
    out.push_str(&text[..site.range.start]);
    out.push_str(&replacement);
    out.push_str(&text[site.range.end..]);
    out
}

/// Can `value` be written unquoted and read back as the same string?
fn plain_ok(value: &str) -> bool {
    !value.is_empty()
        && !value.contains('\n')
        && matches!(crate::read::resolve_plain(value), serde_json::Value::String(ref s) if s == value)
        && crate::write::plain_allowed(value)
}

/// The scalar's source bytes: the parser's span can stop before a closing quote, so extend
/// quoted scalars to their closing quote and trim trailing blanks of plain ones.
fn source_range(text: &str, start: usize, end: usize, style: ScalarStyle) -> Range<usize> {
    let bytes = text.as_bytes();
    match style {
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
            let q = if style == ScalarStyle::SingleQuoted {
                b'\''
            } else {
                b'"'
            };
            let mut s = start;
            while s < bytes.len() && bytes[s] != q {
                s += 1;
            }
            let mut i = s + 1;
            while i < bytes.len() {
                if q == b'"' && bytes[i] == b'\\' {
                    i += 2;
                    continue;
                }
                if bytes[i] == q {
                    if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    return s..i + 1;
                }
                i += 1;
            }
            start..end
        }
        _ => {
            let mut e = end.min(bytes.len());
            while e > start && matches!(bytes[e - 1], b' ' | b'\t' | b'\n' | b'\r') {
                e -= 1;
            }
            start..e
        }
    }
}

/// The `# comment` after byte `pos` on the same line.
fn line_comment(text: &str, pos: usize) -> Option<String> {
    let rest = &text[pos.min(text.len())..];
    let line = rest.split('\n').next().unwrap_or("");
    let idx = line.find('#')?;
    if idx > 0 && !line[..idx].ends_with([' ', '\t']) {
        return None;
    }
    Some(line[idx + 1..].trim().to_string())
}

fn current_segment(stack: &[Frame]) -> Option<PathSegment> {
    match stack.last()? {
        Frame::Map { key, .. } => key.clone().map(PathSegment::Key),
        Frame::Seq { index } => Some(PathSegment::Index(*index)),
    }
}

/// The path to the current container (every frame but the innermost contributes its position).
fn path_of(stack: &[Frame]) -> Vec<PathSegment> {
    let mut path = Vec::new();
    for f in &stack[..stack.len().saturating_sub(1)] {
        match f {
            Frame::Map { key: Some(k), .. } => path.push(PathSegment::Key(k.clone())),
            Frame::Seq { index } => path.push(PathSegment::Index(*index)),
            Frame::Map { key: None, .. } => {}
        }
    }
    path
}

/// A value (scalar or collection) has been completed in the innermost frame.
fn advance(stack: &mut [Frame]) {
    match stack.last_mut() {
        Some(Frame::Map { key, expecting_key }) => {
            if *expecting_key {
                // A collection used as a key (rare): treat it as the key.
                *expecting_key = false;
            } else {
                *key = None;
                *expecting_key = true;
            }
        }
        Some(Frame::Seq { index }) => *index += 1,
        None => {}
    }
}
