//! TOML for Helm's `toToml`/`fromToml` (BurntSushi/toml's output layout; a compact parser).

use crate::value::{Map, Value};

fn bare_key(k: &str) -> bool {
    !k.is_empty()
        && k.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

fn key_text(k: &str) -> String {
    if bare_key(k) { k.to_string() } else { quote(k) }
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn is_table(v: &Value) -> bool {
    matches!(v, Value::Map(_))
}

fn is_table_array(v: &Value) -> bool {
    matches!(v, Value::List(l, _) if !l.is_empty() && l.iter().all(is_table))
}

fn inline(v: &Value) -> Result<String, String> {
    Ok(match v {
        Value::Bool(b) => b.to_string(),
        Value::Int(i) | Value::Int64(i) => i.to_string(),
        Value::Uint8(b) => b.to_string(),
        Value::Float(f) => {
            if f.is_nan() {
                "nan".into()
            } else if f.is_infinite() {
                if *f > 0.0 {
                    "inf".into()
                } else {
                    "-inf".into()
                }
            } else {
                let s = crate::gofmt::format_float(*f, 'f', -1);
                if s.contains('.') { s } else { format!("{s}.0") }
            }
        }
        Value::String(s) => quote(s),
        Value::Bytes(b) => quote(&String::from_utf8_lossy(b)),
        Value::List(l, _) => {
            let items: Result<Vec<String>, String> =
                l.iter().filter(|x| !x.is_nil()).map(inline).collect();
            format!("[{}]", items?.join(", "))
        }
        Value::Map(m) => {
            let m = m.read();
            let items: Result<Vec<String>, String> = m
                .iter()
                .filter(|(_, x)| !x.is_nil())
                .map(|(k, x)| Ok(format!("{} = {}", key_text(k), inline(x)?)))
                .collect();
            format!("{{{}}}", items?.join(", "))
        }
        Value::Object(o) => inline(&o.to_value())?,
        Value::Nil => return Err("toml: cannot encode a nil value".into()),
    })
}

struct Enc {
    out: String,
}

impl Enc {
    fn newline(&mut self) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
    }

    fn table(&mut self, path: &[String], m: &Map) -> Result<(), String> {
        let indent = "  ".repeat(path.len());
        for (k, v) in m {
            if v.is_nil() || is_table(v) || is_table_array(v) {
                continue;
            }
            self.out
                .push_str(&format!("{indent}{} = {}\n", key_text(k), inline(v)?));
        }
        for (k, v) in m {
            let mut p = path.to_vec();
            p.push(k.clone());
            let name = p.iter().map(|x| key_text(x)).collect::<Vec<_>>().join(".");
            let hindent = "  ".repeat(p.len() - 1);
            if let Value::Map(sub) = v {
                if p.len() == 1 {
                    self.newline();
                }
                self.out.push_str(&format!("{hindent}[{name}]\n"));
                let sub = sub.read().clone();
                self.table(&p, &sub)?;
            } else if is_table_array(v)
                && let Value::List(l, _) = v
            {
                for t in l.iter() {
                    if let Value::Map(sub) = t {
                        self.newline();
                        self.out.push_str(&format!("{hindent}[[{name}]]\n"));
                        let sub = sub.read().clone();
                        self.table(&p, &sub)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Encodes a map like BurntSushi/toml's `Encoder.Encode`.
pub fn encode(v: &Value) -> Result<String, String> {
    let Value::Map(m) = v else {
        // BurntSushi/toml writes a non-table top-level value inline.
        return inline(v);
    };
    let m = m.read().clone();
    let mut e = Enc { out: String::new() };
    e.table(&[], &m)?;
    Ok(e.out)
}

struct P<'a> {
    s: &'a str,
    i: usize,
    line: usize,
    depth: usize,
}

type PR<T> = Result<T, String>;

impl P<'_> {
    fn err(&self, msg: &str) -> String {
        format!("toml: line {}: {msg}", self.line)
    }
    fn rest(&self) -> &str {
        &self.s[self.i..]
    }
    fn skip_ws(&mut self) {
        while let Some(c) = self.rest().chars().next() {
            if c == ' ' || c == '\t' {
                self.i += 1;
            } else {
                break;
            }
        }
    }
    fn skip_ws_nl(&mut self) {
        loop {
            self.skip_ws();
            match self.rest().chars().next() {
                Some('\n') => {
                    self.i += 1;
                    self.line += 1;
                }
                Some('\r') => self.i += 1,
                Some('#') => {
                    while let Some(c) = self.rest().chars().next() {
                        if c == '\n' {
                            break;
                        }
                        self.i += c.len_utf8();
                    }
                }
                _ => return,
            }
        }
    }
    fn key_part(&mut self) -> PR<String> {
        self.skip_ws();
        match self.rest().chars().next() {
            Some('"') => self.basic_string(),
            Some('\'') => self.literal_string(),
            _ => {
                let st = self.i;
                while let Some(c) = self.rest().chars().next() {
                    if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                        self.i += 1;
                    } else {
                        break;
                    }
                }
                if st == self.i {
                    return Err(self.err("expected a key"));
                }
                Ok(self.s[st..self.i].to_string())
            }
        }
    }
    fn key(&mut self) -> PR<Vec<String>> {
        let mut parts = vec![self.key_part()?];
        loop {
            self.skip_ws();
            if self.rest().starts_with('.') {
                self.i += 1;
                parts.push(self.key_part()?);
            } else {
                return Ok(parts);
            }
        }
    }
    fn basic_string(&mut self) -> PR<String> {
        let multi = self.rest().starts_with("\"\"\"");
        self.i += if multi { 3 } else { 1 };
        if multi && self.rest().starts_with('\n') {
            self.i += 1;
            self.line += 1;
        }
        let mut out = String::new();
        loop {
            let Some(c) = self.rest().chars().next() else {
                return Err(self.err("unterminated string"));
            };
            if multi && self.rest().starts_with("\"\"\"") {
                self.i += 3;
                return Ok(out);
            }
            if !multi && c == '"' {
                self.i += 1;
                return Ok(out);
            }
            self.i += c.len_utf8();
            match c {
                '\\' => {
                    let e = self
                        .rest()
                        .chars()
                        .next()
                        .ok_or_else(|| self.err("bad escape"))?;
                    self.i += e.len_utf8();
                    match e {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        'b' => out.push('\x08'),
                        'f' => out.push('\x0c'),
                        '"' => out.push('"'),
                        '\\' => out.push('\\'),
                        'u' | 'U' => {
                            let n = if e == 'u' { 4 } else { 8 };
                            let h = self
                                .s
                                .get(self.i..self.i + n)
                                .ok_or_else(|| self.err("bad escape"))?;
                            let cp =
                                u32::from_str_radix(h, 16).map_err(|_| self.err("bad escape"))?;
                            out.push(char::from_u32(cp).ok_or_else(|| self.err("bad escape"))?);
                            self.i += n;
                        }
                        '\n' if multi => {
                            self.line += 1;
                            self.skip_ws_nl();
                        }
                        _ => return Err(self.err("invalid escape in string")),
                    }
                }
                '\n' if !multi => return Err(self.err("newline in string")),
                '\n' => {
                    self.line += 1;
                    out.push('\n');
                }
                c => out.push(c),
            }
        }
    }
    fn literal_string(&mut self) -> PR<String> {
        let multi = self.rest().starts_with("'''");
        let q = if multi { "'''" } else { "'" };
        self.i += q.len();
        let end = self
            .rest()
            .find(q)
            .ok_or_else(|| self.err("unterminated string"))?;
        let mut s = self.rest()[..end].to_string();
        self.line += s.matches('\n').count();
        self.i += end + q.len();
        if multi && s.starts_with('\n') {
            s.remove(0);
        }
        Ok(s)
    }
    fn value(&mut self) -> PR<Value> {
        self.depth += 1;
        let r = if self.depth > crate::value::MAX_VALUE_DEPTH {
            Err(self.err("nesting too deep"))
        } else {
            self.value_inner()
        };
        self.depth -= 1;
        r
    }

    fn value_inner(&mut self) -> PR<Value> {
        self.skip_ws();
        let r = self.rest();
        if r.starts_with('"') {
            return self.basic_string().map(Value::str);
        }
        if r.starts_with('\'') {
            return self.literal_string().map(Value::str);
        }
        if r.starts_with('[') {
            self.i += 1;
            let mut items = Vec::new();
            loop {
                self.skip_ws_nl();
                if self.rest().starts_with(']') {
                    self.i += 1;
                    return Ok(Value::list(items));
                }
                items.push(self.value()?);
                self.skip_ws_nl();
                if self.rest().starts_with(',') {
                    self.i += 1;
                } else if !self.rest().starts_with(']') {
                    return Err(self.err("expected , or ] in array"));
                }
            }
        }
        if r.starts_with('{') {
            self.i += 1;
            let mut m = Map::new();
            loop {
                self.skip_ws();
                if self.rest().starts_with('}') {
                    self.i += 1;
                    return Ok(Value::map(m));
                }
                let k = self.key()?;
                self.skip_ws();
                if !self.rest().starts_with('=') {
                    return Err(self.err("expected = in inline table"));
                }
                self.i += 1;
                let v = self.value()?;
                insert(&mut m, &k, v).map_err(|e| self.err(&e))?;
                self.skip_ws();
                if self.rest().starts_with(',') {
                    self.i += 1;
                }
            }
        }
        let end = r.find([',', ']', '}', '\n', '#', '\r']).unwrap_or(r.len());
        let tok = r[..end].trim().to_string();
        let tok = tok.as_str();
        self.i += end;
        match tok {
            "true" => return Ok(Value::Bool(true)),
            "false" => return Ok(Value::Bool(false)),
            "inf" | "+inf" => return Ok(Value::Float(f64::INFINITY)),
            "-inf" => return Ok(Value::Float(f64::NEG_INFINITY)),
            "nan" | "+nan" | "-nan" => return Ok(Value::Float(f64::NAN)),
            _ => {}
        }
        let t = tok.replace('_', "");
        if let Some(h) = t.strip_prefix("0x") {
            return i64::from_str_radix(h, 16)
                .map(Value::Int64)
                .map_err(|_| self.err("bad number"));
        }
        if let Some(o) = t.strip_prefix("0o") {
            return i64::from_str_radix(o, 8)
                .map(Value::Int64)
                .map_err(|_| self.err("bad number"));
        }
        if let Some(b) = t.strip_prefix("0b") {
            return i64::from_str_radix(b, 2)
                .map(Value::Int64)
                .map_err(|_| self.err("bad number"));
        }
        if let Ok(i) = t.parse::<i64>() {
            return Ok(Value::Int64(i));
        }
        if let Ok(f) = t.parse::<f64>() {
            return Ok(Value::Float(f));
        }
        if !tok.is_empty() && tok.as_bytes()[0].is_ascii_digit() {
            // Dates and times are kept as text.
            return Ok(Value::str(tok));
        }
        Err(self.err(&format!("invalid value {tok:?}")))
    }
}

fn insert(m: &mut Map, key: &[String], v: Value) -> Result<(), String> {
    if key.len() == 1 {
        if m.contains_key(&key[0]) {
            return Err(format!("key {:?} is already defined", key[0]));
        }
        m.insert(key[0].clone(), v);
        return Ok(());
    }
    let sub = m.entry(key[0].clone()).or_insert_with(Value::empty_map);
    match sub {
        Value::Map(s) => {
            let mut inner = s.write();
            insert(&mut inner, &key[1..], v)
        }
        _ => Err(format!("key {:?} is not a table", key[0])),
    }
}

/// Parses a TOML document into a map (integers become int64, like BurntSushi/toml).
pub fn decode(text: &str) -> Result<Map, String> {
    let root = crate::value::MapRef::new(Map::new());
    let mut cur = root.clone();
    let mut p = P {
        s: text,
        i: 0,
        line: 1,
        depth: 0,
    };
    loop {
        p.skip_ws_nl();
        if p.i >= p.s.len() {
            break;
        }
        if p.rest().starts_with('[') {
            let array = p.rest().starts_with("[[");
            p.i += if array { 2 } else { 1 };
            let key = p.key()?;
            p.skip_ws();
            let close = if array { "]]" } else { "]" };
            if !p.rest().starts_with(close) {
                return Err(p.err("expected ] after table name"));
            }
            p.i += close.len();
            let mut h = root.clone();
            for (i, k) in key.iter().enumerate() {
                let last = i == key.len() - 1;
                let existing = h.get(k);
                let next = match existing {
                    Some(Value::Map(m)) if !(last && array) => m,
                    Some(Value::List(l, _)) if !last => match l.last() {
                        Some(Value::Map(m)) => m.clone(),
                        _ => return Err(p.err("key is not a table")),
                    },
                    Some(Value::List(l, _)) if last && array => {
                        let m = crate::value::MapRef::new(Map::new());
                        let mut v = l.to_vec();
                        v.push(Value::Map(m.clone()));
                        h.write().insert(k.clone(), Value::list(v));
                        m
                    }
                    None => {
                        let m = crate::value::MapRef::new(Map::new());
                        if last && array {
                            h.write()
                                .insert(k.clone(), Value::list(vec![Value::Map(m.clone())]));
                        } else {
                            h.write().insert(k.clone(), Value::Map(m.clone()));
                        }
                        m
                    }
                    Some(_) => return Err(p.err(&format!("key {k:?} is already defined"))),
                };
                h = next;
            }
            cur = h;
            continue;
        }
        let key = p.key()?;
        p.skip_ws();
        if !p.rest().starts_with('=') {
            return Err(p.err("expected = after key"));
        }
        p.i += 1;
        let v = p.value()?;
        {
            let mut m = cur.write();
            insert(&mut m, &key, v).map_err(|e| p.err(&e))?;
        }
        p.skip_ws();
        if p.rest().starts_with('#') {
            p.skip_ws_nl();
        } else if !(p.rest().is_empty() || p.rest().starts_with('\n') || p.rest().starts_with('\r'))
        {
            return Err(p.err("expected newline after value"));
        }
    }
    let m = root.snapshot();
    Ok(m)
}
