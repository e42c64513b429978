//! Integration tests of the gotemplate crate: the Helm-generated conformance corpus and
//! API-level tests (limits, options, host objects).

mod api;
mod conformance;
