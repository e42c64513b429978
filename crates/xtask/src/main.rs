//! Developer tasks: `cargo run -p xtask -- <task>`.
fn main() {}
