//! One kustomization directory: load its file, accumulate resources, run generators,
//! components and transformers (kustomize's KustTarget).

use serde_json::Value;

use crate::config::TransformerConfig;
use crate::error::Error;
use crate::loader::Loader;
use crate::resource::Resource;
use crate::transformers::namespace::{NamespaceSpec, SubjectsMode};
use crate::transformers::patch::PatchSpec;
use crate::transformers::{Transformer, vars};
use crate::types::{COMPONENT_KIND, FieldSpec, Kustomization, Replacement, Selector, Var};
use crate::{generators, load, plugins, resmap, yamlio};

/// File names kustomize recognises, in its order.
pub const KUSTOMIZATION_FILES: &[&str] =
    &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Resources, transformer configuration and vars gathered so far.
#[derive(Default)]
pub struct Accumulator {
    /// Resources in order.
    pub resources: Vec<Resource>,
    /// Field specs (defaults plus custom configurations).
    pub config: TransformerConfig,
    /// Declared vars.
    pub vars: Vec<Var>,
}

impl Accumulator {
    /// Folds another accumulator into this one.
    pub fn merge(&mut self, other: Accumulator) -> Result<(), Error> {
        resmap::append_all(&mut self.resources, other.resources)?;
        self.config
            .merge(&other.config)
            .map_err(|e| Error::transform("merge transformer configs", e))?;
        for v in other.vars {
            if self.vars.iter().any(|x| x.name == v.name) {
                return Err(Error::transform(
                    "merging vars",
                    format!("var '{}' already encountered", v.name),
                ));
            }
            self.vars.push(v);
        }
        Ok(())
    }
}

/// A loaded kustomization.
pub struct Target {
    /// Its loader.
    pub ldr: Loader,
    /// Its content.
    pub k: Kustomization,
    /// Which file it was read from.
    pub file: String,
    /// With `buildMetadata: [originAnnotations]`: this directory relative to the top one.
    pub origin: Option<String>,
}

/// Annotation recording where an object came from.
pub const ORIGIN_ANNOTATION: &str = "config.kubernetes.io/origin";

/// `filepath.Join` + `Clean` on slash paths, as kustomize joins origin paths.
pub fn join_clean(a: &str, b: &str) -> String {
    let joined = if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}/{b}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for seg in joined.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

fn set_annotation(r: &mut Resource, key: &str, value: &str, overwrite: bool) {
    let mut ann = r.annotations();
    if let Some(slot) = ann.iter_mut().find(|(k, _)| k == key) {
        if overwrite {
            slot.1 = value.to_string();
        }
    } else {
        ann.push((key.to_string(), value.to_string()));
    }
    r.set_meta_map("annotations", ann);
}

impl Target {
    /// Loads the kustomization file of the loader's directory.
    pub fn load(ldr: Loader) -> Result<Target, Error> {
        let mut found = Vec::new();
        for f in KUSTOMIZATION_FILES {
            if let Ok(bytes) = ldr.load(f) {
                found.push((f.to_string(), bytes));
            }
        }
        let dir = ldr.root().display().to_string();
        let (file, bytes) = match found.len() {
            0 => return Err(Error::MissingKustomization(dir)),
            1 => found.remove(0),
            _ => return Err(Error::MultipleKustomizations(dir)),
        };
        let path = ldr.root().join(&file).display().to_string();
        let text = String::from_utf8(bytes).map_err(|_| Error::InvalidKustomization {
            path: path.clone(),
            msg: "not valid UTF-8".into(),
        })?;
        let mut v = yamlio::parse_one(&text, &path)?;
        crate::yaml11::apply_bools(&text, &mut v);
        let k = Kustomization::from_value(v).map_err(|msg| Error::InvalidKustomization {
            path: path.clone(),
            msg,
        })?;
        if !k.helm_charts.is_empty()
            || !k.helm_chart_inflation_generator.is_empty()
            || k.helm_globals.is_some()
        {
            return Err(Error::Unsupported(format!(
                "{path}: helmCharts are not supported: kustomize's Helm inflation needs the helm binary, which Flux does not allow; use a HelmRelease instead"
            )));
        }
        Ok(Target {
            ldr,
            k,
            file,
            origin: None,
        })
    }

    /// Builds the whole tree rooted here into an accumulator (kustomize's AccumulateTarget).
    pub fn accumulate(&self, ra: Accumulator) -> Result<Accumulator, Error> {
        let mut ra = self.accumulate_resources(ra, &self.k.resources)?;
        let mut cfg = TransformerConfig::defaults();
        for c in &self.k.configurations {
            let text = self.load_text(c)?;
            let v = yamlio::parse_one(&text, c)?;
            let custom: TransformerConfig = serde_json::from_value(v).map_err(|e| {
                Error::transform(format!("load configurations file '{c}'"), e.to_string())
            })?;
            cfg.merge(&custom)
                .map_err(|e| Error::transform(format!("merge configurations file '{c}'"), e))?;
        }
        for c in &self.k.crds {
            let text = self.load_text(c)?;
            let extra = crate::crds::config_from_crds(&text, c)?;
            cfg.merge(&extra)
                .map_err(|e| Error::transform(format!("merge CRD config from '{c}'"), e))?;
        }
        ra.config
            .merge(&cfg)
            .map_err(|e| Error::transform("merge transformer config", e))?;
        self.run_generators(&mut ra)?;
        for c in &self.k.components {
            let child = self
                .ldr
                .child(c)
                .map_err(|e| e.context(format!("accumulating components: '{c}'")))?;
            let mut sub = Target::load(child)
                .map_err(|e| e.context(format!("accumulating components: '{c}'")))?;
            sub.origin = self.origin.as_ref().map(|o| join_clean(o, c));
            if sub.k.kind != COMPONENT_KIND {
                return Err(Error::transform(
                    "accumulating components",
                    format!(
                        "expected kind 'Component' for path '{}' but got '{}'",
                        sub.ldr.root().display(),
                        sub.k.kind
                    ),
                ));
            }
            let sub_ra = sub
                .accumulate(ra)
                .map_err(|e| e.context(format!("accumulating component '{c}'")))?;
            ra = Accumulator::default();
            ra.merge(sub_ra)?;
        }
        let tc = ra.config.clone();
        let configured_in = self.origin.as_ref().map(|o| join_clean(o, &self.file));
        for t in self.builtin_transformers(&tc)? {
            t.apply(&mut ra.resources)?;
            if let Some(ci) = &configured_in {
                // With build metadata, every builtin transformer of this kustomization is
                // recorded on every object it ran over.
                for r in ra.resources.iter_mut() {
                    r.transformations
                        .push((ci.clone(), t.plugin_kind().to_string()));
                }
            }
        }
        for t in self.plugin_list(&self.k.transformers, "transformers")? {
            t.apply(&mut ra.resources)?;
        }
        if !self.k.validators.is_empty() {
            return Err(Error::Unsupported(format!(
                "{}: validators are not supported: exec and container plugins are disabled",
                self.ldr.root().display()
            )));
        }
        vars::bind(&mut ra.resources, &self.k.vars, &mut ra.vars)?;
        Ok(ra)
    }

    fn load_text(&self, rel: &str) -> Result<String, Error> {
        let bytes = self.ldr.load(rel)?;
        String::from_utf8(bytes).map_err(|_| Error::Yaml {
            path: rel.into(),
            msg: "not valid UTF-8".into(),
        })
    }

    fn accumulate_resources(
        &self,
        mut ra: Accumulator,
        paths: &[String],
    ) -> Result<Accumulator, Error> {
        for p in paths {
            if crate::loader::is_remote(p) {
                return Err(Error::Remote(p.clone()).context("accumulating resources"));
            }
            if self.ldr.is_dir(p) {
                let child = self
                    .ldr
                    .child(p)
                    .map_err(|e| e.context(format!("accumulating resources from '{p}'")))?;
                let mut sub = Target::load(child)
                    .map_err(|e| e.context(format!("accumulating resources from '{p}'")))?;
                sub.origin = self.origin.as_ref().map(|o| join_clean(o, p));
                if sub.k.kind == COMPONENT_KIND {
                    return Err(Error::transform(
                        "accumulating resources",
                        format!(
                            "expected kind != 'Component' for path '{}'",
                            sub.ldr.root().display()
                        ),
                    ));
                }
                let sub_ra = sub.accumulate(Accumulator::default()).map_err(|e| {
                    e.context(format!(
                        "recursed accumulation of path '{}'",
                        sub.ldr.root().display()
                    ))
                })?;
                ra.merge(sub_ra)
                    .map_err(|e| e.context(format!("recursed merging from path '{p}'")))?;
            } else {
                let text = self
                    .load_text(p)
                    .map_err(|e| e.context(format!("accumulating resources from '{p}'")))?;
                let mut res = load::resources_from_text(&text, p)?;
                if let Some(o) = &self.origin {
                    let v = format!("path: {}\n", join_clean(o, p));
                    for r in res.iter_mut() {
                        set_annotation(r, ORIGIN_ANNOTATION, &v, true);
                    }
                }
                resmap::append_all(&mut ra.resources, res)
                    .map_err(|e| e.context(format!("merging resources from '{p}'")))?;
            }
        }
        Ok(ra)
    }

    fn run_generators(&self, ra: &mut Accumulator) -> Result<(), Error> {
        let global = self.k.generator_options.as_ref();
        let mut generated = Vec::new();
        let configured_in = self.origin.as_ref().map(|o| join_clean(o, &self.file));
        let stamp = |mut r: Resource, kind: &str| {
            if let Some(ci) = &configured_in {
                let v = format!(
                    "configuredIn: {ci}\nconfiguredBy:\n  apiVersion: builtin\n  kind: {kind}\n"
                );
                set_annotation(&mut r, ORIGIN_ANNOTATION, &v, false);
            }
            r
        };
        for g in &self.k.config_map_generator {
            generated.push(stamp(
                generators::generate(&self.ldr, g, global, false)?,
                "ConfigMapGenerator",
            ));
        }
        for g in &self.k.secret_generator {
            generated.push(stamp(
                generators::generate(&self.ldr, g, global, true)?,
                "SecretGenerator",
            ));
        }
        for g in plugins::generators(self, &self.k.generators)? {
            generated.push(g);
        }
        for r in generated {
            resmap::append_replace_or_merge(&mut ra.resources, r)?;
        }
        Ok(())
    }

    /// Parses the `transformers:` (or similar) entries into configured transformers.
    pub fn plugin_list(&self, entries: &[String], field: &str) -> Result<Vec<Transformer>, Error> {
        let configs = plugins::load_configs(self, entries, field)?;
        configs
            .into_iter()
            .map(|c| plugins::transformer(self, c))
            .collect()
    }

    /// Builds a patch transformer from a kustomization `patches` entry.
    pub fn patch_spec(
        &self,
        path: &str,
        patch: &str,
        target: Option<Selector>,
        opts: &std::collections::BTreeMap<String, bool>,
    ) -> Result<PatchSpec, Error> {
        let patch = patch.trim();
        let (text, source) = match (patch.is_empty(), path.is_empty()) {
            (true, true) => {
                return Err(Error::transform(
                    "patches",
                    "must specify one of patch and path",
                ));
            }
            (false, false) => {
                return Err(Error::transform(
                    "patches",
                    "patch and path can't be set at the same time",
                ));
            }
            (false, true) => (patch.to_string(), format!("[patch: {patch:?}]")),
            (true, false) => {
                let t = self.load_text(path).map_err(|e| {
                    e.context(format!("failed to get the patch file from path({path})"))
                })?;
                (t, format!("[path: {path:?}]"))
            }
        };
        PatchSpec::parse(
            &text,
            source,
            target,
            opts.get("allowNameChange").copied().unwrap_or(false),
            opts.get("allowKindChange").copied().unwrap_or(false),
        )
    }

    fn builtin_transformers(&self, tc: &TransformerConfig) -> Result<Vec<Transformer>, Error> {
        let k = &self.k;
        let mut out = Vec::new();
        if !k.patches_strategic_merge.is_empty() {
            let mut patches = Vec::new();
            for p in &k.patches_strategic_merge {
                let text = if self.ldr.load(p).is_ok() {
                    self.load_text(p)?
                } else {
                    p.clone()
                };
                let objs = load::objects_from_text(&text, p)
                    .map_err(|e| e.context(format!("patchesStrategicMerge entry '{p}'")))?;
                patches.extend(objs.into_iter().map(Resource::new));
            }
            out.push(Transformer::PatchesById {
                patches,
                source: "patchesStrategicMerge".into(),
            });
        }
        for p in &k.patches {
            out.push(Transformer::Patch(self.patch_spec(
                &p.path,
                &p.patch,
                p.target.clone(),
                &p.options,
            )?));
        }
        if !k.namespace.is_empty() {
            out.push(Transformer::Namespace(NamespaceSpec {
                namespace: k.namespace.clone(),
                field_specs: tc.namespace.clone(),
                unset_only: false,
                subjects: SubjectsMode::DefaultOnly,
            }));
        }
        if !k.name_prefix.is_empty() {
            out.push(Transformer::PrefixSuffix {
                prefix: k.name_prefix.clone(),
                suffix: String::new(),
                field_specs: tc.name_prefix.clone(),
            });
        }
        if !k.name_suffix.is_empty() {
            out.push(Transformer::PrefixSuffix {
                prefix: String::new(),
                suffix: k.name_suffix.clone(),
                field_specs: tc.name_suffix.clone(),
            });
        }
        for l in &k.labels {
            let mut fss = l.fields.clone();
            let merge = |fss: &mut Vec<FieldSpec>, more: &[FieldSpec]| {
                crate::config::merge_specs(fss, more)
                    .map_err(|e| Error::transform("failed to merge labels", e))
            };
            merge(&mut fss, &tc.labels)?;
            if l.include_selectors {
                merge(&mut fss, &tc.common_labels)?;
            } else {
                if l.include_templates {
                    merge(&mut fss, &tc.template_labels)?;
                }
                merge(
                    &mut fss,
                    &[FieldSpec {
                        path: "metadata/labels".into(),
                        create: true,
                        ..Default::default()
                    }],
                )?;
            }
            out.push(Transformer::Labels {
                labels: l.pairs.clone(),
                field_specs: fss,
            });
        }
        // kustomize configures the commonLabels transformer whenever any labels are set (it
        // matters only for transformer annotations).
        if !k.common_labels.is_empty() || !k.labels.is_empty() {
            out.push(Transformer::Labels {
                labels: k.common_labels.clone(),
                field_specs: tc.common_labels.clone(),
            });
        }
        if !k.common_annotations.is_empty() {
            out.push(Transformer::Annotations {
                annotations: k.common_annotations.clone(),
                field_specs: tc.common_annotations.clone(),
            });
        }
        for p in &k.patches_json6902 {
            let target = p.target.clone().ok_or_else(|| {
                Error::transform("patchesJson6902", "must specify the target field")
            })?;
            let text = if !p.path.is_empty() {
                self.load_text(&p.path)?
            } else {
                p.patch.clone()
            };
            let ops = crate::transformers::patch::parse_json_ops(text.trim())
                .map_err(|e| Error::transform(format!("patchesJson6902 '{}'", p.path), e))?;
            out.push(Transformer::Patch(PatchSpec {
                sm: None,
                json: Some(ops),
                source: p.path.clone(),
                target: Some(target),
                legacy_json: true,
            }));
        }
        for r in &k.replicas {
            out.push(Transformer::Replicas {
                replica: r.clone(),
                field_specs: tc.replicas.clone(),
            });
        }
        for i in &k.images {
            out.push(Transformer::Image {
                image: i.clone(),
                field_specs: tc.images.clone(),
            });
        }
        if !k.replacements.is_empty() {
            let mut reps = Vec::new();
            for r in &k.replacements {
                if !r.path.is_empty() {
                    if r.source.is_some() || !r.targets.is_empty() {
                        return Err(Error::transform(
                            "replacements",
                            "cannot specify both path and inline replacement",
                        ));
                    }
                    let text = self.load_text(&r.path)?;
                    for doc in yamlio::parse_all(&text, &r.path)? {
                        let list = match doc {
                            Value::Array(a) => a,
                            Value::Null => continue,
                            other => vec![other],
                        };
                        for item in list {
                            let rep: Replacement = serde_json::from_value(item).map_err(|e| {
                                Error::transform(
                                    format!("replacements file '{}'", r.path),
                                    e.to_string(),
                                )
                            })?;
                            reps.push(rep);
                        }
                    }
                } else {
                    reps.push(Replacement {
                        source: r.source.clone(),
                        targets: r.targets.clone(),
                    });
                }
            }
            out.push(Transformer::Replacements(reps));
        }
        Ok(out)
    }
}
