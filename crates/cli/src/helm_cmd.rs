//! `flux helm template`: render a chart with our Helm engine, same output as `helm template`.

use anyhow::Context;
use clap::{Args, Subcommand};
use helm::action::{TemplateOptions, template};
use helm::objects::KubeVersion;
use helm::values::ValueOptions;
use std::io::Write;
use std::path::Path;

/// `flux helm` arguments.
#[derive(Args)]
pub struct HelmArgs {
    #[command(subcommand)]
    command: HelmCommand,
}

#[derive(Subcommand)]
enum HelmCommand {
    /// Locally render chart templates, exactly as `helm template` (Helm v4.1.4) prints them.
    Template(TemplateArgs),
}

/// Flags of `flux helm template`, named as Helm's.
#[derive(Args)]
struct TemplateArgs {
    /// Release name.
    release: String,
    /// Chart directory or packaged chart (`.tgz`).
    chart: String,
    /// Values files (repeatable; later files win).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    values: Vec<String>,
    /// Set values on the command line (`a.b=c,l[0]=x`).
    #[arg(long = "set", value_name = "KEY=VAL")]
    set: Vec<String>,
    /// Set string values on the command line (no type inference).
    #[arg(long = "set-string", value_name = "KEY=VAL")]
    set_string: Vec<String>,
    /// Set values from files (`key=path`).
    #[arg(long = "set-file", value_name = "KEY=PATH")]
    set_file: Vec<String>,
    /// Set JSON values on the command line (`key={"a":1}`).
    #[arg(long = "set-json", value_name = "KEY=JSON")]
    set_json: Vec<String>,
    /// Namespace of the release.
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    namespace: String,
    /// Include CRDs from `crds/` in the output.
    #[arg(long = "include-crds")]
    include_crds: bool,
    /// Kubernetes version used for `.Capabilities.KubeVersion`.
    #[arg(long = "kube-version")]
    kube_version: Option<String>,
    /// Extra API versions for `.Capabilities.APIVersions` (repeatable, comma-separated).
    #[arg(short = 'a', long = "api-versions", value_delimiter = ',')]
    api_versions: Vec<String>,
    /// Only show manifests rendered from the given templates (globs allowed).
    #[arg(short = 's', long = "show-only", value_name = "TEMPLATE")]
    show_only: Vec<String>,
    /// Skip test hooks in the output.
    #[arg(long = "skip-tests")]
    skip_tests: bool,
    /// Set `.Release.IsUpgrade` instead of `.Release.IsInstall`.
    #[arg(long = "is-upgrade")]
    is_upgrade: bool,
    /// Skip values.schema.json validation.
    #[arg(long = "skip-schema-validation")]
    skip_schema_validation: bool,
}

/// Runs `flux helm`.
pub fn run(args: HelmArgs) -> anyhow::Result<()> {
    match args.command {
        HelmCommand::Template(a) => run_template(a),
    }
}

fn run_template(a: TemplateArgs) -> anyhow::Result<()> {
    let kube_version = match &a.kube_version {
        Some(v) => Some(
            KubeVersion::parse(v)
                .map_err(|e| anyhow::anyhow!("invalid kube version '{v}': {e}"))?,
        ),
        None => None,
    };
    let vo = ValueOptions {
        value_files: a.values,
        values: a.set,
        string_values: a.set_string,
        file_values: a.set_file,
        json_values: a.set_json,
    };
    let values = vo.merge(Path::new("."))?;
    let chart = helm::loader::load(Path::new(&a.chart))
        .with_context(|| format!("loading chart {}", a.chart))?;
    let opts = TemplateOptions {
        release_name: a.release,
        namespace: a.namespace,
        values,
        kube_version,
        api_versions: a.api_versions,
        include_crds: a.include_crds,
        skip_tests: a.skip_tests,
        show_only: a.show_only,
        is_upgrade: a.is_upgrade,
        skip_schema_validation: a.skip_schema_validation,
        lookup: None,
    };
    let out = template(chart, &opts)?;
    let mut stdout = std::io::stdout().lock();
    // Raw bytes of the rendered text (e.g. a Latin-1 CRD file) are written as they are.
    stdout.write_all(&helm::action::to_output_bytes(out))?;
    stdout.flush()?;
    Ok(())
}
