//! Runs every case of `golden.json` (expected sides produced by Helm v4.1.4, see regen.py)
//! through our engine exactly the way regen.py rendered it through Helm: the case text as
//! `gotpl/templates/_cNNNN.tpl`, included by `gotpl/templates/cNNNN.yaml`, with Helm's
//! functions and `missingkey=zero`; errors reformatted as Helm does.

use gotemplate::helm_funcs::{cleanup_parse_error, reformat_exec_error};
use gotemplate::{Error, MissingKey, RenderContext, TemplateSet, Value};

struct Case {
    id: String,
    name: String,
    template: String,
    values: serde_json::Value,
    output: Option<String>,
    error: Option<String>,
}

fn load() -> Vec<Case> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance/golden.json");
    let text = std::fs::read_to_string(path).expect("read golden.json");
    let all: Vec<serde_json::Value> = serde_json::from_str(&text).expect("parse golden.json");
    all.into_iter()
        .map(|c| Case {
            id: c["id"].as_str().unwrap().to_string(),
            name: c["name"].as_str().unwrap().to_string(),
            template: c["template"].as_str().unwrap().to_string(),
            values: c["values"].clone(),
            output: c.get("output").and_then(|o| o.as_str()).map(str::to_string),
            error: c.get("error").and_then(|o| o.as_str()).map(|e| {
                e.trim_end_matches("\n\nUse --debug flag to render out invalid YAML")
                    .to_string()
            }),
        })
        .collect()
}

/// Renders one case like `helm template` would; Ok(output of the case) or Err(Helm's message).
fn render(case: &Case) -> Result<String, String> {
    let case_file = format!("gotpl/templates/_{}.tpl", case.id);
    let wrapper_file = format!("gotpl/templates/{}.yaml", case.id);
    let wrapper = format!(
        "out: \"{{{{ include \"{case_file}\" .Values.cases.{} | b64enc }}}}\"\n",
        case.id
    );
    let mut set = TemplateSet::named("gotpl");
    set.set_missing_key(MissingKey::Zero);
    set.add_functions(gotemplate::helm_functions());
    // Helm parses files in path order: "_cNNNN.tpl" sorts before "cNNNN.yaml".
    set.parse(&case_file, &case.template)
        .map_err(|e| cleanup_parse_error(&case_file, &e))?;
    set.parse(&wrapper_file, &wrapper)
        .map_err(|e| cleanup_parse_error(&wrapper_file, &e))?;
    let data = Value::from_json(&serde_json::json!({
        "Values": {"cases": {case.id.clone(): case.values.clone()}},
        "Template": {"Name": wrapper_file, "BasePath": "gotpl/templates"},
    }));
    let out = set
        .execute(&wrapper_file, &data, &RenderContext::new())
        .map_err(|e: Error| reformat_exec_error(&wrapper_file, &e))?;
    let out = out.replace("<no value>", "");
    let b64 = out
        .strip_prefix("out: \"")
        .and_then(|s| s.strip_suffix("\"\n"))
        .ok_or_else(|| format!("unexpected wrapper output {out:?}"))?;
    let bytes = gotemplate::encoding::b64_decode(b64).map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Cases whose expected side we do not reproduce yet, each with the reason. The test
/// fails if one of them starts passing (so this list only shrinks) or if any other case
/// mismatches.
const KNOWN_GAPS: &[(&str, &str)] = &[];

#[test]
fn helm_conformance_corpus() {
    let cases = load();
    assert!(cases.len() >= 300, "corpus has only {} cases", cases.len());
    let mut failures = Vec::new();
    let mut fixed_gaps = Vec::new();
    let mut passed = 0;
    for case in &cases {
        let got =
            std::panic::catch_unwind(|| render(case)).unwrap_or_else(|_| Err("PANIC".to_string()));
        let ok = match (&case.output, &case.error, &got) {
            (Some(want), _, Ok(g)) => want == g,
            (_, Some(want), Err(g)) => want == g,
            _ => false,
        };
        let gap = KNOWN_GAPS.iter().any(|(n, _)| *n == case.name);
        match (ok, gap) {
            (true, false) => passed += 1,
            (true, true) => fixed_gaps.push(case.name.clone()),
            (false, true) => {}
            (false, false) => failures.push(format!(
                "{} {}\n  template: {:?}\n  want: {}\n  got:  {}",
                case.id,
                case.name,
                case.template,
                match (&case.output, &case.error) {
                    (Some(o), _) => format!("output {o:?}"),
                    (_, Some(e)) => format!("error {e:?}"),
                    _ => "?".into(),
                },
                match &got {
                    Ok(o) => format!("output {o:?}"),
                    Err(e) => format!("error {e:?}"),
                }
            )),
        }
    }
    eprintln!(
        "conformance: {passed} passed, {} failed, {} known gaps, of {}",
        failures.len(),
        KNOWN_GAPS.len(),
        cases.len()
    );
    assert!(
        fixed_gaps.is_empty(),
        "known gaps now pass, remove them from KNOWN_GAPS: {fixed_gaps:?}"
    );
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
