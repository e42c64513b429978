//! kustomize reads kustomization.yaml with YAML 1.1 rules (sigs.k8s.io/yaml on go-yaml v2):
//! unquoted `yes`, `no`, `on`, `off`, `y`, `n` are booleans there. Our reader keeps them as
//! strings (right for resources, which kustomize reads with YAML 1.2 rules), so for
//! kustomization files we find those plain scalars and turn them into booleans.

use saphyr_parser::{Event, Parser, ScalarStyle};
use serde_json::Value;

#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Idx(usize),
}

enum Frame {
    Map {
        key: Option<String>,
        expecting_key: bool,
    },
    Seq {
        idx: usize,
    },
}

fn yaml11_bool(s: &str) -> Option<bool> {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

fn path_of(stack: &[Frame]) -> Vec<Seg> {
    stack
        .iter()
        .filter_map(|f| match f {
            Frame::Map { key, .. } => key.clone().map(Seg::Key),
            Frame::Seq { idx } => Some(Seg::Idx(*idx)),
        })
        .collect()
}

fn advance(stack: &mut [Frame]) {
    match stack.last_mut() {
        Some(Frame::Map { key, expecting_key }) => {
            *key = None;
            *expecting_key = true;
        }
        Some(Frame::Seq { idx }) => *idx += 1,
        None => {}
    }
}

/// Paths (in the first document) of plain scalars that YAML 1.1 reads as booleans.
fn bool_paths(text: &str) -> Vec<(Vec<Seg>, bool)> {
    let mut out = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut complex_key_depth = 0usize;
    for ev in Parser::new_from_str(text) {
        let Ok((ev, _)) = ev else { break };
        let at_key = matches!(
            stack.last(),
            Some(Frame::Map {
                expecting_key: true,
                ..
            })
        );
        match ev {
            Event::DocumentEnd => break,
            Event::Scalar(v, style, _, _) => {
                if complex_key_depth > 0 {
                    continue;
                }
                if at_key {
                    if let Some(Frame::Map { key, expecting_key }) = stack.last_mut() {
                        *key = Some(v.to_string());
                        *expecting_key = false;
                    }
                } else {
                    if style == ScalarStyle::Plain
                        && let Some(b) = yaml11_bool(&v)
                    {
                        out.push((path_of(&stack), b));
                    }
                    advance(&mut stack);
                }
            }
            Event::Alias(_) if complex_key_depth == 0 && !at_key => advance(&mut stack),
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if complex_key_depth > 0 || at_key {
                    // A collection used as a key: not something kustomization files have.
                    complex_key_depth += 1;
                    continue;
                }
                stack.push(if matches!(ev, Event::MappingStart(..)) {
                    Frame::Map {
                        key: None,
                        expecting_key: true,
                    }
                } else {
                    Frame::Seq { idx: 0 }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if complex_key_depth > 0 {
                    complex_key_depth -= 1;
                    continue;
                }
                stack.pop();
                advance(&mut stack);
            }
            _ => {}
        }
    }
    out
}

/// Turns YAML-1.1 boolean words of a kustomization document into booleans.
pub fn apply_bools(text: &str, v: &mut Value) {
    for (path, b) in bool_paths(text) {
        if let Some(slot) = lookup(v, &path)
            && slot.is_string()
        {
            *slot = Value::Bool(b);
        }
    }
}

fn lookup<'a>(v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    let Some((first, rest)) = path.split_first() else {
        return Some(v);
    };
    let next = match (first, v) {
        (Seg::Key(k), Value::Object(m)) => m.get_mut(k)?,
        (Seg::Idx(i), Value::Array(a)) => a.get_mut(*i)?,
        _ => return None,
    };
    lookup(next, rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_yaml11_words_become_booleans() {
        let text = "a: yes\nb: 'no'\nc:\n- on\n- x\nd:\n  e: n\nf: |\n  yes\n";
        let mut v = json!({"a": "yes", "b": "no", "c": ["on", "x"], "d": {"e": "n"}, "f": "yes\n"});
        apply_bools(text, &mut v);
        assert_eq!(
            v,
            json!({"a": true, "b": "no", "c": [true, "x"], "d": {"e": false}, "f": "yes\n"})
        );
    }
}
