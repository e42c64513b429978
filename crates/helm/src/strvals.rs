//! Helm's `--set` syntax (strvals): `a.b=c`, lists `a[0]=x`, `{x,y}` list values, `\` escapes,
//! type inference (`true`, `false`, `null`, int64); plus `--set-string`, `--set-json`, `--set-file`.

use crate::coalesce::Values;
use serde_json::{Map, Value};

/// Largest list index accepted (Helm's `MaxIndex`).
pub const MAX_INDEX: usize = 65536;
/// Deepest dotted name accepted (Helm's `MaxNestedNameLevel`).
pub const MAX_NESTED_NAME_LEVEL: usize = 30;

/// A `--set*` parse error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

fn err<T>(s: impl Into<String>) -> Result<T, Step> {
    Err(Step::Err(ParseError(s.into())))
}

/// How a value's runes become a value.
pub enum Reader<'a> {
    /// `--set`: typed values.
    Typed,
    /// `--set-string`: strings.
    String,
    /// `--set-json`: JSON values.
    Json,
    /// `--set-file`: the named file's contents.
    File(&'a dyn Fn(&str) -> Result<String, String>),
}

enum Step {
    Eof,
    Err(ParseError),
}

struct Scanner {
    chars: Vec<char>,
    pos: usize,
}

impl Scanner {
    fn read(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }
    fn unread(&mut self) {
        self.pos -= 1;
    }
    fn rest(&self) -> String {
        self.chars[self.pos..].iter().collect()
    }
    /// Go's `runesUntil`: reads up to a stop rune, honouring `\` escapes.
    fn until(&mut self, stop: &[char]) -> (String, Option<char>) {
        let mut v = String::new();
        loop {
            match self.read() {
                None => return (v, None),
                Some(c) if stop.contains(&c) => return (v, Some(c)),
                Some('\\') => match self.read() {
                    None => return (v, None),
                    Some(n) => v.push(n),
                },
                Some(c) => v.push(c),
            }
        }
    }
}

struct Parser<'a> {
    sc: Scanner,
    reader: Reader<'a>,
}

/// Parses one `--set` argument into `dest`.
pub fn parse_into(s: &str, dest: &mut Values, reader: Reader<'_>) -> Result<(), ParseError> {
    let mut p = Parser {
        sc: Scanner {
            chars: s.chars().collect(),
            pos: 0,
        },
        reader,
    };
    loop {
        match p.key(dest, 0) {
            Ok(()) => continue,
            Err(Step::Eof) => return Ok(()),
            Err(Step::Err(e)) => return Err(e),
        }
    }
}

/// Go's `typedVal`.
pub fn typed_val(v: &str) -> Value {
    if v.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if v.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if v.eq_ignore_ascii_case("null") {
        return Value::Null;
    }
    if v == "0" {
        return Value::from(0i64);
    }
    if !v.is_empty() && !v.starts_with('0') {
        let digits = v.strip_prefix(['+', '-']).unwrap_or(v);
        if !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && let Ok(i) = v.parse::<i64>()
        {
            return Value::from(i);
        }
    }
    Value::String(v.to_string())
}

fn set(data: &mut Values, key: &str, val: Value) {
    if !key.is_empty() {
        data.insert(key.to_string(), val);
    }
}

fn set_index(mut list: Vec<Value>, index: i64, val: Value) -> Result<Vec<Value>, Step> {
    if index < 0 {
        return err(format!("negative {index} index not allowed"));
    }
    let index = index as usize;
    if index > MAX_INDEX {
        return err(format!(
            "index of {index} is greater than maximum supported index of {MAX_INDEX}"
        ));
    }
    if list.len() <= index {
        list.resize(index + 1, Value::Null);
    }
    list[index] = val;
    Ok(list)
}

fn go_atoi(s: &str) -> Result<i64, Step> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return err(format!(
            "error parsing index: strconv.Atoi: parsing {s:?}: invalid syntax"
        ));
    }
    s.parse::<i64>().or_else(|_| {
        err(format!(
            "error parsing index: strconv.Atoi: parsing {s:?}: value out of range"
        ))
    })
}

impl Parser<'_> {
    fn read_value(&self, rs: &str) -> Result<Value, Step> {
        match &self.reader {
            Reader::Typed => Ok(typed_val(rs)),
            Reader::String | Reader::Json => Ok(Value::String(rs.to_string())),
            Reader::File(f) => f(rs).map(Value::String).or_else(err),
        }
    }

    fn key(&mut self, data: &mut Values, level: usize) -> Result<(), Step> {
        let (k, last) = self.sc.until(&['=', '[', ',', '.']);
        match last {
            None => {
                if k.is_empty() {
                    return Err(Step::Eof);
                }
                err(format!("key {k:?} has no value"))
            }
            Some('[') => {
                let (idx, last) = self.sc.until(&[']']);
                if last.is_none() {
                    return Err(Step::Eof);
                }
                let i = go_atoi(&idx)?;
                let list = match data.get(&k) {
                    None => Vec::new(),
                    Some(Value::Array(l)) => l.clone(),
                    Some(_) => {
                        return err(
                            "unable to parse key: interface conversion: interface {} is not []interface {}",
                        );
                    }
                };
                let res = self.list_item(list, i, level);
                match res {
                    Ok(list) => {
                        set(data, &k, Value::Array(list));
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            Some('=') => {
                if matches!(self.reader, Reader::Json) {
                    if self.empty_val() {
                        set(data, &k, Value::Null);
                        return Ok(());
                    }
                    let v = self.json_value()?;
                    set(data, &k, v);
                    self.empty_val();
                    return Ok(());
                }
                match self.val_list() {
                    Ok(Some(list)) => {
                        set(data, &k, Value::Array(list));
                        Ok(())
                    }
                    Ok(None) => {
                        let (rs, _) = self.sc.until(&[',']);
                        let v = self.read_value(&rs)?;
                        set(data, &k, v);
                        Ok(())
                    }
                    Err(Step::Eof) => {
                        set(data, &k, Value::String(String::new()));
                        Err(Step::Eof)
                    }
                    Err(e) => Err(e),
                }
            }
            Some(',') => {
                set(data, &k, Value::String(String::new()));
                err(format!("key {k:?} has no value (cannot end with ,)"))
            }
            Some(_) => {
                // '.'
                let level = level + 1;
                if level > MAX_NESTED_NAME_LEVEL {
                    return err(format!(
                        "value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAME_LEVEL}"
                    ));
                }
                let mut inner = match data.get(&k) {
                    None => Map::new(),
                    Some(Value::Object(m)) => m.clone(),
                    Some(_) => {
                        return err(
                            "unable to parse key: interface conversion: interface {} is not map[string]interface {}",
                        );
                    }
                };
                let e = self.key(&mut inner, level);
                if e.is_ok() && inner.is_empty() {
                    return err(format!("key map {k:?} has no value"));
                }
                if !inner.is_empty() {
                    set(data, &k, Value::Object(inner));
                }
                e
            }
        }
    }

    fn list_item(&mut self, list: Vec<Value>, i: i64, level: usize) -> Result<Vec<Value>, Step> {
        if i < 0 {
            return err(format!("negative {i} index not allowed"));
        }
        let (k, last) = self.sc.until(&['[', '.', '=']);
        if !k.is_empty() {
            return err(format!("unexpected data at end of array index: {k:?}"));
        }
        match last {
            None => Err(Step::Eof),
            Some('=') => {
                if matches!(self.reader, Reader::Json) {
                    if self.empty_val() {
                        return set_index(list, i, Value::Null);
                    }
                    let v = self.json_value()?;
                    let list = set_index(list, i, v)?;
                    self.empty_val();
                    return Ok(list);
                }
                match self.val_list() {
                    Ok(Some(vl)) => set_index(list, i, Value::Array(vl)),
                    Ok(None) => {
                        let (rs, _) = self.sc.until(&[',']);
                        let v = self.read_value(&rs)?;
                        set_index(list, i, v)
                    }
                    Err(Step::Eof) => set_index(list, i, Value::String(String::new())),
                    Err(e) => Err(e),
                }
            }
            Some('[') => {
                let (idx, last) = self.sc.until(&[']']);
                if last.is_none() {
                    return Err(Step::Eof);
                }
                let next = go_atoi(&idx)?;
                let crt = match list.get(i as usize) {
                    Some(Value::Array(l)) => l.clone(),
                    Some(Value::Null) | None => Vec::new(),
                    Some(_) => {
                        return err(
                            "unable to parse key: interface conversion: interface {} is not []interface {}",
                        );
                    }
                };
                let l2 = self.list_item(crt, next, level)?;
                set_index(list, i, Value::Array(l2))
            }
            Some(_) => {
                // '.'
                let mut inner = match list.get(i as usize) {
                    Some(Value::Object(m)) => m.clone(),
                    _ => Map::new(),
                };
                self.key(&mut inner, level)?;
                set_index(list, i, Value::Object(inner))
            }
        }
    }

    /// Consumes blanks up to a comma or EOF (true: empty value) or stops before another rune.
    fn empty_val(&mut self) -> bool {
        loop {
            match self.sc.read() {
                None | Some(',') => return true,
                Some(c) if c.is_whitespace() => continue,
                Some(_) => {
                    self.sc.unread();
                    return false;
                }
            }
        }
    }

    fn json_value(&mut self) -> Result<Value, Step> {
        let rest = self.sc.rest();
        let mut stream = serde_json::Deserializer::from_str(&rest).into_iter::<Value>();
        match stream.next() {
            Some(Ok(v)) => {
                let used = stream.byte_offset();
                self.sc.pos += rest[..used].chars().count();
                Ok(json_to_go(v))
            }
            Some(Err(e)) => err(e.to_string()),
            None => err("unexpected end of JSON input"),
        }
    }

    /// `{a,b}` list syntax; `Ok(None)` when the value is not a list.
    fn val_list(&mut self) -> Result<Option<Vec<Value>>, Step> {
        match self.sc.read() {
            None => return Err(Step::Eof),
            Some('{') => {}
            Some(_) => {
                self.sc.unread();
                return Ok(None);
            }
        }
        let mut list = Vec::new();
        loop {
            let (rs, last) = self.sc.until(&[',', '}']);
            match last {
                None => return err("list must terminate with '}'"),
                Some('}') => {
                    if let Some(c) = self.sc.read()
                        && c != ','
                    {
                        self.sc.unread();
                    }
                    list.push(self.read_value(&rs)?);
                    return Ok(Some(list));
                }
                Some(_) => list.push(self.read_value(&rs)?),
            }
        }
    }
}

/// JSON numbers decode to float64 in Go.
pub fn json_to_go(v: Value) -> Value {
    match v {
        Value::Number(n) => serde_json::Number::from_f64(n.as_f64().unwrap_or(0.0))
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Value::Array(a) => Value::Array(a.into_iter().map(json_to_go).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, json_to_go(v))).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set_typed(s: &str) -> Value {
        let mut m = Values::new();
        parse_into(s, &mut m, Reader::Typed).unwrap();
        Value::Object(m)
    }

    #[test]
    fn helm_strvals_cases() {
        assert_eq!(
            set_typed("a=b,c=1,d=true,e=null"),
            json!({"a": "b", "c": 1, "d": true, "e": null})
        );
        assert_eq!(set_typed("a.b.c=x"), json!({"a": {"b": {"c": "x"}}}));
        assert_eq!(set_typed("l[1]=x"), json!({"l": [null, "x"]}));
        assert_eq!(
            set_typed("l[0].n=x,l[0].m=y"),
            json!({"l": [{"n": "x", "m": "y"}]})
        );
        assert_eq!(set_typed("a={x,y}"), json!({"a": ["x", "y"]}));
        assert_eq!(set_typed(r"a=x\,y,b\.c=z"), json!({"a": "x,y", "b.c": "z"}));
        assert_eq!(
            set_typed("a=0123,b=1.5,c="),
            json!({"a": "0123", "b": "1.5", "c": ""})
        );
        assert_eq!(set_typed("n[0][1]=x"), json!({"n": [[null, "x"]]}));
    }

    #[test]
    fn set_string_and_json() {
        let mut m = Values::new();
        parse_into("a=1,b=true", &mut m, Reader::String).unwrap();
        assert_eq!(Value::Object(m), json!({"a": "1", "b": "true"}));
        let mut m = Values::new();
        parse_into(r#"a={"x":[1,2]},b=null"#, &mut m, Reader::Json).unwrap();
        assert_eq!(Value::Object(m), json!({"a": {"x": [1.0, 2.0]}, "b": null}));
    }

    #[test]
    fn errors() {
        let mut m = Values::new();
        assert!(
            parse_into("a", &mut m, Reader::Typed)
                .unwrap_err()
                .0
                .contains("has no value")
        );
        assert!(parse_into("a,", &mut m, Reader::Typed).is_err());
        assert!(parse_into("l[-1]=x", &mut m, Reader::Typed).is_err());
        assert!(parse_into("a={x", &mut m, Reader::Typed).is_err());
    }
}
