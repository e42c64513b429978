//! Labels and annotations: set string entries in every field spec'd mapping.

use serde_json::Value;

use crate::error::Error;
use crate::fieldspec::{self, CreateKind};
use crate::resource::Resource;
use crate::types::{FieldSpec, StrMap};

/// Sets each pair (in key order) at every field spec path, creating maps where allowed.
pub fn apply(
    list: &mut [Resource],
    pairs: &StrMap,
    specs: &[FieldSpec],
    what: &str,
) -> Result<(), Error> {
    if pairs.is_empty() {
        return Ok(());
    }
    for r in list.iter_mut() {
        for fs in specs {
            let res = fieldspec::apply(fs, &mut r.obj, CreateKind::Map, &mut |node| {
                let Some(m) = node.as_object_mut() else {
                    return Err(format!("expected a mapping for {what}"));
                };
                for (k, v) in pairs {
                    m.insert(k.clone(), Value::String(v.clone()));
                }
                Ok(())
            });
            res.map_err(|e| Error::transform(format!("set {what} on {}", r.cur_id()), e))?;
        }
    }
    Ok(())
}
