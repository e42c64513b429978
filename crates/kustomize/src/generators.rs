//! configMapGenerator / secretGenerator: objects from literals, files and env files.

use base64::Engine;
use serde_json::{Map, Value};

use crate::error::Error;
use crate::loader::Loader;
use crate::resource::{Behavior, Resource};
use crate::types::{GeneratorArgs, GeneratorOptions};

/// Merges global options under an entry's own (kustomize: local keys win; flags OR-ed).
pub fn merge_options(
    local: Option<&GeneratorOptions>,
    global: Option<&GeneratorOptions>,
) -> Option<GeneratorOptions> {
    let Some(g) = global else {
        return local.cloned();
    };
    let mut l = local.cloned().unwrap_or_default();
    for (k, v) in &g.labels {
        l.labels.entry(k.clone()).or_insert_with(|| v.clone());
    }
    for (k, v) in &g.annotations {
        l.annotations.entry(k.clone()).or_insert_with(|| v.clone());
    }
    l.disable_name_suffix_hash |= g.disable_name_suffix_hash;
    l.immutable |= g.immutable;
    Some(l)
}

fn strip_quotes(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0] == b[b.len() - 1] && (b[0] == b'"' || b[0] == b'\'') {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// Reads the key/value pairs of a generator: env files, then literals, then files.
fn pairs(ldr: &Loader, a: &GeneratorArgs) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for e in &a.envs {
        let bytes = ldr.load(e).map_err(|e| e.chain())?;
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("env file '{e}' has invalid utf8 bytes"))?;
        for (n, line) in text.lines().enumerate() {
            let line = if n == 0 {
                line.trim_start_matches('\u{feff}')
            } else {
                line
            };
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (k, v) = match line.split_once('=') {
                Some((k, v)) => (k, v),
                None => (line, ""),
            };
            out.push((k.to_string(), v.to_string()));
        }
    }
    for l in &a.literals {
        let Some((k, v)) = l.split_once('=').filter(|(k, _)| !k.is_empty()) else {
            return Err(format!("invalid literal source {l}, expected key=value"));
        };
        out.push((k.to_string(), strip_quotes(v).to_string()));
    }
    for f in &a.files {
        let (k, path) = match f.matches('=').count() {
            0 => (f.rsplit('/').next().unwrap_or(f).to_string(), f.as_str()),
            1 => {
                let (k, p) = f.split_once('=').expect("one =");
                if k.is_empty() {
                    return Err(format!(
                        "missing key name for file path \"{p}\" in source \"{f}\""
                    ));
                }
                if p.is_empty() {
                    return Err(format!(
                        "missing file path for key name \"{k}\" in source \"{f}\""
                    ));
                }
                (k.to_string(), p)
            }
            _ => return Err(format!("source \"{f}\" key name or file path contains '='")),
        };
        if ldr.is_dir(path) {
            return Err(format!("file sources: [{f}]: '{path}' is a directory"));
        }
        let bytes = ldr.load(path).map_err(|e| e.chain())?;
        out.push((k, String::from_utf8_lossy(&bytes).into_owned()).clone());
        if std::str::from_utf8(&bytes).is_err() {
            // Keep the raw bytes for binaryData: mark with a private prefix resolved below.
            let last = out.last_mut().expect("pushed");
            last.1 = format!(
                "\u{0}BIN:{}",
                base64::engine::general_purpose::STANDARD.encode(&bytes)
            );
        }
    }
    Ok(out)
}

/// Base64 with kustomize's 70-column wrapping for long values.
fn b64(bytes: &[u8]) -> String {
    let enc = base64::engine::general_purpose::STANDARD.encode(bytes);
    if enc.len() < 70 {
        return enc;
    }
    let mut out = String::new();
    for chunk in enc.as_bytes().chunks(70) {
        out.push_str(std::str::from_utf8(chunk).expect("ascii"));
        out.push('\n');
    }
    out
}

/// Builds a ConfigMap (`secret == false`) or Secret from generator args.
pub fn generate(
    ldr: &Loader,
    a: &GeneratorArgs,
    global: Option<&GeneratorOptions>,
    secret: bool,
) -> Result<Resource, Error> {
    let what = if secret {
        "secretGenerator"
    } else {
        "configMapGenerator"
    };
    let ctx = |e: String| Error::transform(format!("{what} '{}'", a.name), e);
    if a.name.is_empty() {
        return Err(ctx("a configmap must have a name".into()));
    }
    let opts = merge_options(a.options.as_ref(), global);
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), "v1".into());
    obj.insert(
        "kind".into(),
        if secret { "Secret" } else { "ConfigMap" }.into(),
    );
    let mut meta = Map::new();
    meta.insert("name".into(), a.name.clone().into());
    if !a.namespace.is_empty() {
        meta.insert("namespace".into(), a.namespace.clone().into());
    }
    obj.insert("metadata".into(), Value::Object(meta));
    if secret {
        obj.insert(
            "type".into(),
            if a.type_.is_empty() {
                "Opaque".to_string()
            } else {
                a.type_.clone()
            }
            .into(),
        );
    }
    let kv = pairs(ldr, a).map_err(ctx)?;
    let mut seen = std::collections::BTreeMap::new();
    for (k, v) in kv {
        if seen.insert(k.clone(), v).is_some() {
            return Err(ctx(format!(
                "configmap {} illegally repeats the key `{k}`",
                a.name
            )));
        }
    }
    let mut data = Map::new();
    let mut binary = Map::new();
    for (k, v) in seen {
        let raw: Vec<u8> = match v.strip_prefix("\u{0}BIN:") {
            Some(b) => base64::engine::general_purpose::STANDARD
                .decode(b)
                .unwrap_or_default(),
            None => v.clone().into_bytes(),
        };
        if secret {
            data.insert(k, b64(&raw).into());
        } else if let Ok(s) = String::from_utf8(raw.clone()) {
            data.insert(k, s.into());
        } else {
            binary.insert(k, b64(&raw).into());
        }
    }
    if !data.is_empty() || secret {
        obj.insert("data".into(), Value::Object(data));
    }
    if !binary.is_empty() {
        obj.insert("binaryData".into(), Value::Object(binary));
    }
    let mut r = Resource::new(Value::Object(obj));
    if let Some(o) = &opts {
        let mut labels = r.labels();
        labels.extend(o.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
        r.set_meta_map("labels", labels);
        let mut ann = r.annotations();
        ann.extend(o.annotations.iter().map(|(k, v)| (k.clone(), v.clone())));
        r.set_meta_map("annotations", ann);
        if o.immutable
            && let Some(m) = r.obj.as_object_mut()
        {
            m.insert("immutable".into(), Value::Bool(true));
        }
    }
    r.needs_hash = !opts.as_ref().is_some_and(|o| o.disable_name_suffix_hash);
    r.behavior = Behavior::parse(&a.behavior);
    Ok(r)
}
