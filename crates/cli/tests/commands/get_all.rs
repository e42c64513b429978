//! `flux get all` lists the image automation and notification kinds too, in upstream's order
//! and with upstream's columns.

use super::*;

#[test]
fn get_all_includes_image_and_notification_kinds() {
    let ns = namespace("getall");
    let api = |v: &str, k: &str, p: &str| dynamic(&ns, v, k, p);
    create(&git_repos(&ns), git_repo(&ns, "app"));
    patch_status(
        &git_repos(&ns),
        "app",
        ready_status(1, &format!("main@sha1:{SHA}"), "stored artifact"),
    );
    let repos = api(
        "image.toolkit.fluxcd.io/v1",
        "ImageRepository",
        "imagerepositories",
    );
    create(
        &repos,
        json!({"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImageRepository",
               "metadata": {"name": "podinfo", "namespace": ns},
               "spec": {"image": "ghcr.io/stefanprodan/podinfo", "interval": "5m"}}),
    );
    patch_status(
        &repos,
        "podinfo",
        json!({"observedGeneration": 1,
               "lastScanResult": {"scanTime": "2026-01-01T00:00:00Z", "tagCount": 42},
               "conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded",
                               "message": "successful scan: found 42 tags",
                               "lastTransitionTime": "2026-01-01T00:00:00Z"}]}),
    );
    let policies = api("image.toolkit.fluxcd.io/v1", "ImagePolicy", "imagepolicies");
    create(
        &policies,
        json!({"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImagePolicy",
               "metadata": {"name": "podinfo", "namespace": ns},
               "spec": {"imageRepositoryRef": {"name": "podinfo"},
                        "policy": {"semver": {"range": "6.x"}}}}),
    );
    patch_status(
        &policies,
        "podinfo",
        json!({"observedGeneration": 1,
               "latestRef": {"name": "ghcr.io/stefanprodan/podinfo", "tag": "6.9.2"},
               "conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded",
                               "message": "Latest image tag for ghcr.io/stefanprodan/podinfo resolved to 6.9.2",
                               "lastTransitionTime": "2026-01-01T00:00:00Z"}]}),
    );
    create(
        &api(
            "notification.toolkit.fluxcd.io/v1beta3",
            "Provider",
            "providers",
        ),
        json!({"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Provider",
               "metadata": {"name": "slack", "namespace": ns},
               "spec": {"type": "slack", "channel": "general"}}),
    );
    create(
        &api("notification.toolkit.fluxcd.io/v1beta3", "Alert", "alerts"),
        json!({"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Alert",
               "metadata": {"name": "on-call", "namespace": ns},
               "spec": {"providerRef": {"name": "slack"}, "suspend": true,
                        "eventSources": [{"kind": "Kustomization", "name": "*"}]}}),
    );
    create(
        &api("notification.toolkit.fluxcd.io/v1", "Receiver", "receivers"),
        json!({"apiVersion": "notification.toolkit.fluxcd.io/v1", "kind": "Receiver",
               "metadata": {"name": "github", "namespace": ns},
               "spec": {"type": "github", "secretRef": {"name": "token"},
                        "resources": [{"kind": "GitRepository", "name": "app"}]}}),
    );

    patch_status(
        &api("notification.toolkit.fluxcd.io/v1", "Receiver", "receivers"),
        "github",
        json!({"observedGeneration": 1,
               "conditions": [{"type": "Ready", "status": "False", "reason": "SecretNotFound",
                               "message": "unable to read token from secret 'getall/token'",
                               "lastTransitionTime": "2026-01-01T00:00:00Z"}]}),
    );
    let out = ok(flux(&["get", "all", "-n", &ns]));
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/get_all_kinds.txt");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &out).unwrap();
    }
    assert_eq!(out, golden("get_all_kinds.txt"));

    // --status-selector applies to every table (Alerts and Providers count as ready).
    let out = ok(flux(&[
        "get",
        "all",
        "-n",
        &ns,
        "--status-selector",
        "ready=false",
    ]));
    let rows: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with("NAME") && !l.trim().is_empty())
        .map(|l| l.split('\t').next().unwrap().trim())
        .collect();
    assert_eq!(rows, ["receiver/github"], "{out}");
}
