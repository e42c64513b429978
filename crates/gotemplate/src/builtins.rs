//! Go's predefined template functions (`and`, `eq`, `index`, `printf`, ...).

use std::sync::Arc;

use crate::exec::{V, truth_of};
use crate::funcs::{Param, Signature};
use crate::gofmt;
use crate::gostr;
use crate::value::{ListKind, Value};

pub(crate) const BUILTINS: &[&str] = &[
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
    "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
];

pub(crate) fn signature(name: &str) -> Signature {
    use Param::*;
    match name {
        "and" | "or" | "eq" | "index" | "slice" | "call" => {
            Signature::variadic(&[Reflect], Reflect)
        }
        "not" | "len" => Signature::fixed(&[Reflect]),
        "ne" | "lt" | "le" | "gt" | "ge" => Signature::fixed(&[Reflect, Reflect]),
        "printf" => Signature::variadic(&[String], Any),
        _ => Signature::variadic(&[], Any),
    }
}

/// `indirectInterface`: look through an `interface{}` wrapper; host objects of named
/// slice/map types become their collection.
fn ind(v: &V) -> V {
    match v {
        V::Iface(Value::Nil) => V::Invalid,
        V::Iface(Value::Object(o)) | V::Val(Value::Object(o)) if o.collection().is_some() => {
            V::Val(o.collection().unwrap_or_default())
        }
        V::Iface(x) => V::Val(x.clone()),
        o => o.clone(),
    }
}

pub(crate) fn call(name: &str, a: &[V]) -> Result<V, String> {
    let vals = || a.iter().map(V::value).collect::<Vec<_>>();
    Ok(match name {
        "not" => V::Val(Value::Bool(!truth_of(&a[0]))),
        "len" => V::Val(Value::Int(length(&a[0])?)),
        "index" => index(&a[0], &a[1..])?,
        "slice" => slice(&a[0], &a[1..])?,
        "print" => V::Val(Value::str(gofmt::sprint(&vals()))),
        "println" => V::Val(Value::str(gofmt::sprintln(&vals()))),
        "printf" => {
            let v = vals();
            let f = v[0].as_str().unwrap_or_default().to_string();
            V::Val(Value::str(gofmt::sprintf(&f, &v[1..])))
        }
        "eq" => V::Val(Value::Bool(eq(&a[0], &a[1..])?)),
        "ne" => V::Val(Value::Bool(!eq(&a[0], &a[1..])?)),
        "lt" => V::Val(Value::Bool(lt(&a[0], &a[1])?)),
        "le" => V::Val(Value::Bool(le(&a[0], &a[1])?)),
        "gt" => V::Val(Value::Bool(!le(&a[0], &a[1])?)),
        "ge" => V::Val(Value::Bool(!lt(&a[0], &a[1])?)),
        "html" => V::Val(Value::str(html_escape(&eval_args(a)))),
        "js" => V::Val(Value::str(js_escape(&eval_args(a)))),
        "urlquery" => V::Val(Value::str(crate::encoding::query_escape(&eval_args(a)))),
        _ => return Err(format!("unknown builtin {name}")),
    })
}

fn eval_args(a: &[V]) -> String {
    if a.len() == 1
        && let V::Val(Value::String(s)) | V::Iface(Value::String(s)) = &a[0]
    {
        return s.to_string();
    }
    let vals: Vec<Value> = a
        .iter()
        .map(|v| match v {
            V::Invalid | V::Iface(Value::Nil) => Value::str("<no value>"),
            V::Val(x) | V::Iface(x) => x.clone(),
        })
        .collect();
    gofmt::sprint(&vals)
}

fn length(v: &V) -> Result<i64, String> {
    let v = &match v {
        V::Val(Value::Object(_)) | V::Iface(Value::Object(_)) => ind(v),
        other => other.clone(),
    };
    match v {
        V::Iface(Value::Nil) | V::Invalid => Err("len of nil pointer".into()),
        V::Val(x) | V::Iface(x) => match x {
            Value::String(s) => Ok(gostr::go_len(s) as i64),
            Value::List(l, _) => Ok(l.len() as i64),
            Value::Map(m) => Ok(m.len() as i64),
            Value::Bytes(b) => Ok(b.len() as i64),
            other => Err(format!("len of type {}", other.type_name())),
        },
    }
}

fn index_arg(v: &V, cap: usize) -> Result<usize, String> {
    let x = match ind(v) {
        V::Val(Value::Int(i)) | V::Val(Value::Int64(i)) => i,
        V::Val(Value::Uint8(b)) => i64::from(b),
        V::Invalid => return Err("cannot index slice/array with nil".into()),
        other => {
            return Err(format!(
                "cannot index slice/array with type {}",
                other.value().type_name()
            ));
        }
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

fn index(item: &V, idx: &[V]) -> Result<V, String> {
    let mut item = ind(item);
    if !item.is_valid() {
        return Err("index of untyped nil".into());
    }
    for i in idx {
        let cur = match ind(&item) {
            V::Invalid => return Err("index of nil pointer".into()),
            v => v.value(),
        };
        item = match &cur {
            Value::List(l, kind) => {
                let x = index_arg(i, l.len())?;
                if x >= l.len() {
                    return Err("reflect: slice index out of range".into());
                }
                if *kind == ListKind::Any {
                    V::Iface(l[x].clone())
                } else {
                    V::Val(l[x].clone())
                }
            }
            Value::String(s) => {
                // Go indexes the bytes of a string and yields a uint8.
                let len = gostr::go_len(s);
                let x = index_arg(i, len)?;
                match gostr::go_byte_at(s, x) {
                    Some(b) => V::Val(Value::Uint8(b)),
                    None => return Err("reflect: string index out of range".into()),
                }
            }
            Value::Bytes(b) => {
                let x = index_arg(i, b.len())?;
                if x >= b.len() {
                    return Err("reflect: slice index out of range".into());
                }
                V::Val(Value::Uint8(b[x]))
            }
            Value::Map(m) => {
                let key = match ind(i) {
                    V::Val(Value::String(k)) => k,
                    V::Invalid => return Err("value is nil; should be of type string".into()),
                    other => {
                        return Err(format!(
                            "value has type {}; should be string",
                            other.value().type_name()
                        ));
                    }
                };
                V::Iface(m.get(&key).unwrap_or(Value::Nil))
            }
            other => return Err(format!("can't index item of type {}", other.type_name())),
        };
    }
    Ok(item)
}

fn slice(item: &V, idx: &[V]) -> Result<V, String> {
    let item = ind(item);
    let cur = match &item {
        V::Invalid => return Err("slice of untyped nil".into()),
        v => v.value(),
    };
    if idx.len() > 3 {
        return Err(format!("too many slice indexes: {}", idx.len()));
    }
    let len = match &cur {
        Value::String(s) => {
            if idx.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            gostr::go_len(s)
        }
        Value::List(l, _) => l.len(),
        Value::Bytes(b) => b.len(),
        other => return Err(format!("can't slice item of type {}", other.type_name())),
    };
    let mut ix = [0usize, len, len];
    for (k, i) in idx.iter().enumerate() {
        ix[k] = index_arg(i, len)?;
    }
    if ix[0] > ix[1] {
        return Err(format!("invalid slice index: {} > {}", ix[0], ix[1]));
    }
    if idx.len() == 3 && ix[1] > ix[2] {
        return Err(format!("invalid slice index: {} > {}", ix[1], ix[2]));
    }
    Ok(V::Val(match cur {
        Value::String(s) => match gostr::go_slice(&s, ix[0], ix[1]) {
            std::borrow::Cow::Borrowed(t) if t.len() == s.len() => Value::String(s.clone()),
            t => Value::str(t.into_owned()),
        },
        Value::List(l, k) => Value::List(Arc::new(l[ix[0]..ix[1]].to_vec()), k),
        Value::Bytes(b) => Value::Bytes(Arc::from(&b[ix[0]..ix[1]])),
        _ => unreachable!(),
    }))
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Kind {
    Invalid,
    Bool,
    Int,
    /// Go's `uintKind` (`uint8` here): compared with `int` kinds by value, sign-aware.
    Uint,
    Float,
    String,
    Other,
}

fn basic_kind(v: &V) -> Kind {
    match v {
        V::Invalid => Kind::Invalid,
        V::Val(x) | V::Iface(x) => match x {
            Value::Nil => Kind::Invalid,
            Value::Bool(_) => Kind::Bool,
            Value::Int(_) | Value::Int64(_) => Kind::Int,
            Value::Uint8(_) => Kind::Uint,
            Value::Float(_) => Kind::Float,
            Value::String(_) => Kind::String,
            _ => Kind::Other,
        },
    }
}

fn eq(a1: &V, rest: &[V]) -> Result<bool, String> {
    let a1 = ind(a1);
    if rest.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = basic_kind(&a1);
    let x = a1.value();
    for a in rest {
        let a = ind(a);
        let k2 = basic_kind(&a);
        let y = a.value();
        let truth = if let Some(ord) = int_uint_cmp(&x, k1, &y, k2) {
            ord == std::cmp::Ordering::Equal
        } else if k1 != k2 {
            if a1.is_valid() && a.is_valid() {
                return Err(format!(
                    "incompatible types for comparison: {} and {}",
                    x.type_name(),
                    y.type_name()
                ));
            }
            false
        } else {
            match k1 {
                Kind::Bool | Kind::String => x == y,
                Kind::Int | Kind::Uint => wide_int(&x) == wide_int(&y),
                Kind::Float => matches!((&x, &y), (Value::Float(p), Value::Float(q)) if p == q),
                Kind::Invalid => true,
                Kind::Other => {
                    if let (Value::Object(p), Value::Object(q)) = (&x, &y) {
                        // Host objects are Go pointers: equal only when identical.
                        if std::sync::Arc::ptr_eq(p, q) {
                            return Ok(true);
                        }
                        continue;
                    }
                    let s = |v: &Value| gofmt::sprintf("%s", std::slice::from_ref(v));
                    if x.type_name() != y.type_name() {
                        return Err(format!(
                            "non-comparable types {}: {}, {}: {}",
                            s(&x),
                            x.type_name(),
                            y.type_name(),
                            s(&y)
                        ));
                    }
                    return Err(format!("non-comparable type {}: {}", s(&y), y.type_name()));
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn lt(a1: &V, a2: &V) -> Result<bool, String> {
    let a1 = ind(a1);
    let a2 = ind(a2);
    let k1 = basic_kind(&a1);
    let k2 = basic_kind(&a2);
    if matches!(k1, Kind::Invalid | Kind::Other) || matches!(k2, Kind::Invalid | Kind::Other) {
        return Err("invalid type for comparison".into());
    }
    let (x, y) = (a1.value(), a2.value());
    if let Some(ord) = int_uint_cmp(&x, k1, &y, k2) {
        return Ok(ord == std::cmp::Ordering::Less);
    }
    if k1 != k2 {
        return Err(format!(
            "incompatible types for comparison: {} and {}",
            x.type_name(),
            y.type_name()
        ));
    }
    Ok(match (&x, &y) {
        (Value::Bool(_), _) => return Err("invalid type for comparison".into()),
        (Value::Float(p), Value::Float(q)) => p < q,
        // Go compares the bytes; escape chars (raw bytes) do not sort like their UTF-8.
        (Value::String(p), Value::String(q)) => gostr::go_bytes(p) < gostr::go_bytes(q),
        _ => x.as_int() < y.as_int(),
    })
}

/// The integer value of an `int`/`int64`/`uint8`, widened so signed and unsigned compare.
fn wide_int(v: &Value) -> Option<i128> {
    match v {
        Value::Int(i) | Value::Int64(i) => Some(i128::from(*i)),
        Value::Uint8(b) => Some(i128::from(*b)),
        _ => None,
    }
}

/// Go compares an int kind with a uint kind by value, whatever the signs (`eq 97 (index
/// "a" 0)` is true, `lt -1 (index "a" 0)` too); `None` unless one side is unsigned and the
/// other an integer.
fn int_uint_cmp(x: &Value, k1: Kind, y: &Value, k2: Kind) -> Option<std::cmp::Ordering> {
    let mixed = matches!(
        (k1, k2),
        (Kind::Int, Kind::Uint) | (Kind::Uint, Kind::Int) | (Kind::Uint, Kind::Uint)
    );
    if !mixed {
        return None;
    }
    Some(wide_int(x)?.cmp(&wide_int(y)?))
}

fn le(a1: &V, a2: &V) -> Result<bool, String> {
    if lt(a1, a2)? {
        return Ok(true);
    }
    eq(a1, std::slice::from_ref(a2))
}

/// Go's `template.HTMLEscapeString`.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Go's `template.JSEscapeString`.
pub(crate) fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u00{:02X}", c as u32)),
            // An invalid byte decodes as U+FFFD, which is printable: Go copies the byte.
            c if gostr::escaped_byte(c).is_some() => out.push(c),
            c if !c.is_ascii() && !gofmt::is_print(c) => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}
