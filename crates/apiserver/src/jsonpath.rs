//! The kubectl JSONPath subset printer columns and scale paths use: `.a.b`, `['k']`, `[n]`,
//! `[*]` and filters `[?(@.f=="v")]`; the first match wins.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(i64),
    All,
    Filter(Vec<String>, bool, String),
}

fn parse(path: &str) -> Option<Vec<Step>> {
    let p = path.trim();
    let p = p
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(p);
    let p = p.strip_prefix('$').unwrap_or(p);
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    let mut steps = Vec::new();
    while i < chars.len() {
        match chars[i] {
            '.' => {
                i += 1;
                let start = i;
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    i += 1;
                }
                let k: String = chars[start..i].iter().collect();
                if !k.is_empty() {
                    steps.push(if k == "*" { Step::All } else { Step::Key(k) });
                }
            }
            '[' => {
                let end = find_close(&chars, i)?;
                let inner: String = chars[i + 1..end].iter().collect();
                let inner = inner.trim();
                i = end + 1;
                if inner == "*" {
                    steps.push(Step::All);
                } else if let Some(f) = inner.strip_prefix("?(").and_then(|s| s.strip_suffix(')')) {
                    let (lhs, eq, rhs) = if let Some((l, r)) = f.split_once("==") {
                        (l, true, r)
                    } else {
                        let (l, r) = f.split_once("!=")?;
                        (l, false, r)
                    };
                    let field: Vec<String> = lhs
                        .trim()
                        .strip_prefix("@.")?
                        .split('.')
                        .map(String::from)
                        .collect();
                    let v = rhs
                        .trim()
                        .trim_matches(|c| c == '"' || c == '\'')
                        .to_string();
                    steps.push(Step::Filter(field, eq, v));
                } else if let Ok(n) = inner.parse::<i64>() {
                    steps.push(Step::Index(n));
                } else {
                    steps.push(Step::Key(
                        inner.trim_matches(|c| c == '\'' || c == '"').to_string(),
                    ));
                }
            }
            _ => {
                // A path without a leading dot: treat the first segment as a key.
                let start = i;
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    i += 1;
                }
                steps.push(Step::Key(chars[start..i].iter().collect()));
            }
        }
    }
    Some(steps)
}

fn find_close(chars: &[char], open: usize) -> Option<usize> {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for (j, &c) in chars.iter().enumerate().skip(open) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '(') => depth += 1,
            (None, ']' | ')') => {
                depth -= 1;
                if depth == 0 && c == ']' {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn walk<'a>(cur: Vec<&'a Value>, step: &Step) -> Vec<&'a Value> {
    let mut out = Vec::new();
    for v in cur {
        match step {
            Step::Key(k) => {
                if let Some(c) = v.get(k) {
                    out.push(c);
                }
            }
            Step::Index(n) => {
                if let Some(a) = v.as_array() {
                    let idx = if *n < 0 { a.len() as i64 + n } else { *n };
                    if let Some(c) = usize::try_from(idx).ok().and_then(|i| a.get(i)) {
                        out.push(c);
                    }
                }
            }
            Step::All => match v {
                Value::Array(a) => out.extend(a.iter()),
                Value::Object(m) => out.extend(m.values()),
                _ => {}
            },
            Step::Filter(field, eq, want) => {
                if let Some(a) = v.as_array() {
                    for item in a {
                        let mut f = Some(item);
                        for p in field {
                            f = f.and_then(|x| x.get(p));
                        }
                        let matched = f.is_some_and(|x| scalar_text(x) == *want);
                        if matched == *eq && (f.is_some() || !*eq) {
                            out.push(item);
                        }
                    }
                }
            }
        }
    }
    out
}

/// Every value the path selects.
pub fn all<'a>(obj: &'a Value, path: &str) -> Vec<&'a Value> {
    let Some(steps) = parse(path) else {
        return vec![];
    };
    steps.iter().fold(vec![obj], walk)
}

/// The first value the path selects.
pub fn first<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    all(obj, path).into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths() {
        let o = json!({"status": {"conditions": [{"type": "Other", "status": "False"}, {"type": "Ready", "status": "True", "message": "ok"}]},
                       "spec": {"replicas": 3}, "metadata": {"labels": {"a.b/c": "x"}}});
        assert_eq!(
            first(&o, ".status.conditions[?(@.type==\"Ready\")].status"),
            Some(&json!("True"))
        );
        assert_eq!(
            first(&o, ".status.conditions[?(@.type==\"Ready\")].message"),
            Some(&json!("ok"))
        );
        assert_eq!(first(&o, "{.spec.replicas}"), Some(&json!(3)));
        assert_eq!(
            first(&o, ".status.conditions[0].type"),
            Some(&json!("Other"))
        );
        assert_eq!(first(&o, ".metadata.labels['a.b/c']"), Some(&json!("x")));
        assert_eq!(first(&o, ".spec.missing"), None);
        assert_eq!(all(&o, ".status.conditions[*].type").len(), 2);
    }
}
