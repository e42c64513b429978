//! Static descriptions of Kubernetes resources and types, as the generated tables hold them.

/// How a list field is merged by strategic merge patch (`x-kubernetes-patch-strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PatchStrategy {
    /// `merge`: lists are merged (by the merge key for lists of objects, as a set for scalars).
    pub merge: bool,
    /// `replace`: the patch value replaces the original wholesale.
    pub replace: bool,
    /// `retainKeys`: a `$retainKeys` directive is honoured for this field's object.
    pub retain_keys: bool,
}

impl PatchStrategy {
    /// No strategy given: maps merge recursively, lists are replaced.
    pub const NONE: PatchStrategy = PatchStrategy {
        merge: false,
        replace: false,
        retain_keys: false,
    };
    /// `merge`.
    pub const MERGE: PatchStrategy = PatchStrategy {
        merge: true,
        replace: false,
        retain_keys: false,
    };
    /// `replace`.
    pub const REPLACE: PatchStrategy = PatchStrategy {
        merge: false,
        replace: true,
        retain_keys: false,
    };
    /// `retainKeys`.
    pub const RETAIN_KEYS: PatchStrategy = PatchStrategy {
        merge: false,
        replace: false,
        retain_keys: true,
    };
    /// `merge,retainKeys` (e.g. `PodSpec.volumes`).
    pub const MERGE_RETAIN_KEYS: PatchStrategy = PatchStrategy {
        merge: true,
        replace: false,
        retain_keys: true,
    };
}

/// `x-kubernetes-list-type`: how server-side apply treats a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListType {
    /// The list is one value, replaced as a whole.
    Atomic,
    /// A set of scalars.
    Set,
    /// A map keyed by `list_map_keys`.
    Map,
}

/// `x-kubernetes-map-type`: whether a map/struct is merged field by field or replaced as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapType {
    /// Merged field by field (the default).
    Granular,
    /// Replaced as a whole.
    Atomic,
}

/// The shape of a value at some place in a Kubernetes object.
#[derive(Debug, Clone, Copy)]
pub enum Schema {
    /// A string (also dates and byte strings).
    String,
    /// An integer.
    Integer,
    /// A floating point number.
    Number,
    /// A boolean.
    Boolean,
    /// `IntOrString`: an integer or a string.
    IntOrString,
    /// `Quantity`: a string (or number) such as `100m`.
    Quantity,
    /// Any JSON value with no schema (`RawExtension`, `JSON`, `FieldsV1`, free-form objects).
    Any,
    /// A named object type with known fields.
    Object(&'static TypeDef),
    /// A list with the given element schema.
    Array(&'static Schema),
    /// A map from string keys to values of the given schema (`additionalProperties`).
    Map(&'static Schema),
}

impl Schema {
    /// The object type, when this is `Object`.
    pub fn object(&self) -> Option<&'static TypeDef> {
        match self {
            Schema::Object(t) => Some(t),
            _ => None,
        }
    }

    /// The element schema of a list, when this is `Array`.
    pub fn items(&self) -> Option<&'static Schema> {
        match self {
            Schema::Array(s) => Some(s),
            _ => None,
        }
    }

    /// The value schema of a map, when this is `Map`.
    pub fn values(&self) -> Option<&'static Schema> {
        match self {
            Schema::Map(s) => Some(s),
            _ => None,
        }
    }

    /// True for strings, numbers, booleans, `IntOrString` and `Quantity`.
    pub fn is_scalar(&self) -> bool {
        matches!(
            self,
            Schema::String
                | Schema::Integer
                | Schema::Number
                | Schema::Boolean
                | Schema::IntOrString
                | Schema::Quantity
        )
    }
}

/// One field of an object type with its patch and list metadata.
#[derive(Debug, Clone, Copy)]
pub struct FieldInfo {
    /// The JSON field name.
    pub name: &'static str,
    /// The field's value shape.
    pub schema: Schema,
    /// `x-kubernetes-patch-strategy`.
    pub patch_strategy: PatchStrategy,
    /// `x-kubernetes-patch-merge-key` (lists of objects merged by this key).
    pub merge_key: Option<&'static str>,
    /// `x-kubernetes-list-type`.
    pub list_type: Option<ListType>,
    /// `x-kubernetes-list-map-keys` (with `ListType::Map`).
    pub list_map_keys: &'static [&'static str],
    /// `x-kubernetes-map-type` given on the field itself.
    pub map_type: Option<MapType>,
}

impl FieldInfo {
    /// A plain field with no patch metadata (used by the generated tables to stay short).
    pub const fn plain(name: &'static str, schema: Schema) -> FieldInfo {
        FieldInfo {
            name,
            schema,
            patch_strategy: PatchStrategy::NONE,
            merge_key: None,
            list_type: None,
            list_map_keys: &[],
            map_type: None,
        }
    }
}

/// A named object type from the OpenAPI definitions (e.g. `io.k8s.api.core.v1.PodSpec`).
#[derive(Debug)]
pub struct TypeDef {
    /// The definition name.
    pub name: &'static str,
    /// Fields sorted by name.
    pub fields: &'static [FieldInfo],
    /// `x-kubernetes-map-type` on the type (e.g. atomic `LocalObjectReference`).
    pub map_type: Option<MapType>,
}

impl TypeDef {
    /// The field named `name`, if the type has one.
    pub fn field(&self, name: &str) -> Option<&'static FieldInfo> {
        self.fields
            .binary_search_by(|f| f.name.cmp(name))
            .ok()
            .map(|i| &self.fields[i])
    }
}

/// A resource the Kubernetes 1.33 API serves (one row of `kubectl api-resources`, per version).
#[derive(Debug)]
pub struct ResourceInfo {
    /// API group, `""` for the core group.
    pub group: &'static str,
    /// API version, e.g. `v1`.
    pub version: &'static str,
    /// Kind, e.g. `Deployment`.
    pub kind: &'static str,
    /// Resource name (plural), e.g. `deployments`.
    pub plural: &'static str,
    /// Singular name, e.g. `deployment`.
    pub singular: &'static str,
    /// True for namespaced resources, false for cluster-scoped ones.
    pub namespaced: bool,
    /// Verbs the resource supports.
    pub verbs: &'static [&'static str],
    /// Short names, e.g. `deploy`.
    pub short_names: &'static [&'static str],
    /// Categories, e.g. `all`.
    pub categories: &'static [&'static str],
    /// Subresources, e.g. `status`, `scale`.
    pub subresources: &'static [&'static str],
    /// True for the group's preferred version of this resource (what discovery lists first).
    pub preferred: bool,
    /// The object's type.
    pub type_def: &'static TypeDef,
}

impl ResourceInfo {
    /// `group/version`, or just `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}
