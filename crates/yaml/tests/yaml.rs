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

/// Values equal up to number representation (kustomize prints `1.0` as `1`).
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// A small deterministic generator (xorshift), so the mutation test needs no dependency and
/// every run checks the same inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, text: &str) -> String {
    const PIECES: &[&str] = &[
        ":",
        "-",
        "- ",
        "? ",
        "[",
        "]",
        "{",
        "}",
        "#",
        "&a ",
        "*a",
        "!",
        "|",
        ">",
        "'",
        "\"",
        "%",
        "@",
        "`",
        ",",
        " ",
        "\n",
        "\t",
        "0",
        "1.5",
        "~",
        ".",
        "<<: ",
        "yes",
        "null",
        "\\",
        "é",
        "🚀",
        "---\n",
        "|-\n  x\n",
    ];
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..=rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(5) {
            0 if at < chars.len() => {
                chars.remove(at);
            }
            1 => {
                let piece = PIECES[rng.below(PIECES.len())];
                for (i, c) in piece.chars().enumerate() {
                    chars.insert(at + i, c);
                }
            }
            2 => chars.truncate(at),
            3 if !chars.is_empty() => {
                let from = rng.below(chars.len());
                let len = rng.below(40).min(chars.len() - from);
                let copy: Vec<char> = chars[from..from + len].to_vec();
                for (i, c) in copy.into_iter().enumerate() {
                    chars.insert(at + i, c);
                }
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

#[test]
fn mutated_inputs_round_trip() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let inputs: Vec<String> = cases().into_iter().map(|(_, input, _)| input).collect();
    let (mut parsed, mut total) = (0, 0);
    for _ in 0..6000 {
        let pick = rng.below(inputs.len());
        let text = mutate(&mut rng, &inputs[pick]);
        total += 1;
        let Ok(docs) = yaml::parse_documents(&text) else {
            continue;
        };
        parsed += 1;
        let written = yaml::to_multi_doc_string(&docs);
        let again = yaml::parse_documents(&written).unwrap_or_else(|e| {
            panic!("our output does not parse ({e}):\n{written}\nfrom input:\n{text}")
        });
        assert!(
            docs.len() == again.len() && docs.iter().zip(&again).all(|(a, b)| same(a, b)),
            "round trip changed the values.\ninput:\n{text}\nwritten:\n{written}"
        );
    }
    // The property must actually have been exercised on many inputs.
    assert!(
        parsed > total / 10,
        "only {parsed} of {total} mutants parsed"
    );
}

#[test]
fn alias_bombs_are_refused() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let err = yaml::parse_documents(&text).expect_err("billion laughs");
    assert!(err.to_string().contains("too many nodes"), "{err}");
    let deep = "[".repeat(10_000);
    assert!(yaml::parse_documents(&deep).is_err());
}

#[test]
fn setter_edits_values_in_place() {
    use yaml::PathSegment::{Index, Key};
    let text = "\
# top comment
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
      - name: app
        image: ghcr.io/org/app:1.0.0 # {\"$imagepolicy\": \"flux-system:app\"}
      - name: side
        image: 'docker.io/side:2.0'   # {\"$imagepolicy\": \"flux-system:side:tag\"}
        args: [\"--x\", plain]
---
kind: Other
tag: \"v1\" # {\"$imagepolicy\": \"ns:p:tag\"}
";
    let sites = yaml::scalar_sites(text).expect("sites");
    let image = sites
        .iter()
        .find(|s| s.value == "ghcr.io/org/app:1.0.0")
        .expect("image site");
    assert_eq!(image.document, 0);
    assert_eq!(image.line, 9);
    assert_eq!(
        image.path,
        [
            Key("spec".into()),
            Key("template".into()),
            Key("spec".into()),
            Key("containers".into()),
            Index(0),
            Key("image".into())
        ]
    );
    assert_eq!(
        image.comment.as_deref(),
        Some("{\"$imagepolicy\": \"flux-system:app\"}")
    );
    let side = sites
        .iter()
        .find(|s| s.value == "docker.io/side:2.0")
        .expect("side site");
    assert_eq!(&text[side.range.clone()], "'docker.io/side:2.0'");
    let arg = sites.iter().find(|s| s.value == "--x").expect("flow item");
    assert_eq!(arg.path.last(), Some(&Index(0)));
    assert_eq!(arg.comment, None);
    let tag = sites.iter().find(|s| s.value == "v1").expect("tag");
    assert_eq!(
        (tag.document, tag.path.as_slice()),
        (1, &[Key("tag".into())][..])
    );

    let edited = yaml::set_scalar(text, image, "ghcr.io/org/app:1.1.0");
    let edited = {
        let sites = yaml::scalar_sites(&edited).expect("sites again");
        let side = sites
            .iter()
            .find(|s| s.value == "docker.io/side:2.0")
            .expect("side");
        yaml::set_scalar(&edited, side, "docker.io/side:it's")
    };
    let edited = {
        let sites = yaml::scalar_sites(&edited).expect("sites again");
        let tag = sites.iter().find(|s| s.value == "v1").expect("tag");
        yaml::set_scalar(&edited, tag, "v2")
    };
    let want = text
        .replace("ghcr.io/org/app:1.0.0", "ghcr.io/org/app:1.1.0")
        .replace("'docker.io/side:2.0'", "'docker.io/side:it''s'")
        .replace("\"v1\"", "\"v2\"");
    assert_eq!(edited, want);

    // A plain value that would read as another type gets quoted.
    let sites = yaml::scalar_sites("a: x # c\n").expect("sites");
    assert_eq!(
        yaml::set_scalar("a: x # c\n", &sites[0], "true"),
        "a: \"true\" # c\n"
    );
    assert_eq!(
        yaml::set_scalar("a: x # c\n", &sites[0], "a: b"),
        "a: \"a: b\" # c\n"
    );
}

#[test]
fn yaml11_rules_read_old_booleans() {
    let text = "a: yes\nb: n\nc: 'on'\nd: Off\ne: true\nf: yesno\n";
    let kyaml = yaml::parse(text).expect("kyaml");
    assert_eq!(
        kyaml,
        serde_json::json!({"a": "yes", "b": "n", "c": "on", "d": "Off", "e": true, "f": "yesno"})
    );
    let old = yaml::parse_documents_with(text, yaml::ScalarRules::Yaml11).expect("yaml 1.1");
    assert_eq!(
        old[0],
        serde_json::json!({"a": true, "b": false, "c": "on", "d": false, "e": true, "f": "yesno"})
    );
}
