//! Legacy `vars`: `$(NAME)` in var-reference fields replaced by a field of a named object.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::Error;
use crate::fieldspec::{self, CreateKind};
use crate::resid::{Gvk, ResId};
use crate::resmap;
use crate::resource::Resource;
use crate::types::{FieldSpec, Var};

/// Records on the matching resource that it provides `v` (kustomize's MergeVars).
pub fn bind(list: &mut [Resource], vars: &[Var], bound: &mut Vec<Var>) -> Result<(), Error> {
    for v in vars {
        let o = &v.objref;
        let mut gvk = Gvk::new(&o.group, &o.version, &o.kind);
        if !o.api_version.is_empty() {
            gvk = Gvk::from_api_version(&o.api_version, &o.kind);
        }
        let target = ResId::new(gvk, &o.name, &o.namespace);
        let strict = !target.namespace.is_empty() || target.cluster_scoped;
        let hits = resmap::matching_any_id(list, |id| {
            if strict {
                target.equals(id)
            } else {
                target.gvkn_equals(id)
            }
        });
        if hits.len() > 1 {
            return Err(Error::transform(
                format!("merging vars: var {}", v.name),
                format!(
                    "found {} resId matches for var (unable to disambiguate)",
                    hits.len()
                ),
            ));
        }
        if bound.iter().any(|b| b.name == v.name) {
            return Err(Error::transform(
                "merging vars",
                format!("var '{}' already encountered", v.name),
            ));
        }
        if let Some(&i) = hits.first() {
            list[i].ref_vars.push(v.name.clone());
        }
        bound.push(v.clone());
    }
    Ok(())
}

/// Reads a dotted field path with `[i]` indexes.
pub fn field_value<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = obj;
    for seg in crate::transformers::replacements::split_dotted(path) {
        let (name, idx) = match seg.find('[') {
            Some(i) if seg.ends_with(']') => {
                (&seg[..i], seg[i + 1..seg.len() - 1].parse::<usize>().ok())
            }
            _ => (seg.as_str(), None),
        };
        if !name.is_empty() {
            cur = cur.get(name)?;
        }
        if let Some(i) = idx {
            cur = cur.get(i)?;
        }
    }
    Some(cur)
}

fn replace_in(s: &str, map: &BTreeMap<String, Value>) -> Value {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut checkpoint = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && i + 1 < b.len() {
            out.push_str(&s[checkpoint..i]);
            let rest = &s[i + 1..];
            let (text, advance, is_var) = match rest.as_bytes()[0] {
                b'$' => ("$".to_string(), 1, false),
                b'(' => match rest.find(')') {
                    Some(j) => (rest[1..j].to_string(), j + 1, true),
                    None => ("$(".to_string(), 1, false),
                },
                _ => {
                    let ch = rest.chars().next().unwrap_or_default();
                    (format!("${ch}"), ch.len_utf8(), false)
                }
            };
            if is_var {
                let mapped = map.get(&text).cloned();
                if s == format!("$({text})") {
                    return mapped.unwrap_or_else(|| Value::String(s.to_string()));
                }
                match mapped {
                    Some(Value::String(v)) => out.push_str(&v),
                    Some(v) => out.push_str(&v.to_string()),
                    None => out.push_str(&format!("$({text})")),
                }
            } else {
                out.push_str(&text);
            }
            i += advance + 1;
            checkpoint = i;
            continue;
        }
        i += 1;
    }
    out.push_str(&s[checkpoint..]);
    Value::String(out)
}

/// Resolves vars and substitutes them in var-reference fields.
pub fn resolve(list: &mut [Resource], bound: &[Var], specs: &[FieldSpec]) -> Result<(), Error> {
    let mut map = BTreeMap::new();
    for v in bound {
        let Some(i) = list.iter().position(|r| r.ref_vars.contains(&v.name)) else {
            return Err(Error::transform(
                "resolving vars",
                format!(
                    "var '{}' cannot be mapped to a field in the set of known resources",
                    v.name
                ),
            ));
        };
        let path = if v.fieldref.field_path.is_empty() {
            "metadata.name"
        } else {
            &v.fieldref.field_path
        };
        let val = field_value(&list[i].obj, path).cloned().ok_or_else(|| {
            Error::transform(
                "resolving vars",
                format!(
                    "field specified in var '{}' not found in corresponding resource",
                    v.name
                ),
            )
        })?;
        let val = match val {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => val,
            // kustomize only substitutes scalars; others stay as the literal reference.
            _ => Value::String(format!("$({})", v.name)),
        };
        map.insert(v.name.clone(), val);
    }
    if map.is_empty() {
        return Ok(());
    }
    for r in list.iter_mut() {
        let id = r.cur_id();
        for fs in specs {
            fieldspec::apply(fs, &mut r.obj, CreateKind::None, &mut |n| {
                match n {
                    Value::String(s) => *n = replace_in(s, &map),
                    Value::Object(m) => {
                        for (_, v) in m.iter_mut() {
                            if let Value::String(s) = v {
                                *v = replace_in(s, &map);
                            }
                        }
                    }
                    Value::Array(a) => {
                        for v in a.iter_mut() {
                            if let Value::String(s) = v {
                                *v = replace_in(s, &map);
                            }
                        }
                    }
                    _ => {}
                }
                Ok(())
            })
            .map_err(|e| Error::transform(format!("expand vars in {id}"), e))?;
        }
    }
    Ok(())
}
