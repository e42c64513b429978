//! When an object is due: remembers, per object, the state it was last reconciled at and when
//! it is due again, so the watch events caused by our own status patches do not trigger a new
//! fetch; and the exponential backoff of failing objects.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What makes a reconcile necessary before the interval elapses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Trigger {
    /// `metadata.generation`.
    pub generation: Option<i64>,
    /// `reconcile.fluxcd.io/requestedAt` value.
    pub requested_at: Option<String>,
    /// Other state that invalidates the memory (deletion, finalizer presence, ...).
    pub extra: String,
}

#[derive(Debug)]
struct Entry {
    trigger: Trigger,
    due: Instant,
    failures: u32,
}

/// Per-object schedule memory of one controller.
#[derive(Debug)]
pub struct Schedule {
    entries: Mutex<HashMap<String, Entry>>,
    min_retry: Duration,
    max_retry: Duration,
}

impl Default for Schedule {
    fn default() -> Self {
        Self::new(Duration::from_millis(750), Duration::from_secs(15 * 60))
    }
}

impl Schedule {
    /// Backoff from `min_retry` doubling up to `max_retry`.
    pub fn new(min_retry: Duration, max_retry: Duration) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            min_retry,
            max_retry,
        }
    }

    /// If the object was reconciled at this same trigger state and is not yet due, how long
    /// until it is; `None` means reconcile now.
    pub fn not_due_for(&self, key: &str, trigger: &Trigger) -> Option<Duration> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let e = entries.get(key)?;
        if &e.trigger != trigger {
            return None;
        }
        let now = Instant::now();
        (e.due > now).then(|| e.due - now)
    }

    /// Records a successful reconcile; returns the requeue delay (`interval`).
    pub fn succeeded(&self, key: &str, trigger: Trigger, interval: Duration) -> Duration {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.insert(
            key.to_string(),
            Entry {
                trigger,
                due: Instant::now() + interval,
                failures: 0,
            },
        );
        interval
    }

    /// Records a transient failure; returns the backoff delay.
    pub fn failed(&self, key: &str, trigger: Trigger) -> Duration {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let failures = entries.get(key).map(|e| e.failures).unwrap_or(0) + 1;
        let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(20));
        let delay = self.min_retry.saturating_mul(factor).min(self.max_retry);
        entries.insert(
            key.to_string(),
            Entry {
                trigger,
                due: Instant::now() + delay,
                failures,
            },
        );
        delay
    }

    /// Records a terminal failure: not due again until the trigger state changes.
    pub fn stalled(&self, key: &str, trigger: Trigger) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // A far-future due time: only a spec/annotation change (a new trigger) wakes it.
        let due = Instant::now() + Duration::from_secs(10 * 365 * 24 * 3600);
        entries.insert(
            key.to_string(),
            Entry {
                trigger,
                due,
                failures: 0,
            },
        );
    }

    /// Forgets an object (deleted).
    pub fn forget(&self, key: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

/// Parses a Go duration (`1m30s`, `500ms`, `1.5h`) as used by every `interval`/`timeout`.
pub use api::meta::duration::parse as parse_go_duration;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_go_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("10years"), None);
        assert_eq!(parse_go_duration("5"), None);
    }

    #[test]
    fn due_and_backoff() {
        let s = Schedule::new(Duration::from_millis(100), Duration::from_millis(350));
        let t = Trigger {
            generation: Some(1),
            ..Default::default()
        };
        assert!(s.not_due_for("a", &t).is_none());
        s.succeeded("a", t.clone(), Duration::from_secs(60));
        assert!(s.not_due_for("a", &t).is_some());
        let t2 = Trigger {
            generation: Some(2),
            ..Default::default()
        };
        assert!(
            s.not_due_for("a", &t2).is_none(),
            "a new generation is due at once"
        );
        assert_eq!(s.failed("b", t.clone()), Duration::from_millis(100));
        assert_eq!(s.failed("b", t.clone()), Duration::from_millis(200));
        assert_eq!(s.failed("b", t.clone()), Duration::from_millis(350));
        s.stalled("c", t.clone());
        assert!(s.not_due_for("c", &t).unwrap() > Duration::from_secs(3600));
        s.forget("c");
        assert!(s.not_due_for("c", &t).is_none());
    }
}
