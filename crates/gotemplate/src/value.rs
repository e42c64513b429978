//! The dynamic value model: what Go templates see through `interface{}`.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::funcs::FuncError;

/// A map with string keys; `BTreeMap` keeps keys sorted, which is the order Go's
/// `fmt` and `range` use for maps.
pub type Map = BTreeMap<String, Value>;

/// A Go-like dynamic value.
///
/// The variants mirror the Go types templates meet in Helm: `nil`, `bool`, `int`,
/// `int64` (what sprig's math returns), `uint8` (a byte of a string or `[]byte`),
/// `float64` (what YAML/JSON numbers decode to),
/// `string`, `[]interface{}`, `map[string]interface{}`, `[]byte`, and host objects
/// (structs with fields and methods, such as Helm's `.Capabilities`).
#[derive(Clone, Default)]
pub enum Value {
    /// Go `nil` (an empty `interface{}`).
    #[default]
    Nil,
    /// Go `bool`.
    Bool(bool),
    /// Go `int` (template integer literals, `len`, `atoi`, `int`).
    Int(i64),
    /// Go `int64` (sprig arithmetic, `int64`).
    Int64(i64),
    /// Go `uint8` (`byte`): what `index` yields for a string or a `[]byte`. It prints and
    /// converts as a number, `%c`/`%q`/`%U` read it as a char, and the builtin comparisons
    /// compare it with `int`/`int64` by value (Go's sign-aware `uintKind` rules).
    Uint8(u8),
    /// Go `float64`.
    Float(f64),
    /// Go `string`: UTF-8 text, where the bytes of invalid UTF-8 are held as escape chars
    /// (see [`crate::gostr`]; use `gostr::go_bytes`/`go_len` for Go's byte view).
    String(Arc<str>),
    /// Go `[]interface{}`; `elem` names the Go element type for `%T`/`typeOf` (e.g. `string` for `[]string`).
    List(Arc<Vec<Value>>, ListKind),
    /// Go `map[string]interface{}` (keys sorted). Shared by reference like a Go map:
    /// sprig's `set`, `unset` and `merge` mutate it in place, visible through every copy.
    Map(MapRef),
    /// Go `[]byte`.
    Bytes(Arc<[u8]>),
    /// A host object: a Go struct or named type with fields and methods.
    Object(Arc<dyn Object>),
}

/// The Go element type of a list, which only matters for `%T`, `typeOf` and `%v` of bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ListKind {
    /// `[]interface {}`
    #[default]
    Any,
    /// `[]string`
    String,
    /// `[]int`
    Int,
}

/// A host object exposed to templates, the way Go exposes structs and named types.
///
/// Fields are looked up with `.Name`; methods are called with `.Name arg...`.
pub trait Object: Send + Sync {
    /// The Go type name shown by `%T`, `typeOf` and error messages, e.g. `*chart.Metadata`.
    fn type_name(&self) -> String;
    /// Looks up an exported field (or a method without arguments); `None` when there is none.
    fn field(&self, name: &str) -> Option<Value>;
    /// Calls a method with arguments; `None` when there is no such method.
    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, FuncError>> {
        let _ = (name, args);
        None
    }
    /// Whether `name` is a method (as opposed to a field); used for "is not a method" errors.
    fn has_method(&self, name: &str) -> bool {
        let _ = name;
        false
    }
    /// How `fmt` prints the object with `%v` (Go calls `String()` when the type has it).
    /// Named slice and map types print as their [`Object::collection`].
    fn display(&self) -> String {
        match self.collection() {
            Some(c) => crate::gofmt::sprint(std::slice::from_ref(&c)),
            None => format!("{{{}}}", self.type_name()),
        }
    }
    /// How an action such as `{{ .Capabilities.KubeVersion }}` prints the object when it was
    /// reached as a field (or held by a variable or dot). Go's `printableValue` takes the
    /// address of such an addressable value, so a `String()` method with a pointer receiver
    /// applies there; a function argument is a copy and prints as [`Object::display`].
    fn action_display(&self) -> String {
        self.display()
    }
    /// For Go named slice or map types (Helm's `chartutil.VersionSet`, `engine.files`): the
    /// underlying list or map. `len`, `index`, `slice`, `range`, printing, truthiness and
    /// sprig's list functions then treat the object like that collection.
    fn collection(&self) -> Option<Value> {
        None
    }
    /// The value used by `toYaml`/`toJson`/`deepCopy` (Go marshals struct fields).
    fn to_value(&self) -> Value {
        Value::Nil
    }
    /// Go truthiness: structs are always true, named maps/slices are true when non-empty.
    fn truth(&self) -> bool {
        self.collection().is_none_or(|c| c.truth())
    }
    /// Downcasting support for functions that take this object back (e.g. semver's `Compare`).
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => write!(f, "nil"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Int64(i) => write!(f, "int64({i})"),
            Value::Uint8(b) => write!(f, "uint8({b})"),
            Value::Float(x) => write!(f, "float64({x})"),
            Value::String(s) => write!(f, "{s:?}"),
            Value::List(l, _) => f.debug_list().entries(l.iter()).finish(),
            Value::Map(m) => f.debug_map().entries(m.read().iter()).finish(),
            Value::Bytes(b) => write!(f, "bytes{b:?}"),
            Value::Object(o) => write!(f, "<{}>", o.type_name()),
        }
    }
}

impl PartialEq for Value {
    /// Deep equality like `reflect.DeepEqual` (types must match). Bounded in depth so
    /// self-referencing maps (possible through sprig's `set`) cannot overflow the stack.
    fn eq(&self, other: &Self) -> bool {
        deep_eq(self, other, 0)
    }
}

/// Maximum nesting any recursive walk over values descends (printing, YAML, JSON, copies).
pub(crate) const MAX_VALUE_DEPTH: usize = 256;

fn deep_eq(a: &Value, b: &Value, depth: usize) -> bool {
    if depth > MAX_VALUE_DEPTH {
        return false;
    }
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Int(a), Value::Int(b)) => a == b,
        (Value::Int64(a), Value::Int64(b)) => a == b,
        (Value::Uint8(a), Value::Uint8(b)) => a == b,
        (Value::Float(a), Value::Float(b)) => a == b,
        (Value::String(a), Value::String(b)) => a == b,
        (Value::List(a, ka), Value::List(b, kb)) => {
            ka == kb
                && a.len() == b.len()
                && a.iter()
                    .zip(b.iter())
                    .all(|(x, y)| deep_eq(x, y, depth + 1))
        }
        (Value::Map(a), Value::Map(b)) => {
            if a.same(b) {
                return true;
            }
            let (ra, rb) = (a.read(), b.read());
            ra.len() == rb.len()
                && ra
                    .iter()
                    .zip(rb.iter())
                    .all(|((ka, va), (kb, vb))| ka == kb && deep_eq(va, vb, depth + 1))
        }
        (Value::Bytes(a), Value::Bytes(b)) => a == b,
        (Value::Object(a), Value::Object(b)) => Arc::ptr_eq(a, b),
        _ => false,
    }
}

impl Value {
    /// A string value.
    pub fn str(s: impl Into<Arc<str>>) -> Value {
        Value::String(s.into())
    }

    /// A `[]interface{}` value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(items), ListKind::Any)
    }

    /// A `[]string` value.
    pub fn string_list(items: Vec<String>) -> Value {
        Value::List(
            Arc::new(items.into_iter().map(Value::str).collect()),
            ListKind::String,
        )
    }

    /// A `map[string]interface{}` value.
    pub fn map(m: Map) -> Value {
        Value::Map(MapRef::new(m))
    }

    /// An empty `map[string]interface{}`.
    pub fn empty_map() -> Value {
        Value::Map(MapRef::new(Map::new()))
    }

    /// Is this Go `nil`?
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// Go template truthiness (`if`, `with`, `and`, `or`, `not`).
    pub fn truth(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) | Value::Int64(i) => *i != 0,
            Value::Uint8(b) => *b != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::List(l, _) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::Object(o) => o.truth(),
        }
    }

    /// The string inside, if this is a Go string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The integer inside, for `int` and `int64`.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) | Value::Int64(i) => Some(*i),
            _ => None,
        }
    }

    /// The map inside, if this is a map.
    pub fn as_map(&self) -> Option<&MapRef> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The list items, if this is a list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l, _) => Some(l),
            _ => None,
        }
    }

    /// The Go type name as `%T` prints it.
    pub fn type_name(&self) -> String {
        match self {
            Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Int64(_) => "int64".into(),
            Value::Uint8(_) => "uint8".into(),
            Value::Float(_) => "float64".into(),
            Value::String(_) => "string".into(),
            Value::List(_, ListKind::Any) => "[]interface {}".into(),
            Value::List(_, ListKind::String) => "[]string".into(),
            Value::List(_, ListKind::Int) => "[]int".into(),
            Value::Map(m) if m.kind() == MapKind::String => "map[string]string".into(),
            Value::Map(_) => "map[string]interface {}".into(),
            Value::Bytes(_) => "[]uint8".into(),
            Value::Object(o) => o.type_name(),
        }
    }

    /// The Go `reflect.Kind` name, as sprig's `kindOf` prints it.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Int64(_) => "int64",
            Value::Uint8(_) => "uint8",
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::List(..) | Value::Bytes(_) => "slice",
            Value::Map(_) => "map",
            Value::Object(o) => match o.collection() {
                Some(Value::List(..)) => "slice",
                Some(Value::Map(_)) => "map",
                _ => "struct",
            },
        }
    }

    /// Converts from JSON. Integers that fit become `int` when `ints` is true, otherwise
    /// every number becomes `float64` (as Go's `encoding/json` and `sigs.k8s.io/yaml` do).
    pub fn from_json_with(v: &serde_json::Value, ints: bool) -> Value {
        match v {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => {
                if ints && let Some(i) = n.as_i64() {
                    return Value::Int(i);
                }
                Value::Float(n.as_f64().unwrap_or(0.0))
            }
            serde_json::Value::String(s) => Value::str(s.as_str()),
            serde_json::Value::Array(a) => {
                Value::list(a.iter().map(|x| Value::from_json_with(x, ints)).collect())
            }
            serde_json::Value::Object(o) => Value::map(
                o.iter()
                    .map(|(k, x)| (k.clone(), Value::from_json_with(x, ints)))
                    .collect(),
            ),
        }
    }

    /// Converts from JSON the way Go's `json.Unmarshal` into `interface{}` does:
    /// every number becomes `float64`. This is how Helm sees chart values.
    pub fn from_json(v: &serde_json::Value) -> Value {
        Value::from_json_with(v, false)
    }

    /// Converts to JSON the way Go's `json.Marshal` sees the value (bytes become base64).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Nil => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) | Value::Int64(i) => serde_json::Value::from(*i),
            Value::Uint8(b) => serde_json::Value::from(*b),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::String(s) => serde_json::Value::String(s.to_string()),
            Value::List(l, _) => serde_json::Value::Array(l.iter().map(Value::to_json).collect()),
            Value::Map(m) => serde_json::Value::Object(
                m.read()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
            Value::Bytes(b) => serde_json::Value::String(crate::encoding::b64_encode(b)),
            Value::Object(o) => o.to_value().to_json(),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::str(s)
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::str(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<u8> for Value {
    fn from(b: u8) -> Self {
        Value::Uint8(b)
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}
impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::map(m)
    }
}
impl From<Vec<Value>> for Value {
    fn from(l: Vec<Value>) -> Self {
        Value::list(l)
    }
}
impl From<&serde_json::Value> for Value {
    fn from(v: &serde_json::Value) -> Self {
        Value::from_json(v)
    }
}

/// A shared, mutable Go map (`map[string]interface{}`), compared by content.
#[derive(Clone, Default)]
pub struct MapRef(Arc<RwLock<Map>>, MapKind);

/// The Go value type of a map, which only matters for `%T`/`typeOf`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MapKind {
    /// `map[string]interface {}`
    #[default]
    Any,
    /// `map[string]string` (sprig's `split`/`splitn`)
    String,
}

impl MapRef {
    /// Wraps a map.
    pub fn new(m: Map) -> MapRef {
        MapRef(Arc::new(RwLock::new(m)), MapKind::Any)
    }
    /// Wraps a map whose Go type is `map[string]string`.
    pub fn new_string_map(m: Map) -> MapRef {
        MapRef(Arc::new(RwLock::new(m)), MapKind::String)
    }
    /// The Go value type of the map.
    pub fn kind(&self) -> MapKind {
        self.1
    }
    /// Read access to the entries.
    pub fn read(&self) -> RwLockReadGuard<'_, Map> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }
    /// Write access to the entries (the change is seen through every copy of the value).
    pub fn write(&self) -> RwLockWriteGuard<'_, Map> {
        self.0.write().unwrap_or_else(|e| e.into_inner())
    }
    /// The value under `key`, cloned.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.read().get(key).cloned()
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.read().len()
    }
    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }
    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.read().contains_key(key)
    }
    /// A shallow copy of the entries.
    pub fn snapshot(&self) -> Map {
        self.read().clone()
    }
    /// Do both handles point to the same Go map?
    pub fn same(&self, other: &MapRef) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl PartialEq for MapRef {
    fn eq(&self, other: &Self) -> bool {
        deep_eq(&Value::Map(self.clone()), &Value::Map(other.clone()), 0)
    }
}

impl fmt::Debug for MapRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.read().iter()).finish()
    }
}
