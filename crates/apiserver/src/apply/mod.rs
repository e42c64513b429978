//! Server-side apply with structured-merge-diff semantics: merges an applied configuration into
//! the live object per list/map types, tracks each manager's fields in `managedFields`
//! (FieldsV1), detects conflicts with other managers, transfers ownership on `force` and removes
//! fields an applier stopped applying.

pub mod merge;
pub mod path;
pub mod request;
pub mod types;

#[cfg(test)]
pub(crate) mod tests;

use crate::error::ApiError;
use path::{FieldSet, Path, path_string};
pub use request::ApplyRequest;
use serde_json::{Map, Value, json};
pub use types::{ListKind, Ty};

/// Everything about an apply request besides the objects.
#[derive(Debug, Clone, Copy)]
pub struct ApplyParams<'a> {
    /// The field manager (`?fieldManager=`), required for apply.
    pub manager: &'a str,
    /// The apiVersion of the request URL (recorded in the manager's entry).
    pub api_version: &'a str,
    /// `status` when applying to the status subresource.
    pub subresource: Option<&'a str>,
    /// `?force=true`: take ownership of conflicting fields instead of failing.
    pub force: bool,
    /// Whether the resource has a status subresource (then the main resource does not manage
    /// `status`).
    pub has_status: bool,
    /// The time to stamp on changed entries (RFC 3339, seconds).
    pub now: &'a str,
}

/// One field another manager owns with a different value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The manager as conflict messages print it (`"ci"`, `"kubectl-edit" using v1`).
    pub manager: String,
    /// The field path (`.spec.replicas`).
    pub field: String,
    /// The same path, structured.
    pub path: Path,
}

/// Why an apply was refused. Messages of client-visible errors are the real server's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// The body is not an object.
    #[error("server-side apply: the apply configuration is not a JSON object")]
    NotAnObject,
    /// The body carries `metadata.managedFields`.
    #[error("metadata.managedFields must be nil")]
    ManagedFieldsSet,
    /// Fields owned by other managers would change.
    #[error("{}", conflict_message(.0))]
    Conflicts(Vec<Conflict>),
}

impl From<ApplyError> for ApiError {
    fn from(e: ApplyError) -> ApiError {
        match &e {
            ApplyError::NotAnObject | ApplyError::ManagedFieldsSet => {
                ApiError::bad_request(e.to_string())
            }
            ApplyError::Conflicts(cs) => {
                let causes: Vec<Value> = cs
                    .iter()
                    .map(|c| {
                        json!({
                            "reason": "FieldManagerConflict",
                            "message": format!("conflict with {}", c.manager),
                            "field": c.field,
                        })
                    })
                    .collect();
                ApiError {
                    code: 409,
                    reason: "Conflict",
                    message: e.to_string(),
                    details: Some(Box::new(json!({ "causes": causes }))),
                }
            }
        }
    }
}

/// The real server's conflict message: one conflict inline, several grouped by manager.
fn conflict_message(cs: &[Conflict]) -> String {
    if let [c] = cs {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            c.manager, c.field
        );
    }
    let mut lines = Vec::new();
    let mut last: Option<&str> = None;
    for c in cs {
        if last != Some(c.manager.as_str()) {
            lines.push(format!("conflicts with {}:", c.manager));
            last = Some(&c.manager);
        }
        lines.push(format!("- {}", c.field));
    }
    format!(
        "Apply failed with {} conflicts: {}",
        cs.len(),
        lines.join("\n")
    )
}

/// The root type of objects of a served resource: the CRD's schema for custom resources, the
/// built-in tables otherwise.
pub fn root_type(ri: &crate::registry::ResourceInfo) -> Ty<'_> {
    match &ri.crd {
        Some(crd) => Ty::CrdRoot(&crd.schema),
        None => Ty::builtin(&ri.group, &ri.version, &ri.kind),
    }
}

/// Metadata fields nobody manages.
const UNTRACKED_META: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "selfLink",
    "managedFields",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// The part of an object that field ownership covers for a request on `sub`.
pub fn tracked(obj: &Value, sub: Option<&str>, has_status: bool) -> Value {
    let Some(m) = obj.as_object() else {
        return json!({});
    };
    if sub == Some("status") {
        return match m.get("status") {
            Some(s) => json!({ "status": s }),
            None => json!({}),
        };
    }
    let mut out = Map::new();
    for (k, v) in m {
        match k.as_str() {
            "apiVersion" | "kind" => {}
            "status" if has_status => {}
            "metadata" => {
                let mut meta = v.as_object().cloned().unwrap_or_default();
                for f in UNTRACKED_META {
                    meta.shift_remove(*f);
                }
                if !meta.is_empty() {
                    out.insert(k.clone(), Value::Object(meta));
                }
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

/// One managedFields entry, parsed.
pub(crate) struct Entry {
    /// The entry as stored.
    pub(crate) raw: Map<String, Value>,
    /// Its decoded field set.
    pub(crate) set: FieldSet,
    /// Whether `set` changed (then `fieldsV1` is re-encoded).
    pub(crate) dirty: bool,
}

impl Entry {
    /// A string member of the entry (`""` when absent).
    pub(crate) fn s(&self, k: &str) -> &str {
        self.raw.get(k).and_then(Value::as_str).unwrap_or("")
    }

    /// How conflict messages name this manager.
    fn label(&self) -> String {
        let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let mut out = q(self.s("manager"));
        if !self.s("subresource").is_empty() {
            out = format!("{out} with subresource {}", q(self.s("subresource")));
        }
        if self.s("operation") == "Update" {
            out = format!("{out} using {}", self.s("apiVersion"));
        }
        out
    }

    /// The order managedFields entries are stored in.
    pub(crate) fn sort_key(&self) -> (String, String, String, String, String) {
        (
            self.s("operation").to_string(),
            self.s("time").to_string(),
            self.s("manager").to_string(),
            self.s("apiVersion").to_string(),
            self.s("subresource").to_string(),
        )
    }

    /// The entry as stored, with `fieldsV1` re-encoded when the set changed.
    pub(crate) fn render(mut self) -> Value {
        if self.dirty {
            self.raw
                .insert("fieldsType".into(), Value::String("FieldsV1".into()));
            self.raw.insert("fieldsV1".into(), self.set.to_fields_v1());
        }
        let mut out = Map::new();
        for k in [
            "manager",
            "operation",
            "apiVersion",
            "time",
            "fieldsType",
            "fieldsV1",
            "subresource",
        ] {
            if let Some(v) = self.raw.shift_remove(k) {
                out.insert(k.into(), v);
            }
        }
        out.extend(self.raw);
        Value::Object(out)
    }
}

/// The parsed `metadata.managedFields` of an object.
pub(crate) fn parse_entries(obj: &Value) -> Vec<Entry> {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_object)
                .map(|raw| Entry {
                    // An undecodable set owns nothing (upstream resets broken managedFields).
                    set: raw
                        .get("fieldsV1")
                        .and_then(|f| FieldSet::from_fields_v1(f).ok())
                        .unwrap_or_default(),
                    raw: raw.clone(),
                    dirty: false,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The object an apply creates from: identity fields of the configuration.
fn skeleton(config: &Value) -> Value {
    let mut meta = Map::new();
    for f in ["name", "generateName", "namespace"] {
        if let Some(v) = config.pointer(&format!("/metadata/{f}")) {
            meta.insert(f.into(), v.clone());
        }
    }
    let mut o = Map::new();
    for f in ["apiVersion", "kind"] {
        if let Some(v) = config.get(f) {
            o.insert(f.into(), v.clone());
        }
    }
    o.insert("metadata".into(), Value::Object(meta));
    Value::Object(o)
}

/// Applies `config` for `params.manager` to `live` (`None`: the object does not exist yet) and
/// returns the new object with its `managedFields`. Preconditions in the configuration
/// (`metadata.resourceVersion`, `metadata.uid`) are carried into the result for the caller's
/// update path to check. Returns the live object unchanged (byte for byte) when the apply
/// changes nothing.
pub fn apply(
    live: Option<&Value>,
    config: &Value,
    ty: Ty<'_>,
    params: &ApplyParams<'_>,
) -> Result<Value, ApplyError> {
    if !config.is_object() {
        return Err(ApplyError::NotAnObject);
    }
    if config
        .pointer("/metadata/managedFields")
        .is_some_and(|v| !v.is_null())
    {
        return Err(ApplyError::ManagedFieldsSet);
    }
    let sub = params.subresource;
    let cfg_view = tracked(config, sub, params.has_status);
    let base = live.cloned().unwrap_or_else(|| skeleton(config));
    let mut merged = merge::merge(&base, &cfg_view, ty);

    let mut entries = parse_entries(&base);
    let me = entries.iter().position(|e| {
        e.s("manager") == params.manager
            && e.s("operation") == "Apply"
            && e.s("subresource") == sub.unwrap_or("")
    });
    let prev = me.map(|i| entries[i].set.clone()).unwrap_or_default();
    let mut applied = FieldSet::new();
    merge::to_field_set(&cfg_view, ty, &mut Vec::new(), &mut applied);

    // Fields this manager applied before and no longer does go away, unless someone else
    // (or this configuration, deeper down) still owns them or something below them.
    let mut others = FieldSet::new();
    for (i, e) in entries.iter().enumerate() {
        if Some(i) != me {
            others.extend(&e.set);
        }
    }
    let mut keep = others.clone();
    keep.extend(&applied);
    let dropped: Vec<Path> = prev
        .difference(&applied)
        .iter()
        .filter(|p| !others.contains(p) && !others.has_descendant(p) && !applied.has_descendant(p))
        .cloned()
        .collect();
    // Shallowest first: an item goes as a whole before its key fields could be removed from it
    // (which would make it unfindable).
    let mut dropped = dropped;
    dropped.sort_by_key(Vec::len);
    for p in &dropped {
        merge::remove_path(&mut merged, p, ty, &keep, &mut Vec::new());
    }

    let mut changed = FieldSet::new();
    merge::diff(
        Some(&tracked(&base, sub, params.has_status)),
        Some(&tracked(&merged, sub, params.has_status)),
        ty,
        &mut Vec::new(),
        &mut changed,
    );
    let mut conflicts: Vec<(usize, FieldSet)> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if Some(i) == me {
            continue;
        }
        let c = e.set.intersection(&changed);
        if !c.is_empty() {
            conflicts.push((i, c));
        }
    }
    if !conflicts.is_empty() && !params.force {
        let mut list: Vec<(String, String, Path)> = Vec::new();
        for (i, c) in &conflicts {
            let e = &entries[*i];
            for p in c.iter() {
                list.push((e.s("manager").to_string(), e.label(), p.clone()));
            }
        }
        list.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| a.1.cmp(&b.1))
                .then_with(|| a.2.cmp(&b.2))
        });
        return Err(ApplyError::Conflicts(
            list.into_iter()
                .map(|(_, manager, p)| Conflict {
                    manager,
                    field: path_string(&p),
                    path: p,
                })
                .collect(),
        ));
    }
    let forced = !conflicts.is_empty();
    for (i, c) in conflicts {
        let e = &mut entries[i];
        e.set = e.set.difference(&c);
        e.dirty = true;
    }

    match me {
        Some(i) => {
            let e = &mut entries[i];
            if e.set != applied
                || e.s("apiVersion") != params.api_version
                || !changed.is_empty()
                || forced
            {
                e.set = applied;
                e.raw.insert("apiVersion".into(), json!(params.api_version));
                e.raw.insert("time".into(), json!(params.now));
                e.dirty = true;
            }
        }
        None => {
            let mut raw = Map::new();
            raw.insert("manager".into(), json!(params.manager));
            raw.insert("operation".into(), json!("Apply"));
            raw.insert("apiVersion".into(), json!(params.api_version));
            raw.insert("time".into(), json!(params.now));
            if let Some(s) = sub {
                raw.insert("subresource".into(), json!(s));
            }
            entries.push(Entry {
                raw,
                set: applied,
                dirty: true,
            });
        }
    }
    entries.retain(|e| !e.set.is_empty());
    crate::fields::cap_update_managers(&mut entries);
    entries.sort_by_key(Entry::sort_key);
    let list: Vec<Value> = entries.into_iter().map(Entry::render).collect();
    let meta = crate::util::meta_mut(&mut merged);
    if list.is_empty() {
        meta.shift_remove("managedFields");
    } else {
        meta.insert("managedFields".into(), Value::Array(list));
    }
    for f in ["resourceVersion", "uid"] {
        if let Some(v) = config.pointer(&format!("/metadata/{f}"))
            && !v.is_null()
        {
            crate::util::meta_mut(&mut merged).insert(f.into(), v.clone());
        }
    }
    Ok(merged)
}
