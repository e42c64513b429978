//! `flux tree kustomization NAME`: the objects a Kustomization applied, from its inventory,
//! nested Kustomizations expanded, drawn as upstream's tree.

use crate::cluster::{Cluster, KubeArgs, block_on, is_not_found};
use crate::get::to_value;
use crate::kinds::FluxKind;
use clap::{Args, Subcommand};
use serde_json::Value;

/// `flux tree` arguments.
#[derive(Args)]
pub struct TreeArgs {
    #[command(subcommand)]
    what: Target,
    #[command(flatten)]
    kube: KubeArgs,
}

#[derive(Subcommand)]
enum Target {
    /// Print the resources reconciled by a Kustomization.
    #[command(alias = "ks")]
    Kustomization(Name),
}

#[derive(Args)]
struct Name {
    /// Name of the Kustomization.
    name: String,
}

/// One node of the tree.
#[derive(Debug, PartialEq)]
pub struct Node {
    /// `Kind/namespace/name` or `Kind/name`.
    pub label: String,
    /// Children, in inventory order.
    pub children: Vec<Node>,
}

/// An inventory id (`<namespace>_<name>_<group>_<kind>`) split into its parts; `__` in the name
/// stands for `:` (RBAC names), as in cli-utils' encoding.
pub fn parse_id(id: &str) -> Option<(String, String, String, String)> {
    let (ns, rest) = id.split_once('_')?;
    let (rest, kind) = rest.rsplit_once('_')?;
    let (name, group) = rest.rsplit_once('_')?;
    Some((
        ns.to_string(),
        name.replace("__", ":"),
        group.to_string(),
        kind.to_string(),
    ))
}

/// Runs `flux tree`.
pub fn run(args: TreeArgs) -> anyhow::Result<()> {
    let Target::Kustomization(n) = args.what;
    block_on(async move {
        let cluster = args.kube.connect().await?;
        let ns = cluster.namespace.clone();
        let api = FluxKind::Kustomization.api(&cluster.client, &ns);
        let root = to_value(
            &api.get(&n.name)
                .await
                .map_err(|e| cluster.err_kind(e, FluxKind::Kustomization))?,
        );
        let tree = Node {
            label: format!("Kustomization/{}/{}", ns, n.name),
            children: children(&cluster, &root, 0).await?,
        };
        print!("{}", render(&tree));
        Ok(())
    })
}

/// Children of a Kustomization from its inventory; nested Kustomizations are expanded (depth
/// bounded so a cycle cannot loop forever).
fn children<'a>(
    cluster: &'a Cluster,
    ks: &'a Value,
    depth: usize,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<Vec<Node>>> + 'a>> {
    Box::pin(async move {
        let mut out = Vec::new();
        let Some(entries) = ks["status"]["inventory"]["entries"].as_array() else {
            return Ok(out);
        };
        for e in entries {
            let Some((ns, name, group, kind)) = e["id"].as_str().and_then(parse_id) else {
                continue;
            };
            let label = if ns.is_empty() {
                format!("{kind}/{name}")
            } else {
                format!("{kind}/{ns}/{name}")
            };
            let mut node = Node {
                label,
                children: Vec::new(),
            };
            if kind == "Kustomization" && group == "kustomize.toolkit.fluxcd.io" && depth < 32 {
                let api = FluxKind::Kustomization.api(&cluster.client, &ns);
                match api.get(&name).await {
                    Ok(child) => {
                        node.children = children(cluster, &to_value(&child), depth + 1).await?
                    }
                    Err(e) if is_not_found(&e) => {}
                    Err(e) => return Err(cluster.err_kind(e, FluxKind::Kustomization)),
                }
            }
            out.push(node);
        }
        Ok(out)
    })
}

/// Draws the tree: root line, then `├── `/`└── ` branches with `│   `/`    ` indentation.
pub fn render(root: &Node) -> String {
    let mut out = format!("{}\n", root.label);
    fn walk(nodes: &[Node], prefix: &str, out: &mut String) {
        for (i, n) in nodes.iter().enumerate() {
            let last = i + 1 == nodes.len();
            out.push_str(prefix);
            out.push_str(if last { "└── " } else { "├── " });
            out.push_str(&n.label);
            out.push('\n');
            let next = format!("{prefix}{}", if last { "    " } else { "│   " });
            walk(&n.children, &next, out);
        }
    }
    walk(&root.children, "", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inventory_ids_parse_like_cli_utils() {
        assert_eq!(
            parse_id("apps_podinfo_apps_Deployment"),
            Some((
                "apps".into(),
                "podinfo".into(),
                "apps".into(),
                "Deployment".into()
            ))
        );
        assert_eq!(
            parse_id("_apps__Namespace"),
            Some(("".into(), "apps".into(), "".into(), "Namespace".into()))
        );
        assert_eq!(
            parse_id("_system__controller_rbac.authorization.k8s.io_ClusterRole"),
            Some((
                "".into(),
                "system:controller".into(),
                "rbac.authorization.k8s.io".into(),
                "ClusterRole".into()
            ))
        );
        assert_eq!(parse_id("garbage"), None);
    }
}
