//! `flux helm template`: render a chart with our Helm engine, same output as `helm template`.

use clap::{Args, Subcommand};

/// `flux helm` arguments.
#[derive(Args)]
pub struct HelmArgs {
    #[command(subcommand)]
    command: HelmCommand,
}

#[derive(Subcommand)]
enum HelmCommand {}

/// Runs `flux helm`.
pub fn run(args: HelmArgs) -> anyhow::Result<()> {
    match args.command {}
}
