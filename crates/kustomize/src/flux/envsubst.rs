//! Flux's post-build variable substitution syntax (fluxcd/pkg/envsubst, a bash-like subset):
//! `${var}`, the default forms `${var:=x}`, `${var=x}`, `${var:-x}`, `${var:+x}`, `${var:?x}`
//! (all of them yield the value when it is non-empty, else the default, as Flux does), and
//! `${#var}`, `${var^}`/`${var^^}`/`${var,}`/`${var,,}`, `${var:pos[:len]}`,
//! `${var/a/b}`/`${var//a/b}`/`${var/#a/b}`/`${var/%a/b}`, `${var#glob}`/`${var##glob}`/
//! `${var%glob}`/`${var%%glob}`. `$$` in text is an escaped `$` (`$${var}` stays `${var}`);
//! a bare `$var` is left alone.

/// Why a text could not be substituted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvsubstError {
    /// Malformed `${...}` expression.
    #[error("{0}")]
    Parse(&'static str),
    /// Strict mode: a variable used without a default is not defined.
    #[error("variable not set (strict mode): \"{0}\"")]
    NotSet(String),
}

const BAD_SUBSTITUTION: EnvsubstError = EnvsubstError::Parse("bad substitution");
const MISSING_BRACE: EnvsubstError = EnvsubstError::Parse("missing closing brace");
const BAD_NAME: EnvsubstError = EnvsubstError::Parse("unable to parse variable name");
const BAD_FUNC: EnvsubstError =
    EnvsubstError::Parse("unable to parse substitution within function");

/// A parsed piece of text.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Func {
        /// Variable name.
        param: String,
        /// Operator (`""` for a plain `${var}`).
        op: String,
        /// Arguments, each a sequence of nodes.
        args: Vec<Vec<Node>>,
    },
}

/// Substitutes every `${...}` in `text`. `lookup` answers a variable's value and whether it
/// exists; in non-strict mode callers answer `("", true)` for unknown names.
pub fn eval(text: &str, lookup: &dyn Fn(&str) -> (String, bool)) -> Result<String, EnvsubstError> {
    let nodes = Parser::new(text).parse_top()?;
    let mut out = String::with_capacity(text.len());
    render(&nodes, lookup, &mut out)?;
    Ok(out)
}

fn render(
    nodes: &[Node],
    lookup: &dyn Fn(&str) -> (String, bool),
    out: &mut String,
) -> Result<(), EnvsubstError> {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Func { param, op, args } => {
                let mut rendered = Vec::with_capacity(args.len());
                for a in args {
                    let mut s = String::new();
                    render(a, lookup, &mut s)?;
                    rendered.push(s);
                }
                let (value, exists) = lookup(param);
                if !exists && !is_default_op(op) {
                    return Err(EnvsubstError::NotSet(param.clone()));
                }
                out.push_str(&apply(op, &value, &rendered));
            }
        }
    }
    Ok(())
}

/// Operators that supply their own value when the variable is unset (never strict errors).
fn is_default_op(op: &str) -> bool {
    matches!(op, "-" | "+" | "=" | "?" | ":-" | ":+" | ":=" | ":?")
}

fn apply(op: &str, v: &str, args: &[String]) -> String {
    let arg = |i: usize| args.get(i).map(String::as_str);
    match op {
        "," => first_char(v, |c| c.to_lowercase().collect()),
        ",," => v.to_lowercase(),
        "^" => first_char(v, |c| c.to_uppercase().collect()),
        "^^" => v.to_uppercase(),
        "#" if args.is_empty() => v.len().to_string(),
        "#" => arg(0).map_or(v.to_string(), |p| trim_prefix(v, p, false)),
        "##" => arg(0).map_or(v.to_string(), |p| trim_prefix(v, p, true)),
        "%" => arg(0).map_or(v.to_string(), |p| trim_suffix(v, p, false)),
        "%%" => arg(0).map_or(v.to_string(), |p| trim_suffix(v, p, true)),
        ":" => substr(v, args),
        "/#" => match (arg(0), arg(1)) {
            (Some(a), Some(b)) if v.starts_with(a) => v.replacen(a, b, 1),
            _ => v.to_string(),
        },
        "/%" => match (arg(0), arg(1)) {
            (Some(a), Some(b)) if v.ends_with(a) => format!("{}{b}", &v[..v.len() - a.len()]),
            _ => v.to_string(),
        },
        "/" => match args.len() {
            0 => v.to_string(),
            1 => v.replacen(&args[0], "", 1),
            _ => v.replacen(&args[0], &args[1], 1),
        },
        "//" => match args.len() {
            0 => v.to_string(),
            1 => v.replace(&args[0], ""),
            _ => v.replace(&args[0], &args[1]),
        },
        // Every default form (and a plain `${var}`): the value, or the default when empty.
        _ if v.is_empty() && !args.is_empty() => args.concat(),
        _ => v.to_string(),
    }
}

fn first_char(v: &str, f: impl Fn(char) -> String) -> String {
    let mut chars = v.chars();
    match chars.next() {
        Some(c) => f(c) + chars.as_str(),
        None => String::new(),
    }
}

/// `${var:pos:len}` on bytes as Go slices strings (char boundaries respected).
fn substr(v: &str, args: &[String]) -> String {
    let Some(Ok(mut pos)) = args.first().map(|a| a.trim().parse::<i64>()) else {
        return v.to_string();
    };
    let n = v.len() as i64;
    if pos < 0 {
        pos = (n + pos).max(0);
    }
    let slice = |a: i64, b: i64| -> String {
        let (a, b) = (a as usize, b as usize);
        if v.is_char_boundary(a) && v.is_char_boundary(b) {
            v[a..b].to_string()
        } else {
            String::from_utf8_lossy(&v.as_bytes()[a..b]).into_owned()
        }
    };
    match args.get(1) {
        None => {
            if pos < n {
                slice(pos, n)
            } else {
                String::new()
            }
        }
        Some(l) => {
            let Ok(len) = l.trim().parse::<i64>() else {
                return v.to_string();
            };
            if pos + len >= n {
                if pos < n {
                    slice(pos, n)
                } else {
                    String::new()
                }
            } else {
                slice(pos, (pos + len).max(pos))
            }
        }
    }
}

fn trim_prefix(v: &str, pattern: &str, longest: bool) -> String {
    // Candidate prefixes from longest to shortest, as Flux scans them.
    let ends: Vec<usize> = (1..=v.len())
        .rev()
        .filter(|&i| v.is_char_boundary(i))
        .collect();
    let mut found = None;
    for end in ends {
        if glob_match(pattern, &v[..end]) {
            found = Some(end);
            if longest {
                break;
            }
        }
    }
    match found {
        Some(end) => v[end..].to_string(),
        None => v.to_string(),
    }
}

fn trim_suffix(v: &str, pattern: &str, longest: bool) -> String {
    let rv: String = v.chars().rev().collect();
    let rp: String = pattern.chars().rev().collect();
    trim_prefix(&rv, &rp, longest).chars().rev().collect()
}

/// Shell glob: `*`, `?`, `[...]` classes (with `!`/`^` negation and ranges), `\` escapes.
fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    fn class(p: &[char], c: char) -> Option<(bool, usize)> {
        // p starts after '['; returns (matched, consumed incl. ']').
        let mut i = 0;
        let negate = matches!(p.first(), Some('!') | Some('^'));
        if negate {
            i += 1;
        }
        let mut matched = false;
        let mut first = true;
        while i < p.len() {
            if p[i] == ']' && !first {
                return Some((matched != negate, i + 1));
            }
            first = false;
            let lo = p[i];
            if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
                if lo <= c && c <= p[i + 2] {
                    matched = true;
                }
                i += 3;
            } else {
                if lo == c {
                    matched = true;
                }
                i += 1;
            }
        }
        None
    }
    fn go(p: &[char], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('*') => (0..=t.len()).any(|k| go(&p[1..], &t[k..])),
            Some('?') => !t.is_empty() && go(&p[1..], &t[1..]),
            Some('[') => match (t.first(), class(&p[1..], *t.first().unwrap_or(&'\0'))) {
                (Some(_), Some((true, n))) => go(&p[1 + n..], &t[1..]),
                (Some(_), Some((false, _))) => false,
                (_, None) => !t.is_empty() && t[0] == '[' && go(&p[1..], &t[1..]),
                (None, _) => false,
            },
            Some('\\') if p.len() > 1 => !t.is_empty() && t[0] == p[1] && go(&p[2..], &t[1..]),
            Some(&c) => !t.is_empty() && t[0] == c && go(&p[1..], &t[1..]),
        }
    }
    go(&p, &t)
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(s: &'a str) -> Self {
        Parser { s, pos: 0 }
    }

    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.s[self.pos..].chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn starts_lbrack(&self) -> bool {
        self.s[self.pos..].starts_with("${")
    }

    /// Top level: text with `$$` escapes, and `${...}` expressions.
    fn parse_top(&mut self) -> Result<Vec<Node>, EnvsubstError> {
        let mut nodes = Vec::new();
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if self.starts_lbrack() {
                if !text.is_empty() {
                    nodes.push(Node::Text(std::mem::take(&mut text)));
                }
                self.pos += 2;
                nodes.push(self.parse_func()?);
                continue;
            }
            self.bump();
            if c == '$' && self.peek() == Some('$') {
                // `$$` is one literal `$`; what follows is plain text (no expansion).
                self.bump();
                text.push('$');
                continue;
            }
            text.push(c);
        }
        if !text.is_empty() {
            nodes.push(Node::Text(text));
        }
        Ok(nodes)
    }

    fn ident(&mut self) -> String {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_alphanumeric() || c == '_' {
                self.bump();
            } else {
                break;
            }
        }
        self.s[start..self.pos].to_string()
    }

    fn expect_rbrack(&mut self, err: EnvsubstError) -> Result<(), EnvsubstError> {
        if self.bump() == Some('}') {
            Ok(())
        } else {
            Err(err)
        }
    }

    /// After `${`.
    fn parse_func(&mut self) -> Result<Node, EnvsubstError> {
        if self.peek() == Some('#') {
            self.bump();
            let param = self.ident();
            if param.is_empty() {
                return Err(BAD_SUBSTITUTION);
            }
            self.expect_rbrack(BAD_SUBSTITUTION)?;
            return Ok(Node::Func {
                param,
                op: "#".into(),
                args: Vec::new(),
            });
        }
        let param = self.ident();
        if param.is_empty() {
            return Err(BAD_NAME);
        }
        let func = |op: &str, args| Node::Func {
            param: param.clone(),
            op: op.to_string(),
            args,
        };
        match self.peek() {
            Some('}') => {
                self.bump();
                Ok(func("", Vec::new()))
            }
            Some(':') if matches!(self.peek_at(1), Some('=' | '-' | '?' | '+')) => {
                self.bump();
                let op = format!(":{}", self.bump().unwrap_or_default());
                let args = self.default_args()?;
                Ok(func(&op, args))
            }
            Some(':') => {
                self.bump();
                let mut args = vec![self.param(|c| c != ':' && c != '}', false)?];
                match self.bump() {
                    Some('}') => return Ok(func(":", args)),
                    Some(':') => {}
                    _ => return Err(BAD_SUBSTITUTION),
                }
                args.push(self.param(|c| c != '}', false)?);
                self.expect_rbrack(BAD_SUBSTITUTION)?;
                Ok(func(":", args))
            }
            Some('=') => {
                self.bump();
                let args = self.default_args()?;
                Ok(func("=", args))
            }
            Some(c @ (',' | '^')) => {
                self.bump();
                let op = if self.peek() == Some(c) {
                    self.bump();
                    format!("{c}{c}")
                } else {
                    c.to_string()
                };
                self.expect_rbrack(BAD_SUBSTITUTION)?;
                Ok(func(&op, Vec::new()))
            }
            Some('/') => {
                self.bump();
                let op = match self.peek() {
                    Some(c @ ('/' | '#' | '%')) => {
                        self.bump();
                        format!("/{c}")
                    }
                    _ => "/".to_string(),
                };
                let mut args = vec![self.param(|c| c != '/', true)?];
                if self.bump() != Some('/') {
                    return Err(BAD_SUBSTITUTION);
                }
                if self.peek() == Some('}') {
                    self.bump();
                    return Ok(func(&op, args));
                }
                args.push(self.param(|c| c != '}', true)?);
                self.expect_rbrack(BAD_SUBSTITUTION)?;
                Ok(func(&op, args))
            }
            Some(c @ ('#' | '%')) => {
                self.bump();
                let op = if self.peek() == Some(c) {
                    self.bump();
                    format!("{c}{c}")
                } else {
                    c.to_string()
                };
                let args = vec![self.param(|c| c != '}', false)?];
                self.expect_rbrack(BAD_SUBSTITUTION)?;
                Ok(func(&op, args))
            }
            _ => Err(MISSING_BRACE),
        }
    }

    /// Arguments of a default form, up to the closing brace: text runs and nested `${...}`.
    fn default_args(&mut self) -> Result<Vec<Vec<Node>>, EnvsubstError> {
        let mut args = Vec::new();
        loop {
            match self.peek() {
                Some('}') => {
                    self.bump();
                    return Ok(args);
                }
                None => return Err(BAD_FUNC),
                _ => args.push(self.param(|c| c != '}', false)?),
            }
        }
    }

    /// One argument: a nested `${...}` or a non-empty run of accepted characters (which stops
    /// before a `${`). `escapes` turns on `\\`, `\/` and `$$` escapes (replace patterns).
    fn param(
        &mut self,
        accept: impl Fn(char) -> bool,
        escapes: bool,
    ) -> Result<Vec<Node>, EnvsubstError> {
        if self.starts_lbrack() {
            self.pos += 2;
            return Ok(vec![self.parse_func()?]);
        }
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if self.starts_lbrack() {
                break;
            }
            if escapes && c == '\\' && matches!(self.peek_at(1), Some('\\' | '/')) {
                self.bump();
                text.push(self.bump().unwrap_or_default());
                continue;
            }
            if escapes && c == '$' && self.peek_at(1) == Some('$') {
                self.bump();
                text.push(self.bump().unwrap_or_default());
                continue;
            }
            if !accept(c) {
                break;
            }
            text.push(c);
            self.bump();
        }
        if text.is_empty() {
            // An empty argument is only valid right before the closing brace.
            if self.peek() == Some('}') {
                return Ok(vec![Node::Text(String::new())]);
            }
            return Err(BAD_FUNC);
        }
        Ok(vec![Node::Text(text)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn run(vars: &[(&str, &str)], input: &str, strict: bool) -> Result<String, EnvsubstError> {
        let m: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        eval(input, &|k| match m.get(k) {
            Some(v) => (v.clone(), true),
            None => (String::new(), !strict),
        })
    }

    #[test]
    fn expansions() {
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: &[Case] = &[
            (&[], "abcdEFGH28ij", "abcdEFGH28ij"),
            (&[("v", "abcdEFGH28ij")], "${#v}", "12"),
            (&[("v", "abcdEFGH28ij")], "${v^}", "AbcdEFGH28ij"),
            (&[("v", "abcdEFGH28ij")], "${v^^}", "ABCDEFGH28IJ"),
            (&[("v", "ABCDEFGH28IJ")], "${v,}", "aBCDEFGH28IJ"),
            (&[("v", "ABCDEFGH28IJ")], "${v,,}", "abcdefgh28ij"),
            (
                &[("p", "/home/bozo/ideas/thoughts.for.today")],
                "${p:11}",
                "ideas/thoughts.for.today",
            ),
            (
                &[("p", "/home/bozo/ideas/thoughts.for.today")],
                "${p:11:5}",
                "ideas",
            ),
            (&[("var", "abc")], "${var=xyz}", "abc"),
            (&[], "${var=xyz}", "xyz"),
            (&[], "${var:=xyz}", "xyz"),
            (&[], "${var:-xyz}", "xyz"),
            (&[("var", "")], "${var:-xyz}", "xyz"),
            (&[("d", "foo")], "something ${var=${d}}", "something foo"),
            (
                &[("d", "foo1")],
                "foo: ${var=${d}-suffix}",
                "foo: foo1-suffix",
            ),
            (
                &[("d", "foo1")],
                "foo: ${var=prefix${d}-suffix}",
                "foo: prefixfoo1-suffix",
            ),
            (
                &[("s", "abcABC123ABCabc")],
                "${s/%abc/XYZ}",
                "abcABC123ABCXYZ",
            ),
            (
                &[("s", "abcABC123ABCabc")],
                "${s/#abc/XYZ}",
                "XYZABC123ABCabc",
            ),
            (
                &[("s", "abcABC123ABCabc")],
                "${s//abc/xyz}",
                "xyzABC123ABCxyz",
            ),
            (
                &[("s", "abcABC123ABCabc")],
                "${s/abc/xyz}",
                "xyzABC123ABCabc",
            ),
            (&[("f", "bash.string.txt")], "${f#*.}", "string.txt"),
            (&[("f", "bash.string.txt")], "${f##*.}", "txt"),
            (&[("f", "bash.string.txt")], "${f%.*}", "bash.string"),
            (&[("f", "bash.string.txt")], "${f%%.*}", "bash"),
            (&[("f", "path/to/file")], "${f#*/}", "to/file"),
            // Escapes and things that are not expressions.
            (&[("var", "x")], "$${var}", "${var}"),
            (&[("var", "x")], "a $$ b", "a $ b"),
            (&[("var", "x")], "$var and ${var}", "$var and x"),
            (&[("var", "x")], "cost: 5$", "cost: 5$"),
            (&[], "${unset}", ""),
        ];
        for (vars, input, want) in cases {
            assert_eq!(run(vars, input, false).as_deref(), Ok(*want), "{input}");
        }
    }

    #[test]
    fn strict_mode_and_errors() {
        assert_eq!(
            run(&[], "a: ${missing}", true),
            Err(EnvsubstError::NotSet("missing".into()))
        );
        assert_eq!(run(&[], "${missing:=dflt}", true).as_deref(), Ok("dflt"));
        assert_eq!(run(&[], "${missing:-}", true).as_deref(), Ok(""));
        assert!(matches!(
            run(&[], "${#missing}", true),
            Err(EnvsubstError::NotSet(_))
        ));
        assert_eq!(run(&[], "${", false), Err(BAD_NAME));
        assert_eq!(run(&[("a", "1")], "${a", false), Err(MISSING_BRACE));
        assert_eq!(run(&[("a", "1")], "${a-x}", false), Err(MISSING_BRACE));
        assert_eq!(run(&[], "${:=x}", false), Err(BAD_NAME));
    }

    #[test]
    fn globs() {
        assert!(glob_match("*.txt", "a.txt"));
        assert!(glob_match("[a-c]?", "bz"));
        assert!(!glob_match("[!a-c]?", "bz"));
        assert!(glob_match("\\*", "*"));
        assert!(!glob_match("a", "ab"));
    }
}
