//! `flux install`: the Flux CRDs (and, later, controller manifests).

use anyhow::Context;
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
        "installing into a cluster is not implemented yet; use `flux install --export`"
    );
    print!("{}", export_manifests()?);
    Ok(())
}

/// The install manifests as a multi-document YAML stream.
pub fn export_manifests() -> anyhow::Result<String> {
    let mut out = String::from("---\n# Flux CRDs (fluxrs)\n");
    for (i, crd) in api::crds::all().iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        let value = serde_json::to_value(crd).context("serializing a CRD")?;
        out.push_str(&serde_saphyr::to_string(&value).context("writing a CRD as YAML")?);
    }
    Ok(out)
}
