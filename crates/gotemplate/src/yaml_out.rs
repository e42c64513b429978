//! A YAML emitter matching go-yaml v2 (what Helm's `toYaml` uses through sigs.k8s.io/yaml):
//! sorted keys, 2-space indent, sequences not indented under mapping keys, go-yaml's
//! quoting rules and its folding of long scalars at 80 columns.

use crate::value::Value;

/// Emitter flavour.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// go-yaml v2 via sigs.k8s.io/yaml (`toYaml`): values pass through JSON first.
    V2,
    /// go-yaml v3 with indent 2 (`toYamlPretty`): sequences indented under keys.
    V3Pretty,
}

const BEST_WIDTH: usize = 80;

struct Emitter {
    out: String,
    column: usize,
    flavor: Flavor,
}

/// Serializes like Helm's `toYaml` (without trimming the final newline).
pub fn to_yaml(v: &Value, flavor: Flavor) -> Result<String, String> {
    let v = if flavor == Flavor::V2 {
        json_normalize(v, 0)?
    } else {
        v.clone()
    };
    let mut e = Emitter {
        out: String::new(),
        column: 0,
        flavor,
    };
    e.node(&v, 0, Ctx::Root, 0)?;
    if !e.out.ends_with('\n') {
        e.out.push('\n');
    }
    Ok(e.out)
}

/// sigs.k8s.io/yaml marshals through JSON: integral floats below 1e21 become integers,
/// NaN/Inf are errors, objects become their field maps.
fn json_normalize(v: &Value, depth: usize) -> Result<Value, String> {
    if depth > crate::value::MAX_VALUE_DEPTH {
        return Err("json: unsupported value: encountered a cycle".into());
    }
    Ok(match v {
        Value::Float(f) => {
            if !f.is_finite() {
                return Err(format!(
                    "json: unsupported value: {}",
                    crate::gofmt::format_float(*f, 'g', -1)
                ));
            }
            let text = crate::json::format_float(*f)?;
            if !text.contains(['.', 'e', 'E']) {
                match text.parse::<i64>() {
                    Ok(i) => Value::Int(i),
                    Err(_) => Value::Float(*f),
                }
            } else {
                Value::Float(*f)
            }
        }
        Value::List(l, _) => Value::list(
            l.iter()
                .map(|x| json_normalize(x, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(m) => Value::map(
            m.read()
                .iter()
                .map(|(k, x)| {
                    let k = crate::gostr::to_lossy(k).into_owned();
                    Ok((k, json_normalize(x, depth + 1)?))
                })
                .collect::<Result<_, String>>()?,
        ),
        // encoding/json replaced each invalid byte with U+FFFD.
        Value::String(s) if crate::gostr::has_raw_bytes(s) => {
            Value::str(crate::gostr::to_lossy(s).into_owned())
        }
        Value::Bytes(b) => Value::str(crate::encoding::b64_encode(b)),
        Value::Object(o) => json_normalize(&o.to_value(), depth + 1)?,
        other => other.clone(),
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Root,
    MapValue,
    SeqItem,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

struct Analysis {
    multiline: bool,
    block_plain: bool,
    single: bool,
    block: bool,
}

fn is_printable(c: char) -> bool {
    matches!(c as u32, 0x0A | 0x20..=0x7E | 0x85 | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
        && c != '\u{FEFF}'
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => c == ' ' || c == '\t' || is_break(c),
    }
}

fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            multiline: false,
            block_plain: true,
            single: true,
            block: false,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    let mut flow_ind = false;
    let mut block_ind = false;
    if s.starts_with("---") || s.starts_with("...") {
        block_ind = true;
        flow_ind = true;
    }
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    let mut preceded_ws = true;
    for i in 0..n {
        let c = chars[i];
        let followed_ws = is_blank(chars.get(i + 1).copied());
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    flow_ind = true;
                    block_ind = true;
                }
                '?' | ':' => {
                    flow_ind = true;
                    if followed_ws {
                        block_ind = true;
                    }
                }
                '-' if followed_ws => {
                    flow_ind = true;
                    block_ind = true;
                }
                _ => {}
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => flow_ind = true,
                ':' => {
                    flow_ind = true;
                    if followed_ws {
                        block_ind = true;
                    }
                }
                '#' if preceded_ws => {
                    flow_ind = true;
                    block_ind = true;
                }
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i == n - 1 {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if i == n - 1 {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_ws = is_blank(Some(c));
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain: true,
        single: true,
        block: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain = false;
    }
    if trailing_space {
        a.block = false;
    }
    if break_space {
        a.block_plain = false;
        a.single = false;
    }
    if space_break || special {
        a.block_plain = false;
        a.single = false;
        a.block = false;
    }
    if line_breaks {
        a.block_plain = false;
    }
    let _ = flow_ind;
    if block_ind {
        a.block_plain = false;
    }
    a
}

/// go-yaml v2's `resolve`: does this plain text read back as something other than a string?
fn resolves_non_string(s: &str, flavor: Flavor) -> bool {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return true,
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => return true,
        "y" | "Y" | "yes" | "Yes" | "YES" | "n" | "N" | "no" | "No" | "NO" | "on" | "On" | "ON"
        | "off" | "Off" | "OFF" => return true,
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => return true,
        _ => {}
    }
    let first = s.chars().next().unwrap_or(' ');
    if !(first.is_ascii_digit() || "+-.".contains(first)) {
        return false;
    }
    let plain = s.replace('_', "");
    if crate::gofmt::parse_go_int(&plain).is_some() || crate::gofmt::parse_go_uint(&plain).is_some()
    {
        return true;
    }
    if crate::yaml11::is_float_syntax(&plain) {
        return true;
    }
    if let Some(b) = plain
        .strip_prefix("0b")
        .or_else(|| plain.strip_prefix("-0b"))
        && !b.is_empty()
        && b.bytes().all(|c| c == b'0' || c == b'1')
    {
        return true;
    }
    if flavor == Flavor::V2 && is_base60_float(s) {
        return true;
    }
    crate::yaml11::is_timestamp(s)
}

fn is_base60_float(s: &str) -> bool {
    // ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$
    let t = s.trim_start_matches(['+', '-']);
    if t.len() + 1 < s.len() {
        return false;
    }
    let (main, frac) = match t.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (t, None),
    };
    if let Some(f) = frac
        && !f.bytes().all(|c| c.is_ascii_digit() || c == b'_')
    {
        return false;
    }
    let mut parts = main.split(':');
    let head = parts.next().unwrap_or("");
    if head.is_empty()
        || !head.as_bytes()[0].is_ascii_digit()
        || !head.bytes().all(|c| c.is_ascii_digit() || c == b'_')
    {
        return false;
    }
    let mut n = 0;
    for p in parts {
        n += 1;
        let ok = match p.len() {
            1 => p.as_bytes()[0].is_ascii_digit(),
            2 => (b'0'..=b'5').contains(&p.as_bytes()[0]) && p.as_bytes()[1].is_ascii_digit(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    n > 0
}

fn format_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    crate::gofmt::format_float(f, 'g', -1)
}

impl Emitter {
    fn put(&mut self, s: &str) {
        for c in s.chars() {
            if c == '\n' {
                self.column = 0;
            } else {
                self.column += 1;
            }
        }
        self.out.push_str(s);
    }

    fn put_char(&mut self, c: char) {
        if c == '\n' {
            self.column = 0;
        } else {
            self.column += 1;
        }
        self.out.push(c);
    }

    fn newline_indent(&mut self, indent: usize) {
        self.put_char('\n');
        for _ in 0..indent {
            self.put_char(' ');
        }
    }

    fn choose_style(&self, s: &str, simple_key: bool) -> Style {
        let a = analyze(s);
        let mut style = if s.contains('\n') {
            Style::Literal
        } else if resolves_non_string(s, self.flavor) {
            Style::Double
        } else {
            Style::Plain
        };
        if style == Style::Plain && (!a.block_plain || (s.is_empty() && simple_key)) {
            style = Style::Single;
        }
        if style == Style::Single && !a.single {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block || simple_key) {
            style = Style::Double;
        }
        let _ = a.multiline;
        style
    }

    /// Writes a string scalar; `indent` is the scalar's own indentation (continuations).
    fn string(&mut self, s: &str, indent: usize, simple_key: bool) {
        // go-yaml v3 (toYamlPretty) does not fold long scalars; v2 folds at 80 columns.
        let allow_breaks = !simple_key && self.flavor == Flavor::V2;
        match self.choose_style(s, simple_key) {
            Style::Plain => {
                let chars: Vec<char> = s.chars().collect();
                let mut spaces = false;
                for i in 0..chars.len() {
                    let c = chars[i];
                    if c == ' ' {
                        if allow_breaks
                            && !spaces
                            && self.column > BEST_WIDTH
                            && chars.get(i + 1) != Some(&' ')
                        {
                            self.newline_indent(indent);
                        } else {
                            self.put_char(c);
                        }
                        spaces = true;
                    } else {
                        self.put_char(c);
                        spaces = false;
                    }
                }
            }
            Style::Single => {
                self.put_char('\'');
                let chars: Vec<char> = s.chars().collect();
                let mut spaces = false;
                for i in 0..chars.len() {
                    let c = chars[i];
                    if c == ' ' {
                        if allow_breaks
                            && !spaces
                            && self.column > BEST_WIDTH
                            && i > 0
                            && i < chars.len() - 1
                            && chars.get(i + 1) != Some(&' ')
                        {
                            self.newline_indent(indent);
                        } else {
                            self.put_char(c);
                        }
                        spaces = true;
                    } else {
                        if c == '\'' {
                            self.put_char('\'');
                        }
                        self.put_char(c);
                        spaces = false;
                    }
                }
                self.put_char('\'');
            }
            Style::Double => {
                self.put_char('"');
                let chars: Vec<char> = s.chars().collect();
                let mut spaces = false;
                let n = chars.len();
                for i in 0..n {
                    let c = chars[i];
                    if !is_printable(c) || c == '\u{FEFF}' || is_break(c) || c == '"' || c == '\\' {
                        let esc = match c {
                            '\0' => "\\0".to_string(),
                            '\x07' => "\\a".into(),
                            '\x08' => "\\b".into(),
                            '\t' => "\\t".into(),
                            '\n' => "\\n".into(),
                            '\x0b' => "\\v".into(),
                            '\x0c' => "\\f".into(),
                            '\r' => "\\r".into(),
                            '\x1b' => "\\e".into(),
                            '"' => "\\\"".into(),
                            '\\' => "\\\\".into(),
                            '\u{85}' => "\\N".into(),
                            '\u{A0}' => "\\_".into(),
                            '\u{2028}' => "\\L".into(),
                            '\u{2029}' => "\\P".into(),
                            c if (c as u32) <= 0xFF => format!("\\x{:02X}", c as u32),
                            c if (c as u32) <= 0xFFFF => format!("\\u{:04X}", c as u32),
                            c => format!("\\U{:08X}", c as u32),
                        };
                        self.put(&esc);
                        spaces = false;
                    } else if c == ' ' {
                        if allow_breaks
                            && !spaces
                            && self.column > BEST_WIDTH
                            && i != 0
                            && i != n - 1
                        {
                            self.newline_indent(indent);
                            if chars.get(i + 1) == Some(&' ') {
                                self.put_char('\\');
                            }
                        } else {
                            self.put_char(c);
                        }
                        spaces = true;
                    } else {
                        self.put_char(c);
                        spaces = false;
                    }
                }
                self.put_char('"');
            }
            Style::Literal => {
                self.put_char('|');
                if s.starts_with(' ') || s.starts_with('\n') {
                    self.put_char('2');
                }
                let bytes = s.as_bytes();
                let chomp = if !s.ends_with('\n') {
                    "-"
                } else if s.len() == 1 || bytes[bytes.len() - 2] == b'\n' {
                    "+"
                } else {
                    ""
                };
                self.put(chomp);
                self.put_char('\n');
                let mut breaks = true;
                for c in s.chars() {
                    if c == '\n' {
                        self.put_char('\n');
                        breaks = true;
                    } else {
                        if breaks {
                            for _ in 0..indent {
                                self.put_char(' ');
                            }
                        }
                        self.put_char(c);
                        breaks = false;
                    }
                }
                // A trailing line break is already written; make sure the node ends a line.
                if !s.ends_with('\n') {
                    self.put_char('\n');
                }
            }
        }
    }

    fn scalar_text(v: &Value) -> Option<String> {
        match v {
            Value::Nil => Some("null".into()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) | Value::Int64(i) => Some(i.to_string()),
            Value::Uint8(b) => Some(b.to_string()),
            Value::Float(f) => Some(format_float(*f)),
            _ => None,
        }
    }

    fn end_line(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with('\n') {
            self.put_char('\n');
        }
    }

    /// Emits `v`. `indent` is the indentation of the containing collection's entries;
    /// `ctx` says where we are (after "key:", after "- ", or at the root).
    fn node(&mut self, v: &Value, indent: usize, ctx: Ctx, depth: usize) -> Result<(), String> {
        if depth > crate::value::MAX_VALUE_DEPTH {
            return Err("yaml: nesting too deep".into());
        }
        let lead = |e: &mut Emitter| {
            if ctx == Ctx::MapValue {
                e.put_char(' ');
            }
        };
        match v {
            // go-yaml v3 cannot write invalid UTF-8 as text: it tags the string !!binary and
            // writes its bytes in base64, 70 columns a line (a literal block when longer).
            Value::String(s)
                if self.flavor == Flavor::V3Pretty && crate::gostr::has_raw_bytes(s) =>
            {
                lead(self);
                let own = match ctx {
                    Ctx::Root => 2,
                    _ => indent + 2,
                };
                let b64 = crate::encoding::b64_encode(&crate::gostr::go_bytes(s));
                if b64.len() < 70 {
                    self.put("!!binary ");
                    self.put(&b64);
                } else {
                    self.put("!!binary |");
                    let mut rest = b64.as_str();
                    while !rest.is_empty() {
                        let (line, tail) = rest.split_at(rest.len().min(70));
                        self.newline_indent(own);
                        self.put(line);
                        rest = tail;
                    }
                }
                self.end_line();
            }
            Value::String(s) => {
                lead(self);
                let own = match ctx {
                    Ctx::Root => 2,
                    _ => indent + 2,
                };
                let own = if ctx == Ctx::Root { own.min(2) } else { own };
                self.string(s, own, false);
                self.end_line();
            }
            Value::List(l, _) if !l.is_empty() => {
                let seq_indent = match (ctx, self.flavor) {
                    (Ctx::MapValue, Flavor::V2) => indent,
                    (Ctx::MapValue, Flavor::V3Pretty) => indent + 2,
                    (Ctx::SeqItem, _) => indent + 2,
                    (Ctx::Root, _) => 0,
                };
                for (i, item) in l.iter().enumerate() {
                    if i == 0 && ctx == Ctx::SeqItem {
                        // "- - x": continue on the same line.
                    } else {
                        if ctx == Ctx::MapValue || i > 0 {
                            self.end_line();
                        }
                        for _ in self.column..seq_indent {
                            self.put_char(' ');
                        }
                    }
                    self.put("- ");
                    self.node(item, seq_indent, Ctx::SeqItem, depth + 1)?;
                }
            }
            Value::Map(m) if !m.is_empty() => {
                let m = m.read();
                let mut entries: Vec<(&String, &Value)> = m.iter().collect();
                entries.sort_by(|a, b| key_order(a.0, b.0));
                let map_indent = match ctx {
                    Ctx::MapValue => indent + 2,
                    Ctx::SeqItem => indent + 2,
                    Ctx::Root => 0,
                };
                for (i, (k, val)) in entries.into_iter().enumerate() {
                    if i == 0 && ctx == Ctx::SeqItem {
                        // first key on the "- " line
                    } else {
                        self.end_line();
                        for _ in self.column..map_indent {
                            self.put_char(' ');
                        }
                    }
                    self.string(k, map_indent + 2, true);
                    self.put_char(':');
                    self.node(val, map_indent, Ctx::MapValue, depth + 1)?;
                }
            }
            Value::List(..) => {
                lead(self);
                self.put("[]");
                self.end_line();
            }
            Value::Map(_) => {
                lead(self);
                self.put("{}");
                self.end_line();
            }
            Value::Bytes(b) => {
                lead(self);
                self.string(&crate::encoding::b64_encode(b), indent + 2, false);
                self.end_line();
            }
            Value::Object(o) => {
                let inner = o.to_value();
                self.node(&inner, indent, ctx, depth + 1)?;
            }
            other => {
                lead(self);
                let t = Emitter::scalar_text(other).unwrap_or_default();
                self.put(&t);
                self.end_line();
            }
        }
        Ok(())
    }
}

/// go-yaml's key order (`keyList.Less` for string keys): letters sort before other runes,
/// runs of digits compare numerically.
fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            i += 1;
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an
                .wrapping_mul(10)
                .wrapping_add(i64::from(ar[ai] as u8 - b'0'));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn
                .wrapping_mul(10)
                .wrapping_add(i64::from(br[bi] as u8 - b'0'));
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}
