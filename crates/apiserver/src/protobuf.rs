//! Protobuf request bodies (`application/vnd.kubernetes.protobuf`) for the kinds kubectl 1.32+
//! sends that way: the `k8s\0` + `runtime.Unknown` envelope and hand-written decoders to JSON
//! for ConfigMap, Secret, Namespace, ServiceAccount, the self-subject reviews, TokenRequest and
//! the RBAC kinds. Other kinds are refused with 415.

use crate::error::{ApiError, ApiResult};
use base64::Engine;
use serde_json::{Map, Value, json};

const MAGIC: &[u8] = b"k8s\0";

/// One decoded wire field.
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

struct Reader<'a> {
    buf: &'a [u8],
}

fn bad(what: &str) -> ApiError {
    ApiError::bad_request(format!("error decoding protobuf body: {what}"))
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> ApiResult<u64> {
        let mut out = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self
                .buf
                .split_first()
                .ok_or_else(|| bad("truncated varint"))?;
            self.buf = rest;
            out |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(out);
            }
        }
        Err(bad("varint too long"))
    }

    fn next(&mut self) -> ApiResult<Option<(u64, Field<'a>)>> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let tag = self.varint()?;
        let (num, wire) = (tag >> 3, tag & 7);
        let f = match wire {
            0 => Field::Varint(self.varint()?),
            2 => {
                let len = usize::try_from(self.varint()?).map_err(|_| bad("length overflow"))?;
                if len > self.buf.len() {
                    return Err(bad("truncated field"));
                }
                let (b, rest) = self.buf.split_at(len);
                self.buf = rest;
                Field::Bytes(b)
            }
            1 | 5 => {
                let n = if wire == 1 { 8 } else { 4 };
                if n > self.buf.len() {
                    return Err(bad("truncated fixed field"));
                }
                self.buf = &self.buf[n..];
                Field::Fixed
            }
            _ => return Err(bad("unsupported wire type")),
        };
        Ok(Some((num, f)))
    }
}

fn fields(buf: &[u8]) -> ApiResult<Vec<(u64, Field<'_>)>> {
    let mut r = Reader { buf };
    let mut out = Vec::new();
    while let Some(f) = r.next()? {
        out.push(f);
    }
    Ok(out)
}

fn text(b: &[u8]) -> ApiResult<String> {
    String::from_utf8(b.to_vec()).map_err(|_| bad("invalid UTF-8 string"))
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// A map entry `{1 key, 2 value}`; `bytes_value` base64-encodes the value.
fn map_entry(b: &[u8], bytes_value: bool) -> ApiResult<(String, String)> {
    let (mut k, mut v) = (String::new(), String::new());
    for (n, f) in fields(b)? {
        if let Field::Bytes(x) = f {
            match n {
                1 => k = text(x)?,
                2 => v = if bytes_value { b64(x) } else { text(x)? },
                _ => {}
            }
        }
    }
    Ok((k, v))
}

/// Builds a JSON object from string/bool/int fields by number, dropping empty values as
/// `omitempty` does (Go's encoder writes every non-pointer field).
fn simple(
    b: &[u8],
    strings: &[(u64, &str)],
    bools: &[(u64, &str)],
    ints: &[(u64, &str)],
) -> ApiResult<Map<String, Value>> {
    let mut m = Map::new();
    for (n, f) in fields(b)? {
        match f {
            Field::Bytes(x) => {
                if let Some((_, name)) = strings.iter().find(|(i, _)| *i == n) {
                    let s = text(x)?;
                    if !s.is_empty() {
                        m.insert(name.to_string(), json!(s));
                    }
                }
            }
            Field::Varint(v) => {
                if let Some((_, name)) = bools.iter().find(|(i, _)| *i == n) {
                    m.insert(name.to_string(), json!(v != 0));
                } else if let Some((_, name)) = ints.iter().find(|(i, _)| *i == n)
                    && v != 0
                {
                    m.insert(name.to_string(), json!(v as i64));
                }
            }
            Field::Fixed => {}
        }
    }
    Ok(m)
}

fn object_meta(b: &[u8]) -> ApiResult<Value> {
    let mut m = simple(
        b,
        &[
            (1, "name"),
            (2, "generateName"),
            (3, "namespace"),
            (5, "uid"),
            (6, "resourceVersion"),
        ],
        &[],
        &[(7, "generation")],
    )?;
    let (mut labels, mut annotations, mut finalizers, mut owners) =
        (Map::new(), Map::new(), Vec::new(), Vec::new());
    for (n, f) in fields(b)? {
        let Field::Bytes(x) = f else { continue };
        match n {
            11 => {
                let (k, v) = map_entry(x, false)?;
                labels.insert(k, json!(v));
            }
            12 => {
                let (k, v) = map_entry(x, false)?;
                annotations.insert(k, json!(v));
            }
            13 => owners.push(Value::Object(simple(
                x,
                &[(1, "kind"), (3, "name"), (4, "uid"), (5, "apiVersion")],
                &[(6, "controller"), (7, "blockOwnerDeletion")],
                &[],
            )?)),
            14 => finalizers.push(json!(text(x)?)),
            _ => {}
        }
    }
    for (k, v) in [
        ("labels", Value::Object(labels)),
        ("annotations", Value::Object(annotations)),
    ] {
        if v.as_object().is_some_and(|o| !o.is_empty()) {
            m.insert(k.into(), v);
        }
    }
    if !finalizers.is_empty() {
        m.insert("finalizers".into(), json!(finalizers));
    }
    if !owners.is_empty() {
        m.insert("ownerReferences".into(), json!(owners));
    }
    Ok(Value::Object(m))
}

fn decode_kind(kind: &str, raw: &[u8]) -> ApiResult<Option<Map<String, Value>>> {
    let mut out = Map::new();
    let mut maps: [(Map<String, Value>, &str); 3] = [
        (Map::new(), "data"),
        (Map::new(), "binaryData"),
        (Map::new(), "stringData"),
    ];
    let mut list_a: Vec<Value> = Vec::new();
    let mut list_b: Vec<Value> = Vec::new();
    let supported = matches!(
        kind,
        "ConfigMap"
            | "Secret"
            | "Namespace"
            | "ServiceAccount"
            | "SelfSubjectAccessReview"
            | "SelfSubjectRulesReview"
            | "SelfSubjectReview"
            | "TokenRequest"
            | "Role"
            | "ClusterRole"
            | "RoleBinding"
            | "ClusterRoleBinding"
    );
    if !supported {
        return Ok(None);
    }
    for (n, f) in fields(raw)? {
        match (kind, n, f) {
            (_, 1, Field::Bytes(x)) => {
                out.insert("metadata".into(), object_meta(x)?);
            }
            ("ConfigMap", 2, Field::Bytes(x)) => {
                let (k, v) = map_entry(x, false)?;
                maps[0].0.insert(k, json!(v));
            }
            ("ConfigMap", 3, Field::Bytes(x)) => {
                let (k, v) = map_entry(x, true)?;
                maps[1].0.insert(k, json!(v));
            }
            ("ConfigMap", 4, Field::Varint(v)) | ("Secret", 5, Field::Varint(v)) => {
                out.insert("immutable".into(), json!(v != 0));
            }
            ("Secret", 2, Field::Bytes(x)) => {
                let (k, v) = map_entry(x, true)?;
                maps[0].0.insert(k, json!(v));
            }
            ("Secret", 3, Field::Bytes(x)) => {
                let t = text(x)?;
                if !t.is_empty() {
                    out.insert("type".into(), json!(t));
                }
            }
            ("Secret", 4, Field::Bytes(x)) => {
                let (k, v) = map_entry(x, false)?;
                maps[2].0.insert(k, json!(v));
            }
            ("Namespace", 2, Field::Bytes(x)) => {
                let fins: Vec<Value> = fields(x)?
                    .into_iter()
                    .filter_map(|(n, f)| match (n, f) {
                        (1, Field::Bytes(s)) => Some(text(s).map(Value::String)),
                        _ => None,
                    })
                    .collect::<ApiResult<_>>()?;
                if !fins.is_empty() {
                    out.insert("spec".into(), json!({"finalizers": fins}));
                }
            }
            ("ServiceAccount", 2, Field::Bytes(x)) => list_a.push(Value::Object(simple(
                x,
                &[
                    (1, "kind"),
                    (2, "namespace"),
                    (3, "name"),
                    (4, "uid"),
                    (5, "apiVersion"),
                    (6, "resourceVersion"),
                    (7, "fieldPath"),
                ],
                &[],
                &[],
            )?)),
            ("ServiceAccount", 3, Field::Bytes(x)) => {
                list_b.push(Value::Object(simple(x, &[(1, "name")], &[], &[])?))
            }
            ("SelfSubjectAccessReview", 2, Field::Bytes(x)) => {
                let mut spec = Map::new();
                for (n, f) in fields(x)? {
                    let Field::Bytes(a) = f else { continue };
                    match n {
                        1 => {
                            let attrs = simple(
                                a,
                                &[
                                    (1, "namespace"),
                                    (2, "verb"),
                                    (3, "group"),
                                    (4, "version"),
                                    (5, "resource"),
                                    (6, "subresource"),
                                    (7, "name"),
                                ],
                                &[],
                                &[],
                            )?;
                            spec.insert("resourceAttributes".into(), Value::Object(attrs));
                        }
                        2 => {
                            let attrs = simple(a, &[(1, "path"), (2, "verb")], &[], &[])?;
                            spec.insert("nonResourceAttributes".into(), Value::Object(attrs));
                        }
                        _ => {}
                    }
                }
                out.insert("spec".into(), Value::Object(spec));
            }
            ("SelfSubjectRulesReview", 2, Field::Bytes(x)) => {
                out.insert(
                    "spec".into(),
                    Value::Object(simple(x, &[(1, "namespace")], &[], &[])?),
                );
            }
            ("TokenRequest", 2, Field::Bytes(x)) => {
                let mut spec = Map::new();
                let mut audiences = vec![];
                for (n, f) in fields(x)? {
                    match (n, f) {
                        (1, Field::Bytes(a)) => audiences.push(json!(text(a)?)),
                        (3, Field::Bytes(b)) => {
                            let r = simple(
                                b,
                                &[(1, "kind"), (2, "apiVersion"), (3, "name"), (4, "uid")],
                                &[],
                                &[],
                            )?;
                            spec.insert("boundObjectRef".into(), Value::Object(r));
                        }
                        (4, Field::Varint(v)) => {
                            spec.insert("expirationSeconds".into(), json!(v as i64));
                        }
                        _ => {}
                    }
                }
                if !audiences.is_empty() {
                    spec.insert("audiences".into(), json!(audiences));
                }
                out.insert("spec".into(), Value::Object(spec));
            }
            ("Role" | "ClusterRole", 2, Field::Bytes(x)) => list_a.push(policy_rule(x)?),
            ("ClusterRole", 3, Field::Bytes(x)) => {
                let mut selectors = vec![];
                for (n, f) in fields(x)? {
                    if let (1, Field::Bytes(sel)) = (n, f) {
                        selectors.push(label_selector(sel)?);
                    }
                }
                out.insert(
                    "aggregationRule".into(),
                    json!({"clusterRoleSelectors": selectors}),
                );
            }
            ("RoleBinding" | "ClusterRoleBinding", 2, Field::Bytes(x)) => {
                list_a.push(Value::Object(simple(
                    x,
                    &[(1, "kind"), (2, "apiGroup"), (3, "name"), (4, "namespace")],
                    &[],
                    &[],
                )?))
            }
            ("RoleBinding" | "ClusterRoleBinding", 3, Field::Bytes(x)) => {
                out.insert(
                    "roleRef".into(),
                    Value::Object(simple(
                        x,
                        &[(1, "apiGroup"), (2, "kind"), (3, "name")],
                        &[],
                        &[],
                    )?),
                );
            }
            ("ServiceAccount", 4, Field::Varint(v)) => {
                out.insert("automountServiceAccountToken".into(), json!(v != 0));
            }
            _ => {}
        }
    }
    for (m, name) in maps {
        if !m.is_empty() {
            out.insert(name.into(), Value::Object(m));
        }
    }
    match kind {
        "Role" | "ClusterRole" => {
            out.insert("rules".into(), json!(list_a));
        }
        "RoleBinding" | "ClusterRoleBinding" if !list_a.is_empty() => {
            out.insert("subjects".into(), json!(list_a));
        }
        _ if !list_a.is_empty() => {
            out.insert("secrets".into(), json!(list_a));
        }
        _ => {}
    }
    if !list_b.is_empty() {
        out.insert("imagePullSecrets".into(), json!(list_b));
    }
    Ok(Some(out))
}

/// An RBAC `PolicyRule`: 1 verbs, 2 apiGroups, 3 resources, 4 resourceNames, 5 nonResourceURLs
/// (all repeated strings; empty lists omitted except `verbs`).
fn policy_rule(b: &[u8]) -> ApiResult<Value> {
    let names = [
        "verbs",
        "apiGroups",
        "resources",
        "resourceNames",
        "nonResourceURLs",
    ];
    let mut lists: [Vec<Value>; 5] = Default::default();
    for (n, f) in fields(b)? {
        if let Field::Bytes(x) = f
            && (1..=5).contains(&n)
        {
            lists[(n - 1) as usize].push(json!(text(x)?));
        }
    }
    let mut m = Map::new();
    for (i, l) in lists.into_iter().enumerate() {
        if i == 0 || !l.is_empty() {
            m.insert(names[i].into(), Value::Array(l));
        }
    }
    Ok(Value::Object(m))
}

/// A `LabelSelector`: 1 matchLabels (map), 2 matchExpressions {1 key, 2 operator, 3 values}.
fn label_selector(b: &[u8]) -> ApiResult<Value> {
    let (mut labels, mut exprs) = (Map::new(), vec![]);
    for (n, f) in fields(b)? {
        let Field::Bytes(x) = f else { continue };
        match n {
            1 => {
                let (k, v) = map_entry(x, false)?;
                labels.insert(k, json!(v));
            }
            2 => {
                let mut e = simple(x, &[(1, "key"), (2, "operator")], &[], &[])?;
                let values: Vec<Value> = fields(x)?
                    .into_iter()
                    .filter_map(|(n, f)| match (n, f) {
                        (3, Field::Bytes(v)) => Some(text(v).map(Value::String)),
                        _ => None,
                    })
                    .collect::<ApiResult<_>>()?;
                if !values.is_empty() {
                    e.insert("values".into(), json!(values));
                }
                exprs.push(Value::Object(e));
            }
            _ => {}
        }
    }
    let mut m = Map::new();
    if !labels.is_empty() {
        m.insert("matchLabels".into(), Value::Object(labels));
    }
    if !exprs.is_empty() {
        m.insert("matchExpressions".into(), json!(exprs));
    }
    Ok(Value::Object(m))
}

/// Decodes a protobuf request body into the JSON object it stands for.
pub fn decode(body: &[u8]) -> ApiResult<Value> {
    let rest = body
        .strip_prefix(MAGIC)
        .ok_or_else(|| bad("missing k8s envelope prefix"))?;
    let (mut api_version, mut kind, mut raw): (String, String, &[u8]) =
        (String::new(), String::new(), &[]);
    for (n, f) in fields(rest)? {
        match (n, f) {
            (1, Field::Bytes(tm)) => {
                for (m, g) in fields(tm)? {
                    if let Field::Bytes(s) = g {
                        match m {
                            1 => api_version = text(s)?,
                            2 => kind = text(s)?,
                            _ => {}
                        }
                    }
                }
            }
            (2, Field::Bytes(r)) => raw = r,
            _ => {}
        }
    }
    match decode_kind(&kind, raw)? {
        Some(mut m) => {
            m.insert("apiVersion".into(), json!(api_version));
            m.insert("kind".into(), json!(kind));
            Ok(Value::Object(m))
        }
        None => Err(ApiError::unsupported_media_msg(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (protobuf bodies are decoded for ConfigMap, Secret, Namespace, ServiceAccount, TokenRequest, the RBAC kinds and the self-subject reviews only, not {kind}); workarounds: run kubectl.1.31 for generator commands, or `kubectl create ... --dry-run=client -o yaml | kubectl apply -f -`"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(n: u64, wire: u64) -> u8 {
        ((n << 3) | wire) as u8
    }

    fn ld(n: u64, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![tag(n, 2), payload.len() as u8];
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn decodes_a_configmap_envelope() {
        let meta = [
            ld(1, b"demo"),
            ld(2, b""),
            ld(11, &[ld(1, b"app"), ld(2, b"x")].concat()),
        ]
        .concat();
        let cm = [
            ld(1, &meta),
            ld(2, &[ld(1, b"a"), ld(2, b"1")].concat()),
            vec![tag(4, 0), 0],
        ]
        .concat();
        let tm = [ld(1, b"v1"), ld(2, b"ConfigMap")].concat();
        let body = [MAGIC.to_vec(), ld(1, &tm), ld(2, &cm)].concat();
        let v = decode(&body).unwrap();
        assert_eq!(
            v,
            json!({"metadata": {"name": "demo", "labels": {"app": "x"}}, "data": {"a": "1"}, "immutable": false, "apiVersion": "v1", "kind": "ConfigMap"})
        );
    }

    #[test]
    fn refuses_other_kinds_and_garbage() {
        let tm = [ld(1, b"apps/v1"), ld(2, b"Deployment")].concat();
        let body = [MAGIC.to_vec(), ld(1, &tm)].concat();
        assert_eq!(decode(&body).unwrap_err().code, 415);
        assert_eq!(decode(b"nope").unwrap_err().code, 400);
        assert_eq!(
            decode(&[MAGIC, &[0x0a, 0x40]].concat()).unwrap_err().code,
            400
        );
    }
}
