//! Semantic versions and Masterminds/semver (v3) constraints, as Flux uses them for `spec.ref.semver`.
//!
//! Versions are parsed leniently like Masterminds' `NewVersion` (`v` prefix, missing minor/patch).
//! Constraints support `=`, `!=`, `>`, `<`, `>=`, `<=` (and `=>`, `=<`), `~`, `~>`, `^`, wildcards
//! `x`/`X`/`*`, hyphen ranges `1.2 - 1.4.5`, AND by comma or space and OR by `||`. A version with a
//! prerelease only satisfies a comparator that itself names a prerelease.

use std::cmp::Ordering;
use std::fmt;

/// Errors parsing versions and constraints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SemverError {
    /// The text is not a semantic version.
    #[error("invalid semantic version {0:?}")]
    InvalidVersion(String),
    /// The text is not a valid constraint.
    #[error("invalid semver constraint {constraint:?}: {reason}")]
    InvalidConstraint {
        /// The whole constraint as given.
        constraint: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// One prerelease identifier: numeric identifiers sort below alphanumeric ones.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ident {
    Num(u64),
    Alpha(String),
}

impl Ord for Ident {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Ident::Num(a), Ident::Num(b)) => a.cmp(b),
            (Ident::Num(_), Ident::Alpha(_)) => Ordering::Less,
            (Ident::Alpha(_), Ident::Num(_)) => Ordering::Greater,
            (Ident::Alpha(a), Ident::Alpha(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Ident {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A semantic version; build metadata is kept but ignored for precedence.
#[derive(Debug, Clone)]
pub struct Version {
    /// Major component.
    pub major: u64,
    /// Minor component.
    pub minor: u64,
    /// Patch component.
    pub patch: u64,
    pre: Vec<Ident>,
    prerelease: String,
    metadata: String,
    original: String,
}

impl Version {
    /// Parses a version leniently (as Masterminds `NewVersion`): optional `v`, optional minor and patch.
    pub fn parse(text: &str) -> Result<Self, SemverError> {
        let invalid = || SemverError::InvalidVersion(text.to_string());
        let s = text.strip_prefix('v').unwrap_or(text);
        let (rest, metadata) = match s.split_once('+') {
            Some((r, m)) => {
                if !valid_dotted(m, false) {
                    return Err(invalid());
                }
                (r, m.to_string())
            }
            None => (s, String::new()),
        };
        let (core, prerelease) = match rest.split_once('-') {
            Some((c, p)) => {
                if !valid_dotted(p, true) {
                    return Err(invalid());
                }
                (c, p.to_string())
            }
            None => (rest, String::new()),
        };
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty() || parts.len() > 3 {
            return Err(invalid());
        }
        let mut nums = [0u64; 3];
        for (i, p) in parts.iter().enumerate() {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            nums[i] = p.parse().map_err(|_| invalid())?;
        }
        let pre = if prerelease.is_empty() {
            Vec::new()
        } else {
            prerelease
                .split('.')
                .map(|id| match id.parse::<u64>() {
                    Ok(n) if id.bytes().all(|b| b.is_ascii_digit()) => Ident::Num(n),
                    _ => Ident::Alpha(id.to_string()),
                })
                .collect()
        };
        Ok(Version {
            major: nums[0],
            minor: nums[1],
            patch: nums[2],
            pre,
            prerelease,
            metadata,
            original: text.to_string(),
        })
    }

    /// The prerelease part without the leading `-` (empty when there is none).
    pub fn prerelease(&self) -> &str {
        &self.prerelease
    }

    /// The build metadata without the leading `+` (empty when there is none).
    pub fn metadata(&self) -> &str {
        &self.metadata
    }

    /// The text this version was parsed from.
    pub fn original(&self) -> &str {
        &self.original
    }
}

/// Dot-separated identifiers of `[0-9A-Za-z-]`; numeric prerelease identifiers have no leading zero.
fn valid_dotted(s: &str, prerelease: bool) -> bool {
    !s.is_empty()
        && s.split('.').all(|id| {
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !(prerelease
                    && id.len() > 1
                    && id.starts_with('0')
                    && id.bytes().all(|b| b.is_ascii_digit()))
        })
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                // A release sorts above any of its prereleases.
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.pre.cmp(&other.pre),
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.prerelease.is_empty() {
            write!(f, "-{}", self.prerelease)?;
        }
        if !self.metadata.is_empty() {
            write!(f, "+{}", self.metadata)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// No operator or `=`: exact match, or a wildcard match when parts are missing.
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Tilde,
    Caret,
}

/// One comparator such as `>=1.2`; `minor_dirty`/`patch_dirty` mark wildcard or missing parts.
#[derive(Debug, Clone)]
struct Comparator {
    op: Op,
    con: Version,
    major_dirty: bool,
    minor_dirty: bool,
    patch_dirty: bool,
}

impl Comparator {
    fn dirty(&self) -> bool {
        self.major_dirty || self.minor_dirty || self.patch_dirty
    }

    fn matches(&self, v: &Version) -> bool {
        // Masterminds v3: prereleases only match comparators that carry a prerelease themselves.
        if !v.pre.is_empty() && self.con.pre.is_empty() {
            return false;
        }
        let c = &self.con;
        match self.op {
            Op::Eq => {
                if self.dirty() {
                    self.wildcard_eq(v)
                } else {
                    v == c
                }
            }
            Op::Ne => {
                if self.dirty() {
                    !self.wildcard_eq(v)
                } else {
                    v != c
                }
            }
            Op::Gt => {
                if !self.dirty() {
                    return v > c;
                }
                if self.major_dirty {
                    return false;
                }
                if v.major != c.major {
                    return v.major > c.major;
                }
                if self.minor_dirty {
                    return false;
                }
                v.minor > c.minor
            }
            Op::Lt => {
                if self.major_dirty {
                    return false;
                }
                v < c
            }
            Op::Ge => self.major_dirty || v >= c,
            Op::Le => {
                if !self.dirty() {
                    return v <= c;
                }
                if self.major_dirty {
                    return true;
                }
                if v.major != c.major {
                    return v.major < c.major;
                }
                self.minor_dirty || v.minor <= c.minor
            }
            Op::Tilde => {
                if self.major_dirty {
                    return true;
                }
                if v < c {
                    return false;
                }
                if v.major != c.major {
                    return false;
                }
                self.minor_dirty || v.minor == c.minor
            }
            Op::Caret => {
                if self.major_dirty {
                    return true;
                }
                if v < c || v.major != c.major {
                    return false;
                }
                // ^1.2.3 := <2.0.0; ^0.x and ^0 := <1.0.0
                if c.major > 0 || self.minor_dirty {
                    return true;
                }
                // ^0.2.3 := <0.3.0; ^0.0.x := <0.1.0
                if c.minor > 0 || self.patch_dirty {
                    return v.minor == c.minor;
                }
                // ^0.0.3 := =0.0.3
                v.minor == 0 && v.patch == c.patch
            }
        }
    }

    /// Equality where missing or wildcard parts match anything.
    fn wildcard_eq(&self, v: &Version) -> bool {
        let c = &self.con;
        if self.major_dirty {
            return true;
        }
        if v.major != c.major {
            return false;
        }
        if self.minor_dirty {
            return true;
        }
        if v.minor != c.minor {
            return false;
        }
        if self.patch_dirty {
            return true;
        }
        v.patch == c.patch && v.pre == c.pre
    }
}

/// A parsed constraint: OR of AND-groups of comparators.
#[derive(Debug, Clone)]
pub struct Constraints {
    groups: Vec<Vec<Comparator>>,
    original: String,
}

impl Constraints {
    /// Parses a Masterminds/semver v3 constraint string.
    pub fn parse(text: &str) -> Result<Self, SemverError> {
        let err = |reason: &str| SemverError::InvalidConstraint {
            constraint: text.to_string(),
            reason: reason.to_string(),
        };
        if text.trim().is_empty() {
            return Err(err("empty constraint"));
        }
        let mut groups = Vec::new();
        for group in text.split("||") {
            let tokens = tokenize(group);
            if tokens.is_empty() {
                return Err(err("empty alternative"));
            }
            let mut comparators = Vec::new();
            let mut i = 0;
            while i < tokens.len() {
                // Hyphen range: `A - B` means `>=A, <=B`.
                if i + 2 < tokens.len() && tokens[i + 1] == "-" {
                    comparators.push(parse_comparator(&format!(">={}", tokens[i]), text)?);
                    comparators.push(parse_comparator(&format!("<={}", tokens[i + 2]), text)?);
                    i += 3;
                    continue;
                }
                if tokens[i] == "-" {
                    return Err(err("dangling hyphen range"));
                }
                comparators.push(parse_comparator(&tokens[i], text)?);
                i += 1;
            }
            groups.push(comparators);
        }
        Ok(Constraints {
            groups,
            original: text.to_string(),
        })
    }

    /// Whether `v` satisfies the constraint.
    pub fn matches(&self, v: &Version) -> bool {
        self.groups.iter().any(|g| g.iter().all(|c| c.matches(v)))
    }

    /// The constraint as given.
    pub fn original(&self) -> &str {
        &self.original
    }
}

/// Splits one OR-alternative into comparator tokens, gluing operators to their versions
/// (`>= 1.2` is one token) and keeping a bare `-` as the hyphen-range marker.
fn tokenize(group: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut pending_op = String::new();
    for raw in group.split([',', ' ', '\t']).filter(|t| !t.is_empty()) {
        if raw != "-" && raw.chars().all(|c| "=!<>~^".contains(c)) {
            pending_op.push_str(raw);
            continue;
        }
        let mut tok = std::mem::take(&mut pending_op);
        tok.push_str(raw);
        out.push(tok);
    }
    if !pending_op.is_empty() {
        out.push(pending_op);
    }
    out
}

fn parse_comparator(tok: &str, whole: &str) -> Result<Comparator, SemverError> {
    let err = |reason: String| SemverError::InvalidConstraint {
        constraint: whole.to_string(),
        reason,
    };
    let ops: [(&str, Op); 12] = [
        ("~>", Op::Tilde),
        (">=", Op::Ge),
        ("=>", Op::Ge),
        ("<=", Op::Le),
        ("=<", Op::Le),
        ("!=", Op::Ne),
        ("~", Op::Tilde),
        ("^", Op::Caret),
        (">", Op::Gt),
        ("<", Op::Lt),
        ("=", Op::Eq),
        ("", Op::Eq),
    ];
    let (op, rest) = ops
        .iter()
        .find_map(|(p, op)| tok.strip_prefix(p).map(|r| (*op, r)))
        .expect("the empty prefix always matches");
    let rest = rest.trim();
    if rest.is_empty() {
        return Err(err(format!("operator {tok:?} without a version")));
    }
    let body = rest.strip_prefix('v').unwrap_or(rest);
    // Split off prerelease/metadata before looking at wildcards in the numeric core.
    let core_end = body.find(['-', '+']).unwrap_or(body.len());
    let (core, suffix) = body.split_at(core_end);
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(err(format!("{rest:?} is not a version")));
    }
    let is_x = |p: &str| matches!(p, "x" | "X" | "*");
    let major_dirty = is_x(parts[0]);
    let minor_dirty = major_dirty || parts.len() < 2 || is_x(parts[1]);
    let patch_dirty = minor_dirty || parts.len() < 3 || is_x(parts[2]);
    let fill = |i: usize, dirty: bool| -> &str { if dirty { "0" } else { parts[i] } };
    let normalized = format!(
        "{}.{}.{}{}",
        fill(0, major_dirty),
        fill(1, minor_dirty),
        fill(2, patch_dirty),
        suffix
    );
    let con = Version::parse(&normalized).map_err(|_| err(format!("{rest:?} is not a version")))?;
    Ok(Comparator {
        op,
        con,
        major_dirty,
        minor_dirty,
        patch_dirty,
    })
}

/// Picks the highest version among `(name, version-text)` pairs that satisfies `constraint`;
/// names whose text is not a version are skipped, as Flux skips non-semver tags.
pub fn latest_matching<'a, I>(constraint: &Constraints, candidates: I) -> Option<(&'a str, Version)>
where
    I: IntoIterator<Item = &'a str>,
{
    candidates
        .into_iter()
        .filter_map(|name| Version::parse(name).ok().map(|v| (name, v)))
        .filter(|(_, v)| constraint.matches(v))
        .max_by(|a, b| a.1.cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_parsing() {
        for (text, ok) in [
            ("1.2.3", true),
            ("v1.2.3", true),
            ("1.2", true),
            ("1", true),
            ("1.2.3-beta.1+build.5", true),
            ("1.2.3-01", false),
            ("1.2.3.4", false),
            ("a.b.c", false),
            ("", false),
            ("1..2", false),
            ("1.2.3-", false),
        ] {
            assert_eq!(Version::parse(text).is_ok(), ok, "{text}");
        }
        let v = Version::parse("v1.2-rc.1+meta").unwrap();
        assert_eq!((v.major, v.minor, v.patch), (1, 2, 0));
        assert_eq!(v.prerelease(), "rc.1");
        assert_eq!(v.metadata(), "meta");
        assert_eq!(v.to_string(), "1.2.0-rc.1+meta");
    }

    #[test]
    fn version_ordering() {
        let order = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.1.0",
            "2.0.0",
        ];
        for w in order.windows(2) {
            let (a, b) = (Version::parse(w[0]).unwrap(), Version::parse(w[1]).unwrap());
            assert!(a < b, "{} < {}", w[0], w[1]);
        }
        assert_eq!(
            Version::parse("1.0.0+a").unwrap(),
            Version::parse("1.0.0+b").unwrap()
        );
    }

    #[test]
    fn constraint_table() {
        // (constraint, version, expected)
        let table: &[(&str, &str, bool)] = &[
            ("1.2.3", "1.2.3", true),
            ("1.2.3", "1.2.4", false),
            ("=1.2.3", "1.2.3", true),
            ("1.2", "1.2.9", true),
            ("1.2", "1.3.0", false),
            ("1", "1.9.9", true),
            ("1.x", "1.4.0", true),
            ("1.2.x", "1.2.7", true),
            ("1.2.x", "1.3.0", false),
            ("*", "5.6.7", true),
            ("*", "1.0.0-beta", false),
            ("x", "0.0.1", true),
            ("!=1.2.3", "1.2.3", false),
            ("!=1.2.3", "1.2.4", true),
            ("!=1.2", "1.2.5", false),
            ("!=1.2", "1.3.0", true),
            (">1.2.3", "1.2.4", true),
            (">1.2.3", "1.2.3", false),
            (">1.2", "1.2.9", false),
            (">1.2", "1.3.0", true),
            (">1", "1.9.0", false),
            (">1", "2.0.0", true),
            ("<1.2.3", "1.2.2", true),
            ("<1.2.3", "1.2.3", false),
            ("<1.2", "1.1.9", true),
            ("<1.2", "1.2.0", false),
            (">=1.2", "1.2.0", true),
            (">=1.2", "1.1.9", false),
            ("=>1.2", "1.2.0", true),
            ("<=1.2", "1.2.9", true),
            ("<=1.2", "1.3.0", false),
            ("=<1.2.3", "1.2.3", true),
            ("<=1.2.3", "1.2.4", false),
            ("~1.2.3", "1.2.9", true),
            ("~1.2.3", "1.3.0", false),
            ("~1.2.3", "1.2.2", false),
            ("~1.2", "1.2.0", true),
            ("~1.2", "1.3.0", false),
            ("~1", "1.9.9", true),
            ("~1", "2.0.0", false),
            ("~1.x", "1.5.0", true),
            ("~>1.2", "1.2.5", true),
            ("^1.2.3", "1.9.9", true),
            ("^1.2.3", "2.0.0", false),
            ("^1.2.3", "1.2.2", false),
            ("^1.2", "1.2.0", true),
            ("^1", "1.0.0", true),
            ("^0.2.3", "0.2.9", true),
            ("^0.2.3", "0.3.0", false),
            ("^0.0.3", "0.0.3", true),
            ("^0.0.3", "0.0.4", false),
            ("^0.0", "0.0.9", true),
            ("^0.0", "0.1.0", false),
            ("^0", "0.9.0", true),
            ("^0", "1.0.0", false),
            ("^0.x", "0.5.0", true),
            (">=1.2 <2", "1.9.9", true),
            (">=1.2 <2", "2.0.0", false),
            (">=1.2, <2", "1.2.0", true),
            (">= 1.2, < 2", "1.5.0", true),
            (">=1.2 <2 || >=3", "3.1.0", true),
            (">=1.2 <2 || >=3", "2.5.0", false),
            ("<1 || >2", "0.5.0", true),
            ("1.2 - 1.4.5", "1.4.5", true),
            ("1.2 - 1.4.5", "1.4.6", false),
            ("1.2 - 1.4.5", "1.1.9", false),
            ("1.2.3 - 2", "2.9.0", true),
            ("1.2.3 - 2", "3.0.0", false),
            ("v1.2.x", "1.2.3", true),
            // Prerelease rules.
            (">=1.0.0", "1.1.0-beta", false),
            (">=1.0.0-0", "1.1.0-beta", true),
            (">=1.2.3-beta.1", "1.2.3-beta.2", true),
            (">=1.2.3-beta.2", "1.2.3-beta.1", false),
            (">=1.2.3-beta.1", "1.2.3", true),
            ("~1.2.3-beta", "1.2.3-rc", true),
            ("^1.0.0", "1.5.0-alpha", false),
            ("1.2.3-alpha", "1.2.3-alpha", true),
            // Build metadata does not affect precedence.
            ("1.2.3", "1.2.3+build", true),
        ];
        for (c, v, want) in table {
            let cs = Constraints::parse(c).unwrap_or_else(|e| panic!("{c}: {e}"));
            let ver = Version::parse(v).unwrap();
            assert_eq!(cs.matches(&ver), *want, "{c} vs {v}");
        }
    }

    #[test]
    fn invalid_constraints() {
        for c in [
            "",
            "  ",
            ">=",
            "abc",
            "1.2.3.4",
            ">= 1.2 ||",
            "1.2 -",
            ">=x.y.z.w",
            "~>",
        ] {
            assert!(
                matches!(
                    Constraints::parse(c),
                    Err(SemverError::InvalidConstraint { .. })
                ),
                "{c:?} should be invalid"
            );
        }
    }

    #[test]
    fn random_input_never_panics() {
        // Deterministic pseudo-random strings over the constraint alphabet: parse must return,
        // never panic, and anything that parses must be usable for matching.
        let alphabet = b"0123456789.xX*^~<>=!|, -+vabrc";
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let probe = Version::parse("1.2.3-rc.1").unwrap();
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 16) as usize;
            let s: String = (0..len)
                .map(|i| alphabet[((state >> (i * 3)) % alphabet.len() as u64) as usize] as char)
                .collect();
            if let Ok(c) = Constraints::parse(&s) {
                let _ = c.matches(&probe);
            }
            let _ = Version::parse(&s);
        }
    }

    #[test]
    fn latest_matching_skips_non_semver() {
        let tags = [
            "v1.0.0",
            "v1.1.0",
            "latest",
            "v2.0.0",
            "v1.2.0-rc.1",
            "1.1.5",
        ];
        let c = Constraints::parse("~1").unwrap();
        let (name, v) = latest_matching(&c, tags).unwrap();
        assert_eq!(name, "1.1.5");
        assert_eq!(v.to_string(), "1.1.5");
        let none = Constraints::parse(">=5").unwrap();
        assert!(latest_matching(&none, tags).is_none());
    }
}
