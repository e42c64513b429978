//! One object being built, with the bookkeeping kustomize keeps in build annotations.

use serde_json::{Map, Value};

use crate::resid::{Gvk, ResId, parse_group_version};

/// What a generated object does when one with its id already exists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Behavior {
    /// Not generated, or `create`.
    #[default]
    Create,
    /// Replace the existing object's data.
    Replace,
    /// Merge data into the existing object.
    Merge,
    /// Unrecognised value (kustomize treats it as unspecified).
    Unspecified,
}

impl Behavior {
    /// Parses a generator `behavior` field.
    pub fn parse(s: &str) -> Behavior {
        match s {
            "" | "create" => Behavior::Create,
            "replace" => Behavior::Replace,
            "merge" => Behavior::Merge,
            _ => Behavior::Unspecified,
        }
    }
}

/// A previous identity: kind, name and effective namespace at the time it was stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrevId {
    /// Kind then.
    pub kind: String,
    /// Name then.
    pub name: String,
    /// Effective namespace then.
    pub namespace: String,
}

/// An object plus its build bookkeeping (kustomize's internal build annotations).
#[derive(Clone, Debug)]
pub struct Resource {
    /// The object.
    pub obj: Value,
    /// Earlier identities, oldest first.
    pub prev_ids: Vec<PrevId>,
    /// Name prefixes applied, innermost first.
    pub prefixes: Vec<String>,
    /// Name suffixes applied, innermost first.
    pub suffixes: Vec<String>,
    /// Generator merge behavior.
    pub behavior: Behavior,
    /// Whether a content hash suffix is due (generated ConfigMaps/Secrets).
    pub needs_hash: bool,
    /// Ids of the objects that refer to this one by name.
    pub ref_by: Vec<ResId>,
    /// Builtin transformers that ran over this object: (kustomization file, plugin kind).
    pub transformations: Vec<(String, String)>,
    /// Names of the vars this object provides.
    pub ref_vars: Vec<String>,
    /// Patches only: the patch may rename its target.
    pub allow_name_change: bool,
    /// Patches only: the patch may change its target's kind.
    pub allow_kind_change: bool,
}

/// Reads a scalar as kustomize's string value (numbers and bools by their text).
pub fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Resource {
    /// Wraps an object.
    pub fn new(obj: Value) -> Self {
        Resource {
            obj,
            prev_ids: Vec::new(),
            prefixes: Vec::new(),
            suffixes: Vec::new(),
            behavior: Behavior::Create,
            needs_hash: false,
            ref_by: Vec::new(),
            ref_vars: Vec::new(),
            transformations: Vec::new(),
            allow_name_change: false,
            allow_kind_change: false,
        }
    }

    fn str_field(&self, key: &str) -> &str {
        self.obj.get(key).and_then(Value::as_str).unwrap_or("")
    }

    fn meta_str(&self, key: &str) -> &str {
        self.obj
            .get("metadata")
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// `apiVersion`.
    pub fn api_version(&self) -> &str {
        self.str_field("apiVersion")
    }
    /// `kind`.
    pub fn kind(&self) -> &str {
        self.str_field("kind")
    }
    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.meta_str("name")
    }
    /// `metadata.namespace`.
    pub fn namespace(&self) -> &str {
        self.meta_str("namespace")
    }
    /// Current GVK.
    pub fn gvk(&self) -> Gvk {
        Gvk::from_api_version(self.api_version(), self.kind())
    }
    /// Current id.
    pub fn cur_id(&self) -> ResId {
        ResId::new(self.gvk(), self.name(), self.namespace())
    }

    /// Earlier ids, rebuilt with the current group/version as kustomize does (and, like it,
    /// without cluster scope).
    pub fn prev_ids(&self) -> Vec<ResId> {
        let av = self.api_version().to_string();
        let (g, v) = parse_group_version(&av);
        self.prev_ids
            .iter()
            .map(|p| ResId {
                gvk: Gvk::new(g, v, &p.kind),
                name: p.name.clone(),
                namespace: p.namespace.clone(),
                cluster_scoped: false,
            })
            .collect()
    }

    /// The first id this object had.
    pub fn org_id(&self) -> ResId {
        self.prev_ids()
            .into_iter()
            .next()
            .unwrap_or_else(|| self.cur_id())
    }

    /// All ids: previous ones then the current one.
    pub fn all_ids(&self) -> Vec<ResId> {
        let mut ids = self.prev_ids();
        ids.push(self.cur_id());
        ids
    }

    /// Remembers the current id before a rename or namespace change.
    pub fn store_previous_id(&mut self) {
        let id = self.cur_id();
        let ns = id.effective_namespace().to_string();
        self.prev_ids.push(PrevId {
            kind: id.gvk.kind,
            name: id.name,
            namespace: ns,
        });
    }

    fn metadata_mut(&mut self) -> &mut Map<String, Value> {
        let obj = self.obj.as_object_mut().expect("resource is an object");
        let m = obj
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if !m.is_object() {
            *m = Value::Object(Map::new());
        }
        m.as_object_mut().expect("metadata is an object")
    }

    /// Sets `metadata.name`.
    pub fn set_name(&mut self, name: &str) {
        self.metadata_mut()
            .insert("name".into(), Value::String(name.into()));
    }

    /// Sets or clears `metadata.namespace`.
    pub fn set_namespace(&mut self, ns: &str) {
        let m = self.metadata_mut();
        if ns.is_empty() {
            m.remove("namespace");
        } else {
            m.insert("namespace".into(), Value::String(ns.into()));
        }
    }

    /// Sets `kind`.
    pub fn set_kind(&mut self, kind: &str) {
        if let Some(o) = self.obj.as_object_mut() {
            o.insert("kind".into(), Value::String(kind.into()));
        }
    }

    /// Sets `apiVersion`.
    pub fn set_api_version(&mut self, av: &str) {
        if let Some(o) = self.obj.as_object_mut() {
            o.insert("apiVersion".into(), Value::String(av.into()));
        }
    }

    fn meta_map(&self, key: &str) -> Vec<(String, String)> {
        self.obj
            .get("metadata")
            .and_then(|m| m.get(key))
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), scalar_string(v).unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `metadata.labels` as strings.
    pub fn labels(&self) -> Vec<(String, String)> {
        self.meta_map("labels")
    }

    /// `metadata.annotations` as strings.
    pub fn annotations(&self) -> Vec<(String, String)> {
        self.meta_map("annotations")
    }

    /// Replaces a `metadata` string map (labels/annotations); removes it when empty.
    pub fn set_meta_map(&mut self, key: &str, pairs: Vec<(String, String)>) {
        let m = self.metadata_mut();
        if pairs.is_empty() {
            m.remove(key);
        } else {
            let mut map = Map::new();
            for (k, v) in pairs {
                map.insert(k, Value::String(v));
            }
            m.insert(key.into(), Value::Object(map));
        }
    }

    /// Whether prefixes/suffixes applied to `self` and `other` agree (kustomize's referral
    /// tie-break).
    pub fn prefixes_suffixes_equal(&self, other: &Resource, allow_empty: bool) -> bool {
        if allow_empty {
            let ep = self.prefixes.is_empty() || other.prefixes.is_empty();
            let es = self.suffixes.is_empty() || other.suffixes.is_empty();
            (ep || same_ending(&self.prefixes, &other.prefixes))
                && (es || same_ending(&self.suffixes, &other.suffixes))
        } else {
            same_ending(&self.prefixes, &other.prefixes)
                && same_ending(&self.suffixes, &other.suffixes)
        }
    }
}

/// Whether the shorter slice equals the end of the longer one (kustomize's SameEndingSubSlice).
fn same_ending(a: &[String], b: &[String]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() {
        return long.is_empty();
    }
    long[long.len() - short.len()..] == *short
}
