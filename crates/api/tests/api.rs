//! API conformance: example manifests round-trip through the Rust types, validate against the
//! generated CRD schemas, invalid objects are rejected, the CRDs are structural and valid
//! `apiextensions.k8s.io/v1` objects, and a golden snapshot shows every API change in review.

use std::path::{Path, PathBuf};

use api::{helm, image, kustomize, notification, source};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use pretty_assertions::assert_eq;
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Value, json};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load_example(file: &str) -> Value {
    let path = manifest_dir().join("tests/examples").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path:?}: {e}"));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("parsing {path:?}: {e}"))
}

/// Deserializes, serializes and deserializes again; the data must survive unchanged, which also
/// proves every field of the example is known to the type (serde would drop unknown ones).
fn round_trip<K>(file: &str)
where
    K: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let input = load_example(file);
    let typed: K = serde_json::from_value(input.clone()).unwrap_or_else(|e| {
        panic!(
            "{file}: deserializing into {}: {e}",
            std::any::type_name::<K>()
        )
    });
    let output = serde_json::to_value(&typed).expect("serializing");
    assert_eq!(
        input, output,
        "{file}: serialized form differs from the input"
    );
    let again: K = serde_json::from_value(output).expect("deserializing the serialized form");
    assert_eq!(typed, again, "{file}: second deserialization differs");
}

const EXAMPLES: [(&str, &str); 14] = [
    ("GitRepository", "gitrepository.yaml"),
    ("OCIRepository", "ocirepository.yaml"),
    ("Bucket", "bucket.yaml"),
    ("HelmRepository", "helmrepository.yaml"),
    ("HelmChart", "helmchart.yaml"),
    ("ExternalArtifact", "externalartifact.yaml"),
    ("Kustomization", "kustomization.yaml"),
    ("HelmRelease", "helmrelease.yaml"),
    ("Receiver", "receiver.yaml"),
    ("Alert", "alert.yaml"),
    ("Provider", "provider.yaml"),
    ("ImageRepository", "imagerepository.yaml"),
    ("ImagePolicy", "imagepolicy.yaml"),
    ("ImageUpdateAutomation", "imageupdateautomation.yaml"),
];

#[test]
fn examples_round_trip_through_the_types() {
    round_trip::<source::GitRepository>("gitrepository.yaml");
    round_trip::<source::OCIRepository>("ocirepository.yaml");
    round_trip::<source::Bucket>("bucket.yaml");
    round_trip::<source::HelmRepository>("helmrepository.yaml");
    round_trip::<source::HelmChart>("helmchart.yaml");
    round_trip::<source::ExternalArtifact>("externalartifact.yaml");
    round_trip::<kustomize::Kustomization>("kustomization.yaml");
    round_trip::<helm::HelmRelease>("helmrelease.yaml");
    round_trip::<notification::Receiver>("receiver.yaml");
    round_trip::<notification::Alert>("alert.yaml");
    round_trip::<notification::Provider>("provider.yaml");
    round_trip::<image::ImageRepository>("imagerepository.yaml");
    round_trip::<image::ImagePolicy>("imagepolicy.yaml");
    round_trip::<image::ImageUpdateAutomation>("imageupdateautomation.yaml");
}

fn crd_for(kind: &str) -> CustomResourceDefinition {
    api::crds::all()
        .into_iter()
        .find(|c| c.spec.names.kind == kind)
        .unwrap_or_else(|| panic!("no CRD for {kind}"))
}

fn schema_of(kind: &str) -> Value {
    let crd = crd_for(kind);
    let version = &crd.spec.versions[0];
    let schema = version
        .schema
        .as_ref()
        .and_then(|s| s.open_api_v3_schema.as_ref())
        .unwrap();
    serde_json::to_value(schema).unwrap()
}

fn validation_errors(kind: &str, object: &Value) -> Vec<String> {
    let schema = schema_of(kind);
    let validator = jsonschema::draft4::new(&schema).expect("the CRD schema compiles");
    validator
        .iter_errors(object)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn examples_validate_against_the_generated_schemas() {
    for (kind, file) in EXAMPLES {
        let errors = validation_errors(kind, &load_example(file));
        assert!(
            errors.is_empty(),
            "{file} does not validate against the {kind} CRD: {errors:#?}"
        );
    }
}

/// Sets `value` at a JSON pointer, creating nothing: the parent must exist.
fn with(mut object: Value, pointer: &str, value: Option<Value>) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = object
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("no {parent}"));
    let map = parent.as_object_mut().unwrap();
    match value {
        Some(v) => map.insert(key.to_string(), v),
        None => map.remove(key),
    };
    object
}

#[test]
fn invalid_objects_are_rejected_by_the_schemas() {
    // (kind, example, pointer, new value or None to delete, words the error must contain)
    let cases: Vec<(&str, &str, &str, Option<Value>, &str)> = vec![
        (
            "GitRepository",
            "gitrepository.yaml",
            "/spec/interval",
            Some(json!("10years")),
            "does not match",
        ),
        (
            "GitRepository",
            "gitrepository.yaml",
            "/spec/interval",
            Some(json!("1d")),
            "does not match",
        ),
        (
            "GitRepository",
            "gitrepository.yaml",
            "/spec/interval",
            Some(json!("5")),
            "does not match",
        ),
        (
            "GitRepository",
            "gitrepository.yaml",
            "/spec/timeout",
            Some(json!("1h")),
            "does not match",
        ),
        (
            "GitRepository",
            "gitrepository.yaml",
            "/spec/url",
            Some(json!("ftp://example.com/repo")),
            "does not match",
        ),
        (
            "GitRepository",
            "gitrepository.yaml",
            "/spec/provider",
            Some(json!("bitbucket")),
            "is not one of",
        ),
        (
            "GitRepository",
            "gitrepository.yaml",
            "/spec/url",
            None,
            "\"url\" is a required property",
        ),
        (
            "GitRepository",
            "gitrepository.yaml",
            "/spec/suspend",
            Some(json!("yes")),
            "is not of type",
        ),
        (
            "Kustomization",
            "kustomization.yaml",
            "/spec/interval",
            Some(json!("10years")),
            "does not match",
        ),
        (
            "Kustomization",
            "kustomization.yaml",
            "/spec/deletionPolicy",
            Some(json!("Sometimes")),
            "is not one of",
        ),
        (
            "Kustomization",
            "kustomization.yaml",
            "/spec/prune",
            None,
            "\"prune\" is a required property",
        ),
        (
            "Kustomization",
            "kustomization.yaml",
            "/spec/namePrefix",
            Some(json!("x".repeat(201))),
            "longer than",
        ),
        (
            "HelmRelease",
            "helmrelease.yaml",
            "/spec/interval",
            Some(json!("forever")),
            "does not match",
        ),
        (
            "HelmRelease",
            "helmrelease.yaml",
            "/spec/install/timeout",
            Some(json!("10years")),
            "does not match",
        ),
        (
            "HelmRelease",
            "helmrelease.yaml",
            "/spec/uninstall/deletionPropagation",
            Some(json!("now")),
            "is not one of",
        ),
        (
            "HelmRelease",
            "helmrelease.yaml",
            "/spec/releaseName",
            Some(json!("r".repeat(54))),
            "longer than",
        ),
        (
            "OCIRepository",
            "ocirepository.yaml",
            "/spec/url",
            Some(json!("https://ghcr.io/x")),
            "does not match",
        ),
        (
            "OCIRepository",
            "ocirepository.yaml",
            "/spec/layerSelector/operation",
            Some(json!("unpack")),
            "is not one of",
        ),
        (
            "Bucket",
            "bucket.yaml",
            "/spec/bucketName",
            None,
            "\"bucketName\" is a required property",
        ),
        (
            "HelmRepository",
            "helmrepository.yaml",
            "/spec/type",
            Some(json!("git")),
            "is not one of",
        ),
        (
            "HelmChart",
            "helmchart.yaml",
            "/spec/sourceRef/kind",
            Some(json!("OCIRepository")),
            "is not one of",
        ),
        (
            "Receiver",
            "receiver.yaml",
            "/spec/type",
            None,
            "\"type\" is a required property",
        ),
        (
            "Alert",
            "alert.yaml",
            "/spec/eventSeverity",
            Some(json!("fatal")),
            "is not one of",
        ),
        (
            "Provider",
            "provider.yaml",
            "/spec/timeout",
            Some(json!("10years")),
            "does not match",
        ),
        (
            "ImageRepository",
            "imagerepository.yaml",
            "/spec/interval",
            Some(json!("1w")),
            "does not match",
        ),
        (
            "ImagePolicy",
            "imagepolicy.yaml",
            "/spec/policy/numerical/order",
            Some(json!("random")),
            "is not one of",
        ),
        (
            "ImageUpdateAutomation",
            "imageupdateautomation.yaml",
            "/spec/update/strategy",
            Some(json!("Regex")),
            "is not one of",
        ),
        (
            "ImageUpdateAutomation",
            "imageupdateautomation.yaml",
            "/spec/sourceRef",
            None,
            "\"sourceRef\" is a required property",
        ),
    ];
    for (kind, file, pointer, value, expected) in cases {
        let object = with(load_example(file), pointer, value.clone());
        let errors = validation_errors(kind, &object);
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "{kind} with {pointer} = {value:?}: expected an error containing {expected:?}, got {errors:#?}"
        );
    }
}

/// Checks the structural-schema rules of apiextensions.k8s.io/v1 that a derive could break:
/// every node has a type (unless it preserves unknown fields or is int-or-string), no
/// `$ref`/`definitions`/`anyOf`/`oneOf`/`allOf`/`not`, never both `properties` and
/// `additionalProperties`, and `metadata` restricts nothing but its type.
fn check_structural(schema: &Value, path: &str, problems: &mut Vec<String>) {
    let obj = schema.as_object().expect("schema nodes are objects");
    for forbidden in [
        "$ref",
        "definitions",
        "$defs",
        "anyOf",
        "oneOf",
        "allOf",
        "not",
        "nullable",
    ] {
        if obj.contains_key(forbidden) {
            problems.push(format!("{path}: has {forbidden}"));
        }
    }
    let preserves = obj.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(true));
    let int_or_string = obj.get("x-kubernetes-int-or-string") == Some(&json!(true));
    match obj.get("type").and_then(Value::as_str) {
        Some("object" | "array" | "string" | "integer" | "number" | "boolean") => {}
        Some(other) => problems.push(format!("{path}: unknown type {other}")),
        None if preserves || int_or_string => {}
        None => problems.push(format!("{path}: no type")),
    }
    if obj.contains_key("properties") && obj.contains_key("additionalProperties") {
        problems.push(format!("{path}: both properties and additionalProperties"));
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (name, child) in props {
            check_structural(child, &format!("{path}.{name}"), problems);
        }
    }
    if let Some(items) = obj.get("items") {
        check_structural(items, &format!("{path}[]"), problems);
    }
    if let Some(additional) = obj.get("additionalProperties").filter(|a| a.is_object()) {
        check_structural(additional, &format!("{path}{{}}"), problems);
    }
}

#[test]
fn crds_are_structural_and_complete() {
    let crds = api::crds::all();
    assert_eq!(crds.len(), 14);
    for crd in &crds {
        let name = crd.metadata.name.clone().unwrap();
        assert_eq!(crd.spec.versions.len(), 1, "{name}: one served version");
        let version = &crd.spec.versions[0];
        assert!(
            version.served && version.storage,
            "{name}: served and stored"
        );
        let schema = serde_json::to_value(
            version
                .schema
                .as_ref()
                .unwrap()
                .open_api_v3_schema
                .as_ref()
                .unwrap(),
        )
        .unwrap();
        let mut problems = Vec::new();
        check_structural(&schema, &name, &mut problems);
        assert!(
            problems.is_empty(),
            "{name} is not structural: {problems:#?}"
        );
        assert_eq!(
            schema.pointer("/properties/metadata"),
            Some(&json!({"type": "object"}))
        );
        assert!(
            crd.spec
                .names
                .categories
                .as_ref()
                .unwrap()
                .iter()
                .any(|c| c == "flux")
        );
        assert_eq!(
            crd.spec.names.list_kind.as_deref(),
            Some(format!("{}List", crd.spec.names.kind).as_str())
        );
        assert_eq!(crd.spec.scope, "Namespaced");
    }
}

/// (kind, plural, short names, group category, served version, status subresource, columns)
type CrdFacts = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static str,
    bool,
    &'static [&'static str],
);

#[test]
fn crd_names_columns_and_subresources_match_flux() {
    let expected: [CrdFacts; 14] = [
        (
            "GitRepository",
            "gitrepositories",
            &["gitrepo"],
            "fluxcd-sources",
            "v1",
            true,
            &["URL", "Age", "Ready", "Status"],
        ),
        (
            "OCIRepository",
            "ocirepositories",
            &["ocirepo"],
            "fluxcd-sources",
            "v1",
            true,
            &["URL", "Ready", "Status", "Age"],
        ),
        (
            "Bucket",
            "buckets",
            &[],
            "fluxcd-sources",
            "v1",
            true,
            &["Endpoint", "Age", "Ready", "Status"],
        ),
        (
            "HelmRepository",
            "helmrepositories",
            &["helmrepo"],
            "fluxcd-sources",
            "v1",
            true,
            &["URL", "Age", "Ready", "Status"],
        ),
        (
            "HelmChart",
            "helmcharts",
            &["hc"],
            "fluxcd-sources",
            "v1",
            true,
            &[
                "Chart",
                "Version",
                "Source Kind",
                "Source Name",
                "Age",
                "Ready",
                "Status",
            ],
        ),
        (
            "ExternalArtifact",
            "externalartifacts",
            &["ea"],
            "fluxcd-sources",
            "v1",
            true,
            &["Age", "Ready", "Status", "Source"],
        ),
        (
            "Kustomization",
            "kustomizations",
            &["ks"],
            "fluxcd-appliers",
            "v1",
            true,
            &["Age", "Ready", "Status"],
        ),
        (
            "HelmRelease",
            "helmreleases",
            &["hr"],
            "fluxcd-appliers",
            "v2",
            true,
            &["Age", "Ready", "Status"],
        ),
        (
            "Receiver",
            "receivers",
            &[],
            "fluxcd-notifications",
            "v1",
            true,
            &["Age", "Ready", "Status"],
        ),
        (
            "Alert",
            "alerts",
            &[],
            "fluxcd-notifications",
            "v1beta3",
            false,
            &["Age"],
        ),
        (
            "Provider",
            "providers",
            &[],
            "fluxcd-notifications",
            "v1beta3",
            false,
            &["Age"],
        ),
        (
            "ImageRepository",
            "imagerepositories",
            &["imgrepo", "imagerepo"],
            "fluxcd-images",
            "v1",
            true,
            &["Image", "Tags", "Ready", "Status", "Last scan", "Age"],
        ),
        (
            "ImagePolicy",
            "imagepolicies",
            &["imgpol", "imagepol"],
            "fluxcd-images",
            "v1",
            true,
            &["Image", "Tag", "Ready", "Status", "Age"],
        ),
        (
            "ImageUpdateAutomation",
            "imageupdateautomations",
            &["iua", "imgupd", "imgauto"],
            "fluxcd-images",
            "v1",
            true,
            &["Ready", "Status", "Last run", "Age"],
        ),
    ];
    for (kind, plural, short, category, version, status, columns) in expected {
        let crd = crd_for(kind);
        assert_eq!(crd.spec.names.plural, plural);
        assert_eq!(
            crd.spec.names.short_names.clone().unwrap_or_default(),
            short,
            "{kind} short names"
        );
        let categories = crd.spec.names.categories.clone().unwrap();
        assert!(
            categories.iter().any(|c| c == category) && categories.iter().any(|c| c == "all"),
            "{kind}: {categories:?}"
        );
        let v = &crd.spec.versions[0];
        assert_eq!(v.name, version, "{kind} served version");
        let has_status = v
            .subresources
            .as_ref()
            .and_then(|s| s.status.as_ref())
            .is_some();
        assert_eq!(has_status, status, "{kind} status subresource");
        let names: Vec<&str> = v
            .additional_printer_columns
            .iter()
            .flatten()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, columns, "{kind} printer columns");
    }
}

fn crds_yaml() -> String {
    let mut out = String::new();
    for crd in api::crds::all() {
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(&serde_json::to_value(&crd).unwrap()).unwrap());
    }
    out
}

#[test]
fn crds_match_the_golden_snapshot() {
    let golden = manifest_dir().join("tests/golden/crds.yaml");
    let actual = crds_yaml();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&golden)
        .expect("tests/golden/crds.yaml is missing; run with UPDATE_GOLDEN=1 to create it");
    assert!(
        expected == actual,
        "the generated CRDs changed; review the diff and run `UPDATE_GOLDEN=1 cargo test -p api` to accept it"
    );
}

/// An independent validator: the PyPI package `kubernetes-validate` checks every CRD against the
/// Kubernetes 1.33 OpenAPI schema of `apiextensions.k8s.io/v1`, rejecting unknown fields.
#[test]
fn crds_are_valid_apiextensions_v1_objects() {
    let dir = tempfile_dir();
    let file = dir.join("crds.yaml");
    std::fs::write(&file, crds_yaml()).unwrap();
    let output = std::process::Command::new("kubernetes-validate")
        .args(["-k", "1.33.0", "--strict"])
        .arg(&file)
        .output()
        .expect("running kubernetes-validate (installed by scripts/install-deps.sh)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "kubernetes-validate failed:\n{stdout}\n{stderr}"
    );
    assert_eq!(
        stdout
            .matches("passed for resource customresourcedefinition/")
            .count(),
        14,
        "{stdout}{stderr}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("api-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn examples_cover_every_kind() {
    let kinds: Vec<&str> = EXAMPLES.iter().map(|(k, _)| *k).collect();
    for crd in api::crds::all() {
        assert!(
            kinds.contains(&crd.spec.names.kind.as_str()),
            "no example for {}",
            crd.spec.names.kind
        );
    }
    for (_, file) in EXAMPLES {
        assert!(Path::new(&manifest_dir().join("tests/examples").join(file)).exists());
    }
}
