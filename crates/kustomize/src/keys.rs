//! Go's JSON decoder matches struct field names case-insensitively (`fieldpath` sets
//! `fieldPath`); kustomize decodes kustomization files that way, so we rename such keys to
//! their canonical spelling before strict decoding, only where a struct (not a free map) is.

use serde_json::{Map, Value};

/// The shape of a kustomization value.
enum Shape {
    /// A scalar, free-form map or anything else left as is.
    Leaf,
    /// A list of the inner shape.
    List(&'static Shape),
    /// A struct with known fields.
    Obj(&'static [(&'static str, Shape)]),
}

use Shape::{Leaf, List, Obj};

const STRINGS: Shape = List(&Leaf);
const FIELD_SPEC: Shape = Obj(&[
    ("group", Leaf),
    ("version", Leaf),
    ("kind", Leaf),
    ("path", Leaf),
    ("create", Leaf),
]);
const SELECTOR: Shape = Obj(&[
    ("group", Leaf),
    ("version", Leaf),
    ("kind", Leaf),
    ("name", Leaf),
    ("namespace", Leaf),
    ("labelSelector", Leaf),
    ("annotationSelector", Leaf),
]);
const PATCH: Shape = Obj(&[
    ("path", Leaf),
    ("patch", Leaf),
    ("target", SELECTOR),
    ("options", Leaf),
]);
const IMAGE: Shape = Obj(&[
    ("name", Leaf),
    ("newName", Leaf),
    ("tagSuffix", Leaf),
    ("newTag", Leaf),
    ("digest", Leaf),
]);
const FIELD_OPTIONS: Shape = Obj(&[
    ("delimiter", Leaf),
    ("index", Leaf),
    ("encoding", Leaf),
    ("create", Leaf),
]);
const SOURCE: Shape = Obj(&[
    ("group", Leaf),
    ("version", Leaf),
    ("kind", Leaf),
    ("name", Leaf),
    ("namespace", Leaf),
    ("fieldPath", Leaf),
    ("options", FIELD_OPTIONS),
]);
const TARGET: Shape = Obj(&[
    ("select", SELECTOR),
    ("reject", List(&SELECTOR)),
    ("fieldPaths", STRINGS),
    ("options", FIELD_OPTIONS),
]);
const GEN_OPTIONS: Shape = Obj(&[
    ("labels", Leaf),
    ("annotations", Leaf),
    ("disableNameSuffixHash", Leaf),
    ("immutable", Leaf),
]);
const GENERATOR: Shape = Obj(&[
    ("namespace", Leaf),
    ("name", Leaf),
    ("behavior", Leaf),
    ("literals", STRINGS),
    ("files", STRINGS),
    ("envs", STRINGS),
    ("env", Leaf),
    ("options", GEN_OPTIONS),
    ("type", Leaf),
]);
const KUSTOMIZATION: Shape = Obj(&[
    ("apiVersion", Leaf),
    ("kind", Leaf),
    (
        "metadata",
        Obj(&[
            ("name", Leaf),
            ("namespace", Leaf),
            ("labels", Leaf),
            ("annotations", Leaf),
        ]),
    ),
    ("openapi", Leaf),
    ("namePrefix", Leaf),
    ("nameSuffix", Leaf),
    ("namespace", Leaf),
    ("commonLabels", Leaf),
    (
        "labels",
        List(&Obj(&[
            ("pairs", Leaf),
            ("includeSelectors", Leaf),
            ("includeTemplates", Leaf),
            ("fields", List(&FIELD_SPEC)),
        ])),
    ),
    ("commonAnnotations", Leaf),
    ("patchesStrategicMerge", STRINGS),
    ("patchesJson6902", List(&PATCH)),
    ("patches", List(&PATCH)),
    ("images", List(&IMAGE)),
    ("imageTags", List(&IMAGE)),
    (
        "replacements",
        List(&Obj(&[
            ("path", Leaf),
            ("source", SOURCE),
            ("targets", List(&TARGET)),
        ])),
    ),
    ("replicas", List(&Obj(&[("name", Leaf), ("count", Leaf)]))),
    (
        "vars",
        List(&Obj(&[
            ("name", Leaf),
            (
                "objref",
                Obj(&[
                    ("group", Leaf),
                    ("version", Leaf),
                    ("kind", Leaf),
                    ("apiVersion", Leaf),
                    ("name", Leaf),
                    ("namespace", Leaf),
                ]),
            ),
            ("fieldref", Obj(&[("fieldPath", Leaf)])),
        ])),
    ),
    (
        "sortOptions",
        Obj(&[
            ("order", Leaf),
            (
                "legacySortOptions",
                Obj(&[("orderFirst", STRINGS), ("orderLast", STRINGS)]),
            ),
        ]),
    ),
    ("resources", STRINGS),
    ("components", STRINGS),
    ("crds", STRINGS),
    ("bases", STRINGS),
    ("configMapGenerator", List(&GENERATOR)),
    ("secretGenerator", List(&GENERATOR)),
    ("helmGlobals", Leaf),
    ("helmCharts", Leaf),
    ("helmChartInflationGenerator", Leaf),
    ("generatorOptions", GEN_OPTIONS),
    ("configurations", STRINGS),
    ("generators", STRINGS),
    ("transformers", STRINGS),
    ("validators", STRINGS),
    ("buildMetadata", STRINGS),
]);

fn normalize(v: &mut Value, shape: &Shape) {
    match (shape, v) {
        (List(inner), Value::Array(items)) => items.iter_mut().for_each(|i| normalize(i, inner)),
        (Obj(fields), Value::Object(m)) => {
            let old = std::mem::take(m);
            let mut out = Map::new();
            for (k, mut val) in old {
                let hit = fields
                    .iter()
                    .find(|(n, _)| *n == k)
                    .or_else(|| fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(&k)));
                let key = match hit {
                    Some((n, s)) => {
                        normalize(&mut val, s);
                        n.to_string()
                    }
                    None => k,
                };
                // Go keeps the last of two spellings of one field.
                out.insert(key, val);
            }
            *m = out;
        }
        _ => {}
    }
}

/// Renames case-variant keys of a kustomization value to their canonical names.
pub fn normalize_kustomization(v: &mut Value) {
    normalize(v, &KUSTOMIZATION);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renames_struct_fields_only() {
        let mut v = json!({"Resources": ["a"], "commonLabels": {"Name": "x"},
            "vars": [{"name": "A", "fieldref": {"fieldpath": "spec.a"}}]});
        normalize_kustomization(&mut v);
        assert_eq!(v["resources"][0], "a");
        assert_eq!(v["commonLabels"]["Name"], "x");
        assert_eq!(v["vars"][0]["fieldref"]["fieldPath"], "spec.a");
    }
}
