//! namePrefix / nameSuffix: rename objects (except CRDs, APIServices and Namespaces).

use serde_json::Value;

use crate::error::Error;
use crate::fieldspec::{self, CreateKind};
use crate::resid::Gvk;
use crate::resource::Resource;
use crate::types::FieldSpec;

fn skipped(id_gvk: &Gvk) -> bool {
    [
        Gvk::new("", "", "CustomResourceDefinition"),
        Gvk::new("apiregistration.k8s.io", "", "APIService"),
        Gvk::new("", "", "Namespace"),
    ]
    .iter()
    .any(|s| id_gvk.is_selected(s))
}

/// Applies a prefix and a suffix (either may be empty) to the spec'd name fields.
pub fn apply(
    list: &mut [Resource],
    prefix: &str,
    suffix: &str,
    specs: &[FieldSpec],
) -> Result<(), Error> {
    for r in list.iter_mut() {
        let org = r.org_id();
        if skipped(&org.gvk) {
            continue;
        }
        for fs in specs {
            if !org
                .gvk
                .is_selected(&Gvk::new(&fs.group, &fs.version, &fs.kind))
            {
                continue;
            }
            if fs.path == "metadata/name" {
                if !prefix.is_empty() {
                    r.prefixes.push(prefix.to_string());
                }
                if !suffix.is_empty() {
                    r.suffixes.push(suffix.to_string());
                }
                if !prefix.is_empty() || !suffix.is_empty() {
                    r.store_previous_id();
                }
            }
            let id = r.cur_id();
            fieldspec::apply(fs, &mut r.obj, CreateKind::Scalar, &mut |node| {
                let cur = crate::resource::scalar_string(node).unwrap_or_default();
                *node = Value::String(format!("{prefix}{cur}{suffix}"));
                Ok(())
            })
            .map_err(|e| Error::transform(format!("add name prefix/suffix to {id}"), e))?;
        }
    }
    Ok(())
}
