//! `flux install`: the Flux CRDs (and, later, controller manifests).

use clap::Args;

/// `flux install` arguments.
#[derive(Args)]
pub struct InstallArgs {
    /// Write the install manifests to stdout and exit.
    #[arg(long)]
    export: bool,
}

/// Runs `flux install`.
pub fn run(args: InstallArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.export,
        "installing into a cluster is not implemented yet; use --export"
    );
    Ok(())
}
