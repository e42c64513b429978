//! `flux kustomize build DIR`: our Kustomize engine, same output as `kubectl kustomize DIR`.

use clap::{Args, Subcommand};

/// `flux kustomize` arguments.
#[derive(Args)]
pub struct KustomizeArgs {
    #[command(subcommand)]
    command: KustomizeCommand,
}

#[derive(Subcommand)]
enum KustomizeCommand {}

/// Runs `flux kustomize`.
pub fn run(args: KustomizeArgs) -> anyhow::Result<()> {
    match args.command {}
}
