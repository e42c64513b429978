//! `gen-schema`: writes `crates/schema/src/generated.rs` from the Kubernetes OpenAPI definitions.
//!
//! The definitions carry types, GVKs and patch metadata but not the resource facts that discovery
//! serves (plural, scope, short names, categories, verbs, subresources); those come from the
//! hand-written `OVERLAY` below, which records `kubectl api-resources` of Kubernetes 1.33.

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

/// Verbs of ordinary resources.
const FULL: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
/// Verbs of namespaces (no deletecollection).
const NO_DC: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];
/// Verbs of review-style virtual resources.
const CREATE: &[&str] = &["create"];
/// Verbs of componentstatuses.
const GET_LIST: &[&str] = &["get", "list"];

/// One resource's discovery facts: group, kind, plural, namespaced, short names, categories,
/// subresources, verbs.
type Overlay = (
    &'static str,
    &'static str,
    &'static str,
    bool,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

const ALL: &[&str] = &["all"];
const EXT: &[&str] = &["api-extensions"];
const ST: &[&str] = &["status"];
const ST_SCALE: &[&str] = &["scale", "status"];
const NONE: &[&str] = &[];

/// `kubectl api-resources` of Kubernetes 1.33 (all versions the definitions hold).
const OVERLAY: &[Overlay] = &[
    ("", "Binding", "bindings", true, NONE, NONE, NONE, CREATE),
    (
        "",
        "ComponentStatus",
        "componentstatuses",
        false,
        &["cs"],
        NONE,
        NONE,
        GET_LIST,
    ),
    (
        "",
        "ConfigMap",
        "configmaps",
        true,
        &["cm"],
        NONE,
        NONE,
        FULL,
    ),
    (
        "",
        "Endpoints",
        "endpoints",
        true,
        &["ep"],
        NONE,
        NONE,
        FULL,
    ),
    ("", "Event", "events", true, &["ev"], NONE, NONE, FULL),
    (
        "",
        "LimitRange",
        "limitranges",
        true,
        &["limits"],
        NONE,
        NONE,
        FULL,
    ),
    (
        "",
        "Namespace",
        "namespaces",
        false,
        &["ns"],
        NONE,
        &["finalize", "status"],
        NO_DC,
    ),
    (
        "",
        "Node",
        "nodes",
        false,
        &["no"],
        NONE,
        &["proxy", "status"],
        FULL,
    ),
    (
        "",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
        &["pvc"],
        NONE,
        ST,
        FULL,
    ),
    (
        "",
        "PersistentVolume",
        "persistentvolumes",
        false,
        &["pv"],
        NONE,
        ST,
        FULL,
    ),
    (
        "",
        "Pod",
        "pods",
        true,
        &["po"],
        ALL,
        &[
            "attach",
            "binding",
            "ephemeralcontainers",
            "eviction",
            "exec",
            "log",
            "portforward",
            "proxy",
            "resize",
            "status",
        ],
        FULL,
    ),
    (
        "",
        "PodTemplate",
        "podtemplates",
        true,
        NONE,
        NONE,
        NONE,
        FULL,
    ),
    (
        "",
        "ReplicationController",
        "replicationcontrollers",
        true,
        &["rc"],
        ALL,
        ST_SCALE,
        FULL,
    ),
    (
        "",
        "ResourceQuota",
        "resourcequotas",
        true,
        &["quota"],
        NONE,
        ST,
        FULL,
    ),
    ("", "Secret", "secrets", true, NONE, NONE, NONE, FULL),
    (
        "",
        "ServiceAccount",
        "serviceaccounts",
        true,
        &["sa"],
        NONE,
        &["token"],
        FULL,
    ),
    (
        "",
        "Service",
        "services",
        true,
        &["svc"],
        ALL,
        &["proxy", "status"],
        FULL,
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        false,
        NONE,
        EXT,
        NONE,
        FULL,
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        false,
        NONE,
        EXT,
        NONE,
        FULL,
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies",
        false,
        NONE,
        EXT,
        ST,
        FULL,
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
        false,
        NONE,
        EXT,
        NONE,
        FULL,
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicy",
        "mutatingadmissionpolicies",
        false,
        NONE,
        EXT,
        NONE,
        FULL,
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicyBinding",
        "mutatingadmissionpolicybindings",
        false,
        NONE,
        EXT,
        NONE,
        FULL,
    ),
    (
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
        &["crd", "crds"],
        EXT,
        ST,
        FULL,
    ),
    (
        "apiregistration.k8s.io",
        "APIService",
        "apiservices",
        false,
        NONE,
        EXT,
        ST,
        FULL,
    ),
    (
        "apps",
        "ControllerRevision",
        "controllerrevisions",
        true,
        NONE,
        NONE,
        NONE,
        FULL,
    ),
    (
        "apps",
        "DaemonSet",
        "daemonsets",
        true,
        &["ds"],
        ALL,
        ST,
        FULL,
    ),
    (
        "apps",
        "Deployment",
        "deployments",
        true,
        &["deploy"],
        ALL,
        ST_SCALE,
        FULL,
    ),
    (
        "apps",
        "ReplicaSet",
        "replicasets",
        true,
        &["rs"],
        ALL,
        ST_SCALE,
        FULL,
    ),
    (
        "apps",
        "StatefulSet",
        "statefulsets",
        true,
        &["sts"],
        ALL,
        ST_SCALE,
        FULL,
    ),
    (
        "authentication.k8s.io",
        "SelfSubjectReview",
        "selfsubjectreviews",
        false,
        NONE,
        NONE,
        NONE,
        CREATE,
    ),
    (
        "authentication.k8s.io",
        "TokenReview",
        "tokenreviews",
        false,
        NONE,
        NONE,
        NONE,
        CREATE,
    ),
    (
        "authorization.k8s.io",
        "LocalSubjectAccessReview",
        "localsubjectaccessreviews",
        true,
        NONE,
        NONE,
        NONE,
        CREATE,
    ),
    (
        "authorization.k8s.io",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        false,
        NONE,
        NONE,
        NONE,
        CREATE,
    ),
    (
        "authorization.k8s.io",
        "SelfSubjectRulesReview",
        "selfsubjectrulesreviews",
        false,
        NONE,
        NONE,
        NONE,
        CREATE,
    ),
    (
        "authorization.k8s.io",
        "SubjectAccessReview",
        "subjectaccessreviews",
        false,
        NONE,
        NONE,
        NONE,
        CREATE,
    ),
    (
        "autoscaling",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
        &["hpa"],
        ALL,
        ST,
        FULL,
    ),
    ("batch", "CronJob", "cronjobs", true, &["cj"], ALL, ST, FULL),
    ("batch", "Job", "jobs", true, NONE, ALL, ST, FULL),
    (
        "certificates.k8s.io",
        "CertificateSigningRequest",
        "certificatesigningrequests",
        false,
        &["csr"],
        NONE,
        &["approval", "status"],
        FULL,
    ),
    (
        "certificates.k8s.io",
        "ClusterTrustBundle",
        "clustertrustbundles",
        false,
        NONE,
        NONE,
        NONE,
        FULL,
    ),
    (
        "coordination.k8s.io",
        "Lease",
        "leases",
        true,
        NONE,
        NONE,
        NONE,
        FULL,
    ),
    (
        "coordination.k8s.io",
        "LeaseCandidate",
        "leasecandidates",
        true,
        NONE,
        NONE,
        NONE,
        FULL,
    ),
    (
        "discovery.k8s.io",
        "EndpointSlice",
        "endpointslices",
        true,
        NONE,
        NONE,
        NONE,
        FULL,
    ),
    (
        "events.k8s.io",
        "Event",
        "events",
        true,
        &["ev"],
        NONE,
        NONE,
        FULL,
    ),
    (
        "flowcontrol.apiserver.k8s.io",
        "FlowSchema",
        "flowschemas",
        false,
        NONE,
        NONE,
        ST,
        FULL,
    ),
    (
        "flowcontrol.apiserver.k8s.io",
        "PriorityLevelConfiguration",
        "prioritylevelconfigurations",
        false,
        NONE,
        NONE,
        ST,
        FULL,
    ),
    (
        "internal.apiserver.k8s.io",
        "StorageVersion",
        "storageversions",
        false,
        NONE,
        NONE,
        ST,
        FULL,
    ),
    (
        "networking.k8s.io",
        "IngressClass",
        "ingressclasses",
        false,
        NONE,
        NONE,
        NONE,
        FULL,
    ),
    (
        "networking.k8s.io",
        "Ingress",
        "ingresses",
        true,
        &["ing"],
        NONE,
        ST,
        FULL,
    ),
    (
        "networking.k8s.io",
        "IPAddress",
        "ipaddresses",
        false,
        &["ip"],
        NONE,
        NONE,
        FULL,
    ),
    (
        "networking.k8s.io",
        "NetworkPolicy",
        "networkpolicies",
        true,
        &["netpol"],
        NONE,
        NONE,
        FULL,
    ),
    (
        "networking.k8s.io",
        "ServiceCIDR",
        "servicecidrs",
        false,
        NONE,
        NONE,
        ST,
        FULL,
    ),
    (
        "node.k8s.io",
        "RuntimeClass",
        "runtimeclasses",
        false,
        NONE,
        NONE,
        NONE,
        FULL,
    ),
    (
        "policy",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        true,
        &["pdb"],
        NONE,
        ST,
        FULL,
    ),
    (
        "rbac.authorization.k8s.io",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
        NONE,
        NONE,
        NONE,
        FULL,
    ),
    (
        "rbac.authorization.k8s.io",
        "ClusterRole",
        "clusterroles",
        false,
        NONE,
        NONE,
        NONE,
        FULL,
    ),
    (
        "rbac.authorization.k8s.io",
        "RoleBinding",
        "rolebindings",
        true,
        NONE,
        NONE,
        NONE,
        FULL,
    ),
    (
        "rbac.authorization.k8s.io",
        "Role",
        "roles",
        true,
        NONE,
        NONE,
        NONE,
        FULL,
    ),
    (
        "resource.k8s.io",
        "DeviceClass",
        "deviceclasses",
        false,
        NONE,
        NONE,
        NONE,
        FULL,
    ),
    (
        "resource.k8s.io",
        "DeviceTaintRule",
        "devicetaintrules",
        false,
        NONE,
        NONE,
        NONE,
        FULL,
    ),
    (
        "resource.k8s.io",
        "ResourceClaim",
        "resourceclaims",
        true,
        NONE,
        NONE,
        ST,
        FULL,
    ),
    (
        "resource.k8s.io",
        "ResourceClaimTemplate",
        "resourceclaimtemplates",
        true,
        NONE,
        NONE,
        NONE,
        FULL,
    ),
    (
        "resource.k8s.io",
        "ResourceSlice",
        "resourceslices",
        false,
        NONE,
        NONE,
        NONE,
        FULL,
    ),
    (
        "scheduling.k8s.io",
        "PriorityClass",
        "priorityclasses",
        false,
        &["pc"],
        NONE,
        NONE,
        FULL,
    ),
    (
        "storage.k8s.io",
        "CSIDriver",
        "csidrivers",
        false,
        NONE,
        NONE,
        NONE,
        FULL,
    ),
    (
        "storage.k8s.io",
        "CSINode",
        "csinodes",
        false,
        NONE,
        NONE,
        NONE,
        FULL,
    ),
    (
        "storage.k8s.io",
        "CSIStorageCapacity",
        "csistoragecapacities",
        true,
        NONE,
        NONE,
        NONE,
        FULL,
    ),
    (
        "storage.k8s.io",
        "StorageClass",
        "storageclasses",
        false,
        &["sc"],
        NONE,
        NONE,
        FULL,
    ),
    (
        "storage.k8s.io",
        "VolumeAttachment",
        "volumeattachments",
        false,
        NONE,
        NONE,
        ST,
        FULL,
    ),
    (
        "storage.k8s.io",
        "VolumeAttributesClass",
        "volumeattributesclasses",
        false,
        &["vac"],
        NONE,
        NONE,
        FULL,
    ),
    (
        "storagemigration.k8s.io",
        "StorageVersionMigration",
        "storageversionmigrations",
        false,
        NONE,
        NONE,
        ST,
        FULL,
    ),
];

/// Kinds that carry ObjectMeta but are only served as subresources, never as resources.
const SUBRESOURCE_KINDS: &[(&str, &str)] = &[
    ("autoscaling", "Scale"),
    ("authentication.k8s.io", "TokenRequest"),
    ("policy", "Eviction"),
];

/// Entry point: `gen-schema [DEFINITIONS_JSON]`.
pub fn run(args: &[&str]) -> Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let input = match args {
        [] => root.join("../shared/k8s-schema/v1.33-definitions.json"),
        [p] => PathBuf::from(p),
        _ => bail!("usage: gen-schema [DEFINITIONS_JSON]"),
    };
    let text =
        std::fs::read_to_string(&input).with_context(|| format!("reading {}", input.display()))?;
    let doc: Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", input.display()))?;
    let defs = doc
        .get("$defs")
        .or_else(|| doc.get("definitions"))
        .and_then(Value::as_object)
        .context("no $defs in the definitions file")?;
    let out = generate(defs)?;
    let dest = root.join("crates/schema/src/generated.rs");
    std::fs::write(&dest, out).with_context(|| format!("writing {}", dest.display()))?;
    println!("wrote {}", dest.display());
    Ok(())
}

/// What a named definition stands for when referenced.
enum Named {
    /// An object with fields: emitted as a `TypeDef` static with this index.
    Object(usize),
    /// A scalar or free-form value: referenced inline as this `Schema` expression.
    Inline(&'static str),
}

struct Gen<'a> {
    named: BTreeMap<&'a str, Named>,
    /// Element/value schema statics, deduplicated by their expression text.
    elems: BTreeMap<String, usize>,
}

fn generate(defs: &Map<String, Value>) -> Result<String> {
    let mut names: Vec<&str> = defs.keys().map(String::as_str).collect();
    names.sort();
    let mut g = Gen {
        named: BTreeMap::new(),
        elems: BTreeMap::new(),
    };
    let mut objects = Vec::new();
    for name in &names {
        let def = &defs[*name];
        let named = if def.get("properties").is_some() {
            objects.push(*name);
            Named::Object(objects.len() - 1)
        } else if name.ends_with(".IntOrString") {
            Named::Inline("S::IntOrString")
        } else if name.ends_with(".Quantity") {
            Named::Inline("S::Quantity")
        } else if type_of(def) == Some("string") {
            Named::Inline("S::String")
        } else {
            Named::Inline("S::Any")
        };
        g.named.insert(name, named);
    }

    let mut types = String::new();
    for (i, name) in objects.iter().enumerate() {
        let def = &defs[*name];
        let props = def["properties"].as_object().context("properties")?;
        let mut fields: Vec<(&String, &Value)> = props.iter().collect();
        fields.sort_by(|a, b| a.0.cmp(b.0));
        let map_type = map_type(def.get("x-kubernetes-map-type"))?;
        writeln!(
            types,
            "static T{i}: TypeDef = TypeDef {{ name: {name:?}, map_type: {map_type}, fields: &["
        )?;
        for (fname, prop) in fields {
            let schema = g.schema(prop)?;
            writeln!(types, "{},", g.field(fname, prop, &schema)?)?;
        }
        writeln!(types, "] }};")?;
    }

    let mut out = String::new();
    out.push_str(
        "//! Generated by `cargo run -p xtask -- gen-schema` from the Kubernetes v1.33 OpenAPI definitions; do not edit.\n\n",
    );
    out.push_str("// Formatting is skipped (`#[rustfmt::skip]` on the module) to keep one field per line.\n#![allow(clippy::all)]\n\n");
    out.push_str("use crate::types::{FieldInfo, ListType as LT, MapType as MT, PatchStrategy as PS, ResourceInfo, Schema as S, TypeDef};\n\n");
    out.push_str("const fn p(name: &'static str, schema: S) -> FieldInfo { FieldInfo::plain(name, schema) }\n\n");
    for (expr, i) in &g.elems {
        writeln!(out, "static E{i}: S = {expr};")?;
    }
    out.push_str(&types);
    writeln!(out, "/// Every object type, sorted by definition name.")?;
    writeln!(
        out,
        "pub(crate) static TYPES: [&TypeDef; {}] = [",
        objects.len()
    )?;
    for i in 0..objects.len() {
        writeln!(out, "&T{i},")?;
    }
    out.push_str("];\n\n");
    out.push_str(&resources(defs, &g.named)?);
    Ok(out)
}

fn type_of(v: &Value) -> Option<&str> {
    match v.get("type")? {
        Value::String(s) => Some(s),
        Value::Array(a) => a.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    }
}

fn map_type(v: Option<&Value>) -> Result<&'static str> {
    Ok(match v.and_then(Value::as_str) {
        None => "None",
        Some("atomic") => "Some(MT::Atomic)",
        Some("granular") => "Some(MT::Granular)",
        Some(o) => bail!("unknown map type {o}"),
    })
}

impl<'a> Gen<'a> {
    /// The `Schema` expression for a property or items/additionalProperties schema.
    fn schema(&mut self, v: &Value) -> Result<String> {
        if let Some(r) = v.get("$ref").and_then(Value::as_str) {
            let name = r.rsplit('/').next().unwrap_or(r);
            return Ok(match self.named.get(name) {
                Some(Named::Object(i)) => format!("S::Object(&T{i})"),
                Some(Named::Inline(e)) => e.to_string(),
                None => bail!("dangling $ref {r}"),
            });
        }
        Ok(match type_of(v) {
            Some("string") => "S::String".into(),
            Some("integer") => "S::Integer".into(),
            Some("number") => "S::Number".into(),
            Some("boolean") => "S::Boolean".into(),
            Some("array") => {
                let items = v.get("items").context("array without items")?;
                let e = self.schema(items)?;
                format!("S::Array(&E{})", self.elem(e))
            }
            Some("object") => match v.get("additionalProperties") {
                Some(ap) if ap.is_object() => {
                    let e = self.schema(ap)?;
                    format!("S::Map(&E{})", self.elem(e))
                }
                _ => "S::Any".into(),
            },
            _ => "S::Any".into(),
        })
    }

    fn elem(&mut self, expr: String) -> usize {
        let n = self.elems.len();
        *self.elems.entry(expr).or_insert(n)
    }

    fn field(&self, name: &str, prop: &Value, schema: &str) -> Result<String> {
        let strategy = prop
            .get("x-kubernetes-patch-strategy")
            .and_then(Value::as_str);
        let merge_key = prop
            .get("x-kubernetes-patch-merge-key")
            .and_then(Value::as_str);
        let list_type = prop.get("x-kubernetes-list-type").and_then(Value::as_str);
        let keys: Vec<&str> = prop
            .get("x-kubernetes-list-map-keys")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let map_type = map_type(prop.get("x-kubernetes-map-type"))?;
        if strategy.is_none()
            && merge_key.is_none()
            && list_type.is_none()
            && keys.is_empty()
            && map_type == "None"
        {
            return Ok(format!("p({name:?}, {schema})"));
        }
        let ps = match strategy {
            None => "PS::NONE",
            Some("merge") => "PS::MERGE",
            Some("replace") => "PS::REPLACE",
            Some("retainKeys") => "PS::RETAIN_KEYS",
            Some("merge,retainKeys") => "PS::MERGE_RETAIN_KEYS",
            Some(o) => bail!("unknown patch strategy {o} on {name}"),
        };
        let lt = match list_type {
            None => "None",
            Some("atomic") => "Some(LT::Atomic)",
            Some("set") => "Some(LT::Set)",
            Some("map") => "Some(LT::Map)",
            Some(o) => bail!("unknown list type {o} on {name}"),
        };
        let mk = match merge_key {
            Some(k) => format!("Some({k:?})"),
            None => "None".into(),
        };
        Ok(format!(
            "FieldInfo {{ name: {name:?}, schema: {schema}, patch_strategy: {ps}, merge_key: {mk}, list_type: {lt}, list_map_keys: &{keys:?}, map_type: {map_type} }}"
        ))
    }
}

/// Orders API versions as Kubernetes does: GA before beta before alpha, higher numbers first.
fn version_rank(v: &str) -> (u8, u32, u32) {
    let rest = v.trim_start_matches('v');
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let major: u32 = digits.parse().unwrap_or(0);
    let tail = &rest[digits.len()..];
    let (level, minor) = if let Some(m) = tail.strip_prefix("beta") {
        (1, m.parse().unwrap_or(0))
    } else if let Some(m) = tail.strip_prefix("alpha") {
        (0, m.parse().unwrap_or(0))
    } else {
        (2, 0)
    };
    (level, major, minor)
}

fn resources(defs: &Map<String, Value>, named: &BTreeMap<&str, Named>) -> Result<String> {
    struct Row<'a> {
        version: String,
        type_idx: usize,
        ov: &'a Overlay,
    }
    let mut rows: Vec<Row> = Vec::new();
    for (name, def) in defs {
        let Some(gvks) = def
            .get("x-kubernetes-group-version-kind")
            .and_then(Value::as_array)
        else {
            continue;
        };
        let is_object_meta = def
            .pointer("/properties/metadata/$ref")
            .and_then(Value::as_str)
            .is_some_and(|r| r.ends_with(".ObjectMeta"));
        if !is_object_meta {
            continue;
        }
        let Some(Named::Object(type_idx)) = named.get(name.as_str()) else {
            bail!("{name} is not an object")
        };
        for gvk in gvks {
            let group = gvk["group"].as_str().unwrap_or("");
            let kind = gvk["kind"].as_str().unwrap_or("");
            let version = gvk["version"].as_str().unwrap_or("").to_string();
            if SUBRESOURCE_KINDS.contains(&(group, kind)) {
                continue;
            }
            let Some(ov) = OVERLAY.iter().find(|o| o.0 == group && o.1 == kind) else {
                bail!("no overlay entry for {group}/{version} {kind}; add it to OVERLAY")
            };
            rows.push(Row {
                version,
                type_idx: *type_idx,
                ov,
            });
        }
    }
    rows.sort_by(|a, b| {
        (a.ov.0, a.ov.2, std::cmp::Reverse(version_rank(&a.version))).cmp(&(
            b.ov.0,
            b.ov.2,
            std::cmp::Reverse(version_rank(&b.version)),
        ))
    });
    let mut seen = BTreeSet::new();
    let mut out = String::new();
    writeln!(
        out,
        "/// Every served resource, per version, sorted by group, plural, preferred version first."
    )?;
    writeln!(
        out,
        "pub(crate) static RESOURCES: [ResourceInfo; {}] = [",
        rows.len()
    )?;
    for r in &rows {
        let (group, kind, plural, namespaced, short, cats, subs, verbs) = *r.ov;
        let preferred = seen.insert((group, plural));
        let singular = kind.to_lowercase();
        let version = &r.version;
        let ti = r.type_idx;
        writeln!(
            out,
            "ResourceInfo {{ group: {group:?}, version: {version:?}, kind: {kind:?}, plural: {plural:?}, singular: {singular:?}, namespaced: {namespaced}, verbs: &{verbs:?}, short_names: &{short:?}, categories: &{cats:?}, subresources: &{subs:?}, preferred: {preferred}, type_def: &T{ti} }},"
        )?;
    }
    out.push_str("];\n");
    Ok(out)
}
