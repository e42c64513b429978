//! Dependency processing as Helm does before rendering: aliases, `tags` and `condition`
//! enable/disable subcharts, then `import-values` (both forms) pull child values into the parent.

use crate::chart::Chart;
use crate::coalesce::{self, CoalesceError, Values};
use crate::semver::is_compatible_range;
use serde_json::{Map, Value};

/// Errors while processing dependencies.
#[derive(Debug, thiserror::Error)]
pub enum DependencyError {
    /// A dependency in Chart.yaml has no chart in `charts/`.
    #[error("found in Chart.yaml, but missing in charts/ directory: {0}")]
    Missing(String),
    /// Coalescing failed.
    #[error(transparent)]
    Coalesce(#[from] CoalesceError),
}

/// Helm's `CheckDependencies` on the top-level chart.
pub fn check_dependencies(chart: &Chart) -> Result<(), DependencyError> {
    let missing: Vec<&str> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|r| !chart.dependencies.iter().any(|d| d.name() == r.name))
        .map(|r| r.name.as_str())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(DependencyError::Missing(missing.join(", ")))
    }
}

/// Helm's `ProcessDependencies`: enabled/disabled processing, then import-values (merge mode).
pub fn process_dependencies(chart: &mut Chart, vals: &Values) -> Result<(), DependencyError> {
    process_enabled(chart, vals, "")?;
    process_import_values_rec(chart)?;
    Ok(())
}

fn process_enabled(c: &mut Chart, v: &Values, path: &str) -> Result<(), DependencyError> {
    if c.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let existing = std::mem::take(&mut c.dependencies);
    let mut deps: Vec<Chart> = Vec::new();
    // Charts in charts/ that Chart.yaml does not mention stay, first.
    for e in &existing {
        let declared =
            c.metadata.dependencies.iter().any(|r| {
                e.name() == r.name && is_compatible_range(&r.version, &e.metadata.version)
            });
        if !declared {
            deps.push(e.clone());
        }
    }
    for r in &mut c.metadata.dependencies {
        if let Some(i) = existing.iter().position(|e| {
            e.name() == r.name && is_compatible_range(&r.version, &e.metadata.version)
        }) {
            let mut d = existing[i].clone();
            if !r.alias.is_empty() {
                d.metadata.name = r.alias.clone();
            }
            deps.push(d);
        }
        if !r.alias.is_empty() {
            r.name = r.alias.clone();
        }
    }
    c.dependencies = deps;
    for r in &mut c.metadata.dependencies {
        r.enabled = true;
    }
    let cvals = coalesce::coalesce_values(c, v)?;
    process_tags(c, &cvals);
    process_conditions(c, &cvals, path);
    let removed: Vec<String> = c
        .metadata
        .dependencies
        .iter()
        .filter(|r| !r.enabled)
        .map(|r| r.name.clone())
        .collect();
    c.dependencies
        .retain(|d| !removed.iter().any(|n| n == d.name()));
    c.metadata
        .dependencies
        .retain(|r| !removed.contains(&r.name));
    for t in &mut c.dependencies {
        let sub_path = format!("{path}{}.", t.name());
        process_enabled(t, &cvals, &sub_path)?;
    }
    Ok(())
}

fn process_tags(c: &mut Chart, cvals: &Values) {
    let Some(tags) = coalesce::table(cvals, "tags") else {
        return;
    };
    for r in &mut c.metadata.dependencies {
        let (mut has_true, mut has_false) = (false, false);
        for k in &r.tags {
            if let Some(Value::Bool(b)) = tags.get(k) {
                if *b {
                    has_true = true;
                } else {
                    has_false = true;
                }
            }
        }
        r.enabled = has_true || !has_false;
    }
}

fn process_conditions(c: &mut Chart, cvals: &Values, path: &str) {
    for r in &mut c.metadata.dependencies {
        for cond in r.condition.trim().split(',') {
            if cond.is_empty() {
                continue;
            }
            if let Some(Value::Bool(b)) = coalesce::path_value(cvals, &format!("{path}{cond}")) {
                r.enabled = *b;
                break;
            }
        }
    }
}

fn process_import_values_rec(c: &mut Chart) -> Result<(), DependencyError> {
    for d in &mut c.dependencies {
        process_import_values_rec(d)?;
    }
    process_import_values(c)
}

/// Go's `%v` of a scalar from Chart.yaml (`<nil>` when absent).
fn go_v(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "<nil>".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn path_to_map(path: &str, data: Values) -> Values {
    if path == "." {
        return data;
    }
    let mut cur = data;
    for part in path.split('.').rev() {
        let mut m = Map::new();
        m.insert(part.to_string(), Value::Object(cur));
        cur = m;
    }
    cur
}

fn process_import_values(c: &mut Chart) -> Result<(), DependencyError> {
    if c.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let cvals = coalesce::merge_values(c, &Values::new())?;
    let mut b = Values::new();
    for r in &mut c.metadata.dependencies {
        let mut out = Vec::new();
        for iv in &r.import_values {
            match iv {
                Value::Object(m) => {
                    let child = go_v(m.get("child"));
                    let parent = go_v(m.get("parent"));
                    out.push(serde_json::json!({"child": child, "parent": parent}));
                    if let Some(vv) = coalesce::table(&cvals, &format!("{}.{child}", r.name)) {
                        coalesce::coalesce_tables(&mut b, path_to_map(&parent, vv.clone()), true);
                    }
                }
                Value::String(s) => {
                    let child = format!("exports.{s}");
                    if let Some(vm) = coalesce::table(&cvals, &format!("{}.{child}", r.name)) {
                        coalesce::coalesce_tables(&mut b, vm.clone(), true);
                    }
                    out.push(serde_json::json!({"child": child, "parent": "."}));
                }
                _ => {}
            }
        }
        r.import_values = out;
    }
    let mut merged = cvals;
    coalesce::coalesce_tables(&mut merged, b, true);
    c.values = merged;
    Ok(())
}
