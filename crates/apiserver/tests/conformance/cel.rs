//! CRD validation rules (`x-kubernetes-validations`, CEL) on Flux's own CRDs, as kubectl shows
//! their failures.

use crate::common::shared;

/// Flux's CRDs (the `api` crate's generated golden file) installed once into the shared server.
fn flux_crds() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../api/tests/golden/crds.yaml");
        let env = shared();
        env.kubectl(&["apply", "--server-side", "-f", path]).ok();
        env.kubectl(&[
            "wait",
            "--for=condition=Established",
            "crd/helmreleases.helm.toolkit.fluxcd.io",
            "crd/buckets.source.toolkit.fluxcd.io",
            "--timeout=30s",
        ])
        .ok();
    });
}

#[test]
fn flux_validation_rules_reject_invalid_objects() {
    flux_crds();
    let env = shared();
    let ns = env.namespace("cel");
    let bad_hr = format!(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: neither\n  namespace: {ns}\nspec:\n  interval: 5m\n"
    );
    let out = env.kubectl_in(&bad_hr, &["create", "-f", "-"]).fails();
    assert_eq!(
        out.stderr.trim(),
        "The HelmRelease \"neither\" is invalid: spec: Invalid value: \"object\": either chart or chartRef must be set"
    );
    let good_hr = format!(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: ok\n  namespace: {ns}\nspec:\n  interval: 5m\n  chartRef:\n    kind: OCIRepository\n    name: podinfo\n"
    );
    env.kubectl_in(&good_hr, &["create", "-f", "-"]).ok();
    // Several rules of one node fail together; server-side apply goes through the same check.
    let bad_bucket = format!(
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: Bucket\nmetadata:\n  name: b\n  namespace: {ns}\nspec:\n  interval: 5m\n  bucketName: x\n  endpoint: minio:9000\n  provider: generic\n  serviceAccountName: sa\n  secretRef:\n    name: s\n"
    );
    let out = env
        .kubectl_in(&bad_bucket, &["apply", "--server-side", "-f", "-"])
        .fails();
    assert!(
        out.stderr
            .contains("ServiceAccountName is not supported for the 'generic' Bucket provider")
            && out
                .stderr
                .contains("cannot set both .spec.secretRef and .spec.serviceAccountName"),
        "{}",
        out.stderr
    );
    // An update that breaks a rule is refused and leaves the object as it was.
    let out = env
        .kubectl(&[
            "-n",
            &ns,
            "patch",
            "helmrelease",
            "ok",
            "--type=merge",
            "-p",
            r#"{"spec":{"chart":{"spec":{"chart":"podinfo","sourceRef":{"kind":"HelmRepository","name":"r"}}}}}"#,
        ])
        .fails();
    assert!(
        out.stderr.contains("either chart or chartRef must be set"),
        "{}",
        out.stderr
    );
}
