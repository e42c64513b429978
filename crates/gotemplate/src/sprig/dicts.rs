//! sprig's dictionary functions: `dict`, `get`, `set`, `merge`, `dig`, ...

use super::conv::{empty, strval};
use super::{arg_s, deep_copy};
use crate::funcs::{FuncError, Functions, Param as P};
use crate::value::{Map, MapRef, Value};

fn m(v: &Value) -> Option<&MapRef> {
    v.as_map()
}

/// mergo's merge of `src` into `dst` (in place), with or without overwrite.
pub(crate) fn merge_into(dst: &MapRef, src: &MapRef, overwrite: bool, depth: usize) {
    if depth > crate::value::MAX_VALUE_DEPTH || dst.same(src) {
        return;
    }
    let entries: Vec<(String, Value)> = src
        .read()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, sv) in entries {
        let dv = dst.get(&k);
        if sv.is_nil() {
            if overwrite {
                dst.write().insert(k, Value::Nil);
            }
            continue;
        }
        if let (Some(Value::Map(dm)), Value::Map(sm)) = (&dv, &sv) {
            merge_into(dm, sm, overwrite, depth + 1);
            continue;
        }
        let dst_empty = dv.as_ref().is_none_or(empty);
        if overwrite || dst_empty {
            dst.write().insert(k, sv);
        }
    }
}

pub(super) fn register(f: &mut Functions) {
    f.add_variadic("dict", &[], P::Any, |_, a| {
        let mut d = Map::new();
        let mut i = 0;
        while i < a.len() {
            let key = strval(&a[i]);
            let val = a.get(i + 1).cloned().unwrap_or_else(|| Value::str(""));
            d.insert(key, val);
            i += 2;
        }
        Ok(Value::map(d))
    });
    f.add("get", &[P::Map, P::String], |_, a| {
        Ok(m(&a[0])
            .and_then(|d| d.get(arg_s(a, 1)))
            .unwrap_or_else(|| Value::str("")))
    });
    f.add("set", &[P::Map, P::String, P::Any], |_, a| {
        let Some(d) = m(&a[0]) else {
            return Err(FuncError::new("assignment to entry in nil map"));
        };
        d.write().insert(arg_s(a, 1).to_string(), a[2].clone());
        Ok(a[0].clone())
    });
    f.add("unset", &[P::Map, P::String], |_, a| {
        if let Some(d) = m(&a[0]) {
            d.write().remove(arg_s(a, 1));
        }
        Ok(a[0].clone())
    });
    f.add("hasKey", &[P::Map, P::String], |_, a| {
        Ok(Value::Bool(
            m(&a[0]).is_some_and(|d| d.contains_key(arg_s(a, 1))),
        ))
    });
    f.add_variadic("pluck", &[P::String], P::Map, |_, a| {
        let key = arg_s(a, 0);
        Ok(Value::list(
            a[1..]
                .iter()
                .filter_map(|d| m(d).and_then(|d| d.get(key)))
                .collect(),
        ))
    });
    f.add_variadic("keys", &[], P::Map, |_, a| {
        let mut out = Vec::new();
        for d in a {
            if let Some(d) = m(d) {
                out.extend(d.read().keys().cloned());
            }
        }
        Ok(Value::string_list(out))
    });
    f.add_variadic("pick", &[P::Map], P::String, |_, a| {
        let mut out = Map::new();
        if let Some(d) = m(&a[0]) {
            for k in &a[1..] {
                let k = k.as_str().unwrap_or_default();
                if let Some(v) = d.get(k) {
                    out.insert(k.to_string(), v);
                }
            }
        }
        Ok(Value::map(out))
    });
    f.add_variadic("omit", &[P::Map], P::String, |_, a| {
        let mut out = Map::new();
        if let Some(d) = m(&a[0]) {
            let omit: Vec<&str> = a[1..].iter().filter_map(|k| k.as_str()).collect();
            for (k, v) in d.read().iter() {
                if !omit.contains(&k.as_str()) {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        Ok(Value::map(out))
    });
    f.add("values", &[P::Map], |_, a| {
        Ok(Value::list(
            m(&a[0])
                .map(|d| d.read().values().cloned().collect())
                .unwrap_or_default(),
        ))
    });
    for (name, over) in [
        ("merge", false),
        ("mustMerge", false),
        ("mergeOverwrite", true),
        ("mustMergeOverwrite", true),
    ] {
        f.add_variadic(name, &[P::Map], P::Map, move |_, a| {
            let dst = match m(&a[0]) {
                Some(d) => d.clone(),
                None => MapRef::new(Map::new()),
            };
            for s in &a[1..] {
                if let Some(s) = m(s) {
                    merge_into(&dst, s, over, 0);
                }
            }
            Ok(Value::Map(dst))
        });
    }
    f.add("deepCopy", &[P::Any], |_, a| Ok(deep_copy(&a[0], 0)));
    f.add("mustDeepCopy", &[P::Any], |_, a| Ok(deep_copy(&a[0], 0)));
    f.add_variadic("dig", &[], P::Any, |_, a| {
        if a.len() < 3 {
            return Err(FuncError::new("dig needs at least three arguments"));
        }
        let Some(mut d) = m(&a[a.len() - 1]).cloned() else {
            return Err(FuncError::new(format!(
                "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                a[a.len() - 1].type_name()
            )));
        };
        let def = a[a.len() - 2].clone();
        let keys = &a[..a.len() - 2];
        for (i, k) in keys.iter().enumerate() {
            let Some(k) = k.as_str() else {
                return Err(FuncError::new(format!(
                    "interface conversion: interface {{}} is {}, not string",
                    k.type_name()
                )));
            };
            let Some(step) = d.get(k) else {
                return Ok(def);
            };
            if i == keys.len() - 1 {
                return Ok(step);
            }
            match step {
                Value::Map(n) => d = n,
                other => {
                    return Err(FuncError::new(format!(
                        "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                        other.type_name()
                    )));
                }
            }
        }
        Ok(def)
    });
}
