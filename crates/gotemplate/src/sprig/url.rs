//! sprig's `urlParse` and `urlJoin` (Go's `net/url` parsing and `URL.String`).

use super::arg_s;
use crate::funcs::{Functions, Param as P};
use crate::value::{Map, Value};

#[derive(Default)]
struct Url {
    scheme: String,
    opaque: String,
    user: Option<String>,
    host: String,
    path: String,
    raw_query: String,
    fragment: String,
}

fn unescape(s: &str) -> String {
    // Works on the Go string's bytes; %XX may produce any byte (kept, see gostr).
    let b = crate::gostr::go_bytes(s);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(h) = std::str::from_utf8(&b[i + 1..i + 3])
            && let Ok(v) = u8::from_str_radix(h, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    crate::gostr::from_go_bytes(out)
}

fn escape(s: &str, keep: &str) -> String {
    let mut out = String::new();
    for &c in crate::gostr::go_bytes(s).iter() {
        if c.is_ascii_alphanumeric() || b"-_.~".contains(&c) || keep.as_bytes().contains(&c) {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

fn parse(raw: &str) -> Url {
    let mut u = Url::default();
    let (rest, frag) = match raw.split_once('#') {
        Some((r, f)) => (r, unescape(f)),
        None => (raw, String::new()),
    };
    u.fragment = frag;
    let mut rest = rest.to_string();
    // scheme
    if let Some(i) = rest.find(':') {
        let sch = &rest[..i];
        if !sch.is_empty()
            && sch.as_bytes()[0].is_ascii_alphabetic()
            && sch
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c))
        {
            u.scheme = sch.to_ascii_lowercase();
            rest = rest[i + 1..].to_string();
        }
    }
    if let Some((r, q)) = rest.split_once('?') {
        u.raw_query = q.to_string();
        rest = r.to_string();
    }
    if !rest.starts_with('/') && !u.scheme.is_empty() {
        u.opaque = rest;
        return u;
    }
    if let Some(auth_rest) = rest.strip_prefix("//") {
        let end = auth_rest.find('/').unwrap_or(auth_rest.len());
        let auth = &auth_rest[..end];
        let path = &auth_rest[end..];
        let host = match auth.rfind('@') {
            Some(i) => {
                u.user = Some(auth[..i].to_string());
                &auth[i + 1..]
            }
            None => auth,
        };
        u.host = unescape(host);
        u.path = unescape(path);
    } else {
        u.path = unescape(&rest);
    }
    u
}

impl Url {
    fn to_string_go(&self) -> String {
        let mut buf = String::new();
        if !self.scheme.is_empty() {
            buf.push_str(&self.scheme);
            buf.push(':');
        }
        if !self.opaque.is_empty() {
            buf.push_str(&self.opaque);
        } else {
            if !self.scheme.is_empty() || !self.host.is_empty() || self.user.is_some() {
                if !self.host.is_empty() || !self.path.is_empty() || self.user.is_some() {
                    buf.push_str("//");
                }
                if let Some(u) = &self.user {
                    buf.push_str(u);
                    buf.push('@');
                }
                buf.push_str(&escape(&self.host, ":[]!$&'()*+,;=%"));
            }
            let path = escape(&self.path, "/:@!$&'()*+,;=");
            if !path.is_empty() && !path.starts_with('/') && !self.host.is_empty() {
                buf.push('/');
            }
            if buf.is_empty()
                && let Some(seg) = path.split('/').next()
                && seg.contains(':')
            {
                buf.push_str("./");
            }
            buf.push_str(&path);
        }
        if !self.raw_query.is_empty() {
            buf.push('?');
            buf.push_str(&self.raw_query);
        }
        if !self.fragment.is_empty() {
            buf.push('#');
            buf.push_str(&escape(&self.fragment, "/?:@!$&'()*+,;="));
        }
        buf
    }
}

pub(super) fn register(f: &mut Functions) {
    f.add("urlParse", &[P::String], |_, a| {
        let u = parse(arg_s(a, 0));
        let hostname = match u.host.rfind(':') {
            Some(i) if !u.host[i..].contains(']') => u.host[..i].to_string(),
            _ => u.host.clone(),
        };
        let hostname = hostname
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let mut m = Map::new();
        m.insert("scheme".into(), Value::str(u.scheme.as_str()));
        m.insert("host".into(), Value::str(u.host.as_str()));
        m.insert("hostname".into(), Value::str(hostname));
        m.insert("path".into(), Value::str(u.path.as_str()));
        m.insert("query".into(), Value::str(u.raw_query.as_str()));
        m.insert("opaque".into(), Value::str(u.opaque.as_str()));
        m.insert("fragment".into(), Value::str(u.fragment.as_str()));
        m.insert(
            "userinfo".into(),
            Value::str(u.user.clone().unwrap_or_default()),
        );
        Ok(Value::map(m))
    });
    f.add("urlJoin", &[P::Map], |_, a| {
        let get = |k: &str| {
            a[0].as_map()
                .and_then(|m| m.get(k))
                .map(|v| super::conv::strval(&v))
                .unwrap_or_default()
        };
        let user = get("userinfo");
        let u = Url {
            scheme: get("scheme"),
            opaque: get("opaque"),
            user: if user.is_empty() { None } else { Some(user) },
            host: get("host"),
            path: get("path"),
            raw_query: get("query"),
            fragment: get("fragment"),
        };
        Ok(Value::str(u.to_string_go()))
    });
}
