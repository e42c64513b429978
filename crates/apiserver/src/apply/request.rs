//! The REST side of an apply PATCH: query and body checks, and the objects handed to the
//! server's common update and create paths.

use super::path::FieldSet;
use super::{ApplyError, ApplyParams, apply, root_type, tracked};
use crate::error::{ApiError, ApiResult};
use crate::registry::ResourceInfo;
use serde_json::{Value, json};

/// The real server's answer to an apply without `?fieldManager=` (422).
pub const MANAGER_REQUIRED: &str = "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch";

/// A checked apply request.
#[derive(Debug, Clone)]
pub struct ApplyRequest {
    /// The applied configuration.
    pub config: Value,
    /// The field manager.
    pub manager: String,
    /// `?force=true`.
    pub force: bool,
}

/// The manager name kubectl uses for `apply --server-side`.
const KUBECTL: &str = "kubectl";

/// kubectl's client-side apply annotation.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

fn last_applied(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(LAST_APPLIED))
        .and_then(Value::as_str)
}

/// The annotation value for an applied configuration: the configuration without the
/// annotation itself, encoded as Go encodes unstructured objects (keys sorted, newline).
fn build_last_applied(config: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), sorted(&m[k])))
                        .collect(),
                )
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    let mut c = config.clone();
    if let Some(a) = c
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        a.shift_remove(LAST_APPLIED);
    }
    format!("{}\n", sorted(&c))
}

/// Go's `strconv.ParseBool`, which query booleans go through upstream.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

impl ApplyRequest {
    /// Checks the query (`fieldManager` required, `force` a boolean) and decodes the body (YAML
    /// or JSON), whose name must match the URL's.
    pub fn parse(
        body: &[u8],
        field_manager: Option<&str>,
        force: Option<&str>,
        url_name: &str,
    ) -> ApiResult<Self> {
        let manager = match field_manager {
            Some(m) if !m.is_empty() => m.to_string(),
            _ => return Err(ApiError::unprocessable(MANAGER_REQUIRED)),
        };
        let force = match force {
            None => false,
            Some(f) => parse_bool(f).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "failed to parse force query parameter {f:?}: invalid syntax"
                ))
            })?,
        };
        let config = crate::request::decode_yaml(body)?;
        if !config.is_object() {
            return Err(super::ApplyError::NotAnObject.into());
        }
        let body_name = config
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !body_name.is_empty() && body_name != url_name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({url_name})"
            )));
        }
        Ok(Self {
            config,
            manager,
            force,
        })
    }

    /// Whether every conflict lies inside the fields of the live object's client-side
    /// `last-applied-configuration`: then kubectl's own server-side apply may take them over,
    /// which is how the real server lets `kubectl apply --server-side` follow a client-side
    /// apply of the same object.
    fn conflicts_allowed_by_last_applied(
        &self,
        cur: &Value,
        conflicts: &[super::Conflict],
        ri: &ResourceInfo,
        sub: Option<&str>,
    ) -> bool {
        if self.manager != KUBECTL {
            return false;
        }
        let Some(last) = last_applied(cur)
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
            .filter(Value::is_object)
        else {
            return false;
        };
        let mut allowed = FieldSet::new();
        super::merge::to_field_set(
            &tracked(&last, sub, ri.has_status()),
            root_type(ri),
            &mut Vec::new(),
            &mut allowed,
        );
        conflicts.iter().all(|c| allowed.contains(&c.path))
    }

    fn params<'a>(
        &'a self,
        ri: &'a ResourceInfo,
        api_version: &'a str,
        sub: Option<&'a str>,
        now: &'a str,
    ) -> ApplyParams<'a> {
        ApplyParams {
            manager: &self.manager,
            api_version,
            subresource: sub,
            force: self.force,
            has_status: ri.has_status(),
            now,
        }
    }

    /// The new object for an existing one (the PATCH transform). When no entry is left, the
    /// result carries `managedFields: [{}]`, which the update path reads as "clear them all"
    /// (an absent list would keep the stored entries).
    pub fn patch(&self, cur: &Value, ri: &ResourceInfo, sub: Option<&str>) -> ApiResult<Value> {
        let ns_of = |o: &Value| {
            o.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let body_ns = ns_of(&self.config);
        if ri.namespaced && !body_ns.is_empty() && body_ns != ns_of(cur) {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        let now = crate::util::now_rfc3339();
        let api_version = ri.api_version();
        let params = self.params(ri, &api_version, sub, &now);
        let mut out = match apply(Some(cur), &self.config, root_type(ri), &params) {
            Err(ApplyError::Conflicts(cs))
                if self.conflicts_allowed_by_last_applied(cur, &cs, ri, sub) =>
            {
                let forced = ApplyParams {
                    force: true,
                    ..params
                };
                apply(Some(cur), &self.config, root_type(ri), &forced)?
            }
            r => r?,
        };
        // kubectl's server-side applies keep an existing client-side annotation in step with
        // what was applied, so a later client-side apply computes the right patch.
        if self.manager == KUBECTL && last_applied(cur).is_some_and(|s| !s.is_empty()) {
            let meta = crate::util::meta_mut(&mut out);
            if !meta.get("annotations").is_some_and(Value::is_object) {
                meta.insert("annotations".into(), json!({}));
            }
            meta["annotations"][LAST_APPLIED] = json!(build_last_applied(&self.config));
        }
        if out.pointer("/metadata/managedFields").is_none() {
            crate::util::meta_mut(&mut out).insert("managedFields".into(), json!([{}]));
        }
        Ok(out)
    }

    /// The object to create when the target does not exist, with its managedFields; it then
    /// goes through the create path like a POST body.
    pub fn create(&self, ri: &ResourceInfo, name: &str) -> ApiResult<Value> {
        let now = crate::util::now_rfc3339();
        let api_version = ri.api_version();
        let mut out = apply(
            None,
            &self.config,
            root_type(ri),
            &self.params(ri, &api_version, None, &now),
        )?;
        let meta = crate::util::meta_mut(&mut out);
        meta.entry("name").or_insert_with(|| json!(name));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_body_checks() {
        let body = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}"#;
        let e = ApplyRequest::parse(body, None, None, "x").unwrap_err();
        assert_eq!((e.code, e.message.as_str()), (422, MANAGER_REQUIRED));
        let e = ApplyRequest::parse(body, Some("m"), None, "y").unwrap_err();
        assert_eq!(e.code, 400);
        assert!(
            e.message.contains("does not match the name on the URL (y)"),
            "{}",
            e.message
        );
        let e = ApplyRequest::parse(body, Some("m"), Some("maybe"), "x").unwrap_err();
        assert_eq!(e.code, 400);
        let yaml = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: \"1\"\n";
        let r = ApplyRequest::parse(yaml, Some("m"), Some("true"), "x").unwrap();
        assert!(r.force);
        assert_eq!(r.config["data"]["a"], "1");
    }

    #[test]
    fn last_applied_annotation_encoding() {
        let cfg = json!({"kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"name": "x", "annotations": {LAST_APPLIED: "old", "z": "1"}}, "data": {"b": "2", "a": "1"}});
        assert_eq!(
            build_last_applied(&cfg),
            "{\"apiVersion\":\"v1\",\"data\":{\"a\":\"1\",\"b\":\"2\"},\"kind\":\"ConfigMap\",\"metadata\":{\"annotations\":{\"z\":\"1\"},\"name\":\"x\"}}\n"
        );
    }
}
