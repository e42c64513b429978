//! Output order: kustomize's legacy kind order (default) or input order (`fifo`).

use std::cmp::Ordering;

use crate::error::Error;
use crate::resid::{Gvk, ResId};
use crate::resource::Resource;
use crate::types::SortOptions;

const ORDER_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];
const ORDER_LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

fn gvk_sort_string(g: &Gvk) -> String {
    let or = |s: &str, d: &'static str| {
        if s.is_empty() {
            d.to_string()
        } else {
            s.to_string()
        }
    };
    format!(
        "{}_{}_{}",
        or(&g.group, "~G"),
        or(&g.version, "~V"),
        or(&g.kind, "~K")
    )
}

fn id_sort_string(id: &ResId) -> String {
    let or = |s: &str, d: &'static str| {
        if s.is_empty() {
            d.to_string()
        } else {
            s.to_string()
        }
    };
    format!(
        "{}|{}|{}",
        id.gvk.id_string(),
        or(&id.namespace, "~X"),
        or(&id.name, "~N")
    )
}

fn type_order(first: &[String], last: &[String], kind: &str) -> i64 {
    if let Some(i) = first.iter().position(|k| k == kind) {
        return i as i64 - first.len() as i64;
    }
    if let Some(i) = last.iter().position(|k| k == kind) {
        return i as i64 + 1;
    }
    0
}

fn legacy_less(first: &[String], last: &[String], a: &ResId, b: &ResId) -> Ordering {
    if a.gvk != b.gvk {
        let (i, j) = (
            type_order(first, last, &a.gvk.kind),
            type_order(first, last, &b.gvk.kind),
        );
        if i != j {
            return i.cmp(&j);
        }
        let (sa, sb) = (gvk_sort_string(&a.gvk), gvk_sort_string(&b.gvk));
        if a.gvk.kind == "Namespace"
            && b.gvk.kind == "Namespace"
            && (a.gvk.group.is_empty() || b.gvk.group.is_empty())
        {
            return sb.cmp(&sa);
        }
        return sa.cmp(&sb);
    }
    id_sort_string(a).cmp(&id_sort_string(b))
}

/// Sorts per the options (`legacy` when empty).
pub fn apply(list: &mut Vec<Resource>, opts: &SortOptions) -> Result<(), Error> {
    match opts.order.as_str() {
        "fifo" => {
            if opts.legacy_sort_options.is_some() {
                return Err(Error::transform(
                    "sortOptions",
                    "the field 'sortOptions.legacySortOptions' is set but the selected sort order is 'fifo', not 'legacy'",
                ));
            }
            Ok(())
        }
        "legacy" => {
            let (first, last): (Vec<String>, Vec<String>) = match &opts.legacy_sort_options {
                Some(l) => (l.order_first.clone(), l.order_last.clone()),
                None => (
                    ORDER_FIRST.iter().map(|s| s.to_string()).collect(),
                    ORDER_LAST.iter().map(|s| s.to_string()).collect(),
                ),
            };
            let mut keyed: Vec<(ResId, Resource)> =
                list.drain(..).map(|r| (r.cur_id(), r)).collect();
            keyed.sort_by(|a, b| legacy_less(&first, &last, &a.0, &b.0));
            list.extend(keyed.into_iter().map(|(_, r)| r));
            Ok(())
        }
        other => Err(Error::transform(
            "sortOptions",
            format!("the field 'sortOptions.order' must be one of [fifo, legacy], got '{other}'"),
        )),
    }
}
