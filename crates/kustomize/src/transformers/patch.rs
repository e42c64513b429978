//! Patches: strategic merge (by id or by target selector) and JSON 6902, auto-detected.

use serde_json::Value;

use crate::error::Error;
use crate::load;
use crate::resource::Resource;
use crate::types::Selector;

/// A configured `patches` entry.
pub struct PatchSpec {
    /// Parsed strategic-merge patches, if the text is one.
    pub sm: Option<Vec<Resource>>,
    /// Parsed JSON 6902 operations, if the text is one.
    pub json: Option<Value>,
    /// `[path: "..."]` or `[patch: "..."]` for messages.
    pub source: String,
    /// Target selector.
    pub target: Option<Selector>,
    /// From the legacy `patchesJson6902` field (reported as PatchJson6902Transformer).
    pub legacy_json: bool,
}

/// Parses JSON 6902 operations from JSON or YAML text.
pub fn parse_json_ops(text: &str) -> Result<Value, String> {
    if text.is_empty() {
        return Err("empty json patch operations".into());
    }
    let v: Value = if text.starts_with('[') {
        serde_json::from_str(text).map_err(|e| e.to_string())?
    } else {
        crate::yamlio::parse_one(text, "patch").map_err(|e| e.to_string())?
    };
    let ops = v
        .as_array()
        .ok_or("json patch is not a list of operations")?;
    for op in ops {
        let o = op
            .as_object()
            .ok_or("json patch operation is not an object")?;
        let name = o.get("op").and_then(Value::as_str).unwrap_or("");
        if !["add", "remove", "replace", "move", "copy", "test"].contains(&name) {
            return Err(format!("unexpected json patch operation kind '{name}'"));
        }
        if o.get("path").and_then(Value::as_str).is_none() {
            return Err("json patch operation has no path".into());
        }
    }
    Ok(v)
}

impl PatchSpec {
    /// Auto-detects the patch type of `text` (already trimmed).
    pub fn parse(
        text: &str,
        source: String,
        target: Option<Selector>,
        allow_name_change: bool,
        allow_kind_change: bool,
    ) -> Result<Self, Error> {
        let sm = load::objects_from_text(text, &source).ok().map(|objs| {
            objs.into_iter()
                .map(|o| {
                    let mut r = Resource::new(o);
                    r.allow_name_change = allow_name_change;
                    r.allow_kind_change = allow_kind_change;
                    r
                })
                .collect::<Vec<_>>()
        });
        let sm = sm.filter(|v| !v.is_empty());
        let json = parse_json_ops(text).ok();
        match (&sm, &json) {
            (Some(_), Some(_)) => Err(Error::transform(
                "parse patch",
                format!("illegally qualifies as both an SM and JSON patch: {source}"),
            )),
            (None, None) => Err(Error::transform(
                "parse patch",
                format!("unable to parse SM or JSON patch from {source}"),
            )),
            _ => Ok(PatchSpec {
                sm,
                json,
                source,
                target,
                legacy_json: false,
            }),
        }
    }

    /// Applies the patch.
    pub fn apply(&self, list: &mut Vec<Resource>) -> Result<(), Error> {
        if let Some(sm) = &self.sm {
            match &self.target {
                Some(t) => {
                    if sm.len() > 1 {
                        return Err(Error::transform(
                            "apply patch",
                            format!(
                                "Multiple Strategic-Merge Patches in one `patches` entry is not allowed to set `patches.target` field: {}",
                                self.source
                            ),
                        ));
                    }
                    let selected = super::select(list, t)?;
                    apply_sm_to(list, &selected, &sm[0], true)
                }
                None => {
                    for p in sm {
                        apply_sm_by_id(list, p, &self.source)?;
                    }
                    Ok(())
                }
            }
        } else {
            let ops = self.json.as_ref().expect("json patch");
            let t = self.target.as_ref().ok_or_else(|| {
                Error::transform(
                    "apply patch",
                    format!("must specify a target for JSON patch {}", self.source),
                )
            })?;
            for i in super::select(list, t)? {
                let r = &mut list[i];
                r.store_previous_id();
                let out = super::patch_engine::json_patch(&r.obj, ops).map_err(|e| {
                    Error::transform(
                        format!("apply JSON patch {} to {}", self.source, r.cur_id()),
                        e,
                    )
                })?;
                if !out.is_object() {
                    return Err(Error::transform(
                        format!("apply JSON patch {} to {}", self.source, r.cur_id()),
                        "the patch replaces the object with a non-object",
                    ));
                }
                r.obj = out;
            }
            Ok(())
        }
    }
}

/// Applies a strategic-merge patch to the one resource having the patch's id.
pub fn apply_sm_by_id(
    list: &mut Vec<Resource>,
    patch: &Resource,
    source: &str,
) -> Result<(), Error> {
    let id = patch.org_id();
    let hits = crate::resmap::matching_any_id(list, |x| id.equals(x));
    match hits.len() {
        1 => apply_sm_to(list, &hits, patch, false),
        0 => Err(Error::transform(
            format!("apply patch {source}"),
            format!(
                "no resource matches strategic merge patch \"{id}\": no matches for Id {id}; failed to find unique target for patch {id}"
            ),
        )),
        _ => Err(Error::transform(
            format!("apply patch {source}"),
            format!("multiple matches for Id {id}; failed to find unique target for patch {id}"),
        )),
    }
}

/// Applies `patch` to the resources at `idx`, dropping those the patch deletes.
fn apply_sm_to(
    list: &mut Vec<Resource>,
    idx: &[usize],
    patch: &Resource,
    retarget: bool,
) -> Result<(), Error> {
    let mut deleted = Vec::new();
    for &i in idx {
        let r = &mut list[i];
        let mut p = patch.obj.clone();
        if retarget && let Some(o) = p.as_object_mut() {
            // A selected target gets the patch with its own apiVersion (the patch's kind stays).
            o.insert(
                "apiVersion".into(),
                Value::String(r.api_version().to_string()),
            );
        }
        let (name, ns, kind) = (
            r.name().to_string(),
            r.namespace().to_string(),
            r.kind().to_string(),
        );
        if patch.allow_name_change || patch.allow_kind_change {
            r.store_previous_id();
        }
        let out = super::patch_engine::strategic_merge(&r.obj, &p, r.api_version(), r.kind())
            .map_err(|e| {
                Error::transform(format!("apply strategic merge patch to {}", r.cur_id()), e)
            })?;
        if out.as_object().is_none_or(|o| o.is_empty()) {
            deleted.push(i);
            continue;
        }
        r.obj = out;
        if !patch.allow_kind_change {
            r.set_kind(&kind);
        }
        if !patch.allow_name_change {
            r.set_name(&name);
        }
        r.set_namespace(&ns);
    }
    let mut k = 0;
    list.retain(|_| {
        let keep = !deleted.contains(&k);
        k += 1;
        keep
    });
    Ok(())
}
