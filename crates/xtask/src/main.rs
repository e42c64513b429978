//! Developer tasks: `cargo run -p xtask -- <task>`.
//!
//! Each task lives in its own module so that code generation and benchmarks for different crates
//! can evolve independently.

use anyhow::{Result, bail};

mod bench_apiserver;
mod bench_git;
mod bench_helm;
mod bench_kustomize;
mod bench_mttp;
mod gen_schema;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] | ["help"] => {
            println!(
                "usage: cargo run -p xtask -- <task>\n\ntasks:\n  gen-schema          regenerate crates/schema tables from the Kubernetes OpenAPI definitions\n  bench <name> ...    run a benchmark against the reference tool (use --release):\n                        kustomize (vs kubectl kustomize), helm (vs helm template),\n                        git (vs git clone + tar), apiserver (throughput, watch fan-out, memory),\n                        mttp-kustomize [--apps 100,500,1000] (Flux's MTTP scenario)"
            );
            Ok(())
        }
        ["gen-schema", rest @ ..] => gen_schema::run(rest),
        ["bench", "helm", rest @ ..] => bench_helm::run(rest),
        ["bench", "apiserver", rest @ ..] => bench_apiserver::run(rest),
        ["bench", "git", rest @ ..] => bench_git::run(rest),
        ["bench", "mttp-kustomize", rest @ ..] => bench_mttp::run(rest),
        ["bench-git-one", rest @ ..] => bench_git::run_one(rest),
        ["bench", "kustomize", rest @ ..] => bench_kustomize::run(rest),
        ["bench-kustomize-one", rest @ ..] => bench_kustomize::run_one(rest),
        other => bail!("unknown task {other:?}; run `cargo run -p xtask -- help`"),
    }
}
