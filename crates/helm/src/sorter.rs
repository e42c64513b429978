//! Rendered files → manifests and hooks, as Helm's release utilities do it: documents split on
//! `---`, hooks recognised by `helm.sh/hook`, unknown hook events dropped, stable install order by
//! kind (unknown kinds last, alphabetically).

use crate::yamlconv::{self, Node};
use saphyr_parser::{Event, ScalarStyle};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Helm's install order by kind.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

/// A regular manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Template path (`chart/templates/x.yaml`).
    pub name: String,
    /// The document, trimmed.
    pub content: String,
    /// Its `kind`.
    pub kind: String,
}

/// A hook manifest.
#[derive(Debug, Clone)]
pub struct Hook {
    /// `metadata.name`.
    pub name: String,
    /// `kind`.
    pub kind: String,
    /// Template path.
    pub path: String,
    /// The document, trimmed.
    pub manifest: String,
    /// Events (`test-success` normalised to `test`).
    pub events: Vec<String>,
    /// `helm.sh/hook-weight`.
    pub weight: i64,
}

/// A document that is not valid YAML.
#[derive(Debug, thiserror::Error)]
#[error("YAML parse error on {path}: {source}")]
pub struct SortError {
    /// The template path.
    pub path: String,
    /// The cause.
    #[source]
    pub source: yamlconv::YamlError,
}

fn sep() -> &'static regex::Regex {
    static SEP: OnceLock<regex::Regex> = OnceLock::new();
    SEP.get_or_init(|| {
        regex::Regex::new(r"(?:^|[\t\n\f\r ]*\n)---[\t\n\f\r ]*").expect("valid regex")
    })
}

/// Go's `strings.TrimSpace` (ASCII and Unicode white space).
pub fn trim_space(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace())
}

/// Helm's `SplitManifests`, in document order.
pub fn split_manifests(big: &str) -> Vec<String> {
    sep()
        .split(trim_space(big))
        .filter(|d| !d.is_empty())
        .map(|d| trim_space(d).to_string())
        .collect()
}

#[derive(Debug, PartialEq)]
struct Head {
    kind: String,
    name: String,
    annotations: Option<Vec<(String, String)>>,
}

fn head(doc: &str) -> Result<Head, yamlconv::YamlError> {
    if let Some(h) = head_fast(doc) {
        return Ok(h);
    }
    if let Some(h) = head_streaming(doc) {
        return h;
    }
    let node = yamlconv::parse_first(doc)?;
    let mut h = Head {
        kind: String::new(),
        name: String::new(),
        annotations: None,
    };
    let Some(node @ Node::Map(_)) = node else {
        return Ok(h);
    };
    h.kind = node.get("kind").and_then(Node::as_text).unwrap_or_default();
    if let Some(md) = node.get("metadata") {
        h.name = md.get("name").and_then(Node::as_text).unwrap_or_default();
        if let Some(Node::Map(entries)) = md.get("annotations") {
            h.annotations = Some(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_text().unwrap_or_default()))
                    .collect(),
            );
        }
    }
    Ok(h)
}

/// Checks the fast head reader against the YAML parser on one document: `Err` describes a
/// document the fast path answered differently. For the fuzz target and tests.
#[doc(hidden)]
pub fn check_fast_head(doc: &str) -> Result<(), String> {
    let Some(fast) = head_fast(doc) else {
        return Ok(());
    };
    match head_streaming(doc) {
        Some(Ok(slow)) if slow == fast => Ok(()),
        Some(Ok(slow)) => Err(format!("fast {fast:?} != parser {slow:?} for {doc:?}")),
        Some(Err(e)) => Err(format!(
            "fast path accepted {doc:?}, the parser refused: {e}"
        )),
        None => Err(format!(
            "fast path accepted {doc:?}, the parser needs the tree"
        )),
    }
}

/// How an entry's value is written on its line, as far as the head needs it.
enum Written<'a> {
    /// A plain, single-quoted or escape-free double-quoted scalar.
    Scalar(std::borrow::Cow<'a, str>, ScalarStyle),
    /// A double-quoted scalar with escapes or a block scalar: well-formed, text not computed.
    Opaque,
    /// `{}`.
    EmptyMap,
    /// A one-line flow sequence of scalars, `[]` included.
    Seq,
}

#[derive(Clone, Copy, PartialEq)]
enum Block {
    Map,
    Seq,
}

/// One open block collection of [`head_fast`]: its indentation, kind and current key.
struct Frame<'a> {
    indent: usize,
    kind: Block,
    key: &'a str,
}

/// The fast path of [`head`]: a line scanner for the block-style YAML that charts render
/// (block mappings and sequences of one-line plain or quoted scalars, `|`/`>` block scalars,
/// `{}`/`[]`, comment lines). It answers only for documents it can prove well-formed, with the
/// head [`head_streaming`] would give; anything else (flow collections, anchors, tags, tabs,
/// multi-line plain or quoted scalars, non-ASCII text, trailing comments, ...) returns `None`
/// and goes to the real parser, which also words the errors.
fn head_fast(doc: &str) -> Option<Head> {
    if doc.bytes().any(|b| b >= 0x7f || (b < 0x20 && b != b'\n')) {
        return None;
    }
    let mut h = Head {
        kind: String::new(),
        name: String::new(),
        annotations: None,
    };
    let lines: Vec<&str> = doc.split('\n').collect();
    let mut stack: Vec<Frame> = Vec::with_capacity(8);
    // The previous entry had no value on its line, so a deeper node may follow it.
    let mut pending = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        let content = line.trim_start_matches(' ');
        let indent = line.len() - content.len();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if indent == 0 && (content.starts_with("---") || content.starts_with("...")) {
            return None;
        }
        let is_seq = content == "-" || content.starts_with("- ");
        let deeper = stack.last().is_some_and(|top| indent > top.indent);
        if pending && deeper && !is_seq && split_key(content)?.is_none() {
            // The value of the previous line's key or item, alone on its line (`{}` after
            // `securityContext:` in charts made by `helm create`).
            if content.starts_with(['|', '>']) {
                return None;
            }
            record(&mut h, &stack, scalar(content)?)?;
            pending = false;
            continue;
        }
        let kind = if is_seq { Block::Seq } else { Block::Map };
        place(&mut stack, indent, kind, pending, &mut h)?;
        pending = false;
        let mut column = indent;
        let mut entry = content;
        if is_seq {
            let after = &content[1..];
            let item = after.trim_start_matches(' ');
            column = indent + 1 + (after.len() - item.len());
            if item.is_empty() || item.starts_with('#') {
                pending = true;
                continue;
            }
            if item == "-" || item.starts_with("- ") {
                return None;
            }
            if split_key(item)?.is_none() {
                scalar(item)?;
                if item.starts_with(['|', '>']) {
                    i = block_scalar(&lines, i, indent)?;
                }
                continue;
            }
            stack.push(Frame {
                indent: column,
                kind: Block::Map,
                key: "",
            });
            entry = item;
        }
        let (key, value) = split_key(entry)??;
        if key == "<<" {
            return None;
        }
        if let Some(top) = stack.last_mut() {
            top.key = key;
        }
        let value = value.trim_start_matches(' ');
        if value.is_empty() || value.starts_with('#') {
            if field_path(&stack).is_some_and(|keys| is_field(&keys)) {
                // A null field: the streaming reader records it; rare enough to hand over.
                return None;
            }
            pending = true;
            continue;
        }
        let written = scalar(value)?;
        if value.starts_with(['|', '>']) {
            i = block_scalar(&lines, i, column)?;
        }
        record(&mut h, &stack, written)?;
    }
    Some(h)
}

/// The keys from the root map to the innermost one, when the head may be there.
fn field_path<'a>(stack: &[Frame<'a>]) -> Option<Vec<&'a str>> {
    (stack.len() <= 3 && stack.iter().all(|f| f.kind == Block::Map))
        .then(|| stack.iter().map(|f| f.key).collect())
}

/// Whether a value at these keys is part of the head.
fn is_field(keys: &[&str]) -> bool {
    matches!(
        keys,
        ["kind"] | ["metadata", "name"] | ["metadata", "annotations", _]
    )
}

/// Records a value written under the innermost key into the head, as [`head_streaming`] does;
/// `None` when the value is a head field whose text the fast path does not compute.
fn record(h: &mut Head, stack: &[Frame], written: Written) -> Option<()> {
    let Some(keys) = field_path(stack) else {
        return Some(());
    };
    match (keys.as_slice(), written) {
        (["kind"], Written::Scalar(v, style)) => h.kind = scalar_text(&v, style),
        (["metadata", "name"], Written::Scalar(v, style)) => h.name = scalar_text(&v, style),
        (["metadata", "annotations", k], Written::Scalar(v, style)) => h
            .annotations
            .get_or_insert_with(Vec::new)
            .push((k.to_string(), scalar_text(&v, style))),
        (["metadata", "annotations"], Written::EmptyMap) => {
            h.annotations.get_or_insert_with(Vec::new);
        }
        (keys, Written::Opaque) if is_field(keys) => return None,
        _ => {}
    }
    Some(())
}

/// Places an entry line of `kind` at `indent` in the open block collections (popping the ones
/// it closes, opening one when it nests), or `None` when the indentation is not well-formed.
fn place(
    stack: &mut Vec<Frame>,
    indent: usize,
    kind: Block,
    mut pending: bool,
    h: &mut Head,
) -> Option<()> {
    loop {
        let Some(top) = stack.last() else {
            stack.push(Frame {
                indent,
                kind,
                key: "",
            });
            return Some(());
        };
        if indent > top.indent {
            if !pending {
                return None;
            }
            let under_annotations = stack.len() == 2
                && stack.iter().all(|f| f.kind == Block::Map)
                && stack[0].key == "metadata"
                && stack[1].key == "annotations";
            if kind == Block::Map && under_annotations {
                h.annotations.get_or_insert_with(Vec::new);
            }
            stack.push(Frame {
                indent,
                kind,
                key: "",
            });
            return Some(());
        }
        if indent == top.indent {
            if top.kind == kind {
                return Some(());
            }
            if kind == Block::Seq && top.kind == Block::Map && pending {
                // A block sequence may sit at its parent key's indentation.
                stack.push(Frame {
                    indent,
                    kind,
                    key: "",
                });
                return Some(());
            }
            let n = stack.len();
            if top.kind == Block::Seq
                && n >= 2
                && stack[n - 2].indent == indent
                && stack[n - 2].kind == Block::Map
            {
                stack.pop();
                pending = false;
                continue;
            }
            return None;
        }
        stack.pop();
        pending = false;
        if stack.is_empty() {
            return None;
        }
    }
}

/// Splits `key: value`: `Some(None)` when the text is not a key, `None` when it is beyond the
/// fast path (quoted keys with escapes, comments, over-long keys).
fn split_key(s: &str) -> Option<Option<(&str, &str)>> {
    if s.starts_with(['"', '\'']) {
        let end = quoted_end(s)?;
        let after = &s[end..];
        return match after.strip_prefix(':') {
            Some(value) if value.is_empty() || value.starts_with(' ') => {
                let key = &s[1..end - 1];
                if key.contains(['\\', '\'']) || key.len() > 1000 {
                    return None;
                }
                Some(Some((key, value)))
            }
            _ if after.trim_start_matches(' ').starts_with(':') => None,
            _ => Some(None),
        };
    }
    if !plain_start(s) {
        return Some(None);
    }
    let b = s.as_bytes();
    for p in 0..b.len() {
        match b[p] {
            b'#' if p > 0 && b[p - 1] == b' ' => return None,
            b':' if p + 1 == b.len() || b[p + 1] == b' ' => {
                let key = &s[..p];
                if key.ends_with(' ') || key.len() > 1000 {
                    return None;
                }
                return Some(Some((key, &s[p + 1..])));
            }
            _ => {}
        }
    }
    Some(None)
}

/// The index after the `]` of a one-line flow sequence of scalars (`[a, 'b', "c"]`) that `s`
/// starts with.
fn flow_seq_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut p = 1;
    let skip_spaces = |p: &mut usize| {
        while b.get(*p) == Some(&b' ') {
            *p += 1;
        }
    };
    skip_spaces(&mut p);
    if b.get(p) == Some(&b']') {
        return Some(p + 1);
    }
    loop {
        skip_spaces(&mut p);
        match *b.get(p)? {
            b'"' | b'\'' => p += quoted_end(&s[p..])?,
            _ => {
                let start = p;
                while let Some(&c) = b.get(p) {
                    if c == b',' || c == b']' {
                        break;
                    }
                    if b":#[]{}\"'".contains(&c) {
                        return None;
                    }
                    p += 1;
                }
                let item = s[start..p].trim_end_matches(' ');
                // Words of ordinary characters only: indicators such as a `-` before `,` are
                // read differently by YAML parsers and go to the real one.
                let plain_word = |w: &str| {
                    w.as_bytes().first().is_some_and(u8::is_ascii_alphanumeric)
                        && w.bytes()
                            .all(|c| c.is_ascii_alphanumeric() || b"._/=+~@%-".contains(&c))
                };
                if item.is_empty() || !item.split(' ').filter(|w| !w.is_empty()).all(plain_word) {
                    return None;
                }
            }
        }
        skip_spaces(&mut p);
        match *b.get(p)? {
            b',' => p += 1,
            b']' => return Some(p + 1),
            _ => return None,
        }
    }
}

/// Whether a plain scalar may start here (YAML's indicator characters may not, except `-`
/// before a non-space).
fn plain_start(s: &str) -> bool {
    match s.as_bytes() {
        [] => false,
        [b'-', next, ..] => *next != b' ',
        [first, ..] => !b"-?:,[]{}#&*!|>'\"%@`".contains(first),
    }
}

/// The index after the closing quote of the quoted scalar `s` starts with, on this line.
fn quoted_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let quote = b[0];
    let mut p = 1;
    while p < b.len() {
        match b[p] {
            b'\\' if quote == b'"' => {
                let width = match *b.get(p + 1)? {
                    b'x' => 2,
                    b'u' => 4,
                    b'U' => 8,
                    b'0' | b'a' | b'b' | b't' | b'n' | b'v' | b'f' | b'r' | b'e' | b' ' | b'"'
                    | b'/' | b'\\' | b'N' | b'_' | b'L' | b'P' => 0,
                    _ => return None,
                };
                let hex = b.get(p + 2..p + 2 + width)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                // The escape must name a Unicode scalar value (no surrogates, at most 10FFFF).
                if width > 2 {
                    let code = u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
                    char::from_u32(code)?;
                }
                p += 2 + width;
            }
            b'\'' if quote == b'\'' && b.get(p + 1) == Some(&b'\'') => p += 2,
            c if c == quote => return Some(p + 1),
            _ => p += 1,
        }
    }
    None
}

/// Reads a one-line value (after `key: ` or `- `), `None` when it is beyond the fast path or
/// not well-formed.
fn scalar(v: &str) -> Option<Written<'_>> {
    let (written, tail) = match v.as_bytes()[0] {
        b'"' => {
            let end = quoted_end(v)?;
            let inner = &v[1..end - 1];
            let w = if inner.contains('\\') {
                Written::Opaque
            } else {
                Written::Scalar(inner.into(), ScalarStyle::DoubleQuoted)
            };
            (w, &v[end..])
        }
        b'\'' => {
            let end = quoted_end(v)?;
            let inner = &v[1..end - 1];
            let text = if inner.contains("''") {
                inner.replace("''", "'").into()
            } else {
                inner.into()
            };
            (Written::Scalar(text, ScalarStyle::SingleQuoted), &v[end..])
        }
        b'|' | b'>' => {
            let header = v[1..].trim_end_matches(' ');
            if !matches!(header, "" | "-" | "+") {
                return None;
            }
            (Written::Opaque, "")
        }
        _ if v.starts_with("{}") => (Written::EmptyMap, &v[2..]),
        b'[' => (Written::Seq, &v[flow_seq_end(v)?..]),
        _ => {
            if !plain_start(v) || v.contains(" #") || v.contains(": ") {
                return None;
            }
            let text = v.trim_end_matches(' ');
            if text.ends_with(':') {
                return None;
            }
            (Written::Scalar(text.into(), ScalarStyle::Plain), "")
        }
    };
    let rest = tail.trim_start_matches(' ');
    let comment = rest.starts_with('#') && rest.len() < tail.len();
    (rest.is_empty() || comment).then_some(written)
}

/// Skips the content lines of a block scalar whose header ended the line before `next`, in a
/// collection indented by `parent`; returns the index of the first line after it.
fn block_scalar(lines: &[&str], next: usize, parent: usize) -> Option<usize> {
    let Some(first) = lines.get(next) else {
        return Some(next);
    };
    let text = first.trim_start_matches(' ');
    if text.is_empty() {
        // Leading blank lines decide the indentation in subtle ways: the parser knows them.
        return None;
    }
    let indent = first.len() - text.len();
    if indent <= parent {
        return Some(next);
    }
    let mut j = next;
    while let Some(l) = lines.get(j) {
        let t = l.trim_start_matches(' ');
        if !t.is_empty() && l.len() - t.len() < indent {
            break;
        }
        j += 1;
    }
    Some(j)
}

/// The text a Go string field receives from a scalar (null → empty).
fn scalar_text(v: &str, style: ScalarStyle) -> String {
    if style == ScalarStyle::Plain && matches!(v, "" | "~" | "null" | "Null" | "NULL") {
        String::new()
    } else {
        v.to_string()
    }
}

/// Reads the head from the parser's event stream without building the document (rendered
/// output is large and only `kind`, `metadata.name` and `metadata.annotations` matter), still
/// scanning the whole first document so syntax errors surface. `None` asks for the full parse
/// (aliases, merge keys or complex keys, whose meaning needs the tree).
fn head_streaming(doc: &str) -> Option<Result<Head, yamlconv::YamlError>> {
    struct Frame {
        map: bool,
        key: Option<String>,
        awaiting_key: bool,
    }
    let mut h = Head {
        kind: String::new(),
        name: String::new(),
        annotations: None,
    };
    let mut stack: Vec<Frame> = Vec::new();
    let mut parser = saphyr_parser::Parser::new_from_str(doc);
    // The map keys leading to the innermost frame, when every frame on the way is a map.
    let keys = |stack: &[Frame]| -> Option<Vec<String>> {
        let mut out = Vec::with_capacity(stack.len());
        for f in stack {
            if !f.map {
                return None;
            }
            out.push(f.key.clone().unwrap_or_default());
        }
        Some(out)
    };
    while let Some(ev) = parser.next_event() {
        let ev = match ev {
            Ok((ev, _)) => ev,
            Err(e) => {
                if gotemplate::yaml_error::libyaml_compatible(doc).is_some() {
                    // go-yaml reads it: the full parse repairs the text first.
                    return None;
                }
                return Some(Err(yamlconv::YamlError::Syntax(yamlconv::syntax_message(
                    doc, &e,
                ))));
            }
        };
        match ev {
            Event::DocumentEnd | Event::StreamEnd => break,
            Event::Alias(_) => return None,
            Event::Scalar(v, style, _, _) => {
                let Some(top) = stack.last_mut() else {
                    continue;
                };
                if top.map && top.awaiting_key {
                    if v == "<<" {
                        return None;
                    }
                    top.key = Some(v.into_owned());
                    top.awaiting_key = false;
                    continue;
                }
                if top.map {
                    top.awaiting_key = true;
                }
                // Frames are root..innermost; the value sits under the innermost frame's key.
                let Some(path) = keys(&stack) else { continue };
                match path
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .as_slice()
                {
                    ["kind"] => h.kind = scalar_text(&v, style),
                    ["metadata", "name"] => h.name = scalar_text(&v, style),
                    ["metadata", "annotations", k] => {
                        let k = k.to_string();
                        h.annotations
                            .get_or_insert_with(Vec::new)
                            .push((k, scalar_text(&v, style)));
                    }
                    _ => {}
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let map = matches!(ev, Event::MappingStart(..));
                if let Some(top) = stack.last() {
                    if top.map && top.awaiting_key {
                        return None;
                    }
                } else if !map {
                    // A sequence document has no head.
                }
                if map
                    && let Some(path) = keys(&stack)
                    && path.len() == 2
                    && path[0] == "metadata"
                    && path[1] == "annotations"
                {
                    h.annotations.get_or_insert_with(Vec::new);
                }
                stack.push(Frame {
                    map,
                    key: None,
                    awaiting_key: map,
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                if let Some(top) = stack.last_mut()
                    && top.map
                {
                    top.awaiting_key = true;
                }
            }
            Event::StreamStart | Event::DocumentStart(_) | Event::Nothing => {}
        }
    }
    Some(Ok(h))
}

fn order_of(kind: &str) -> Option<usize> {
    INSTALL_ORDER.iter().position(|k| *k == kind)
}

fn less_by_kind(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (order_of(a), order_of(b)) {
        (None, None) => a.cmp(b),
        (None, Some(_)) => Greater,
        (Some(_), None) => Less,
        (Some(x), Some(y)) => x.cmp(&y),
    }
}

/// Helm's `SortManifests` with the install order: files in path order, partials and blank files
/// skipped, hooks split out.
pub fn sort_manifests(
    files: &BTreeMap<String, String>,
) -> Result<(Vec<Hook>, Vec<Manifest>), SortError> {
    let files: Vec<(&String, &String)> = files
        .iter()
        .filter(|(path, content)| {
            let base = path.rsplit('/').next().unwrap_or(path);
            !base.starts_with('_') && !trim_space(content).is_empty()
        })
        .collect();
    // Reading the documents' heads is independent per file: large renders spread it over
    // threads, and the results are joined in path order, so nothing observable changes.
    let total: usize = files.iter().map(|(_, c)| c.len()).sum();
    let workers = if total < PARALLEL_SORT_BYTES {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(files.len())
            .min(4)
    };
    let per_file: Vec<Result<FileParts, SortError>> = if workers < 2 {
        files.iter().map(|(p, c)| sort_file(p, c)).collect()
    } else {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let slots: Vec<std::sync::Mutex<Option<Result<FileParts, SortError>>>> =
            files.iter().map(|_| std::sync::Mutex::new(None)).collect();
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((p, c)) = files.get(i) else { break };
                        *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(sort_file(p, c));
                    }
                });
            }
        });
        slots
            .into_iter()
            .map(|m| {
                m.into_inner()
                    .unwrap_or_else(|e| e.into_inner())
                    .expect("every file was read")
            })
            .collect()
    };
    let mut hooks = Vec::new();
    let mut generic = Vec::new();
    for parts in per_file {
        let (h, g) = parts?;
        hooks.extend(h);
        generic.extend(g);
    }
    hooks.sort_by(|a, b| less_by_kind(&a.kind, &b.kind));
    generic.sort_by(|a, b| less_by_kind(&a.kind, &b.kind));
    Ok((hooks, generic))
}

/// Rendered output from this size on has its heads read on several threads.
const PARALLEL_SORT_BYTES: usize = 256 * 1024;

/// The hooks and plain manifests of one rendered file, in document order.
type FileParts = (Vec<Hook>, Vec<Manifest>);

/// Splits one rendered file into documents and classifies each by its head.
fn sort_file(path: &str, content: &str) -> Result<FileParts, SortError> {
    let mut hooks = Vec::new();
    let mut generic = Vec::new();
    for doc in split_manifests(content) {
        let h = head(&doc).map_err(|source| SortError {
            path: path.to_string(),
            source,
        })?;
        let hook_types = h
            .annotations
            .as_ref()
            .and_then(|a| a.iter().rev().find(|(k, _)| k == "helm.sh/hook"))
            .map(|(_, v)| v.clone());
        let Some(hook_types) = hook_types else {
            generic.push(Manifest {
                name: path.to_string(),
                content: doc,
                kind: h.kind,
            });
            continue;
        };
        let weight = h
            .annotations
            .as_ref()
            .and_then(|a| a.iter().rev().find(|(k, _)| k == "helm.sh/hook-weight"))
            .and_then(|(_, v)| go_atoi(v))
            .unwrap_or(0);
        let mut events = Vec::new();
        let mut unknown = false;
        for t in hook_types.split(',') {
            let t = trim_space(t).to_lowercase();
            if !HOOK_EVENTS.contains(&t.as_str()) {
                unknown = true;
                break;
            }
            events.push(if t == "test-success" {
                "test".to_string()
            } else {
                t
            });
        }
        if unknown {
            continue;
        }
        hooks.push(Hook {
            name: h.name,
            kind: h.kind,
            path: path.to_string(),
            manifest: doc,
            events,
            weight,
        });
    }
    Ok((hooks, generic))
}

/// Go's `strconv.Atoi`.
fn go_atoi(s: &str) -> Option<i64> {
    let d = s.strip_prefix(['+', '-']).unwrap_or(s);
    if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_helm() {
        assert_eq!(
            split_manifests("a: 1\n---\nb: 2\n---\n\n"),
            vec!["a: 1", "b: 2"]
        );
        assert_eq!(split_manifests("---\na: 1"), vec!["a: 1"]);
        assert_eq!(
            split_manifests("a: |\n  x\n  ---\n  y"),
            vec!["a: |\n  x\n  ---\n  y"]
        );
        assert_eq!(split_manifests("a\n---b\n"), vec!["a", "b"]);
    }

    #[test]
    fn streaming_head_agrees_with_the_tree() {
        for doc in [
            "kind: Job\nmetadata:\n  name: x\n  annotations:\n    helm.sh/hook: pre-install\n    w: 5\nspec:\n  kind: Inner\n",
            "apiVersion: v1\nkind: ~\nmetadata: {name: 'q', labels: {kind: no}}\n",
            "- a\n- b\n",
            "# only a comment",
            "a: &x {kind: A}\n<<: *x\n",
            "metadata:\n  annotations: {}\n  name: n\nkind: K\nkind: L\n",
        ] {
            let fast = head_streaming(doc);
            let node = yamlconv::parse_first(doc).unwrap();
            let Some(fast) = fast else { continue };
            let fast = fast.unwrap();
            let (kind, name) = match &node {
                Some(n @ Node::Map(_)) => (
                    n.get("kind").and_then(Node::as_text).unwrap_or_default(),
                    n.get("metadata")
                        .and_then(|m| m.get("name"))
                        .and_then(Node::as_text)
                        .unwrap_or_default(),
                ),
                _ => (String::new(), String::new()),
            };
            assert_eq!((fast.kind, fast.name), (kind, name), "{doc}");
        }
        assert!(head_streaming("a: b\n c: d\n").unwrap().is_err());
    }

    /// Every document the fast path answers must get the streaming reader's answer; run over
    /// the golden outputs, hand-written corner cases and systematic mutations of them.
    #[test]
    fn fast_head_agrees_with_the_parser() {
        let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
        let mut docs: Vec<String> = Vec::new();
        for entry in std::fs::read_dir(golden).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
            docs.extend(split_manifests(&text));
        }
        docs.extend(
            [
                "kind: A\nkind:\n",
                "kind: 'it''s'\nmetadata:\n  name: \"n\"\n",
                "kind: \"a\\tb\"\n",
                "metadata:\n  annotations:\n  - a\n",
                "metadata:\n  annotations: {}\nkind: K # c\n",
                "metadata:\n  annotations:\n    a: |\n      x\n    b: y\n",
                "a:\n- x\n- y\nb:\n  - z\nkind: K\n",
                "- a: 1\n  b:\n  - x\n  c: 2\n- d\n",
                "a: b\n  c\n",
                "a: |\n\n  x\n",
                "a: |\nb: c\n",
                "a: >-\n  x\n   y\n z\n",
                "  kind: K\n  x: 1\n",
                "  kind: K\nx: 1\n",
                "kind: K\n  # deep comment\nx: y\n",
                "a:\n  b:\n c: 1\n",
                "- - a\n",
                "kind: a:b\nx: http://h:1/p\n",
                "kind: -x\ny: - z\n",
                "key : v\n",
                "a: 'x' y\n",
                "\"a\": 1\n",
                "a: \"\\q\"\n",
                "a: [1]\n",
                "a: {}x\n",
                "<<: {}\n",
                // Found by the manifest_heads fuzz target.
                "Typ: [vcgres -,IEsngs ,s]",
                "data:\n  \"\\U11111111g{}\"",
                "a: \"\\uD800\"\n",
                "kind: Job\nmetadata:\n  annotations:\n    helm.sh/hook: post-install,pre-install\n    helm.sh/hook-weight: \"-5\"\n",
            ]
            .map(String::from),
        );
        let originals = docs.len();
        let mut variants = Vec::new();
        for doc in docs.iter().filter(|d| d.len() < 1500) {
            let lines: Vec<&str> = doc.split('\n').collect();
            for i in 0..lines.len() {
                let mut v = lines.clone();
                v.remove(i);
                variants.push(v.join("\n"));
                for (prefix, suffix) in [
                    (" ", ""),
                    ("", " #x"),
                    ("", ":"),
                    ("- ", ""),
                    ("", " |"),
                    ("\"", ""),
                    ("", " '"),
                    ("[", ""),
                    ("", ", x]"),
                    ("  ", ": {}"),
                    ("? ", ""),
                ] {
                    let mut v = lines.clone();
                    let changed = format!("{prefix}{}{suffix}", lines[i]);
                    v[i] = &changed;
                    variants.push(v.join("\n"));
                }
                if let Some(shorter) = lines[i].strip_prefix(' ') {
                    let mut v = lines.clone();
                    v[i] = shorter;
                    variants.push(v.join("\n"));
                }
            }
        }
        docs.extend(variants);
        let mut fast_answers = 0;
        for (n, doc) in docs.iter().enumerate() {
            let Some(fast) = head_fast(doc) else {
                if n < originals {
                    eprintln!("fallback: {doc:?}");
                }
                continue;
            };
            if n < originals {
                fast_answers += 1;
            }
            match head_streaming(doc) {
                Some(Ok(slow)) => assert_eq!(fast, slow, "{doc}"),
                other => panic!(
                    "fast path accepted {doc:?}, parser: {:?}",
                    other.map(|r| r.err())
                ),
            }
        }
        // The rendered charts themselves should (nearly) all take the fast path.
        assert!(
            fast_answers * 10 > originals * 8,
            "fast path answered only {fast_answers} of {originals} documents"
        );
    }

    /// Large renders read heads on several threads; the result must be the one-thread result.
    #[test]
    fn large_renders_sort_as_one_thread_would() {
        let mut files = BTreeMap::new();
        for f in 0..5 {
            let mut text = String::new();
            for d in 0..2000 {
                let kind = ["Deployment", "Service", "ConfigMap", "Zed"][(d + f) % 4];
                text.push_str(&format!(
                    "---\nkind: {kind}\nmetadata:\n  name: f{f}-d{d}\n  annotations:\n"
                ));
                if d % 500 == 7 {
                    text.push_str("    helm.sh/hook: post-install\n");
                }
                text.push_str("    note: x\n");
            }
            files.insert(format!("c/templates/f{f}.yaml"), text);
        }
        assert!(files.values().map(String::len).sum::<usize>() > PARALLEL_SORT_BYTES);
        let (hooks, manifests) = sort_manifests(&files).unwrap();
        let (mut want_hooks, mut want_manifests) = (Vec::new(), Vec::new());
        for (p, c) in &files {
            let (h, m) = sort_file(p, c).unwrap();
            want_hooks.extend(h);
            want_manifests.extend(m);
        }
        want_hooks.sort_by(|a, b| less_by_kind(&a.kind, &b.kind));
        want_manifests.sort_by(|a, b| less_by_kind(&a.kind, &b.kind));
        let names = |m: &[Manifest]| m.iter().map(|m| m.content.clone()).collect::<Vec<_>>();
        assert_eq!(names(&manifests), names(&want_manifests));
        let hook_names = |h: &[Hook]| h.iter().map(|h| h.name.clone()).collect::<Vec<_>>();
        assert_eq!(hook_names(&hooks), hook_names(&want_hooks));
        assert_eq!(hooks.len(), 20);
        // The first broken file in path order is the one reported.
        for f in [3, 1] {
            files
                .get_mut(&format!("c/templates/f{f}.yaml"))
                .unwrap()
                .push_str("---\na: b\n c: d\n");
        }
        let err = sort_manifests(&files).unwrap_err();
        assert_eq!(err.path, "c/templates/f1.yaml");
    }

    #[test]
    fn sorts_by_kind_and_splits_hooks() {
        let mut files = BTreeMap::new();
        files.insert(
            "c/templates/a.yaml".to_string(),
            "kind: Deployment\n---\nkind: Zed\n---\nkind: Service\n---\nkind: Alpha\n".to_string(),
        );
        files.insert(
            "c/templates/h.yaml".to_string(),
            "kind: Job\nmetadata:\n  annotations:\n    helm.sh/hook: pre-install\n---\nkind: Pod\nmetadata:\n  annotations:\n    helm.sh/hook: bogus\n".to_string(),
        );
        files.insert("c/templates/_p.tpl".to_string(), "kind: X".to_string());
        let (hooks, m) = sort_manifests(&files).unwrap();
        let kinds: Vec<&str> = m.iter().map(|m| m.kind.as_str()).collect();
        assert_eq!(kinds, ["Service", "Deployment", "Alpha", "Zed"]);
        assert_eq!(hooks.len(), 1);
        assert_eq!(hooks[0].events, ["pre-install"]);
    }
}
