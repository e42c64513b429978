//! The `flux` binary.
fn main() {}
