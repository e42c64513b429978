//! Helm chart engine: loading (directory, `.tgz`), dependencies, values coalescing and schema
//! validation, rendering through `gotemplate`, and `helm template`-identical output.
//!
//! ```no_run
//! let chart = helm::loader::load(std::path::Path::new("./mychart")).unwrap();
//! let out = helm::action::template(chart, &helm::action::TemplateOptions::default()).unwrap();
//! print!("{out}");
//! ```

pub mod action;
pub mod chart;
pub mod coalesce;
pub mod deps;
pub mod engine;
pub mod ignore;
pub mod loader;
pub mod objects;
pub mod schema;
pub mod semver;
pub mod sorter;
pub mod strvals;
pub mod values;
pub mod yamlconv;

pub use action::{TemplateError, TemplateOptions, template};
pub use chart::{Chart, Dependency, File, Metadata};
pub use coalesce::Values;
