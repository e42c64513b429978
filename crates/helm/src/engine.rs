//! The rendering engine, as Helm's: every template of the chart and its subcharts parsed into one
//! template set (deepest paths first so parents' `define`s win), executed with its chart's scope
//! (`.Values`, `.Chart`, `.Files`, `.Subcharts`, `.Template`, `.Release`, `.Capabilities`),
//! partials skipped, `<no value>` stripped, errors reformatted like Helm's. Files render one
//! after another as in Helm, or on a few threads when no template can change a map another file
//! sees (see `SHARED_STATE_FUNCTIONS`); the output and the first error reported are the same.

use crate::chart::{Chart, Metadata};
use crate::objects::{Capabilities, Files};
use gotemplate::helm_funcs::{Lookup, OfflineLookup, cleanup_parse_error, reformat_exec_error};
use gotemplate::{Functions, Map, MapRef, MissingKey, RenderContext, TemplateSet, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// `.Release`.
#[derive(Debug, Clone)]
pub struct ReleaseOptions {
    /// `Name`.
    pub name: String,
    /// `Namespace`.
    pub namespace: String,
    /// `Revision`.
    pub revision: i64,
    /// `IsInstall`.
    pub is_install: bool,
    /// `IsUpgrade`.
    pub is_upgrade: bool,
}

/// A template that failed to parse or execute; the message is Helm's.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RenderError(pub String);

/// Converts values to the template model: numbers that came from JSON/YAML as floats stay
/// float64; integers (from `--set`) are int64, as Helm's strvals produces them.
pub fn values_to_template(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) if !n.is_f64() => Value::Int64(i),
            _ => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => Value::str(s.as_str()),
        serde_json::Value::Array(a) => Value::list(a.iter().map(values_to_template).collect()),
        serde_json::Value::Object(o) => Value::map(
            o.iter()
                .map(|(k, x)| (k.clone(), values_to_template(x)))
                .collect(),
        ),
    }
}

fn strs(v: &[String]) -> Value {
    Value::list(v.iter().map(|s| Value::str(s.as_str())).collect())
}

/// `.Chart`: Helm v4 exposes the metadata struct as a map with Go field names, plus `IsRoot`.
pub fn metadata_value(md: &Metadata, is_root: bool) -> Value {
    let s = |x: &str| Value::str(x);
    let mut m = Map::new();
    m.insert("Name".into(), s(&md.name));
    m.insert("Home".into(), s(&md.home));
    m.insert("Sources".into(), strs(&md.sources));
    m.insert("Version".into(), s(&md.version));
    m.insert("Description".into(), s(&md.description));
    m.insert("Keywords".into(), strs(&md.keywords));
    let maintainers = md
        .maintainers
        .iter()
        .map(|x| {
            let mut mm = Map::new();
            mm.insert("Name".into(), s(&x.name));
            mm.insert("Email".into(), s(&x.email));
            mm.insert("URL".into(), s(&x.url));
            Value::map(mm)
        })
        .collect();
    m.insert("Maintainers".into(), Value::list(maintainers));
    m.insert("Icon".into(), s(&md.icon));
    m.insert("APIVersion".into(), s(&md.api_version));
    m.insert("Condition".into(), s(&md.condition));
    m.insert("Tags".into(), s(&md.tags));
    m.insert("AppVersion".into(), s(&md.app_version));
    m.insert("Deprecated".into(), Value::Bool(md.deprecated));
    m.insert(
        "Annotations".into(),
        if md.annotations.is_empty() {
            Value::Nil
        } else {
            Value::map(
                md.annotations
                    .iter()
                    .map(|(k, v)| (k.clone(), s(v)))
                    .collect(),
            )
        },
    );
    m.insert("KubeVersion".into(), s(&md.kube_version));
    let deps = md
        .dependencies
        .iter()
        .map(|d| {
            let mut dm = Map::new();
            dm.insert("Name".into(), s(&d.name));
            dm.insert("Version".into(), s(&d.version));
            dm.insert("Repository".into(), s(&d.repository));
            dm.insert("Condition".into(), s(&d.condition));
            dm.insert("Tags".into(), strs(&d.tags));
            dm.insert("Enabled".into(), Value::Bool(d.enabled));
            dm.insert(
                "ImportValues".into(),
                Value::list(d.import_values.iter().map(values_to_template).collect()),
            );
            dm.insert("Alias".into(), s(&d.alias));
            Value::map(dm)
        })
        .collect();
    m.insert("Dependencies".into(), Value::list(deps));
    m.insert("Type".into(), s(&md.chart_type));
    m.insert("IsRoot".into(), Value::Bool(is_root));
    Value::map(m)
}

struct Renderable {
    text: Arc<str>,
    scope: MapRef,
    base_path: String,
}

fn rec_all_tpls(
    c: &Chart,
    full_path: &str,
    is_root: bool,
    parent: &MapRef,
    top_values: &Value,
    out: &mut BTreeMap<String, Renderable>,
) -> MapRef {
    let mut next = Map::new();
    next.insert("Chart".into(), metadata_value(&c.metadata, is_root));
    let files: BTreeMap<String, Arc<[u8]>> = c
        .files
        .iter()
        .map(|f| (f.name.clone(), Arc::from(f.data.as_slice())))
        .collect();
    next.insert(
        "Files".into(),
        Value::Object(Arc::new(Files(Arc::new(files)))),
    );
    let p = parent.read();
    next.insert(
        "Release".into(),
        p.get("Release").cloned().unwrap_or_default(),
    );
    next.insert(
        "Capabilities".into(),
        p.get("Capabilities").cloned().unwrap_or_default(),
    );
    let values = if is_root {
        top_values.clone()
    } else {
        match p
            .get("Values")
            .and_then(|v| v.as_map().and_then(|m| m.get(c.name())))
        {
            Some(v @ Value::Map(_)) => v,
            _ => Value::empty_map(),
        }
    };
    drop(p);
    next.insert("Values".into(), values);
    let subcharts = MapRef::new(Map::new());
    next.insert("Subcharts".into(), Value::Map(subcharts.clone()));
    let next = MapRef::new(next);
    for child in &c.dependencies {
        let child_path = format!("{full_path}/charts/{}", child.name());
        let scope = rec_all_tpls(child, &child_path, false, &next, top_values, out);
        subcharts
            .write()
            .insert(child.name().to_string(), Value::Map(scope));
    }
    for t in &c.templates {
        let base = t.name.rsplit('/').next().unwrap_or(&t.name);
        if c.is_library() && !base.starts_with('_') {
            continue;
        }
        out.insert(
            format!("{full_path}/{}", t.name),
            Renderable {
                // Go's string(bytes): template text keeps every byte (gotemplate::gostr).
                text: Arc::from(gotemplate::gostr::from_go_slice(&t.data).as_ref()),
                scope: next.clone(),
                base_path: format!("{full_path}/templates"),
            },
        );
    }
    next
}

/// Helm's `sortTemplates`: most `/` first, then reverse lexical order.
fn sort_templates(keys: &mut [String]) {
    keys.sort_by(|a, b| {
        let (ca, cb) = (a.matches('/').count(), b.matches('/').count());
        cb.cmp(&ca).then_with(|| b.cmp(a))
    });
}

/// What Helm registers: sprig without `env`/`expandenv`, plus Helm's functions with `lookup`
/// answered by `lookup` (offline: always an empty map, as `helm template`).
fn functions(lookup: Option<Arc<dyn Lookup>>) -> Functions {
    let mut f = gotemplate::sprig::functions();
    f.remove("env");
    f.remove("expandenv");
    f.extend(gotemplate::helm_funcs::functions_with_lookup(
        lookup.unwrap_or_else(|| Arc::new(OfflineLookup)),
    ));
    f
}

/// Renders every template of `chart` (after dependency processing) with the top-level values.
/// Returns rendered text by template path (`chart/templates/x.yaml`), partials excluded.
pub fn render(
    chart: &Chart,
    values: &Value,
    release: &ReleaseOptions,
    caps: &Capabilities,
    ctx: &RenderContext,
    lookup: Option<Arc<dyn Lookup>>,
) -> Result<BTreeMap<String, String>, RenderError> {
    render_files(
        chart,
        values,
        release,
        caps,
        ctx,
        lookup,
        MAX_RENDER_THREADS,
        PARALLEL_AFTER,
    )
}

/// [`render`] with at most `max_threads` rendering threads (1: Helm's sequential way), which
/// start once rendering has taken `parallel_after`.
#[allow(clippy::too_many_arguments)]
fn render_files(
    chart: &Chart,
    values: &Value,
    release: &ReleaseOptions,
    caps: &Capabilities,
    ctx: &RenderContext,
    lookup: Option<Arc<dyn Lookup>>,
    max_threads: usize,
    parallel_after: std::time::Duration,
) -> Result<BTreeMap<String, String>, RenderError> {
    let mut top = Map::new();
    let mut rel = Map::new();
    rel.insert("Name".into(), Value::str(release.name.as_str()));
    rel.insert("Namespace".into(), Value::str(release.namespace.as_str()));
    rel.insert("IsUpgrade".into(), Value::Bool(release.is_upgrade));
    rel.insert("IsInstall".into(), Value::Bool(release.is_install));
    rel.insert("Revision".into(), Value::Int(release.revision));
    rel.insert("Service".into(), Value::str("Helm"));
    top.insert("Release".into(), Value::map(rel));
    top.insert("Capabilities".into(), Value::Object(Arc::new(caps.clone())));
    top.insert("Values".into(), values.clone());
    let top = MapRef::new(top);

    let mut tpls = BTreeMap::new();
    rec_all_tpls(chart, chart.name(), true, &top, values, &mut tpls);

    let mut keys: Vec<String> = tpls.keys().cloned().collect();
    sort_templates(&mut keys);
    let mut set = TemplateSet::named("gotpl");
    set.set_missing_key(MissingKey::Zero);
    set.add_functions(functions(lookup));
    for k in &keys {
        set.parse(k, &tpls[k].text)
            .map_err(|e| RenderError(cleanup_parse_error(k, &e)))?;
    }
    let jobs: Vec<&String> = keys
        .iter()
        .filter(|k| !k.rsplit('/').next().unwrap_or(k).starts_with('_'))
        .collect();
    let template_of = |k: &str| {
        let mut tm = Map::new();
        tm.insert("Name".into(), Value::str(k));
        tm.insert("BasePath".into(), Value::str(tpls[k].base_path.as_str()));
        Value::map(tm)
    };
    let finish = |k: &str, out: Result<String, gotemplate::Error>| {
        let out = out.map_err(|e| RenderError(reformat_exec_error(k, &e)))?;
        Ok(if out.contains("<no value>") {
            out.replace("<no value>", "")
        } else {
            out
        })
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len())
        .min(max_threads);
    let mut rendered = BTreeMap::new();
    if workers < 2 || set.calls_any(SHARED_STATE_FUNCTIONS) {
        // Helm's way: one file after another, each chart's scope map shared by its files
        // and updated with `.Template` before each.
        for k in jobs {
            let r = &tpls[k.as_str()];
            r.scope.write().insert("Template".into(), template_of(k));
            let out = finish(k, set.execute(k, &Value::Map(r.scope.clone()), ctx))?;
            rendered.insert(k.clone(), out);
        }
        return Ok(rendered);
    }
    // No template can change a map another one sees, so files render side by side. Each gets
    // the scopes it can reach as they would be at its turn in Helm's order: its own with its
    // `.Template`, subcharts' (via `.Subcharts`) with the `.Template` of their file rendered last.
    let mut last_template: BTreeMap<String, Value> = BTreeMap::new();
    let mut scopes = Vec::with_capacity(jobs.len());
    for k in &jobs {
        let chart_path = chart_path_of(&tpls[k.as_str()].base_path);
        let own = template_of(k);
        scopes.push(scope_view(
            &tpls[k.as_str()].scope,
            chart_path,
            &last_template,
            (chart_path, &own),
        ));
        last_template.insert(chart_path.to_string(), own);
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<Result<String, gotemplate::Error>>>> =
        jobs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    // Renders the next file of the queue; false when none is left.
    let work = || {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some(k) = jobs.get(i) else { return false };
        let out = set.execute(k, &Value::Map(scopes[i].clone()), ctx);
        *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(out);
        true
    };
    std::thread::scope(|s| {
        // Files render here first; threads join in only once the render has taken long
        // enough to pay for them (a small chart renders faster than threads start).
        let started = std::time::Instant::now();
        let mut spawned = false;
        while work() {
            let left = jobs
                .len()
                .saturating_sub(next.load(std::sync::atomic::Ordering::Relaxed));
            if !spawned && left >= 2 && started.elapsed() >= parallel_after {
                for _ in 1..workers.min(left) {
                    s.spawn(|| while work() {});
                }
                spawned = true;
            }
        }
    });
    // The first failure in Helm's order is the one Helm reports.
    for (k, r) in jobs.iter().zip(results) {
        let out = r
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .expect("every job ran");
        rendered.insert((*k).clone(), finish(k, out)?);
    }
    Ok(rendered)
}

/// Functions that change maps other templates can see (`set` on `.Values` or on a scope),
/// or run text known only while rendering (`tpl`). A chart calling any of them renders its
/// files one after another, exactly in Helm's order.
const SHARED_STATE_FUNCTIONS: &[&str] = &[
    "set",
    "unset",
    "merge",
    "mustMerge",
    "mergeOverwrite",
    "mustMergeOverwrite",
    "tpl",
];

/// At most this many threads render one chart's files.
const MAX_RENDER_THREADS: usize = 4;

/// Once rendering has taken this long, the files left render on threads too.
const PARALLEL_AFTER: std::time::Duration = std::time::Duration::from_micros(500);

/// `chart/charts/sub` for the base path `chart/charts/sub/templates`.
fn chart_path_of(base_path: &str) -> &str {
    base_path.strip_suffix("/templates").unwrap_or(base_path)
}

/// A copy of the scope of the chart at `path` and of its subcharts' scopes (reached through
/// `.Subcharts`) with `.Template` as Helm's sequential render leaves it: `own` for the file
/// being rendered, else the template its chart rendered last, else none.
fn scope_view(
    scope: &MapRef,
    path: &str,
    last_template: &BTreeMap<String, Value>,
    own: (&str, &Value),
) -> MapRef {
    let mut m = scope.read().clone();
    m.remove("Template");
    if path == own.0 {
        m.insert("Template".into(), own.1.clone());
    } else if let Some(t) = last_template.get(path) {
        m.insert("Template".into(), t.clone());
    }
    if let Some(Value::Map(subs)) = m.get("Subcharts") {
        let views: Map = subs
            .read()
            .iter()
            .map(|(name, v)| {
                let v = match v {
                    Value::Map(child) => Value::Map(scope_view(
                        child,
                        &format!("{path}/charts/{name}"),
                        last_template,
                        own,
                    )),
                    other => other.clone(),
                };
                (name.clone(), v)
            })
            .collect();
        m.insert("Subcharts".into(), Value::Map(MapRef::new(views)));
    }
    MapRef::new(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Side-by-side rendering must see exactly what Helm's one-file-after-another render sees,
    /// `.Template` of subcharts through `.Subcharts` included.
    #[test]
    fn parallel_render_equals_sequential() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/charts");
        for name in ["template-views", "nested", "globals", "big"] {
            let mut chart = crate::loader::load(&dir.join(name)).unwrap();
            let values = serde_json::Map::new();
            crate::deps::process_dependencies(&mut chart, &values).unwrap();
            let coalesced = crate::coalesce::coalesce_values(&chart, &values).unwrap();
            let tvalues = values_to_template(&serde_json::Value::Object(coalesced));
            let release = ReleaseOptions {
                name: "r".into(),
                namespace: "default".into(),
                revision: 1,
                is_install: true,
                is_upgrade: false,
            };
            let caps = Capabilities::default();
            let ctx = RenderContext::new();
            let run = |threads| {
                let now = std::time::Duration::ZERO;
                render_files(&chart, &tvalues, &release, &caps, &ctx, None, threads, now).unwrap()
            };
            assert_eq!(run(1), run(4), "{name}");
        }
    }

    #[test]
    fn template_order_matches_helm() {
        let mut k: Vec<String> = [
            "c/templates/a.yaml",
            "c/charts/s/templates/b.yaml",
            "c/templates/z.yaml",
            "c/charts/s/templates/a.yaml",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        sort_templates(&mut k);
        assert_eq!(
            k,
            [
                "c/charts/s/templates/b.yaml",
                "c/charts/s/templates/a.yaml",
                "c/templates/z.yaml",
                "c/templates/a.yaml"
            ]
        );
    }
}
