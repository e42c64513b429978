//! `replicas`: set the replica count of named workloads.

use serde_json::Value;

use crate::error::Error;
use crate::fieldspec::{self, CreateKind};
use crate::resid::Gvk;
use crate::resmap;
use crate::resource::Resource;
use crate::types::{FieldSpec, Replica};

/// Sets `replica.count` on every object named `replica.name` (by any id) that a spec selects.
pub fn apply(list: &mut [Resource], replica: &Replica, specs: &[FieldSpec]) -> Result<(), Error> {
    let mut found = false;
    for fs in specs {
        let sel = Gvk::new(&fs.group, &fs.version, &fs.kind);
        let hits = resmap::matching_any_id(list, |id| {
            id.name == replica.name && id.gvk.is_selected(&sel)
        });
        for i in hits {
            found = true;
            let r = &mut list[i];
            let id = r.cur_id();
            fieldspec::apply(fs, &mut r.obj, CreateKind::Scalar, &mut |n| {
                *n = Value::from(replica.count);
                Ok(())
            })
            .map_err(|e| Error::transform(format!("set replicas on {id}"), e))?;
        }
    }
    if !found {
        let gvks: Vec<String> = specs
            .iter()
            .map(|f| Gvk::new(&f.group, &f.version, &f.kind).id_string())
            .collect();
        return Err(Error::transform(
            "replicas",
            format!(
                "resource with name {} does not match a config with the following GVK [{}]",
                replica.name,
                gvks.join(" ")
            ),
        ));
    }
    Ok(())
}
