//! CustomResourceDefinitions: validation and defaulting of the CRD itself, its status
//! (NamesAccepted/Established, acceptedNames, storedVersions) and turning established CRDs into
//! served resources.

use crate::error::{ApiError, ApiResult, Cause, cause};
use crate::registry::{CrdVersionInfo, ResourceInfo, ScalePaths, Subresource};
use crate::server::Api;
use crate::util::{meta_mut, meta_str, now_rfc3339};
use serde_json::{Value, json};
use std::sync::Arc;

/// The finalizer that makes CRD deletion remove its objects first.
pub const CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

fn dns1035(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Validates and defaults a CRD on create/update (422 with causes on failure).
pub fn admit_crd(obj: &mut Value) -> ApiResult<()> {
    let name = meta_str(obj, "name").to_string();
    let mut causes: Vec<Cause> = Vec::new();
    let spec = obj.get_mut("spec").filter(|s| s.is_object());
    let Some(spec) = spec else {
        return Err(ApiError::invalid(
            "CustomResourceDefinition",
            "apiextensions.k8s.io",
            &name,
            vec![cause("FieldValueRequired", "spec", "Required value")],
        ));
    };
    let group = spec
        .get("group")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if group.is_empty() {
        causes.push(cause("FieldValueRequired", "spec.group", "Required value"));
    } else if !group.contains('.') {
        causes.push(cause(
            "FieldValueInvalid",
            "spec.group",
            format!("Invalid value: \"{group}\": should be a domain with at least one dot"),
        ));
    }
    if let Some(names) = spec.get_mut("names").and_then(Value::as_object_mut) {
        let kind = names
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if !names.contains_key("singular") && !kind.is_empty() {
            names.insert("singular".into(), json!(kind.to_lowercase()));
        }
        if !names.contains_key("listKind") && !kind.is_empty() {
            names.insert("listKind".into(), json!(format!("{kind}List")));
        }
    }
    let names = spec.get("names").cloned().unwrap_or(json!({}));
    let s = |k: &str| {
        names
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let plural = s("plural");
    if !dns1035(&plural) {
        causes.push(cause("FieldValueInvalid", "spec.names.plural", format!("Invalid value: \"{plural}\": a DNS-1035 label must consist of lower case alphanumeric characters or '-'")));
    }
    let singular = s("singular");
    if !dns1035(&singular) {
        causes.push(cause("FieldValueInvalid", "spec.names.singular", format!("Invalid value: \"{singular}\": a DNS-1035 label must consist of lower case alphanumeric characters or '-'")));
    }
    if s("kind").is_empty() {
        causes.push(cause(
            "FieldValueRequired",
            "spec.names.kind",
            "Required value",
        ));
    }
    if name != format!("{plural}.{group}") {
        causes.push(cause(
            "FieldValueInvalid",
            "metadata.name",
            format!("Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"),
        ));
    }
    let scope = spec.get("scope").and_then(Value::as_str).unwrap_or("");
    if scope != "Namespaced" && scope != "Cluster" {
        causes.push(cause(
            "FieldValueNotSupported",
            "spec.scope",
            format!(
                "Unsupported value: \"{scope}\": supported values: \"Cluster\", \"Namespaced\""
            ),
        ));
    }
    if spec.get("conversion").is_none() {
        spec["conversion"] = json!({"strategy": "None"});
    }
    if spec.pointer("/conversion/strategy").and_then(Value::as_str) == Some("Webhook") {
        causes.push(cause(
            "FieldValueForbidden",
            "spec.conversion.strategy",
            "Forbidden: webhook conversion is not supported by this server",
        ));
    }
    let versions = spec
        .get("versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if versions.is_empty() {
        causes.push(cause(
            "FieldValueRequired",
            "spec.versions",
            "Required value: must have exactly one version marked as storage version",
        ));
    }
    let mut seen = Vec::new();
    let mut storage = 0;
    for (i, v) in versions.iter().enumerate() {
        let vname = v.get("name").and_then(Value::as_str).unwrap_or("");
        if seen.contains(&vname) {
            causes.push(cause(
                "FieldValueDuplicate",
                &format!("spec.versions[{i}].name"),
                format!("Duplicate value: \"{vname}\""),
            ));
        }
        seen.push(vname);
        if v.get("storage").and_then(Value::as_bool) == Some(true) {
            storage += 1;
        }
        match v.pointer("/schema/openAPIV3Schema") {
            None => causes.push(cause(
                "FieldValueRequired",
                &format!("spec.versions[{i}].schema.openAPIV3Schema"),
                "Required value: schemas are required",
            )),
            Some(sc) => causes.extend(crate::structural::check_structural(
                sc,
                &format!("spec.versions[{i}].schema.openAPIV3Schema"),
            )),
        }
    }
    if !versions.is_empty() && storage != 1 {
        causes.push(cause(
            "FieldValueInvalid",
            "spec.versions",
            format!(
                "Invalid value: {}: must have exactly one version marked as storage version",
                json!(
                    versions
                        .iter()
                        .map(|v| v["name"].clone())
                        .collect::<Vec<_>>()
                )
            ),
        ));
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "CustomResourceDefinition",
            "apiextensions.k8s.io",
            &name,
            causes,
        ))
    }
}

/// Sets (or replaces) a condition in `status.conditions`, keeping `lastTransitionTime` when the
/// status does not change.
pub fn set_condition(obj: &mut Value, ctype: &str, status: &str, reason: &str, message: &str) {
    if !obj.get("status").is_some_and(Value::is_object) {
        obj["status"] = json!({});
    }
    let st = &mut obj["status"];
    if !st.get("conditions").is_some_and(Value::is_array) {
        st["conditions"] = json!([]);
    }
    let conds = st["conditions"].as_array_mut().expect("conditions array");
    let now = now_rfc3339();
    match conds.iter_mut().find(|c| c["type"] == ctype) {
        Some(c) => {
            if c["status"] != status {
                c["lastTransitionTime"] = json!(now);
            }
            c["status"] = json!(status);
            c["reason"] = json!(reason);
            c["message"] = json!(message);
        }
        None => conds.push(json!({"type": ctype, "status": status, "lastTransitionTime": now, "reason": reason, "message": message})),
    }
}

fn storage_version(obj: &Value) -> Option<String> {
    obj.pointer("/spec/versions")?
        .as_array()?
        .iter()
        .find(|v| v["storage"] == json!(true))
        .and_then(|v| v["name"].as_str())
        .map(String::from)
}

/// Name-conflict check against the other CRDs of the same group.
fn conflict(api: &Api, obj: &Value) -> Option<(&'static str, String)> {
    let name = meta_str(obj, "name");
    let group = obj
        .pointer("/spec/group")
        .and_then(Value::as_str)
        .unwrap_or("");
    let names = obj.pointer("/spec/names").cloned().unwrap_or(json!({}));
    let (_, crds) = api
        .store
        .list("apiextensions.k8s.io", "customresourcedefinitions", None);
    for other in crds.iter().filter(|o| meta_str(o, "name") != name) {
        if other.pointer("/spec/group").and_then(Value::as_str) != Some(group) {
            continue;
        }
        let on = other
            .pointer("/status/acceptedNames")
            .cloned()
            .unwrap_or(json!({}));
        for (field, reason) in [
            ("plural", "PluralConflict"),
            ("singular", "SingularConflict"),
            ("kind", "KindConflict"),
            ("listKind", "ListKindConflict"),
        ] {
            if names.get(field).is_some() && names.get(field) == on.get(field) {
                return Some((
                    reason,
                    format!(
                        "\"{}\" is already in use",
                        names[field].as_str().unwrap_or("")
                    ),
                ));
            }
        }
        let mine: Vec<&Value> = names
            .get("shortNames")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        if let Some(s) = on
            .get("shortNames")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().find(|s| mine.contains(s)))
        {
            return Some(("ShortNamesConflict", format!("{s} is already in use")));
        }
    }
    None
}

fn compute_status(api: &Api, obj: &mut Value) {
    let found = conflict(api, obj);
    compute_status_with(obj, found);
}

/// Status from a name-conflict result computed by the caller.
fn compute_status_with(obj: &mut Value, found: Option<(&'static str, String)>) {
    let stored: Vec<Value> = obj
        .pointer("/status/storedVersions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut stored = stored;
    if let Some(sv) = storage_version(obj)
        && !stored.contains(&json!(sv))
    {
        stored.push(json!(sv));
    }
    match found {
        Some((reason, msg)) => {
            set_condition(obj, "NamesAccepted", "False", reason, &msg);
            let established = obj
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .is_some_and(|a| {
                    a.iter()
                        .any(|c| c["type"] == "Established" && c["status"] == "True")
                });
            if !established {
                set_condition(
                    obj,
                    "Established",
                    "False",
                    "NotAccepted",
                    "not all names are accepted",
                );
            }
        }
        None => {
            obj["status"]["acceptedNames"] =
                obj.pointer("/spec/names").cloned().unwrap_or(json!({}));
            set_condition(
                obj,
                "NamesAccepted",
                "True",
                "NoConflicts",
                "no conflicts found",
            );
            set_condition(
                obj,
                "Established",
                "True",
                "InitialNamesAccepted",
                "the initial names have been accepted",
            );
        }
    }
    obj["status"]["storedVersions"] = json!(stored);
}

/// Create hook: finalizer and status, in the same write as the object.
pub fn on_create(api: &Api, obj: &mut Value) {
    let m = meta_mut(obj);
    let fins = m.entry("finalizers").or_insert(json!([]));
    if let Some(a) = fins.as_array_mut()
        && !a.iter().any(|f| f == CLEANUP_FINALIZER)
    {
        a.push(json!(CLEANUP_FINALIZER));
    }
    obj["status"] = json!({});
    compute_status(api, obj);
}

/// Update hook: recompute status after a spec change.
///
/// Runs inside the store's write lock, so it must not read other objects (that deadlocked
/// every CRD update): the name check against other CRDs happens at create time; an update
/// that keeps its group and names keeps the accepted names and conditions it has, and one that
/// changes them is accepted without the check.
pub fn on_update(_api: &Api, cur: &Value, obj: &mut Value) {
    if obj.pointer("/metadata/deletionTimestamp").is_some() {
        return;
    }
    let same = |p: &str| cur.pointer(p) == obj.pointer(p);
    let accepted = cur.pointer("/status/acceptedNames").is_some();
    if same("/spec/group") && same("/spec/names") && accepted {
        let status = cur.get("status").cloned().unwrap_or(json!({}));
        let mut stored = status.get("storedVersions").cloned();
        obj["status"] = status;
        if let Some(sv) = storage_version(obj) {
            let list = stored.get_or_insert_with(|| json!([]));
            if let Some(a) = list.as_array_mut()
                && !a.contains(&json!(sv))
            {
                a.push(json!(sv));
            }
        }
        obj["status"]["storedVersions"] = stored.unwrap_or(json!([]));
    } else {
        compute_status_with(obj, None);
    }
}

/// Whether the named CRD is being deleted.
pub fn is_terminating(api: &Api, crd_name: &str) -> bool {
    api.store
        .get(&crate::store::ObjKey::new(
            "apiextensions.k8s.io",
            "customresourcedefinitions",
            "",
            crd_name,
        ))
        .is_some_and(|c| c.pointer("/metadata/deletionTimestamp").is_some())
}

/// Rebuilds the registry's custom resources from the stored, established CRDs.
pub fn refresh_registry(api: &Api) {
    let (_, crds) = api
        .store
        .list("apiextensions.k8s.io", "customresourcedefinitions", None);
    let mut out = Vec::new();
    for crd in crds {
        let established = crd
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|a| {
                a.iter()
                    .any(|c| c["type"] == "Established" && c["status"] == "True")
            });
        if !established {
            continue;
        }
        out.extend(resources_of(&crd));
    }
    api.registry.set_custom(out);
}

fn strs(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The served resources of one CRD, one per served version.
pub fn resources_of(crd: &Value) -> Vec<ResourceInfo> {
    let spec = &crd["spec"];
    let group = spec["group"].as_str().unwrap_or("").to_string();
    let names = crd
        .pointer("/status/acceptedNames")
        .filter(|n| n.get("plural").is_some())
        .unwrap_or(&spec["names"]);
    let plural = names["plural"].as_str().unwrap_or("").to_string();
    let kind = names["kind"].as_str().unwrap_or("").to_string();
    let singular = names["singular"]
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| kind.to_lowercase());
    let storage = storage_version(crd).unwrap_or_default();
    let mut out = Vec::new();
    for v in spec["versions"].as_array().cloned().unwrap_or_default() {
        if v["served"] != json!(true) {
            continue;
        }
        let version = v["name"].as_str().unwrap_or("").to_string();
        let mut subresources = Vec::new();
        if v.pointer("/subresources/status").is_some() {
            subresources.push(Subresource {
                name: "status".into(),
                group: group.clone(),
                version: version.clone(),
                kind: kind.clone(),
                verbs: vec!["get".into(), "patch".into(), "update".into()],
            });
        }
        let scale = v.pointer("/subresources/scale").map(|s| ScalePaths {
            spec_replicas: s["specReplicasPath"]
                .as_str()
                .unwrap_or(".spec.replicas")
                .into(),
            status_replicas: s["statusReplicasPath"]
                .as_str()
                .unwrap_or(".status.replicas")
                .into(),
            label_selector: s["labelSelectorPath"].as_str().map(String::from),
        });
        if scale.is_some() {
            subresources.push(Subresource {
                name: "scale".into(),
                group: "autoscaling".into(),
                version: "v1".into(),
                kind: "Scale".into(),
                verbs: vec!["get".into(), "patch".into(), "update".into()],
            });
        }
        let selectable = v["selectableFields"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f["jsonPath"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        out.push(ResourceInfo {
            group: group.clone(),
            version: version.clone(),
            kind: kind.clone(),
            plural: plural.clone(),
            singular: singular.clone(),
            namespaced: spec["scope"] == "Namespaced",
            verbs: crate::builtin::ALL_VERBS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            short_names: strs(names.get("shortNames")),
            categories: strs(names.get("categories")),
            subresources,
            generation: true,
            crd: Some(Arc::new(CrdVersionInfo {
                crd_name: meta_str(crd, "name").to_string(),
                schema: v
                    .pointer("/schema/openAPIV3Schema")
                    .cloned()
                    .unwrap_or(json!({"type": "object"})),
                printer_columns: v["additionalPrinterColumns"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
                storage_version: storage.clone(),
                scale,
                selectable_fields: selectable,
            })),
        });
    }
    out
}
