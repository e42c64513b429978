//! `replacements`: copy a field of one object into fields of others.

use serde_json::{Map, Value};

use crate::error::Error;
use crate::resid::{Gvk, ResId};
use crate::resource::{Resource, scalar_string};
use crate::selector::LabelSelector;
use crate::types::{FieldOptions, Replacement, Selector, TargetSelector};

/// Splits a dotted path, keeping `[...]` groups (which may contain dots) intact.
pub fn split_dotted(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '[' => {
                depth += 1;
                cur.push(c)
            }
            ']' => {
                depth -= 1;
                cur.push(c)
            }
            '.' if depth == 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Whether `id` is selected by an exact (non-regex) selector id.
fn selected_by(id: &ResId, g: &str, v: &str, k: &str, name: &str, ns: &str) -> bool {
    let sel_ns = ResId::new(Gvk::new(g, v, k), name, ns);
    (name.is_empty() || name == id.name)
        && (ns.is_empty() || sel_ns.ns_equals(id))
        && id.gvk.is_selected(&Gvk::new(g, v, k))
}

fn sel_matches(s: &Selector, id: &ResId) -> bool {
    selected_by(id, &s.group, &s.version, &s.kind, &s.name, &s.namespace)
}

fn labels_match(r: &Resource, s: &Selector) -> Result<bool, String> {
    let l = if s.label_selector.is_empty() {
        true
    } else {
        LabelSelector::parse(&s.label_selector)?.matches(&r.labels())
    };
    let a = if s.annotation_selector.is_empty() {
        true
    } else {
        LabelSelector::parse(&s.annotation_selector)?.matches(&r.annotations())
    };
    Ok(l && a)
}

fn lookup<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = v;
    for seg in path {
        cur = step(cur, seg)?;
    }
    Some(cur)
}

fn step<'a>(v: &'a Value, seg: &str) -> Option<&'a Value> {
    if let Some(inner) = seg.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        let (k, want) = inner.split_once('=')?;
        return v
            .as_array()?
            .iter()
            .find(|e| e.get(k).and_then(scalar_string).as_deref() == Some(want));
    }
    match v {
        Value::Object(m) => m.get(seg),
        Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    }
}

/// Collects mutable targets of a path, creating missing parts if `create` holds a template.
fn targets<'a>(
    v: &'a mut Value,
    path: &[String],
    create: Option<&Value>,
    out: &mut Vec<&'a mut Value>,
) {
    let Some((seg, rest)) = path.split_first() else {
        out.push(v);
        return;
    };
    if seg == "*" {
        match v {
            Value::Object(m) => m.values_mut().for_each(|c| targets(c, rest, create, out)),
            Value::Array(a) => a.iter_mut().for_each(|c| targets(c, rest, create, out)),
            _ => {}
        }
        return;
    }
    if let Some(inner) = seg.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        let Some((k, want)) = inner.split_once('=') else {
            return;
        };
        if v.is_null() && create.is_some() {
            *v = Value::Array(Vec::new());
        }
        let Value::Array(a) = v else { return };
        let matches: Vec<usize> = a
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                want == "*" && e.get(k).is_some()
                    || e.get(k).and_then(scalar_string).as_deref() == Some(want)
            })
            .map(|(i, _)| i)
            .collect();
        if matches.is_empty() {
            if create.is_some() && want != "*" {
                let mut m = Map::new();
                m.insert(k.to_string(), Value::String(want.to_string()));
                a.push(Value::Object(m));
                let last = a.last_mut().expect("pushed");
                targets(last, rest, create, out);
            }
            return;
        }
        for (i, e) in a.iter_mut().enumerate() {
            if matches.contains(&i) {
                targets(e, rest, create, out);
            }
        }
        return;
    }
    if v.is_null() && create.is_some() {
        *v = Value::Object(Map::new());
    }
    match v {
        Value::Object(m) => {
            if !m.contains_key(seg.as_str()) {
                let Some(tpl) = create else { return };
                let init = if rest.is_empty() {
                    tpl.clone()
                } else {
                    Value::Object(Map::new())
                };
                m.insert(seg.clone(), init);
            }
            targets(m.get_mut(seg.as_str()).expect("present"), rest, create, out);
        }
        Value::Array(a) => {
            if let Some(e) = seg.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                targets(e, rest, create, out);
            }
        }
        _ => {}
    }
}

fn refine_source(opts: &Option<FieldOptions>, v: &Value) -> Result<Value, String> {
    let Some(o) = opts else { return Ok(v.clone()) };
    if o.delimiter.is_empty() {
        return Ok(v.clone());
    }
    let s = scalar_string(v).ok_or("delimiter option can only be used with scalar nodes")?;
    let parts: Vec<&str> = s.split(o.delimiter.as_str()).collect();
    if o.index < 0 || o.index as usize >= parts.len() {
        return Err(format!(
            "options.index {} is out of bounds for value {s}",
            o.index
        ));
    }
    Ok(Value::String(parts[o.index as usize].to_string()))
}

fn retype(target: &Value, text: String, src: &Value) -> Value {
    match target {
        Value::String(_) => Value::String(text),
        Value::Number(_) => text
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| text.parse::<f64>().map(Value::from))
            .unwrap_or(Value::String(text)),
        Value::Bool(_) => match text.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(text),
        },
        _ => src.clone(),
    }
}

fn set_value(opts: &Option<FieldOptions>, t: &mut Value, value: &Value) -> Result<(), String> {
    let mut value = value.clone();
    if let Some(o) = opts
        && !o.delimiter.is_empty()
    {
        let ts = scalar_string(t).ok_or("delimiter option can only be used with scalar nodes")?;
        let mut parts: Vec<String> = ts.split(o.delimiter.as_str()).map(String::from).collect();
        let v = scalar_string(&value).unwrap_or_default();
        if o.index < 0 {
            parts.insert(0, v);
        } else if o.index as usize >= parts.len() {
            parts.push(v);
        } else {
            parts[o.index as usize] = v;
        }
        value = Value::String(parts.join(&o.delimiter));
    }
    let target_scalar = matches!(t, Value::String(_) | Value::Number(_) | Value::Bool(_));
    if target_scalar {
        let text = scalar_string(&value).unwrap_or_default();
        *t = retype(t, text, &value);
    } else {
        *t = value;
    }
    Ok(())
}

fn apply_target(list: &mut [Resource], value: &Value, ts: &TargetSelector) -> Result<(), String> {
    let select = ts
        .select
        .as_ref()
        .ok_or("target must specify resources to select")?;
    let paths: Vec<String> = if ts.field_paths.is_empty() {
        vec!["metadata.name".into()]
    } else {
        ts.field_paths.clone()
    };
    for r in list.iter_mut() {
        let ids = r.all_ids();
        if !labels_match(r, select)? {
            continue;
        }
        let mut rejected = false;
        for rej in &ts.reject {
            if (!rej.annotation_selector.is_empty() || !rej.label_selector.is_empty())
                && labels_match(r, rej)?
            {
                rejected = true;
            }
            let empty_id = rej.group.is_empty()
                && rej.version.is_empty()
                && rej.kind.is_empty()
                && rej.name.is_empty()
                && rej.namespace.is_empty();
            if !empty_id && ids.iter().any(|id| sel_matches(rej, id)) {
                rejected = true;
            }
        }
        if rejected || !ids.iter().any(|id| sel_matches(select, id)) {
            continue;
        }
        let create = ts.options.as_ref().is_some_and(|o| o.create);
        for fp in &paths {
            let path = split_dotted(fp);
            let mut found = Vec::new();
            targets(
                &mut r.obj,
                &path,
                if create { Some(value) } else { None },
                &mut found,
            );
            if found.is_empty() {
                return Err(if create {
                    format!("unable to find or create field \"{fp}\" in replacement target")
                } else {
                    format!("unable to find field \"{fp}\" in replacement target")
                });
            }
            for t in found {
                set_value(&ts.options, t, value)?;
            }
        }
    }
    Ok(())
}

/// Applies replacements in order.
pub fn apply(list: &mut [Resource], reps: &[Replacement]) -> Result<(), Error> {
    for (n, r) in reps.iter().enumerate() {
        let ctx = |e: String| Error::transform(format!("replacement {n}"), e);
        let (Some(src), false) = (&r.source, r.targets.is_empty()) else {
            return Err(ctx(
                "replacements must specify a source and at least one target".into(),
            ));
        };
        let mut matches = list.iter().filter(|res| {
            res.all_ids().iter().any(|id| {
                selected_by(
                    id,
                    &src.group,
                    &src.version,
                    &src.kind,
                    &src.name,
                    &src.namespace,
                )
            })
        });
        let source = matches
            .next()
            .ok_or_else(|| ctx(format!("nothing selected by {}:{}", src.kind, src.name)))?;
        if matches.next().is_some() {
            return Err(ctx(format!(
                "multiple matches for selector {}:{}",
                src.kind, src.name
            )));
        }
        let fp = if src.field_path.is_empty() {
            "metadata.name"
        } else {
            &src.field_path
        };
        let v = lookup(&source.obj, &split_dotted(fp))
            .filter(|v| !v.is_null() && v.as_str() != Some(""))
            .ok_or_else(|| {
                ctx(format!(
                    "fieldPath `{fp}` is missing for replacement source {}:{}",
                    src.kind, src.name
                ))
            })?;
        let value = refine_source(&src.options, v).map_err(ctx)?;
        for t in &r.targets {
            apply_target(list, &value, t).map_err(ctx)?;
        }
    }
    Ok(())
}
