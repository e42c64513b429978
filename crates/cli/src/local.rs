//! `flux local ...`: the embedded API server and the local GitOps loop.

use clap::{Args, Subcommand};

/// `flux local` arguments.
#[derive(Args)]
pub struct LocalArgs {
    #[command(subcommand)]
    command: LocalCommand,
}

#[derive(Subcommand)]
enum LocalCommand {}

/// Runs `flux local`.
pub fn run(args: LocalArgs) -> anyhow::Result<()> {
    match args.command {}
}
