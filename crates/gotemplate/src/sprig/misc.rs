//! sprig's defaults, reflection, paths, encodings, hashes, JSON and regex functions.

use super::conv::{empty, kind};
use super::{arg_i, arg_s, ok_s};
use crate::encoding;
use crate::funcs::{FuncError, Functions, Param as P};
use crate::gostr;
use crate::json::{self, JsonOptions};
use crate::value::Value;

fn json_or_empty(v: &Value, opts: JsonOptions) -> Value {
    Value::str(json::encode(v, opts).unwrap_or_default())
}

fn must_json(v: &Value, opts: JsonOptions) -> Result<Value, FuncError> {
    json::encode(v, opts)
        .map(Value::str)
        .map_err(FuncError::new)
}

/// Go's `path.Clean`.
pub(crate) fn path_clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

fn path_base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

fn path_dir(p: &str) -> String {
    let dir = match p.rfind('/') {
        Some(i) => &p[..=i],
        None => "",
    };
    path_clean(dir)
}

fn path_ext(p: &str) -> String {
    for (i, c) in p.char_indices().rev() {
        if c == '/' {
            break;
        }
        if c == '.' {
            return p[i..].to_string();
        }
    }
    String::new()
}

fn regex(pat: &str) -> Result<regex::Regex, FuncError> {
    regex::Regex::new(pat).map_err(|e| FuncError::new(go_regex_error(pat, &e)))
}

/// Maps the regex crate's errors onto Go's `regexp` messages for the common cases.
fn go_regex_error(pat: &str, e: &regex::Error) -> String {
    let s = e.to_string();
    let code = if s.contains("unclosed group") {
        "missing closing )"
    } else if s.contains("unopened group") {
        "unexpected )"
    } else if s.contains("unclosed character class") {
        "missing closing ]"
    } else if s.contains("repetition operator missing expression") {
        "missing argument to repetition operator"
    } else {
        "invalid syntax"
    };
    format!("error parsing regexp: {code}: `{pat}`")
}

fn find_all(re: &regex::Regex, s: &str, n: i64) -> Vec<String> {
    let it = re.find_iter(s).map(|m| m.as_str().to_string());
    if n < 0 {
        it.collect()
    } else {
        it.take(n as usize).collect()
    }
}

fn go_expand(re: &regex::Regex, s: &str, repl: &str) -> String {
    re.replace_all(s, repl).into_owned()
}

fn regex_split(re: &regex::Regex, s: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if re.as_str().is_empty() && !s.is_empty() {
        // Go splits into characters.
        let chars: Vec<String> = s.chars().map(String::from).collect();
        if n > 0 && (n as usize) < chars.len() {
            let mut v = chars[..n as usize - 1].to_vec();
            let used: usize = v.iter().map(|x| x.len()).sum();
            v.push(s[used..].to_string());
            return v;
        }
        return chars;
    }
    let mut out = Vec::new();
    let mut beg = 0;
    for m in re.find_iter(s) {
        if n > 0 && out.len() as i64 == n - 1 {
            break;
        }
        let end = m.start();
        if m.end() == 0 {
            continue;
        }
        out.push(s[beg..end].to_string());
        beg = m.end();
    }
    out.push(s[beg..].to_string());
    out
}

fn quote_meta(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &c in data {
        a = (a + u32::from(c)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

fn type_is_like(target: &str, v: &Value) -> bool {
    let t = v.type_name();
    target == t || format!("*{target}") == t
}

pub(super) fn register(f: &mut Functions) {
    // defaults
    f.add_variadic("default", &[P::Any], P::Any, |_, a| {
        if a.len() < 2 || empty(&a[1]) {
            return Ok(a[0].clone());
        }
        Ok(a[1].clone())
    });
    f.add("empty", &[P::Any], |_, a| Ok(Value::Bool(empty(&a[0]))));
    f.add_variadic("coalesce", &[], P::Any, |_, a| {
        Ok(a.iter().find(|x| !empty(x)).cloned().unwrap_or(Value::Nil))
    });
    f.add_variadic("all", &[], P::Any, |_, a| {
        Ok(Value::Bool(a.iter().all(|x| !empty(x))))
    });
    f.add_variadic("any", &[], P::Any, |_, a| {
        Ok(Value::Bool(a.iter().any(|x| !empty(x))))
    });
    f.add("ternary", &[P::Any, P::Any, P::Bool], |_, a| {
        Ok(if matches!(a[2], Value::Bool(true)) {
            a[0].clone()
        } else {
            a[1].clone()
        })
    });
    // JSON (sprig's; Helm replaces toJson/fromJson)
    let html = JsonOptions {
        escape_html: true,
        indent: 0,
    };
    let pretty = JsonOptions {
        escape_html: true,
        indent: 2,
    };
    let raw = JsonOptions {
        escape_html: false,
        indent: 0,
    };
    f.add("toJson", &[P::Any], move |_, a| {
        Ok(json_or_empty(&a[0], html))
    });
    f.add("mustToJson", &[P::Any], move |_, a| must_json(&a[0], html));
    f.add("toPrettyJson", &[P::Any], move |_, a| {
        Ok(json_or_empty(&a[0], pretty))
    });
    f.add("mustToPrettyJson", &[P::Any], move |_, a| {
        must_json(&a[0], pretty)
    });
    f.add("toRawJson", &[P::Any], move |_, a| {
        Ok(json_or_empty(&a[0], raw))
    });
    f.add("mustToRawJson", &[P::Any], move |_, a| {
        must_json(&a[0], raw)
    });
    f.add("fromJson", &[P::String], |_, a| {
        Ok(json::decode(arg_s(a, 0)).unwrap_or(Value::Nil))
    });
    f.add("mustFromJson", &[P::String], |_, a| {
        json::decode(arg_s(a, 0)).map_err(FuncError::new)
    });
    // reflection
    f.add("typeOf", &[P::Any], |_, a| ok_s(a[0].type_name()));
    f.add("typeIs", &[P::String, P::Any], |_, a| {
        Ok(Value::Bool(arg_s(a, 0) == a[1].type_name()))
    });
    f.add("typeIsLike", &[P::String, P::Any], |_, a| {
        Ok(Value::Bool(type_is_like(arg_s(a, 0), &a[1])))
    });
    f.add("kindOf", &[P::Any], |_, a| ok_s(kind(&a[0])));
    f.add("kindIs", &[P::String, P::Any], |_, a| {
        Ok(Value::Bool(arg_s(a, 0) == kind(&a[1])))
    });
    f.add("deepEqual", &[P::Any, P::Any], |_, a| {
        Ok(Value::Bool(a[0] == a[1]))
    });
    // paths
    for (name, fun) in [
        ("base", path_base as fn(&str) -> String),
        ("dir", path_dir),
        ("clean", path_clean),
        ("ext", path_ext),
        ("osBase", path_base),
        ("osDir", path_dir),
        ("osClean", path_clean),
        ("osExt", path_ext),
    ] {
        f.add(name, &[P::String], move |_, a| ok_s(fun(arg_s(a, 0))));
    }
    f.add("isAbs", &[P::String], |_, a| {
        Ok(Value::Bool(arg_s(a, 0).starts_with('/')))
    });
    f.add("osIsAbs", &[P::String], |_, a| {
        Ok(Value::Bool(arg_s(a, 0).starts_with('/')))
    });
    // encodings and hashes
    f.add("b64enc", &[P::String], |_, a| {
        ok_s(encoding::b64_encode(&gostr::go_bytes(arg_s(a, 0))))
    });
    f.add("b64dec", &[P::String], |_, a| {
        ok_s(match encoding::b64_decode(arg_s(a, 0)) {
            Ok(b) => gostr::from_go_bytes(b),
            Err(e) => e,
        })
    });
    f.add("b32enc", &[P::String], |_, a| {
        ok_s(encoding::b32_encode(&gostr::go_bytes(arg_s(a, 0))))
    });
    f.add("b32dec", &[P::String], |_, a| {
        ok_s(match encoding::b32_decode(arg_s(a, 0)) {
            Ok(b) => gostr::from_go_bytes(b),
            Err(e) => e,
        })
    });
    f.add("sha1sum", &[P::String], |_, a| {
        use sha1::Digest;
        ok_s(hex(&sha1::Sha1::digest(gostr::go_bytes(arg_s(a, 0)))))
    });
    f.add("sha256sum", &[P::String], |_, a| {
        use sha2::Digest;
        ok_s(hex(&sha2::Sha256::digest(gostr::go_bytes(arg_s(a, 0)))))
    });
    f.add("sha512sum", &[P::String], |_, a| {
        use sha2::Digest;
        ok_s(hex(&sha2::Sha512::digest(gostr::go_bytes(arg_s(a, 0)))))
    });
    f.add("adler32sum", &[P::String], |_, a| {
        ok_s(adler32(&gostr::go_bytes(arg_s(a, 0))).to_string())
    });
    f.add("uuidv4", &[], |_, _| {
        let mut b = [0u8; 16];
        super::random_bytes(&mut b);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h = hex(&b);
        ok_s(format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        ))
    });
    f.add("randBytes", &[P::Int], |_, a| {
        let n = arg_i(a, 0);
        if n < 0 {
            return Err(FuncError::new("randBytes: negative count"));
        }
        let mut b = vec![0u8; n.min(1 << 20) as usize];
        super::random_bytes(&mut b);
        ok_s(encoding::b64_encode(&b))
    });
    f.add("getHostByName", &[P::String], |_, _| ok_s(""));
    f.add("fail", &[P::String], |_, a| {
        Err(FuncError::new(arg_s(a, 0)))
    });
    // regex
    f.add("regexMatch", &[P::String, P::String], |_, a| {
        Ok(Value::Bool(
            regex(arg_s(a, 0))
                .map(|r| r.is_match(arg_s(a, 1)))
                .unwrap_or(false),
        ))
    });
    f.add("mustRegexMatch", &[P::String, P::String], |_, a| {
        Ok(Value::Bool(regex(arg_s(a, 0))?.is_match(arg_s(a, 1))))
    });
    f.add("regexFind", &[P::String, P::String], |_, a| {
        ok_s(
            regex(arg_s(a, 0))
                .ok()
                .and_then(|r| r.find(arg_s(a, 1)).map(|m| m.as_str().to_string()))
                .unwrap_or_default(),
        )
    });
    f.add("mustRegexFind", &[P::String, P::String], |_, a| {
        ok_s(
            regex(arg_s(a, 0))?
                .find(arg_s(a, 1))
                .map(|m| m.as_str().to_string())
                .unwrap_or_default(),
        )
    });
    f.add("regexFindAll", &[P::String, P::String, P::Int], |_, a| {
        let v = regex(arg_s(a, 0))
            .map(|r| find_all(&r, arg_s(a, 1), arg_i(a, 2)))
            .unwrap_or_default();
        Ok(Value::string_list(v))
    });
    f.add(
        "mustRegexFindAll",
        &[P::String, P::String, P::Int],
        |_, a| {
            Ok(Value::string_list(find_all(
                &regex(arg_s(a, 0))?,
                arg_s(a, 1),
                arg_i(a, 2),
            )))
        },
    );
    f.add(
        "regexReplaceAll",
        &[P::String, P::String, P::String],
        |_, a| {
            ok_s(
                regex(arg_s(a, 0))
                    .map(|r| go_expand(&r, arg_s(a, 1), arg_s(a, 2)))
                    .unwrap_or_default(),
            )
        },
    );
    f.add(
        "mustRegexReplaceAll",
        &[P::String, P::String, P::String],
        |_, a| ok_s(go_expand(&regex(arg_s(a, 0))?, arg_s(a, 1), arg_s(a, 2))),
    );
    f.add(
        "regexReplaceAllLiteral",
        &[P::String, P::String, P::String],
        |_, a| {
            ok_s(
                regex(arg_s(a, 0))
                    .map(|r| {
                        r.replace_all(arg_s(a, 1), regex::NoExpand(arg_s(a, 2)))
                            .into_owned()
                    })
                    .unwrap_or_default(),
            )
        },
    );
    f.add(
        "mustRegexReplaceAllLiteral",
        &[P::String, P::String, P::String],
        |_, a| ok_s(regex(arg_s(a, 0))?.replace_all(arg_s(a, 1), regex::NoExpand(arg_s(a, 2)))),
    );
    f.add("regexSplit", &[P::String, P::String, P::Int], |_, a| {
        Ok(Value::string_list(
            regex(arg_s(a, 0))
                .map(|r| regex_split(&r, arg_s(a, 1), arg_i(a, 2)))
                .unwrap_or_default(),
        ))
    });
    f.add("mustRegexSplit", &[P::String, P::String, P::Int], |_, a| {
        Ok(Value::string_list(regex_split(
            &regex(arg_s(a, 0))?,
            arg_s(a, 1),
            arg_i(a, 2),
        )))
    });
    f.add("regexQuoteMeta", &[P::String], |_, a| {
        ok_s(quote_meta(arg_s(a, 0)))
    });
}
