//! Type information for merging: list types, list-map keys and map types, from the built-in
//! schema tables or from a CRD's openAPIV3Schema; objects without a schema are "deduced"
//! (objects are granular maps, lists atomic).

use schema::{FieldInfo, ListType, MapType, Schema};
use serde_json::Value;

/// How a list is merged and owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListKind {
    /// One value, replaced and owned as a whole.
    Atomic,
    /// A set of scalars; items are owned as `v:`.
    Set,
    /// Items identified by these key fields; owned as `k:`.
    Map(Vec<String>),
}

/// The type of one node of an object.
#[derive(Debug, Clone, Copy)]
pub enum Ty<'a> {
    /// A built-in type, with the annotations of the field holding it (list/map types live on
    /// fields in the tables).
    Builtin(Schema, Option<&'static FieldInfo>),
    /// The root of a custom resource: `metadata` is a standard ObjectMeta, the rest follows the
    /// CRD's schema.
    CrdRoot(&'a Value),
    /// A node of a CRD's openAPIV3Schema.
    Crd(&'a Value),
    /// No schema.
    Deduced,
}

/// An empty CRD schema: every field deduced.
static NO_SCHEMA: Value = Value::Null;

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

impl<'a> Ty<'a> {
    /// The root type of a built-in kind; deduced when the tables do not know it.
    pub fn builtin(group: &str, version: &str, kind: &str) -> Ty<'static> {
        match schema::kind(group, version, kind) {
            Some(r) => Ty::Builtin(Schema::Object(r.type_def), None),
            // Unknown kinds still have a standard ObjectMeta.
            None => Ty::CrdRoot(&NO_SCHEMA),
        }
    }

    /// How a list at this node is merged.
    pub fn list_kind(&self) -> ListKind {
        match self {
            Ty::Builtin(Schema::Array(_), Some(f)) => match f.list_type {
                Some(ListType::Atomic) => ListKind::Atomic,
                Some(ListType::Set) => ListKind::Set,
                Some(ListType::Map) => {
                    ListKind::Map(f.list_map_keys.iter().map(|k| k.to_string()).collect())
                }
                // Without a list type, a `merge` patch strategy makes the list associative (by
                // the merge key, or a set of scalars), as the server's schema conversion does.
                None if f.patch_strategy.merge => match f.merge_key {
                    Some(k) => ListKind::Map(vec![k.to_string()]),
                    None => ListKind::Set,
                },
                None => ListKind::Atomic,
            },
            Ty::Crd(s) => match s.get("x-kubernetes-list-type").and_then(Value::as_str) {
                Some("set") => ListKind::Set,
                Some("map") => ListKind::Map(
                    s.get("x-kubernetes-list-map-keys")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|k| k.as_str().map(String::from))
                                .collect()
                        })
                        .unwrap_or_default(),
                ),
                _ => ListKind::Atomic,
            },
            _ => ListKind::Atomic,
        }
    }

    /// Whether an object at this node is replaced and owned as a whole.
    pub fn map_atomic(&self) -> bool {
        match self {
            Ty::Builtin(Schema::Object(t), f) => {
                f.and_then(|f| f.map_type).or(t.map_type) == Some(MapType::Atomic)
            }
            Ty::Builtin(Schema::Map(_), Some(f)) => f.map_type == Some(MapType::Atomic),
            Ty::Crd(s) => s.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic"),
            _ => false,
        }
    }

    /// The type of an object's member `key`, and whether it is a declared struct field (map
    /// entries and undeclared keys are owned as members themselves).
    pub fn child(&self, key: &str) -> (Ty<'a>, bool) {
        match self {
            Ty::Builtin(Schema::Object(t), _) => match t.field(key) {
                Some(f) => (Ty::Builtin(f.schema, Some(f)), true),
                None => (Ty::Deduced, false),
            },
            Ty::Builtin(Schema::Map(e), _) => (Ty::Builtin(**e, None), false),
            Ty::Builtin(..) | Ty::Deduced => (Ty::Deduced, false),
            Ty::CrdRoot(s) => match key {
                "metadata" => match schema::type_def(OBJECT_META) {
                    Some(t) => (Ty::Builtin(Schema::Object(t), None), true),
                    None => (Ty::Deduced, true),
                },
                "apiVersion" | "kind" => (Ty::Builtin(Schema::String, None), true),
                _ => Ty::Crd(s).child(key),
            },
            Ty::Crd(s) => {
                if let Some(p) = s.get("properties").and_then(|p| p.get(key)) {
                    return (Ty::Crd(p), true);
                }
                match s.get("additionalProperties") {
                    Some(ap @ Value::Object(_)) => (Ty::Crd(ap), false),
                    _ => (Ty::Deduced, false),
                }
            }
        }
    }

    /// The type of a list's items.
    pub fn item(&self) -> Ty<'a> {
        match self {
            Ty::Builtin(Schema::Array(e), _) => Ty::Builtin(**e, None),
            Ty::Crd(s) => s.get("items").map(Ty::Crd).unwrap_or(Ty::Deduced),
            _ => Ty::Deduced,
        }
    }

    /// Whether this is a built-in type (for the defaulted `protocol` list-map key).
    pub fn is_builtin(&self) -> bool {
        matches!(self, Ty::Builtin(..))
    }
}
