//! Go's `encoding/json` encoder over [`Value`]s: sorted keys, Go float format, HTML escaping.

use crate::value::Value;

/// Options of the encoder.
#[derive(Clone, Copy, Default)]
pub struct JsonOptions {
    /// Escape `<`, `>` and `&` as `\u003c` etc. (Go's default).
    pub escape_html: bool,
    /// Indent with this many spaces per level (`json.MarshalIndent(v, "", "  ")`), 0 = compact.
    pub indent: usize,
}

/// Encodes like `json.Marshal`; fails on NaN/Inf as Go does.
pub fn encode(v: &Value, opts: JsonOptions) -> Result<String, String> {
    let mut out = String::new();
    write_value(&mut out, v, opts, 0)?;
    Ok(out)
}

/// Go's JSON number format for a float64.
pub fn format_float(f: f64) -> Result<String, String> {
    if f.is_nan() || f.is_infinite() {
        return Err(format!(
            "json: unsupported value: {}",
            crate::gofmt::format_float(f, 'g', -1)
        ));
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let mut s = crate::gofmt::format_float(f, 'e', -1);
        // Go cleans e-09 to e-9.
        let n = s.len();
        if n >= 4 && &s[n - 4..n - 2] == "e-" && &s[n - 2..n - 1] == "0" {
            s.remove(n - 2);
        }
        return Ok(s);
    }
    Ok(crate::gofmt::format_float(f, 'f', -1))
}

fn write_string(out: &mut String, s: &str, html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' if html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            // Go writes each byte of invalid UTF-8 as the escape \ufffd.
            c if crate::gostr::escaped_byte(c).is_some() => out.push_str("\\ufffd"),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn newline(out: &mut String, opts: JsonOptions, depth: usize) {
    if opts.indent > 0 {
        out.push('\n');
        for _ in 0..depth * opts.indent {
            out.push(' ');
        }
    }
}

fn write_value(out: &mut String, v: &Value, opts: JsonOptions, depth: usize) -> Result<(), String> {
    if depth > crate::value::MAX_VALUE_DEPTH {
        return Err("json: unsupported value: encountered a cycle".into());
    }
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) | Value::Int64(i) => out.push_str(&i.to_string()),
        Value::Uint8(b) => out.push_str(&b.to_string()),
        Value::Float(f) => out.push_str(&format_float(*f)?),
        Value::String(s) => write_string(out, s, opts.escape_html),
        Value::Bytes(b) => write_string(out, &crate::encoding::b64_encode(b), opts.escape_html),
        Value::List(l, _) => {
            if l.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, opts, depth + 1);
                write_value(out, x, opts, depth + 1)?;
            }
            newline(out, opts, depth);
            out.push(']');
        }
        Value::Map(m) => {
            let m = m.read();
            if m.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, opts, depth + 1);
                write_string(out, k, opts.escape_html);
                out.push(':');
                if opts.indent > 0 {
                    out.push(' ');
                }
                write_value(out, x, opts, depth + 1)?;
            }
            newline(out, opts, depth);
            out.push('}');
        }
        Value::Object(o) => write_value(out, &o.to_value(), opts, depth + 1)?,
    }
    Ok(())
}

/// Go's `quoteChar` for scanner errors.
fn quote_char(c: char) -> String {
    match c {
        '\'' => "'\\''".into(),
        '"' => "'\"'".into(),
        c => {
            let q = crate::gofmt::quote(&c.to_string());
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    depth: usize,
}

type PR<T> = Result<T, String>;

impl Parser<'_> {
    fn peek_char(&self) -> Option<char> {
        self.text[self.i..].chars().next()
    }
    fn err_at(&self, ctx: &str) -> String {
        match self.peek_char() {
            None => "unexpected end of JSON input".into(),
            Some(c) => format!("invalid character {} {}", quote_char(c), ctx),
        }
    }
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }
    fn value(&mut self) -> PR<Value> {
        self.ws();
        self.depth += 1;
        if self.depth > crate::value::MAX_VALUE_DEPTH {
            return Err("exceeded max depth".into());
        }
        let r = match self.s.get(self.i) {
            None => Err("unexpected end of JSON input".into()),
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => self.string().map(Value::str),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Nil),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err_at("looking for beginning of value")),
        };
        self.depth -= 1;
        r
    }
    fn literal(&mut self, word: &str, v: Value) -> PR<Value> {
        for expect in word.bytes() {
            if self.i >= self.s.len() {
                return Err("unexpected end of JSON input".into());
            }
            if self.s[self.i] != expect {
                return Err(self.err_at(&format!(
                    "in literal {word} (expecting {})",
                    quote_char(expect as char)
                )));
            }
            self.i += 1;
        }
        Ok(v)
    }
    fn number(&mut self) -> PR<Value> {
        let st = self.i;
        if self.s[self.i] == b'-' {
            self.i += 1;
        }
        let digits = |p: &mut Self| {
            let s = p.i;
            while p.i < p.s.len() && p.s[p.i].is_ascii_digit() {
                p.i += 1;
            }
            p.i - s
        };
        match self.s.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            None => return Err("unexpected end of JSON input".into()),
            Some(_) => return Err(self.err_at("in numeric literal")),
        }
        if self.s.get(self.i) == Some(&b'.') {
            self.i += 1;
            if self.i >= self.s.len() {
                return Err("unexpected end of JSON input".into());
            }
            if digits(self) == 0 {
                return Err(self.err_at("after decimal point in numeric literal"));
            }
        }
        if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.i >= self.s.len() {
                return Err("unexpected end of JSON input".into());
            }
            if digits(self) == 0 {
                return Err(self.err_at("in exponent of numeric literal"));
            }
        }
        let t = &self.text[st..self.i];
        Ok(Value::Float(t.parse().unwrap_or(f64::INFINITY)))
    }
    fn string(&mut self) -> PR<String> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek_char() else {
                return Err("unexpected end of JSON input".into());
            };
            match c {
                '"' => {
                    self.i += 1;
                    return Ok(out);
                }
                '\\' => {
                    self.i += 1;
                    let Some(e) = self.peek_char() else {
                        return Err("unexpected end of JSON input".into());
                    };
                    self.i += 1;
                    match e {
                        '"' => out.push('"'),
                        '\\' => out.push('\\'),
                        '/' => out.push('/'),
                        'b' => out.push('\x08'),
                        'f' => out.push('\x0c'),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        'u' => {
                            let mut cp = 0u32;
                            for _ in 0..4 {
                                let Some(h) = self.peek_char() else {
                                    return Err("unexpected end of JSON input".into());
                                };
                                let Some(d) = h.to_digit(16) else {
                                    return Err(self.err_at("in \\u hexadecimal character escape"));
                                };
                                cp = cp * 16 + d;
                                self.i += 1;
                            }
                            if (0xD800..0xDC00).contains(&cp)
                                && self.text[self.i..].starts_with("\\u")
                            {
                                let lo = u32::from_str_radix(
                                    self.text.get(self.i + 2..self.i + 6).unwrap_or(""),
                                    16,
                                )
                                .unwrap_or(0);
                                if (0xDC00..0xE000).contains(&lo) {
                                    self.i += 6;
                                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                }
                            }
                            out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                        }
                        _ => {
                            self.i -= e.len_utf8();
                            return Err(self.err_at("in string escape code"));
                        }
                    }
                }
                c if (c as u32) < 0x20 => return Err(self.err_at("in string literal")),
                c => {
                    out.push(c);
                    self.i += c.len_utf8();
                }
            }
        }
    }
    fn object(&mut self) -> PR<Value> {
        self.i += 1;
        let mut m = crate::value::Map::new();
        self.ws();
        if self.s.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Ok(Value::map(m));
        }
        loop {
            self.ws();
            if self.s.get(self.i) != Some(&b'"') {
                return Err(self.err_at("looking for beginning of object key string"));
            }
            let k = self.string()?;
            self.ws();
            if self.s.get(self.i) != Some(&b':') {
                return Err(self.err_at("after object key"));
            }
            self.i += 1;
            let v = self.value()?;
            m.insert(k, v);
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Value::map(m));
                }
                _ => return Err(self.err_at("after object key:value pair")),
            }
        }
    }
    fn array(&mut self) -> PR<Value> {
        self.i += 1;
        let mut l = Vec::new();
        self.ws();
        if self.s.get(self.i) == Some(&b']') {
            self.i += 1;
            return Ok(Value::list(l));
        }
        loop {
            l.push(self.value()?);
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Value::list(l));
                }
                _ => return Err(self.err_at("after array element")),
            }
        }
    }
}

/// Decodes JSON like Go's `json.Unmarshal` into `interface{}` (numbers become float64),
/// with Go's syntax error messages.
pub fn decode(text: &str) -> Result<Value, String> {
    // Go's decoder replaces each invalid UTF-8 byte inside a string with U+FFFD.
    let text = &*crate::gostr::to_lossy(text);
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        i: 0,
        depth: 0,
    };
    let v = p.value()?;
    p.ws();
    if p.i < p.s.len() {
        return Err(p.err_at("after top-level value"));
    }
    Ok(v)
}

/// The JSON kind name Go uses in "cannot unmarshal X into Go value of type T".
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Nil => "null",
        Value::Bool(_) => "bool",
        Value::Int(_) | Value::Int64(_) | Value::Uint8(_) | Value::Float(_) => "number",
        Value::String(_) | Value::Bytes(_) => "string",
        Value::List(..) => "array",
        Value::Map(_) | Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_syntax_errors() {
        let cases = [
            (
                "{bad",
                "invalid character 'b' looking for beginning of object key string",
            ),
            ("[1 2]", "invalid character '2' after array element"),
            ("{\"a\" 1}", "invalid character '1' after object key"),
            ("tru", "unexpected end of JSON input"),
            ("1 x", "invalid character 'x' after top-level value"),
            ("\"a\tb\"", "invalid character '\\t' in string literal"),
        ];
        for (text, want) in cases {
            assert_eq!(decode(text).unwrap_err(), want, "{text}");
        }
    }

    #[test]
    fn go_number_format() {
        assert_eq!(format_float(1e21).unwrap(), "1e+21");
        assert_eq!(format_float(1e-7).unwrap(), "1e-7");
        assert_eq!(format_float(123456789.0).unwrap(), "123456789");
        assert!(format_float(f64::NAN).is_err());
    }
}
