//! The controller runtime shared by every Flux controller: manager, leader election, events,
//! metrics, logs, kstatus conditions, status patching, scheduling and error classification.

pub mod conditions;
pub mod error;
pub mod events;
pub mod http;
pub mod leader;
pub mod logging;
pub mod manager;
pub mod metrics;
pub mod patch;
pub mod redact;
pub mod schedule;
