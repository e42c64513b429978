//! `flux build kustomization` and `flux diff kustomization`: build a Kustomization from a local
//! directory exactly as kustomize-controller does (Flux's generated kustomization, spec
//! overlays, post-build substitution), then print it, or compare it with the cluster through a
//! server-side dry-run apply.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use api::kustomize::Kustomization;
use clap::{Args, Subcommand};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::Api;
use serde_json::Value;

use crate::cluster::{Cluster, KubeArgs, block_on, is_not_found};
use crate::kinds::FluxKind;

/// The label group of the objects kustomize-controller applies.
const GROUP: &str = "kustomize.toolkit.fluxcd.io";

/// `flux build` arguments.
#[derive(Args)]
pub struct BuildArgs {
    #[command(subcommand)]
    what: BuildWhat,
    #[command(flatten)]
    kube: KubeArgs,
}

#[derive(Subcommand)]
enum BuildWhat {
    /// Build Kustomization: the manifests kustomize-controller would apply, from a local
    /// directory. Without --dry-run the Kustomization (and its postBuild.substituteFrom
    /// ConfigMaps/Secrets) are read from the cluster unless --kustomization-file is given.
    #[command(alias = "ks")]
    Kustomization(BuildFlags),
}

#[derive(Args, Clone)]
struct BuildFlags {
    /// Name of the Kustomization.
    name: String,
    /// Path to the manifests location.
    #[arg(long)]
    path: PathBuf,
    /// Path to the Flux Kustomization YAML file (instead of the cluster's object).
    #[arg(long)]
    kustomization_file: Option<PathBuf>,
    /// Dry run mode: no cluster access (needs --kustomization-file; substituteFrom is skipped).
    #[arg(long)]
    dry_run: bool,
    /// When enabled, the post build substitutions will fail if a var without a default value
    /// is declared in files but is missing from the input vars.
    #[arg(long)]
    strict_substitute: bool,
}

/// `flux diff` arguments.
#[derive(Args)]
pub struct DiffArgs {
    #[command(subcommand)]
    what: DiffWhat,
    #[command(flatten)]
    kube: KubeArgs,
}

#[derive(Subcommand)]
enum DiffWhat {
    /// Diff Kustomization: compares the local build with the cluster (server-side dry-run
    /// apply). Exit status: 0 no differences, 1 differences, 2 or more on error.
    #[command(alias = "ks")]
    Kustomization(DiffFlags),
}

#[derive(Args)]
struct DiffFlags {
    /// Name of the Kustomization.
    name: String,
    /// Path to a local directory that matches the specified Kustomization.spec.path.
    #[arg(long)]
    path: PathBuf,
    /// Path to the Flux Kustomization YAML file (instead of the cluster's object).
    #[arg(long)]
    kustomization_file: Option<PathBuf>,
    /// When enabled, the post build substitutions will fail if a var without a default value
    /// is declared in files but is missing from the input vars.
    #[arg(long)]
    strict_substitute: bool,
}

/// Reads the Kustomization named `name` from a (multi-document) YAML file.
fn kustomization_from_file(file: &Path, name: &str) -> anyhow::Result<Kustomization> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading kustomization file {}", file.display()))?;
    for doc in text.split("\n---") {
        let doc = doc.trim_start_matches("---");
        let value: Value = match serde_saphyr::from_str(doc) {
            Ok(v) => v,
            Err(e) => anyhow::bail!("parsing kustomization file {}: {e}", file.display()),
        };
        if value["kind"] == "Kustomization"
            && value["apiVersion"]
                .as_str()
                .is_some_and(|a| a.starts_with(GROUP))
            && value["metadata"]["name"] == name
        {
            return serde_json::from_value(value)
                .with_context(|| format!("decoding Kustomization {name} in {}", file.display()));
        }
    }
    anyhow::bail!(
        "kustomization file {} has no Kustomization named '{name}'",
        file.display()
    )
}

/// The Kustomization from the cluster.
async fn kustomization_from_cluster(
    cluster: &Cluster,
    name: &str,
) -> anyhow::Result<Kustomization> {
    let api: Api<Kustomization> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    match api.get(name).await {
        Ok(k) => Ok(k),
        Err(e) if is_not_found(&e) => anyhow::bail!(
            "failed to get kustomization object: kustomizations.{GROUP} \"{name}\" not found"
        ),
        Err(e) => Err(cluster.err_kind(e, FluxKind::Kustomization)),
    }
}

/// The variables of `postBuild.substituteFrom`, from the Kustomization's namespace.
async fn substitute_from(
    cluster: &Cluster,
    ks: &Kustomization,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut vars = BTreeMap::new();
    let Some(pb) = &ks.spec.post_build else {
        return Ok(vars);
    };
    let ns = ks
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| cluster.namespace.clone());
    for r in &pb.substitute_from {
        let optional = r.optional.unwrap_or(false);
        let found: Option<BTreeMap<String, String>> = match r.kind.as_str() {
            "ConfigMap" => Api::<ConfigMap>::namespaced(cluster.client.clone(), &ns)
                .get_opt(&r.name)
                .await
                .map_err(|e| cluster.err(e))?
                .map(|cm| cm.data.unwrap_or_default()),
            "Secret" => Api::<Secret>::namespaced(cluster.client.clone(), &ns)
                .get_opt(&r.name)
                .await
                .map_err(|e| cluster.err(e))?
                .map(|s| {
                    s.data
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
                        .collect()
                }),
            other => anyhow::bail!("substitute from '{other}/{}': unsupported kind", r.name),
        };
        match found {
            Some(v) => vars.extend(v),
            None if optional => {}
            None => anyhow::bail!(
                "substitute from '{}/{}' error: {}s \"{}\" not found",
                r.kind,
                r.name,
                r.kind.to_lowercase(),
                r.name
            ),
        }
    }
    Ok(vars)
}

/// Builds the objects with the controller's ownership labels.
fn build(
    ks: &Kustomization,
    path: &Path,
    vars: &BTreeMap<String, String>,
    namespace: &str,
    strict: bool,
) -> anyhow::Result<Vec<Value>> {
    anyhow::ensure!(
        path.is_dir(),
        "invalid resource path '{}': not a directory",
        path.display()
    );
    let name = ks.metadata.name.clone().unwrap_or_default();
    let ns = ks
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| namespace.to_string());
    let opts = controllers::kustomize::BuildOptions {
        strict_substitution: strict,
    };
    let mut objects = controllers::kustomize::build_objects_in(ks, path, path, vars, &opts)
        .map_err(|e| anyhow::anyhow!("kustomize build failed: {}", error_chain(&e)))?;
    for o in &mut objects {
        ssa::set_owner_labels(o, &name, &ns, GROUP);
    }
    Ok(objects)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !text.contains(&t) {
            text.push_str(": ");
            text.push_str(&t);
        }
        src = s.source();
    }
    text
}

/// Runs `flux build`.
pub fn run_build(args: BuildArgs) -> anyhow::Result<()> {
    let BuildWhat::Kustomization(f) = args.what;
    if f.dry_run {
        let file = f
            .kustomization_file
            .as_deref()
            .context("dry-run mode requires a kustomization file (--kustomization-file)")?;
        let ks = kustomization_from_file(file, &f.name)?;
        let objects = build(
            &ks,
            &f.path,
            &BTreeMap::new(),
            &args.kube.namespace,
            f.strict_substitute,
        )?;
        print!("{}", yaml::to_multi_doc_string(&objects));
        return Ok(());
    }
    block_on(async move {
        let cluster = args.kube.connect().await?;
        let ks = match &f.kustomization_file {
            Some(file) => kustomization_from_file(file, &f.name)?,
            None => kustomization_from_cluster(&cluster, &f.name).await?,
        };
        let vars = substitute_from(&cluster, &ks).await?;
        let objects = build(&ks, &f.path, &vars, &cluster.namespace, f.strict_substitute)?;
        print!("{}", yaml::to_multi_doc_string(&objects));
        Ok(())
    })
}

/// Runs `flux diff`; returns whether there were differences (exit status 1).
pub fn run_diff(args: DiffArgs) -> anyhow::Result<bool> {
    let DiffWhat::Kustomization(f) = args.what;
    let mut changed = false;
    block_on(async {
        let cluster = args.kube.connect().await?;
        let ks = match &f.kustomization_file {
            Some(file) => kustomization_from_file(file, &f.name)?,
            None => kustomization_from_cluster(&cluster, &f.name).await?,
        };
        let vars = substitute_from(&cluster, &ks).await?;
        let objects = build(&ks, &f.path, &vars, &cluster.namespace, f.strict_substitute)?;
        let new_ids: Vec<ssa::ObjMetadata> = objects
            .iter()
            .map(ssa::ObjMetadata::from_object)
            .collect::<Result<_, _>>()?;
        let manager = ssa::ResourceManager::new(
            cluster.client.clone(),
            ssa::Owner {
                field_manager: "kustomize-controller".into(),
                group: GROUP.into(),
            },
        );
        let entries = manager
            .diff(objects, &ssa::ApplyOptions::default())
            .await
            .map_err(|e| anyhow::anyhow!("server-side dry-run failed: {}", error_chain(&e)))?;
        let mut out = String::new();
        for e in &entries {
            match e.action {
                ssa::Action::Created => {
                    changed = true;
                    out.push_str(&format!("► {} created\n", e.subject));
                }
                ssa::Action::Configured => {
                    changed = true;
                    out.push_str(&format!("► {} drifted\n", e.subject));
                    let before = e.live.as_ref().map(masked_yaml).unwrap_or_default();
                    let after = e.merged.as_ref().map(masked_yaml).unwrap_or_default();
                    out.push_str(&line_diff(&before, &after));
                    out.push('\n');
                }
                ssa::Action::Skipped => out.push_str(&format!("► {} skipped\n", e.subject)),
                _ => {}
            }
        }
        // Objects the cluster's inventory has and the build no longer does are pruned.
        if ks.spec.prune {
            let old: Vec<ssa::ObjMetadata> = ks
                .status
                .as_ref()
                .and_then(|s| s.inventory.as_ref())
                .map(|inv| {
                    inv.entries
                        .iter()
                        .filter_map(|e| ssa::ObjMetadata::parse_inventory_id(&e.id, &e.v).ok())
                        .collect()
                })
                .unwrap_or_default();
            for gone in ssa::stale_objects(&old, &new_ids) {
                changed = true;
                out.push_str(&format!("► {} deleted\n", gone.subject()));
            }
        }
        print!("{out}");
        Ok(())
    })?;
    Ok(changed)
}

/// YAML of an object for diffing: server-managed noise dropped, Secret values masked.
fn masked_yaml(obj: &Value) -> String {
    let mut o = obj.clone();
    if let Some(m) = o["metadata"].as_object_mut() {
        for k in [
            "managedFields",
            "resourceVersion",
            "uid",
            "creationTimestamp",
            "generation",
        ] {
            m.remove(k);
        }
    }
    if o["kind"] == "Secret" && o["apiVersion"] == "v1" {
        for field in ["data", "stringData"] {
            if let Some(d) = o[field].as_object_mut() {
                for v in d.values_mut() {
                    *v = Value::String("*****".into());
                }
            }
        }
    }
    if let Some(m) = o.as_object_mut() {
        m.remove("status");
    }
    yaml::to_string(&o)
}

/// A line diff (longest common subsequence): changed lines with `-`/`+`, unchanged ones
/// elided except for the line before a change (the key it belongs to).
pub fn line_diff(before: &str, after: &str) -> String {
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    let (n, m) = (a.len(), b.len());
    // lcs[i][j]: LCS length of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = String::new();
    let (mut i, mut j) = (0, 0);
    let mut last_same: Option<&str> = None;
    let flush_context = |out: &mut String, last: &mut Option<&str>| {
        if let Some(l) = last.take() {
            out.push_str(&format!("  {l}\n"));
        }
    };
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            last_same = Some(a[i]);
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            flush_context(&mut out, &mut last_same);
            out.push_str(&format!("- {}\n", a[i]));
            i += 1;
        } else {
            flush_context(&mut out, &mut last_same);
            out.push_str(&format!("+ {}\n", b[j]));
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_diff_shows_changes_with_their_key() {
        let before = "spec:\n  replicas: 1\n  paused: false\n";
        let after = "spec:\n  replicas: 3\n  paused: false\n";
        assert_eq!(
            line_diff(before, after),
            "  spec:\n-   replicas: 1\n+   replicas: 3\n"
        );
        assert_eq!(line_diff("a\n", "a\n"), "");
        assert_eq!(line_diff("", "a\n"), "+ a\n");
    }

    #[test]
    fn secrets_are_masked_and_noise_dropped() {
        let s = serde_json::json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "uid": "u", "resourceVersion": "3"},
            "data": {"password": "aHVudGVyMg=="}});
        let y = masked_yaml(&s);
        assert!(y.contains("password: '*****'"), "{y}");
        assert!(!y.contains("aHVudGVyMg"), "{y}");
        assert!(!y.contains("uid"), "{y}");
    }
}
