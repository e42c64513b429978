//! Field paths and field sets as structured-merge-diff defines them, and their FieldsV1 encoding.

use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathElement {
    /// A struct field or map key (`f:<name>`).
    Field(String),
    /// An associative-list item named by its key fields, sorted by field name (`k:{…}`).
    Key(Vec<(String, Value)>),
    /// A member of a set list (`v:<json>`).
    Value(Value),
    /// A position in a list without identity (`i:<n>`).
    Index(usize),
}

/// A path from the object root.
pub type Path = Vec<PathElement>;

/// Orders JSON values deterministically (null, booleans, numbers, strings, lists, objects).
pub fn compare_values(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            Value::Array(_) => 4,
            Value::Object(_) => 5,
        }
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i.cmp(&j),
            _ => x
                .as_f64()
                .unwrap_or(0.0)
                .partial_cmp(&y.as_f64().unwrap_or(0.0))
                .unwrap_or(Ordering::Equal),
        },
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (i, j) in x.iter().zip(y) {
                let c = compare_values(i, j);
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            let mut xs: Vec<_> = x.iter().collect();
            let mut ys: Vec<_> = y.iter().collect();
            xs.sort_by(|p, q| p.0.cmp(q.0));
            ys.sort_by(|p, q| p.0.cmp(q.0));
            for ((ka, va), (kb, vb)) in xs.iter().zip(&ys) {
                let c = ka.cmp(kb).then_with(|| compare_values(va, vb));
                if c != Ordering::Equal {
                    return c;
                }
            }
            xs.len().cmp(&ys.len())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

impl PathElement {
    fn rank(&self) -> u8 {
        match self {
            PathElement::Field(_) => 0,
            PathElement::Key(_) => 1,
            PathElement::Value(_) => 2,
            PathElement::Index(_) => 3,
        }
    }

    /// The FieldsV1 key of this element (`f:name`, `k:{"name":"c"}`, `v:"x"`, `i:0`).
    pub fn to_key(&self) -> String {
        match self {
            PathElement::Field(n) => format!("f:{n}"),
            PathElement::Key(fields) => {
                // Built in name order so the compact JSON lists the key fields sorted, as
                // real servers write them.
                let mut m = Map::new();
                for (k, v) in fields {
                    m.insert(k.clone(), v.clone());
                }
                format!("k:{}", Value::Object(m))
            }
            PathElement::Value(v) => format!("v:{v}"),
            PathElement::Index(i) => format!("i:{i}"),
        }
    }

    /// Parses a FieldsV1 key; `None` for `.` and for malformed keys.
    pub fn from_key(key: &str) -> Option<PathElement> {
        let (prefix, rest) = key.split_at_checked(2)?;
        match prefix {
            "f:" => Some(PathElement::Field(rest.to_string())),
            "k:" => {
                let Value::Object(m) = serde_json::from_str::<Value>(rest).ok()? else {
                    return None;
                };
                Some(key_element(m.into_iter().collect()))
            }
            "v:" => serde_json::from_str(rest).ok().map(PathElement::Value),
            "i:" => rest.parse().ok().map(PathElement::Index),
            _ => None,
        }
    }
}

/// Builds a `Key` element with its fields in name order.
pub fn key_element(mut fields: Vec<(String, Value)>) -> PathElement {
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    PathElement::Key(fields)
}

impl Ord for PathElement {
    // Fields sort before keys, keys before values, values before indexes, as structured-merge-diff
    // orders them; this is the order FieldsV1 objects are written in.
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (PathElement::Field(a), PathElement::Field(b)) => a.cmp(b),
            (PathElement::Key(a), PathElement::Key(b)) => {
                for ((ka, va), (kb, vb)) in a.iter().zip(b) {
                    let c = ka.cmp(kb).then_with(|| compare_values(va, vb));
                    if c != Ordering::Equal {
                        return c;
                    }
                }
                a.len().cmp(&b.len())
            }
            (PathElement::Value(a), PathElement::Value(b)) => compare_values(a, b),
            (PathElement::Index(a), PathElement::Index(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for PathElement {
    /// The conflict-message form: `.name`, `[name="c"]`, `[="x"]`, `[3]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(n) => write!(f, ".{n}"),
            PathElement::Key(fields) => {
                let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
                write!(f, "[{}]", parts.join(","))
            }
            PathElement::Value(v) => write!(f, "[={v}]"),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// Renders a path as conflict messages do (`.spec.template.spec.containers[name="c"].image`).
pub fn path_string(p: &[PathElement]) -> String {
    p.iter().map(ToString::to_string).collect()
}

/// The malformed part of a FieldsV1 document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldsV1Error {
    /// A key that is none of `.`, `f:`, `k:`, `v:`, `i:`.
    #[error("decoding fieldsV1: invalid key {0:?}")]
    BadKey(String),
    /// A node that is not a JSON object.
    #[error("decoding fieldsV1: value of {0:?} is not an object")]
    NotObject(String),
}

/// A set of owned paths (one manager's fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet(BTreeSet<Path>);

impl FieldSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a path.
    pub fn insert(&mut self, p: Path) {
        self.0.insert(p);
    }

    /// Whether the path itself is a member.
    pub fn contains(&self, p: &[PathElement]) -> bool {
        self.0.contains(p)
    }

    /// Whether any member lies strictly below `p`.
    pub fn has_descendant(&self, p: &[PathElement]) -> bool {
        self.0
            .range(p.to_vec()..)
            .take_while(|q| q.starts_with(p))
            .any(|q| q.len() > p.len())
    }

    /// True when there are no members.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Members in order.
    pub fn iter(&self) -> impl Iterator<Item = &Path> {
        self.0.iter()
    }

    /// Members of `self` that are not in `other`.
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        FieldSet(self.0.difference(&other.0).cloned().collect())
    }

    /// Members of both.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        FieldSet(self.0.intersection(&other.0).cloned().collect())
    }

    /// Adds every member of `other`.
    pub fn extend(&mut self, other: &FieldSet) {
        self.0.extend(other.0.iter().cloned());
    }

    /// Decodes a FieldsV1 object.
    pub fn from_fields_v1(v: &Value) -> Result<FieldSet, FieldsV1Error> {
        let mut set = FieldSet::new();
        decode_into(v, &mut Vec::new(), &mut set)?;
        Ok(set)
    }

    /// Encodes as FieldsV1: children in path-element order, `"."` first where a node is both a
    /// member and a parent, `{}` for leaves.
    pub fn to_fields_v1(&self) -> Value {
        #[derive(Default)]
        struct Node {
            member: bool,
            children: BTreeMap<PathElement, Node>,
        }
        fn emit(n: &Node) -> Value {
            let mut m = Map::new();
            if n.member && !n.children.is_empty() {
                m.insert(".".into(), Value::Object(Map::new()));
            }
            for (pe, c) in &n.children {
                m.insert(pe.to_key(), emit(c));
            }
            Value::Object(m)
        }
        let mut root = Node::default();
        for p in &self.0 {
            let mut cur = &mut root;
            for pe in p {
                cur = cur.children.entry(pe.clone()).or_default();
            }
            cur.member = true;
        }
        let out = emit(&root);
        if root.member && root.children.is_empty() {
            // The whole object as one member: `{".": {}}`.
            let mut m = Map::new();
            m.insert(".".into(), Value::Object(Map::new()));
            return Value::Object(m);
        }
        out
    }
}

fn decode_into(v: &Value, path: &mut Path, out: &mut FieldSet) -> Result<(), FieldsV1Error> {
    let Some(m) = v.as_object() else {
        return Err(FieldsV1Error::NotObject(path_string(path)));
    };
    for (k, c) in m {
        if k == "." {
            out.insert(path.clone());
            continue;
        }
        let pe = PathElement::from_key(k).ok_or_else(|| FieldsV1Error::BadKey(k.clone()))?;
        path.push(pe);
        match c.as_object() {
            Some(cm) if cm.is_empty() => out.insert(path.clone()),
            Some(_) => decode_into(c, path, out)?,
            None => return Err(FieldsV1Error::NotObject(k.clone())),
        }
        path.pop();
    }
    Ok(())
}
