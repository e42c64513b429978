//! sprig's list functions (and their `must` variants).

use std::sync::Arc;

use super::arg_i;
use super::conv::{deep_equal, empty, kind, list_items, to_i64};
use crate::funcs::{FuncError, Functions, Param as P};
use crate::value::{ListKind, Value};

type R = Result<Value, FuncError>;

fn need_list(v: &Value, what: &str) -> Result<Vec<Value>, FuncError> {
    if v.is_nil() {
        return Err(FuncError::new(
            "runtime error: invalid memory address or nil pointer dereference",
        ));
    }
    list_items(v).ok_or_else(|| FuncError::new(format!("Cannot {what} on type {}", kind(v))))
}

fn list_or_nil(v: Vec<Value>) -> Value {
    Value::list(v)
}

/// Registers a list function and its `must` twin (identical here: Go's non-must variant
/// panics, which text/template turns into the same error).
fn both(f: &mut Functions, name: &str, params: &[crate::funcs::Param], imp: fn(&[Value]) -> R) {
    f.add(name, params, move |_, a| imp(a));
    let must = format!("must{}{}", name[..1].to_uppercase(), &name[1..]);
    f.add(&must, params, move |_, a| imp(a));
}

fn both_variadic(
    f: &mut Functions,
    name: &str,
    params: &[crate::funcs::Param],
    imp: fn(&[Value]) -> R,
) {
    f.add_variadic(name, params, P::Any, move |_, a| imp(a));
    let must = format!("must{}{}", name[..1].to_uppercase(), &name[1..]);
    f.add_variadic(&must, params, P::Any, move |_, a| imp(a));
}

fn push(a: &[Value]) -> R {
    let mut l = need_list(&a[0], "push")?;
    l.push(a[1].clone());
    Ok(Value::list(l))
}

fn prepend(a: &[Value]) -> R {
    let mut l = need_list(&a[0], "prepend")?;
    l.insert(0, a[1].clone());
    Ok(Value::list(l))
}

fn first(a: &[Value]) -> R {
    let l = need_list(&a[0], "find first")?;
    Ok(l.first().cloned().unwrap_or(Value::Nil))
}

fn last(a: &[Value]) -> R {
    let l = need_list(&a[0], "find last")?;
    Ok(l.last().cloned().unwrap_or(Value::Nil))
}

fn rest(a: &[Value]) -> R {
    let l = need_list(&a[0], "find rest")?;
    if l.is_empty() {
        return Ok(Value::Nil);
    }
    Ok(list_or_nil(l[1..].to_vec()))
}

fn initial(a: &[Value]) -> R {
    let l = need_list(&a[0], "find initial")?;
    if l.is_empty() {
        return Ok(Value::Nil);
    }
    Ok(list_or_nil(l[..l.len() - 1].to_vec()))
}

fn reverse(a: &[Value]) -> R {
    let mut l = need_list(&a[0], "find reverse")?;
    l.reverse();
    Ok(Value::list(l))
}

fn compact(a: &[Value]) -> R {
    let l = need_list(&a[0], "compact")?;
    Ok(Value::list(l.into_iter().filter(|x| !empty(x)).collect()))
}

fn uniq(a: &[Value]) -> R {
    let l = need_list(&a[0], "find uniq")?;
    let mut out: Vec<Value> = Vec::new();
    for x in l {
        if !out.iter().any(|y| deep_equal(y, &x)) {
            out.push(x);
        }
    }
    Ok(Value::list(out))
}

fn without(a: &[Value]) -> R {
    let l = need_list(&a[0], "find without")?;
    let omit = &a[1..];
    Ok(Value::list(
        l.into_iter()
            .filter(|x| !omit.iter().any(|o| deep_equal(o, x)))
            .collect(),
    ))
}

fn has(a: &[Value]) -> R {
    if a[1].is_nil() {
        return Ok(Value::Bool(false));
    }
    let l = need_list(&a[1], "find has")?;
    Ok(Value::Bool(l.iter().any(|x| deep_equal(&a[0], x))))
}

fn slice(a: &[Value]) -> R {
    let l = match list_items(&a[0]) {
        Some(l) => l,
        None if a[0].is_nil() => {
            return Err(FuncError::new(
                "runtime error: invalid memory address or nil pointer dereference",
            ));
        }
        None => {
            return Err(FuncError::new(format!(
                "list should be type of slice or array but {}",
                kind(&a[0])
            )));
        }
    };
    if l.is_empty() {
        return Ok(Value::Nil);
    }
    let start = if a.len() > 1 { to_i64(&a[1]) } else { 0 };
    let end = if a.len() > 2 {
        to_i64(&a[2])
    } else {
        l.len() as i64
    };
    if start < 0 || end < start || end as usize > l.len() {
        return Err(FuncError::new("reflect: slice index out of range"));
    }
    let kind = match &a[0] {
        // reflect's Slice keeps the slice type: a []byte stays []uint8.
        Value::Bytes(b) => {
            return Ok(Value::Bytes(Arc::from(&b[start as usize..end as usize])));
        }
        Value::List(_, k) => *k,
        Value::Object(o) => match o.collection() {
            Some(Value::List(_, k)) => k,
            _ => ListKind::Any,
        },
        _ => ListKind::Any,
    };
    Ok(Value::List(
        Arc::new(l[start as usize..end as usize].to_vec()),
        kind,
    ))
}

fn chunk(a: &[Value]) -> R {
    let size = arg_i(a, 0);
    let l = need_list(&a[1], "chunk")?;
    if size <= 0 {
        return Err(FuncError::new("runtime error: integer divide by zero"));
    }
    let out: Vec<Value> = l
        .chunks(size as usize)
        .map(|c| Value::list(c.to_vec()))
        .collect();
    Ok(Value::list(out))
}

fn concat(a: &[Value]) -> Result<Value, FuncError> {
    let mut out = Vec::new();
    for x in a {
        match list_items(x) {
            Some(l) => out.extend(l),
            None => {
                return Err(FuncError::new(format!(
                    "Cannot concat type {} as list",
                    kind(x)
                )));
            }
        }
    }
    Ok(Value::list(out))
}

pub(super) fn register(f: &mut Functions) {
    f.add_variadic("list", &[], P::Any, |_, a| Ok(Value::list(a.to_vec())));
    f.add_variadic("tuple", &[], P::Any, |_, a| Ok(Value::list(a.to_vec())));
    both(f, "push", &[P::Any, P::Any], push);
    both(f, "append", &[P::Any, P::Any], push);
    both(f, "prepend", &[P::Any, P::Any], prepend);
    both(f, "first", &[P::Any], first);
    both(f, "last", &[P::Any], last);
    both(f, "rest", &[P::Any], rest);
    both(f, "initial", &[P::Any], initial);
    both(f, "reverse", &[P::Any], reverse);
    both(f, "compact", &[P::Any], compact);
    both(f, "uniq", &[P::Any], uniq);
    both_variadic(f, "without", &[P::Any], without);
    both(f, "has", &[P::Any, P::Any], has);
    both_variadic(f, "slice", &[P::Any], slice);
    both(f, "chunk", &[P::Int, P::Any], chunk);
    f.add_variadic("concat", &[], P::Any, |_, a| concat(a));
}
