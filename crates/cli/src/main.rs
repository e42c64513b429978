//! The `flux` binary: upstream Flux commands plus fluxrs' local mode.

mod build_diff;
mod check;
mod cluster;
mod completion;
mod controllers_cmd;
mod create;
mod delete;
mod events;
mod export;
mod get;
mod helm_cmd;
mod install;
mod kinds;
mod kustomize_cmd;
mod local;
mod local_git;
mod local_up;
mod logs;
mod output;
mod reconcile;
mod suspend;
mod tree;
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
    /// Get the resources and their status.
    Get(get::GetArgs),
    /// Reconcile sources and resources.
    Reconcile(reconcile::ReconcileArgs),
    /// Suspend resources.
    Suspend(suspend::SuspendArgs),
    /// Resume suspended resources.
    Resume(suspend::ResumeArgs),
    /// Create or update sources and resources.
    Create(create::CreateArgs),
    /// Delete sources and resources.
    Delete(delete::DeleteArgs),
    /// Export resources in YAML format.
    Export(export::ExportArgs),
    /// Print the resources reconciled by Flux.
    Tree(tree::TreeArgs),
    /// Display Kubernetes events for Flux resources.
    Events(events::EventsArgs),
    /// Build a flux object: the manifests its controller would apply, from a local path.
    Build(build_diff::BuildArgs),
    /// Diff a flux object with the cluster (exit 1 when there are differences).
    Diff(build_diff::DiffArgs),
    /// Display formatted logs for Flux components (`--data-dir`: of `flux local up`).
    Logs(logs::LogsArgs),
    /// Check requirements and installation.
    Check(check::CheckArgs),
    /// Generates completion scripts for various shells.
    Completion(completion::CompletionArgs),
}

/// Parses the command line; usage errors print as one `✗` line with exit 1, as upstream's
/// cobra errors do (help and version output stay as clap prints them).
fn parse_cli() -> Cli {
    use clap::error::ErrorKind;
    match Cli::try_parse_from(cluster::hoist_global_flags(std::env::args_os().collect())) {
        Ok(cli) => cli,
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) =>
        {
            e.exit()
        }
        Err(e) => {
            // The message is the first paragraph (clap puts tips and usage after a blank line).
            let text = e.to_string();
            let first: Vec<&str> = text
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            eprintln!("✗ {}", first.join(" ").trim_start_matches("error: "));
            std::process::exit(1);
        }
    }
}

fn main() {
    let cli = parse_cli();
    let result = match cli.command {
        Command::Install(args) => install::run(args),
        Command::Version(args) => version::run(args),
        Command::Local(args) => local::run(args),
        Command::Kustomize(args) => kustomize_cmd::run(args),
        Command::Helm(args) => helm_cmd::run(args),
        Command::Controllers(args) => controllers_cmd::run(args),
        Command::Get(args) => get::run(args),
        Command::Reconcile(args) => reconcile::run(args),
        Command::Suspend(args) => suspend::suspend(args),
        Command::Resume(args) => suspend::resume(args),
        Command::Create(args) => create::run(args),
        Command::Delete(args) => delete::run(args),
        Command::Export(args) => export::run(args),
        Command::Tree(args) => tree::run(args),
        Command::Events(args) => events::run(args),
        Command::Logs(args) => logs::run(args),
        Command::Build(args) => build_diff::run_build(args),
        Command::Diff(args) => match build_diff::run_diff(args) {
            // As upstream: 1 when there are differences, 0 none, above 1 on error.
            Ok(true) => std::process::exit(1),
            Ok(false) => Ok(()),
            Err(err) => {
                eprintln!("✗ {}", error_line(&err));
                std::process::exit(2);
            }
        },
        Command::Check(args) => check::run(args),
        Command::Completion(args) => {
            completion::run(args, <Cli as clap::CommandFactory>::command())
        }
    };
    if let Err(err) = result {
        // One readable line, as upstream: `✗ <message>`.
        eprintln!("✗ {}", error_line(&err));
        std::process::exit(1);
    }
}

/// An error and its causes on one line, as `{:#}` joins them, minus each cause whose text the
/// line already ends with: library errors often word their cause into their own message, and
/// `reading chart file x: No such file or directory` should not repeat its last part.
fn error_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !line.is_empty() && line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_line_drops_causes_already_worded() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let err = anyhow::Error::new(io)
            .context("reading x: no such file")
            .context("loading chart x");
        assert_eq!(
            super::error_line(&err),
            "loading chart x: reading x: no such file"
        );
        let plain = anyhow::anyhow!("inner").context("outer");
        assert_eq!(super::error_line(&plain), "outer: inner");
    }
}
