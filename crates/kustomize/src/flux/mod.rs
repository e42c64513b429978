//! Flux's additions around a Kustomize build (what kustomize-controller does before and after
//! `kustomize build`): generating a `kustomization.yaml` when the path has none, writing the
//! Kustomization spec's `targetNamespace`, `namePrefix`/`nameSuffix`, `patches`, `images`,
//! `components` and `buildMetadata` into it (in memory, through [`OverlayFs`]), and the
//! post-build `${var}` substitution ([`substitute`]). Pure: no network, no cluster.

pub mod envsubst;

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::fs::{FileSystem, clean};

/// Kustomization file names in the order kustomize looks for them.
pub const KUSTOMIZATION_FILES: &[&str] =
    &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Label or annotation that turns substitution off for one object (value `disabled`).
pub const SUBSTITUTE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/substitute";

/// Most files the generator scans in a directory tree without a kustomization file.
const MAX_SCANNED_FILES: usize = 100_000;

/// Errors of Flux's generation, build and substitution steps; each names the operation.
#[derive(Debug, thiserror::Error)]
pub enum FluxError {
    /// `spec.path` leaves the source root or does not exist.
    #[error("kustomization path not found: {0}")]
    PathNotFound(String),
    /// Reading a file or directory failed.
    #[error("{op} '{path}': {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The path.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// An existing kustomization file does not parse.
    #[error("unable to read kustomization '{path}': {msg}")]
    InvalidKustomization {
        /// The file.
        path: String,
        /// Why.
        msg: String,
    },
    /// A manifest the generator would include is not valid Kubernetes YAML.
    #[error("failed to decode Kubernetes YAML from {path}: {msg}")]
    InvalidManifest {
        /// The file.
        path: String,
        /// Why.
        msg: String,
    },
    /// A component is not a local relative path.
    #[error("component path '{0}' must be local and relative")]
    NonLocalComponent(String),
    /// The Kustomize build failed.
    #[error("kustomize build failed: {0}")]
    Build(String),
    /// A built object lacks apiVersion, kind or name.
    #[error("failed to decode Kubernetes apiVersion, kind and name from: {0}")]
    IncompleteObject(String),
    /// A substitution variable name is not a shell identifier.
    #[error("'{0}' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'")]
    InvalidVarName(String),
    /// Substitution failed for one object.
    #[error("post build failed for '{object}': envsubst error: {msg}")]
    Substitute {
        /// `<gvk>/<name>` of the object.
        object: String,
        /// Why.
        msg: String,
    },
}

/// The Kustomization spec fields Flux writes into the kustomization file before building.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// `spec.targetNamespace` → `namespace`.
    pub target_namespace: Option<String>,
    /// `spec.namePrefix`.
    pub name_prefix: Option<String>,
    /// `spec.nameSuffix`.
    pub name_suffix: Option<String>,
    /// `spec.patches`, each `{patch, target?}` as kustomize reads them (appended).
    pub patches: Vec<Value>,
    /// `spec.images`, each `{name, newName?, newTag?, digest?}` (merged by name).
    pub images: Vec<Value>,
    /// `spec.components` (appended; local relative paths only).
    pub components: Vec<String>,
    /// `spec.ignoreMissingComponents`.
    pub ignore_missing_components: bool,
    /// `spec.buildMetadata` (replaces the file's).
    pub build_metadata: Vec<String>,
}

/// A filesystem that serves some files from memory over another filesystem: how the generated
/// kustomization file reaches the engine without writing into the user's directory.
pub struct OverlayFs {
    base: Arc<dyn FileSystem>,
    files: BTreeMap<PathBuf, Vec<u8>>,
}

impl OverlayFs {
    /// An overlay with no files over `base`.
    pub fn new(base: Arc<dyn FileSystem>) -> Self {
        OverlayFs {
            base,
            files: BTreeMap::new(),
        }
    }

    /// Serves `content` at `path` (absolute; its parent must exist in `base`).
    pub fn add_file(&mut self, path: &Path, content: impl Into<Vec<u8>>) {
        let key = match (path.parent(), path.file_name()) {
            (Some(dir), Some(name)) => match self.base.canonicalize(dir) {
                Ok(d) => d.join(name),
                Err(_) => clean(path),
            },
            _ => clean(path),
        };
        self.files.insert(key, content.into());
    }
}

impl FileSystem for OverlayFs {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        match self.files.get(&clean(path)) {
            Some(c) => Ok(c.clone()),
            None => self.base.read(path),
        }
    }
    fn is_dir(&self, path: &Path) -> bool {
        !self.files.contains_key(&clean(path)) && self.base.is_dir(path)
    }
    fn canonicalize(&self, path: &Path) -> std::io::Result<PathBuf> {
        let p = clean(path);
        if self.files.contains_key(&p) {
            return Ok(p);
        }
        if let (Some(dir), Some(name)) = (p.parent(), p.file_name())
            && let Ok(d) = self.base.canonicalize(dir)
        {
            let key = d.join(name);
            if self.files.contains_key(&key) {
                return Ok(key);
            }
        }
        self.base.canonicalize(path)
    }
}

/// Joins `rel` (`spec.path`) to `root` without leaving it: `..` never climbs above the root
/// and symlinks must resolve inside it (Flux's secure join). Errors when the result is missing.
pub fn secure_join(root: &Path, rel: &str) -> Result<PathBuf, FluxError> {
    let mut out = PathBuf::new();
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    let root = root.canonicalize().map_err(|source| FluxError::Io {
        op: "resolve source root",
        path: root.display().to_string(),
        source,
    })?;
    let joined = root.join(&out);
    let real = joined
        .canonicalize()
        .map_err(|e| FluxError::PathNotFound(format!("stat {}: {e}", joined.display())))?;
    if !real.starts_with(&root) {
        return Err(FluxError::PathNotFound(format!(
            "path '{rel}' resolves outside the source root"
        )));
    }
    Ok(real)
}

/// Whether a path is local and relative (not a URL, not absolute), as Flux requires of
/// components.
pub fn is_local_relative_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    for p in [
        "git::",
        "gh:",
        "ssh://",
        "https://",
        "http://",
        "git@",
        "github.com:",
        "github.com/",
    ] {
        if p.len() < path.len() && lower.starts_with(p) {
            return false;
        }
    }
    !(Path::new(path).is_absolute() || Path::new(lower.trim_start_matches("file://")).is_absolute())
}

/// The kustomization file Flux would build in `dir` (inside `root`, already resolved): the
/// existing one with the overrides written in, or a generated one listing the directory's
/// manifests. Returns the file path and its YAML content.
pub fn generate(root: &Path, dir: &Path, ov: &Overrides) -> Result<(PathBuf, String), FluxError> {
    let (mut kus, path, existed) = find_or_generate(root, dir)?;
    let obj = kus.as_object_mut().expect("kustomization is a mapping");
    if existed
        && obj
            .get("resources")
            .and_then(Value::as_array)
            .is_none_or(|r| r.is_empty())
    {
        // Flux's guard against kustomize's "kustomization.yaml is empty" error.
        obj.insert("buildMetadata".into(), json!(["originAnnotations"]));
    }
    if let Some(ns) = &ov.target_namespace {
        obj.insert("namespace".into(), json!(ns));
    }
    if let Some(p) = &ov.name_prefix {
        obj.insert("namePrefix".into(), json!(p));
    }
    if let Some(s) = &ov.name_suffix {
        obj.insert("nameSuffix".into(), json!(s));
    }
    if !ov.patches.is_empty() {
        let list = array_entry(obj, "patches");
        list.extend(ov.patches.iter().cloned());
    }
    for c in &ov.components {
        if !is_local_relative_path(c) {
            return Err(FluxError::NonLocalComponent(c.clone()));
        }
        if ov.ignore_missing_components && !dir.join(c).exists() {
            continue;
        }
        array_entry(obj, "components").push(json!(c));
    }
    for image in &ov.images {
        let name = image
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let field = |k: &str| {
            image
                .get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let list = array_entry(obj, "images");
        match list
            .iter_mut()
            .find(|i| i.get("name").and_then(Value::as_str) == Some(name))
            .and_then(Value::as_object_mut)
        {
            Some(existing) => {
                if let Some(n) = field("newName") {
                    existing.insert("newName".into(), json!(n));
                }
                let (tag, digest) = (field("newTag"), field("digest"));
                if tag.is_some() || digest.is_some() {
                    // Both are replaced together, as Flux does.
                    set_or_remove(existing, "newTag", tag);
                    set_or_remove(existing, "digest", digest);
                }
            }
            None => {
                let mut m = Map::new();
                m.insert("name".into(), json!(name));
                for k in ["newName", "newTag", "digest"] {
                    if let Some(v) = field(k) {
                        m.insert(k.into(), json!(v));
                    }
                }
                list.push(Value::Object(m));
            }
        }
    }
    if !ov.build_metadata.is_empty() {
        obj.insert("buildMetadata".into(), json!(ov.build_metadata));
    }
    Ok((path, yaml::to_string_keep_order(&kus)))
}

fn set_or_remove(m: &mut Map<String, Value>, key: &str, v: Option<String>) {
    match v {
        Some(v) => {
            m.insert(key.into(), json!(v));
        }
        None => {
            m.remove(key);
        }
    }
}

fn array_entry<'a>(obj: &'a mut Map<String, Value>, key: &str) -> &'a mut Vec<Value> {
    let e = obj.entry(key.to_string()).or_insert_with(|| json!([]));
    if !e.is_array() {
        *e = json!([]);
    }
    e.as_array_mut().expect("array")
}

/// The existing kustomization file of `dir` (parsed), or one generated from its manifests.
fn find_or_generate(root: &Path, dir: &Path) -> Result<(Value, PathBuf, bool), FluxError> {
    for name in KUSTOMIZATION_FILES {
        let p = dir.join(name);
        if p.is_file() {
            let text = std::fs::read_to_string(&p).map_err(|source| FluxError::Io {
                op: "read",
                path: p.display().to_string(),
                source,
            })?;
            let v = yaml::parse(&text).map_err(|e| FluxError::InvalidKustomization {
                path: p.display().to_string(),
                msg: e.to_string(),
            })?;
            let mut obj = match v {
                Value::Object(m) => m,
                Value::Null => Map::new(),
                _ => {
                    return Err(FluxError::InvalidKustomization {
                        path: p.display().to_string(),
                        msg: "not a mapping".into(),
                    });
                }
            };
            obj.entry("apiVersion")
                .or_insert_with(|| json!("kustomize.config.k8s.io/v1beta1"));
            obj.entry("kind").or_insert_with(|| json!("Kustomization"));
            return Ok((Value::Object(obj), p, true));
        }
    }
    let mut resources = Vec::new();
    let mut budget = MAX_SCANNED_FILES;
    scan(root, dir, dir, &mut resources, &mut budget)?;
    let mut kus = Map::new();
    kus.insert(
        "apiVersion".into(),
        json!("kustomize.config.k8s.io/v1beta1"),
    );
    kus.insert("kind".into(), json!("Kustomization"));
    if resources.is_empty() {
        kus.insert("namespace".into(), json!("_placeholder"));
    } else {
        kus.insert("resources".into(), json!(resources));
    }
    Ok((Value::Object(kus), dir.join("kustomization.yaml"), false))
}

/// Walks `cur` in lexical order (as Go's filepath.Walk): a directory holding a kustomization
/// file is listed as a whole and not entered; `.yaml`/`.yml` files must parse as Kubernetes
/// YAML. Symlinks are followed only when they resolve inside `root`.
fn scan(
    root: &Path,
    base: &Path,
    cur: &Path,
    out: &mut Vec<String>,
    budget: &mut usize,
) -> Result<(), FluxError> {
    fn io(op: &'static str, p: &Path) -> impl FnOnce(std::io::Error) -> FluxError {
        let path = p.display().to_string();
        move |source| FluxError::Io { op, path, source }
    }
    let mut entries: Vec<_> = std::fs::read_dir(cur)
        .map_err(io("list directory", cur))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        *budget = budget.saturating_sub(1);
        if *budget == 0 {
            return Err(FluxError::Io {
                op: "scan",
                path: base.display().to_string(),
                source: std::io::Error::other("too many files"),
            });
        }
        let Ok(real) = path.canonicalize() else {
            continue;
        };
        if !real.starts_with(root) {
            continue;
        }
        let rel = format!(
            "./{}",
            path.strip_prefix(base).unwrap_or(&path).to_string_lossy()
        );
        if real.is_dir() {
            if KUSTOMIZATION_FILES.iter().any(|n| real.join(n).is_file()) {
                out.push(rel);
            } else {
                scan(root, base, &path, out, budget)?;
            }
            continue;
        }
        let ext = path.extension().and_then(|e| e.to_str());
        if !matches!(ext, Some("yaml" | "yml")) {
            continue;
        }
        let text = std::fs::read_to_string(&real).map_err(io("read", &path))?;
        let docs = yaml::parse_documents(&text).map_err(|e| FluxError::InvalidManifest {
            path: path.display().to_string(),
            msg: e.to_string(),
        })?;
        if let Some(bad) = docs.iter().find(|d| !d.is_object()) {
            return Err(FluxError::InvalidManifest {
                path: path.display().to_string(),
                msg: format!("not a Kubernetes object: {bad}"),
            });
        }
        out.push(rel);
    }
    Ok(())
}

/// Flux's kustomization build of `dir` inside `root`: [`generate`] then the Kustomize build,
/// reading nothing outside `root` (remote bases are always refused by this engine). Every
/// object must have apiVersion, kind and name.
pub fn build(
    base: Arc<dyn FileSystem>,
    root: &Path,
    dir: &Path,
    ov: &Overrides,
) -> Result<Vec<Value>, FluxError> {
    let (path, content) = generate(root, dir, ov)?;
    let mut fs = OverlayFs::new(base);
    fs.add_file(&path, content);
    let objects = crate::build(Arc::new(fs), root, dir).map_err(|e| FluxError::Build(e.chain()))?;
    for o in &objects {
        let has = |p: &str| {
            o.pointer(p)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
        };
        if !has("/apiVersion") || !has("/kind") || !has("/metadata/name") {
            return Err(FluxError::IncompleteObject(o.to_string()));
        }
    }
    Ok(objects)
}

/// Whether `name` is a valid substitution variable name (`^[_[:alpha:]][_[:alpha:][:digit:]]*$`).
pub fn valid_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Options of [`substitute`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubstituteOptions {
    /// Fail on a variable used without a default that is not defined.
    pub strict: bool,
    /// Substitute even without variables (`substituteStrategy: Always`), for defaults.
    pub always: bool,
}

/// Post-build substitution of every object, except those labelled or annotated
/// `kustomize.toolkit.fluxcd.io/substitute: disabled`: the object is written as YAML, `${...}`
/// expressions are expanded with `vars`, and the text is read back (so `replicas: ${N}` becomes
/// a number). Without variables nothing happens unless `always` is set.
pub fn substitute(
    objects: Vec<Value>,
    vars: &BTreeMap<String, String>,
    opts: SubstituteOptions,
) -> Result<Vec<Value>, FluxError> {
    if vars.is_empty() && !opts.always {
        return Ok(objects);
    }
    if let Some(bad) = vars.keys().find(|k| !valid_var_name(k)) {
        return Err(FluxError::InvalidVarName(bad.clone()));
    }
    let lookup = |k: &str| match vars.get(k) {
        Some(v) => (v.clone(), true),
        None => (String::new(), !opts.strict),
    };
    objects
        .into_iter()
        .map(|obj| {
            let disabled = ["labels", "annotations"].iter().any(|m| {
                obj.pointer(&format!(
                    "/metadata/{m}/{}",
                    SUBSTITUTE_ANNOTATION.replace('/', "~1")
                ))
                .and_then(Value::as_str)
                    == Some("disabled")
            });
            if disabled {
                return Ok(obj);
            }
            let id = object_id(&obj);
            let fail = |msg: String| FluxError::Substitute {
                object: id.clone(),
                msg,
            };
            let text = yaml::to_string(&obj);
            if !text.contains('$') {
                return Ok(obj);
            }
            let out = envsubst::eval(&text, &lookup)
                .map_err(|e| fail(format!("variable substitution failed: {e}")))?;
            let mut docs = yaml::parse_documents_with(&out, yaml::ScalarRules::Yaml11)
                .map_err(|e| fail(format!("YAMLToJSON: {e}")))?;
            if docs.len() != 1 || !docs[0].is_object() {
                return Err(fail("substituted text is not a single object".to_string()));
            }
            Ok(docs.remove(0))
        })
        .collect()
}

/// `<group>_<version>_<kind>/<name>` as Flux names objects in build errors (`~G` for core).
fn object_id(obj: &Value) -> String {
    let api = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let (g, v) = crate::resid::parse_group_version(api);
    let g = if g.is_empty() { "~G" } else { g };
    format!("{g}_{v}_{kind}/{name}")
}

/// The variables of a Kustomization: those of `from` (ConfigMap/Secret data, in order, later
/// ones winning) overridden by the inline `substitute` map; newlines are removed from values
/// as Flux does.
pub fn merge_vars(
    from: impl IntoIterator<Item = BTreeMap<String, String>>,
    inline: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    for m in from {
        for (k, v) in m {
            vars.insert(k, v.replace('\n', ""));
        }
    }
    for (k, v) in inline {
        vars.insert(k.clone(), v.replace('\n', ""));
    }
    vars
}

#[cfg(test)]
mod tests;
