//! Conversions sprig applies to `interface{}` arguments (spf13/cast semantics, `strval`).

use crate::gofmt;
use crate::value::Value;

/// sprig's `strval`: strings as is, bytes as text, everything else `%v`.
pub fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Bytes(b) => crate::gostr::from_go_slice(b).into_owned(),
        Value::Object(o) => o.display(),
        other => gofmt::sprint(std::slice::from_ref(other)),
    }
}

/// sprig's `strslice`: a list's non-nil elements as strings; a scalar becomes one string.
pub fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::Object(o) if o.collection().is_some() => {
            o.collection().map(|c| strslice(&c)).unwrap_or_default()
        }
        Value::List(l, _) => l.iter().filter(|x| !x.is_nil()).map(strval).collect(),
        Value::Bytes(b) => b.iter().map(|c| c.to_string()).collect(),
        Value::Nil => Vec::new(),
        other => vec![strval(other)],
    }
}

/// Go's `strings.TrimRight(s, "0")` then "." for cast's `trimZeroDecimal`.
fn trim_zero_decimal(s: &str) -> &str {
    let mut found_zero = false;
    for (i, c) in s.char_indices().rev() {
        match c {
            '.' => {
                if found_zero {
                    return &s[..i];
                }
                return s;
            }
            '0' => found_zero = true,
            _ => return s,
        }
    }
    s
}

/// cast.ToInt64: ints (and `uint8`) as is, floats truncated, strings parsed (base prefixes allowed), bools 0/1.
pub fn to_i64(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
        Value::Uint8(b) => i64::from(*b),
        Value::Float(f) => {
            if f.is_nan() {
                i64::MIN
            } else {
                *f as i64
            }
        }
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => gofmt::parse_go_int(trim_zero_decimal(s)).unwrap_or(0),
        _ => 0,
    }
}

/// cast.ToFloat64.
pub fn to_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i as f64,
        Value::Uint8(b) => f64::from(*b),
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => parse_go_float_lenient(s).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// Go's `strconv.ParseFloat(s, 64)`, which also accepts "inf", "nan" and hex floats.
pub fn parse_go_float_lenient(s: &str) -> Option<f64> {
    let t = s.trim_start_matches(['+', '-']);
    match t.to_ascii_lowercase().as_str() {
        "inf" | "infinity" => {
            return Some(if s.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            });
        }
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    gofmt::parse_go_float(s).or_else(|| gofmt::parse_go_int(s).map(|i| i as f64))
}

/// The items of a Go slice or array argument, or `None` for other kinds.
pub fn list_items(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::Object(o) => o.collection().as_ref().and_then(list_items),
        Value::List(l, _) => Some(l.to_vec()),
        Value::Bytes(b) => Some(b.iter().map(|c| Value::Uint8(*c)).collect()),
        _ => None,
    }
}

/// The Go `reflect.Kind` name of a value for sprig's "Cannot X on type K" messages.
pub fn kind(v: &Value) -> &'static str {
    v.kind_name()
}

/// Go's `reflect.DeepEqual`.
pub fn deep_equal(a: &Value, b: &Value) -> bool {
    a == b
}

/// sprig's `empty`: the zero value of its type, or nil.
pub fn empty(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Bool(b) => !b,
        Value::Int(i) | Value::Int64(i) => *i == 0,
        Value::Uint8(b) => *b == 0,
        Value::Float(f) => *f == 0.0,
        Value::String(s) => s.is_empty(),
        Value::List(l, _) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
        Value::Bytes(b) => b.is_empty(),
        Value::Object(o) => o.collection().is_some_and(|c| empty(&c)),
    }
}
