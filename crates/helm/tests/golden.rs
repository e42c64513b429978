//! Chart corpus against golden outputs produced by Helm v4.1.4 (`tests/regen-golden.sh`).
//!
//! Every line of `tests/cases.txt` is one `helm template` run. Successful renders are compared
//! as data (each YAML document parsed) and byte for byte; failures are compared on Helm's error
//! message. Cases listed in `tests/known-failures.txt` are expected to differ; the test fails
//! when any other case differs (a listed case that starts matching is reported on stderr).

use anyhow::{Context, Result, bail};
use helm::action::{TemplateOptions, template};
use helm::objects::KubeVersion;
use helm::values::ValueOptions;
use std::path::{Path, PathBuf};

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

struct Case {
    name: String,
    chart: String,
    release: String,
    args: Vec<String>,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(tests_dir().join("cases.txt")).expect("cases.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut w = l.split_whitespace().map(str::to_string);
            Case {
                name: w.next().unwrap(),
                chart: w.next().unwrap(),
                release: w.next().unwrap(),
                args: w.collect(),
            }
        })
        .collect()
}

/// Runs one case the way `flux helm template` does; `Err` carries the error message.
fn run(case: &Case) -> Result<std::result::Result<String, String>> {
    let dir = tests_dir();
    let mut vo = ValueOptions::default();
    let mut opts = TemplateOptions {
        release_name: case.release.clone(),
        ..Default::default()
    };
    let mut it = case.args.iter();
    while let Some(flag) = it.next() {
        let mut val = || it.next().cloned().context("flag without value");
        match flag.as_str() {
            "-f" | "--values" => vo.value_files.push(val()?),
            "--set" => vo.values.push(val()?),
            "--set-string" => vo.string_values.push(val()?),
            "--set-json" => vo.json_values.push(val()?),
            "--set-file" => vo.file_values.push(val()?),
            "-n" | "--namespace" => opts.namespace = val()?,
            "--include-crds" => opts.include_crds = true,
            "--skip-tests" => opts.skip_tests = true,
            "--show-only" | "-s" => opts.show_only.push(val()?),
            "--api-versions" | "-a" => opts
                .api_versions
                .extend(val()?.split(',').map(str::to_string)),
            "--kube-version" => {
                let v = val()?;
                match KubeVersion::parse(&v) {
                    Ok(k) => opts.kube_version = Some(k),
                    Err(e) => return Ok(Err(format!("invalid kube version '{v}': {e}"))),
                }
            }
            other => bail!("unsupported flag {other} in case {}", case.name),
        }
    }
    opts.values = match vo.merge(&dir) {
        Ok(v) => v,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let path = if case.chart.contains('/') {
        dir.join(&case.chart)
    } else {
        dir.join("charts").join(&case.chart)
    };
    let chart = match helm::loader::load(&path) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e.to_string())),
    };
    Ok(template(chart, &opts).map_err(|e| e.to_string()))
}

fn docs(text: &str) -> Result<Vec<serde_json::Value>> {
    helm::yamlconv::parse_all(text)?
        .iter()
        .map(|n| n.to_json().map_err(Into::into))
        .collect()
}

/// Helm's error text from a golden `.err` file: the `Error: ` line onwards, without the
/// `--debug` hint.
fn golden_error(text: &str) -> String {
    let start = text
        .find("Error: ")
        .map(|i| i + "Error: ".len())
        .unwrap_or(0);
    let msg = &text[start..];
    let msg = msg.trim_end();
    msg.strip_suffix("Use --debug flag to render out invalid YAML")
        .unwrap_or(msg)
        .trim_end()
        .to_string()
}

/// Schema reports come from a different JSON-schema implementation: compare the header and
/// the chart names only.
fn schema_summary(msg: &str) -> Vec<String> {
    msg.lines()
        .filter(|l| !l.starts_with('-') && !l.starts_with(' '))
        .map(str::to_string)
        .collect()
}

#[derive(Debug)]
enum Outcome {
    ByteEqual,
    DataEqual,
    ErrorEqual,
    Differs(String),
}

fn check(case: &Case) -> Result<Outcome> {
    let dir = tests_dir().join("golden");
    let ours = run(case)?;
    let ok_path = dir.join(format!("{}.yaml", case.name));
    if ok_path.exists() {
        let want = std::fs::read_to_string(&ok_path)?;
        let got = match ours {
            Ok(g) => g,
            Err(e) => return Ok(Outcome::Differs(format!("expected output, got error: {e}"))),
        };
        if got == want {
            return Ok(Outcome::ByteEqual);
        }
        let (w, g) = (docs(&want)?, docs(&got));
        return Ok(match g {
            Ok(g) if g == w => Outcome::DataEqual,
            Ok(_) => Outcome::Differs(format!("--- want\n{want}\n--- got\n{got}")),
            Err(e) => Outcome::Differs(format!("our output is not YAML ({e}):\n{got}")),
        });
    }
    let want = golden_error(&std::fs::read_to_string(
        dir.join(format!("{}.err", case.name)),
    )?);
    Ok(match ours {
        Ok(out) => Outcome::Differs(format!("expected error {want:?}, got output:\n{out}")),
        Err(got) if got == want => Outcome::ErrorEqual,
        Err(got)
            if want.starts_with("values don't meet")
                && schema_summary(&got) == schema_summary(&want) =>
        {
            Outcome::ErrorEqual
        }
        Err(got) => Outcome::Differs(format!("error differs:\n want: {want}\n  got: {got}")),
    })
}

#[test]
fn chart_corpus_matches_helm() {
    let known: Vec<String> = std::fs::read_to_string(tests_dir().join("known-failures.txt"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    let all = cases();
    assert!(all.len() >= 60, "corpus too small: {}", all.len());
    let (mut bytes, mut data, mut errs) = (0, 0, 0);
    let mut unexpected = Vec::new();
    let mut fixed = Vec::new();
    let mut differing = Vec::new();
    for case in &all {
        let outcome =
            check(case).unwrap_or_else(|e| Outcome::Differs(format!("harness error: {e:#}")));
        let listed = known.contains(&case.name);
        match outcome {
            Outcome::ByteEqual => bytes += 1,
            Outcome::DataEqual => data += 1,
            Outcome::ErrorEqual => errs += 1,
            Outcome::Differs(why) => {
                differing.push(case.name.clone());
                if !listed {
                    unexpected.push(format!("== {}\n{why}", case.name));
                }
                continue;
            }
        }
        if listed {
            fixed.push(case.name.clone());
        }
    }
    eprintln!(
        "corpus: {} cases: {bytes} byte-identical, {data} equal as data, {errs} matching errors, {} differing {:?}",
        all.len(),
        differing.len(),
        differing
    );
    assert!(
        unexpected.is_empty(),
        "cases differing from Helm:\n{}",
        unexpected.join("\n")
    );
    // A listed case that now matches is reported, not failed: the fixes usually land in
    // gotemplate, and its commits must not break this crate's tests.
    if !fixed.is_empty() {
        eprintln!("cases now matching Helm; remove them from known-failures.txt: {fixed:?}");
    }
}

#[test]
fn every_chart_directory_has_a_case() {
    let all = cases();
    for entry in std::fs::read_dir(tests_dir().join("charts")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.starts_with('_') {
            continue;
        }
        assert!(
            all.iter().any(|c| c.chart == name),
            "chart {name} has no case in cases.txt"
        );
    }
    let dirs = std::fs::read_dir(tests_dir().join("charts"))
        .unwrap()
        .count();
    assert!(dirs >= 40, "want at least 40 charts, have {dirs}");
}
