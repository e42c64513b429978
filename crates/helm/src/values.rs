//! User-supplied values as Helm's CLI merges them: `-f` files in order (maps merged), then
//! `--set-json`, `--set`, `--set-string`, `--set-file`, each kind in the order given.

use crate::coalesce::{Values, merge_maps};
use crate::strvals::{self, Reader};
use crate::yamlconv;
use std::path::Path;

/// The values flags of `helm template`/`install`.
#[derive(Debug, Clone, Default)]
pub struct ValueOptions {
    /// `-f/--values` files.
    pub value_files: Vec<String>,
    /// `--set`.
    pub values: Vec<String>,
    /// `--set-string`.
    pub string_values: Vec<String>,
    /// `--set-file`.
    pub file_values: Vec<String>,
    /// `--set-json`.
    pub json_values: Vec<String>,
}

/// Why user values could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum ValuesError {
    /// A values file could not be read.
    #[error("open {path}: {}", go_io_error(source))]
    Read {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A values file is not valid YAML or not a map.
    #[error("failed to parse {path}: cannot unmarshal yaml document: {source}")]
    Parse {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: yamlconv::YamlError,
    },
    /// A `--set*` argument is malformed.
    #[error("failed parsing --{flag} data{detail}")]
    Set {
        /// The flag name.
        flag: &'static str,
        /// `: message` or ` <value>` as Helm prints it.
        detail: String,
    },
}

/// An I/O error worded as Go's `os` package words it.
pub fn go_io_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "is a directory".into(),
        _ => e.to_string(),
    }
}

impl ValueOptions {
    /// Helm's `values.Options.MergeValues`; relative paths resolve against `base`.
    pub fn merge(&self, base: &Path) -> Result<Values, ValuesError> {
        let mut out = Values::new();
        for f in &self.value_files {
            let p = base.join(f);
            let text = std::fs::read_to_string(&p).map_err(|source| ValuesError::Read {
                path: f.clone(),
                source,
            })?;
            let m = yamlconv::parse_values(&text).map_err(|source| ValuesError::Parse {
                path: f.clone(),
                source,
            })?;
            out = merge_maps(out, m);
        }
        for v in &self.json_values {
            let trimmed = v.trim();
            if trimmed.starts_with('{') {
                // A whole JSON object is merged like a values file.
                let parsed: Result<serde_json::Value, _> = serde_json::from_str(trimmed);
                match parsed.map(strvals::json_to_go) {
                    Ok(serde_json::Value::Object(m)) => out = merge_maps(out, m),
                    _ => {
                        return Err(ValuesError::Set {
                            flag: "set-json",
                            detail: format!(" JSON: {v}"),
                        });
                    }
                }
                continue;
            }
            strvals::parse_into(v, &mut out, Reader::Json).map_err(|_| ValuesError::Set {
                flag: "set-json",
                detail: format!(" {v}"),
            })?;
        }
        for v in &self.values {
            strvals::parse_into(v, &mut out, Reader::Typed).map_err(|e| ValuesError::Set {
                flag: "set",
                detail: format!(": {e}"),
            })?;
        }
        for v in &self.string_values {
            strvals::parse_into(v, &mut out, Reader::String).map_err(|e| ValuesError::Set {
                flag: "set-string",
                detail: format!(": {e}"),
            })?;
        }
        let read = |name: &str| -> Result<String, String> {
            std::fs::read_to_string(base.join(name))
                .map_err(|e| format!("open {name}: {}", go_io_error(&e)))
        };
        for v in &self.file_values {
            strvals::parse_into(v, &mut out, Reader::File(&read)).map_err(|e| {
                ValuesError::Set {
                    flag: "set-file",
                    detail: format!(": {e}"),
                }
            })?;
        }
        Ok(out)
    }
}
