//! `helm template`: release-name check, dependency processing, values and schema, rendering,
//! manifest sorting, CRDs, hooks, `--show-only` / `--skip-tests`, printed exactly as Helm v4.1.4.

use crate::chart::Chart;
use crate::coalesce::{self, Values};
use crate::deps::{self, DependencyError};
use crate::engine::{self, ReleaseOptions, RenderError};
use crate::ignore::go_match;
use crate::objects::{Capabilities, KubeVersion};
use crate::schema::{self, SchemaError};
use crate::semver::is_compatible_range;
use crate::sorter::{self, SortError};
use gotemplate::RenderContext;
use gotemplate::helm_funcs::Lookup;
use std::sync::Arc;

/// The bytes to print for [`template`]'s text: its raw (non-UTF-8) bytes restored, exactly
/// what Helm writes (see [`gotemplate::gostr`]).
pub use gotemplate::gostr::to_output_bytes;

/// Options of `helm template`.
#[derive(Clone)]
pub struct TemplateOptions {
    /// Release name.
    pub release_name: String,
    /// `-n/--namespace` (Helm's default is `default`).
    pub namespace: String,
    /// Merged user values (`-f`, `--set*`).
    pub values: Values,
    /// `--kube-version`.
    pub kube_version: Option<KubeVersion>,
    /// `--api-versions`.
    pub api_versions: Vec<String>,
    /// `--include-crds`.
    pub include_crds: bool,
    /// `--skip-tests`.
    pub skip_tests: bool,
    /// `--show-only`.
    pub show_only: Vec<String>,
    /// `--is-upgrade`.
    pub is_upgrade: bool,
    /// `--skip-schema-validation`.
    pub skip_schema_validation: bool,
    /// Answers `lookup` (a controller passes a cluster client); `None` renders offline.
    pub lookup: Option<Arc<dyn Lookup>>,
}

impl Default for TemplateOptions {
    fn default() -> Self {
        TemplateOptions {
            release_name: "release-name".into(),
            namespace: "default".into(),
            values: Values::new(),
            kube_version: None,
            api_versions: Vec::new(),
            include_crds: false,
            skip_tests: false,
            show_only: Vec::new(),
            is_upgrade: false,
            skip_schema_validation: false,
            lookup: None,
        }
    }
}

/// Why `helm template` failed; messages are Helm's (without its `Error: ` prefix).
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// Invalid release name.
    #[error(
        "release name check failed: release name {0:?}: invalid release name, must match regex ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ and the length must not be longer than 53"
    )]
    ReleaseName(String),
    /// The root chart is a library.
    #[error("library charts are not installable")]
    Library,
    /// Missing subcharts.
    #[error(
        "an error occurred while checking for chart dependencies. You may need to run `helm dependency build` to fetch missing dependencies: {0}"
    )]
    MissingDependencies(#[source] DependencyError),
    /// Dependency processing failed.
    #[error("chart dependencies processing failed: {0}")]
    Dependencies(#[source] DependencyError),
    /// Coalescing failed.
    #[error("{0}")]
    Coalesce(#[from] coalesce::CoalesceError),
    /// Schema validation failed.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// `kubeVersion` constraint unmet.
    #[error(
        "chart requires kubeVersion: {constraint} which is incompatible with Kubernetes {version}"
    )]
    KubeVersion {
        /// The chart's constraint.
        constraint: String,
        /// The target version.
        version: String,
    },
    /// A template failed.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// Rendered output is not YAML.
    #[error(transparent)]
    Sort(#[from] SortError),
    /// `--show-only` named no template.
    #[error("could not find template {0} in chart")]
    ShowOnly(String),
}

impl TemplateError {
    /// Whether Helm adds its "Use --debug flag to render out invalid YAML" hint (a release was
    /// created before the failure).
    pub fn has_debug_hint(&self) -> bool {
        matches!(
            self,
            TemplateError::KubeVersion { .. } | TemplateError::Render(_) | TemplateError::Sort(_)
        )
    }
}

/// Helm's release-name rule: DNS-1123 subdomain-ish, at most 53 characters.
pub fn valid_release_name(name: &str) -> bool {
    if name.is_empty() || name.len() > 53 {
        return false;
    }
    name.split('.').all(|label| {
        let b = label.as_bytes();
        !b.is_empty()
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
            && b[0] != b'-'
            && b[b.len() - 1] != b'-'
    })
}

/// Runs `helm template` on a loaded chart and returns what Helm prints on stdout.
///
/// The text is a Go string (see [`gotemplate::gostr`]): raw bytes of CRD files that are not
/// UTF-8 are held as escape chars, so write it out with [`to_output_bytes`].
pub fn template(mut chart: Chart, opts: &TemplateOptions) -> Result<String, TemplateError> {
    template_with(&mut chart, opts, &RenderContext::new())
}

/// [`template`] with explicit render limits.
pub fn template_with(
    chart: &mut Chart,
    opts: &TemplateOptions,
    ctx: &RenderContext,
) -> Result<String, TemplateError> {
    if chart.is_library() {
        return Err(TemplateError::Library);
    }
    deps::check_dependencies(chart).map_err(TemplateError::MissingDependencies)?;
    if !valid_release_name(&opts.release_name) {
        return Err(TemplateError::ReleaseName(opts.release_name.clone()));
    }
    deps::process_dependencies(chart, &opts.values).map_err(TemplateError::Dependencies)?;

    let mut caps = Capabilities::default();
    if let Some(kv) = &opts.kube_version {
        caps.kube_version = kv.clone();
    }
    caps.api_versions.extend(opts.api_versions.iter().cloned());

    let values = coalesce::coalesce_values(chart, &opts.values)?;
    if !opts.skip_schema_validation {
        schema::validate(chart, &values)?;
    }
    if !chart.metadata.kube_version.is_empty()
        && !is_compatible_range(&chart.metadata.kube_version, &caps.kube_version.normalized)
    {
        return Err(TemplateError::KubeVersion {
            constraint: chart.metadata.kube_version.clone(),
            version: caps.kube_version.version.clone(),
        });
    }
    let release = ReleaseOptions {
        name: opts.release_name.clone(),
        namespace: opts.namespace.clone(),
        revision: 1,
        is_install: !opts.is_upgrade,
        is_upgrade: opts.is_upgrade,
    };
    let tvalues = engine::values_to_template(&serde_json::Value::Object(values));
    let mut files = engine::render(chart, &tvalues, &release, &caps, ctx, opts.lookup.clone())?;
    files.retain(|k, _| !k.ends_with("NOTES.txt"));
    check_utf8(&files)?;
    let (hooks, manifests) = sorter::sort_manifests(&files)?;

    let mut manifest = String::new();
    if opts.include_crds {
        for (name, f) in chart.crd_objects(chart.name()) {
            manifest.push_str(&format!(
                "---\n# Source: {name}\n{}\n",
                gotemplate::gostr::from_go_slice(&f.data)
            ));
        }
    }
    for m in &manifests {
        for part in ["---\n# Source: ", &m.name, "\n", &m.content, "\n"] {
            manifest.push_str(part);
        }
    }

    // Helm trims the joined manifests; trimming in place saves copying the whole output.
    let mut out = manifest;
    let leading = out.len() - out.trim_start_matches(char::is_whitespace).len();
    out.drain(..leading);
    out.truncate(out.trim_end_matches(char::is_whitespace).len());
    out.push('\n');
    for h in &hooks {
        if opts.skip_tests && h.events.iter().any(|e| e == "test") {
            continue;
        }
        out.push_str(&format!("---\n# Source: {}\n{}\n", h.path, h.manifest));
    }
    if opts.show_only.is_empty() {
        return Ok(out);
    }
    let docs = sorter::split_manifests(&out);
    let mut shown = String::new();
    for f in &opts.show_only {
        let mut missing = true;
        for doc in &docs {
            let Some(name) = source_name(doc) else {
                continue;
            };
            if go_match(f, name).unwrap_or(false) {
                shown.push_str(&format!("---\n{doc}\n"));
                missing = false;
            }
        }
        if missing {
            return Err(TemplateError::ShowOnly(f.clone()));
        }
    }
    Ok(shown)
}

/// Helm parses every rendered document with go-yaml, whose reader rejects invalid UTF-8
/// before any YAML syntax is looked at. Rendered text only holds raw bytes (see
/// [`gotemplate::gostr`]) when a template produced them (`trunc` through a multi-byte char,
/// `b64dec`, `.Files.Get` of a binary file), so only such documents are checked here.
fn check_utf8(files: &std::collections::BTreeMap<String, String>) -> Result<(), SortError> {
    for (path, content) in files {
        let base = path.rsplit('/').next().unwrap_or(path);
        if base.starts_with('_') || !gotemplate::gostr::has_raw_bytes(content) {
            continue;
        }
        for doc in sorter::split_manifests(content) {
            if let Some(msg) =
                gotemplate::gostr::yaml_reader_error(&gotemplate::gostr::go_bytes(&doc))
            {
                return Err(SortError {
                    path: path.clone(),
                    source: crate::yamlconv::YamlError::Syntax(msg.to_string()),
                });
            }
        }
    }
    Ok(())
}

/// The part after the chart name in the first `# Source: <chart>/<path>` of a document.
fn source_name(doc: &str) -> Option<&str> {
    let i = doc.find("# Source: ")?;
    let rest = &doc[i + "# Source: ".len()..];
    let slash = rest.find('/')?;
    if slash == 0 || rest[..slash].contains('\n') {
        return None;
    }
    let tail = &rest[slash + 1..];
    let end = tail.find('\n').unwrap_or(tail.len());
    let name = &tail[..end];
    if name.is_empty() { None } else { Some(name) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_names() {
        assert!(valid_release_name("my-app.v1"));
        assert!(!valid_release_name("Bad_Name"));
        assert!(!valid_release_name("-x"));
        assert!(!valid_release_name(&"a".repeat(54)));
    }

    #[test]
    fn source_names() {
        assert_eq!(
            source_name("# Source: c/templates/x.yaml\na: 1"),
            Some("templates/x.yaml")
        );
        assert_eq!(source_name("a: 1"), None);
    }
}
