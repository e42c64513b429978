//! Integration tests of the yaml crate: the golden corpus produced by `kubectl kustomize`
//! (Kustomize v5.5; regenerate with `tests/regen-goldens.sh`) and round trips.

use pretty_assertions::assert_eq;
use std::path::{Path, PathBuf};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Every `NAME.in.yaml` with its `NAME.out.yaml` (expected text) or `NAME.err` (oracle failed).
fn cases() -> Vec<(String, String, Option<String>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(golden_dir()).expect("reading golden dir") {
        let path = entry.expect("dir entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let Some(stem) = name.strip_suffix(".in.yaml") else {
            continue;
        };
        let input = std::fs::read_to_string(&path).expect("reading input");
        let expected = std::fs::read_to_string(golden_dir().join(format!("{stem}.out.yaml"))).ok();
        out.push((stem.to_string(), input, expected));
    }
    out.sort();
    out
}

#[test]
fn golden_corpus_is_byte_identical_to_kustomize() {
    let cases = cases();
    assert!(
        cases.len() >= 15,
        "golden corpus went missing: {} cases",
        cases.len()
    );
    let mut failures = Vec::new();
    for (name, input, expected) in &cases {
        let parsed = yaml::parse_documents(input);
        match (expected, parsed) {
            (Some(want), Ok(docs)) => {
                let got = yaml::to_multi_doc_string(&docs);
                if &got != want {
                    failures.push(format!(
                        "== {name}: output differs\n{}",
                        first_difference(want, &got)
                    ));
                }
            }
            (Some(_), Err(e)) => failures.push(format!("== {name}: parse failed: {e}")),
            (None, Ok(docs)) => {
                failures.push(format!("== {name}: oracle failed but we parsed {docs:?}"))
            }
            (None, Err(_)) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn writing_our_output_again_is_stable() {
    for (name, _, expected) in cases() {
        let Some(want) = expected else { continue };
        let docs = yaml::parse_documents(&want)
            .unwrap_or_else(|e| panic!("{name}: re-reading output: {e}"));
        assert_eq!(
            yaml::to_multi_doc_string(&docs),
            want,
            "{name}: output is not a fixed point"
        );
    }
}

#[test]
fn error_cases_name_the_line() {
    let err = yaml::parse_documents("a: 1\na: 2\n").expect_err("duplicate key");
    assert!(err.to_string().contains("line 2"), "{err}");
    assert!(err.to_string().contains("\"a\""), "{err}");
    let err = yaml::parse_documents("a: [1, 2\n").expect_err("unclosed flow sequence");
    assert!(err.to_string().starts_with("parsing yaml at line"), "{err}");
}

#[test]
fn keep_order_writer_keeps_order() {
    let docs = yaml::parse_documents("z: 1\na:\n  q: [b, a]\n  p: {}\n").expect("parse");
    assert_eq!(
        yaml::to_string_keep_order(&docs[0]),
        "z: 1\na:\n  q:\n  - b\n  - a\n  p: {}\n"
    );
    assert_eq!(
        yaml::to_string(&docs[0]),
        "a:\n  p: {}\n  q:\n  - b\n  - a\nz: 1\n"
    );
}

#[test]
fn single_document_parse() {
    assert_eq!(yaml::parse("").expect("empty"), serde_json::Value::Null);
    assert_eq!(
        yaml::parse("a: 1").expect("one"),
        serde_json::json!({"a": 1})
    );
    assert!(matches!(
        yaml::parse("a: 1\n---\nb: 2\n"),
        Err(yaml::YamlError::MultipleDocuments(2))
    ));
}

/// The first differing line of two texts with a little context, for readable failures.
fn first_difference(want: &str, got: &str) -> String {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let i = w
        .iter()
        .zip(&g)
        .position(|(a, b)| a != b)
        .unwrap_or(w.len().min(g.len()));
    let from = i.saturating_sub(2);
    format!(
        "line {}:\n  want: {:?}\n  got:  {:?}",
        i + 1,
        &w[from..(i + 3).min(w.len())],
        &g[from..(i + 3).min(g.len())]
    )
}
