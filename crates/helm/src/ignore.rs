//! `.helmignore` rules with Helm's semantics (a gitignore subset: `!` negation, trailing `/` for
//! directories, `/`-anchored and structural patterns, basename patterns, no `**`), plus Go's
//! `filepath.Match`.

/// An error in a `.helmignore` file.
#[derive(Debug, thiserror::Error)]
pub enum IgnoreError {
    /// `**` is rejected by Helm.
    #[error("double-star (**) syntax is not supported")]
    DoubleStar,
    /// A malformed glob.
    #[error("syntax error in pattern")]
    BadPattern,
}

#[derive(Debug, Clone)]
struct Rule {
    pattern: String,
    negate: bool,
    must_dir: bool,
    kind: RuleKind,
}

#[derive(Debug, Clone, Copy)]
enum RuleKind {
    Root,
    Structural,
    Basename,
}

/// A parsed rule set.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<Rule>,
}

impl Rules {
    /// Parses the text of a `.helmignore`.
    pub fn parse(text: &str) -> Result<Rules, IgnoreError> {
        let mut r = Rules::default();
        for line in text.lines() {
            r.add(line)?;
        }
        Ok(r)
    }

    /// Adds Helm's default rule (`templates/.?*`: hidden files in templates/).
    pub fn add_defaults(&mut self) {
        let _ = self.add("templates/.?*");
    }

    fn add(&mut self, rule: &str) -> Result<(), IgnoreError> {
        let rule = rule.trim();
        if rule.is_empty() || rule.starts_with('#') {
            return Ok(());
        }
        if rule.contains("**") {
            return Err(IgnoreError::DoubleStar);
        }
        if go_match(rule, "abc").is_none() {
            return Err(IgnoreError::BadPattern);
        }
        let (negate, rule) = match rule.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, rule),
        };
        let (must_dir, rule) = match rule.strip_suffix('/') {
            Some(r) => (true, r),
            None => (false, rule),
        };
        let (kind, pattern) = if let Some(r) = rule.strip_prefix('/') {
            (RuleKind::Root, r)
        } else if rule.contains('/') {
            (RuleKind::Structural, rule)
        } else {
            (RuleKind::Basename, rule)
        };
        self.rules.push(Rule {
            pattern: pattern.to_string(),
            negate,
            must_dir,
            kind,
        });
        Ok(())
    }

    /// Whether `path` (relative, `/`-separated) is ignored.
    pub fn ignore(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        for r in &self.rules {
            let matched = || {
                let subject = match r.kind {
                    RuleKind::Basename => path.rsplit('/').next().unwrap_or(path),
                    _ => path,
                };
                go_match(&r.pattern, subject).unwrap_or(false)
            };
            if r.negate {
                if r.must_dir && !is_dir {
                    return true;
                }
                if !matched() {
                    return true;
                }
                continue;
            }
            if r.must_dir && !is_dir {
                continue;
            }
            if matched() {
                return true;
            }
        }
        false
    }
}

/// Go's `path/filepath.Match` with `/` as separator; `None` for a malformed pattern.
pub fn go_match(pattern: &str, name: &str) -> Option<bool> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    validate(&p)?;
    Some(match_rec(&p, &n))
}

fn validate(p: &[char]) -> Option<()> {
    let mut pi = 0;
    while pi < p.len() {
        match p[pi] {
            '[' | '\\' => pi = match_one(p, pi, '\u{0}')?.1,
            _ => pi += 1,
        }
    }
    Some(())
}

fn match_rec(p: &[char], n: &[char]) -> bool {
    if p.is_empty() {
        return n.is_empty();
    }
    if p[0] == '*' {
        let rest = &p[1..];
        // `*` absorbs any run of non-separator characters.
        let mut i = 0;
        loop {
            if match_rec(rest, &n[i..]) {
                return true;
            }
            if i >= n.len() || n[i] == '/' {
                return false;
            }
            i += 1;
        }
    }
    if n.is_empty() {
        return false;
    }
    match match_one(p, 0, n[0]) {
        Some((true, next)) => match_rec(&p[next..], &n[1..]),
        _ => false,
    }
}

/// Matches one pattern element at `pi` against `c`; returns (matched, next pattern index).
fn match_one(p: &[char], pi: usize, c: char) -> Option<(bool, usize)> {
    match p[pi] {
        '?' => Some((c != '/', pi + 1)),
        '\\' => {
            let e = *p.get(pi + 1)?;
            Some((e == c, pi + 2))
        }
        '[' => {
            let mut i = pi + 1;
            let negated = p.get(i) == Some(&'^');
            if negated {
                i += 1;
            }
            let mut matched = false;
            let mut first = true;
            loop {
                let ch = *p.get(i)?;
                if ch == ']' && !first {
                    i += 1;
                    break;
                }
                first = false;
                let lo = if ch == '\\' {
                    i += 1;
                    *p.get(i)?
                } else if ch == '-' || ch == ']' && i == pi + 1 {
                    return None;
                } else {
                    ch
                };
                i += 1;
                let mut hi = lo;
                if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|&x| x != ']') {
                    i += 1;
                    let h = *p.get(i)?;
                    hi = if h == '\\' {
                        i += 1;
                        *p.get(i)?
                    } else {
                        h
                    };
                    i += 1;
                    if hi < lo {
                        return None;
                    }
                }
                if lo <= c && c <= hi {
                    matched = true;
                }
            }
            Some((matched != negated && c != '/', i))
        }
        x => Some((x == c, pi + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_filepath_match() {
        assert_eq!(go_match("*.txt", "a.txt"), Some(true));
        assert_eq!(go_match("*.txt", "d/a.txt"), Some(false));
        assert_eq!(go_match("templates/*", "templates/x.yaml"), Some(true));
        assert_eq!(go_match("a?c", "abc"), Some(true));
        assert_eq!(go_match("[a-c]x", "bx"), Some(true));
        assert_eq!(go_match("[^a-c]x", "bx"), Some(false));
        assert_eq!(go_match("[", "a"), None);
        assert_eq!(go_match("*", ""), Some(true));
        assert_eq!(go_match("a*b*c", "axxbyyc"), Some(true));
    }

    #[test]
    fn helmignore_rules() {
        let mut r = Rules::parse("# c\n*.bak\nsecret/\n/top.txt\nconf/*.ini\n").unwrap();
        r.add_defaults();
        assert!(r.ignore("a.bak", false));
        assert!(r.ignore("secret", true));
        assert!(!r.ignore("secret", false));
        assert!(r.ignore("top.txt", false));
        assert!(!r.ignore("sub/top.txt", false));
        assert!(r.ignore("conf/x.ini", false));
        assert!(r.ignore("templates/.hidden", false));
        assert!(!r.ignore("templates/ok.yaml", false));
        // Helm's quirk: a negated rule ignores every path it does not match (even Chart.yaml).
        let n = Rules::parse("*.bak\n!keep.bak\n").unwrap();
        assert!(n.ignore("Chart.yaml", false));
        assert!(n.ignore("keep.bak", false));
        assert!(Rules::parse("a/**/b\n").is_err());
    }
}
