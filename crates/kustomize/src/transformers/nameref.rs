//! Name-reference fix-up: after renames (prefix, suffix, hash, namespace), update every field
//! that refers to a renamed object by name.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::config::NameBackRef;
use crate::error::Error;
use crate::fieldspec::{self, CreateKind};
use crate::resid::{Gvk, ResId};
use crate::resource::{Resource, scalar_string};
use crate::types::FieldSpec;

/// What the fix-up needs to know of every object; names do not change during the fix-up
/// (name fields are never reference fields), so one snapshot serves all referrers.
struct Cand {
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

/// Everything shared by all referrers.
struct Index<'a> {
    list: &'a [Resource],
    snap: Vec<Cand>,
    /// Renamed objects by each of their previous names.
    by_prev_name: HashMap<String, Vec<usize>>,
    /// All objects by original effective namespace.
    by_org_ns: HashMap<String, Vec<usize>>,
}

/// One referrer's view.
struct Ctx<'a> {
    ix: &'a Index<'a>,
    referrer: &'a Resource,
    rid: &'a ResId,
    rb_ns: HashSet<String>,
    roleref: Option<Gvk>,
    target: Gvk,
    path: &'a str,
}

impl Ctx<'_> {
    /// kustomize's namespace rules for what a referrer may refer to.
    fn visible(&self, j: usize) -> bool {
        let c = &self.ix.snap[j];
        self.rid.cluster_scoped
            || c.cur.cluster_scoped
            || c.cur.ns_equals(self.rid)
            || self.rb_ns.contains(&c.namespace)
    }

    fn select(
        &self,
        old: &str,
        keep: &dyn Fn(&Cand) -> bool,
        ns_too: bool,
    ) -> Result<Option<usize>, String> {
        let rr = if self.path.ends_with("roleRef/name") {
            self.roleref.clone()
        } else {
            None
        };
        let Some(named) = self.ix.by_prev_name.get(old) else {
            return Ok(None);
        };
        let snap = &self.ix.snap;
        let mut c: Vec<usize> = named
            .iter()
            .copied()
            .filter(|&j| self.visible(j) && keep(&snap[j]))
            .filter(|&j| snap[j].prev.iter().any(|p| p.gvk.is_selected(&self.target)))
            .filter(|&j| {
                rr.as_ref()
                    .is_none_or(|g| snap[j].prev.iter().any(|p| p.gvk.is_selected(g)))
            })
            .filter(|&j| {
                let x = &snap[j];
                self.rid.cluster_scoped
                    || x.cur.cluster_scoped
                    || x.kind == "ServiceAccount"
                    || self.rid.ns_equals(&x.cur)
            })
            .collect();
        if c.len() == 1 {
            return Ok(Some(c[0]));
        }
        let list = self.ix.list;
        c.retain(|&j| list[j].prefixes_suffixes_equal(self.referrer, true));
        if c.len() > 1 {
            c.retain(|&j| list[j].prefixes_suffixes_equal(self.referrer, false));
        }
        match c.len() {
            0 => Ok(None),
            1 => Ok(Some(c[0])),
            _ => {
                let f = &snap[c[0]];
                if c.iter().all(|&j| {
                    snap[j].name == f.name && (!ns_too || snap[j].namespace == f.namespace)
                }) {
                    Ok(Some(c[0]))
                } else {
                    let ids: Vec<String> = c.iter().map(|&j| snap[j].cur.to_string()).collect();
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
        if let Some(j) = self.select(old, &|_| true, false)? {
            let new = &self.ix.snap[j].name;
            if new != old {
                *node = Value::String(new.clone());
            }
        }
        Ok(())
    }

    fn set_mapping(&self, node: &mut Value) -> Result<(), String> {
        let m = node.as_object_mut().ok_or("expect a mapping node")?;
        let Some(old) = m.get("name").map(|v| scalar_string(v).unwrap_or_default()) else {
            return Err("path config error; no 'name' field in node".into());
        };
        let found = match m.get("namespace") {
            None => self.select(&old, &|_| true, true)?,
            Some(nsv) => {
                let ns = scalar_string(nsv).unwrap_or_default();
                // Candidates originally in that namespace if any is visible, else those
                // currently in it.
                let by_org = self
                    .ix
                    .by_org_ns
                    .get(&ns)
                    .is_some_and(|v| v.iter().any(|&j| self.visible(j)));
                if by_org {
                    self.select(&old, &|c: &Cand| c.org_ns == ns, true)?
                } else {
                    self.select(&old, &|c: &Cand| c.cur.effective_namespace() == ns, true)?
                }
            }
        };
        let Some(j) = found else { return Ok(()) };
        let r = &self.ix.snap[j];
        if r.name == old && r.namespace.is_empty() {
            return Ok(());
        }
        m.insert("name".into(), Value::String(r.name.clone()));
        if !r.namespace.is_empty() {
            m.insert("namespace".into(), Value::String(r.namespace.clone()));
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

fn role_binding_namespaces(r: &Resource) -> HashSet<String> {
    let mut out = HashSet::new();
    if r.kind() == "RoleBinding"
        && let Some(Value::Array(subjects)) = r.obj.get("subjects")
    {
        for s in subjects {
            if s.get("kind").and_then(Value::as_str) == Some("ServiceAccount")
                && let Some(ns) = s.get("namespace").and_then(Value::as_str)
            {
                out.insert(ns.to_string());
            }
        }
    }
    out
}

/// Fixes name references in all resources.
pub fn apply(list: &mut [Resource], backrefs: &[NameBackRef]) -> Result<(), Error> {
    let snap: Vec<Cand> = list
        .iter()
        .map(|r| Cand {
            name: r.name().into(),
            namespace: r.namespace().into(),
            cur: r.cur_id(),
            org_ns: r.org_id().effective_namespace().to_string(),
            prev: r.prev_ids(),
            kind: r.kind().into(),
        })
        .collect();
    let mut by_prev_name: HashMap<String, Vec<usize>> = HashMap::new();
    let mut by_org_ns: HashMap<String, Vec<usize>> = HashMap::new();
    for (j, c) in snap.iter().enumerate() {
        let mut names: Vec<&str> = c.prev.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        for n in names {
            by_prev_name.entry(n.to_string()).or_default().push(j);
        }
        by_org_ns.entry(c.org_ns.clone()).or_default().push(j);
    }
    if by_prev_name.is_empty() {
        return Ok(());
    }
    // Work per referrer: (field spec, referral target), in kustomize's order; only targets
    // some renamed object can match.
    let mut work: Vec<Vec<(FieldSpec, Gvk)>> = vec![Vec::new(); list.len()];
    let orgs: Vec<ResId> = list.iter().map(|r| r.org_id()).collect();
    for br in backrefs {
        let target = br.gvk();
        if !snap
            .iter()
            .any(|c| c.prev.iter().any(|p| p.gvk.is_selected(&target)))
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
    let mut edits: Vec<(usize, Value)> = Vec::new();
    {
        let ix = Index {
            list,
            snap,
            by_prev_name,
            by_org_ns,
        };
        for (i, items) in work.into_iter().enumerate() {
            if items.is_empty() {
                continue;
            }
            let referrer = &list[i];
            let mut obj = referrer.obj.clone();
            let rid = &ix.snap[i].cur;
            let rb_ns = role_binding_namespaces(referrer);
            let roleref = roleref_gvk(&referrer.obj);
            let mut changed = false;
            for (fs, target) in items {
                let ctx = Ctx {
                    ix: &ix,
                    referrer,
                    rid,
                    rb_ns: rb_ns.clone(),
                    roleref: roleref.clone(),
                    target,
                    path: &fs.path,
                };
                // The referrer's own GVK always matches: kustomize overwrites the spec's GVK.
                fieldspec::apply_untyped(&fs, &mut obj, CreateKind::None, &mut |n| {
                    changed = true;
                    ctx.set(n)
                })
                .map_err(|e| {
                    Error::transform(
                        format!("updating name reference in '{}' field of '{rid}'", fs.path),
                        e,
                    )
                })?;
            }
            if changed {
                edits.push((i, obj));
            }
        }
    }
    for (i, obj) in edits {
        list[i].obj = obj;
    }
    Ok(())
}
