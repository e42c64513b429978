//! Go `text/template` with exact `fmt` semantics, the sprig function library and Helm's
//! template functions.
//!
//! ```
//! use gotemplate::{TemplateSet, RenderContext, Value};
//! let mut set = TemplateSet::new();
//! set.add_functions(gotemplate::helm_functions());
//! set.parse("t", r#"{{ .name | upper | quote }} {{ printf "%05.1f" 3.14159 }}"#).unwrap();
//! let data = Value::from_json(&serde_json::json!({"name": "web"}));
//! assert_eq!(set.execute("t", &data, &RenderContext::new()).unwrap(), r#""WEB" 003.1"#);
//! ```

mod ast;
mod builtins;
pub mod encoding;
mod error;
mod exec;
pub mod funcs;
pub mod gofmt;
pub mod gostr;
pub mod helm_funcs;
pub mod json;
mod lex;
mod parse;
pub mod sprig;
mod template;
pub mod toml;
pub mod value;
pub mod yaml11;
pub mod yaml_error;
pub mod yaml_out;

pub use error::Error;
pub use funcs::{CallContext, FuncError, Function, Functions, Param, Signature};
pub use template::{Limits, MissingKey, RenderContext, TemplateSet};
pub use value::{ListKind, Map, MapKind, MapRef, Object, Value};

/// Sprig's functions plus Helm's (`include`, `tpl`, `toYaml`, `required`, ...), minus
/// `env`/`expandenv`: what Helm registers before rendering a chart.
pub fn helm_functions() -> Functions {
    let mut f = sprig::functions();
    f.remove("env");
    f.remove("expandenv");
    f.extend(helm_funcs::functions());
    f
}
