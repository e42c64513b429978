//! `flux version`.

use clap::Args;

/// `flux version` arguments.
#[derive(Args)]
pub struct VersionArgs {
    /// Print only the client version.
    #[arg(long)]
    client: bool,
}

/// Runs `flux version`.
pub fn run(args: VersionArgs) -> anyhow::Result<()> {
    println!("flux: v{}", env!("CARGO_PKG_VERSION"));
    if !args.client {
        println!("distribution: fluxrs-v{}", env!("CARGO_PKG_VERSION"));
    }
    Ok(())
}
