//! `TemplateSet`: a set of named templates sharing functions and options (Go's `*template.Template`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use crate::Error;
use crate::ast::Tree;
use crate::funcs::Functions;
use crate::value::Value;

/// What a missing map key evaluates to (Go's `missingkey=` option).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MissingKey {
    /// `missingkey=default`/`invalid`: an invalid value, printed as `<no value>`.
    #[default]
    Default,
    /// `missingkey=zero`: the zero value of the map's element type (a nil `interface{}`).
    /// Helm renders with this option.
    Zero,
    /// `missingkey=error`: execution stops with an error (Helm's `--strict`).
    Error,
}

/// Limits against hostile templates (the CVE-2022-36049 class).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Maximum nesting of `template`/`include`/`tpl` calls.
    pub max_depth: usize,
    /// Maximum bytes written by one render (all nested executions count).
    pub max_output: usize,
    /// Wall-clock deadline for the render.
    pub deadline: Option<Instant>,
    /// Maximum nesting of parentheses and control structures while parsing.
    pub max_parse_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 100,
            max_output: 256 * 1024 * 1024,
            deadline: None,
            max_parse_depth: 150,
        }
    }
}

/// Per-render settings handed to `execute`, visible to functions through `CallContext`.
#[derive(Clone, Default)]
pub struct RenderContext {
    /// Render limits.
    pub limits: Limits,
    /// Host data for functions (e.g. the helm crate's lookup client); downcast with `Any`.
    pub extensions: Option<Arc<dyn std::any::Any + Send + Sync>>,
}

impl RenderContext {
    /// Default limits, no extensions.
    pub fn new() -> RenderContext {
        RenderContext::default()
    }
}

/// A set of named templates with its functions and options.
///
/// `parse` adds the top-level template under its name plus every `define`/`block`;
/// later definitions replace earlier ones unless they are empty (as Go's `AddParseTree`).
/// Cloning is cheap (trees are shared).
#[derive(Clone)]
pub struct TemplateSet {
    name: String,
    pub(crate) templates: HashMap<String, Arc<Tree>>,
    pub(crate) funcs: Arc<Functions>,
    pub(crate) missing_key: MissingKey,
    pub(crate) max_parse_depth: usize,
}

impl Default for TemplateSet {
    fn default() -> Self {
        TemplateSet::new()
    }
}

impl TemplateSet {
    /// An empty set with only Go's builtin functions.
    pub fn new() -> TemplateSet {
        TemplateSet {
            name: String::new(),
            templates: HashMap::new(),
            funcs: Arc::new(Functions::new()),
            missing_key: MissingKey::Default,
            max_parse_depth: Limits::default().max_parse_depth,
        }
    }

    /// An empty set named `name` (Go's `template.New(name)`); the name appears in
    /// "no template %q associated with template %q" errors.
    pub fn named(name: &str) -> TemplateSet {
        let mut t = TemplateSet::new();
        t.name = name.to_string();
        t
    }

    /// The set's own name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Adds functions (Go's `Funcs`); must happen before parsing templates that use them.
    pub fn add_functions(&mut self, funcs: Functions) {
        Arc::make_mut(&mut self.funcs).extend(funcs);
    }

    /// The function registry.
    pub fn functions(&self) -> &Functions {
        &self.funcs
    }

    /// Mutable access to the function registry.
    pub fn functions_mut(&mut self) -> &mut Functions {
        Arc::make_mut(&mut self.funcs)
    }

    /// Sets the `missingkey` option.
    pub fn set_missing_key(&mut self, mk: MissingKey) {
        self.missing_key = mk;
    }

    /// The `missingkey` option.
    pub fn missing_key(&self) -> MissingKey {
        self.missing_key
    }

    /// Parses `text` as the template `name`, adding every template it defines.
    pub fn parse(&mut self, name: &str, text: &str) -> Result<(), Error> {
        self.parse_top(name, text).map(|_| ())
    }

    /// Parses like [`TemplateSet::parse`] and returns the freshly parsed top-level tree, which
    /// Go executes even when it is empty and the set keeps an older, non-empty `name`.
    pub(crate) fn parse_top(&mut self, name: &str, text: &str) -> Result<Arc<Tree>, Error> {
        let funcs = self.funcs.clone();
        let has = move |f: &str| funcs.contains(f) || crate::exec::is_builtin(f);
        let trees = crate::parse::parse(name, text, &has, self.max_parse_depth)?;
        let mut top = None;
        for t in trees {
            let t = Arc::new(t);
            if top.is_none() {
                top = Some(t.clone());
            }
            if let Some(old) = self.templates.get(&t.name)
                && t.is_empty()
                && !old.is_empty()
            {
                continue;
            }
            self.templates.insert(t.name.clone(), t);
        }
        top.ok_or_else(|| Error::Parse(format!("template: {name}: no template parsed")))
    }

    /// Whether a template with this name exists.
    pub fn has_template(&self, name: &str) -> bool {
        self.templates.contains_key(name)
    }

    /// The names of all templates, sorted.
    pub fn template_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.templates.keys().cloned().collect();
        v.sort();
        v
    }

    /// Executes the template `name` with `data` as dot.
    ///
    /// The output is a Go string: raw bytes the template produced (`trunc` through a
    /// multi-byte char, `b64dec`) are held as escape chars; write it out with
    /// [`crate::gostr::to_output_bytes`] to get Go's bytes.
    pub fn execute(&self, name: &str, data: &Value, ctx: &RenderContext) -> Result<String, Error> {
        crate::exec::execute_root(self, ctx, name, data)
    }

    /// Whether any template of the set calls one of the functions `names` (e.g. to know that
    /// no template can change maps that other templates see).
    pub fn calls_any(&self, names: &[&str]) -> bool {
        self.templates.values().any(|t| t.calls_any(names))
    }

    pub(crate) fn lookup(&self, name: &str) -> Option<&Arc<Tree>> {
        self.templates.get(name)
    }
}
