//! `flux kustomize build DIR`: our Kustomize engine, same output as `kubectl kustomize DIR`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Subcommand};

/// `flux kustomize` arguments.
#[derive(Args)]
pub struct KustomizeArgs {
    #[command(subcommand)]
    command: KustomizeCommand,
}

#[derive(Subcommand)]
enum KustomizeCommand {
    /// Build a kustomization directory and print the objects as YAML (like `kubectl kustomize`).
    Build(BuildArgs),
}

/// `flux kustomize build` arguments.
#[derive(Args)]
struct BuildArgs {
    /// Directory holding a kustomization.yaml.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Nothing outside this directory is read (default: the enclosing Git work tree, else the
    /// current directory when DIR is inside it, else DIR).
    #[arg(long)]
    root: Option<PathBuf>,
}

/// The source root used when `--root` is not given.
fn default_root(dir: &Path) -> PathBuf {
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if d.join(".git").exists() {
            return d.to_path_buf();
        }
        cur = d.parent();
    }
    match std::env::current_dir()
        .ok()
        .and_then(|c| c.canonicalize().ok())
    {
        Some(cwd) if dir.starts_with(&cwd) => cwd,
        _ => dir.to_path_buf(),
    }
}

/// Runs `flux kustomize`.
pub fn run(args: KustomizeArgs) -> anyhow::Result<()> {
    match args.command {
        KustomizeCommand::Build(b) => {
            let dir = b.dir.canonicalize().with_context(|| {
                format!("kustomization directory '{}' not found", b.dir.display())
            })?;
            let root = match b.root {
                Some(r) => r
                    .canonicalize()
                    .with_context(|| format!("root '{}' not found", r.display()))?,
                None => default_root(&dir),
            };
            // One line on error: the engine's whole chain, as `kubectl kustomize` prints it.
            let out =
                kustomize::build_yaml(Arc::new(kustomize::DiskFs), &root, &dir).map_err(|e| {
                    anyhow::anyhow!(
                        "kustomize build failed for '{}': {}",
                        b.dir.display(),
                        e.chain()
                    )
                })?;
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(out.as_bytes())?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_root_is_the_enclosing_git_work_tree() {
        let base = std::env::temp_dir().join(format!("fluxrs-kz-root-{}", std::process::id()));
        let dir = base.join("apps/production");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::create_dir_all(base.join(".git")).unwrap();
        assert_eq!(default_root(&dir), base);
        std::fs::remove_dir_all(base.join(".git")).unwrap();
        // Without a work tree (and outside the current directory) the root is DIR itself.
        assert_eq!(default_root(&dir), dir);
        std::fs::remove_dir_all(&base).unwrap();
    }
}
