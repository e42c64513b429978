//! The executor: walks trees with Go's `text/template/exec.go` semantics and error messages.

use std::cell::Cell;
use std::time::Instant;

use crate::Error;
use crate::ast::{Arg, Branch, Command, Node, Pipe, Tree};
use crate::builtins;
use crate::funcs::{CallContext, Param, Signature};
use crate::template::{MissingKey, RenderContext, TemplateSet};
use crate::value::Value;

/// A reflect.Value stand-in: invalid, a concrete value, or an `interface{}`-typed value
/// (what map lookups and slice elements yield before a pipeline unwraps them).
#[derive(Clone, Debug)]
pub(crate) enum V {
    Invalid,
    Val(Value),
    Iface(Value),
}

impl V {
    pub(crate) fn val(v: Value) -> V {
        if v.is_nil() { V::Invalid } else { V::Val(v) }
    }
    /// What a pipeline does after each command: dig into `interface{}`.
    fn unwrap_iface(self) -> V {
        match self {
            V::Iface(Value::Nil) => V::Invalid,
            V::Iface(v) => V::Val(v),
            o => o,
        }
    }
    pub(crate) fn value(&self) -> Value {
        match self {
            V::Invalid => Value::Nil,
            V::Val(v) | V::Iface(v) => v.clone(),
        }
    }
    /// [`V::value`] without the clone.
    fn into_value(self) -> Value {
        match self {
            V::Invalid => Value::Nil,
            V::Val(v) | V::Iface(v) => v,
        }
    }
    pub(crate) fn is_valid(&self) -> bool {
        !matches!(self, V::Invalid)
    }
    fn type_name(&self) -> String {
        match self {
            V::Invalid => "<nil>".into(),
            V::Iface(_) => "interface {}".into(),
            V::Val(v) => v.type_name(),
        }
    }
}

/// Shared state of one render across nested `template`/`include`/`tpl` executions.
pub(crate) struct ExecState {
    depth: Cell<usize>,
    output: Cell<usize>,
    steps: Cell<u64>,
    deadline: Option<Instant>,
}

pub(crate) fn is_builtin(name: &str) -> bool {
    builtins::BUILTINS.contains(&name)
}

pub(crate) fn execute_root(
    set: &TemplateSet,
    ctx: &RenderContext,
    name: &str,
    data: &Value,
) -> Result<String, Error> {
    let state = ExecState {
        depth: Cell::new(0),
        output: Cell::new(0),
        steps: Cell::new(0),
        deadline: ctx.limits.deadline,
    };
    execute_nested(set, &state, ctx, name, data)
}

pub(crate) fn execute_nested(
    set: &TemplateSet,
    state: &ExecState,
    ctx: &RenderContext,
    name: &str,
    data: &Value,
) -> Result<String, Error> {
    let Some(tree) = set.lookup(name) else {
        return Err(Error::exec(format!(
            "template: no template {} associated with template {}",
            crate::gofmt::quote(name),
            crate::gofmt::quote(set.name())
        )));
    };
    execute_tree(set, state, ctx, tree, data)
}

/// Executes `tree` (a template of `set`, or one freshly parsed for it) with `data`.
pub(crate) fn execute_tree(
    set: &TemplateSet,
    state: &ExecState,
    ctx: &RenderContext,
    tree: &std::sync::Arc<Tree>,
    data: &Value,
) -> Result<String, Error> {
    let name = tree.name.as_str();
    let depth = state.depth.get();
    if depth >= ctx.limits.max_depth {
        return Err(Error::Limit(format!(
            "template: {}: exceeded maximum template depth ({})",
            name, ctx.limits.max_depth
        )));
    }
    state.depth.set(depth + 1);
    let dot = V::val(data.clone());
    let mut ex = Exec {
        set,
        state,
        ctx,
        tree,
        vars: vec![("$", dot.clone())],
        at: At::None,
        out: String::new(),
    };
    let r = ex.walk_list(&dot, &tree.root);
    state.depth.set(depth);
    r.map_err(|e| *e)?;
    Ok(ex.out)
}

#[derive(Clone, Copy)]
enum At<'t> {
    None,
    Arg(&'t Arg),
    Cmd(&'t Command),
    Node(&'t Node),
}

enum Flow {
    Normal,
    Break,
    Continue,
}

/// Errors are boxed inside the executor: every evaluation step returns an `R`, and a
/// pointer-sized error keeps those results small on the hot path.
type R<T> = Result<T, Box<Error>>;

/// The longest list a function may return (sprig's `until` has the same cap).
const MAX_LIST_LEN: usize = 1_000_000;

struct Exec<'t> {
    set: &'t TemplateSet,
    state: &'t ExecState,
    ctx: &'t RenderContext,
    tree: &'t Tree,
    vars: Vec<(&'t str, V)>,
    at: At<'t>,
    out: String,
}

impl<'t> Exec<'t> {
    fn errorf(&self, msg: impl AsRef<str>) -> Box<Error> {
        let name = &self.tree.name;
        let (pos, ctx) = match self.at {
            At::None => {
                return Box::new(Error::exec(format!("template: {}: {}", name, msg.as_ref())));
            }
            At::Arg(a) => (a.pos(), a.to_string()),
            At::Cmd(c) => (c.pos, c.to_string()),
            At::Node(n) => (node_pos(n), n.to_string()),
        };
        Box::new(Error::exec(format!(
            "template: {}: executing {} at <{}>: {}",
            self.tree.location(pos),
            crate::gofmt::quote(name),
            ctx,
            msg.as_ref()
        )))
    }

    fn write(&mut self, s: &str) -> R<()> {
        let total = self.state.output.get() + s.len();
        if total > self.ctx.limits.max_output {
            return Err(Box::new(Error::Limit(format!(
                "template: {}: output exceeds the limit of {} bytes",
                self.tree.name, self.ctx.limits.max_output
            ))));
        }
        self.state.output.set(total);
        self.out.push_str(s);
        Ok(())
    }

    fn tick(&self) -> R<()> {
        let n = self.state.steps.get() + 1;
        self.state.steps.set(n);
        if n.is_multiple_of(512)
            && let Some(d) = self.state.deadline
            && Instant::now() > d
        {
            return Err(Box::new(Error::Limit(format!(
                "template: {}: render deadline exceeded",
                self.tree.name
            ))));
        }
        Ok(())
    }

    fn walk_list(&mut self, dot: &V, list: &'t [Node]) -> R<Flow> {
        for n in list {
            match self.walk(dot, n)? {
                Flow::Normal => {}
                f => return Ok(f),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &V, node: &'t Node) -> R<Flow> {
        self.tick()?;
        match node {
            Node::Text { text } => self.write(text)?,
            Node::Action { pipe } => {
                let v = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.at = At::Node(node);
                    if let V::Val(Value::String(s)) | V::Iface(Value::String(s)) = &v {
                        // fmt prints a string as itself: skip the copy.
                        self.write(s)?;
                    } else {
                        let s = print_value(&v, ends_in_field(pipe));
                        self.write(&s)?;
                    }
                }
            }
            Node::If(b) | Node::With(b) => return self.walk_if_or_with(node, dot, b),
            Node::Range(b) => return self.walk_range(node, dot, b),
            Node::Template { name, pipe, .. } => {
                self.at = At::Node(node);
                let Some(tree) = self.set.lookup(name) else {
                    return Err(self.errorf(format!(
                        "template {} not defined",
                        crate::gofmt::quote(name)
                    )));
                };
                let depth = self.state.depth.get();
                if depth >= self.ctx.limits.max_depth {
                    return Err(self.errorf(format!(
                        "exceeded maximum template depth ({})",
                        self.ctx.limits.max_depth
                    )));
                }
                let newdot = match pipe {
                    Some(p) => self.eval_pipeline(dot, p)?,
                    None => V::Invalid,
                };
                self.state.depth.set(depth + 1);
                let mut sub = Exec {
                    set: self.set,
                    state: self.state,
                    ctx: self.ctx,
                    tree,
                    vars: vec![("$", newdot.clone())],
                    at: At::None,
                    out: std::mem::take(&mut self.out),
                };
                let r = sub.walk_list(&newdot, &tree.root);
                self.out = std::mem::take(&mut sub.out);
                self.state.depth.set(depth);
                r?;
            }
            Node::Break { .. } => return Ok(Flow::Break),
            Node::Continue { .. } => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    fn walk_if_or_with(&mut self, node: &'t Node, dot: &V, b: &'t Branch) -> R<Flow> {
        let mark = self.vars.len();
        let r = (|| {
            let val = self.eval_pipeline(dot, &b.pipe)?;
            let truth = truth_of(&val);
            if truth {
                if matches!(node, Node::With(_)) {
                    self.walk_list(&val, &b.list)
                } else {
                    self.walk_list(dot, &b.list)
                }
            } else if let Some(e) = &b.else_list {
                self.walk_list(dot, e)
            } else {
                Ok(Flow::Normal)
            }
        })();
        self.vars.truncate(mark);
        r
    }

    fn walk_range(&mut self, node: &'t Node, dot: &V, b: &'t Branch) -> R<Flow> {
        self.at = At::Node(node);
        let mark0 = self.vars.len();
        let r = self.walk_range_inner(dot, b);
        self.vars.truncate(mark0);
        r.map(|_| Flow::Normal)
    }

    fn one_iteration(&mut self, b: &'t Branch, index: V, elem: V) -> R<Flow> {
        let decl = &b.pipe.decl;
        let mark = self.vars.len();
        if !decl.is_empty() {
            if b.pipe.is_assign {
                if decl.len() > 1 {
                    self.set_var(&decl[0].name, index.clone())?;
                } else {
                    self.set_var(&decl[0].name, elem.clone())?;
                }
            } else {
                let n = self.vars.len();
                self.vars[n - 1].1 = elem.clone();
            }
        }
        if decl.len() > 1 {
            if b.pipe.is_assign {
                self.set_var(&decl[1].name, elem.clone())?;
            } else {
                let n = self.vars.len();
                self.vars[n - 2].1 = index;
            }
        }
        let r = self.walk_list(&elem, &b.list);
        self.vars.truncate(mark);
        match r? {
            Flow::Break => Ok(Flow::Break),
            _ => Ok(Flow::Normal),
        }
    }

    fn walk_range_inner(&mut self, dot: &V, b: &'t Branch) -> R<()> {
        let val = self.eval_pipeline(dot, &b.pipe)?;
        let v = match &val {
            V::Iface(Value::Object(o)) | V::Val(Value::Object(o)) if o.collection().is_some() => {
                o.collection()
            }
            V::Iface(x) | V::Val(x) => Some(x.clone()),
            V::Invalid => None,
        };
        match v {
            Some(Value::List(items, _)) if !items.is_empty() => {
                for (i, it) in items.iter().enumerate() {
                    self.tick()?;
                    if let Flow::Break =
                        self.one_iteration(b, V::Val(Value::Int(i as i64)), V::Iface(it.clone()))?
                    {
                        break;
                    }
                }
                return Ok(());
            }
            Some(Value::Bytes(bytes)) if !bytes.is_empty() => {
                for (i, c) in bytes.iter().enumerate() {
                    self.tick()?;
                    if let Flow::Break = self.one_iteration(
                        b,
                        V::Val(Value::Int(i as i64)),
                        V::Val(Value::Uint8(*c)),
                    )? {
                        break;
                    }
                }
                return Ok(());
            }
            Some(Value::Map(m)) if !m.is_empty() => {
                let entries: Vec<(String, Value)> = m
                    .read()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                for (k, x) in entries {
                    self.tick()?;
                    if let Flow::Break =
                        self.one_iteration(b, V::Val(Value::str(k)), V::Iface(x))?
                    {
                        break;
                    }
                }
                return Ok(());
            }
            Some(Value::Int(n)) | Some(Value::Int64(n)) => {
                if b.pipe.decl.len() > 1 {
                    return Err(self.errorf(format!(
                        "can't use {} to iterate over more than one variable",
                        n
                    )));
                }
                if n > 0 {
                    let int64 = matches!(v, Some(Value::Int64(_)));
                    for i in 0..n {
                        self.tick()?;
                        let e = if int64 {
                            Value::Int64(i)
                        } else {
                            Value::Int(i)
                        };
                        if let Flow::Break = self.one_iteration(b, V::Invalid, V::Val(e))? {
                            break;
                        }
                    }
                    return Ok(());
                }
            }
            // Go ranges over every integer kind; a uint8 yields uint8 elements.
            Some(Value::Uint8(n)) => {
                if b.pipe.decl.len() > 1 {
                    return Err(self.errorf(format!(
                        "can't use {n} to iterate over more than one variable"
                    )));
                }
                for i in 0..n {
                    self.tick()?;
                    if let Flow::Break =
                        self.one_iteration(b, V::Invalid, V::Val(Value::Uint8(i)))?
                    {
                        break;
                    }
                }
                if n > 0 {
                    return Ok(());
                }
            }
            Some(Value::List(..)) | Some(Value::Map(_)) | Some(Value::Bytes(_)) | None => {}
            Some(Value::Nil) => {}
            Some(other) => {
                return Err(self.errorf(format!(
                    "range can't iterate over {}",
                    crate::gofmt::to_string(&other)
                )));
            }
        }
        if let Some(e) = &b.else_list {
            self.walk_list(dot, e)?;
        }
        Ok(())
    }

    fn set_var(&mut self, name: &str, v: V) -> R<()> {
        for (n, val) in self.vars.iter_mut().rev() {
            if *n == name {
                *val = v;
                return Ok(());
            }
        }
        Err(self.errorf(format!("undefined variable: {name}")))
    }

    fn var_value(&self, name: &str) -> R<V> {
        for (n, val) in self.vars.iter().rev() {
            if *n == name {
                return Ok(val.clone());
            }
        }
        Err(self.errorf(format!("undefined variable: {name}")))
    }

    fn eval_pipeline(&mut self, dot: &V, pipe: &'t Pipe) -> R<V> {
        let mut value: Option<V> = None;
        for c in &pipe.cmds {
            let v = self.eval_command(dot, c, value.take())?;
            value = Some(v.unwrap_iface());
        }
        let value = value.unwrap_or(V::Invalid);
        for var in &pipe.decl {
            if pipe.is_assign {
                self.set_var(&var.name, value.clone())?;
            } else {
                self.vars.push((var.name.as_str(), value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&mut self, args: &'t [Arg], fin: &Option<V>) -> R<()> {
        if args.len() > 1 || fin.is_some() {
            return Err(self.errorf(format!("can't give argument to non-function {}", args[0])));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &V, cmd: &'t Command, fin: Option<V>) -> R<V> {
        let first = &cmd.args[0];
        match first {
            Arg::Field { idents, .. } => {
                self.at = At::Arg(first);
                return self.eval_field_chain(dot, dot, first, idents, &cmd.args, fin);
            }
            Arg::Chain { .. } => return self.eval_chain(dot, first, &cmd.args, fin),
            Arg::Identifier { name, .. } => {
                return self.eval_function(dot, first, name, Some(cmd), &cmd.args, fin);
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &fin)?;
                return self.eval_pipeline(dot, p);
            }
            Arg::Variable { .. } => return self.eval_variable(dot, first, &cmd.args, fin),
            _ => {}
        }
        self.at = At::Arg(first);
        self.not_a_function(&cmd.args, &fin)?;
        match first {
            Arg::Bool { val, .. } => Ok(V::Val(Value::Bool(*val))),
            Arg::Dot { .. } => Ok(dot.clone()),
            Arg::Nil { .. } => Err(self.errorf("nil is not a command")),
            Arg::Number { num, .. } => self.ideal_constant(first, num),
            Arg::String { text, .. } => Ok(V::Val(Value::String(text.clone()))),
            _ => Err(self.errorf(format!(
                "can't evaluate command {}",
                crate::gofmt::quote(&first.to_string())
            ))),
        }
    }

    fn ideal_constant(&mut self, node: &'t Arg, n: &crate::ast::Number) -> R<V> {
        self.at = At::Arg(node);
        let t = &n.text;
        let is_hex = (t.starts_with("0x") || t.starts_with("0X")) && !t.contains(['p', 'P']);
        let is_rune = t.starts_with('\'');
        if n.is_float && !is_hex && !is_rune && t.contains(['.', 'e', 'E', 'p', 'P']) {
            return Ok(V::Val(Value::Float(n.float)));
        }
        if n.is_int {
            return Ok(V::Val(Value::Int(n.int)));
        }
        if n.is_uint {
            return Err(self.errorf(format!("{t} overflows int")));
        }
        Ok(V::Invalid)
    }

    fn eval_variable(&mut self, dot: &V, node: &'t Arg, args: &'t [Arg], fin: Option<V>) -> R<V> {
        self.at = At::Arg(node);
        let Arg::Variable { idents, .. } = node else {
            unreachable!()
        };
        let value = self.var_value(&idents[0])?;
        if idents.len() == 1 {
            self.not_a_function(args, &fin)?;
            return Ok(value);
        }
        self.eval_field_chain(dot, &value, node, &idents[1..], args, fin)
    }

    fn eval_chain(&mut self, dot: &V, node: &'t Arg, args: &'t [Arg], fin: Option<V>) -> R<V> {
        self.at = At::Arg(node);
        let Arg::Chain {
            node: inner,
            fields,
            ..
        } = node
        else {
            unreachable!()
        };
        if let Arg::Nil { .. } = **inner {
            return Err(self.errorf(format!("indirection through explicit nil in {node}")));
        }
        let pipe = self.eval_arg_any(dot, inner)?;
        self.eval_field_chain(dot, &pipe, node, fields, args, fin)
    }

    fn eval_field_chain(
        &mut self,
        dot: &V,
        receiver: &V,
        node: &'t Arg,
        idents: &'t [String],
        args: &'t [Arg],
        fin: Option<V>,
    ) -> R<V> {
        let n = idents.len();
        if n == 1 {
            return self.eval_field(dot, &idents[0], node, args, fin, receiver);
        }
        let mut cur = self.eval_field(dot, &idents[0], node, &[], None, receiver)?;
        for id in &idents[1..n - 1] {
            cur = self.eval_field(dot, id, node, &[], None, &cur)?;
        }
        self.eval_field(dot, &idents[n - 1], node, args, fin, &cur)
    }

    fn eval_field(
        &mut self,
        dot: &V,
        name: &str,
        node: &'t Arg,
        args: &'t [Arg],
        fin: Option<V>,
        receiver: &V,
    ) -> R<V> {
        let recv = match receiver {
            V::Invalid => {
                if self.set.missing_key == MissingKey::Error {
                    return Err(self.errorf(format!(
                        "nil data; no entry for key {}",
                        crate::gofmt::quote(name)
                    )));
                }
                return Ok(V::Invalid);
            }
            V::Iface(Value::Nil) => {
                return Err(self.errorf(format!("nil pointer evaluating interface {{}}.{name}")));
            }
            V::Iface(v) | V::Val(v) => v,
        };
        let has_args = args.len() > 1 || fin.is_some();
        match recv {
            Value::Object(o) => {
                if o.has_method(name) {
                    // Evaluate arguments as interface{} values and call.
                    let mut argv = Vec::new();
                    for a in args.iter().skip(1) {
                        argv.push(self.eval_arg_any(dot, a)?.value());
                    }
                    if let Some(f) = fin {
                        argv.push(f.value());
                    }
                    return match o.call_method(name, &argv) {
                        Some(Ok(v)) => Ok(V::val(v)),
                        Some(Err(e)) => {
                            self.at = At::Arg(node);
                            Err(self.errorf(format!("error calling {name}: {}", e.message)))
                        }
                        None => Err(self.errorf(format!(
                            "can't evaluate field {name} in type {}",
                            receiver.type_name()
                        ))),
                    };
                }
                if let Some(v) = o.field(name) {
                    if has_args {
                        return Err(self.errorf(format!(
                            "{name} has arguments but cannot be invoked as function"
                        )));
                    }
                    return Ok(match v {
                        Value::Nil => V::Iface(Value::Nil),
                        v => V::Val(v),
                    });
                }
            }
            Value::Map(m) => {
                if has_args {
                    return Err(self.errorf(format!("{name} is not a method but has arguments")));
                }
                return match m.get(name) {
                    Some(v) => Ok(V::Iface(v)),
                    None => match self.set.missing_key {
                        MissingKey::Default => Ok(V::Invalid),
                        MissingKey::Zero => Ok(V::Iface(Value::Nil)),
                        MissingKey::Error => Err(self.errorf(format!(
                            "map has no entry for key {}",
                            crate::gofmt::quote(name)
                        ))),
                    },
                };
            }
            _ => {}
        }
        Err(self.errorf(format!(
            "can't evaluate field {name} in type {}",
            receiver.type_name()
        )))
    }

    fn eval_function(
        &mut self,
        dot: &V,
        node: &'t Arg,
        name: &str,
        cmd: Option<&'t Command>,
        args: &'t [Arg],
        fin: Option<V>,
    ) -> R<V> {
        self.at = At::Arg(node);
        let set: &'t TemplateSet = self.set;
        if let Some(f) = set.funcs.get(name) {
            return self.eval_call(dot, name, node, cmd, args, fin, Some(f));
        }
        if is_builtin(name) {
            return self.eval_call(dot, name, node, cmd, args, fin, None);
        }
        Err(self.errorf(format!(
            "{} is not a defined function",
            crate::gofmt::quote(name)
        )))
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_call(
        &mut self,
        dot: &V,
        name: &str,
        node: &'t Arg,
        cmd: Option<&'t Command>,
        args: &'t [Arg],
        fin: Option<V>,
        func: Option<&'t crate::funcs::Function>,
    ) -> R<V> {
        let args: &'t [Arg] = if args.is_empty() { args } else { &args[1..] };
        let num_in = args.len() + usize::from(fin.is_some());
        let sig: &Signature = match func {
            Some(f) => &f.sig,
            None => builtin_signature(name),
        };
        let nparams = sig.params.len() + usize::from(sig.variadic.is_some());
        if sig.variadic.is_some() {
            if num_in < sig.params.len() {
                return Err(self.errorf(format!(
                    "wrong number of args for {name}: want at least {} got {}",
                    sig.params.len(),
                    args.len()
                )));
            }
        } else if num_in != nparams {
            return Err(self.errorf(format!(
                "wrong number of args for {name}: want {nparams} got {num_in}"
            )));
        }
        // and/or short-circuit.
        if func.is_none() && (name == "and" || name == "or") {
            let mut v = V::Invalid;
            for a in args {
                v = self.eval_arg(dot, Param::Reflect, a)?;
                if truth_of(&v) == (name == "or") {
                    return Ok(v);
                }
            }
            if let Some(f) = fin {
                v = self.validate_type(f, Param::Reflect)?;
            }
            return Ok(v);
        }
        let param = |i: usize| {
            if i < sig.params.len() {
                sig.params[i]
            } else {
                sig.variadic.unwrap_or(Param::Any)
            }
        };
        let result = match func {
            Some(f) => {
                let mut vals: Vec<Value> = Vec::with_capacity(num_in);
                for (i, a) in args.iter().enumerate() {
                    vals.push(self.eval_arg(dot, param(i), a)?.into_value());
                }
                if let Some(x) = fin {
                    vals.push(self.validate_type(x, param(args.len()))?.into_value());
                }
                let cc = CallContext {
                    set: self.set,
                    state: self.state,
                    render: self.ctx,
                };
                (f.imp)(&cc, &vals).map(V::val)
            }
            None => {
                let mut argv: Vec<V> = Vec::with_capacity(num_in);
                for (i, a) in args.iter().enumerate() {
                    argv.push(self.eval_arg(dot, param(i), a)?);
                }
                if let Some(x) = fin {
                    argv.push(self.validate_type(x, param(args.len()))?);
                }
                if name == "call" {
                    let callee = args.first().map(|a| a.to_string()).unwrap_or_default();
                    Err(crate::funcs::FuncError::new(match &argv[0] {
                        V::Invalid | V::Iface(Value::Nil) => "call of nil".to_string(),
                        v => format!("non-function {callee} of type {}", v.value().type_name()),
                    }))
                } else {
                    builtins::call(name, &argv).map_err(crate::funcs::FuncError::new)
                }
            }
        };
        match result {
            Ok(v) => {
                // Intermediate values count against the render's size budget too, so a
                // template that keeps doubling a string or list fails instead of exhausting memory.
                let too_big = match &v {
                    V::Val(Value::String(s)) => s.len() > self.ctx.limits.max_output,
                    V::Val(Value::List(l, _)) => l.len() > MAX_LIST_LEN,
                    _ => false,
                };
                if too_big {
                    return Err(Box::new(Error::Limit(format!(
                        "template: {}: result of {name} exceeds the render size limit",
                        self.tree.name
                    ))));
                }
                Ok(v)
            }
            Err(e) => {
                self.at = match cmd {
                    Some(c) => At::Cmd(c),
                    None => At::Arg(node),
                };
                if e.limit {
                    // A limit hit in a nested execution ends the render unwrapped.
                    return Err(Box::new(Error::Limit(e.message)));
                }
                let Error::Exec { message, .. } =
                    *self.errorf(format!("error calling {name}: {}", e.message))
                else {
                    unreachable!()
                };
                // Go wraps the function's error with %w: keep its chain for Helm's reformatting.
                let mut causes = vec![e.message.clone()];
                causes.extend(e.causes);
                Err(Box::new(Error::Exec { message, causes }))
            }
        }
    }

    /// `evalArg` with an `interface{}`-free "no type" target (chains): invalid stays invalid.
    fn eval_arg_any(&mut self, dot: &V, a: &'t Arg) -> R<V> {
        self.at = At::Arg(a);
        match a {
            Arg::Pipe(p) => self.eval_pipeline(dot, p),
            _ => self.eval_arg(dot, Param::Any, a),
        }
    }

    fn validate_type(&mut self, v: V, p: Param) -> R<V> {
        match (&v, p) {
            (V::Invalid, Param::Any) => Ok(V::Invalid),
            (V::Invalid, Param::List | Param::Map | Param::Bytes) => Ok(V::Invalid),
            (V::Invalid, Param::Reflect) => Ok(V::Invalid),
            (V::Invalid, _) => Err(self.errorf(format!("invalid value; expected {}", p.go_type()))),
            (_, Param::Any | Param::Reflect) => Ok(v),
            (V::Val(x) | V::Iface(x), _) => {
                let ok = matches!(
                    (p, x),
                    (Param::String, Value::String(_))
                        | (Param::Int, Value::Int(_))
                        | (Param::Int64, Value::Int64(_))
                        | (Param::Float, Value::Float(_))
                        | (Param::Bool, Value::Bool(_))
                        | (Param::List, Value::List(..))
                        | (Param::Map, Value::Map(_))
                        | (Param::Bytes, Value::Bytes(_))
                );
                if ok {
                    return Ok(V::Val(v.into_value()));
                }
                Err(self.errorf(format!(
                    "wrong type for value; expected {}; got {}",
                    p.go_type(),
                    if let V::Iface(Value::Nil) = v {
                        "interface {}".to_string()
                    } else {
                        x.type_name()
                    }
                )))
            }
        }
    }

    fn eval_arg(&mut self, dot: &V, p: Param, a: &'t Arg) -> R<V> {
        self.at = At::Arg(a);
        match a {
            Arg::Dot { .. } => return self.validate_type(dot.clone(), p),
            Arg::Nil { .. } => {
                return match p {
                    Param::Any | Param::List | Param::Map | Param::Bytes | Param::Reflect => {
                        Ok(V::Invalid)
                    }
                    _ => Err(self.errorf(format!("cannot assign nil to {}", p.go_type()))),
                };
            }
            Arg::Field { idents, .. } => {
                let v =
                    self.eval_field_chain(dot, dot, a, idents, std::slice::from_ref(a), None)?;
                return self.validate_type(v, p);
            }
            Arg::Variable { .. } => {
                let v = self.eval_variable(dot, a, &[], None)?;
                return self.validate_type(v, p);
            }
            Arg::Pipe(pp) => {
                let v = self.eval_pipeline(dot, pp)?;
                return self.validate_type(v, p);
            }
            Arg::Identifier { name, .. } => {
                let v = self.eval_function(dot, a, name, None, std::slice::from_ref(a), None)?;
                return self.validate_type(v, p);
            }
            Arg::Chain { .. } => {
                let v = self.eval_chain(dot, a, &[], None)?;
                return self.validate_type(v, p);
            }
            _ => {}
        }
        self.at = At::Arg(a);
        match p {
            Param::Bool => match a {
                Arg::Bool { val, .. } => Ok(V::Val(Value::Bool(*val))),
                _ => Err(self.errorf(format!("expected bool; found {a}"))),
            },
            Param::Float => match a {
                Arg::Number { num, .. } if num.is_float => Ok(V::Val(Value::Float(num.float))),
                _ => Err(self.errorf(format!("expected float; found {a}"))),
            },
            Param::Int | Param::Int64 => match a {
                Arg::Number { num, .. } if num.is_int => Ok(V::Val(if p == Param::Int {
                    Value::Int(num.int)
                } else {
                    Value::Int64(num.int)
                })),
                _ => Err(self.errorf(format!("expected integer; found {a}"))),
            },
            Param::String => match a {
                Arg::String { text, .. } => Ok(V::Val(Value::String(text.clone()))),
                _ => Err(self.errorf(format!("expected string; found {a}"))),
            },
            Param::Any | Param::Reflect => match a {
                Arg::Bool { val, .. } => Ok(V::Val(Value::Bool(*val))),
                Arg::Number { num, .. } => self.ideal_constant(a, num),
                Arg::String { text, .. } => Ok(V::Val(Value::String(text.clone()))),
                _ => Err(self.errorf(format!(
                    "can't handle assignment of {a} to empty interface argument"
                ))),
            },
            _ => Err(self.errorf(format!("can't handle {a} for arg of type {}", p.go_type()))),
        }
    }
}

fn node_pos(n: &Node) -> usize {
    match n {
        Node::If(b) | Node::With(b) | Node::Range(b) => b.pipe.pos,
        Node::Action { pipe } => pipe.pos,
        Node::Template { pos, .. } | Node::Break { pos } | Node::Continue { pos } => *pos,
        Node::Text { .. } => 0,
    }
}

/// Go's `isTrue` on a pipeline value.
pub(crate) fn truth_of(v: &V) -> bool {
    match v {
        V::Invalid => false,
        V::Val(x) | V::Iface(x) => x.truth(),
    }
}

/// Whether a pipeline's value is (approximately) addressable in Go: its last command is a
/// bare field, variable, chain or dot rather than a function call, whose results are copies.
fn ends_in_field(pipe: &Pipe) -> bool {
    pipe.cmds.last().is_some_and(|c| {
        matches!(
            c.args.as_slice(),
            [Arg::Field { .. } | Arg::Variable { .. } | Arg::Chain { .. } | Arg::Dot { .. }]
        )
    })
}

/// The signatures of Go's builtins, built once.
fn builtin_signature(name: &str) -> &'static Signature {
    static SIGNATURES: std::sync::OnceLock<std::collections::HashMap<&'static str, Signature>> =
        std::sync::OnceLock::new();
    static FALLBACK: std::sync::OnceLock<Signature> = std::sync::OnceLock::new();
    SIGNATURES
        .get_or_init(|| {
            builtins::BUILTINS
                .iter()
                .map(|n| (*n, builtins::signature(n)))
                .collect()
        })
        .get(name)
        .unwrap_or_else(|| FALLBACK.get_or_init(|| builtins::signature("")))
}

/// How an action prints its value (`printableValue` + `fmt.Fprint`); `addressable` selects
/// [`Object::action_display`](crate::value::Object::action_display) for host objects.
fn print_value(v: &V, addressable: bool) -> String {
    match v {
        V::Invalid => "<no value>".to_string(),
        V::Val(Value::Object(o)) | V::Iface(Value::Object(o)) if addressable => o.action_display(),
        V::Val(x) | V::Iface(x) => crate::gofmt::sprint(std::slice::from_ref(x)),
    }
}
