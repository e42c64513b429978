//! Reading YAML streams into `serde_json::Value`s with the scalar rules Kustomize applies.
//!
//! Kustomize (go-yaml) resolves plain scalars with YAML 1.2-ish rules plus a few 1.1 leftovers:
//! `true`/`false` (three spellings) are booleans but `yes`/`on`/`y` stay strings; `~`, `null` and
//! the empty scalar are null; integers take Go's `0x`/`0o`/`0b`/leading-`0` octal prefixes and `_`
//! separators; floats follow YAML's float pattern; unquoted dates become RFC 3339 timestamps.

use crate::YamlError;
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// Which plain-scalar rules to read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScalarRules {
    /// kyaml / go-yaml v3, how kustomize reads resources and strategic merge patches:
    /// `yes`, `no`, `on`, `off`, `y`, `n` are strings.
    #[default]
    Kyaml,
    /// YAML 1.1 / go-yaml v2 (`sigs.k8s.io/yaml`), how kustomize reads JSON 6902 patch files and
    /// kubectl reads manifests: `yes`, `no`, `on`, `off`, `y`, `n` (any case form) are booleans.
    Yaml11,
}

/// Reads every document of a YAML stream; documents that are empty (or only comments, or
/// an explicit `null`) are skipped, as kustomize skips them.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, YamlError> {
    parse_documents_with(text, ScalarRules::Kyaml)
}

/// [`parse_documents`] with explicit scalar rules.
pub fn parse_documents_with(text: &str, rules: ScalarRules) -> Result<Vec<Value>, YamlError> {
    let mut r = Reader {
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        expanded: 0,
        rules,
    };
    let mut docs = Vec::new();
    loop {
        let (ev, span) = r.next()?;
        match ev {
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                r.anchors.clear();
                let (ev, span) = r.next()?;
                if matches!(ev, Event::DocumentEnd) {
                    continue;
                }
                let v = r.node(ev, span)?;
                if !v.is_null() {
                    docs.push(v);
                }
            }
            other => {
                return Err(YamlError::Syntax {
                    line: span.start.line(),
                    message: format!("unexpected {other:?}"),
                });
            }
        }
    }
    Ok(docs)
}

/// Reads a stream that must hold at most one document (`Value::Null` when empty).
pub fn parse(text: &str) -> Result<Value, YamlError> {
    let mut docs = parse_documents(text)?;
    match docs.len() {
        0 => Ok(Value::Null),
        1 => Ok(docs.remove(0)),
        n => Err(YamlError::MultipleDocuments(n)),
    }
}

struct Reader<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    /// Anchored values with their node counts.
    anchors: HashMap<usize, (Value, usize)>,
    /// Nodes produced by aliases so far in this stream.
    expanded: usize,
    rules: ScalarRules,
}

/// Deepest nesting accepted, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 256;
/// Most nodes that aliases may produce in one stream, so hostile input cannot exhaust memory.
const MAX_ALIAS_EXPANSION: usize = 1_000_000;

fn node_count(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(node_count).sum::<usize>(),
        Value::Object(m) => 1 + m.values().map(node_count).sum::<usize>(),
        _ => 1,
    }
}

/// A `<<` key merges only a mapping or a list of mappings; otherwise it is an ordinary key.
fn is_mergeable(v: &Value) -> bool {
    match v {
        Value::Object(_) => true,
        Value::Array(items) => items.iter().all(Value::is_object),
        _ => false,
    }
}

impl<'a> Reader<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), YamlError> {
        match self.parser.next_event() {
            Some(Ok(e)) => Ok(e),
            Some(Err(e)) => Err(YamlError::Syntax {
                line: e.marker().line(),
                message: e.info().to_string(),
            }),
            None => Ok((Event::StreamEnd, Span::default())),
        }
    }

    fn node(&mut self, ev: Event<'a>, span: Span) -> Result<Value, YamlError> {
        self.node_at(ev, span, 0)
    }

    fn node_at(&mut self, ev: Event<'a>, span: Span, depth: usize) -> Result<Value, YamlError> {
        if depth > MAX_DEPTH {
            return Err(YamlError::Syntax {
                line: span.start.line(),
                message: "nesting too deep".into(),
            });
        }
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let v = scalar(&text, style, tag.as_ref(), span.start.line())?;
                let v = match (&v, self.rules, style) {
                    (Value::String(t), ScalarRules::Yaml11, ScalarStyle::Plain)
                        if tag.is_none() =>
                    {
                        yaml11_bool(t).map_or(v, Value::Bool)
                    }
                    _ => v,
                };
                self.remember(anchor, &v);
                Ok(v)
            }
            Event::Alias(id) => {
                let line = span.start.line();
                let (v, size) = self.anchors.get(&id).ok_or_else(|| YamlError::Syntax {
                    line,
                    message: "unknown anchor".into(),
                })?;
                // Aliases of aliases can blow up exponentially ("billion laughs"): cap the total.
                self.expanded += size;
                if self.expanded > MAX_ALIAS_EXPANSION {
                    return Err(YamlError::Syntax {
                        line,
                        message: "aliases expand to too many nodes".into(),
                    });
                }
                Ok(v.clone())
            }
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (ev, span) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node_at(ev, span, depth + 1)?);
                }
                let v = Value::Array(items);
                self.remember(anchor, &v);
                Ok(v)
            }
            Event::MappingStart(anchor, _) => {
                let mut map = Map::new();
                // Keys that came from `<<` merges; explicit keys may still override them.
                let mut merged: HashSet<String> = HashSet::new();
                loop {
                    let (ev, kspan) = self.next()?;
                    if matches!(ev, Event::MappingEnd) {
                        break;
                    }
                    let is_merge =
                        matches!(&ev, Event::Scalar(t, ScalarStyle::Plain, _, None) if t == "<<");
                    let key = self.node_at(ev, kspan, depth + 1)?;
                    let (vev, vspan) = self.next()?;
                    let value = self.node_at(vev, vspan, depth + 1)?;
                    if is_merge && is_mergeable(&value) {
                        merge_into(&mut map, &mut merged, value);
                        continue;
                    }
                    let key = key_string(key);
                    if map.contains_key(&key) && !merged.remove(&key) {
                        return Err(YamlError::Syntax {
                            line: kspan.start.line(),
                            message: format!("mapping key {key:?} already defined"),
                        });
                    }
                    map.insert(key, value);
                }
                let v = Value::Object(map);
                self.remember(anchor, &v);
                Ok(v)
            }
            other => Err(YamlError::Syntax {
                line: span.start.line(),
                message: format!("unexpected {other:?}"),
            }),
        }
    }

    fn remember(&mut self, anchor: usize, v: &Value) {
        if anchor != 0 {
            self.anchors.insert(anchor, (v.clone(), node_count(v)));
        }
    }
}

/// `<<: *base` or `<<: [*a, *b]`: keys not already present (explicit or merged earlier) are
/// taken from the merged maps, earlier maps winning over later ones.
fn merge_into(map: &mut Map<String, Value>, merged: &mut HashSet<String>, value: Value) {
    let sources = match value {
        Value::Object(m) => vec![m],
        Value::Array(items) => items
            .into_iter()
            .filter_map(|i| match i {
                Value::Object(m) => Some(m),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    for m in sources {
        for (k, v) in m {
            if map.contains_key(&k) {
                continue;
            }
            merged.insert(k.clone());
            map.insert(k, v);
        }
    }
}

/// Map keys become strings, as they do when kustomize converts objects to JSON.
fn key_string(key: Value) -> String {
    match key {
        Value::String(s) => s,
        Value::Null => "null".to_string(),
        other => other.to_string(),
    }
}

fn scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Cow<'_, Tag>>,
    line: usize,
) -> Result<Value, YamlError> {
    if let Some(tag) = tag
        && (tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!")
    {
        {
            return Ok(match tag.suffix.as_str() {
                "str" | "binary" | "timestamp" => Value::String(text.to_string()),
                "null" => Value::Null,
                "bool" | "int" | "float" => match resolve_plain(text) {
                    Value::String(_) => {
                        return Err(YamlError::Syntax {
                            line,
                            message: format!("cannot decode {text:?} as !!{}", tag.suffix),
                        });
                    }
                    v => v,
                },
                _ => resolve_by_style(text, style),
            });
        }
    }
    Ok(resolve_by_style(text, style))
}

fn resolve_by_style(text: &str, style: ScalarStyle) -> Value {
    match style {
        ScalarStyle::Plain => resolve_plain(text),
        _ => Value::String(text.to_string()),
    }
}

/// The YAML 1.1 booleans go-yaml v3 reads as strings.
fn yaml11_bool(s: &str) -> Option<bool> {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// Resolves a plain scalar as go-yaml v3 does.
pub(crate) fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => {
            // JSON cannot hold these; kustomize fails on them. Keep the text.
            return Value::String(s.to_string());
        }
        _ => {}
    }
    let first = s.as_bytes()[0];
    if first == b'.' {
        return match s.parse::<f64>() {
            Ok(f) if go_float_syntax(s) => float_value(f, s),
            _ => Value::String(s.to_string()),
        };
    }
    if !(first.is_ascii_digit() || first == b'+' || first == b'-') {
        return Value::String(s.to_string());
    }
    if let Some(ts) = crate::timestamp::parse(s) {
        return Value::String(ts);
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    if let Some(v) = go_parse_int(&plain) {
        return v;
    }
    if is_yaml_float(&plain)
        && let Ok(f) = plain.parse::<f64>()
    {
        return float_value(f, s);
    }
    for (prefix, neg) in [("0b", false), ("-0b", true), ("0o", false), ("-0o", true)] {
        if let Some(d) = plain.strip_prefix(prefix) {
            let radix = if prefix.ends_with('b') { 2 } else { 8 };
            if let Ok(n) = i64::from_str_radix(d, radix) {
                return Value::Number(Number::from(if neg { -n } else { n }));
            }
        }
    }
    Value::String(s.to_string())
}

fn float_value(f: f64, text: &str) -> Value {
    Number::from_f64(f).map_or_else(|| Value::String(text.to_string()), Value::Number)
}

/// Characters Go's `strconv.ParseFloat` accepts in decimal floats.
fn go_float_syntax(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - st
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseInt(s, 0, 64)` then `ParseUint(s, 0, 64)`: sign, `0x`/`0o`/`0b`, and a
/// leading `0` meaning octal.
fn go_parse_int(s: &str) -> Option<Value> {
    let (neg, body) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let (radix, digits) =
        if let Some(d) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, d)
        } else if let Some(d) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
            (8, d)
        } else if let Some(d) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (2, d)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..])
        } else {
            (10, body)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let mag = u64::from_str_radix(digits, radix).ok()?;
    if neg {
        if mag <= i64::MAX as u64 + 1 {
            return Some(Value::Number(Number::from(
                (mag as i128).wrapping_neg() as i64
            )));
        }
        return None;
    }
    Some(Value::Number(Number::from(mag)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_scalars_resolve_like_go_yaml() {
        let cases: &[(&str, Value)] = &[
            ("yes", json!("yes")),
            ("on", json!("on")),
            ("y", json!("y")),
            ("True", json!(true)),
            ("FALSE", json!(false)),
            ("~", Value::Null),
            ("Null", Value::Null),
            ("0777", json!(511)),
            ("0o17", json!(15)),
            ("0x1F", json!(31)),
            ("1_000", json!(1000)),
            ("+12", json!(12)),
            ("-7", json!(-7)),
            ("09", json!(9.0)),
            ("1.5", json!(1.5)),
            ("1e3", json!(1000.0)),
            (".5", json!(0.5)),
            ("1.", json!(1.0)),
            ("12345678901234567890", json!(12345678901234567890u64)),
            ("0.1.2", json!("0.1.2")),
            ("1:20", json!("1:20")),
            ("-", json!("-")),
            ("2001-12-14", json!("2001-12-14T00:00:00Z")),
            ("abc", json!("abc")),
        ];
        for (text, want) in cases {
            assert_eq!(&resolve_plain(text), want, "resolving {text:?}");
        }
    }
}
