//! The chart model: `Chart.yaml` metadata (apiVersion v1/v2, every field), values, schema,
//! templates, other files and subcharts.

use crate::yamlconv::{self, Node};
use serde_json::{Map, Value};

/// A chart maintainer (`maintainers[]`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Maintainer {
    /// `name`.
    pub name: String,
    /// `email`.
    pub email: String,
    /// `url`.
    pub url: String,
}

/// A dependency declared in `Chart.yaml` (or `requirements.yaml` for apiVersion v1).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dependency {
    /// `name`; replaced by the alias once dependencies are processed, as Helm does.
    pub name: String,
    /// `version` (a semver constraint).
    pub version: String,
    /// `repository`.
    pub repository: String,
    /// `condition`: comma-separated value paths.
    pub condition: String,
    /// `tags`.
    pub tags: Vec<String>,
    /// `enabled`, computed from conditions and tags.
    pub enabled: bool,
    /// `import-values`: strings or `{child, parent}` maps.
    pub import_values: Vec<Value>,
    /// `alias`.
    pub alias: String,
}

/// `Chart.yaml`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
    /// `name`.
    pub name: String,
    /// `home`.
    pub home: String,
    /// `sources`.
    pub sources: Vec<String>,
    /// `version`.
    pub version: String,
    /// `description`.
    pub description: String,
    /// `keywords`.
    pub keywords: Vec<String>,
    /// `maintainers`.
    pub maintainers: Vec<Maintainer>,
    /// `icon`.
    pub icon: String,
    /// `apiVersion` (`v1` when absent).
    pub api_version: String,
    /// `condition` (unused by Helm, kept).
    pub condition: String,
    /// `tags` (unused by Helm, kept).
    pub tags: String,
    /// `appVersion`.
    pub app_version: String,
    /// `deprecated`.
    pub deprecated: bool,
    /// `annotations`, in key order.
    pub annotations: Vec<(String, String)>,
    /// `kubeVersion` constraint.
    pub kube_version: String,
    /// `dependencies`.
    pub dependencies: Vec<Dependency>,
    /// `type`: `application` (empty) or `library`.
    pub chart_type: String,
}

/// A file of the chart: path relative to the chart root, with `/` separators.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    /// Relative path.
    pub name: String,
    /// Contents.
    pub data: Vec<u8>,
}

/// A loaded chart.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    /// `Chart.yaml`.
    pub metadata: Metadata,
    /// `values.yaml` (numbers as float64, as Helm reads them).
    pub values: Map<String, Value>,
    /// `values.schema.json`, raw.
    pub schema: Option<Vec<u8>>,
    /// `templates/**`.
    pub templates: Vec<File>,
    /// Every other file (including `crds/`), in path order.
    pub files: Vec<File>,
    /// Subcharts from `charts/`.
    pub dependencies: Vec<Chart>,
}

/// Errors in `Chart.yaml`.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    /// YAML that does not parse.
    #[error("cannot load Chart.yaml: {0}")]
    Yaml(#[from] yamlconv::YamlError),
    /// A field with the wrong shape.
    #[error("cannot load Chart.yaml: field {0} has the wrong type")]
    Shape(&'static str),
    /// Helm's metadata validation.
    #[error("validation: {0}")]
    Invalid(String),
}

impl Chart {
    /// The chart's name (after aliasing).
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// Whether this is a library chart.
    pub fn is_library(&self) -> bool {
        self.metadata.chart_type == "library"
    }

    /// Files under `crds/` with a manifest extension, this chart's first, then each subchart's,
    /// with their full path (`parent/charts/sub/crds/x.yaml`).
    pub fn crd_objects(&self, full_path: &str) -> Vec<(String, &File)> {
        let mut out: Vec<(String, &File)> = self
            .files
            .iter()
            .filter(|f| f.name.starts_with("crds/") && has_manifest_extension(&f.name))
            .map(|f| (format!("{full_path}/{}", f.name), f))
            .collect();
        for dep in &self.dependencies {
            out.extend(dep.crd_objects(&format!("{full_path}/charts/{}", dep.name())));
        }
        out
    }
}

fn has_manifest_extension(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    match base.rfind('.') {
        Some(i) => {
            let ext = base[i..].to_ascii_lowercase();
            ext == ".yaml" || ext == ".yml" || ext == ".json"
        }
        None => false,
    }
}

fn text(node: Option<&Node>, field: &'static str) -> Result<String, MetadataError> {
    match node {
        None => Ok(String::new()),
        Some(n @ Node::Scalar(..)) => Ok(n.as_text().unwrap_or_default()),
        Some(_) => Err(MetadataError::Shape(field)),
    }
}

fn texts(node: Option<&Node>, field: &'static str) -> Result<Vec<String>, MetadataError> {
    match node {
        None | Some(Node::Scalar(yamlconv::Scalar::Null, _)) => Ok(Vec::new()),
        Some(Node::Seq(items)) => items.iter().map(|n| text(Some(n), field)).collect(),
        Some(_) => Err(MetadataError::Shape(field)),
    }
}

fn boolean(node: Option<&Node>, field: &'static str) -> Result<bool, MetadataError> {
    match node {
        None | Some(Node::Scalar(yamlconv::Scalar::Null, _)) => Ok(false),
        Some(Node::Scalar(yamlconv::Scalar::Bool(b), _)) => Ok(*b),
        Some(_) => Err(MetadataError::Shape(field)),
    }
}

/// Parses the `dependencies` list of `Chart.yaml` or `requirements.yaml`.
pub fn parse_dependencies(node: Option<&Node>) -> Result<Vec<Dependency>, MetadataError> {
    let items = match node {
        None | Some(Node::Scalar(yamlconv::Scalar::Null, _)) => return Ok(Vec::new()),
        Some(Node::Seq(items)) => items,
        Some(_) => return Err(MetadataError::Shape("dependencies")),
    };
    let mut out = Vec::new();
    for d in items {
        if !matches!(d, Node::Map(_)) {
            return Err(MetadataError::Shape("dependencies"));
        }
        let import_values = match d.get("import-values") {
            None | Some(Node::Scalar(yamlconv::Scalar::Null, _)) => Vec::new(),
            Some(Node::Seq(items)) => items
                .iter()
                .map(|n| match n {
                    Node::Scalar(..) => Ok(Value::String(n.as_text().unwrap_or_default())),
                    other => other.to_json().map_err(MetadataError::from),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(MetadataError::Shape("import-values")),
        };
        out.push(Dependency {
            name: text(d.get("name"), "name")?,
            version: text(d.get("version"), "version")?,
            repository: text(d.get("repository"), "repository")?,
            condition: text(d.get("condition"), "condition")?,
            tags: texts(d.get("tags"), "tags")?,
            enabled: boolean(d.get("enabled"), "enabled")?,
            import_values,
            alias: text(d.get("alias"), "alias")?,
        });
    }
    Ok(out)
}

/// Parses `Chart.yaml` (no validation).
pub fn parse_metadata(data: &[u8]) -> Result<Metadata, MetadataError> {
    if let Some(problem) = gotemplate::gostr::yaml_reader_error(data) {
        return Err(yamlconv::YamlError::Syntax(problem.to_string()).into());
    }
    let text_data = String::from_utf8_lossy(data);
    let node = yamlconv::parse_first(&text_data)?.unwrap_or(Node::Map(Vec::new()));
    if !matches!(node, Node::Map(_)) {
        return Err(MetadataError::Shape("(document)"));
    }
    let n = &node;
    let maintainers = match n.get("maintainers") {
        None | Some(Node::Scalar(yamlconv::Scalar::Null, _)) => Vec::new(),
        Some(Node::Seq(items)) => items
            .iter()
            .map(|m| {
                Ok(Maintainer {
                    name: text(m.get("name"), "maintainers.name")?,
                    email: text(m.get("email"), "maintainers.email")?,
                    url: text(m.get("url"), "maintainers.url")?,
                })
            })
            .collect::<Result<_, MetadataError>>()?,
        Some(_) => return Err(MetadataError::Shape("maintainers")),
    };
    let annotations = match n.get("annotations") {
        None | Some(Node::Scalar(yamlconv::Scalar::Null, _)) => Vec::new(),
        Some(Node::Map(entries)) => {
            let mut a: Vec<(String, String)> = entries
                .iter()
                .map(|(k, v)| Ok((k.clone(), text(Some(v), "annotations")?)))
                .collect::<Result<_, MetadataError>>()?;
            a.sort_by(|x, y| x.0.cmp(&y.0));
            a
        }
        Some(_) => return Err(MetadataError::Shape("annotations")),
    };
    let mut md = Metadata {
        name: text(n.get("name"), "name")?,
        home: text(n.get("home"), "home")?,
        sources: texts(n.get("sources"), "sources")?,
        version: text(n.get("version"), "version")?,
        description: text(n.get("description"), "description")?,
        keywords: texts(n.get("keywords"), "keywords")?,
        maintainers,
        icon: text(n.get("icon"), "icon")?,
        api_version: text(n.get("apiVersion"), "apiVersion")?,
        condition: text(n.get("condition"), "condition")?,
        tags: text(n.get("tags"), "tags")?,
        app_version: text(n.get("appVersion"), "appVersion")?,
        deprecated: boolean(n.get("deprecated"), "deprecated")?,
        annotations,
        kube_version: text(n.get("kubeVersion"), "kubeVersion")?,
        dependencies: parse_dependencies(n.get("dependencies"))?,
        chart_type: text(n.get("type"), "type")?,
    };
    if md.api_version.is_empty() {
        md.api_version = "v1".into();
    }
    Ok(md)
}

impl Metadata {
    /// Helm's `Metadata.Validate`.
    pub fn validate(&self) -> Result<(), MetadataError> {
        let bad = |m: String| Err(MetadataError::Invalid(m));
        if self.api_version.is_empty() {
            return bad("chart.metadata.apiVersion is required".into());
        }
        if self.name.is_empty() {
            return bad("chart.metadata.name is required".into());
        }
        if self.name.contains('/') || self.name == "." || self.name == ".." {
            return bad(format!("chart.metadata.name {:?} is invalid", self.name));
        }
        if self.version.is_empty() {
            return bad("chart.metadata.version is required".into());
        }
        if crate::semver::Version::parse(&self.version).is_none() {
            return bad(format!(
                "chart.metadata.version {:?} is invalid",
                self.version
            ));
        }
        if !matches!(self.chart_type.as_str(), "" | "application" | "library") {
            return bad("chart.metadata.type must be application or library".into());
        }
        let mut seen = std::collections::HashSet::new();
        for d in &self.dependencies {
            let key = if d.alias.is_empty() {
                &d.name
            } else {
                &d.alias
            };
            if !d.alias.is_empty()
                && !d
                    .alias
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return bad(format!(
                    "dependency {:?} has disallowed characters in the alias",
                    d.name
                ));
            }
            if !seen.insert(key.clone()) {
                return bad(format!(
                    "more than one dependency with name or alias {key:?}"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_field() {
        let md = parse_metadata(
            b"apiVersion: v2\nname: demo\nversion: 1.0\nappVersion: 2.10\nkubeVersion: '>=1.20'\n\
type: application\ndeprecated: true\nkeywords: [a, b]\nmaintainers:\n- name: me\n  email: m@x\n\
annotations: {z: '1', a: '2'}\ndependencies:\n- name: sub\n  version: ~1\n  alias: s2\n  tags: [t]\n  import-values: [data, {child: a, parent: b}]\n",
        )
        .unwrap();
        assert_eq!(md.version, "1.0");
        assert_eq!(md.app_version, "2.10");
        assert!(md.deprecated);
        assert_eq!(md.annotations[0].0, "a");
        assert_eq!(md.dependencies[0].alias, "s2");
        assert_eq!(md.dependencies[0].import_values.len(), 2);
        md.validate().unwrap();
    }

    #[test]
    fn validation_errors_match_helm() {
        let md = parse_metadata(b"apiVersion: v2\nversion: 1.0.0\n").unwrap();
        assert_eq!(
            md.validate().unwrap_err().to_string(),
            "validation: chart.metadata.name is required"
        );
    }
}
