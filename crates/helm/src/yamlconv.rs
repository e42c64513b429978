//! YAML → JSON-model conversion with Helm's exact semantics: go-yaml v2 scalar resolution (YAML 1.1
//! booleans such as `yes`/`on`, octal `017`, `1_000`), then sigs.k8s.io/yaml's JSON round trip, which
//! turns every number into a float64.

use saphyr_parser::{Event, Parser, ScalarStyle};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

/// Errors while reading YAML.
#[derive(Debug, thiserror::Error)]
pub enum YamlError {
    /// The text is not valid YAML.
    #[error("error converting YAML to JSON: yaml: {0}")]
    Syntax(String),
    /// A value has no JSON form (NaN, infinity, null map keys).
    #[error("error converting YAML to JSON: {0}")]
    Unsupported(String),
    /// The document is not a mapping where one was required.
    #[error(
        "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {0} into Go value of type map[string]interface {{}}"
    )]
    NotAMap(&'static str),
}

/// A resolved YAML scalar, as go-yaml v2 sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// `null`, `~`, empty.
    Null,
    /// YAML 1.1 booleans.
    Bool(bool),
    /// Integers that fit in int64.
    Int(i64),
    /// Integers above int64's range.
    Uint(u64),
    /// Floats (including `.inf` / `.nan`).
    Float(f64),
    /// Everything else, and every quoted or block scalar.
    Str(String),
}

/// One YAML node with the original text of scalars kept (string-typed Go fields read the raw text).
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A scalar: resolved value and the source text.
    Scalar(Scalar, String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping in document order (keys already converted to strings as sigs.k8s.io/yaml does).
    Map(Vec<(String, Node)>),
}

impl Node {
    /// Looks up a key of a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The text of a scalar as a Go string field would receive it (null → None).
    pub fn as_text(&self) -> Option<String> {
        match self {
            Node::Scalar(Scalar::Null, _) => None,
            Node::Scalar(_, raw) => Some(raw.clone()),
            _ => None,
        }
    }

    /// Converts to the JSON model with every number a float64 (sigs.k8s.io/yaml semantics).
    pub fn to_json(&self) -> Result<Value, YamlError> {
        Ok(match self {
            Node::Scalar(s, _) => match s {
                Scalar::Null => Value::Null,
                Scalar::Bool(b) => Value::Bool(*b),
                Scalar::Int(i) => float(*i as f64)?,
                Scalar::Uint(u) => float(*u as f64)?,
                Scalar::Float(f) => float(*f)?,
                Scalar::Str(s) => Value::String(s.clone()),
            },
            Node::Seq(items) => {
                Value::Array(items.iter().map(Node::to_json).collect::<Result<_, _>>()?)
            }
            Node::Map(entries) => {
                let mut m = Map::new();
                for (k, v) in entries {
                    m.insert(k.clone(), v.to_json()?);
                }
                Value::Object(m)
            }
        })
    }
}

fn float(f: f64) -> Result<Value, YamlError> {
    Number::from_f64(f).map(Value::Number).ok_or_else(|| {
        YamlError::Unsupported(format!("json: unsupported value: {}", go_float_name(f)))
    })
}

fn go_float_name(f: f64) -> &'static str {
    if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "+Inf"
    } else {
        "-Inf"
    }
}

/// Parses the first document of `text` (go-yaml v2 `Unmarshal` reads only the first one); `None`
/// for an empty stream.
pub fn parse_first(text: &str) -> Result<Option<Node>, YamlError> {
    let mut docs = parse_docs(text, true)?;
    Ok(if docs.is_empty() {
        None
    } else {
        Some(docs.remove(0))
    })
}

/// Parses every document of `text`.
pub fn parse_all(text: &str) -> Result<Vec<Node>, YamlError> {
    parse_docs(text, false)
}

/// Parses a values document that must be a mapping (or empty) into a JSON object.
fn values_doc(node: Node) -> Result<Map<String, Value>, YamlError> {
    match node.to_json()? {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        Value::Array(_) => Err(YamlError::NotAMap("array")),
        Value::String(_) => Err(YamlError::NotAMap("string")),
        Value::Bool(_) => Err(YamlError::NotAMap("bool")),
        Value::Number(_) => Err(YamlError::NotAMap("number")),
    }
}

/// Parses a values file as Helm v4's `LoadValues` does: every document is a mapping (or empty)
/// and later documents are merged over earlier ones.
pub fn parse_values(text: &str) -> Result<Map<String, Value>, YamlError> {
    let mut out = Map::new();
    for doc in parse_all(text)? {
        out = merge_maps(out, values_doc(doc)?);
    }
    Ok(out)
}

/// Helm's `MergeMaps`: maps merged recursively, everything else replaced.
pub fn merge_maps(mut a: Map<String, Value>, b: Map<String, Value>) -> Map<String, Value> {
    for (k, v) in b {
        if let Value::Object(vm) = v {
            if let Some(Value::Object(am)) = a.get_mut(&k) {
                let merged = merge_maps(std::mem::take(am), vm);
                *am = merged;
                continue;
            }
            a.insert(k, Value::Object(vm));
        } else {
            a.insert(k, v);
        }
    }
    a
}

enum Frame {
    Seq(usize, Vec<Node>),
    Map(usize, Vec<(String, Node)>, Option<String>),
}

fn parse_docs(text: &str, first_only: bool) -> Result<Vec<Node>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    // Anchored nodes with the number of nodes decoding them costs (aliases inside expanded).
    let mut anchors: HashMap<usize, (Node, usize)> = HashMap::new();
    let mut root: Option<Node> = None;
    // Per open collection, the nodes decoded for it so far; and go-yaml's document counters.
    let mut sizes: Vec<usize> = Vec::new();
    let mut budget = AliasBudget::default();
    while let Some(ev) = parser.next_event() {
        let (ev, _span) = match ev {
            Ok(x) => x,
            Err(e) => {
                // saphyr-parser refuses a few things go-yaml accepts (tabs after `:`, ...).
                if let Some(fixed) = gotemplate::yaml_error::libyaml_compatible(text) {
                    return parse_docs(&fixed, first_only);
                }
                return Err(YamlError::Syntax(syntax_message(text, &e)));
            }
        };
        let done: Option<(Node, usize, usize)> = match ev {
            Event::StreamStart | Event::Nothing => None,
            Event::DocumentStart(_) => {
                budget = AliasBudget::default();
                None
            }
            Event::StreamEnd => break,
            Event::DocumentEnd => {
                docs.push(
                    root.take()
                        .unwrap_or(Node::Scalar(Scalar::Null, String::new())),
                );
                if first_only {
                    return Ok(docs);
                }
                None
            }
            Event::Alias(id) => {
                let (node, size) = anchors
                    .get(&id)
                    .ok_or_else(|| YamlError::Syntax("unknown anchor referenced".into()))?;
                // Counted before the copy is made, so an alias bomb fails instead of
                // exhausting memory.
                budget.count(1, 0)?;
                budget.count(*size, *size)?;
                Some((node.clone(), 0, 1 + size))
            }
            Event::Scalar(value, style, anchor, tag) => {
                let raw = value.to_string();
                let tag_name = tag.as_ref().map(|t| format!("{}{}", t.handle, t.suffix));
                let resolved = if style != ScalarStyle::Plain {
                    Scalar::Str(raw.clone())
                } else {
                    match tag_name.as_deref() {
                        None
                        | Some("!!null" | "!!bool" | "!!int" | "!!float" | "!!timestamp")
                        | Some(
                            "tag:yaml.org,2002:null"
                            | "tag:yaml.org,2002:bool"
                            | "tag:yaml.org,2002:int"
                            | "tag:yaml.org,2002:float",
                        ) => resolve_plain(&raw),
                        _ => Scalar::Str(raw.clone()),
                    }
                };
                budget.count(1, 0)?;
                Some((Node::Scalar(resolved, raw), anchor, 1))
            }
            Event::SequenceStart(anchor, _) => {
                budget.count(1, 0)?;
                stack.push(Frame::Seq(anchor, Vec::new()));
                sizes.push(1);
                None
            }
            Event::MappingStart(anchor, _) => {
                budget.count(1, 0)?;
                stack.push(Frame::Map(anchor, Vec::new(), None));
                sizes.push(1);
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq(anchor, items)) => {
                    Some((Node::Seq(items), anchor, sizes.pop().unwrap_or(1)))
                }
                _ => return Err(YamlError::Syntax("unbalanced sequence".into())),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map(anchor, entries, _)) => {
                    Some((Node::Map(entries), anchor, sizes.pop().unwrap_or(1)))
                }
                _ => return Err(YamlError::Syntax("unbalanced mapping".into())),
            },
        };
        if let Some((node, anchor, size)) = done {
            if let Some(parent) = sizes.last_mut() {
                *parent += size;
            }
            if anchor != 0 {
                anchors.insert(anchor, (node.clone(), size));
            }
            attach(&mut stack, &mut root, node)?;
        }
    }
    if let Some(r) = root.take() {
        docs.push(r);
    }
    Ok(docs)
}

/// go-yaml's guard against alias bombs ("billion laughs"): per document, the nodes decoded and
/// those decoded through aliases; too high a share of aliased nodes fails the document.
#[derive(Default)]
struct AliasBudget {
    decoded: usize,
    aliased: usize,
}

impl AliasBudget {
    fn count(&mut self, decoded: usize, aliased: usize) -> Result<(), YamlError> {
        self.decoded = self.decoded.saturating_add(decoded);
        self.aliased = self.aliased.saturating_add(aliased);
        // go-yaml v2's allowedAliasRatio: 99 % up to 400k nodes, down to 10 % at 4M.
        let ratio = match self.decoded {
            n if n <= 400_000 => 0.99,
            n if n >= 4_000_000 => 0.10,
            n => 0.99 - 0.89 * ((n - 400_000) as f64 / 3_600_000.0),
        };
        if self.aliased > 100
            && self.decoded > 1000
            && self.aliased as f64 / self.decoded as f64 > ratio
        {
            return Err(YamlError::Syntax(
                "document contains excessive aliasing".into(),
            ));
        }
        Ok(())
    }
}

/// go-yaml v2's message (`line N: problem`) for saphyr-parser's error `e` on `text`: Helm reads
/// each `---`-separated document on its own, so the document holding the error is re-read by
/// [`gotemplate::yaml_error::syntax_error`], which numbers lines as go-yaml does.
pub fn syntax_message(text: &str, e: &saphyr_parser::ScanError) -> String {
    let error_line = e.marker().line();
    let (mut start, mut end, mut offset) = (0, text.len(), 0);
    for (i, l) in text.split_inclusive('\n').enumerate() {
        let separator = l.starts_with("---") && l[3..].trim().is_empty();
        if separator {
            if i + 1 < error_line {
                start = offset + l.len();
            } else {
                end = offset;
                break;
            }
        }
        offset += l.len();
    }
    gotemplate::yaml_error::syntax_error(&text[start..end.max(start)])
        .unwrap_or_else(|| format!("line {}: {}", error_line, e.info()))
}

fn attach(stack: &mut [Frame], root: &mut Option<Node>, node: Node) -> Result<(), YamlError> {
    match stack.last_mut() {
        None => *root = Some(node),
        Some(Frame::Seq(_, items)) => items.push(node),
        Some(Frame::Map(_, entries, pending)) => match pending.take() {
            None => *pending = Some(key_string(&node)?),
            Some(key) => {
                if key == "<<" && !matches!(node, Node::Scalar(..)) {
                    // go-yaml v2 merge keys: merged entries land at this position.
                    let sources = match node {
                        Node::Seq(items) => items,
                        other => vec![other],
                    };
                    for src in sources {
                        if let Node::Map(kv) = src {
                            for (k, v) in kv {
                                set_entry(entries, k, v);
                            }
                        } else {
                            return Err(YamlError::Syntax(
                                "map merge requires map or sequence of maps as the value".into(),
                            ));
                        }
                    }
                } else {
                    set_entry(entries, key, node);
                }
            }
        },
    }
    Ok(())
}

fn set_entry(entries: &mut Vec<(String, Node)>, key: String, value: Node) {
    if let Some(slot) = entries.iter_mut().find(|(k, _)| *k == key) {
        slot.1 = value;
    } else {
        entries.push((key, value));
    }
}

fn key_string(node: &Node) -> Result<String, YamlError> {
    match node {
        Node::Scalar(s, raw) => match s {
            Scalar::Str(s) => Ok(s.clone()),
            Scalar::Int(i) => Ok(i.to_string()),
            Scalar::Uint(u) => Ok(u.to_string()),
            Scalar::Bool(b) => Ok(b.to_string()),
            Scalar::Float(f) => Ok(if f.is_nan() {
                ".nan".into()
            } else if f.is_infinite() {
                if *f > 0.0 {
                    ".inf".into()
                } else {
                    "-.inf".into()
                }
            } else {
                // go-yaml formats float keys with float32 precision.
                let s = format!("{}", *f as f32);
                if s.contains('e') { raw.clone() } else { s }
            }),
            Scalar::Null => Err(YamlError::Unsupported(
                "unsupported map key of type: <nil>".into(),
            )),
        },
        _ => Err(YamlError::Unsupported(
            "invalid map key: a collection".into(),
        )),
    }
}

/// go-yaml v2 plain-scalar resolution (the rules live in [`gotemplate::yaml11`], shared with
/// `fromYaml` and `toYaml`).
pub fn resolve_plain(s: &str) -> Scalar {
    use gotemplate::yaml11::Resolved;
    match gotemplate::yaml11::resolve(s, None) {
        Resolved::Null => Scalar::Null,
        Resolved::Bool(b) => Scalar::Bool(b),
        Resolved::Int(i) => Scalar::Int(i),
        Resolved::Uint(u) => Scalar::Uint(u),
        Resolved::Float(f) => Scalar::Float(f),
        Resolved::Timestamp | Resolved::Str => Scalar::Str(s.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A "billion laughs" document fails as in go-yaml instead of expanding into gigabytes;
    /// moderate aliasing is fine.
    #[test]
    fn alias_bombs_are_refused() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let refs = vec![format!("*a{}", i - 1); 9].join(", ");
            bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let err = parse_values(&bomb).unwrap_err().to_string();
        assert!(
            err.ends_with("document contains excessive aliasing"),
            "{err}"
        );
        let chart_yaml = format!("apiVersion: v2\nname: c\nversion: 0.1.0\n{bomb}");
        assert!(crate::chart::parse_metadata(chart_yaml.as_bytes()).is_err());
        let mut fine = String::from("base: &b {k: v, l: [1, 2, 3]}\n");
        for i in 0..200 {
            fine.push_str(&format!("u{i}: *b\n"));
        }
        assert_eq!(parse_values(&fine).unwrap().len(), 201);
    }

    #[test]
    fn resolves_like_go_yaml_v2() {
        assert_eq!(resolve_plain("yes"), Scalar::Bool(true));
        assert_eq!(resolve_plain("Off"), Scalar::Bool(false));
        assert_eq!(resolve_plain("017"), Scalar::Int(15));
        assert_eq!(resolve_plain("08"), Scalar::Float(8.0));
        assert_eq!(resolve_plain("1_000"), Scalar::Int(1000));
        assert_eq!(resolve_plain("0x1F"), Scalar::Int(31));
        assert_eq!(resolve_plain("1e3"), Scalar::Float(1000.0));
        assert_eq!(
            resolve_plain("2001-12-14"),
            Scalar::Str("2001-12-14".into())
        );
        assert_eq!(resolve_plain("1.2.3"), Scalar::Str("1.2.3".into()));
        assert_eq!(resolve_plain("~"), Scalar::Null);
    }

    #[test]
    fn numbers_become_floats_and_merge_keys_apply() {
        let v = parse_values("a: &x {p: 1, q: two}\nb:\n  <<: *x\n  q: three\nc: 10\n").unwrap();
        assert_eq!(v["c"].as_f64(), Some(10.0));
        assert!(v["c"].is_f64());
        assert_eq!(v["b"]["p"].as_f64(), Some(1.0));
        assert_eq!(v["b"]["q"], "three");
    }

    #[test]
    fn non_map_document_is_an_error() {
        assert!(parse_values("- a\n- b\n").is_err());
        assert!(parse_values("").unwrap().is_empty());
        assert!(parse_values("# only a comment\n").unwrap().is_empty());
        let multi = parse_values("a: 1\nm: {x: 1}\n---\nb: 2\nm: {z: 2}\n").unwrap();
        assert_eq!(
            Value::Object(multi),
            serde_json::json!({"a": 1.0, "b": 2.0, "m": {"x": 1.0, "z": 2.0}})
        );
    }
}
