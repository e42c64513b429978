//! The function registry: named closures with Go-like parameter types.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use crate::Error;
use crate::exec::ExecState;
use crate::template::{RenderContext, TemplateSet};
use crate::value::Value;

/// The error a template function returns; exec wraps it as `error calling NAME: MESSAGE`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct FuncError {
    /// The message, as Go's `err.Error()` would print it.
    pub message: String,
    /// Set when a render limit was hit in a nested execution: the error then ends the
    /// render as [`Error::Limit`] instead of being wrapped as `error calling ...`.
    pub limit: bool,
    /// Messages of the errors this one wraps (Go's unwrap chain), outermost first.
    pub causes: Vec<String>,
}

impl FuncError {
    /// A plain function error with this message.
    pub fn new(message: impl Into<String>) -> FuncError {
        FuncError {
            message: message.into(),
            limit: false,
            causes: Vec::new(),
        }
    }

    /// An error that wraps `inner` like Go's `fmt.Errorf("...: %w", inner)`: the message is
    /// `prefix` followed by the inner message, and the inner chain is kept.
    pub fn wrap(prefix: &str, inner: &Error) -> FuncError {
        FuncError {
            message: format!("{prefix}{}", inner.message()),
            limit: matches!(inner, Error::Limit(_)),
            causes: inner.chain(),
        }
    }
}

impl From<Error> for FuncError {
    fn from(e: Error) -> Self {
        let chain = e.chain();
        FuncError {
            limit: matches!(e, Error::Limit(_)),
            message: e.message().to_string(),
            causes: chain[1..].to_vec(),
        }
    }
}

/// The Go parameter type of a function argument. Exec checks and converts arguments
/// exactly as Go's `text/template` does for a function with that parameter type
/// (e.g. `wrong type for value; expected string; got int`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
    /// `interface{}`: anything, `nil` included.
    Any,
    /// `string`
    String,
    /// `int`
    Int,
    /// `int64`
    Int64,
    /// `float64`
    Float,
    /// `bool`
    Bool,
    /// `[]interface{}`
    List,
    /// `map[string]interface{}`
    Map,
    /// `[]byte`
    Bytes,
    /// `reflect.Value`: Go's builtins (`eq`, `index`, `len`, ...) take their arguments this way.
    Reflect,
}

impl Param {
    /// The Go type name, for error messages.
    pub fn go_type(self) -> &'static str {
        match self {
            Param::Any => "interface {}",
            Param::String => "string",
            Param::Int => "int",
            Param::Int64 => "int64",
            Param::Float => "float64",
            Param::Bool => "bool",
            Param::List => "[]interface {}",
            Param::Map => "map[string]interface {}",
            Param::Bytes => "[]uint8",
            Param::Reflect => "reflect.Value",
        }
    }
}

/// A function's parameter list: fixed parameters, then an optional variadic one.
#[derive(Clone, Debug, Default)]
pub struct Signature {
    /// Fixed parameters in order.
    pub params: Vec<Param>,
    /// The type of `...T` trailing arguments, if the function is variadic.
    pub variadic: Option<Param>,
}

impl Signature {
    /// A fixed-arity signature.
    pub fn fixed(params: &[Param]) -> Signature {
        Signature {
            params: params.to_vec(),
            variadic: None,
        }
    }
    /// A variadic signature: fixed `params` then any number of `rest`.
    pub fn variadic(params: &[Param], rest: Param) -> Signature {
        Signature {
            params: params.to_vec(),
            variadic: Some(rest),
        }
    }
}

/// The closure type of a template function. It receives already type-checked arguments.
pub type FuncImpl =
    Arc<dyn Fn(&CallContext<'_>, &[Value]) -> Result<Value, FuncError> + Send + Sync>;

/// A registered function.
#[derive(Clone)]
pub struct Function {
    /// Parameter types (checked by exec before the call).
    pub sig: Signature,
    /// The implementation.
    pub imp: FuncImpl,
}

/// FNV-1a over function names: every call looks its function up by name. The map holds only
/// the functions the embedding program registers (templates cannot add keys), so SipHash's
/// flood resistance buys nothing here while costing a measurable share of a render.
#[derive(Default)]
struct NameHasher(u64);

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A set of named template functions (Go's `template.FuncMap`).
#[derive(Clone, Default)]
pub struct Functions {
    map: HashMap<String, Function, BuildHasherDefault<NameHasher>>,
}

impl Functions {
    /// An empty registry (the builtins `and`, `or`, `len`, ... are always present).
    pub fn new() -> Functions {
        Functions::default()
    }

    /// Registers (or replaces) `name`.
    pub fn insert<F>(&mut self, name: &str, sig: Signature, f: F)
    where
        F: Fn(&CallContext<'_>, &[Value]) -> Result<Value, FuncError> + Send + Sync + 'static,
    {
        self.map.insert(
            name.to_string(),
            Function {
                sig,
                imp: Arc::new(f),
            },
        );
    }

    /// Registers a function with fixed parameters.
    pub fn add<F>(&mut self, name: &str, params: &[Param], f: F)
    where
        F: Fn(&CallContext<'_>, &[Value]) -> Result<Value, FuncError> + Send + Sync + 'static,
    {
        self.insert(name, Signature::fixed(params), f);
    }

    /// Registers a variadic function.
    pub fn add_variadic<F>(&mut self, name: &str, params: &[Param], rest: Param, f: F)
    where
        F: Fn(&CallContext<'_>, &[Value]) -> Result<Value, FuncError> + Send + Sync + 'static,
    {
        self.insert(name, Signature::variadic(params, rest), f);
    }

    /// Looks a function up.
    pub fn get(&self, name: &str) -> Option<&Function> {
        self.map.get(name)
    }

    /// Removes a function (Helm removes `env` and `expandenv`).
    pub fn remove(&mut self, name: &str) -> Option<Function> {
        self.map.remove(name)
    }

    /// Adds every function of `other`, replacing same-named ones.
    pub fn extend(&mut self, other: Functions) {
        self.map.extend(other.map);
    }

    /// Whether `name` is registered.
    pub fn contains(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.map.keys().cloned().collect();
        v.sort();
        v
    }
}

/// What a function sees of the running render: the template set (for `include`/`tpl`),
/// the render context (limits, host data) and shared execution state.
pub struct CallContext<'a> {
    pub(crate) set: &'a TemplateSet,
    pub(crate) state: &'a ExecState,
    pub(crate) render: &'a RenderContext,
}

impl<'a> CallContext<'a> {
    /// The template set being executed.
    pub fn template_set(&self) -> &TemplateSet {
        self.set
    }

    /// The render context (limits and host extensions).
    pub fn render_context(&self) -> &RenderContext {
        self.render
    }

    /// Executes the named template of this set with `data`, sharing this render's
    /// depth, output and time budgets (this is what Helm's `include` does).
    pub fn execute_template(&self, name: &str, data: &Value) -> Result<String, Error> {
        crate::exec::execute_nested(self.set, self.state, self.render, name, data)
    }

    /// Parses `text` as a new template named `name` in a copy of this set and executes it
    /// with `data` (this is what Helm's `tpl` does). Definitions made by `text` do not
    /// leak into this set.
    /// Parse failures come back as [`Error::Parse`], execution failures as
    /// [`Error::Exec`] (or [`Error::Limit`]). As in Go, the freshly parsed text is executed
    /// even when it is empty and `name` already names a non-empty template.
    pub fn execute_text(&self, name: &str, text: &str, data: &Value) -> Result<String, Error> {
        let mut set = self.set.clone();
        let tree = set.parse_top(name, text)?;
        crate::exec::execute_tree(&set, self.state, self.render, &tree, data)
    }
}
