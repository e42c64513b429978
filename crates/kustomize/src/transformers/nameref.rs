//! Name-reference fix-up: after renames (prefix, suffix, hash, namespace), update every field
//! that refers to a renamed object by name.

use std::collections::HashSet;

use serde_json::Value;

use crate::config::NameBackRef;
use crate::error::Error;
use crate::fieldspec::{self, CreateKind};
use crate::resid::{Gvk, ResId};
use crate::resource::Resource;
use crate::types::FieldSpec;

/// A snapshot of a candidate referral.
struct Cand {
    idx: usize,
    name: String,
    namespace: String,
    cur: ResId,
    org_ns: String,
    prev: Vec<ResId>,
    kind: String,
}

fn roleref_gvk(obj: &Value) -> Option<Gvk> {
    let rr = obj.get("roleRef")?;
    let g = rr.get("apiGroup")?.as_str()?;
    let k = rr.get("kind")?.as_str()?;
    Some(Gvk::new(g, "", k))
}

/// Which of `pool` (indexes into `snap`) a referrer can see (kustomize's namespace rules).
fn visible(snap: &[Cand], pool: &[usize], referrer: &Resource, rid: &ResId) -> HashSet<usize> {
    if rid.cluster_scoped {
        return pool.iter().copied().collect();
    }
    let mut rb_ns = HashSet::new();
    if referrer.kind() == "RoleBinding"
        && let Some(Value::Array(subjects)) = referrer.obj.get("subjects")
    {
        for s in subjects {
            if s.get("kind").and_then(Value::as_str) == Some("ServiceAccount")
                && let Some(ns) = s.get("namespace").and_then(Value::as_str)
            {
                rb_ns.insert(ns.to_string());
            }
        }
    }
    pool.iter()
        .copied()
        .filter(|&j| {
            let c = &snap[j];
            c.cur.cluster_scoped || c.cur.ns_equals(rid) || rb_ns.contains(&c.namespace)
        })
        .collect()
}

struct Ctx<'a> {
    list: &'a [Resource],
    cands: &'a [Cand],
    referrer: &'a Resource,
    referrer_id: &'a ResId,
    roleref: Option<Gvk>,
    target: Gvk,
    path: &'a str,
}

impl Ctx<'_> {
    fn select(&self, old: &str, pool: &[&Cand], ns_too: bool) -> Result<Option<usize>, String> {
        // The referrer's object is taken out while it is edited: use the values saved before.
        let rr = if self.path.ends_with("roleRef/name") {
            self.roleref.clone()
        } else {
            None
        };
        let rid = self.referrer_id;
        let mut c: Vec<&Cand> = pool
            .iter()
            .copied()
            .filter(|c| c.prev.iter().any(|p| p.name == old))
            .filter(|c| c.prev.iter().any(|p| p.gvk.is_selected(&self.target)))
            .filter(|c| {
                rr.as_ref()
                    .is_none_or(|g| c.prev.iter().any(|p| p.gvk.is_selected(g)))
            })
            .filter(|c| {
                rid.cluster_scoped
                    || c.cur.cluster_scoped
                    || c.kind == "ServiceAccount"
                    || rid.ns_equals(&c.cur)
            })
            .collect();
        if c.len() == 1 {
            return Ok(Some(c[0].idx));
        }
        let referrer = self.referrer;
        c.retain(|x| self.list[x.idx].prefixes_suffixes_equal(referrer, true));
        if c.len() > 1 {
            c.retain(|x| self.list[x.idx].prefixes_suffixes_equal(referrer, false));
        }
        match c.len() {
            0 => Ok(None),
            1 => Ok(Some(c[0].idx)),
            _ => {
                let same = c
                    .iter()
                    .all(|x| x.name == c[0].name && (!ns_too || x.namespace == c[0].namespace));
                if same {
                    Ok(Some(c[0].idx))
                } else {
                    let ids: Vec<String> = c.iter().map(|x| x.cur.to_string()).collect();
                    Err(format!(
                        "found multiple possible referrals: {}",
                        ids.join(", ")
                    ))
                }
            }
        }
    }

    fn set_scalar(&self, node: &mut Value) -> Result<(), String> {
        let Value::String(old) = &*node else {
            return Ok(());
        };
        let pool: Vec<&Cand> = self.cands.iter().collect();
        if let Some(i) = self.select(old, &pool, false)? {
            let new = self.list[i].name().to_string();
            if &new != old {
                *node = Value::String(new);
            }
        }
        Ok(())
    }

    fn set_mapping(&self, node: &mut Value) -> Result<(), String> {
        let m = node.as_object_mut().ok_or("expect a mapping node")?;
        let Some(old) = m
            .get("name")
            .map(|v| crate::resource::scalar_string(v).unwrap_or_default())
        else {
            return Err("path config error; no 'name' field in node".into());
        };
        let pool: Vec<&Cand> = match m.get("namespace") {
            None => self.cands.iter().collect(),
            Some(nsv) => {
                let ns = crate::resource::scalar_string(nsv).unwrap_or_default();
                let by_org: Vec<&Cand> = self.cands.iter().filter(|c| c.org_ns == ns).collect();
                if !by_org.is_empty() {
                    by_org
                } else {
                    self.cands
                        .iter()
                        .filter(|c| c.cur.effective_namespace() == ns)
                        .collect()
                }
            }
        };
        let Some(i) = self.select(&old, &pool, true)? else {
            return Ok(());
        };
        let r = &self.list[i];
        if r.name() == old && r.namespace().is_empty() {
            return Ok(());
        }
        m.insert("name".into(), Value::String(r.name().into()));
        if !r.namespace().is_empty() {
            m.insert("namespace".into(), Value::String(r.namespace().into()));
        }
        Ok(())
    }

    fn set(&self, node: &mut Value) -> Result<(), String> {
        match node {
            Value::Null => Ok(()),
            Value::Object(_) => self.set_mapping(node),
            Value::Array(items) => {
                for it in items.iter_mut() {
                    match it {
                        Value::Null => {}
                        Value::Object(_) => self.set_mapping(it)?,
                        Value::Array(_) => {
                            return Err("expected either a string or a map of string".into());
                        }
                        _ => self.set_scalar(it)?,
                    }
                }
                Ok(())
            }
            _ => self.set_scalar(node),
        }
    }
}

/// Fixes name references in all resources.
pub fn apply(list: &mut [Resource], backrefs: &[NameBackRef]) -> Result<(), Error> {
    // Referral names never change here (name fields are not reference fields), so one
    // snapshot of every candidate serves all referrers.
    let snapshot: Vec<Cand> = list
        .iter()
        .enumerate()
        .map(|(j, r)| Cand {
            idx: j,
            name: r.name().into(),
            namespace: r.namespace().into(),
            cur: r.cur_id(),
            org_ns: r.org_id().effective_namespace().to_string(),
            prev: r.prev_ids(),
            kind: r.kind().into(),
        })
        .collect();
    // Only renamed objects can be referral targets that need a fix.
    let renamed: Vec<usize> = (0..list.len())
        .filter(|&j| !snapshot[j].prev.is_empty())
        .collect();
    if renamed.is_empty() {
        return Ok(());
    }
    // Work per referrer: (field spec, referral target gvk), in kustomize's order.
    let mut work: Vec<Vec<(FieldSpec, Gvk)>> = vec![Vec::new(); list.len()];
    let orgs: Vec<ResId> = list.iter().map(|r| r.org_id()).collect();
    for br in backrefs {
        let target = br.gvk();
        if !renamed
            .iter()
            .any(|&j| snapshot[j].prev.iter().any(|p| p.gvk.is_selected(&target)))
        {
            continue;
        }
        for fs in &br.field_specs {
            let sel = Gvk::new(&fs.group, &fs.version, &fs.kind);
            for (i, org) in orgs.iter().enumerate() {
                if org.gvk.is_selected(&sel) {
                    work[i].push((fs.clone(), target.clone()));
                }
            }
        }
    }
    for (i, items) in work.into_iter().enumerate() {
        if items.is_empty() {
            continue;
        }
        let vis = visible(&snapshot, &renamed, &list[i], &snapshot[i].cur);
        let mut obj = std::mem::take(&mut list[i].obj);
        let view: &[Resource] = list;
        let referrer_id = snapshot[i].cur.clone();
        let cands: Vec<Cand> = renamed
            .iter()
            .filter(|j| vis.contains(j))
            .map(|&j| {
                let c = &snapshot[j];
                Cand {
                    idx: c.idx,
                    name: c.name.clone(),
                    namespace: c.namespace.clone(),
                    cur: c.cur.clone(),
                    org_ns: c.org_ns.clone(),
                    prev: c.prev.clone(),
                    kind: c.kind.clone(),
                }
            })
            .collect();
        let roleref = roleref_gvk(&obj);
        let mut result = Ok(());
        for (fs, target) in items {
            let ctx = Ctx {
                list: view,
                cands: &cands,
                referrer: &view[i],
                referrer_id: &referrer_id,
                roleref: roleref.clone(),
                target,
                path: &fs.path,
            };
            // The referrer's own GVK always matches: kustomize overwrites the spec's GVK.
            let spec = FieldSpec {
                group: String::new(),
                version: String::new(),
                kind: String::new(),
                ..fs.clone()
            };
            if let Err(e) =
                fieldspec::apply_untyped(&spec, &mut obj, CreateKind::None, &mut |n| ctx.set(n))
            {
                result = Err(Error::transform(
                    format!(
                        "updating name reference in '{}' field of '{}'",
                        fs.path, referrer_id
                    ),
                    e,
                ));
                break;
            }
        }
        list[i].obj = obj;
        result?;
    }
    Ok(())
}
