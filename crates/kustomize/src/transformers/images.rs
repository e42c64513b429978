//! `images`: rewrite container image names, tags and digests.

use regex::Regex;
use serde_json::Value;

use crate::error::Error;
use crate::fieldspec::{self, CreateKind};
use crate::resource::Resource;
use crate::types::{FieldSpec, Image};

/// Splits `name[:tag][@digest]`, where a registry port before the first `/` is not a tag.
pub fn split(image: &str) -> (String, String, String) {
    let slash = image.find('/').filter(|&i| i > 0).unwrap_or(0);
    let search = &image[slash..];
    let id = search.find('@');
    let ic = search.find(':');
    match (ic, id) {
        (None, None) => (image.to_string(), String::new(), String::new()),
        (ic, Some(d)) if ic.is_none_or(|c| d < c) => {
            let d = d + slash;
            (
                image[..d].to_string(),
                String::new(),
                image[d + 1..].to_string(),
            )
        }
        (Some(c), Some(d)) => {
            let (c, d) = (c + slash, d + slash);
            (
                image[..c].to_string(),
                image[c + 1..d].to_string(),
                image[d + 1..].to_string(),
            )
        }
        (Some(c), None) => {
            let c = c + slash;
            (
                image[..c].to_string(),
                image[c + 1..].to_string(),
                String::new(),
            )
        }
        (None, Some(_)) => unreachable!(),
    }
}

struct Updater<'a> {
    image: &'a Image,
    matcher: Option<Regex>,
}

impl Updater<'_> {
    fn update(&self, node: &mut Value) -> Result<(), String> {
        let Value::String(value) = &*node else {
            if node.is_object() || node.is_array() {
                return Err(format!(
                    "wrong node kind: expected a scalar image, got {node}"
                ));
            }
            return Ok(());
        };
        if !self.matcher.as_ref().is_some_and(|m| m.is_match(value)) {
            return Ok(());
        }
        let (mut name, mut tag, mut digest) = split(value);
        let i = self.image;
        if !i.new_name.is_empty() {
            name = i.new_name.clone();
        }
        if !i.new_tag.is_empty() && !i.digest.is_empty() {
            tag = i.new_tag.clone();
            digest = i.digest.clone();
        } else if !i.new_tag.is_empty() {
            tag = i.new_tag.clone();
            digest.clear();
        } else if !i.digest.is_empty() {
            tag.clear();
            digest = i.digest.clone();
        } else if !i.tag_suffix.is_empty() {
            tag.push_str(&i.tag_suffix);
            digest.clear();
        }
        if !tag.is_empty() {
            name = format!("{name}:{tag}");
        }
        if !digest.is_empty() {
            name = format!("{name}@{digest}");
        }
        *node = Value::String(name);
        Ok(())
    }
}

/// Walks every `containers`/`initContainers` list anywhere in the object (kustomize's legacy
/// image filter).
fn walk_legacy(v: &mut Value, u: &Updater) -> Result<(), String> {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                walk_legacy(child, u)?;
                if (k == "containers" || k == "initContainers")
                    && let Value::Array(items) = child
                {
                    for it in items.iter_mut() {
                        if let Some(img) = it.get_mut("image") {
                            u.update(img)?;
                        }
                    }
                }
            }
            Ok(())
        }
        Value::Array(a) => a.iter_mut().try_for_each(|x| walk_legacy(x, u)),
        _ => Ok(()),
    }
}

/// Applies an image override to all objects except CRDs.
pub fn apply(list: &mut [Resource], image: &Image, specs: &[FieldSpec]) -> Result<(), Error> {
    // The name is used as a regex, unescaped, as kustomize does.
    let matcher = Regex::new(&format!(
        "^{}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$",
        image.name
    ))
    .ok();
    let u = Updater { image, matcher };
    for r in list.iter_mut() {
        if r.kind() == "CustomResourceDefinition" {
            continue;
        }
        let id = r.cur_id();
        let ctx = |e: String| Error::transform(format!("update images of {id}"), e);
        walk_legacy(&mut r.obj, &u).map_err(ctx)?;
        for fs in specs {
            fieldspec::apply(fs, &mut r.obj, CreateKind::None, &mut |n| u.update(n))
                .map_err(ctx)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_kustomize() {
        assert_eq!(split("nginx"), ("nginx".into(), "".into(), "".into()));
        assert_eq!(
            split("reg:5000/nginx:1.2"),
            ("reg:5000/nginx".into(), "1.2".into(), "".into())
        );
        assert_eq!(
            split("a/b@sha256:x"),
            ("a/b".into(), "".into(), "sha256:x".into())
        );
        assert_eq!(
            split("a/b:t@sha256:x"),
            ("a/b".into(), "t".into(), "sha256:x".into())
        );
    }
}
