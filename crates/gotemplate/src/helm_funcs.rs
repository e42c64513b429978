//! Helm's template functions (`include`, `tpl`, `required`, `fail`, `toYaml`, `fromYaml`,
//! `toJson`, `fromJson`, `toToml`, `lookup`, ...) and Helm's error-message reformatting.

use std::sync::Arc;

use crate::Error;
use crate::funcs::{FuncError, Functions, Param as P};
use crate::json::{self, JsonOptions};
use crate::sprig::{arg_s, ok_s};
use crate::value::{Map, Value};
use crate::yaml_out::{self, Flavor};

/// Answers Helm's `lookup apiVersion kind namespace name`. Offline renders use
/// [`OfflineLookup`], which returns an empty map like `helm template`.
pub trait Lookup: Send + Sync {
    /// The object (or, with an empty name, a list object) as a map, or an empty map.
    fn lookup(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Value, String>;
}

/// The offline `lookup`: always an empty map.
pub struct OfflineLookup;

impl Lookup for OfflineLookup {
    fn lookup(&self, _: &str, _: &str, _: &str, _: &str) -> Result<Value, String> {
        Ok(Value::empty_map())
    }
}

/// Marker Helm puts around `required`/`fail` messages so its error reformatting can find them.
pub const WARN_START: &str = "HELM_ERR_START";
/// End marker (see [`WARN_START`]).
pub const WARN_END: &str = "HELM_ERR_END";

/// Helm's `toYaml`: go-yaml v2 through JSON, trailing newline removed, "" on error.
pub fn to_yaml(v: &Value) -> String {
    yaml_out::to_yaml(v, Flavor::V2)
        .map(|s| s.strip_suffix('\n').map(str::to_string).unwrap_or(s))
        .unwrap_or_default()
}

/// Parses YAML into a [`Value`] the way sigs.k8s.io/yaml does (first document, go-yaml v2
/// resolution, YAML → JSON → Go values; numbers become float64), with Helm's error texts.
pub fn parse_yaml(text: &str) -> Result<Value, String> {
    // Raw bytes (see gostr) first meet go-yaml's UTF-8 checks.
    if crate::gostr::has_raw_bytes(text)
        && let Some(e) = crate::gostr::yaml_reader_error(&crate::gostr::go_bytes(text))
    {
        return Err(format!("error converting YAML to JSON: yaml: {e}"));
    }
    crate::yaml_error::yaml_to_json(text)
        .map(|j| Value::from_json(&j))
        .map_err(|e| e.to_string())
}

fn from_yaml(text: &str) -> Value {
    let err_map = |e: String| {
        let mut m = Map::new();
        m.insert("Error".into(), Value::str(e));
        Value::map(m)
    };
    match parse_yaml(text) {
        Ok(Value::Map(m)) => Value::Map(m),
        Ok(Value::Nil) => Value::empty_map(),
        Ok(other) => err_map(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json::json_kind(&other)
        )),
        Err(e) => err_map(e),
    }
}

fn from_yaml_array(text: &str) -> Value {
    match parse_yaml(text) {
        Ok(Value::List(l, k)) => Value::List(l, k),
        Ok(Value::Nil) => Value::list(Vec::new()),
        Ok(other) => Value::list(vec![Value::str(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type []interface {{}}",
            json::json_kind(&other)
        ))]),
        Err(e) => Value::list(vec![Value::str(e)]),
    }
}

fn from_json(text: &str) -> Value {
    let err_map = |e: String| {
        let mut m = Map::new();
        m.insert("Error".into(), Value::str(e));
        Value::map(m)
    };
    match json::decode(text) {
        Ok(Value::Map(m)) => Value::Map(m),
        Ok(Value::Nil) => Value::empty_map(),
        Ok(other) => err_map(format!(
            "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json::json_kind(&other)
        )),
        Err(e) => err_map(e),
    }
}

fn from_json_array(text: &str) -> Value {
    match json::decode(text) {
        Ok(Value::List(l, k)) => Value::List(l, k),
        Ok(Value::Nil) => Value::list(Vec::new()),
        Ok(other) => Value::list(vec![Value::str(format!(
            "json: cannot unmarshal {} into Go value of type []interface {{}}",
            json::json_kind(&other)
        ))]),
        Err(e) => Value::list(vec![Value::str(e)]),
    }
}

/// Helm's functions with an offline `lookup`.
pub fn functions() -> Functions {
    functions_with_lookup(Arc::new(OfflineLookup))
}

/// Helm's functions with `lookup` answered by `lookup`.
pub fn functions_with_lookup(lookup: Arc<dyn Lookup>) -> Functions {
    let mut f = Functions::new();
    f.add("toYaml", &[P::Any], |_, a| ok_s(to_yaml(&a[0])));
    f.add("mustToYaml", &[P::Any], |_, a| {
        yaml_out::to_yaml(&a[0], Flavor::V2)
            .map(|s| Value::str(s.strip_suffix('\n').unwrap_or(&s)))
            .map_err(FuncError::new)
    });
    f.add("toYamlPretty", &[P::Any], |_, a| {
        ok_s(
            yaml_out::to_yaml(&a[0], Flavor::V3Pretty)
                .map(|s| s.strip_suffix('\n').map(str::to_string).unwrap_or(s))
                .unwrap_or_default(),
        )
    });
    f.add("fromYaml", &[P::String], |_, a| Ok(from_yaml(arg_s(a, 0))));
    f.add("fromYamlArray", &[P::String], |_, a| {
        Ok(from_yaml_array(arg_s(a, 0)))
    });
    let html = JsonOptions {
        escape_html: true,
        indent: 0,
    };
    f.add("toJson", &[P::Any], move |_, a| {
        ok_s(json::encode(&a[0], html).unwrap_or_default())
    });
    f.add("mustToJson", &[P::Any], move |_, a| {
        json::encode(&a[0], html)
            .map(Value::str)
            .map_err(FuncError::new)
    });
    f.add("fromJson", &[P::String], |_, a| Ok(from_json(arg_s(a, 0))));
    f.add("fromJsonArray", &[P::String], |_, a| {
        Ok(from_json_array(arg_s(a, 0)))
    });
    f.add("toToml", &[P::Any], |_, a| {
        ok_s(crate::toml::encode(&a[0]).unwrap_or_else(|e| e))
    });
    f.add("fromToml", &[P::String], |_, a| {
        Ok(match crate::toml::decode(arg_s(a, 0)) {
            Ok(m) => Value::map(m),
            Err(e) => {
                let mut m = Map::new();
                m.insert("Error".into(), Value::str(e));
                Value::map(m)
            }
        })
    });
    f.add("include", &[P::String, P::Any], |cc, a| {
        // The output is one Go string: re-decode chars whose bytes were printed separately.
        cc.execute_template(arg_s(a, 0), &a[1])
            .map(|s| Value::str(crate::gostr::normalize(s)))
            .map_err(FuncError::from)
    });
    f.add("tpl", &[P::String, P::Any], |cc, a| {
        let text = arg_s(a, 0);
        let name = cc.template_set().name().to_string();
        match cc.execute_text(&name, text, &a[1]) {
            Ok(s) => ok_s(crate::gostr::normalize(s.replace("<no value>", ""))),
            Err(e @ Error::Parse(_)) => Err(FuncError::wrap(
                &format!("cannot parse template {}: ", crate::gofmt::quote(text)),
                &e,
            )),
            Err(e) => Err(FuncError::wrap(
                &format!(
                    "error during tpl function execution for {}: ",
                    crate::gofmt::quote(text)
                ),
                &e,
            )),
        }
    });
    f.add("required", &[P::String, P::Any], |_, a| {
        let missing = match &a[1] {
            Value::Nil => true,
            Value::String(s) => s.is_empty(),
            _ => false,
        };
        if missing {
            return Err(FuncError::new(format!(
                "{WARN_START}{}{WARN_END}",
                arg_s(a, 0)
            )));
        }
        Ok(a[1].clone())
    });
    f.add("fail", &[P::String], |_, a| {
        Err(FuncError::new(format!(
            "{WARN_START}{}{WARN_END}",
            arg_s(a, 0)
        )))
    });
    f.add(
        "lookup",
        &[P::String, P::String, P::String, P::String],
        move |_, a| {
            lookup
                .lookup(arg_s(a, 0), arg_s(a, 1), arg_s(a, 2), arg_s(a, 3))
                .map_err(FuncError::new)
        },
    );
    f
}

/// Helm's `cleanupParseError`: `parse error at (LOCATION): MESSAGE`.
pub fn cleanup_parse_error(filename: &str, err: &Error) -> String {
    let msg = err.message();
    let tokens: Vec<&str> = msg.split(": ").collect();
    if tokens.len() == 1 {
        return format!("parse error in ({filename}): {msg}");
    }
    format!(
        "parse error at ({}): {}",
        tokens[1],
        tokens[tokens.len() - 1]
    )
}

#[derive(PartialEq, Clone, Default)]
struct Traceable {
    location: String,
    message: String,
    executed: String,
}

impl Traceable {
    fn render(&self) -> String {
        let mut s = String::new();
        if !self.location.is_empty() {
            s.push_str(&format!("{}\n  ", self.location));
        }
        if !self.executed.is_empty() {
            s.push_str(&format!("{}\n    ", self.executed));
        }
        if !self.message.is_empty() {
            s.push_str(&format!("{}\n", self.message));
        }
        s
    }
}

fn parse_traceable(s: &str) -> Option<Traceable> {
    let rem = s.strip_prefix("template: ")?;
    if rem.starts_with("no template ") {
        return Some(Traceable {
            message: s.to_string(),
            ..Default::default()
        });
    }
    let cut_chain = |m: &str| match m.find(" template:") {
        Some(i) => m[..i].to_string(),
        None => m.to_string(),
    };
    if let Some((name, after)) = rem.split_once(": executing ") {
        let after = after.strip_prefix('"')?;
        let end = after.find('"')?;
        let func = &after[..end];
        let rest = after[end + 1..].strip_prefix(" at <")?;
        let (loc, msg) = rest.split_once(">: ")?;
        return Some(Traceable {
            location: name.to_string(),
            message: cut_chain(msg),
            executed: format!("executing \"{func}\" at <{loc}>:"),
        });
    }
    let sep = rem.rfind(": ")?;
    Some(Traceable {
        location: rem[..sep].to_string(),
        message: cut_chain(&rem[sep + 2..]),
        executed: String::new(),
    })
}

/// Helm's `reformatExecErrorMsg`: `execution error at (LOCATION): MESSAGE` for
/// `required`/`fail`, the multi-line trace for chains of template errors, or the message
/// unchanged.
pub fn reformat_exec_error(filename: &str, err: &Error) -> String {
    let Error::Exec { message, .. } = err else {
        return err.message().to_string();
    };
    let tokens: Vec<&str> = message.splitn(3, ": ").collect();
    if tokens.len() != 3 {
        return format!("execution error in ({filename}): {message}");
    }
    if let Some(start) = tokens[2].find(WARN_START)
        && let Some(end) = tokens[2].rfind(WARN_END)
        && end >= start + WARN_START.len()
    {
        return format!(
            "execution error at ({}): {}",
            tokens[1],
            &tokens[2][start + WARN_START.len()..end]
        );
    }
    let mut locs: Vec<Traceable> = Vec::new();
    for m in err.chain() {
        match parse_traceable(&m) {
            Some(t) => {
                if locs.last() != Some(&t) {
                    locs.push(t);
                }
            }
            None => return message.clone(),
        }
    }
    locs.iter()
        .map(Traceable::render)
        .collect::<String>()
        .trim()
        .to_string()
}
