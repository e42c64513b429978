//! The parser: items to trees, with Go's `text/template/parse` rules and error messages.

use std::sync::Arc;

use crate::Error;
use crate::ast::{Arg, Branch, Command, Node, Number, Pipe, Tree, Var};
use crate::lex::{Item, Kind, lex};

/// Parses `text` named `name`; returns the top-level tree first, then every `define`d or
/// `block` tree, in source order. `has_func` tells whether a function name exists.
pub(crate) fn parse(
    name: &str,
    text: &str,
    has_func: &dyn Fn(&str) -> bool,
    max_depth: usize,
) -> Result<Vec<Tree>, Error> {
    let items = lex(text);
    let shared: Arc<str> = Arc::from(text);
    let mut p = Parser {
        items,
        idx: 0,
        last_line: 1,
        parse_name: name.to_string(),
        text: shared.clone(),
        vars: vec!["$".to_string()],
        range_depth: 0,
        action_line: 0,
        has_func,
        defs: Vec::new(),
        depth: 0,
        max_depth,
    };
    let root = p.parse_root()?;
    let mut out = vec![Tree {
        name: name.to_string(),
        parse_name: name.to_string(),
        text: shared,
        root,
    }];
    out.extend(p.defs);
    Ok(out)
}

struct Parser<'f> {
    items: Vec<Item>,
    idx: usize,
    last_line: usize,
    parse_name: String,
    text: Arc<str>,
    vars: Vec<String>,
    range_depth: usize,
    action_line: usize,
    has_func: &'f dyn Fn(&str) -> bool,
    defs: Vec<Tree>,
    depth: usize,
    max_depth: usize,
}

type PResult<T> = Result<T, Error>;

/// What `item_list` stopped at.
enum Stop {
    End,
    Else,
}

impl Parser<'_> {
    fn errorf(&self, msg: impl AsRef<str>) -> Error {
        Error::Parse(format!(
            "template: {}:{}: {}",
            self.parse_name,
            self.last_line,
            msg.as_ref()
        ))
    }

    fn next(&mut self) -> Item {
        let it = self.items[self.idx.min(self.items.len() - 1)].clone();
        if self.idx < self.items.len() {
            self.idx += 1;
        }
        self.last_line = it.line;
        it
    }

    fn backup(&mut self) {
        self.idx -= 1;
    }

    fn peek(&self) -> &Item {
        &self.items[self.idx.min(self.items.len() - 1)]
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let it = self.next();
            if it.kind != Kind::Space {
                return it;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let it = self.next_non_space();
        self.backup();
        it
    }

    fn unexpected(&self, token: &Item, context: &str) -> Error {
        if token.kind == Kind::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != token.line {
                extra = format!(
                    " in action started at {}:{}",
                    self.parse_name, self.action_line
                );
                if token.val.ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return self.errorf(format!("{}{}", token.describe(), extra));
        }
        self.errorf(format!("unexpected {} in {}", token.describe(), context))
    }

    fn expect(&mut self, kind: Kind, context: &str) -> PResult<Item> {
        let t = self.next_non_space();
        if t.kind != kind {
            return Err(self.unexpected(&t, context));
        }
        Ok(t)
    }

    fn parse_root(&mut self) -> PResult<Vec<Node>> {
        let mut root = Vec::new();
        while self.peek().kind != Kind::Eof {
            if self.peek().kind == Kind::LeftDelim {
                let save = self.idx;
                self.next();
                if self.next_non_space().kind == Kind::Define {
                    self.parse_definition()?;
                    continue;
                }
                self.idx = save;
            }
            match self.text_or_action()? {
                Parsed::Node(n) => root.push(n),
                Parsed::End => return Err(self.errorf("unexpected {{end}}")),
                Parsed::Else => return Err(self.errorf("unexpected {{else}}")),
            }
        }
        Ok(root)
    }

    fn parse_definition(&mut self) -> PResult<()> {
        let context = "define clause";
        let t = self.next_non_space();
        if t.kind != Kind::String && t.kind != Kind::RawString {
            return Err(self.unexpected(&t, context));
        }
        let name = self.unquote(&t.val)?;
        self.expect(Kind::RightDelim, context)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let (list, stop) = self.item_list()?;
        self.vars = saved_vars;
        if let Stop::Else = stop {
            return Err(self.errorf(format!("unexpected {{{{else}}}} in {context}")));
        }
        self.add_def(name, list)
    }

    fn add_def(&mut self, name: String, root: Vec<Node>) -> PResult<()> {
        let tree = Tree {
            name: name.clone(),
            parse_name: self.parse_name.clone(),
            text: self.text.clone(),
            root,
        };
        if let Some(i) = self.defs.iter().position(|d| d.name == name) {
            if self.defs[i].is_empty() {
                self.defs[i] = tree;
            } else if !tree.is_empty() {
                return Err(self.errorf(format!(
                    "template: multiple definition of template {}",
                    crate::gofmt::quote(&name)
                )));
            }
            return Ok(());
        }
        self.defs.push(tree);
        Ok(())
    }

    fn unquote(&self, quoted: &str) -> PResult<String> {
        crate::gofmt::unquote(quoted).ok_or_else(|| self.errorf("invalid syntax"))
    }

    fn item_list(&mut self) -> PResult<(Vec<Node>, Stop)> {
        let mut list = Vec::new();
        while self.peek_non_space().kind != Kind::Eof {
            match self.text_or_action()? {
                Parsed::Node(n) => list.push(n),
                Parsed::End => return Ok((list, Stop::End)),
                Parsed::Else => return Ok((list, Stop::Else)),
            }
        }
        Err(self.errorf("unexpected EOF"))
    }

    fn text_or_action(&mut self) -> PResult<Parsed> {
        let t = self.next_non_space();
        match t.kind {
            Kind::Text => Ok(Parsed::Node(Node::Text { text: t.val })),
            Kind::LeftDelim => {
                let saved = self.action_line;
                self.action_line = t.line;
                let r = self.action();
                self.action_line = saved;
                r
            }
            _ => Err(self.unexpected(&t, "input")),
        }
    }

    fn action(&mut self) -> PResult<Parsed> {
        let t = self.next_non_space();
        match t.kind {
            Kind::Block => return self.block_control().map(Parsed::Node),
            Kind::Break | Kind::Continue => {
                let name = if t.kind == Kind::Break {
                    "break"
                } else {
                    "continue"
                };
                let n = self.next_non_space();
                if n.kind != Kind::RightDelim {
                    return Err(self.unexpected(&n, &format!("{{{{{name}}}}}")));
                }
                if self.range_depth == 0 {
                    return Err(self.errorf(format!("{{{{{name}}}}} outside {{{{range}}}}")));
                }
                return Ok(Parsed::Node(if t.kind == Kind::Break {
                    Node::Break { pos: t.pos }
                } else {
                    Node::Continue { pos: t.pos }
                }));
            }
            Kind::Else => {
                let p = self.peek_non_space();
                if p.kind == Kind::If || p.kind == Kind::With {
                    return Ok(Parsed::Else);
                }
                self.expect(Kind::RightDelim, "else")?;
                return Ok(Parsed::Else);
            }
            Kind::End => {
                self.expect(Kind::RightDelim, "end")?;
                return Ok(Parsed::End);
            }
            Kind::If => return self.control("if").map(|b| Parsed::Node(Node::If(b))),
            Kind::Range => return self.control("range").map(|b| Parsed::Node(Node::Range(b))),
            Kind::With => return self.control("with").map(|b| Parsed::Node(Node::With(b))),
            Kind::Template => return self.template_control().map(Parsed::Node),
            _ => {}
        }
        self.backup();
        let pipe = self.pipeline("command", Kind::RightDelim)?;
        Ok(Parsed::Node(Node::Action { pipe }))
    }

    fn control(&mut self, context: &str) -> PResult<Branch> {
        let nvars = self.vars.len();
        self.depth += 1;
        let r = if self.depth > self.max_depth {
            Err(self.errorf(format!(
                "template nesting exceeds the limit of {}",
                self.max_depth
            )))
        } else {
            self.control_inner(context)
        };
        self.depth -= 1;
        self.vars.truncate(nvars);
        r
    }

    fn control_inner(&mut self, context: &str) -> PResult<Branch> {
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let r = self.item_list();
        if context == "range" {
            self.range_depth -= 1;
        }
        let (list, stop) = r?;
        let mut else_list = None;
        if let Stop::Else = stop {
            if context == "if" && self.peek().kind == Kind::If {
                self.next();
                else_list = Some(vec![Node::If(self.control("if")?)]);
            } else if context == "with" && self.peek().kind == Kind::With {
                self.next();
                else_list = Some(vec![Node::With(self.control("with")?)]);
            } else {
                let (l, stop) = self.item_list()?;
                if let Stop::Else = stop {
                    return Err(self.errorf("expected end; found {{else}}"));
                }
                else_list = Some(l);
            }
        }
        Ok(Branch {
            pipe,
            list,
            else_list,
        })
    }

    fn template_name(&mut self, t: &Item, context: &str) -> PResult<String> {
        match t.kind {
            Kind::String | Kind::RawString => self.unquote(&t.val),
            _ => Err(self.unexpected(t, context)),
        }
    }

    fn template_control(&mut self) -> PResult<Node> {
        let context = "template clause";
        let t = self.next_non_space();
        let name = self.template_name(&t, context)?;
        let mut pipe = None;
        if self.next_non_space().kind != Kind::RightDelim {
            self.backup();
            pipe = Some(self.pipeline(context, Kind::RightDelim)?);
        }
        Ok(Node::Template {
            pos: t.pos,
            name,
            pipe,
        })
    }

    fn block_control(&mut self) -> PResult<Node> {
        let context = "block clause";
        let t = self.next_non_space();
        let name = self.template_name(&t, context)?;
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let saved_depth = std::mem::replace(&mut self.range_depth, 0);
        let r = self.item_list();
        self.vars = saved_vars;
        self.range_depth = saved_depth;
        let (list, stop) = r?;
        if let Stop::Else = stop {
            return Err(self.errorf(format!("unexpected {{{{else}}}} in {context}")));
        }
        self.add_def(name.clone(), list)?;
        Ok(Node::Template {
            pos: t.pos,
            name,
            pipe: Some(pipe),
        })
    }

    fn pipeline(&mut self, context: &str, end: Kind) -> PResult<Pipe> {
        // Nesting (parentheses, control structures) is bounded so hostile input cannot
        // exhaust the stack.
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(self.errorf(format!(
                "template nesting exceeds the limit of {}",
                self.max_depth
            )));
        }
        let r = self.pipeline_inner(context, end);
        self.depth -= 1;
        r
    }

    fn pipeline_inner(&mut self, context: &str, end: Kind) -> PResult<Pipe> {
        let start = self.peek_non_space();
        let mut pipe = Pipe {
            pos: start.pos,
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        'decls: loop {
            let v = self.peek_non_space();
            if v.kind != Kind::Variable {
                break;
            }
            let save = self.idx;
            self.next_non_space();
            let next = self.peek_non_space();
            match next.kind {
                Kind::Assign | Kind::Declare => {
                    pipe.is_assign = next.kind == Kind::Assign;
                    self.next_non_space();
                    pipe.decl.push(Var {
                        name: v.val.clone(),
                    });
                    self.vars.push(v.val.clone());
                }
                Kind::Char if next.val == "," => {
                    self.next_non_space();
                    pipe.decl.push(Var {
                        name: v.val.clone(),
                    });
                    self.vars.push(v.val.clone());
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().kind {
                            Kind::Variable | Kind::RightDelim | Kind::RightParen => {
                                continue 'decls;
                            }
                            _ => return Err(self.errorf("range can only initialize variables")),
                        }
                    }
                    return Err(self.errorf(format!("too many declarations in {context}")));
                }
                _ => self.idx = save,
            }
            break;
        }
        loop {
            let t = self.next_non_space();
            if t.kind == end {
                self.check_pipeline(&pipe, context)?;
                return Ok(pipe);
            }
            match t.kind {
                Kind::Bool
                | Kind::CharConstant
                | Kind::Complex
                | Kind::Dot
                | Kind::Field
                | Kind::Identifier
                | Kind::Number
                | Kind::Nil
                | Kind::RawString
                | Kind::String
                | Kind::Variable
                | Kind::LeftParen => {
                    self.backup();
                    let c = self.command()?;
                    pipe.cmds.push(c);
                }
                _ => return Err(self.unexpected(&t, context)),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return Err(self.errorf(format!("missing value for {context}")));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args[0],
                Arg::Bool { .. }
                    | Arg::Dot { .. }
                    | Arg::Nil { .. }
                    | Arg::Number { .. }
                    | Arg::String { .. }
            ) {
                return Err(self.errorf(format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                )));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> PResult<Command> {
        let pos = self.peek_non_space().pos;
        let mut args = Vec::new();
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                args.push(op);
            }
            let t = self.next();
            match t.kind {
                Kind::Space => continue,
                Kind::RightDelim | Kind::RightParen => self.backup(),
                Kind::Pipe => {}
                _ => return Err(self.unexpected(&t, "operand")),
            }
            break;
        }
        if args.is_empty() {
            return Err(self.errorf("empty command"));
        }
        Ok(Command { pos, args })
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().kind == Kind::Field {
            let pos = self.peek().pos;
            let mut fields = Vec::new();
            while self.peek().kind == Kind::Field {
                let f = self.next();
                fields.push(f.val[1..].to_string());
            }
            return Ok(Some(match node {
                Arg::Field { mut idents, .. } => {
                    idents.extend(fields);
                    Arg::Field { pos, idents }
                }
                Arg::Variable { mut idents, .. } => {
                    idents.extend(fields);
                    Arg::Variable { pos, idents }
                }
                Arg::Bool { .. }
                | Arg::String { .. }
                | Arg::Number { .. }
                | Arg::Nil { .. }
                | Arg::Dot { .. } => {
                    return Err(self.errorf(format!(
                        "unexpected . after term {}",
                        crate::gofmt::quote(&node.to_string())
                    )));
                }
                other => Arg::Chain {
                    pos,
                    node: Box::new(other),
                    fields,
                },
            }));
        }
        Ok(Some(node))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let t = self.next_non_space();
        let pos = t.pos;
        Ok(Some(match t.kind {
            Kind::Identifier => {
                if !(self.has_func)(&t.val) {
                    return Err(self.errorf(format!(
                        "function {} not defined",
                        crate::gofmt::quote(&t.val)
                    )));
                }
                Arg::Identifier { pos, name: t.val }
            }
            Kind::Dot => Arg::Dot { pos },
            Kind::Nil => Arg::Nil { pos },
            Kind::Variable => {
                let idents: Vec<String> = t.val.split('.').map(str::to_string).collect();
                if !self.vars.iter().any(|v| *v == idents[0]) {
                    return Err(self.errorf(format!(
                        "undefined variable {}",
                        crate::gofmt::quote(&idents[0])
                    )));
                }
                Arg::Variable { pos, idents }
            }
            Kind::Field => Arg::Field {
                pos,
                idents: t.val[1..].split('.').map(str::to_string).collect(),
            },
            Kind::Bool => Arg::Bool {
                pos,
                val: t.val == "true",
            },
            Kind::CharConstant | Kind::Complex | Kind::Number => {
                let num = self.number(&t)?;
                Arg::Number { pos, num }
            }
            Kind::LeftParen => {
                let p = self.pipeline("parenthesized pipeline", Kind::RightParen)?;
                Arg::Pipe(Box::new(p))
            }
            Kind::String | Kind::RawString => {
                let text = self.unquote(&t.val)?;
                Arg::String {
                    pos,
                    quoted: t.val,
                    text: text.into(),
                }
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }

    fn number(&self, t: &Item) -> PResult<Number> {
        let text = t.val.clone();
        let mut n = Number {
            text: text.clone(),
            is_int: false,
            is_uint: false,
            is_float: false,
            int: 0,
            float: 0.0,
        };
        if t.kind == Kind::CharConstant {
            let c = crate::gofmt::unquote_char(&text)
                .ok_or_else(|| self.errorf(format!("malformed character constant: {text}")))?;
            n.is_int = true;
            n.is_uint = true;
            n.is_float = true;
            n.int = c as i64;
            n.float = c as u32 as f64;
            return Ok(n);
        }
        if t.kind == Kind::Complex || text.ends_with('i') {
            return Err(self.errorf(format!(
                "complex constants are not supported: {}",
                crate::gofmt::quote(&text)
            )));
        }
        let u = crate::gofmt::parse_go_uint(&text);
        if u.is_some() {
            n.is_uint = true;
        }
        if let Some(i) = crate::gofmt::parse_go_int(&text) {
            n.is_int = true;
            n.int = i;
        }
        if n.is_int {
            n.is_float = true;
            n.float = n.int as f64;
        } else if let Some(u) = u {
            n.is_float = true;
            n.float = u as f64;
        } else if let Some(f) = crate::gofmt::parse_go_float(&text) {
            if !text.contains(['.', 'e', 'E', 'p', 'P']) {
                return Err(
                    self.errorf(format!("integer overflow: {}", crate::gofmt::quote(&text)))
                );
            }
            n.is_float = true;
            n.float = f;
            if f.fract() == 0.0 && f.abs() < 9.2e18 {
                n.is_int = true;
                n.int = f as i64;
            }
        }
        if !n.is_int && !n.is_uint && !n.is_float {
            return Err(self.errorf(format!(
                "illegal number syntax: {}",
                crate::gofmt::quote(&text)
            )));
        }
        Ok(n)
    }
}

enum Parsed {
    Node(Node),
    End,
    Else,
}
