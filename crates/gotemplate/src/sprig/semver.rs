//! Masterminds/semver v3 as sprig exposes it: `semver` and `semverCompare`.

use std::cmp::Ordering;
use std::sync::Arc;

use super::arg_s;
use crate::funcs::{FuncError, Functions, Param as P};
use crate::value::{Object, Value};

/// A parsed semantic version (`*semver.Version`).
#[derive(Clone, Debug)]
pub struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: String,
    meta: String,
    original: String,
}

const INVALID: &str = "invalid semantic version";

fn ident_ok(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'))
}

impl Version {
    /// `semver.NewVersion`: lenient (optional `v`, minor and patch).
    pub fn parse(s: &str) -> Result<Version, String> {
        let original = s.to_string();
        let body = s.strip_prefix('v').unwrap_or(s);
        let (body, meta) = match body.split_once('+') {
            Some((b, m)) => (b, m.to_string()),
            None => (body, String::new()),
        };
        let (core, pre) = match body.split_once('-') {
            Some((c, p)) => (c, p.to_string()),
            None => (body, String::new()),
        };
        if s.contains('+') && !ident_ok(&meta) {
            return Err(INVALID.into());
        }
        if body.contains('-') && !ident_ok(&pre) {
            return Err(INVALID.into());
        }
        for p in pre.split('.') {
            if p.len() > 1 && p.starts_with('0') && p.bytes().all(|c| c.is_ascii_digit()) {
                return Err("version segment starts with 0".into());
            }
        }
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty() || parts.len() > 3 {
            return Err(INVALID.into());
        }
        let mut nums = [0u64; 3];
        for (i, p) in parts.iter().enumerate() {
            if p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()) {
                return Err(INVALID.into());
            }
            nums[i] = p.parse().map_err(|_| INVALID.to_string())?;
        }
        Ok(Version {
            major: nums[0],
            minor: nums[1],
            patch: nums[2],
            pre,
            meta,
            original,
        })
    }

    fn canonical(&self) -> String {
        let mut s = format!("{}.{}.{}", self.major, self.minor, self.patch);
        if !self.pre.is_empty() {
            s.push('-');
            s.push_str(&self.pre);
        }
        if !self.meta.is_empty() {
            s.push('+');
            s.push_str(&self.meta);
        }
        s
    }

    fn compare(&self, o: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(o.major, o.minor, o.patch))
            .then_with(|| compare_pre(&self.pre, &o.pre))
    }
}

fn compare_pre(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let ap: Vec<&str> = a.split('.').collect();
    let bp: Vec<&str> = b.split('.').collect();
    for i in 0..ap.len().max(bp.len()) {
        let (x, y) = match (ap.get(i), bp.get(i)) {
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => (*x, *y),
            _ => return Ordering::Equal,
        };
        let xn = x
            .parse::<u64>()
            .ok()
            .filter(|_| x.bytes().all(|c| c.is_ascii_digit()));
        let yn = y
            .parse::<u64>()
            .ok()
            .filter(|_| y.bytes().all(|c| c.is_ascii_digit()));
        let o = match (xn, yn) {
            (Some(p), Some(q)) => p.cmp(&q),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

impl Object for Version {
    fn type_name(&self) -> String {
        "*semver.Version".into()
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    fn has_method(&self, name: &str) -> bool {
        matches!(
            name,
            "Major"
                | "Minor"
                | "Patch"
                | "Prerelease"
                | "Metadata"
                | "Original"
                | "String"
                | "Compare"
                | "LessThan"
                | "GreaterThan"
                | "Equal"
                | "IncMajor"
                | "IncMinor"
                | "IncPatch"
        )
    }
    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, FuncError>> {
        let other = || -> Result<Version, FuncError> {
            match args.first() {
                Some(Value::Object(o)) => o
                    .as_any()
                    .and_then(|a| a.downcast_ref::<Version>())
                    .cloned()
                    .ok_or_else(|| {
                        FuncError::new("wrong type for value; expected *semver.Version")
                    }),
                Some(v) => Err(FuncError::new(format!(
                    "wrong type for value; expected *semver.Version; got {}",
                    v.type_name()
                ))),
                None => Err(FuncError::new(format!(
                    "wrong number of args for {name}: want 1 got 0"
                ))),
            }
        };
        let ver = |v: Version| Value::Object(Arc::new(v));
        Some(Ok(match name {
            "Major" => Value::Int64(self.major as i64),
            "Minor" => Value::Int64(self.minor as i64),
            "Patch" => Value::Int64(self.patch as i64),
            "Prerelease" => Value::str(self.pre.as_str()),
            "Metadata" => Value::str(self.meta.as_str()),
            "Original" => Value::str(self.original.as_str()),
            "String" => Value::str(self.canonical()),
            "Compare" => match other() {
                Ok(o) => Value::Int(match self.compare(&o) {
                    Ordering::Less => -1,
                    Ordering::Equal => 0,
                    Ordering::Greater => 1,
                }),
                Err(e) => return Some(Err(e)),
            },
            "LessThan" | "GreaterThan" | "Equal" => match other() {
                Ok(o) => {
                    let c = self.compare(&o);
                    Value::Bool(match name {
                        "LessThan" => c == Ordering::Less,
                        "GreaterThan" => c == Ordering::Greater,
                        _ => c == Ordering::Equal,
                    })
                }
                Err(e) => return Some(Err(e)),
            },
            "IncMajor" => ver(Version {
                major: self.major + 1,
                minor: 0,
                patch: 0,
                pre: String::new(),
                meta: String::new(),
                original: String::new(),
            })
            .with_original(),
            "IncMinor" => ver(Version {
                major: self.major,
                minor: self.minor + 1,
                patch: 0,
                pre: String::new(),
                meta: String::new(),
                original: String::new(),
            })
            .with_original(),
            "IncPatch" => {
                let patch = if self.pre.is_empty() {
                    self.patch + 1
                } else {
                    self.patch
                };
                ver(Version {
                    major: self.major,
                    minor: self.minor,
                    patch,
                    pre: String::new(),
                    meta: String::new(),
                    original: String::new(),
                })
                .with_original()
            }
            _ => return None,
        }))
    }
    fn display(&self) -> String {
        self.canonical()
    }
    fn to_value(&self) -> Value {
        Value::str(self.canonical())
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

trait WithOriginal {
    fn with_original(self) -> Value;
}

impl WithOriginal for Value {
    fn with_original(self) -> Value {
        if let Value::Object(o) = &self
            && let Some(v) = o.as_any().and_then(|a| a.downcast_ref::<Version>())
        {
            let mut v = v.clone();
            v.original = v.canonical();
            return Value::Object(Arc::new(v));
        }
        self
    }
}

#[derive(Debug)]
struct Constraint {
    op: String,
    con: Version,
    dirty: bool,
    minor_dirty: bool,
    patch_dirty: bool,
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

/// Splits "OP VERSION" tokens out of one AND group.
fn tokens(group: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let b = group.as_bytes();
    let mut i = 0;
    let improper = || format!("improper constraint: {group}");
    while i < b.len() {
        while i < b.len() && (b[i] == b' ' || b[i] == b',' || b[i] == b'\t') {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let st = i;
        while i < b.len() && b"=!<>~^".contains(&b[i]) {
            i += 1;
        }
        let op = group[st..i].to_string();
        if !matches!(
            op.as_str(),
            "" | "=" | "!=" | ">" | "<" | ">=" | "=>" | "<=" | "=<" | "~" | "~>" | "^"
        ) {
            return Err(improper());
        }
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        let vs = i;
        while i < b.len() && !matches!(b[i], b' ' | b',' | b'\t') {
            i += 1;
        }
        if vs == i {
            return Err(improper());
        }
        out.push((op, group[vs..i].to_string()));
    }
    Ok(out)
}

fn parse_constraint(op: &str, v: &str, group: &str) -> Result<Constraint, String> {
    let improper = || format!("improper constraint: {group}");
    let body = v.strip_prefix('v').unwrap_or(v);
    let (core, rest) = match body.find(['-', '+']) {
        Some(i) => (&body[..i], &body[i..]),
        None => (body, ""),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit() || b"xX*".contains(&c)))
    {
        return Err(improper());
    }
    let pre = rest.split('+').next().unwrap_or("");
    let (mut dirty, mut minor_dirty, mut patch_dirty) = (false, false, false);
    let ver = if is_x(parts[0]) {
        dirty = true;
        format!("0.0.0{pre}")
    } else if parts.len() > 1 && is_x(parts[1]) {
        dirty = true;
        minor_dirty = true;
        format!("{}.0.0{pre}", parts[0])
    } else if parts.len() > 2 && is_x(parts[2]) {
        dirty = true;
        patch_dirty = true;
        format!("{}.{}.0{pre}", parts[0], parts[1])
    } else {
        format!("{core}{pre}")
    };
    let con = Version::parse(&ver).map_err(|_| improper())?;
    Ok(Constraint {
        op: op.to_string(),
        con,
        dirty,
        minor_dirty,
        patch_dirty,
    })
}

fn rewrite_ranges(c: &str) -> String {
    // "A - B" → ">= A, <= B"
    let parts: Vec<&str> = c.split(" - ").collect();
    if parts.len() < 2 {
        return c.to_string();
    }
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            let (head, last) = match p.trim_end().rsplit_once([' ', ',']) {
                Some((h, l)) => (format!("{h} "), l),
                None => (String::new(), p.trim()),
            };
            out.push_str(&format!("{head}>= {last}"));
        } else {
            let p = p.trim_start();
            let (first, tail) = match p.split_once([' ', ',']) {
                Some((f, t)) => (f, format!(" {t}")),
                None => (p, String::new()),
            };
            out.push_str(&format!(", <= {first}{tail}"));
        }
    }
    out
}

impl Constraint {
    fn check(&self, v: &Version) -> bool {
        let c = &self.con;
        if !v.pre.is_empty() && c.pre.is_empty() {
            return false;
        }
        let cmp = v.compare(c);
        match self.op.as_str() {
            "" | "=" => {
                if self.dirty {
                    self.tilde(v)
                } else {
                    cmp == Ordering::Equal
                }
            }
            "!=" => {
                if self.dirty {
                    if c.major != v.major {
                        return true;
                    }
                    if c.minor != v.minor && !self.minor_dirty {
                        return true;
                    } else if self.minor_dirty {
                        return false;
                    } else if c.patch != v.patch && !self.patch_dirty {
                        return true;
                    } else if self.patch_dirty {
                        if !v.pre.is_empty() || !c.pre.is_empty() {
                            return compare_pre(&v.pre, &c.pre) != Ordering::Equal;
                        }
                        return false;
                    }
                }
                cmp != Ordering::Equal
            }
            ">" => {
                if !self.dirty {
                    return cmp == Ordering::Greater;
                }
                if v.major > c.major {
                    true
                } else if v.major < c.major || self.minor_dirty {
                    false
                } else if self.patch_dirty {
                    v.minor > c.minor
                } else {
                    cmp == Ordering::Greater
                }
            }
            "<" => cmp == Ordering::Less,
            ">=" | "=>" => cmp != Ordering::Less,
            "<=" | "=<" => {
                if !self.dirty {
                    return cmp != Ordering::Greater;
                }
                if v.major > c.major {
                    false
                } else {
                    !(v.major == c.major && v.minor > c.minor && !self.minor_dirty)
                }
            }
            "~" | "~>" => self.tilde(v),
            "^" => {
                if cmp == Ordering::Less {
                    return false;
                }
                if c.major > 0 || self.minor_dirty {
                    return v.major == c.major;
                }
                if v.major > 0 {
                    return false;
                }
                if c.minor > 0 || self.patch_dirty {
                    return v.minor == c.minor;
                }
                if v.minor > 0 {
                    return false;
                }
                c.patch == v.patch
            }
            _ => false,
        }
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.compare(c) == Ordering::Less {
            return false;
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        if v.major != c.major {
            return false;
        }
        v.minor == c.minor || self.minor_dirty
    }
}

/// `semverCompare`: does `version` satisfy `constraint`?
pub fn semver_compare(constraint: &str, version: &str) -> Result<bool, String> {
    let c = rewrite_ranges(constraint);
    let mut groups = Vec::new();
    for g in c.split("||") {
        let toks = tokens(g)?;
        let mut cs = Vec::new();
        if toks.is_empty() {
            return Err(format!("improper constraint: {g}"));
        }
        for (op, v) in toks {
            cs.push(parse_constraint(&op, &v, g)?);
        }
        groups.push(cs);
    }
    let v = Version::parse(version)?;
    Ok(groups.iter().any(|g| g.iter().all(|c| c.check(&v))))
}

pub(super) fn register(f: &mut Functions) {
    f.add("semver", &[P::String], |_, a| {
        Version::parse(arg_s(a, 0))
            .map(|v| Value::Object(Arc::new(v)))
            .map_err(FuncError::new)
    });
    f.add("semverCompare", &[P::String, P::String], |_, a| {
        semver_compare(arg_s(a, 0), arg_s(a, 1))
            .map(Value::Bool)
            .map_err(FuncError::new)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints() {
        let cases = [
            (">=1.2.0", "1.3.0", true),
            ("^1.2", "2.0.0", false),
            ("~1.2.3", "1.2.9", true),
            (">= 1.19-0, < 1.30-0", "1.25.3-gke.100", true),
            (">=1.20", "1.21.0-alpha", false),
            ("1.2.3 - 1.4.5", "1.4.5", true),
            ("1.2.3 - 1.4.5", "1.4.6", false),
            ("<1.0 || >=2.0", "1.5.0", false),
            ("<1.0 || >=2.0", "2.1.0", true),
            ("1.x", "1.9.9", true),
        ];
        for (c, v, want) in cases {
            assert_eq!(semver_compare(c, v).unwrap(), want, "{c} {v}");
        }
        assert!(semver_compare(">=1", "x.y").is_err());
        assert!(semver_compare(">>1", "1.0.0").is_err());
    }

    #[test]
    fn prerelease_order() {
        let v = |s| Version::parse(s).unwrap();
        assert_eq!(
            v("1.0.0-alpha").compare(&v("1.0.0-alpha.1")),
            Ordering::Less
        );
        assert_eq!(
            v("1.0.0-alpha.1").compare(&v("1.0.0-alpha.beta")),
            Ordering::Less
        );
        assert_eq!(v("1.0.0-rc.1").compare(&v("1.0.0")), Ordering::Less);
        assert_eq!(v("1.0.0+b1").compare(&v("1.0.0+b2")), Ordering::Equal);
    }
}
