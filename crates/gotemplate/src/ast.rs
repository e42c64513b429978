//! The parse tree, with Go's `String()` forms used in error contexts.

use std::fmt::{self, Write};
use std::sync::Arc;

/// A parsed template: its name, the name and text of the source it came from, and its body.
#[derive(Debug)]
pub(crate) struct Tree {
    pub name: String,
    pub parse_name: String,
    pub text: Arc<str>,
    pub root: Vec<Node>,
}

impl Tree {
    /// `name:line:col` of a byte offset, as Go's `ErrorContext` computes it.
    pub fn location(&self, pos: usize) -> String {
        let pos = pos.min(self.text.len());
        let before = &self.text.as_bytes()[..pos];
        let line = 1 + before.iter().filter(|b| **b == b'\n').count();
        let col = match before.iter().rposition(|b| *b == b'\n') {
            Some(nl) => pos - (nl + 1),
            None => pos,
        };
        format!("{}:{}:{}", self.parse_name, line, col)
    }

    /// Go's `IsEmptyTree`: only whitespace text and comments.
    pub fn is_empty(&self) -> bool {
        list_is_empty(&self.root)
    }

    /// Whether any action of the tree calls one of the functions `names`.
    pub fn calls_any(&self, names: &[&str]) -> bool {
        list_calls(&self.root, names)
    }
}

fn list_calls(list: &[Node], names: &[&str]) -> bool {
    list.iter().any(|n| match n {
        Node::Action { pipe } => pipe_calls(pipe, names),
        Node::If(b) | Node::With(b) | Node::Range(b) => {
            pipe_calls(&b.pipe, names)
                || list_calls(&b.list, names)
                || b.else_list.as_deref().is_some_and(|l| list_calls(l, names))
        }
        Node::Template { pipe, .. } => pipe.as_ref().is_some_and(|p| pipe_calls(p, names)),
        Node::Text { .. } | Node::Break { .. } | Node::Continue { .. } => false,
    })
}

fn pipe_calls(pipe: &Pipe, names: &[&str]) -> bool {
    pipe.cmds
        .iter()
        .any(|c| c.args.iter().any(|a| arg_calls(a, names)))
}

fn arg_calls(arg: &Arg, names: &[&str]) -> bool {
    match arg {
        Arg::Identifier { name, .. } => names.contains(&name.as_str()),
        Arg::Chain { node, .. } => arg_calls(node, names),
        Arg::Pipe(p) => pipe_calls(p, names),
        _ => false,
    }
}

fn list_is_empty(list: &[Node]) -> bool {
    list.iter().all(|n| match n {
        Node::Text { text, .. } => text
            .trim_matches(|c: char| c.is_ascii_whitespace())
            .is_empty(),
        _ => false,
    })
}

#[derive(Debug)]
pub(crate) enum Node {
    Text {
        text: String,
    },
    Action {
        pipe: Pipe,
    },
    If(Branch),
    With(Branch),
    Range(Branch),
    Template {
        pos: usize,
        name: String,
        pipe: Option<Pipe>,
    },
    Break {
        pos: usize,
    },
    Continue {
        pos: usize,
    },
}

#[derive(Debug)]
pub(crate) struct Branch {
    pub pipe: Pipe,
    pub list: Vec<Node>,
    pub else_list: Option<Vec<Node>>,
}

#[derive(Debug)]
pub(crate) struct Pipe {
    pub pos: usize,
    pub is_assign: bool,
    pub decl: Vec<Var>,
    pub cmds: Vec<Command>,
}

#[derive(Debug)]
pub(crate) struct Var {
    pub name: String,
}

#[derive(Debug)]
pub(crate) struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

#[derive(Debug)]
pub(crate) struct Number {
    pub text: String,
    pub is_int: bool,
    pub is_uint: bool,
    pub is_float: bool,
    pub int: i64,
    pub float: f64,
}

#[derive(Debug)]
pub(crate) enum Arg {
    Field {
        pos: usize,
        idents: Vec<String>,
    },
    Variable {
        pos: usize,
        idents: Vec<String>,
    },
    Chain {
        pos: usize,
        node: Box<Arg>,
        fields: Vec<String>,
    },
    Identifier {
        pos: usize,
        name: String,
    },
    Dot {
        pos: usize,
    },
    Nil {
        pos: usize,
    },
    Bool {
        pos: usize,
        val: bool,
    },
    Number {
        pos: usize,
        num: Number,
    },
    String {
        pos: usize,
        quoted: String,
        /// The unquoted text, shared with every value the literal evaluates to.
        text: std::sync::Arc<str>,
    },
    Pipe(Box<Pipe>),
}

impl Arg {
    pub fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. }
            | Arg::Variable { pos, .. }
            | Arg::Chain { pos, .. }
            | Arg::Identifier { pos, .. }
            | Arg::Dot { pos }
            | Arg::Nil { pos }
            | Arg::Bool { pos, .. }
            | Arg::Number { pos, .. }
            | Arg::String { pos, .. } => *pos,
            Arg::Pipe(p) => p.pos,
        }
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field { idents, .. } => {
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Variable { idents, .. } => f.write_str(&idents.join(".")),
            Arg::Chain { node, fields, .. } => {
                if let Arg::Pipe(p) = &**node {
                    write!(f, "({p})")?;
                } else {
                    write!(f, "{node}")?;
                }
                for x in fields {
                    write!(f, ".{x}")?;
                }
                Ok(())
            }
            Arg::Identifier { name, .. } => f.write_str(name),
            Arg::Dot { .. } => f.write_str("."),
            Arg::Nil { .. } => f.write_str("nil"),
            Arg::Bool { val, .. } => write!(f, "{val}"),
            Arg::Number { num, .. } => f.write_str(&num.text),
            Arg::String { quoted, .. } => f.write_str(quoted),
            Arg::Pipe(p) => write!(f, "{p}"),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            if let Arg::Pipe(p) = a {
                write!(f, "({p})")?;
            } else {
                write!(f, "{a}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            for (i, v) in self.decl.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                f.write_str(&v.name)?;
            }
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, list: &[Node]) -> fmt::Result {
    for n in list {
        write!(f, "{n}")?;
    }
    Ok(())
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Text { text } => f.write_str(text),
            Node::Action { pipe } => write!(f, "{{{{{pipe}}}}}"),
            Node::If(b) | Node::With(b) | Node::Range(b) => {
                let kw = match self {
                    Node::If(_) => "if",
                    Node::With(_) => "with",
                    _ => "range",
                };
                write!(f, "{{{{{kw} {}}}}}", b.pipe)?;
                write_list(f, &b.list)?;
                if let Some(e) = &b.else_list {
                    f.write_str("{{else}}")?;
                    write_list(f, e)?;
                }
                f.write_str("{{end}}")
            }
            Node::Template { name, pipe, .. } => {
                let q = crate::gofmt::quote(name);
                match pipe {
                    None => write!(f, "{{{{template {q}}}}}"),
                    Some(p) => write!(f, "{{{{template {q} {p}}}}}"),
                }
            }
            Node::Break { .. } => f.write_str("{{break}}"),
            Node::Continue { .. } => f.write_str("{{continue}}"),
        }
    }
}
