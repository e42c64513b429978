//! The `flux` binary: upstream Flux commands plus fluxrs' local mode.

mod controllers_cmd;
mod helm_cmd;
mod install;
mod kustomize_cmd;
mod local;
mod version;

use clap::{Parser, Subcommand};

/// Command line of `flux`.
#[derive(Parser)]
#[command(
    name = "flux",
    about = "Command line utility for assembling Kubernetes CD pipelines the GitOps way (fluxrs)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install or upgrade Flux (`--export` prints the manifests).
    Install(install::InstallArgs),
    /// Print the client and server-side components version information.
    Version(version::VersionArgs),
    /// Run Flux on this machine with no cluster (embedded API server).
    Local(local::LocalArgs),
    /// Kustomize engine commands.
    Kustomize(kustomize_cmd::KustomizeArgs),
    /// Helm engine commands.
    Helm(helm_cmd::HelmArgs),
    /// Run the Flux controllers in this process (`--enable source,...`).
    Controllers(controllers_cmd::ControllersArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Install(args) => install::run(args),
        Command::Version(args) => version::run(args),
        Command::Local(args) => local::run(args),
        Command::Kustomize(args) => kustomize_cmd::run(args),
        Command::Helm(args) => helm_cmd::run(args),
        Command::Controllers(args) => controllers_cmd::run(args),
    };
    if let Err(err) = result {
        // One readable line, as upstream: `✗ <message>`.
        eprintln!("✗ {err:#}");
        std::process::exit(1);
    }
}
