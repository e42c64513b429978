//! `flux completion bash|zsh|fish|powershell`: shell completion scripts generated from the
//! command tree by clap_complete.

use clap::{Args, ValueEnum};
use clap_complete::Shell;

/// `flux completion` arguments.
#[derive(Args)]
pub struct CompletionArgs {
    /// The shell to generate the completion script for.
    shell: ShellName,
}

#[derive(Clone, Copy, ValueEnum)]
enum ShellName {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

/// Prints the completion script for the whole `flux` command tree.
pub fn run(args: CompletionArgs, mut cmd: clap::Command) -> anyhow::Result<()> {
    let shell = match args.shell {
        ShellName::Bash => Shell::Bash,
        ShellName::Zsh => Shell::Zsh,
        ShellName::Fish => Shell::Fish,
        ShellName::Powershell => Shell::PowerShell,
    };
    clap_complete::generate(shell, &mut cmd, "flux", &mut std::io::stdout());
    Ok(())
}
