//! Writing values as go-yaml (v2 emitter, as `sigs.k8s.io/yaml` drives it) writes them: the text
//! `kubectl kustomize` and `helm template` print.
//!
//! Block style with 2-space indentation; sequences under a mapping key start at the key's column;
//! empty collections in flow style (`{}`, `[]`); strings plain when they would read back as the same
//! string, otherwise single-quoted (indicator characters, leading/trailing spaces) or
//! double-quoted (strings that read as another type, control characters, characters outside the
//! Basic Multilingual Plane); multi-line strings as literal blocks (`|`, `|-`, `|+`, with an
//! indentation indicator when the text starts with a space); long plain and quoted scalars folded
//! at spaces past column 80.

use serde_json::{Map, Number, Value};

/// Line width past which the emitter folds scalars at spaces.
const BEST_WIDTH: usize = 80;
/// Indentation step.
const INDENT: usize = 2;

/// Key order used when writing maps.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyOrder {
    /// go-yaml's natural order (what `kubectl kustomize` prints).
    Sorted,
    /// The value's own order.
    AsIs,
}

/// Writes one document, ending in a newline.
pub(crate) fn document(value: &Value, order: KeyOrder) -> String {
    let mut e = Emitter {
        out: String::new(),
        column: 0,
        whitespace: true,
        indention: true,
        order,
    };
    e.node(value, -1, Ctx::Root);
    if !e.out.ends_with('\n') {
        e.out.push('\n');
    }
    e.out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Root,
    MappingValue,
    SequenceItem,
}

struct Emitter {
    out: String,
    column: usize,
    /// The last character written was whitespace (or nothing was written on this line).
    whitespace: bool,
    /// Only indentation has been written on this line.
    indention: bool,
    order: KeyOrder,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn write_indent(&mut self, indent: usize) {
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    /// Writes an indicator such as `-` or `:`; `need_ws` puts a space before it when needed.
    fn indicator(&mut self, s: &str, need_ws: bool, is_whitespace: bool, is_indention: bool) {
        if need_ws && !self.whitespace {
            self.put(' ');
        }
        for c in s.chars() {
            self.put(c);
        }
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    /// Emits a node; `indent` is the enclosing collection's indentation (-1 at the root).
    fn node(&mut self, v: &Value, indent: isize, ctx: Ctx) {
        match v {
            Value::Object(m) if !m.is_empty() => self.mapping(m, indent, ctx),
            Value::Array(a) if !a.is_empty() => self.sequence(a, indent, ctx),
            Value::Object(_) => self.flow_empty("{}"),
            Value::Array(_) => self.flow_empty("[]"),
            scalar => {
                let scalar_indent = if indent < 0 {
                    INDENT
                } else {
                    indent as usize + INDENT
                };
                self.scalar(scalar, scalar_indent, false);
            }
        }
    }

    fn flow_empty(&mut self, s: &str) {
        self.indicator(s, true, false, false);
    }

    fn entries<'a>(&self, m: &'a Map<String, Value>) -> Vec<(&'a String, &'a Value)> {
        let mut entries: Vec<(&String, &Value)> = m.iter().collect();
        if self.order == KeyOrder::Sorted {
            crate::sort::sort_by_key(&mut entries, |e| e.0.as_str());
        }
        entries
    }

    fn mapping(&mut self, m: &Map<String, Value>, indent: isize, _ctx: Ctx) {
        let ind = if indent < 0 {
            0
        } else {
            indent as usize + INDENT
        };
        for (k, v) in self.entries(m) {
            self.write_indent(ind);
            // Multi-line and very long keys cannot be simple keys: go-yaml writes `? key` then `: value`.
            if k.contains(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}']) || k.len() > 128 {
                self.indicator("?", true, false, true);
                self.string(k, ind + INDENT, false);
                self.write_indent(ind);
                self.indicator(":", true, false, true);
            } else {
                self.string(k, ind + INDENT, true);
                self.indicator(":", false, false, false);
            }
            self.node(v, ind as isize, Ctx::MappingValue);
        }
    }

    fn sequence(&mut self, a: &[Value], indent: isize, ctx: Ctx) {
        // A sequence that is a mapping value is "indentless": its dashes sit at the key's column.
        let ind = if indent < 0 {
            0
        } else if ctx == Ctx::MappingValue {
            indent as usize
        } else {
            indent as usize + INDENT
        };
        for item in a {
            self.write_indent(ind);
            self.indicator("-", true, false, true);
            self.node(item, ind as isize, Ctx::SequenceItem);
        }
    }

    fn scalar(&mut self, v: &Value, indent: usize, simple_key: bool) {
        match v {
            Value::Null => self.plain("null", indent, false),
            Value::Bool(b) => self.plain(if *b { "true" } else { "false" }, indent, false),
            Value::Number(n) => self.plain(&number(n), indent, false),
            Value::String(s) => self.string(s, indent, simple_key),
            _ => unreachable!("collections are not scalars"),
        }
    }

    /// Writes a string in the style go-yaml picks for it.
    fn string(&mut self, s: &str, indent: usize, simple_key: bool) {
        match string_style(s, simple_key) {
            Style::Plain => self.plain(s, indent, !simple_key),
            Style::Single => self.single(s, indent, !simple_key),
            Style::Double => self.double(s, indent, !simple_key),
            Style::Literal => self.literal(s, indent),
        }
    }

    fn plain(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let mut spaces = false;
        let mut it = s.chars().peekable();
        while let Some(c) = it.next() {
            if c == ' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && it.peek() != Some(&' ') {
                    self.write_indent(indent);
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
            self.indention = false;
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn single(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.indicator("'", true, false, false);
        let mut spaces = false;
        let mut it = s.chars().peekable();
        let mut first = true;
        while let Some(c) = it.next() {
            let (is_first, next) = (std::mem::replace(&mut first, false), it.peek().copied());
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && !is_first
                    && next.is_some()
                    && next != Some(' ')
                {
                    self.write_indent(indent);
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
            }
        }
        self.indicator("'", false, false, false);
    }

    fn double(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.indicator("\"", true, false, false);
        let mut spaces = false;
        let mut it = s.chars().peekable();
        let mut first = true;
        while let Some(c) = it.next() {
            let (is_first, next) = (std::mem::replace(&mut first, false), it.peek().copied());
            if !is_printable(c) || c == '\u{feff}' || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                match c {
                    '\0' => self.put('0'),
                    '\u{7}' => self.put('a'),
                    '\u{8}' => self.put('b'),
                    '\t' => self.put('t'),
                    '\n' => self.put('n'),
                    '\u{b}' => self.put('v'),
                    '\u{c}' => self.put('f'),
                    '\r' => self.put('r'),
                    '\u{1b}' => self.put('e'),
                    '"' => self.put('"'),
                    '\\' => self.put('\\'),
                    '\u{85}' => self.put('N'),
                    '\u{a0}' => self.put('_'),
                    '\u{2028}' => self.put('L'),
                    '\u{2029}' => self.put('P'),
                    c => {
                        let code = c as u32;
                        let hex = if code <= 0xff {
                            format!("x{code:02X}")
                        } else if code <= 0xffff {
                            format!("u{code:04X}")
                        } else {
                            format!("U{code:08X}")
                        };
                        for h in hex.chars() {
                            self.put(h);
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && !is_first
                    && next.is_some()
                {
                    self.write_indent(indent);
                    if next == Some(' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.indicator("\"", false, false, false);
    }

    fn literal(&mut self, s: &str, indent: usize) {
        self.indicator("|", true, false, false);
        let first = s.chars().next();
        if first.is_some_and(|c| c == ' ' || is_break(c)) {
            self.put(char::from_digit(INDENT as u32, 10).unwrap_or('2'));
        }
        let mut tail = s.chars().rev();
        let chomp = match (tail.next(), tail.next()) {
            (None, _) => Some('-'),
            (Some(c), _) if !is_break(c) => Some('-'),
            (Some(_), None) => Some('+'),
            (Some(_), Some(p)) if is_break(p) => Some('+'),
            _ => None,
        };
        if let Some(c) = chomp {
            self.put(c);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for c in s.chars() {
            if is_break(c) {
                self.put_break();
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                    breaks = false;
                }
                self.put(c);
                self.indention = false;
            }
        }
    }
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// libyaml's printable set (with the emitter in unicode mode).
fn is_printable(c: char) -> bool {
    let c = c as u32;
    c == 0x0a
        || (0x20..=0x7e).contains(&c)
        || (0xa0..=0xd7ff).contains(&c)
        || ((0xe000..=0xfffd).contains(&c) && c != 0xfeff)
}

/// What the emitter's scalar analysis allows for a string.
struct Analysis {
    multiline: bool,
    block_plain: bool,
    single: bool,
    block: bool,
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
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    let mut preceded_by_ws = true;
    let mut it = s.chars().peekable();
    let mut first = true;
    while let Some(c) = it.next() {
        let next = it.peek().copied();
        let is_first = std::mem::replace(&mut first, false);
        let is_last = next.is_none();
        let followed_by_ws = next.is_none_or(|n| matches!(n, ' ' | '\t') || is_break(n));
        if is_first {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicators = true,
                '#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            if is_first {
                leading_space = true;
            }
            if is_last {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if is_first {
                leading_break = true;
            }
            if is_last {
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
        preceded_by_ws = matches!(c, ' ' | '\t') || is_break(c);
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
    if line_breaks || block_indicators {
        a.block_plain = false;
    }
    a
}

/// The style go-yaml picks for a string (as a key when `simple_key`).
fn string_style(s: &str, simple_key: bool) -> Style {
    // go-yaml writes NEL/LS/PS raw, as line breaks YAML 1.2 readers do not recognise; escaping
    // them keeps the text readable back as the same string (kustomize's output differs here).
    if s.contains(['\u{85}', '\u{2028}', '\u{2029}']) {
        return Style::Double;
    }
    let a = analyze(s);
    let mut style = if s.contains('\n') {
        Style::Literal
    } else if reads_as_string(s) && !is_base60_float(s) {
        Style::Plain
    } else {
        Style::Double
    };
    if simple_key && a.multiline {
        style = Style::Double;
    }
    if style == Style::Plain && (!a.block_plain || (s.is_empty() && simple_key)) {
        style = Style::Single;
    }
    if style == Style::Single && !a.single {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block || simple_key) {
        style = Style::Double;
    }
    style
}

/// Would go-yaml v2 read this text, unquoted, back as a string?
fn reads_as_string(s: &str) -> bool {
    const OTHER: &[&str] = &[
        "", "~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
        "true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
        ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
        "-.Inf", "-.INF",
    ];
    if OTHER.contains(&s) {
        return false;
    }
    let first = s.as_bytes()[0];
    if first == b'.' {
        return !go_parse_float_ok(s);
    }
    if !(first.is_ascii_digit() || first == b'+' || first == b'-') {
        return true;
    }
    if crate::timestamp::parse(s).is_some() {
        return false;
    }
    matches!(crate::read::resolve_plain(s), Value::String(_))
}

/// Go's `strconv.ParseFloat` on text starting with `.` (decimal forms only).
fn go_parse_float_ok(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        && s.parse::<f64>().is_ok()
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        let st = i;
        while i < b.len() && b[i].is_ascii_digit() && i - st < 2 {
            i += 1;
        }
        let g = &b[st..i];
        let ok = match g.len() {
            1 => true,
            2 => g[0] <= b'5',
            _ => false,
        };
        if !ok {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// Numbers as kustomize prints them after its JSON round trip: integral floats that fit 64 bits
/// print as integers, other floats in Go's shortest `%g` form (`1.5`, `1e-05`, `1.2345675e+06`).
pub(crate) fn number(n: &Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    if f.fract() == 0.0 && f.abs() < 9.2e18 {
        return format!("{}", f as i64);
    }
    if f.fract() == 0.0 && f > 0.0 && f < 1.8e19 {
        return format!("{}", f as u64);
    }
    go_format_g(f)
}

fn go_format_g(f: f64) -> String {
    let e = format!("{f:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mant) = match mant.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mant),
    };
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let sign = if neg { "-" } else { "" };
    if !(-4..6).contains(&exp) {
        let (d0, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{d0}{frac}e{esign}{:02}", exp.abs());
    }
    let point = exp + 1;
    if point <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!(
            "{sign}{digits}{}",
            "0".repeat(point as usize - digits.len())
        )
    } else {
        let (a, b) = digits.split_at(point as usize);
        format!("{sign}{a}.{b}")
    }
}

/// `s` as a double-quoted scalar on one line (no folding), escaped as go-yaml escapes.
pub(crate) fn double_quoted(s: &str) -> String {
    let mut e = Emitter {
        out: String::new(),
        column: 0,
        whitespace: true,
        indention: true,
        order: KeyOrder::AsIs,
    };
    e.double(s, 0, false);
    e.out
}

/// Would go-yaml write `s` (as a value) as a plain scalar?
pub(crate) fn plain_allowed(s: &str) -> bool {
    string_style(s, false) == Style::Plain
}
