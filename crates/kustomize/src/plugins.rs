//! `generators:` / `transformers:` entries: builtin plugin configs (`apiVersion: builtin`);
//! exec, container and Go plugins are refused as Flux does.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Error;
use crate::generators;
use crate::load;
use crate::resource::Resource;
use crate::target::{Accumulator, Target};
use crate::transformers::Transformer;
use crate::transformers::namespace::{NamespaceSpec, SubjectsMode};
use crate::transformers::patch::PatchSpec;
use crate::types::{FieldSpec, GeneratorArgs, Image, Replacement, Replica, Selector, StrMap};

/// Reads plugin configuration objects from inline YAML entries, files or directories.
pub fn load_configs(t: &Target, entries: &[String], field: &str) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    for e in entries {
        if let Ok(objs) = load::objects_from_text(e, field)
            && !objs.is_empty()
        {
            out.extend(objs);
            continue;
        }
        if t.ldr.is_dir(e) {
            let child = t.ldr.child(e)?;
            let sub = Target::load(child)?;
            let ra = sub.accumulate(Accumulator::default())?;
            out.extend(ra.resources.into_iter().map(|r| r.obj));
        } else {
            let bytes = t
                .ldr
                .load(e)
                .map_err(|err| err.context(format!("{field} entry '{e}'")))?;
            let text = String::from_utf8_lossy(&bytes);
            out.extend(load::objects_from_text(&text, e)?);
        }
    }
    Ok(out)
}

fn field<T: DeserializeOwned + Default>(cfg: &Value, key: &str) -> Result<T, Error> {
    match cfg.get(key) {
        None | Some(Value::Null) => Ok(T::default()),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| {
            Error::transform(
                format!("builtin plugin config field '{key}'"),
                e.to_string(),
            )
        }),
    }
}

fn str_field(cfg: &Value, key: &str) -> String {
    cfg.get(key)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn kind_of(cfg: &Value) -> (String, String) {
    (str_field(cfg, "apiVersion"), str_field(cfg, "kind"))
}

fn unsupported(cfg: &Value) -> Error {
    let (av, kind) = kind_of(cfg);
    let name = cfg
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    Error::Unsupported(format!(
        "plugin {kind}.{av}/{name} is not supported: only builtin plugins are allowed (exec, container and Go plugins are disabled)"
    ))
}

/// Configures a builtin transformer from its plugin config object.
pub fn transformer(t: &Target, cfg: Value) -> Result<Transformer, Error> {
    let (av, kind) = kind_of(&cfg);
    if av != "builtin" {
        return Err(unsupported(&cfg));
    }
    let specs = |k: &str| field::<Vec<FieldSpec>>(&cfg, k);
    Ok(match kind.as_str() {
        "PatchTransformer" => {
            let target: Option<Selector> = field(&cfg, "target")?;
            let opts: std::collections::BTreeMap<String, bool> = field(&cfg, "options")?;
            Transformer::Patch(t.patch_spec(
                &str_field(&cfg, "path"),
                &str_field(&cfg, "patch"),
                target,
                &opts,
            )?)
        }
        "PatchStrategicMergeTransformer" => {
            let mut patches = Vec::new();
            for p in field::<Vec<String>>(&cfg, "paths")? {
                let bytes = t.ldr.load(&p)?;
                patches.extend(
                    load::objects_from_text(&String::from_utf8_lossy(&bytes), &p)?
                        .into_iter()
                        .map(Resource::new),
                );
            }
            let inline = str_field(&cfg, "patches");
            if !inline.is_empty() {
                patches.extend(
                    load::objects_from_text(&inline, "patches")?
                        .into_iter()
                        .map(Resource::new),
                );
            }
            Transformer::PatchesById {
                patches,
                source: "PatchStrategicMergeTransformer".into(),
            }
        }
        "PatchJson6902Transformer" => {
            let target: Option<Selector> = field(&cfg, "target")?;
            let path = str_field(&cfg, "path");
            let text = if path.is_empty() {
                str_field(&cfg, "jsonOp")
            } else {
                String::from_utf8_lossy(&t.ldr.load(&path)?).into_owned()
            };
            let ops = crate::transformers::patch::parse_json_ops(text.trim())
                .map_err(|e| Error::transform("PatchJson6902Transformer", e))?;
            Transformer::Patch(PatchSpec {
                sm: None,
                json: Some(ops),
                source: path,
                target,
                legacy_json: false,
            })
        }
        "LabelTransformer" => Transformer::Labels {
            labels: field::<StrMap>(&cfg, "labels")?,
            field_specs: specs("fieldSpecs")?,
        },
        "AnnotationsTransformer" => Transformer::Annotations {
            annotations: field::<StrMap>(&cfg, "annotations")?,
            field_specs: specs("fieldSpecs")?,
        },
        "NamespaceTransformer" => {
            let ns = cfg
                .get("metadata")
                .and_then(|m| m.get("namespace"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let subjects = match str_field(&cfg, "setRoleBindingSubjects").as_str() {
                "" | "defaultOnly" => SubjectsMode::DefaultOnly,
                "allServiceAccounts" => SubjectsMode::AllServiceAccounts,
                "none" => SubjectsMode::None,
                other => {
                    return Err(Error::transform(
                        "NamespaceTransformer",
                        format!(
                            "invalid value \"{other}\" for setRoleBindingSubjects: must be one of \"defaultOnly\", \"none\" or \"allServiceAccounts\""
                        ),
                    ));
                }
            };
            Transformer::Namespace(NamespaceSpec {
                namespace: ns.to_string(),
                field_specs: specs("fieldSpecs")?,
                unset_only: cfg
                    .get("unsetOnly")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                subjects,
            })
        }
        "PrefixSuffixTransformer" | "PrefixTransformer" | "SuffixTransformer" => {
            Transformer::PrefixSuffix {
                prefix: str_field(&cfg, "prefix"),
                suffix: str_field(&cfg, "suffix"),
                field_specs: specs("fieldSpecs")?,
            }
        }
        "ImageTagTransformer" => Transformer::Image {
            image: field::<Image>(&cfg, "imageTag")?,
            field_specs: specs("fieldSpecs")?,
        },
        "ReplicaCountTransformer" => Transformer::Replicas {
            replica: field::<Replica>(&cfg, "replica")?,
            field_specs: specs("fieldSpecs")?,
        },
        "ReplacementTransformer" => {
            Transformer::Replacements(field::<Vec<Replacement>>(&cfg, "replacements")?)
        }
        // kustomize cannot load these two as `transformers:` entries either.
        "SortOrderTransformer" | "HashTransformer" => {
            return Err(Error::Unsupported(format!(
                "unable to load builtin {kind}.builtin.[noGrp]"
            )));
        }
        _ => return Err(unsupported(&cfg)),
    })
}

/// Runs the `generators:` entries (builtin ConfigMap/Secret generators only).
pub fn generators(t: &Target, entries: &[String]) -> Result<Vec<Resource>, Error> {
    let mut out = Vec::new();
    for cfg in load_configs(t, entries, "generators")? {
        let (av, kind) = kind_of(&cfg);
        if av != "builtin" || (kind != "ConfigMapGenerator" && kind != "SecretGenerator") {
            return Err(unsupported(&cfg));
        }
        let mut obj = cfg.clone();
        let meta = obj
            .as_object_mut()
            .and_then(|o| o.remove("metadata"))
            .unwrap_or(Value::Null);
        if let Some(o) = obj.as_object_mut() {
            o.remove("apiVersion");
            o.remove("kind");
        }
        let mut args: GeneratorArgs = serde_json::from_value(obj)
            .map_err(|e| Error::transform(format!("{kind} config"), e.to_string()))?;
        if args.name.is_empty() {
            args.name = meta
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
        }
        if args.namespace.is_empty() {
            args.namespace = meta
                .get("namespace")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
        }
        if !args.env.is_empty() {
            let e = std::mem::take(&mut args.env);
            args.envs.push(e);
        }
        out.push(generators::generate(
            &t.ldr,
            &args,
            None,
            kind == "SecretGenerator",
        )?);
    }
    Ok(out)
}
