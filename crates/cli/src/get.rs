//! `flux get sources|kustomizations|helmreleases|all`: status tables of Flux objects, with
//! upstream's columns (NAME, REVISION, SUSPENDED, READY, MESSAGE; NAMESPACE first under `-A`).

use crate::cluster::{Cluster, KubeArgs, block_on, is_not_found};
use crate::kinds::{self, FluxKind, SOURCES};
use crate::output;
use clap::{Args, Subcommand};
use futures::{StreamExt, TryStreamExt};
use kube::api::{DynamicObject, ListParams, WatchEvent, WatchParams};
use serde_json::Value;

/// `flux get` arguments.
#[derive(Args)]
pub struct GetArgs {
    #[command(subcommand)]
    what: GetWhat,
    #[command(flatten)]
    kube: KubeArgs,
    /// List the requested object(s) across all namespaces.
    #[arg(short = 'A', long = "all-namespaces", global = true)]
    all_namespaces: bool,
    /// Skip the header when printing the results.
    #[arg(long, global = true)]
    no_header: bool,
    /// After listing/getting the requested object, watch for changes.
    #[arg(short = 'w', long, global = true)]
    watch: bool,
    /// Specify the status condition name and the desired state to filter the get result, e.g. ready=false.
    #[arg(long, global = true, value_name = "TYPE=STATUS")]
    status_selector: Option<String>,
}

#[derive(Subcommand)]
enum GetWhat {
    /// Get source statuses.
    #[command(alias = "source")]
    Sources {
        #[command(subcommand)]
        what: SourceWhat,
    },
    /// Get Kustomization statuses.
    #[command(aliases = ["ks", "kustomization"])]
    Kustomizations(NameArg),
    /// Get HelmRelease statuses.
    #[command(aliases = ["hr", "helmrelease"])]
    Helmreleases(NameArg),
    /// Get all resources and statuses.
    All,
}

#[derive(Subcommand)]
enum SourceWhat {
    /// Get GitRepository source statuses.
    Git(NameArg),
    /// Get OCIRepository statuses.
    Oci(NameArg),
    /// Get Bucket source statuses.
    Bucket(NameArg),
    /// Get HelmRepository source statuses.
    Helm(NameArg),
    /// Get HelmChart statuses.
    Chart(NameArg),
    /// Get all source statuses.
    All,
}

#[derive(Args)]
struct NameArg {
    /// Only this object.
    name: Option<String>,
}

/// Runs `flux get`.
pub fn run(args: GetArgs) -> anyhow::Result<()> {
    block_on(async move {
        let selector = match &args.status_selector {
            Some(s) => match s.split_once('=') {
                Some((t, v)) => Some((t.to_string(), v.to_string())),
                None => {
                    anyhow::bail!("expected status selector in type=status format, but found: {s}")
                }
            },
            None => None,
        };
        let opts = Opts {
            all_ns: args.all_namespaces,
            no_header: args.no_header,
            selector,
        };
        let (kinds, name, all) = match args.what {
            GetWhat::Sources { what } => match what {
                SourceWhat::Git(n) => (vec![FluxKind::GitRepository], n.name, false),
                SourceWhat::Oci(n) => (vec![FluxKind::OciRepository], n.name, false),
                SourceWhat::Bucket(n) => (vec![FluxKind::Bucket], n.name, false),
                SourceWhat::Helm(n) => (vec![FluxKind::HelmRepository], n.name, false),
                SourceWhat::Chart(n) => (vec![FluxKind::HelmChart], n.name, false),
                SourceWhat::All => (SOURCES.to_vec(), None, true),
            },
            GetWhat::Kustomizations(n) => (vec![FluxKind::Kustomization], n.name, false),
            GetWhat::Helmreleases(n) => (vec![FluxKind::HelmRelease], n.name, false),
            GetWhat::All => {
                let mut k = SOURCES.to_vec();
                k.extend([FluxKind::HelmRelease, FluxKind::Kustomization]);
                (k, None, true)
            }
        };
        if all && args.watch {
            anyhow::bail!("expected a single resource type, but found all");
        }
        let cluster = args.kube.connect().await?;
        let work = async {
            if args.watch {
                watch(&cluster, kinds[0], name.as_deref(), &opts).await
            } else if all && kinds.len() > SOURCES.len() {
                // `get all`, in upstream's order: sources, image automation, HelmReleases,
                // Kustomizations, then the notification kinds.
                get_all(&cluster, &kinds[..SOURCES.len()], &opts).await?;
                get_extra(&cluster, &Extra::IMAGE, &opts).await?;
                get_all(&cluster, &kinds[SOURCES.len()..], &opts).await?;
                get_extra(&cluster, &Extra::NOTIFICATION, &opts).await
            } else if all {
                get_all(&cluster, &kinds, &opts).await
            } else {
                get_one(&cluster, kinds[0], name.as_deref(), &opts).await
            }
        };
        match tokio::time::timeout(cluster.timeout, work).await {
            Ok(r) => r,
            // A watch runs until the timeout, as upstream's context deadline ends it.
            Err(_) if args.watch => Ok(()),
            Err(_) => anyhow::bail!("timeout after {:?} listing objects", cluster.timeout),
        }
    })
}

struct Opts {
    all_ns: bool,
    no_header: bool,
    selector: Option<(String, String)>,
}

/// Lists a kind in the namespace (or everywhere); `None` when the API does not serve the kind.
async fn list(
    cluster: &Cluster,
    kind: FluxKind,
    all_ns: bool,
) -> anyhow::Result<Option<Vec<DynamicObject>>> {
    let api = if all_ns {
        kind.api_all(&cluster.client)
    } else {
        kind.api(&cluster.client, &cluster.namespace)
    };
    match api.list(&ListParams::default()).await {
        Ok(l) => Ok(Some(l.items)),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(cluster.err(e)),
    }
}

/// The table columns for one object.
fn row(kind: FluxKind, obj: &DynamicObject, opts: &Opts, include_kind: bool) -> Vec<String> {
    let data = to_value(obj);
    let name = obj.metadata.name.clone().unwrap_or_default();
    let mut cells = Vec::new();
    if opts.all_ns {
        cells.push(obj.metadata.namespace.clone().unwrap_or_default());
    }
    cells.push(if include_kind {
        format!("{}/{}", kind.kind().to_lowercase(), name)
    } else {
        name
    });
    let (ready, msg) = kinds::ready_and_message(&data);
    cells.push(output::truncate_hex(&kind.revision(&data)));
    cells.push(output::title_bool(kinds::is_suspended(&data)));
    cells.push(ready);
    cells.push(output::truncate_hex(&msg));
    cells
}

fn headers(opts: &Opts) -> Vec<&'static str> {
    let mut h = vec!["Name", "Revision", "Suspended", "Ready", "Message"];
    if opts.all_ns {
        h.insert(0, "Namespace");
    }
    h
}

fn selected(obj: &DynamicObject, opts: &Opts) -> bool {
    match &opts.selector {
        Some((t, s)) => kinds::status_matches(&to_value(obj), t, s),
        None => true,
    }
}

/// The object as JSON (`metadata` + `spec` + `status`), the shape `kinds` reads.
pub fn to_value(obj: &DynamicObject) -> Value {
    serde_json::to_value(obj).unwrap_or(Value::Null)
}

fn ns_or_any(cluster: &Cluster, all_ns: bool) -> String {
    if all_ns {
        "any".into()
    } else {
        format!("\"{}\"", cluster.namespace)
    }
}

async fn get_one(
    cluster: &Cluster,
    kind: FluxKind,
    name: Option<&str>,
    opts: &Opts,
) -> anyhow::Result<()> {
    let mut items = list(cluster, kind, opts.all_ns).await?.ok_or_else(|| {
        let r = kind.resource();
        anyhow::anyhow!(
            "no matches for kind \"{}\" in version \"{}\" (are the Flux CRDs installed?)",
            r.kind,
            r.api_version
        )
    })?;
    if let Some(n) = name {
        items.retain(|o| o.metadata.name.as_deref() == Some(n));
    }
    if items.is_empty() {
        match name {
            Some(n) => output::failure(format!(
                "{} object '{}' not found in {} namespace",
                kind.kind(),
                n,
                ns_or_any(cluster, opts.all_ns)
            )),
            None => output::failure(format!(
                "no {} objects found in {} namespace",
                kind.kind(),
                ns_or_any(cluster, opts.all_ns)
            )),
        }
        return Ok(());
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .filter(|o| selected(o, opts))
        .map(|o| row(kind, o, opts, false))
        .collect();
    let h = headers(opts);
    print!(
        "{}",
        output::table((!opts.no_header).then_some(&h[..]), &rows)
    );
    Ok(())
}

async fn get_all(cluster: &Cluster, kinds: &[FluxKind], opts: &Opts) -> anyhow::Result<()> {
    for &kind in kinds {
        let Some(items) = list(cluster, kind, opts.all_ns).await? else {
            continue;
        };
        if items.is_empty() {
            continue;
        }
        let rows: Vec<Vec<String>> = items
            .iter()
            .filter(|o| selected(o, opts))
            .map(|o| row(kind, o, opts, true))
            .collect();
        let h = headers(opts);
        print!(
            "{}",
            output::table((!opts.no_header).then_some(&h[..]), &rows)
        );
        println!();
    }
    Ok(())
}

/// Prints the current objects, then one row per change, until the timeout.
async fn watch(
    cluster: &Cluster,
    kind: FluxKind,
    name: Option<&str>,
    opts: &Opts,
) -> anyhow::Result<()> {
    use std::io::Write;
    let api = if opts.all_ns {
        kind.api_all(&cluster.client)
    } else {
        kind.api(&cluster.client, &cluster.namespace)
    };
    let mut lp = ListParams::default();
    let mut wp = WatchParams::default();
    if let Some(n) = name {
        lp = lp.fields(&format!("metadata.name={n}"));
        wp = wp.fields(&format!("metadata.name={n}"));
    }
    let list = api.list(&lp).await.map_err(|e| cluster.err_kind(e, kind))?;
    let mut first = true;
    let h = headers(opts);
    let mut print_obj = |obj: &DynamicObject| {
        if !selected(obj, opts) {
            return;
        }
        let header = (first && !opts.no_header).then_some(&h[..]);
        first = false;
        print!("{}", output::table(header, &[row(kind, obj, opts, false)]));
        let _ = std::io::stdout().flush();
    };
    for obj in &list.items {
        print_obj(obj);
    }
    let mut rv = list.metadata.resource_version.unwrap_or_else(|| "0".into());
    loop {
        let stream = api
            .watch(&wp.clone().timeout(290), &rv)
            .await
            .map_err(|e| cluster.err_kind(e, kind))?;
        futures::pin_mut!(stream);
        let mut stream = stream.map_err(|e| cluster.err_kind(e, kind)).boxed();
        while let Some(ev) = stream.try_next().await? {
            match ev {
                WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => {
                    if let Some(v) = &o.metadata.resource_version {
                        rv = v.clone();
                    }
                    print_obj(&o);
                }
                WatchEvent::Bookmark(b) => rv = b.metadata.resource_version,
                WatchEvent::Error(e) => anyhow::bail!("watch failed: {}", e.message),
            }
        }
    }
}

/// Kinds `get all` lists besides the sources and appliers: image automation and notification,
/// each with upstream's columns.
#[derive(Clone, Copy)]
enum Extra {
    ImageRepository,
    ImagePolicy,
    ImageUpdateAutomation,
    Receiver,
    Provider,
    Alert,
}

impl Extra {
    const IMAGE: [Extra; 3] = [
        Extra::ImageRepository,
        Extra::ImagePolicy,
        Extra::ImageUpdateAutomation,
    ];
    const NOTIFICATION: [Extra; 3] = [Extra::Receiver, Extra::Provider, Extra::Alert];

    fn resource(self) -> kube::api::ApiResource {
        use kube::api::ApiResource;
        match self {
            Self::ImageRepository => ApiResource::erase::<api::image::ImageRepository>(&()),
            Self::ImagePolicy => ApiResource::erase::<api::image::ImagePolicy>(&()),
            Self::ImageUpdateAutomation => {
                ApiResource::erase::<api::image::ImageUpdateAutomation>(&())
            }
            Self::Receiver => ApiResource::erase::<api::notification::Receiver>(&()),
            Self::Provider => ApiResource::erase::<api::notification::Provider>(&()),
            Self::Alert => ApiResource::erase::<api::notification::Alert>(&()),
        }
    }

    /// Headers after NAME.
    fn headers(self) -> &'static [&'static str] {
        match self {
            Self::ImageRepository => &["Last scan", "Suspended", "Ready", "Message"],
            Self::ImagePolicy => &["Image", "Tag", "Ready", "Message"],
            Self::ImageUpdateAutomation => &["Last run", "Suspended", "Ready", "Message"],
            Self::Receiver | Self::Alert => &["Suspended", "Ready", "Message"],
            Self::Provider => &["Ready", "Message"],
        }
    }

    /// Cells after NAME. Alerts and Providers (v1beta3) have no status: always ready.
    fn cells(self, obj: &Value) -> Vec<String> {
        let suspended = output::title_bool(kinds::is_suspended(obj));
        let (ready, msg) = kinds::ready_and_message(obj);
        let st = &obj["status"];
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        match self {
            Self::ImageRepository => {
                vec![s(&st["lastScanResult"]["scanTime"]), suspended, ready, msg]
            }
            Self::ImagePolicy => vec![
                s(&st["latestRef"]["name"]),
                s(&st["latestRef"]["tag"]),
                ready,
                msg,
            ],
            Self::ImageUpdateAutomation => {
                vec![s(&st["lastAutomationRunTime"]), suspended, ready, msg]
            }
            Self::Receiver => vec![suspended, ready, msg],
            Self::Provider => vec!["True".into(), "Provider is Ready".into()],
            Self::Alert => vec![suspended, "True".into(), "Alert is Ready".into()],
        }
    }

    fn selected(self, obj: &Value, opts: &Opts) -> bool {
        match (&opts.selector, self) {
            (None, _) => true,
            (Some((t, v)), Self::Provider | Self::Alert) => {
                t.eq_ignore_ascii_case("ready") && v.eq_ignore_ascii_case("true")
            }
            (Some((t, v)), _) => kinds::status_matches(obj, t, v),
        }
    }
}

/// Prints one table per extra kind that has objects; kinds the API does not serve are skipped.
async fn get_extra(cluster: &Cluster, extras: &[Extra], opts: &Opts) -> anyhow::Result<()> {
    for &extra in extras {
        let r = extra.resource();
        let api: kube::Api<DynamicObject> = if opts.all_ns {
            kube::Api::all_with(cluster.client.clone(), &r)
        } else {
            kube::Api::namespaced_with(cluster.client.clone(), &cluster.namespace, &r)
        };
        let items = match api.list(&ListParams::default()).await {
            Ok(l) => l.items,
            Err(e) if is_not_found(&e) => continue,
            Err(e) => return Err(cluster.err(e)),
        };
        let rows: Vec<Vec<String>> = items
            .iter()
            .map(|o| (o, to_value(o)))
            .filter(|(_, v)| extra.selected(v, opts))
            .map(|(o, v)| {
                let mut cells = Vec::new();
                if opts.all_ns {
                    cells.push(o.metadata.namespace.clone().unwrap_or_default());
                }
                cells.push(format!(
                    "{}/{}",
                    r.kind.to_lowercase(),
                    o.metadata.name.clone().unwrap_or_default()
                ));
                cells.extend(extra.cells(&v));
                cells
            })
            .collect();
        // As upstream: a kind with objects gets its table (header) even when the status
        // selector filters every row out.
        if items.is_empty() {
            continue;
        }
        let mut h: Vec<&str> = Vec::new();
        if opts.all_ns {
            h.push("Namespace");
        }
        h.push("Name");
        h.extend_from_slice(extra.headers());
        print!(
            "{}",
            output::table((!opts.no_header).then_some(&h[..]), &rows)
        );
        println!();
    }
    Ok(())
}
