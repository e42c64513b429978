//! Host objects Helm exposes to templates: `.Files` (with `Get`, `GetBytes`, `Glob`, `Lines`,
//! `AsConfig`, `AsSecrets`) and `.Capabilities` (`KubeVersion`, `APIVersions.Has`, `HelmVersion`).

use gotemplate::{FuncError, Map, Object, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Helm's version information, as `helm version` prints it for v4.1.4.
pub const HELM_VERSION: &str = "v4.1.4";
const HELM_GIT_COMMIT: &str = "05fa37973dc9e42b76e1d2883494c87174b6074f";
const HELM_GO_VERSION: &str = "go1.25.9";
const HELM_KUBE_CLIENT_VERSION: &str = "v1.35";

/// The group/versions Helm v4.1.4 reports by default (its client-go scheme), in its order.
pub const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "autoscaling/v2beta1",
    "autoscaling/v2beta2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1",
    "resource.k8s.io/v1beta2",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha1",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];

/// `.Capabilities.KubeVersion`.
#[derive(Debug, Clone, PartialEq)]
pub struct KubeVersion {
    /// `Version` (the git version, `v` prefixed as given).
    pub version: String,
    /// What `String()` returns and constraints are checked against.
    pub normalized: String,
    /// `Major`.
    pub major: String,
    /// `Minor`.
    pub minor: String,
}

impl Default for KubeVersion {
    fn default() -> Self {
        KubeVersion {
            version: "v1.35.0".into(),
            normalized: "v1.35.0".into(),
            major: "1".into(),
            minor: "35".into(),
        }
    }
}

impl KubeVersion {
    /// Helm's `ParseKubeVersion` (k8s generic version parsing: `1.29`, `v1.30.2-gke.1`).
    pub fn parse(s: &str) -> Result<KubeVersion, String> {
        let body = s.trim().strip_prefix('v').unwrap_or(s.trim());
        let end = body
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(body.len());
        let core = &body[..end];
        let rest = &body[end..];
        let parts: Vec<&str> = core.split('.').collect();
        let valid = parts.len() >= 2
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.parse::<u64>().is_ok())
            && (rest.is_empty() || rest.starts_with('-') || rest.starts_with('+'));
        if !valid {
            return Err(format!("could not parse {s:?} as version"));
        }
        let nums: Vec<u64> = parts.iter().map(|p| p.parse().unwrap_or(0)).collect();
        let generic: Vec<String> = nums.iter().map(u64::to_string).collect();
        Ok(KubeVersion {
            version: if s.starts_with('v') {
                s.to_string()
            } else {
                format!("v{s}")
            },
            normalized: format!("v{}", generic.join(".")),
            major: nums[0].to_string(),
            minor: nums[1].to_string(),
        })
    }
}

impl Object for KubeVersion {
    fn type_name(&self) -> String {
        "common.KubeVersion".into()
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Version" => Some(Value::str(self.version.as_str())),
            "Major" => Some(Value::str(self.major.as_str())),
            "Minor" => Some(Value::str(self.minor.as_str())),
            "GitVersion" => Some(Value::str(self.version.as_str())),
            "String" => Some(Value::str(self.normalized.as_str())),
            _ => None,
        }
    }
    /// `String()` has a pointer receiver: only a directly printed field uses it.
    fn action_display(&self) -> String {
        self.normalized.clone()
    }
    fn display(&self) -> String {
        format!(
            "{{{} {} {} {}}}",
            self.version, self.normalized, self.major, self.minor
        )
    }
    fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("Version".into(), Value::str(self.version.as_str()));
        m.insert("Major".into(), Value::str(self.major.as_str()));
        m.insert("Minor".into(), Value::str(self.minor.as_str()));
        Value::map(m)
    }
}

/// `.Capabilities.APIVersions` (a `VersionSet` with `Has`).
#[derive(Debug, Clone)]
pub struct ApiVersions(pub Vec<String>);

impl Object for ApiVersions {
    fn type_name(&self) -> String {
        "common.VersionSet".into()
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    fn has_method(&self, name: &str) -> bool {
        name == "Has"
    }
    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, FuncError>> {
        if name != "Has" {
            return None;
        }
        Some(match args {
            [v] => Ok(Value::Bool(
                v.as_str().is_some_and(|s| self.0.iter().any(|x| x == s)),
            )),
            _ => Err(FuncError::new(format!(
                "wrong number of args for Has: want 1 got {}",
                args.len()
            ))),
        })
    }
    fn collection(&self) -> Option<Value> {
        // VersionSet is a named []string: len, index and range see the list.
        Some(Value::string_list(self.0.clone()))
    }
    fn to_value(&self) -> Value {
        Value::string_list(self.0.clone())
    }
    fn truth(&self) -> bool {
        !self.0.is_empty()
    }
}

/// `.Capabilities.HelmVersion`.
#[derive(Debug, Clone)]
pub struct HelmVersion;

impl Object for HelmVersion {
    fn type_name(&self) -> String {
        "version.BuildInfo".into()
    }
    fn field(&self, name: &str) -> Option<Value> {
        Some(Value::str(match name {
            "Version" => HELM_VERSION,
            "GitCommit" => HELM_GIT_COMMIT,
            "GitTreeState" => "clean",
            "GoVersion" => HELM_GO_VERSION,
            "KubeClientVersion" => HELM_KUBE_CLIENT_VERSION,
            _ => return None,
        }))
    }
    fn display(&self) -> String {
        format!(
            "{{{HELM_VERSION} {HELM_GIT_COMMIT} clean {HELM_GO_VERSION} {HELM_KUBE_CLIENT_VERSION}}}"
        )
    }
    fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("version".into(), Value::str(HELM_VERSION));
        m.insert("git_commit".into(), Value::str(HELM_GIT_COMMIT));
        m.insert("git_tree_state".into(), Value::str("clean"));
        m.insert("go_version".into(), Value::str(HELM_GO_VERSION));
        m.insert(
            "kube_client_version".into(),
            Value::str(HELM_KUBE_CLIENT_VERSION),
        );
        Value::map(m)
    }
}

/// `.Capabilities`.
#[derive(Debug, Clone)]
pub struct Capabilities {
    /// `KubeVersion`.
    pub kube_version: KubeVersion,
    /// `APIVersions`.
    pub api_versions: Vec<String>,
}

impl Default for Capabilities {
    fn default() -> Self {
        Capabilities {
            kube_version: KubeVersion::default(),
            api_versions: DEFAULT_API_VERSIONS.iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl Object for Capabilities {
    fn type_name(&self) -> String {
        "*common.Capabilities".into()
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "KubeVersion" => Some(Value::Object(Arc::new(self.kube_version.clone()))),
            "APIVersions" => Some(Value::Object(Arc::new(ApiVersions(
                self.api_versions.clone(),
            )))),
            "HelmVersion" => Some(Value::Object(Arc::new(HelmVersion))),
            _ => None,
        }
    }
    fn display(&self) -> String {
        format!(
            "&{{{} {} {}}}",
            self.kube_version.display(),
            ApiVersions(self.api_versions.clone()).display(),
            HelmVersion.display()
        )
    }
    fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("KubeVersion".into(), self.kube_version.to_value());
        m.insert(
            "APIVersions".into(),
            Value::string_list(self.api_versions.clone()),
        );
        m.insert("HelmVersion".into(), HelmVersion.to_value());
        Value::map(m)
    }
}

/// `.Files`: the chart's non-template files by path.
#[derive(Debug, Clone, Default)]
pub struct Files(pub Arc<BTreeMap<String, Arc<[u8]>>>);

fn to_yaml(v: &Value) -> String {
    gotemplate::helm_funcs::to_yaml(v)
}

impl Files {
    fn glob(&self, pattern: &str) -> Files {
        let m: BTreeMap<String, Arc<[u8]>> = self
            .0
            .iter()
            .filter(|(k, _)| glob_match(pattern, k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Files(Arc::new(m))
    }

    fn base_map(&self, f: impl Fn(&[u8]) -> String) -> Value {
        let mut m = Map::new();
        for (k, v) in self.0.iter() {
            let base = k.rsplit('/').next().unwrap_or(k);
            m.insert(base.to_string(), Value::str(f(v)));
        }
        Value::map(m)
    }
}

impl Object for Files {
    fn type_name(&self) -> String {
        "engine.files".into()
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    fn has_method(&self, name: &str) -> bool {
        matches!(
            name,
            "Get" | "GetBytes" | "Glob" | "Lines" | "AsConfig" | "AsSecrets"
        )
    }
    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, FuncError>> {
        let arg = |i: usize| -> Result<String, FuncError> {
            match args.get(i) {
                Some(Value::String(s)) => Ok(s.to_string()),
                Some(other) => Err(FuncError::new(format!(
                    "wrong type for value; expected string; got {}",
                    other.type_name()
                ))),
                None => Err(FuncError::new(format!(
                    "wrong number of args for {name}: want 1 got 0"
                ))),
            }
        };
        Some((|| -> Result<Value, FuncError> {
            Ok(match name {
                "Get" => {
                    let p = arg(0)?;
                    Value::str(
                        self.0
                            .get(&p)
                            // Go's string(bytes): every byte kept (see gotemplate::gostr).
                            .map(|d| gotemplate::gostr::from_go_slice(d).into_owned())
                            .unwrap_or_default(),
                    )
                }
                "GetBytes" => {
                    let p = arg(0)?;
                    Value::Bytes(
                        self.0
                            .get(&p)
                            .cloned()
                            .unwrap_or_else(|| Arc::from(Vec::new())),
                    )
                }
                "Glob" => Value::Object(Arc::new(self.glob(&arg(0)?))),
                "Lines" => {
                    let p = arg(0)?;
                    match self.0.get(&p) {
                        None => Value::string_list(Vec::new()),
                        Some(d) => {
                            let s = gotemplate::gostr::from_go_slice(d);
                            let s = s.strip_suffix('\n').unwrap_or(&s);
                            Value::string_list(s.split('\n').map(str::to_string).collect())
                        }
                    }
                }
                "AsConfig" => Value::str(to_yaml(
                    // toYaml goes through JSON, which turns invalid bytes into U+FFFD.
                    &self.base_map(|d| gotemplate::gostr::from_go_slice(d).into_owned()),
                )),
                // Helm's Files is never nil here, so even an empty set renders as `{}`.
                "AsSecrets" => {
                    Value::str(to_yaml(&self.base_map(gotemplate::encoding::b64_encode)))
                }
                _ => return Err(FuncError::new(format!("can't evaluate field {name}"))),
            })
        })())
    }
    fn collection(&self) -> Option<Value> {
        // engine.files is a named map[string][]byte: len, index and range see the map.
        Some(self.to_value())
    }
    fn to_value(&self) -> Value {
        Value::map(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), Value::Bytes(v.clone())))
                .collect(),
        )
    }
    fn truth(&self) -> bool {
        !self.0.is_empty()
    }
}

/// gobwas/glob matching with `/` as separator: `*` stays within a segment, `**` crosses them,
/// `?`, `[abc]`, `[!a-z]`, `{a,b}` alternatives, `\` escapes.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    glob_rec(&p, &n)
}

fn glob_rec(p: &[char], n: &[char]) -> bool {
    if p.is_empty() {
        return n.is_empty();
    }
    match p[0] {
        '*' => {
            let super_star = p.get(1) == Some(&'*');
            let rest = if super_star { &p[2..] } else { &p[1..] };
            for i in 0..=n.len() {
                if glob_rec(rest, &n[i..]) {
                    return true;
                }
                if i < n.len() && !super_star && n[i] == '/' {
                    return false;
                }
            }
            false
        }
        '?' => !n.is_empty() && n[0] != '/' && glob_rec(&p[1..], &n[1..]),
        '\\' if p.len() > 1 => !n.is_empty() && n[0] == p[1] && glob_rec(&p[2..], &n[1..]),
        '[' => {
            let Some(close) = p.iter().skip(1).position(|&c| c == ']').map(|i| i + 1) else {
                return !n.is_empty() && n[0] == '[' && glob_rec(&p[1..], &n[1..]);
            };
            if n.is_empty() {
                return false;
            }
            let class = &p[1..close];
            let (neg, class) = match class.first() {
                Some('!') => (true, &class[1..]),
                _ => (false, class),
            };
            let c = n[0];
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == '-' {
                    hit |= class[i] <= c && c <= class[i + 2];
                    i += 3;
                } else {
                    hit |= class[i] == c;
                    i += 1;
                }
            }
            hit != neg && glob_rec(&p[close + 1..], &n[1..])
        }
        '{' => {
            // Split the alternatives at top-level commas up to the matching '}'.
            let mut depth = 0;
            let mut end = None;
            let mut alts: Vec<&[char]> = Vec::new();
            let mut start = 1;
            for (i, &c) in p.iter().enumerate().skip(1) {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        alts.push(&p[start..i]);
                        end = Some(i);
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        alts.push(&p[start..i]);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            let Some(end) = end else {
                return !n.is_empty() && n[0] == '{' && glob_rec(&p[1..], &n[1..]);
            };
            alts.iter().any(|a| {
                let mut joined: Vec<char> = a.to_vec();
                joined.extend_from_slice(&p[end + 1..]);
                glob_rec(&joined, n)
            })
        }
        c => !n.is_empty() && n[0] == c && glob_rec(&p[1..], &n[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gobwas_globs() {
        assert!(glob_match("conf/*.ini", "conf/app.ini"));
        assert!(!glob_match("conf/*.ini", "conf/x/app.ini"));
        assert!(glob_match("conf/**", "conf/nested/deep.txt"));
        assert!(glob_match("**", ".helmignore"));
        assert!(glob_match("*.{ini,txt}", "a.txt"));
        assert!(glob_match("[a-c]?.ini", "b1.ini"));
        assert!(!glob_match("[!a-c]?.ini", "b1.ini"));
    }

    #[test]
    fn kube_version_parsing() {
        let k = KubeVersion::parse("1.29").unwrap();
        assert_eq!(
            (k.version.as_str(), k.normalized.as_str(), k.minor.as_str()),
            ("v1.29", "v1.29", "29")
        );
        let k = KubeVersion::parse("v1.30.2-gke.1").unwrap();
        assert_eq!(k.normalized, "v1.30.2");
        assert!(KubeVersion::parse("abc").is_err());
    }

    #[test]
    fn kube_version_prints_string_only_when_printed_directly() {
        let caps = Capabilities {
            kube_version: KubeVersion::parse("v1.30.2-gke.1").unwrap(),
            ..Default::default()
        };
        let mut m = Map::new();
        m.insert("Capabilities".into(), Value::Object(Arc::new(caps)));
        let data = Value::map(m);
        let mut set = gotemplate::TemplateSet::new();
        set.add_functions(gotemplate::helm_functions());
        let text = concat!(
            "{{ .Capabilities.KubeVersion }}|",
            "{{ $k := .Capabilities.KubeVersion }}{{ $k }}|",
            "{{ with .Capabilities.KubeVersion }}{{ . }}{{ end }}|",
            "{{ print .Capabilities.KubeVersion }}|",
            "{{ .Capabilities.KubeVersion | quote }}|",
            "{{ .Capabilities.HelmVersion.Version }}",
        );
        set.parse("t", text).unwrap();
        let out = set
            .execute("t", &data, &gotemplate::RenderContext::new())
            .unwrap();
        let s = "{v1.30.2-gke.1 v1.30.2 1 30}";
        assert_eq!(
            out,
            format!("v1.30.2|v1.30.2|v1.30.2|{s}|\"{s}\"|{HELM_VERSION}")
        );
    }
}
