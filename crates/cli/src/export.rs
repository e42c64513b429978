//! `flux export source git|oci|bucket|helm|chart`, `kustomization`, `helmrelease` (NAME or
//! `--all`): the objects as upstream re-creates them — apiVersion, kind, metadata name,
//! namespace, labels, annotations, and spec — `---` separated.

use crate::cluster::{KubeArgs, block_on, normalize_duration};
use crate::get::to_value;
use crate::kinds::FluxKind;
use crate::output;
use clap::{Args, Subcommand};
use kube::api::ListParams;
use serde_json::{Map, Value};

/// `flux export` arguments.
#[derive(Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    what: Target,
    #[command(flatten)]
    kube: KubeArgs,
    /// Select all resources.
    #[arg(long, global = true)]
    all: bool,
}

#[derive(Subcommand)]
enum Target {
    /// Export sources.
    Source {
        #[command(subcommand)]
        what: SourceTarget,
    },
    /// Export Kustomization resources in YAML format.
    #[command(alias = "ks")]
    Kustomization(Name),
    /// Export HelmRelease resources in YAML format.
    #[command(alias = "hr")]
    Helmrelease(Name),
}

#[derive(Subcommand)]
enum SourceTarget {
    /// Export GitRepository sources in YAML format.
    Git(Name),
    /// Export OCIRepository sources in YAML format.
    Oci(Name),
    /// Export Bucket sources in YAML format.
    Bucket(Name),
    /// Export HelmRepository sources in YAML format.
    Helm(Name),
    /// Export HelmChart sources in YAML format.
    Chart(Name),
}

#[derive(Args)]
struct Name {
    /// Name of the object.
    name: Option<String>,
}

/// Runs `flux export`.
pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let (kind, name) = match args.what {
        Target::Source { what } => match what {
            SourceTarget::Git(n) => (FluxKind::GitRepository, n.name),
            SourceTarget::Oci(n) => (FluxKind::OciRepository, n.name),
            SourceTarget::Bucket(n) => (FluxKind::Bucket, n.name),
            SourceTarget::Helm(n) => (FluxKind::HelmRepository, n.name),
            SourceTarget::Chart(n) => (FluxKind::HelmChart, n.name),
        },
        Target::Kustomization(n) => (FluxKind::Kustomization, n.name),
        Target::Helmrelease(n) => (FluxKind::HelmRelease, n.name),
    };
    if !args.all && name.is_none() {
        anyhow::bail!("name is required");
    }
    block_on(async move {
        let cluster = args.kube.connect().await?;
        let api = kind.api(&cluster.client, &cluster.namespace);
        let objects: Vec<Value> = if args.all {
            let list = api
                .list(&ListParams::default())
                .await
                .map_err(|e| cluster.err_kind(e, kind))?;
            if list.items.is_empty() {
                output::failure(format!(
                    "no objects found in {} namespace",
                    cluster.namespace
                ));
                return Ok(());
            }
            list.items.iter().map(to_value).collect()
        } else {
            let n = name.unwrap_or_default();
            vec![to_value(
                &api.get(&n).await.map_err(|e| cluster.err_kind(e, kind))?,
            )]
        };
        let mut out = String::new();
        for obj in &objects {
            out.push_str(&output::export_doc(&exported(kind, obj)));
        }
        print!("{out}");
        Ok(())
    })
}

/// The exported shape of an object: only what re-creates it.
pub fn exported(kind: FluxKind, obj: &Value) -> Value {
    let mut meta = Map::new();
    for key in ["name", "namespace", "labels", "annotations"] {
        let v = &obj["metadata"][key];
        let empty = v.is_null() || v.as_object().is_some_and(|m| m.is_empty());
        if !empty {
            meta.insert(key.into(), v.clone());
        }
    }
    let mut spec = obj["spec"].clone();
    normalize_durations(&mut spec);
    drop_false(&mut spec, kind == FluxKind::Kustomization);
    let r = kind.resource();
    let mut out = Map::new();
    out.insert("apiVersion".into(), Value::String(r.api_version));
    out.insert("kind".into(), Value::String(r.kind));
    out.insert("metadata".into(), Value::Object(meta));
    out.insert("spec".into(), spec);
    Value::Object(out)
}

/// Drops `false` booleans (server-side defaults such as `force: false`), which upstream's Go
/// structs omit as empty; a Kustomization's top-level `prune` is required and always printed.
fn drop_false(spec: &mut Value, keep_prune: bool) {
    fn walk(v: &mut Value, top: bool, keep_prune: bool) {
        match v {
            Value::Object(m) => {
                m.retain(|k, val| {
                    !(val == &Value::Bool(false) && !(top && keep_prune && k == "prune"))
                });
                m.values_mut().for_each(|val| walk(val, false, keep_prune));
            }
            Value::Array(a) => a.iter_mut().for_each(|val| walk(val, false, keep_prune)),
            _ => {}
        }
    }
    walk(spec, true, keep_prune);
}

/// Re-spells duration fields as Go's `metav1.Duration` prints them after the round trip
/// upstream's typed export makes (`5m` → `5m0s`).
fn normalize_durations(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                let is_duration = matches!(
                    k.as_str(),
                    "interval" | "timeout" | "retryInterval" | "requeueDependency"
                );
                match val {
                    Value::String(s) if is_duration => *s = normalize_duration(s),
                    _ => normalize_durations(val),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(normalize_durations),
        _ => {}
    }
}
