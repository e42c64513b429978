//! End-to-end tests of the `flux` binary, as a user runs it.

use std::process::Command;

#[path = "cli/local_up.rs"]
mod local_up;

fn flux(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_flux"))
        .args(args)
        .output()
        .expect("running flux")
}

#[test]
fn install_export_prints_the_crds_and_the_controller_manifests() {
    let out = flux(&[
        "install",
        "--export",
        "--registry",
        "example.com/fx",
        "--version",
        "v9.9.9",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let docs: Vec<serde_json::Value> = text
        .split("\n---\n")
        .map(|d| serde_saphyr::from_str::<serde_json::Value>(d).expect("each document is YAML"))
        .filter(|d| !d.is_null())
        .collect();
    let of_kind =
        |k: &str| -> Vec<&serde_json::Value> { docs.iter().filter(|d| d["kind"] == k).collect() };
    let mut names: Vec<&str> = of_kind("CustomResourceDefinition")
        .iter()
        .map(|d| d["metadata"]["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "alerts.notification.toolkit.fluxcd.io",
            "buckets.source.toolkit.fluxcd.io",
            "externalartifacts.source.toolkit.fluxcd.io",
            "gitrepositories.source.toolkit.fluxcd.io",
            "helmcharts.source.toolkit.fluxcd.io",
            "helmreleases.helm.toolkit.fluxcd.io",
            "helmrepositories.source.toolkit.fluxcd.io",
            "imagepolicies.image.toolkit.fluxcd.io",
            "imagerepositories.image.toolkit.fluxcd.io",
            "imageupdateautomations.image.toolkit.fluxcd.io",
            "kustomizations.kustomize.toolkit.fluxcd.io",
            "ocirepositories.source.toolkit.fluxcd.io",
            "providers.notification.toolkit.fluxcd.io",
            "receivers.notification.toolkit.fluxcd.io",
        ]
    );
    for doc in of_kind("CustomResourceDefinition") {
        assert_eq!(doc["apiVersion"], "apiextensions.k8s.io/v1");
        assert_eq!(
            doc["metadata"]["labels"]["app.kubernetes.io/part-of"],
            "flux"
        );
    }
    assert_eq!(of_kind("Namespace")[0]["metadata"]["name"], "flux-system");
    // One Deployment + ServiceAccount per implemented controller, running `flux controllers`.
    let deploys = of_kind("Deployment");
    let source = deploys
        .iter()
        .find(|d| d["metadata"]["name"] == "source-controller")
        .expect("source-controller Deployment");
    let c = &source["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "example.com/fx/flux:v9.9.9");
    let cmd: Vec<&str> = c["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(cmd[..3], ["flux", "controllers", "--enable=source"]);
    assert!(cmd.contains(&"--storage-path=/data"), "{cmd:?}");
    assert_eq!(
        source["spec"]["template"]["spec"]["serviceAccountName"],
        "source-controller"
    );
    for d in &deploys {
        let name = d["metadata"]["name"].as_str().unwrap();
        assert!(
            of_kind("ServiceAccount")
                .iter()
                .any(|sa| sa["metadata"]["name"] == name),
            "service account for {name}"
        );
    }
    let svc = of_kind("Service");
    assert!(
        svc.iter()
            .any(|s| s["metadata"]["name"] == "source-controller"
                && s["spec"]["ports"][0]["targetPort"] == "http"),
        "artifact Service"
    );
    let bindings = of_kind("ClusterRoleBinding");
    let crd_binding = bindings
        .iter()
        .find(|b| b["metadata"]["name"] == "crd-controller-flux-system")
        .expect("crd-controller binding");
    assert_eq!(
        crd_binding["subjects"].as_array().unwrap().len(),
        deploys.len()
    );
    // Every document passes an independent validator (Kubernetes 1.33 schemas, strict).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("install.yaml");
    std::fs::write(&file, &text).unwrap();
    let v = Command::new("kubernetes-validate")
        .args(["-k", "1.33.0", "--strict"])
        .arg(&file)
        .output()
        .expect("running kubernetes-validate (installed by scripts/install-deps.sh)");
    let vout = String::from_utf8_lossy(&v.stdout);
    assert!(
        v.status.success(),
        "{vout}{}",
        String::from_utf8_lossy(&v.stderr)
    );
    assert_eq!(
        vout.matches(" passed for resource ").count(),
        docs.len(),
        "{vout}"
    );
    // Components this build does not implement are refused with one line.
    let out = flux(&[
        "install",
        "--export",
        "--components",
        "image-automation-controller",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not implemented"), "{err}");
}

#[test]
fn install_without_export_fails_with_one_readable_line() {
    let out = flux(&["install"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--export"), "{stderr}");
}

#[test]
fn version_prints_the_client_version() {
    let out = flux(&["version", "--client"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("flux: v{}\n", env!("CARGO_PKG_VERSION"))
    );
}
