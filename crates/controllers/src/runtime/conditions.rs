//! kstatus condition helpers: set/find/delete conditions with Kubernetes' transition semantics
//! and compute Flux's `Ready`/`Reconciling`/`Stalled` summary at the end of a reconcile.

use api::meta::{Condition, condition_type, reason};

use crate::runtime::error::ReconcileError;

/// The current time as a Kubernetes `metav1.Time` string (RFC 3339, second precision, UTC).
pub fn now() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Finds the condition of the given type.
pub fn find<'a>(conditions: &'a [Condition], kind: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.r#type == kind)
}

/// Whether the condition of the given type exists with status `True`.
pub fn is_true(conditions: &[Condition], kind: &str) -> bool {
    find(conditions, kind).is_some_and(|c| c.status == "True")
}

/// Whether the condition of the given type exists with status `False`.
pub fn is_false(conditions: &[Condition], kind: &str) -> bool {
    find(conditions, kind).is_some_and(|c| c.status == "False")
}

/// Sets a condition. `lastTransitionTime` only moves when the status changes, as the Kubernetes
/// API conventions require; reason, message and observedGeneration are always updated.
pub fn set(
    conditions: &mut Vec<Condition>,
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
    generation: Option<i64>,
) {
    if let Some(existing) = conditions.iter_mut().find(|c| c.r#type == kind) {
        if existing.status != status {
            existing.status = status.to_string();
            existing.last_transition_time = now();
        }
        existing.reason = reason.to_string();
        existing.message = message.to_string();
        existing.observed_generation = generation;
        return;
    }
    conditions.push(Condition {
        r#type: kind.to_string(),
        status: status.to_string(),
        observed_generation: generation,
        last_transition_time: now(),
        reason: reason.to_string(),
        message: message.to_string(),
    });
}

/// Sets a condition to `True`.
pub fn mark_true(
    conds: &mut Vec<Condition>,
    kind: &str,
    reason: &str,
    msg: &str,
    generation: Option<i64>,
) {
    set(conds, kind, "True", reason, msg, generation);
}

/// Sets a condition to `False`.
pub fn mark_false(
    conds: &mut Vec<Condition>,
    kind: &str,
    reason: &str,
    msg: &str,
    generation: Option<i64>,
) {
    set(conds, kind, "False", reason, msg, generation);
}

/// Sets a condition to `Unknown`.
pub fn mark_unknown(
    conds: &mut Vec<Condition>,
    kind: &str,
    reason: &str,
    msg: &str,
    generation: Option<i64>,
) {
    set(conds, kind, "Unknown", reason, msg, generation);
}

/// Removes the condition of the given type, if present.
pub fn delete(conditions: &mut Vec<Condition>, kind: &str) {
    conditions.retain(|c| c.r#type != kind);
}

/// Marks the start of a reconciliation: `Reconciling=True` (`Progressing`) with Flux's message,
/// naming the generation change when there is one.
pub fn mark_progressing(
    conditions: &mut Vec<Condition>,
    generation: Option<i64>,
    observed: Option<i64>,
) {
    let observed = observed.unwrap_or(0);
    let message = match generation {
        Some(g) if g != observed => format!("processing object: new generation {observed} -> {g}"),
        _ => "reconciliation in progress".to_string(),
    };
    mark_true(
        conditions,
        condition_type::RECONCILING,
        reason::PROGRESSING,
        &message,
        generation,
    );
}

/// Computes the final kstatus summary of a reconciliation, the way Flux's summarize helper does.
///
/// * `negative` lists the abnormal-true ("negative polarity") condition types of the kind in
///   priority order; the first one that is `True` explains a failed `Ready`.
/// * `positive` is the condition whose message becomes `Ready`'s on success
///   (e.g. `ArtifactInStorage`).
///
/// Returns whether `observedGeneration` should be updated (success or stalled).
pub fn summarize(
    conditions: &mut Vec<Condition>,
    generation: Option<i64>,
    result: Result<(), &ReconcileError>,
    negative: &[&str],
    positive: &str,
) -> bool {
    match result {
        Ok(()) => {
            delete(conditions, condition_type::RECONCILING);
            delete(conditions, condition_type::STALLED);
            let (r, m) = match find(conditions, positive) {
                Some(c) if c.status == "True" => (c.reason.clone(), c.message.clone()),
                _ => (
                    reason::SUCCEEDED.to_string(),
                    "reconciliation succeeded".to_string(),
                ),
            };
            mark_true(conditions, condition_type::READY, &r, &m, generation);
            true
        }
        Err(err) => {
            let (r, m) = negative
                .iter()
                .find_map(|t| find(conditions, t).filter(|c| c.status == "True"))
                .map(|c| (c.reason.clone(), c.message.clone()))
                .unwrap_or_else(|| (err.reason.clone(), err.message.clone()));
            mark_false(conditions, condition_type::READY, &r, &m, generation);
            if err.is_terminal() {
                delete(conditions, condition_type::RECONCILING);
                mark_true(
                    conditions,
                    condition_type::STALLED,
                    &err.reason,
                    &err.message,
                    generation,
                );
                true
            } else {
                delete(conditions, condition_type::STALLED);
                let msg = find(conditions, condition_type::RECONCILING)
                    .map(|c| c.message.clone())
                    .unwrap_or_else(|| "reconciliation in progress".to_string());
                mark_true(
                    conditions,
                    condition_type::RECONCILING,
                    reason::PROGRESSING_WITH_RETRY,
                    &msg,
                    generation,
                );
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_time_only_moves_on_status_change() {
        let mut c = Vec::new();
        mark_true(&mut c, "Ready", "Succeeded", "ok", Some(1));
        c[0].last_transition_time = "2000-01-01T00:00:00Z".into();
        mark_true(&mut c, "Ready", "Other", "still ok", Some(2));
        assert_eq!(c[0].last_transition_time, "2000-01-01T00:00:00Z");
        assert_eq!(c[0].reason, "Other");
        assert_eq!(c[0].observed_generation, Some(2));
        mark_false(&mut c, "Ready", "Failed", "bad", Some(2));
        assert_ne!(c[0].last_transition_time, "2000-01-01T00:00:00Z");
        assert!(is_false(&c, "Ready"));
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn progressing_message_names_generation_change() {
        let mut c = Vec::new();
        mark_progressing(&mut c, Some(2), Some(1));
        assert_eq!(c[0].message, "processing object: new generation 1 -> 2");
        mark_progressing(&mut c, Some(2), Some(2));
        assert_eq!(c[0].message, "reconciliation in progress");
        mark_progressing(&mut c, Some(1), None);
        assert_eq!(c[0].message, "processing object: new generation 0 -> 1");
        assert_eq!(c[0].reason, "Progressing");
    }

    #[test]
    fn summarize_success_failure_and_stall() {
        let mut c = Vec::new();
        mark_progressing(&mut c, Some(1), None);
        mark_true(
            &mut c,
            "ArtifactInStorage",
            "Succeeded",
            "stored artifact for revision 'x'",
            Some(1),
        );
        assert!(summarize(
            &mut c,
            Some(1),
            Ok(()),
            &["FetchFailed"],
            "ArtifactInStorage"
        ));
        assert!(find(&c, "Reconciling").is_none());
        let ready = find(&c, "Ready").unwrap();
        assert_eq!(
            (ready.status.as_str(), ready.message.as_str()),
            ("True", "stored artifact for revision 'x'")
        );

        mark_progressing(&mut c, Some(1), Some(1));
        mark_true(&mut c, "FetchFailed", "GitOperationFailed", "boom", Some(1));
        let err = ReconcileError::transient("Other", "generic");
        assert!(!summarize(
            &mut c,
            Some(1),
            Err(&err),
            &["FetchFailed"],
            "ArtifactInStorage"
        ));
        let ready = find(&c, "Ready").unwrap();
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", "GitOperationFailed")
        );
        assert_eq!(
            find(&c, "Reconciling").unwrap().reason,
            "ProgressingWithRetry"
        );

        let err = ReconcileError::terminal("URLInvalid", "bad url");
        delete(&mut c, "FetchFailed");
        assert!(summarize(
            &mut c,
            Some(1),
            Err(&err),
            &["FetchFailed"],
            "ArtifactInStorage"
        ));
        assert!(is_true(&c, "Stalled"));
        assert!(find(&c, "Reconciling").is_none());
        assert_eq!(find(&c, "Ready").unwrap().message, "bad url");
    }
}
