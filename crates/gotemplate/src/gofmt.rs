//! Go's `fmt` (`Sprint`, `Sprintln`, `Sprintf`) and `strconv` quoting over [`Value`]s.

use crate::gostr;
use crate::value::{ListKind, Value};

// ---------------------------------------------------------------------------
// strconv helpers

/// Go's `strconv.IsPrint` approximation: printable, no control or non-ASCII spaces.
pub(crate) fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    // Format characters, surrogates-free private use and unassigned planes Go treats as non-printable.
    !matches!(c as u32,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E
        | 0x2060..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF)
}

fn append_quoted_rune(out: &mut String, c: char, quote: char, ascii_only: bool) {
    if c == quote || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if ascii_only {
        if c.is_ascii() && is_print(c) {
            out.push(c);
            return;
        }
    } else if is_print(c) {
        out.push(c);
        return;
    }
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => {
            out.push_str(&format!("\\x{:02x}", c as u32));
        }
        c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// `strconv.Quote`/`QuoteToASCII` of a Go string: each raw byte (an invalid UTF-8 sequence,
/// see [`gostr`]) is written as `\xNN`, as Go does for a `RuneError` of width 1.
fn quote_go_string(s: &str, ascii_only: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    if !gostr::has_raw_bytes(s) {
        for c in s.chars() {
            append_quoted_rune(&mut out, c, '"', ascii_only);
        }
    } else {
        // Decode the bytes as Go does, so raw bytes that together form a valid char (two
        // halves of a cut string joined again) print as that char.
        for chunk in gostr::go_bytes(s).utf8_chunks() {
            for c in chunk.valid().chars() {
                append_quoted_rune(&mut out, c, '"', ascii_only);
            }
            for b in chunk.invalid() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.Quote`.
pub fn quote(s: &str) -> String {
    quote_go_string(s, false)
}

/// Go's `strconv.QuoteToASCII`.
pub fn quote_ascii(s: &str) -> String {
    quote_go_string(s, true)
}

/// Go's `strconv.QuoteRune` (or `QuoteRuneToASCII`).
pub fn quote_rune(c: char, ascii: bool) -> String {
    let mut out = String::from("'");
    append_quoted_rune(&mut out, c, '\'', ascii);
    out.push('\'');
    out
}

fn can_backquote(s: &str) -> bool {
    let ok = |t: &str| {
        t.chars()
            .all(|c| c != '`' && c != '\u{FEFF}' && (c == '\t' || !(c.is_control())))
    };
    if !gostr::has_raw_bytes(s) {
        return ok(s);
    }
    // Go refuses invalid UTF-8 (raw bytes) too.
    std::str::from_utf8(&gostr::go_bytes(s)).is_ok_and(ok)
}

/// `U+0041 'A'`, Go's `%#U`, used in lexer errors.
pub(crate) fn unicode_sharp(c: char) -> String {
    // The lexer decodes a raw byte of template text as U+FFFD.
    let c = if gostr::escaped_byte(c).is_some() {
        '\u{FFFD}'
    } else {
        c
    };
    if is_print(c) {
        format!("U+{:04X} '{}'", c as u32, c)
    } else {
        format!("U+{:04X}", c as u32)
    }
}

fn unquote_escape(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    quote: char,
) -> Option<char> {
    let c = chars.next()?;
    Some(match c {
        'a' => '\x07',
        'b' => '\x08',
        'f' => '\x0c',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\x0b',
        '\\' => '\\',
        '\'' | '"' => {
            if c != quote {
                return None;
            }
            c
        }
        '0'..='7' => {
            let mut v = c.to_digit(8)?;
            for _ in 0..2 {
                v = v * 8 + chars.next()?.to_digit(8)?;
            }
            if v > 255 {
                return None;
            }
            char::from_u32(v)?
        }
        'x' | 'u' | 'U' => {
            let n = match c {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let mut v = 0u32;
            for _ in 0..n {
                v = v * 16 + chars.next()?.to_digit(16)?;
            }
            char::from_u32(v)?
        }
        _ => return None,
    })
}

/// Go's `strconv.Unquote` for `"..."` and `` `...` `` literals.
pub fn unquote(s: &str) -> Option<String> {
    if s.len() < 2 {
        return None;
    }
    let q = s.chars().next()?;
    if !s.ends_with(q) {
        return None;
    }
    let inner = &s[1..s.len() - 1];
    if q == '`' {
        if inner.contains('`') {
            return None;
        }
        return Some(inner.replace('\r', ""));
    }
    if q != '"' {
        return None;
    }
    // `\x` and octal escapes give bytes, not runes: "\xe6\x97" is two raw bytes in Go.
    let mut out: Vec<u8> = Vec::with_capacity(inner.len());
    let mut buf = [0u8; 4];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let byte_escape = matches!(chars.peek(), Some('x' | '0'..='7'));
                let r = unquote_escape(&mut chars, '"')?;
                if byte_escape {
                    out.push(r as u32 as u8);
                } else {
                    out.extend_from_slice(r.encode_utf8(&mut buf).as_bytes());
                }
            }
            '"' | '\n' => return None,
            // strconv.Unquote decodes an unescaped raw byte as U+FFFD (only `\x` and octal
            // escapes make raw bytes).
            c => match gostr::escaped_byte(c) {
                Some(_) => out.extend_from_slice("\u{FFFD}".as_bytes()),
                None => out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes()),
            },
        }
    }
    Some(gostr::from_go_bytes(out))
}

/// The rune of a Go character literal such as `'a'` or `'\n'`.
pub(crate) fn unquote_char(s: &str) -> Option<char> {
    let inner = s.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut chars = inner.chars().peekable();
    let c = match chars.next()? {
        '\\' => unquote_escape(&mut chars, '\'')?,
        '\'' => return None,
        c => c,
    };
    if chars.next().is_some() {
        return None;
    }
    Some(c)
}

fn strip_underscores(s: &str) -> Option<String> {
    if s.contains('_') {
        // Go only allows underscores between digits or after a base prefix.
        if s.starts_with('_') || s.ends_with('_') || s.contains("__") {
            return None;
        }
        return Some(s.replace('_', ""));
    }
    Some(s.to_string())
}

/// Go's `strconv.ParseUint(s, 0, 64)`.
pub(crate) fn parse_go_uint(s: &str) -> Option<u64> {
    let s = strip_underscores(s)?;
    let (digits, radix) = if let Some(r) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (r.to_string(), 16)
    } else if let Some(r) = s.strip_prefix("0b").or_else(|| s.strip_prefix("0B")) {
        (r.to_string(), 2)
    } else if let Some(r) = s.strip_prefix("0o").or_else(|| s.strip_prefix("0O")) {
        (r.to_string(), 8)
    } else if s.len() > 1 && s.starts_with('0') {
        (s[1..].to_string(), 8)
    } else {
        (s.clone(), 10)
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    u64::from_str_radix(&digits, radix).ok()
}

/// Go's `strconv.ParseInt(s, 0, 64)`.
pub(crate) fn parse_go_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let u = parse_go_uint(body)?;
    if neg {
        if u <= i64::MAX as u64 + 1 {
            return Some((u as i128).wrapping_neg() as i64);
        }
        None
    } else {
        i64::try_from(u).ok()
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal literals (hex floats are rare in templates).
pub(crate) fn parse_go_float(s: &str) -> Option<f64> {
    let s = strip_underscores(s)?;
    if s.contains(['x', 'X', 'p', 'P']) {
        return parse_hex_float(&s);
    }
    let t = s.trim_start_matches(['+', '-']);
    if t.is_empty() || !(t.as_bytes()[0].is_ascii_digit() || t.starts_with('.')) {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Go's hexadecimal floating-point literal (`0x1.8p+3`): the `p` exponent is required.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (neg, t) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let t = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X"))?;
    let (mant, exp) = t.split_once(['p', 'P'])?;
    let exp: i32 = exp.parse().ok()?;
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars() {
        v = v * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        v += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    let v = v * 2f64.powi(exp);
    Some(if neg { -v } else { v })
}

// ---------------------------------------------------------------------------
// float digits (strconv.FormatFloat)

struct Digits {
    d: Vec<u8>,
    dp: i32,
}

fn parse_exp_repr(s: &str) -> Digits {
    // s looks like "1.2345e6" or "5e-7" (Rust's LowerExp).
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: Vec<u8> = mant.bytes().filter(|b| b.is_ascii_digit()).collect();
    while d.len() > 1 && d.last() == Some(&b'0') {
        d.pop();
    }
    if d == b"0" {
        return Digits {
            d: Vec::new(),
            dp: 0,
        };
    }
    Digits { d, dp: exp + 1 }
}

fn shortest_digits(v: f64) -> Digits {
    parse_exp_repr(&format!("{:e}", v.abs()))
}

fn sig_digits(v: f64, n: usize) -> Digits {
    parse_exp_repr(&format!("{:.*e}", n.saturating_sub(1), v.abs()))
}

fn fmt_e(out: &mut String, digs: &Digits, prec: i32, fmt: char) {
    let first = digs.d.first().copied().unwrap_or(b'0');
    out.push(first as char);
    if prec > 0 {
        out.push('.');
        let mut i = 1usize;
        let m = (digs.d.len()).min(prec as usize + 1);
        while i < m {
            out.push(digs.d[i] as char);
            i += 1;
        }
        while i <= prec as usize {
            out.push('0');
            i += 1;
        }
    }
    out.push(fmt);
    let exp = if digs.d.is_empty() { 0 } else { digs.dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        out.push('0');
    }
    out.push_str(&e.to_string());
}

fn fmt_f(out: &mut String, digs: &Digits, prec: i32) {
    if digs.dp > 0 {
        let m = (digs.dp as usize).min(digs.d.len());
        for &b in &digs.d[..m] {
            out.push(b as char);
        }
        for _ in m..digs.dp as usize {
            out.push('0');
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            let j = digs.dp + i - 1;
            let c = if j >= 0 && (j as usize) < digs.d.len() {
                digs.d[j as usize] as char
            } else {
                '0'
            };
            out.push(c);
        }
    }
}

/// Go's `strconv.FormatFloat(v, fmt, prec, 64)` for `e E f F g G` (prec -1 = shortest).
pub fn format_float(v: f64, fmt: char, prec: i32) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let mut out = String::new();
    if v.is_sign_negative() {
        out.push('-');
    }
    let shortest = prec < 0;
    match fmt {
        'f' | 'F' => {
            if shortest {
                let digs = shortest_digits(v);
                let p = (digs.d.len() as i32 - digs.dp).max(0);
                fmt_f(&mut out, &digs, p);
            } else {
                out.push_str(&format!("{:.*}", prec as usize, v.abs()));
            }
        }
        'e' | 'E' => {
            let (digs, p) = if shortest {
                let d = shortest_digits(v);
                let p = (d.d.len() as i32 - 1).max(0);
                (d, p)
            } else {
                (sig_digits(v, prec as usize + 1), prec)
            };
            fmt_e(&mut out, &digs, p, fmt);
        }
        'g' | 'G' => {
            let mut prec = prec;
            let digs = if shortest {
                let d = shortest_digits(v);
                prec = d.d.len() as i32;
                d
            } else {
                if prec == 0 {
                    prec = 1;
                }
                sig_digits(v, prec as usize)
            };
            let nd = digs.d.len() as i32;
            let mut eprec = prec;
            if eprec > nd && nd >= digs.dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = digs.dp - 1;
            let efmt = if fmt == 'g' { 'e' } else { 'E' };
            if nd != 0 && (exp < -4 || exp >= eprec) {
                if prec > nd {
                    prec = nd;
                }
                fmt_e(&mut out, &digs, prec - 1, efmt);
            } else {
                if prec > digs.dp {
                    prec = nd;
                }
                fmt_f(&mut out, &digs, (prec - digs.dp).max(0));
            }
        }
        _ => out.push_str(&format!("{}", v.abs())),
    }
    out
}

/// Go's `%b` (`4503599627370496p-52`) and `%x`/`%X` (`0x1.8p+00`) float formats.
fn format_float_bits(v: f64, fmt: char, prec: i32) -> String {
    if !v.is_finite() {
        return format_float(v, 'g', -1);
    }
    let bits = v.to_bits();
    let neg = bits >> 63 != 0;
    let exp_bits = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1u64 << 52) - 1);
    let sign = if neg { "-" } else { "" };
    if fmt == 'b' {
        let (mant, exp) = if exp_bits == 0 {
            (frac, -1074)
        } else {
            (frac | (1u64 << 52), exp_bits - 1075)
        };
        let es = if exp >= 0 { "+" } else { "-" };
        return format!("{sign}{mant}p{es}{}", exp.abs());
    }
    // Normalise to 1.xxx * 2^exp.
    let (mut mant, mut exp) = if exp_bits == 0 {
        if frac == 0 {
            (0u64, 0i64)
        } else {
            let shift = frac.leading_zeros() as i64 - 11;
            ((frac << shift) & ((1u64 << 52) - 1), -1022 - shift)
        }
    } else {
        (frac, exp_bits - 1023)
    };
    let lead = if exp_bits == 0 && frac == 0 { 0 } else { 1 };
    let mut hex = format!("{mant:013x}");
    if prec >= 0 {
        let p = prec as usize;
        if p < 13 {
            // Round the 52-bit fraction to p hex digits (half to even).
            let drop = (13 - p) * 4;
            let full = (u128::from(lead as u64) << 52) | u128::from(mant);
            let half = 1u128 << (drop - 1);
            let rem = full & ((1u128 << drop) - 1);
            let mut kept = full >> drop;
            if rem > half || (rem == half && kept & 1 == 1) {
                kept += 1;
            }
            let mut l = (kept >> (p * 4)) as u64;
            mant = (kept & ((1u128 << (p * 4)) - 1)) as u64;
            if l >= 2 {
                l = 1;
                mant >>= 1;
                exp += 1;
            }
            hex = if p == 0 {
                String::new()
            } else {
                format!("{mant:0width$x}", width = p)
            };
            let _ = l;
        } else {
            hex.push_str(&"0".repeat(p - 13));
        }
    } else {
        hex = hex.trim_end_matches('0').to_string();
    }
    let es = if exp >= 0 { "+" } else { "-" };
    let mut s = format!("{sign}0x{lead}");
    if !hex.is_empty() {
        s.push('.');
        s.push_str(&hex);
    }
    s.push_str(&format!("p{es}{:02}", exp.abs()));
    if fmt == 'X' {
        s = s.to_uppercase();
    }
    s
}

// ---------------------------------------------------------------------------
// the printer

#[derive(Default, Clone, Copy)]
struct Flags {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    plus_v: bool,
    sharp_v: bool,
    wid: Option<usize>,
    prec: Option<usize>,
}

struct Printer {
    buf: String,
    f: Flags,
}

const MAX_DEPTH: usize = crate::value::MAX_VALUE_DEPTH;

impl Printer {
    fn new() -> Printer {
        Printer {
            buf: String::new(),
            f: Flags::default(),
        }
    }

    fn write_padding(&mut self, n: usize) {
        let c = if self.f.zero && !self.f.minus {
            '0'
        } else {
            ' '
        };
        for _ in 0..n {
            self.buf.push(c);
        }
    }

    fn pad(&mut self, s: &str) {
        let Some(w) = self.f.wid.filter(|w| *w > 0) else {
            self.buf.push_str(s);
            return;
        };
        let n = w.saturating_sub(s.chars().count());
        if !self.f.minus {
            self.write_padding(n);
            self.buf.push_str(s);
        } else {
            self.buf.push_str(s);
            self.write_padding(n);
        }
    }

    fn truncate<'a>(&self, s: &'a str) -> &'a str {
        if let Some(p) = self.f.prec
            && let Some((i, _)) = s.char_indices().nth(p)
        {
            return &s[..i];
        }
        s
    }

    fn bad_verb(&mut self, verb: char, v: &Value) {
        self.buf.push_str("%!");
        self.buf.push(verb);
        self.buf.push('(');
        match v {
            Value::Nil => self.buf.push_str("<nil>"),
            _ => {
                self.buf.push_str(&v.type_name());
                self.buf.push('=');
                self.print_arg(v, 'v', 0);
            }
        }
        self.buf.push(')');
    }

    fn fmt_bool(&mut self, b: bool, verb: char, v: &Value) {
        match verb {
            't' | 'v' => self.pad(if b { "true" } else { "false" }),
            _ => self.bad_verb(verb, v),
        }
    }

    /// Go's `fmtInteger`; `unsigned` for `uint8`, which `%#v` prints in hex (`0x61`).
    fn fmt_integer(&mut self, n: i64, verb: char, v: &Value, unsigned: bool) {
        let hex_v = verb == 'v' && unsigned && self.f.sharp_v;
        let (base, upper) = match verb {
            'v' if hex_v => (16, false),
            'v' | 'd' => (10, false),
            'b' => (2, false),
            'o' | 'O' => (8, false),
            'x' => (16, false),
            'X' => (16, true),
            'c' => {
                let c = char::from_u32(n as u32).filter(|_| (0..=0x10FFFF).contains(&n));
                let c = c.unwrap_or('\u{FFFD}');
                // A genuine char of the escape range is written as its UTF-8 bytes.
                let mut buf = [0u8; 4];
                let s = gostr::from_go_slice(c.encode_utf8(&mut buf).as_bytes()).into_owned();
                self.pad(&s);
                return;
            }
            'q' => {
                let c = char::from_u32(n as u32)
                    .filter(|_| (0..=0x10FFFF).contains(&n))
                    .unwrap_or('\u{FFFD}');
                let s = quote_rune(c, self.f.plus);
                self.pad(&s);
                return;
            }
            'U' => {
                self.fmt_unicode(n);
                return;
            }
            _ => {
                self.bad_verb(verb, v);
                return;
            }
        };
        let negative = n < 0;
        let u = n.unsigned_abs();
        let mut digits = match base {
            2 => format!("{u:b}"),
            8 => format!("{u:o}"),
            16 if upper => format!("{u:X}"),
            16 => format!("{u:x}"),
            _ => u.to_string(),
        };
        let mut prec = 0usize;
        if let Some(p) = self.f.prec {
            prec = p;
            if p == 0 && u == 0 {
                let old = self.f.zero;
                self.f.zero = false;
                let w = self.f.wid.unwrap_or(0);
                self.write_padding(w);
                self.f.zero = old;
                return;
            }
        } else if self.f.zero
            && !self.f.minus
            && let Some(w) = self.f.wid
        {
            prec = w;
            if negative || self.f.plus || self.f.space {
                prec = prec.saturating_sub(1);
            }
        }
        if digits.len() < prec {
            digits = "0".repeat(prec - digits.len()) + &digits;
        }
        let mut prefix = String::new();
        if self.f.sharp || hex_v {
            match base {
                2 => prefix.push_str("0b"),
                8 if !digits.starts_with('0') => {
                    prefix.push('0');
                }
                16 => prefix.push_str(if upper { "0X" } else { "0x" }),
                _ => {}
            }
        }
        if verb == 'O' {
            prefix = format!("0o{prefix}");
        }
        let sign = if negative {
            "-"
        } else if self.f.plus {
            "+"
        } else if self.f.space {
            " "
        } else {
            ""
        };
        let s = format!("{sign}{prefix}{digits}");
        let old = self.f.zero;
        self.f.zero = false;
        self.pad(&s);
        self.f.zero = old;
    }

    fn fmt_unicode(&mut self, n: i64) {
        let u = n as u64;
        let mut prec = 4;
        if let Some(p) = self.f.prec
            && p > 4
        {
            prec = p;
        }
        let hex = format!("{u:X}");
        let mut s = String::from("U+");
        for _ in hex.len()..prec {
            s.push('0');
        }
        s.push_str(&hex);
        if self.f.sharp
            && let Some(c) = char::from_u32(u as u32)
            && u <= 0x10FFFF
            && is_print(c)
        {
            s.push_str(&format!(" '{c}'"));
        }
        let old = self.f.zero;
        self.f.zero = false;
        self.pad(&s);
        self.f.zero = old;
    }

    fn fmt_float(&mut self, x: f64, verb: char, v: &Value) {
        let (fmt, default_prec) = match verb {
            'v' => ('g', -1),
            'g' | 'G' => (verb, -1),
            'f' | 'F' | 'e' | 'E' => (verb, 6),
            'b' | 'x' | 'X' => (verb, -1),
            _ => {
                self.bad_verb(verb, v);
                return;
            }
        };
        let prec = self.f.prec.map(|p| p as i32).unwrap_or(default_prec);
        let mut num = if matches!(fmt, 'b' | 'x' | 'X') {
            format_float_bits(x, fmt, self.f.prec.map(|p| p as i32).unwrap_or(-1))
        } else {
            format_float(x, fmt, prec)
        };
        if !num.starts_with(['-', '+']) {
            num.insert(0, '+');
        }
        if self.f.space && num.starts_with('+') && !self.f.plus {
            num.replace_range(0..1, " ");
        }
        let second = num.as_bytes().get(1).copied();
        if second == Some(b'I') || second == Some(b'N') {
            let old = self.f.zero;
            self.f.zero = false;
            if second == Some(b'N') && !self.f.space && !self.f.plus {
                num.remove(0);
            }
            self.pad(&num);
            self.f.zero = old;
            return;
        }
        if self.f.sharp && fmt != 'b' {
            num = sharp_float(num, fmt, prec, self.f.sharp_v);
        }
        if self.f.plus || !num.starts_with('+') {
            if self.f.zero
                && !self.f.minus
                && let Some(w) = self.f.wid
                && w > num.len()
            {
                let (sign, rest) = num.split_at(1);
                self.buf.push_str(sign);
                self.write_padding(w - num.len());
                self.buf.push_str(rest);
                return;
            }
            self.pad(&num);
            return;
        }
        let rest = num[1..].to_string();
        self.pad(&rest);
    }

    fn fmt_string(&mut self, s: &str, verb: char, v: &Value) {
        match verb {
            'v' => {
                if self.f.sharp_v {
                    self.fmt_q(s);
                } else {
                    let t = self.truncate(s).to_string();
                    self.pad(&t);
                }
            }
            's' => {
                let t = self.truncate(s).to_string();
                self.pad(&t);
            }
            'x' => self.fmt_sx(&gostr::go_bytes(s), false),
            'X' => self.fmt_sx(&gostr::go_bytes(s), true),
            'q' => self.fmt_q(s),
            _ => self.bad_verb(verb, v),
        }
    }

    fn fmt_q(&mut self, s: &str) {
        let s = self.truncate(s).to_string();
        if self.f.sharp && can_backquote(&s) {
            self.pad(&format!("`{s}`"));
            return;
        }
        let q = if self.f.plus {
            quote_ascii(&s)
        } else {
            quote(&s)
        };
        self.pad(&q);
    }

    fn fmt_sx(&mut self, b: &[u8], upper: bool) {
        let mut length = b.len();
        if let Some(p) = self.f.prec
            && p < length
        {
            length = p;
        }
        let mut width = 2 * length;
        if width > 0 {
            if self.f.space {
                if self.f.sharp {
                    width *= 2;
                }
                width += length - 1;
            } else if self.f.sharp {
                width += 2;
            }
        } else {
            if let Some(w) = self.f.wid {
                self.write_padding(w);
            }
            return;
        }
        let wid = self.f.wid.unwrap_or(0);
        if wid > width && !self.f.minus {
            self.write_padding(wid - width);
        }
        let x = if upper { "0X" } else { "0x" };
        if self.f.sharp {
            self.buf.push_str(x);
        }
        for (i, c) in b[..length].iter().enumerate() {
            if self.f.space && i > 0 {
                self.buf.push(' ');
                if self.f.sharp {
                    self.buf.push_str(x);
                }
            }
            if upper {
                self.buf.push_str(&format!("{c:02X}"));
            } else {
                self.buf.push_str(&format!("{c:02x}"));
            }
        }
        if wid > width && self.f.minus {
            self.write_padding(wid - width);
        }
    }

    fn print_arg(&mut self, v: &Value, verb: char, depth: usize) {
        if depth > MAX_DEPTH {
            self.buf.push_str("...");
            return;
        }
        if let Value::Nil = v {
            match verb {
                'T' | 'v' => {
                    if depth > 0 {
                        if self.f.sharp_v {
                            self.buf.push_str("interface {}(nil)");
                        } else {
                            self.buf.push_str("<nil>");
                        }
                    } else {
                        self.pad("<nil>");
                    }
                }
                _ => self.bad_verb(verb, v),
            }
            return;
        }
        if verb == 'T' {
            let t = self.truncate(&v.type_name()).to_string();
            self.pad(&t);
            return;
        }
        match v {
            Value::Nil => {}
            Value::Bool(b) => self.fmt_bool(*b, verb, v),
            Value::Int(i) | Value::Int64(i) => self.fmt_integer(*i, verb, v, false),
            Value::Uint8(b) => self.fmt_integer(i64::from(*b), verb, v, true),
            Value::Float(f) => self.fmt_float(*f, verb, v),
            Value::String(s) => self.fmt_string(s, verb, v),
            Value::Bytes(b) => self.fmt_bytes(b, verb, v, depth),
            Value::List(items, kind) => {
                if self.f.sharp_v {
                    self.buf.push_str(&v.type_name());
                    self.buf.push('{');
                    for (i, it) in items.iter().enumerate() {
                        if i > 0 {
                            self.buf.push_str(", ");
                        }
                        self.print_arg(it, verb, depth + 1);
                    }
                    self.buf.push('}');
                    return;
                }
                let _ = kind;
                self.buf.push('[');
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(' ');
                    }
                    self.print_arg(it, verb, depth + 1);
                }
                self.buf.push(']');
            }
            Value::Map(m) => {
                let m = m.read();
                if self.f.sharp_v {
                    self.buf.push_str(&v.type_name());
                    self.buf.push('{');
                } else {
                    self.buf.push_str("map[");
                }
                for (i, (k, val)) in m.iter().enumerate() {
                    if i > 0 {
                        self.buf.push_str(if self.f.sharp_v { ", " } else { " " });
                    }
                    self.print_arg(&Value::str(k.as_str()), verb, depth + 1);
                    self.buf.push(':');
                    self.print_arg(val, verb, depth + 1);
                }
                self.buf.push(if self.f.sharp_v { '}' } else { ']' });
            }
            Value::Object(o) => {
                let s = o.display();
                match verb {
                    'v' | 's' => {
                        let t = self.truncate(&s).to_string();
                        self.pad(&t);
                    }
                    'q' => self.fmt_q(&s),
                    _ => self.bad_verb(verb, v),
                }
            }
        }
    }

    fn fmt_bytes(&mut self, b: &[u8], verb: char, v: &Value, depth: usize) {
        match verb {
            'v' | 'd' => {
                if self.f.sharp_v {
                    self.buf.push_str("[]byte{");
                    for (i, c) in b.iter().enumerate() {
                        if i > 0 {
                            self.buf.push_str(", ");
                        }
                        self.buf.push_str(&format!("0x{c:x}"));
                    }
                    self.buf.push('}');
                    return;
                }
                self.buf.push('[');
                for (i, c) in b.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(' ');
                    }
                    let iv = Value::Uint8(*c);
                    self.print_arg(&iv, verb, depth + 1);
                }
                self.buf.push(']');
            }
            's' => {
                // Go's string(b): every byte kept.
                let s = gostr::from_go_slice(b);
                let t = self.truncate(&s).to_string();
                self.pad(&t);
            }
            'x' => self.fmt_sx(b, false),
            'X' => self.fmt_sx(b, true),
            'q' => self.fmt_q(&gostr::from_go_slice(b)),
            _ => {
                // Go prints other verbs element-wise like an integer slice.
                let list = Value::List(
                    std::sync::Arc::new(b.iter().map(|c| Value::Uint8(*c)).collect()),
                    ListKind::Int,
                );
                if let Value::List(items, _) = &list {
                    self.buf.push('[');
                    for (i, it) in items.iter().enumerate() {
                        if i > 0 {
                            self.buf.push(' ');
                        }
                        self.print_arg(it, verb, depth + 1);
                    }
                    self.buf.push(']');
                }
                let _ = v;
            }
        }
    }
}

fn sharp_float(num: String, fmt: char, prec: i32, sharp_v: bool) -> String {
    // %#g etc.: keep a decimal point (and trailing zeros for %g).
    let _ = sharp_v;
    let (body, exp) = match num.find(['e', 'E']) {
        Some(i) => (num[..i].to_string(), num[i..].to_string()),
        None => (num.clone(), String::new()),
    };
    let mut body = body;
    if !body.contains('.') {
        body.push('.');
    }
    if matches!(fmt, 'g' | 'G') {
        let want = if prec < 0 { 6 } else { prec.max(1) } as usize;
        let digits = body
            .trim_start_matches(['+', '-', ' '])
            .trim_start_matches(['0', '.'])
            .chars()
            .filter(|c| c.is_ascii_digit())
            .count();
        let digits = if digits == 0 { 1 } else { digits };
        for _ in digits..want {
            body.push('0');
        }
    }
    body + &exp
}

/// Go's `fmt.Sprint(args...)`: spaces between operands when neither is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut p = Printer::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Value::String(_));
        if i > 0 && !is_string && !prev_string {
            p.buf.push(' ');
        }
        p.f = Flags::default();
        p.print_arg(a, 'v', 0);
        prev_string = is_string;
    }
    gostr::normalize(p.buf)
}

/// Go's `fmt.Sprintln(args...)`: always spaces, then a newline.
pub fn sprintln(args: &[Value]) -> String {
    let mut p = Printer::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            p.buf.push(' ');
        }
        p.f = Flags::default();
        p.print_arg(a, 'v', 0);
    }
    p.buf.push('\n');
    gostr::normalize(p.buf)
}

/// Formats one value like `fmt.Sprint(v)`.
pub fn to_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        _ => sprint(std::slice::from_ref(v)),
    }
}

fn parsenum(s: &[u8], start: usize, end: usize) -> (usize, bool, usize) {
    if start >= end {
        return (0, false, end);
    }
    let mut num = 0usize;
    let mut isnum = false;
    let mut i = start;
    while i < end && s[i].is_ascii_digit() {
        if num > 1_000_000 {
            return (0, false, end);
        }
        num = num * 10 + (s[i] - b'0') as usize;
        isnum = true;
        i += 1;
    }
    (num, isnum, i)
}

fn int_from_arg(args: &[Value], arg_num: usize) -> (i64, bool, usize) {
    if arg_num < args.len() {
        let (n, ok) = match &args[arg_num] {
            Value::Int(i) | Value::Int64(i) => (*i, true),
            Value::Uint8(b) => (i64::from(*b), true),
            _ => (0, false),
        };
        if !(-1_000_000..=1_000_000).contains(&n) {
            return (0, false, arg_num + 1);
        }
        return (n, ok, arg_num + 1);
    }
    (0, false, arg_num)
}

/// Go's `fmt.Sprintf(format, args...)`, including its `%!verb(...)` error forms.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut p = Printer::new();
    let fb = format.as_bytes();
    let end = fb.len();
    let mut arg_num = 0usize;
    let mut reordered = false;
    let mut i = 0usize;

    // Go's argNumber: returns (argNum, i, found).
    let arg_number =
        |arg_num: usize, i: usize, reordered: &mut bool, good: &mut bool| -> (usize, usize, bool) {
            if i >= end || fb[i] != b'[' {
                return (arg_num, i, false);
            }
            *reordered = true;
            let sub = &fb[i..];
            let (index, wid, ok) = {
                if sub.len() < 3 {
                    (0i64, 1usize, false)
                } else {
                    let mut r = (0i64, 1usize, false);
                    for j in 1..sub.len() {
                        if sub[j] == b']' {
                            let (w, ok, newi) = parsenum(sub, 1, j);
                            if !ok || newi != j {
                                r = (0, j + 1, false);
                            } else {
                                r = (w as i64 - 1, j + 1, true);
                            }
                            break;
                        }
                    }
                    r
                }
            };
            if ok && index >= 0 && (index as usize) < args.len() {
                return (index as usize, i + wid, true);
            }
            *good = false;
            (arg_num, i + wid, ok)
        };

    'outer: while i < end {
        let mut good = true;
        let lasti = i;
        while i < end && fb[i] != b'%' {
            i += 1;
        }
        if i > lasti {
            p.buf.push_str(&format[lasti..i]);
        }
        if i >= end {
            break;
        }
        i += 1;
        p.f = Flags::default();
        // flags and the fast path
        while i < end {
            let c = fb[i];
            match c {
                b'#' => p.f.sharp = true,
                b'0' => p.f.zero = !p.f.minus,
                b'+' => p.f.plus = true,
                b'-' => {
                    p.f.minus = true;
                    p.f.zero = false;
                }
                b' ' => p.f.space = true,
                _ => {
                    if c.is_ascii_lowercase() && arg_num < args.len() {
                        if c == b'v' {
                            p.f.sharp_v = p.f.sharp;
                            p.f.sharp = false;
                            p.f.plus_v = p.f.plus;
                            p.f.plus = false;
                        }
                        let a = args[arg_num].clone();
                        p.print_arg(&a, c as char, 0);
                        arg_num += 1;
                        i += 1;
                        continue 'outer;
                    }
                    break;
                }
            }
            i += 1;
        }
        let mut after_index;
        (arg_num, i, after_index) = arg_number(arg_num, i, &mut reordered, &mut good);
        if i < end && fb[i] == b'*' {
            i += 1;
            let (n, ok, na) = int_from_arg(args, arg_num);
            arg_num = na;
            if !ok {
                p.buf.push_str("%!(BADWIDTH)");
                p.f.wid = None;
            } else if n < 0 {
                p.f.wid = Some(n.unsigned_abs() as usize);
                p.f.minus = true;
                p.f.zero = false;
            } else {
                p.f.wid = Some(n as usize);
            }
            after_index = false;
        } else {
            let (w, ok, ni) = parsenum(fb, i, end);
            i = ni;
            p.f.wid = if ok { Some(w) } else { None };
            if after_index && ok {
                good = false;
            }
        }
        if i + 1 < end && fb[i] == b'.' {
            i += 1;
            if after_index {
                good = false;
            }
            (arg_num, i, after_index) = arg_number(arg_num, i, &mut reordered, &mut good);
            if i < end && fb[i] == b'*' {
                i += 1;
                let (n, ok, na) = int_from_arg(args, arg_num);
                arg_num = na;
                if n < 0 || !ok {
                    // Go: negative precisions make no sense and count as missing.
                    p.f.prec = None;
                    p.buf.push_str("%!(BADPREC)");
                } else {
                    p.f.prec = Some(n as usize);
                }
                after_index = false;
            } else {
                let (pr, ok, ni) = parsenum(fb, i, end);
                i = ni;
                p.f.prec = Some(if ok { pr } else { 0 });
            }
        }
        if !after_index {
            (arg_num, i, _) = arg_number(arg_num, i, &mut reordered, &mut good);
        }
        if i >= end {
            p.buf.push_str("%!(NOVERB)");
            break;
        }
        let verb = format[i..].chars().next().unwrap_or('?');
        i += verb.len_utf8();
        // Go decodes an invalid byte in the format as U+FFFD.
        let verb = if gostr::escaped_byte(verb).is_some() {
            '\u{FFFD}'
        } else {
            verb
        };
        if verb == '%' {
            p.buf.push('%');
        } else if !good {
            p.buf.push_str(&format!("%!{verb}(BADINDEX)"));
        } else if arg_num >= args.len() {
            p.buf.push_str(&format!("%!{verb}(MISSING)"));
        } else {
            if verb == 'v' {
                p.f.sharp_v = p.f.sharp;
                p.f.sharp = false;
                p.f.plus_v = p.f.plus;
                p.f.plus = false;
            }
            let a = args[arg_num].clone();
            p.print_arg(&a, verb, 0);
            arg_num += 1;
        }
    }
    if !reordered && arg_num < args.len() {
        p.f = Flags::default();
        p.buf.push_str("%!(EXTRA ");
        for (k, a) in args[arg_num..].iter().enumerate() {
            if k > 0 {
                p.buf.push_str(", ");
            }
            if a.is_nil() {
                p.buf.push_str("<nil>");
            } else {
                p.buf.push_str(&a.type_name());
                p.buf.push('=');
                p.print_arg(a, 'v', 0);
            }
        }
        p.buf.push(')');
    }
    gostr::normalize(p.buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_float_matches_strconv() {
        let cases = [
            (1e6, 'g', -1, "1e+06"),
            (123456.0, 'g', -1, "123456"),
            (0.0001, 'g', -1, "0.0001"),
            (0.00001, 'g', -1, "1e-05"),
            (1234.5678, 'e', 2, "1.23e+03"),
            (2.5, 'f', 0, "2"),
            (-0.0, 'g', -1, "-0"),
            (100.0, 'g', 2, "1e+02"),
            (0.1, 'f', -1, "0.1"),
        ];
        for (v, f, p, want) in cases {
            assert_eq!(format_float(v, f, p), want, "{v} {f} {p}");
        }
    }

    #[test]
    fn sprintf_error_forms() {
        let i = Value::Int(1);
        assert_eq!(sprintf("%d %d", std::slice::from_ref(&i)), "1 %!d(MISSING)");
        assert_eq!(sprintf("%!", &[]), "%!!(MISSING)");
        assert_eq!(sprintf("abc%", &[]), "abc%!(NOVERB)");
        assert_eq!(sprintf("%s", std::slice::from_ref(&i)), "%!s(int=1)");
        assert_eq!(
            sprintf("x", &[i.clone(), Value::str("a")]),
            "x%!(EXTRA int=1, string=a)"
        );
        assert_eq!(sprintf("%[2]d", std::slice::from_ref(&i)), "%!d(BADINDEX)");
    }

    #[test]
    fn quoting_raw_bytes() {
        let cut = gostr::from_go_bytes(vec![0xE6, 0x97]);
        assert_eq!(quote(&cut), r#""\xe6\x97""#);
        assert_eq!(quote_ascii(&format!("é{cut}")), r#""\u00e9\xe6\x97""#);
        // The two halves of a cut char print as the char once joined.
        let joined = format!("{cut}{}", gostr::from_go_bytes(vec![0xA5]));
        assert_eq!(quote(&joined), r#""日""#);
        assert!(!can_backquote(&cut));
        assert!(can_backquote(&joined));
        assert_eq!(unquote(r#""\xe6\x97""#).as_deref(), Some(cut.as_str()));
        assert_eq!(
            sprintf(
                "%x|%5.1s|",
                &[Value::str(cut.as_str()), Value::str(cut.as_str())]
            ),
            "e697|    \u{10FFE6}|"
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("a\"b\n\u{7}é"), "\"a\\\"b\\n\\aé\"");
        assert_eq!(quote_ascii("é"), "\"\\u00e9\"");
        assert_eq!(
            unquote("\"\\x41\\u00e9\\101\""),
            Some("Aé A".replace(' ', ""))
        );
        assert_eq!(unquote("`a\r\nb`"), Some("a\nb".to_string()));
        assert_eq!(unquote("\"bad\\q\""), None);
    }
}
