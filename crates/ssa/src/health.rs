//! Custom health checks (Flux `healthCheckExprs`): CEL expressions over an object's fields.

use std::sync::{Arc, OnceLock};

use serde_json::Value;

use crate::error::SsaError;
use crate::kstatus::{self, Status};
use crate::manager::HealthCheckExpr;

/// A health check with its expressions parsed.
pub struct CompiledCheck {
    api_version: String,
    kind: String,
    current: cel::Program,
    in_progress: Option<cel::Program>,
    failed: Option<cel::Program>,
}

/// The CEL environment of health checks: the standard library with optional values
/// (`a.?b.orValue(x)`), `matches`, and the strings, lists and math extensions (Flux enables
/// cel-go's strings, sets and encoders extensions).
fn env() -> Arc<cel::Env> {
    static ENV: OnceLock<Arc<cel::Env>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = cel::Env::stdlib();
        for ext in [
            cel::extensions::strings as fn(&mut cel::Env) -> _,
            cel::extensions::lists,
            cel::extensions::math,
        ] {
            // Declaring a known extension on a fresh standard environment cannot clash.
            let _ = env.add_extension(ext);
        }
        Arc::new(env)
    })
    .clone()
}

/// Parses every check; an empty `current` or a syntax error is an error naming the check.
pub fn compile(exprs: &[HealthCheckExpr]) -> Result<Vec<CompiledCheck>, SsaError> {
    exprs
        .iter()
        .map(|e| {
            let fail = |field: &'static str, reason: String| SsaError::HealthCheckExpr {
                api_version: e.api_version.clone(),
                kind: e.kind.clone(),
                field,
                reason,
            };
            let parse = |field: &'static str, src: &str| {
                env()
                    .compile(src)
                    .map_err(|err| fail(field, format!("parse error: {err}")))
            };
            if e.current.trim().is_empty() {
                return Err(fail("current", "expression not specified".into()));
            }
            let opt = |field: &'static str, src: &str| -> Result<Option<cel::Program>, SsaError> {
                if src.trim().is_empty() {
                    Ok(None)
                } else {
                    parse(field, src).map(Some)
                }
            };
            Ok(CompiledCheck {
                api_version: e.api_version.clone(),
                kind: e.kind.clone(),
                current: parse("current", &e.current)?,
                in_progress: opt("inProgress", &e.in_progress)?,
                failed: opt("failed", &e.failed)?,
            })
        })
        .collect()
}

impl CompiledCheck {
    /// True when the check applies to objects of this apiVersion and kind.
    pub fn matches(&self, api_version: &str, kind: &str) -> bool {
        self.api_version == api_version && self.kind == kind
    }

    /// Flux's evaluation order: an unobserved generation is InProgress; then `inProgress`,
    /// `failed`, `current`, the first true one wins; none true is InProgress. An evaluation
    /// error (e.g. a missing field) is Unknown with the error as message.
    pub fn evaluate(&self, obj: &Value) -> kstatus::Result {
        let generation = obj.pointer("/metadata/generation").and_then(Value::as_i64);
        let observed = obj
            .pointer("/status/observedGeneration")
            .and_then(Value::as_i64);
        if let (Some(g), Some(o)) = (generation, observed)
            && g != o
        {
            return kstatus::Result {
                status: Status::InProgress,
                message: format!(
                    "{} generation is {g}, but latest observed generation is {o}",
                    self.kind
                ),
            };
        }
        let mut ctx = cel::Context::with_env(env());
        if let Some(map) = obj.as_object() {
            for (k, v) in map {
                if let Err(e) = ctx.add_variable(k.as_str(), v) {
                    return unknown(format!("converting field {k}: {e}"));
                }
            }
        }
        for (prog, status, name) in [
            (self.in_progress.as_ref(), Status::InProgress, "inProgress"),
            (self.failed.as_ref(), Status::Failed, "failed"),
            (Some(&self.current), Status::Current, "current"),
        ] {
            let Some(prog) = prog else { continue };
            match prog.execute(&ctx) {
                Ok(cel::Value::Bool(true)) => {
                    return kstatus::Result {
                        status,
                        message: format!("{name} expression is true"),
                    };
                }
                Ok(cel::Value::Bool(false)) => {}
                Ok(other) => {
                    return unknown(format!(
                        "{name} expression did not return a boolean: {other:?}"
                    ));
                }
                Err(e) => return unknown(format!("{name} expression failed: {e}")),
            }
        }
        kstatus::Result {
            status: Status::InProgress,
            message: "no expression is true".into(),
        }
    }
}

fn unknown(message: String) -> kstatus::Result {
    kstatus::Result {
        status: Status::Unknown,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(current: &str, in_progress: &str, failed: &str) -> CompiledCheck {
        let e = HealthCheckExpr {
            api_version: "example.com/v1".into(),
            kind: "Widget".into(),
            current: current.into(),
            in_progress: in_progress.into(),
            failed: failed.into(),
        };
        compile(&[e]).unwrap().remove(0)
    }

    #[test]
    fn flux_style_expressions() {
        let c = check(
            "status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True')",
            "",
            "status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'False' && e.reason == 'Broken')",
        );
        assert!(c.matches("example.com/v1", "Widget"));
        assert!(!c.matches("example.com/v2", "Widget"));
        let obj = |status: &str, reason: &str| {
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "generation": 2},
                   "status": {"observedGeneration": 2, "conditions": [{"type": "Ready", "status": status, "reason": reason}]}})
        };
        assert_eq!(c.evaluate(&obj("True", "Ok")).status, Status::Current);
        assert_eq!(c.evaluate(&obj("False", "Broken")).status, Status::Failed);
        assert_eq!(
            c.evaluate(&obj("False", "Waiting")).status,
            Status::InProgress
        );
        let mut stale = obj("True", "Ok");
        stale["metadata"]["generation"] = json!(3);
        let r = c.evaluate(&stale);
        assert_eq!(r.status, Status::InProgress);
        assert!(r.message.contains("generation is 3"), "{}", r.message);
        // A missing field is an evaluation error: Unknown.
        let bare =
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}});
        assert_eq!(c.evaluate(&bare).status, Status::Unknown);
    }

    #[test]
    fn flux_cel_features() {
        let obj = json!({"metadata": {"generation": 2, "name": "app-1"},
            "status": {"observedGeneration": 2, "phase": "Ready", "ratio": 1.5}});
        for e in [
            "status.observedGeneration == metadata.generation && status.ratio > 1",
            "metadata.name.startsWith('app-') && metadata.name.matches('^app-[0-9]+$')",
            "status.?phase.orValue('') == 'Ready'",
            "status.?missing.orValue('none') == 'none'",
            "metadata.name.upperAscii() == 'APP-1'",
            "[1, 2, 2].distinct() == [1, 2]",
        ] {
            let c = check(e, "", "");
            assert_eq!(
                c.evaluate(&obj).status,
                Status::Current,
                "{e}: {}",
                c.evaluate(&obj).message
            );
        }
    }

    #[test]
    fn in_progress_first_and_numbers() {
        let c = check(
            "status.ready == spec.replicas",
            "status.ready < spec.replicas",
            "",
        );
        let o = json!({"spec": {"replicas": 3}, "status": {"ready": 1}});
        assert_eq!(c.evaluate(&o).status, Status::InProgress);
        let o = json!({"spec": {"replicas": 3}, "status": {"ready": 3}});
        assert_eq!(c.evaluate(&o).status, Status::Current);
    }

    #[test]
    fn invalid_expressions_rejected() {
        let bad = HealthCheckExpr {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            current: "data.(".into(),
            ..Default::default()
        };
        let err = compile(&[bad]).err().unwrap().to_string();
        assert!(
            err.contains("ConfigMap") && err.contains("current"),
            "{err}"
        );
        let empty = HealthCheckExpr {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            ..Default::default()
        };
        assert!(compile(&[empty]).is_err());
    }
}
