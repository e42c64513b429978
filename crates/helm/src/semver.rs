//! Semantic versions and constraints with Masterminds/semver v3 semantics (lenient parsing,
//! `~`, `^`, wildcards, hyphen ranges, `||`), as Helm uses them for dependencies and `kubeVersion`.

use std::cmp::Ordering;

/// A parsed version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// Major.
    pub major: u64,
    /// Minor.
    pub minor: u64,
    /// Patch.
    pub patch: u64,
    /// Pre-release identifiers (after `-`), empty when none.
    pub pre: String,
    /// Build metadata (after `+`).
    pub build: String,
}

fn valid_ident_list(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

impl Version {
    /// Lenient parse (`v1`, `1.2`, `1.2.3-rc.1+b`), like `semver.NewVersion`.
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.strip_prefix('v').unwrap_or(s);
        let (rest, build) = match s.split_once('+') {
            Some((r, b)) => {
                if !valid_ident_list(b) {
                    return None;
                }
                (r, b.to_string())
            }
            None => (s, String::new()),
        };
        let (core, pre) = match rest.split_once('-') {
            Some((c, p)) => {
                if !valid_ident_list(p) {
                    return None;
                }
                (c, p.to_string())
            }
            None => (rest, String::new()),
        };
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty() || parts.len() > 3 {
            return None;
        }
        let mut nums = [0u64; 3];
        for (i, p) in parts.iter().enumerate() {
            if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            nums[i] = p.parse().ok()?;
        }
        Some(Version {
            major: nums[0],
            minor: nums[1],
            patch: nums[2],
            pre,
            build,
        })
    }

    fn cmp_pre(a: &str, b: &str) -> Ordering {
        match (a.is_empty(), b.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Greater,
            (false, true) => return Ordering::Less,
            _ => {}
        }
        let mut ia = a.split('.');
        let mut ib = b.split('.');
        loop {
            match (ia.next(), ib.next()) {
                (None, None) => return Ordering::Equal,
                (None, Some(_)) => return Ordering::Less,
                (Some(_), None) => return Ordering::Greater,
                (Some(x), Some(y)) => {
                    let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                        (Ok(p), Ok(q)) => p.cmp(&q),
                        (Ok(_), Err(_)) => Ordering::Less,
                        (Err(_), Ok(_)) => Ordering::Greater,
                        _ => x.cmp(y),
                    };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
            }
        }
    }

    /// Precedence order (build metadata ignored).
    pub fn compare(&self, other: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| Self::cmp_pre(&self.pre, &other.pre))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.build.is_empty() {
            write!(f, "+{}", self.build)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct Bound {
    op: String,
    v: Version,
    /// How many of major/minor/patch were given as numbers (wildcards and absences count as missing).
    given: usize,
    has_pre: bool,
}

/// A parsed constraint: alternatives (`||`) of conjunctions.
#[derive(Debug, Clone)]
pub struct Constraint {
    alts: Vec<Vec<Bound>>,
}

fn parse_bound(s: &str) -> Option<Bound> {
    let s = s.trim();
    let ops = ["!=", ">=", "=>", "<=", "=<", "~>", ">", "<", "=", "~", "^"];
    let (op, rest) = ops
        .iter()
        .find_map(|o| s.strip_prefix(o).map(|r| (*o, r.trim())))
        .unwrap_or(("", s));
    let op = match op {
        "=>" => ">=",
        "=<" => "<=",
        "~>" => "~",
        o => o,
    };
    let rest = rest.strip_prefix('v').unwrap_or(rest);
    let (core, tail) = match rest.find(['-', '+']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let mut nums = [0u64; 3];
    let mut given = 0;
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() > 3 || core.is_empty() {
        return None;
    }
    for (i, p) in parts.iter().enumerate() {
        if matches!(*p, "x" | "X" | "*") {
            break;
        }
        nums[i] = p.parse().ok()?;
        given = i + 1;
    }
    let v = Version::parse(&format!("{}.{}.{}{}", nums[0], nums[1], nums[2], tail))?;
    let has_pre = !v.pre.is_empty();
    Some(Bound {
        op: op.to_string(),
        v,
        given,
        has_pre,
    })
}

impl Constraint {
    /// Parses a constraint string like `>=1.2.0 <2`, `~1.2 || ^3`, `1.0 - 2.0`.
    pub fn parse(s: &str) -> Option<Constraint> {
        let mut alts = Vec::new();
        for alt in s.split("||") {
            let alt = alt.trim();
            if alt.is_empty() {
                return None;
            }
            let mut bounds = Vec::new();
            // Hyphen ranges: "A - B".
            let tokens: Vec<String> = alt
                .replace(',', " ")
                .split_whitespace()
                .map(str::to_string)
                .collect();
            let mut merged: Vec<String> = Vec::new();
            let mut i = 0;
            while i < tokens.len() {
                let t = &tokens[i];
                let is_op = matches!(
                    t.as_str(),
                    ">" | "<" | ">=" | "<=" | "=" | "!=" | "~" | "^" | "=>" | "=<" | "~>"
                );
                if is_op && i + 1 < tokens.len() {
                    merged.push(format!("{t}{}", tokens[i + 1]));
                    i += 2;
                } else {
                    merged.push(t.clone());
                    i += 1;
                }
            }
            let mut j = 0;
            while j < merged.len() {
                if j + 2 < merged.len() && merged[j + 1] == "-" {
                    bounds.push(parse_bound(&format!(">={}", merged[j]))?);
                    bounds.push(parse_bound(&format!("<={}", merged[j + 2]))?);
                    j += 3;
                } else {
                    bounds.push(parse_bound(&merged[j])?);
                    j += 1;
                }
            }
            alts.push(bounds);
        }
        Some(Constraint { alts })
    }

    /// Whether `v` satisfies the constraint.
    pub fn matches(&self, v: &Version) -> bool {
        self.alts.iter().any(|all| all.iter().all(|b| check(b, v)))
    }
}

fn upper(b: &Bound, level: usize) -> Version {
    // The exclusive upper bound after bumping component `level` (0 major, 1 minor, 2 patch).
    let (ma, mi, pa) = (b.v.major, b.v.minor, b.v.patch);
    let (ma, mi, pa) = match level {
        0 => (ma + 1, 0, 0),
        1 => (ma, mi + 1, 0),
        _ => (ma, mi, pa + 1),
    };
    Version {
        major: ma,
        minor: mi,
        patch: pa,
        pre: String::new(),
        build: String::new(),
    }
}

fn check(b: &Bound, v: &Version) -> bool {
    // Masterminds v3: pre-release versions only satisfy constraints that carry a pre-release.
    if !v.pre.is_empty() && !b.has_pre {
        return false;
    }
    let c = v.compare(&b.v);
    let base = Version {
        pre: String::new(),
        build: String::new(),
        ..v.clone()
    };
    let in_wild = |b: &Bound| {
        b.given == 0
            || base.compare(&b.v) != Ordering::Less
                && base.compare(&upper(b, b.given - 1)) == Ordering::Less
    };
    match b.op.as_str() {
        "" | "=" => {
            if b.given < 3 {
                in_wild(b)
            } else {
                c == Ordering::Equal
            }
        }
        "!=" => {
            if b.given < 3 {
                !in_wild(b)
            } else {
                c != Ordering::Equal
            }
        }
        ">" => {
            if b.given < 3 {
                b.given > 0 && base.compare(&upper(b, b.given - 1)) != Ordering::Less
            } else {
                c == Ordering::Greater
            }
        }
        ">=" => c != Ordering::Less,
        "<" => c == Ordering::Less,
        "<=" => {
            if b.given < 3 {
                b.given == 0 || base.compare(&upper(b, b.given - 1)) == Ordering::Less
            } else {
                c != Ordering::Greater
            }
        }
        "~" => {
            if c == Ordering::Less {
                return false;
            }
            let level = if b.given <= 1 { 0 } else { 1 };
            base.compare(&upper(b, level)) == Ordering::Less
        }
        "^" => {
            if c == Ordering::Less {
                return false;
            }
            let level = if b.v.major > 0 || b.given <= 1 {
                0
            } else if b.v.minor > 0 || b.given == 2 {
                1
            } else {
                2
            };
            base.compare(&upper(b, level)) == Ordering::Less
        }
        _ => false,
    }
}

/// Helm's `IsCompatibleRange`: false when either side does not parse.
pub fn is_compatible_range(constraint: &str, version: &str) -> bool {
    match (Constraint::parse(constraint), Version::parse(version)) {
        (Some(c), Some(v)) => c.matches(&v),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_compatible_range as ok;

    #[test]
    fn masterminds_semantics() {
        assert!(ok("1.2.3", "1.2.3"));
        assert!(!ok("1.2.3", "1.2.4"));
        assert!(ok("~1.2.3", "1.2.9"));
        assert!(!ok("~1.2.3", "1.3.0"));
        assert!(ok("^1.2", "1.9.0"));
        assert!(!ok("^0.2.3", "0.3.0"));
        assert!(ok("1.x", "1.4.0"));
        assert!(ok("*", "3.0.0"));
        assert!(ok(">=1.0.0 <2.0.0", "1.5.0"));
        assert!(ok("1.0 - 2.0", "2.0.0"));
        assert!(ok("<1 || >=3", "3.1.0"));
        assert!(!ok(">=1.20.0", "1.35.0-beta.1"));
        assert!(ok(">=1.20.0-0", "1.35.0-beta.1"));
        assert!(!ok("", "1.0.0"));
    }
}
