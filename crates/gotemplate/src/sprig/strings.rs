//! sprig's string functions.

use super::conv::{strslice, strval};
use super::{arg_i, arg_s, ok_s};
use crate::funcs::{FuncError, Functions, Param as P};
use crate::gofmt;
use crate::gostr;
use crate::value::Value;

fn go_title(s: &str) -> String {
    // strings.Title: upper-case letters that follow a separator.
    let mut out = String::with_capacity(s.len());
    let mut prev_sep = true;
    for c in s.chars() {
        if prev_sep {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_sep = if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else if c.is_alphabetic() || c.is_numeric() {
            false
        } else {
            c.is_whitespace()
        };
    }
    out
}

fn map_words(s: &str, f: impl Fn(char) -> String) -> String {
    let mut out = String::with_capacity(s.len());
    let mut at_start = true;
    for c in s.chars() {
        if c.is_whitespace() {
            at_start = true;
            out.push(c);
        } else if at_start {
            out.push_str(&f(c));
            at_start = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits an identifier into lower-case words at case changes, digits and separators
/// (what xstrings' case conversions do for ordinary identifiers).
fn words(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for i in 0..chars.len() {
        let c = chars[i];
        // A raw byte stays inside its word, as xstrings keeps it.
        if !c.is_alphanumeric() && gostr::escaped_byte(c).is_none() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_uppercase() && !cur.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_numeric() || (prev.is_uppercase() && next_lower) {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Go's `string(b)` of a byte slice cut out of a Go string.
fn lossy(b: &[u8]) -> String {
    gostr::from_go_slice(b).into_owned()
}

fn abbreviate_full(s: &str, offset: i64, max_width: i64) -> String {
    abbreviate_bytes(&gostr::go_bytes(s), offset, max_width)
}

/// goutils.AbbreviateFull over bytes (Go slices strings by byte).
fn abbreviate_bytes(s: &[u8], offset: i64, max_width: i64) -> String {
    let len = s.len() as i64;
    if s.is_empty() || len <= max_width {
        return lossy(s);
    }
    let mut offset = offset.min(len);
    if len - offset < max_width - 3 {
        offset = len - (max_width - 3);
    }
    if offset <= 4 {
        return format!("{}...", lossy(&s[..(max_width - 3).max(0) as usize]));
    }
    if max_width < 7 {
        return lossy(s);
    }
    if offset + max_width - 3 < len {
        return format!(
            "...{}",
            abbreviate_bytes(&s[offset as usize..], 0, max_width - 3)
        );
    }
    format!(
        "...{}",
        lossy(&s[(len - (max_width - 3)).max(0) as usize..])
    )
}

/// goutils.WrapCustom.
pub(crate) fn wrap_custom(s: &str, wrap: i64, nl: &str, wrap_long: bool) -> String {
    if s.is_empty() {
        return String::new();
    }
    let nl = if nl.is_empty() { "\n" } else { nl };
    let wrap = wrap.max(1) as usize;
    let bytes = gostr::go_bytes(s);
    let nl_bytes = gostr::go_bytes(nl);
    let b: &[u8] = &bytes;
    let len = b.len();
    let mut offset = 0usize;
    let mut out: Vec<u8> = Vec::new();
    let rfind_space = |from: usize, to: usize| b[from..to].iter().rposition(|c| *c == b' ');
    while len - offset > wrap {
        if b[offset] == b' ' {
            offset += 1;
            continue;
        }
        let end = (wrap + offset + 1).min(len);
        if let Some(sp) = rfind_space(offset, end) {
            let at = sp + offset;
            out.extend_from_slice(&b[offset..at]);
            out.extend_from_slice(&nl_bytes);
            offset = at + 1;
        } else if wrap_long {
            let end = wrap + offset;
            out.extend_from_slice(&b[offset..end]);
            out.extend_from_slice(&nl_bytes);
            offset += wrap;
        } else {
            let end = wrap + offset;
            match b[end..].iter().position(|c| *c == b' ') {
                None => {
                    out.extend_from_slice(&b[offset..]);
                    offset = len;
                }
                Some(i) => {
                    let at = i + end;
                    out.extend_from_slice(&b[offset..at]);
                    out.extend_from_slice(&nl_bytes);
                    offset = at + 1;
                }
            }
        }
    }
    out.extend_from_slice(&b[offset.min(len)..]);
    lossy(&out)
}

fn go_split(s: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if sep.is_empty() {
        let chars: Vec<String> = s.chars().map(String::from).collect();
        if n > 0 && (n as usize) < chars.len() {
            let mut v: Vec<String> = chars[..n as usize - 1].to_vec();
            let rest: usize = v.iter().map(|x| x.len()).sum();
            v.push(s[rest..].to_string());
            return v;
        }
        return chars;
    }
    gostr::split_n(s, sep, n)
}

fn split_map(parts: Vec<String>) -> Value {
    Value::Map(crate::value::MapRef::new_string_map(
        parts
            .into_iter()
            .enumerate()
            .map(|(i, p)| (format!("_{i}"), Value::str(p)))
            .collect(),
    ))
}

fn rand_string(count: i64, charset: &[u8]) -> Result<Value, FuncError> {
    if count < 0 {
        return Err(FuncError::new("randomString: count must be non-negative"));
    }
    let count = count.min(1 << 20) as usize;
    let mut out = String::with_capacity(count);
    for _ in 0..count {
        let i = super::random_below(charset.len() as u64) as usize;
        out.push(charset[i] as char);
    }
    Ok(Value::str(out))
}

pub(super) fn register(f: &mut Functions) {
    f.add("trim", &[P::String], |_, a| ok_s(arg_s(a, 0).trim()));
    f.add("trimAll", &[P::String, P::String], |_, a| {
        let cut: Vec<char> = arg_s(a, 0).chars().collect();
        ok_s(arg_s(a, 1).trim_matches(|c| cut.contains(&c)))
    });
    f.add("trimall", &[P::String, P::String], |_, a| {
        let cut: Vec<char> = arg_s(a, 0).chars().collect();
        ok_s(arg_s(a, 1).trim_matches(|c| cut.contains(&c)))
    });
    f.add("trimPrefix", &[P::String, P::String], |_, a| {
        let s = arg_s(a, 1);
        let p = arg_s(a, 0);
        if gostr::needs_bytewise(s, p) {
            return match gostr::has_prefix(s, p) {
                true => ok_s(gostr::go_slice(s, gostr::go_len(p), gostr::go_len(s))),
                false => ok_s(s),
            };
        }
        ok_s(s.strip_prefix(p).unwrap_or(s))
    });
    f.add("trimSuffix", &[P::String, P::String], |_, a| {
        let s = arg_s(a, 1);
        let p = arg_s(a, 0);
        if gostr::needs_bytewise(s, p) {
            let len = gostr::go_len(s);
            return match gostr::has_suffix(s, p) {
                true => ok_s(gostr::go_slice(s, 0, len - gostr::go_len(p))),
                false => ok_s(s),
            };
        }
        ok_s(s.strip_suffix(p).unwrap_or(s))
    });
    // Go maps runes here (strings.Map, rune loops): a raw byte decodes to U+FFFD and is
    // written back as U+FFFD, hence to_lossy.
    f.add("upper", &[P::String], |_, a| {
        ok_s(gostr::to_lossy(arg_s(a, 0)).to_uppercase())
    });
    f.add("lower", &[P::String], |_, a| {
        ok_s(gostr::to_lossy(arg_s(a, 0)).to_lowercase())
    });
    f.add("title", &[P::String], |_, a| {
        ok_s(go_title(&gostr::to_lossy(arg_s(a, 0))))
    });
    f.add("untitle", &[P::String], |_, a| {
        ok_s(map_words(&gostr::to_lossy(arg_s(a, 0)), |c| {
            c.to_lowercase().collect()
        }))
    });
    f.add("swapcase", &[P::String], |_, a| {
        ok_s(
            gostr::to_lossy(arg_s(a, 0))
                .chars()
                .map(|c| {
                    if c.is_uppercase() {
                        c.to_lowercase().collect::<String>()
                    } else if c.is_lowercase() {
                        c.to_uppercase().collect()
                    } else {
                        c.to_string()
                    }
                })
                .collect::<String>(),
        )
    });
    // goutils' Initials and DeleteWhiteSpace walk the bytes and treat each one as a rune
    // (Latin-1), so "é" is seen as "Ã©"; NEL (0x85) and NBSP (0xA0) bytes count as spaces.
    f.add("initials", &[P::String], |_, a| {
        let mut out = String::new();
        let mut gap = true;
        for &b in gostr::go_bytes(arg_s(a, 0)).iter() {
            let c = char::from(b);
            if c.is_whitespace() {
                gap = true;
            } else if gap {
                out.push(c);
                gap = false;
            }
        }
        ok_s(out)
    });
    // substr and trunc slice bytes, as Go's s[i:j] does (possibly cutting a multi-byte char).
    f.add("substr", &[P::Int, P::Int, P::String], |_, a| {
        let (start, end, s) = (arg_i(a, 0), arg_i(a, 1), arg_s(a, 2));
        let len = gostr::go_len(s) as i64;
        let (lo, hi) = if start < 0 {
            (0, end)
        } else if end < 0 || end > len {
            (start, len)
        } else {
            (start, end)
        };
        if lo > hi || hi > len || lo < 0 {
            if hi > len || hi < 0 {
                return Err(FuncError::new(format!(
                    "runtime error: slice bounds out of range [:{hi}] with length {len}"
                )));
            }
            return Err(FuncError::new(format!(
                "runtime error: slice bounds out of range [{lo}:{hi}]"
            )));
        }
        ok_s(gostr::go_slice(s, lo as usize, hi as usize))
    });
    f.add("trunc", &[P::Int, P::String], |_, a| {
        let (c, s) = (arg_i(a, 0), arg_s(a, 1));
        let len = gostr::go_len(s) as i64;
        if c < 0 && len + c > 0 {
            ok_s(gostr::go_slice(s, (len + c) as usize, len as usize))
        } else if c >= 0 && len > c {
            ok_s(gostr::go_slice(s, 0, c as usize))
        } else {
            Ok(a[1].clone())
        }
    });
    f.add("abbrev", &[P::Int, P::String], |_, a| {
        let (w, s) = (arg_i(a, 0), arg_s(a, 1));
        if w < 4 {
            return ok_s(s);
        }
        ok_s(abbreviate_full(s, 0, w))
    });
    f.add("abbrevboth", &[P::Int, P::Int, P::String], |_, a| {
        let (l, r, s) = (arg_i(a, 0), arg_i(a, 1), arg_s(a, 2));
        if r < 4 || l > 0 && r < 7 {
            return ok_s(s);
        }
        ok_s(abbreviate_full(s, l, r))
    });
    f.add("repeat", &[P::Int, P::String], |_, a| {
        let n = arg_i(a, 0);
        let s = arg_s(a, 1);
        if n < 0 {
            return Err(FuncError::new("strings: negative Repeat count"));
        }
        if (n as u128) * (s.len() as u128) > 64 << 20 {
            return Err(FuncError::new("strings: Repeat output length overflow"));
        }
        ok_s(gostr::normalize(s.repeat(n as usize)))
    });
    f.add("contains", &[P::String, P::String], |_, a| {
        Ok(Value::Bool(gostr::contains(arg_s(a, 1), arg_s(a, 0))))
    });
    f.add("hasPrefix", &[P::String, P::String], |_, a| {
        Ok(Value::Bool(gostr::has_prefix(arg_s(a, 1), arg_s(a, 0))))
    });
    f.add("hasSuffix", &[P::String, P::String], |_, a| {
        Ok(Value::Bool(gostr::has_suffix(arg_s(a, 1), arg_s(a, 0))))
    });
    f.add_variadic("quote", &[], P::Any, |_, a| {
        let v: Vec<String> = a
            .iter()
            .filter(|x| !x.is_nil())
            .map(|x| gofmt::quote(&strval(x)))
            .collect();
        ok_s(v.join(" "))
    });
    f.add_variadic("squote", &[], P::Any, |_, a| {
        let v: Vec<String> = a
            .iter()
            .filter(|x| !x.is_nil())
            .map(|x| format!("'{}'", strval(x)))
            .collect();
        ok_s(v.join(" "))
    });
    f.add_variadic("cat", &[], P::Any, |_, a| {
        let v: Vec<Value> = a.iter().filter(|x| !x.is_nil()).cloned().collect();
        let fmt = vec!["%v"; v.len()].join(" ");
        ok_s(gofmt::sprintf(&fmt, &v))
    });
    f.add("indent", &[P::Int, P::String], |_, a| {
        let pad = " ".repeat(arg_i(a, 0).clamp(0, 1 << 16) as usize);
        ok_s(format!(
            "{pad}{}",
            arg_s(a, 1).replace('\n', &format!("\n{pad}"))
        ))
    });
    f.add("nindent", &[P::Int, P::String], |_, a| {
        let pad = " ".repeat(arg_i(a, 0).clamp(0, 1 << 16) as usize);
        ok_s(format!(
            "\n{pad}{}",
            arg_s(a, 1).replace('\n', &format!("\n{pad}"))
        ))
    });
    f.add("replace", &[P::String, P::String, P::String], |_, a| {
        let (old, new, src) = (arg_s(a, 0), arg_s(a, 1), arg_s(a, 2));
        if old.is_empty() {
            // Go inserts `new` around every rune.
            let mut out = String::from(new);
            for c in src.chars() {
                out.push(c);
                out.push_str(new);
            }
            return ok_s(out);
        }
        ok_s(gostr::replace_all(src, old, new))
    });
    f.add("plural", &[P::String, P::String, P::Int], |_, a| {
        ok_s(if arg_i(a, 2) == 1 {
            arg_s(a, 0)
        } else {
            arg_s(a, 1)
        })
    });
    f.add("nospace", &[P::String], |_, a| {
        ok_s(
            gostr::go_bytes(arg_s(a, 0))
                .iter()
                .map(|&b| char::from(b))
                .filter(|c| !c.is_whitespace())
                .collect::<String>(),
        )
    });
    f.add("snakecase", &[P::String], |_, a| {
        ok_s(words(arg_s(a, 0)).join("_"))
    });
    f.add("kebabcase", &[P::String], |_, a| {
        ok_s(words(arg_s(a, 0)).join("-"))
    });
    f.add("camelcase", &[P::String], |_, a| {
        let s = words(arg_s(a, 0))
            .iter()
            .map(|w| {
                let mut c = w.chars();
                match c.next() {
                    Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                    None => String::new(),
                }
            })
            .collect::<String>();
        // xstrings writes runes back: a raw byte becomes U+FFFD.
        ok_s(gostr::to_lossy(&s))
    });
    f.add("wrap", &[P::Int, P::String], |_, a| {
        ok_s(wrap_custom(arg_s(a, 1), arg_i(a, 0), "\n", false))
    });
    f.add("wrapWith", &[P::Int, P::String, P::String], |_, a| {
        ok_s(wrap_custom(arg_s(a, 2), arg_i(a, 0), arg_s(a, 1), true))
    });
    f.add("split", &[P::String, P::String], |_, a| {
        Ok(split_map(go_split(arg_s(a, 1), arg_s(a, 0), -1)))
    });
    f.add("splitn", &[P::String, P::Int, P::String], |_, a| {
        Ok(split_map(go_split(arg_s(a, 2), arg_s(a, 0), arg_i(a, 1))))
    });
    f.add("splitList", &[P::String, P::String], |_, a| {
        Ok(Value::string_list(go_split(arg_s(a, 1), arg_s(a, 0), -1)))
    });
    f.add("toStrings", &[P::Any], |_, a| {
        Ok(Value::string_list(strslice(&a[0])))
    });
    f.add("join", &[P::String, P::Any], |_, a| {
        ok_s(gostr::normalize(strslice(&a[1]).join(arg_s(a, 0))))
    });
    f.add("sortAlpha", &[P::Any], |_, a| {
        let mut v = match &a[0] {
            Value::List(..) | Value::Bytes(_) => strslice(&a[0]),
            other => vec![strval(other)],
        };
        // Go's sort.Strings compares bytes (a raw byte sorts by its value, not its escape).
        v.sort_by(|x, y| gostr::go_bytes(x).cmp(&gostr::go_bytes(y)));
        Ok(Value::string_list(v))
    });
    f.add("toString", &[P::Any], |_, a| ok_s(strval(&a[0])));
    f.add("shuffle", &[P::String], |_, a| {
        // sprig shuffles []rune(s): raw bytes become U+FFFD.
        let mut c: Vec<char> = gostr::to_lossy(arg_s(a, 0)).chars().collect();
        for i in (1..c.len()).rev() {
            let j = super::random_below(i as u64 + 1) as usize;
            c.swap(i, j);
        }
        ok_s(c.into_iter().collect::<String>())
    });
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    const NUM: &[u8] = b"0123456789";
    f.add("randAlpha", &[P::Int], |_, a| {
        rand_string(arg_i(a, 0), ALPHA)
    });
    f.add("randNumeric", &[P::Int], |_, a| {
        rand_string(arg_i(a, 0), NUM)
    });
    f.add("randAlphaNum", &[P::Int], |_, a| {
        rand_string(
            arg_i(a, 0),
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        )
    });
    f.add("randAscii", &[P::Int], |_, a| {
        let printable: Vec<u8> = (32u8..=126).collect();
        rand_string(arg_i(a, 0), &printable)
    });
    f.add("hello", &[], |_, _| ok_s("Hello!"));
}
