//! Runtime scenarios: metrics and health endpoints of a running manager, and leader election
//! between two managers on one Lease.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use api::source::{GitRepository, GitRepositorySpec};
use controllers::runtime::leader::LeaseTiming;
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use kube::api::PostParams;

use crate::gitserver::{Auth, GitServer};
use crate::harness::{self, http_get, wait_for};

/// A stand-in for notification-controller's event endpoint: records every POSTed body.
async fn event_receiver() -> Result<(String, Arc<Mutex<Vec<serde_json::Value>>>)> {
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/",
        axum::routing::post(move |axum::Json(v): axum::Json<serde_json::Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(v);
                axum::http::StatusCode::ACCEPTED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((format!("http://{addr}/"), got))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_health_and_event_forwarding() -> Result<()> {
    let git = GitServer::start(Auth::None).await?;
    git.create_repo("m", &[("a.yaml", "a: 1\n")])?;
    let client = harness::client().await?;
    let ns = harness::namespace(&client).await?;
    let storage = tempfile::tempdir()?;
    let (events_url, received) = event_receiver().await?;
    let mut opts = harness::options(&ns, storage.path());
    opts.events_addr = Some(events_url);
    let mgr = harness::manager(&client, opts).await?;
    let repos: Api<GitRepository> = Api::namespaced(client.clone(), &ns);
    let spec = GitRepositorySpec {
        url: git.url("m"),
        interval: "5m".into(),
        r#ref: Some(api::source::GitRepositoryRef {
            branch: Some("main".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    repos
        .create(&PostParams::default(), &GitRepository::new("m", spec))
        .await?;

    let metrics_url = format!("http://{}/metrics", mgr.metrics_addr);
    let want_count = format!(
        "gotk_reconcile_duration_seconds_count{{kind=\"GitRepository\",name=\"m\",namespace=\"{ns}\"}}"
    );
    let text = wait_for(Duration::from_secs(30), || {
        let url = metrics_url.clone();
        async move {
            let (code, body) = http_get(&url).await?;
            let text = String::from_utf8(body)?;
            Ok((code == 200 && text.contains("ready=\"True\"")).then_some(text))
        }
    })
    .await
    .context("metrics show the ready object")?;
    assert!(text.contains(&want_count), "{text}");
    assert!(
        text.contains("# TYPE gotk_reconcile_duration_seconds histogram"),
        "{text}"
    );
    assert!(text.contains("gotk_resource_info{customresource_group=\"source.toolkit.fluxcd.io\",customresource_kind=\"GitRepository\""), "{text}");
    assert!(text.contains("suspended=\"false\""), "{text}");

    let (code, body) = http_get(&format!("http://{}/healthz", mgr.health_addr)).await?;
    assert_eq!((code, body.as_slice()), (200, b"ok".as_slice()));
    let (code, _) = http_get(&format!("http://{}/readyz", mgr.health_addr)).await?;
    assert_eq!(code, 200);

    // The NewArtifact event also reached the notification endpoint, in eventv1 shape.
    let ev = wait_for(Duration::from_secs(10), || {
        let received = received.clone();
        async move {
            let all = received.lock().unwrap().clone();
            Ok(all.into_iter().find(|e| e["reason"] == "NewArtifact"))
        }
    })
    .await
    .context("event forwarded")?;
    assert_eq!(ev["severity"], "info");
    assert_eq!(ev["reportingController"], "source-controller");
    assert_eq!(ev["involvedObject"]["kind"], "GitRepository");
    assert_eq!(ev["involvedObject"]["name"], "m");
    assert_eq!(ev["involvedObject"]["namespace"], ns.as_str());
    assert_eq!(
        ev["involvedObject"]["apiVersion"],
        "source.toolkit.fluxcd.io/v1"
    );
    assert!(
        ev["metadata"]["source.toolkit.fluxcd.io/revision"]
            .as_str()
            .is_some_and(|r| r.starts_with("main@sha1:"))
    );
    assert!(ev["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    mgr.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_election_hands_over() -> Result<()> {
    let git = GitServer::start(Auth::None).await?;
    git.create_repo("le", &[("a.yaml", "a: 1\n")])?;
    let client = harness::client().await?;
    let ns = harness::namespace(&client).await?;
    let timing = LeaseTiming {
        lease_duration: Duration::from_secs(3),
        renew_deadline: Duration::from_secs(2),
        retry_period: Duration::from_millis(200),
    };
    let (s1, s2) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let mut o1 = harness::options(&ns, s1.path());
    o1.leader_elect = true;
    o1.lease_timing = timing.clone();
    let mut o2 = harness::options(&ns, s2.path());
    o2.leader_elect = true;
    o2.lease_timing = timing;

    let leases: Api<Lease> = Api::namespaced(client.clone(), &ns);
    let holder = || {
        let leases = leases.clone();
        async move {
            let lease = leases.get_opt("source-controller-leader-election").await?;
            anyhow::Ok(
                lease
                    .and_then(|l| l.spec)
                    .and_then(|s| s.holder_identity)
                    .filter(|h| !h.is_empty()),
            )
        }
    };
    let first = harness::manager(&client, o1).await?;
    let holder1 = wait_for(Duration::from_secs(10), holder)
        .await
        .context("first manager leads")?;
    let second = harness::manager(&client, o2).await?;
    // A standby is ready (so rolling updates proceed) but does not reconcile.
    let (code, _) = http_get(&format!("http://{}/readyz", second.health_addr)).await?;
    assert_eq!(code, 200);
    let repos: Api<GitRepository> = Api::namespaced(client.clone(), &ns);
    let spec = GitRepositorySpec {
        url: git.url("le"),
        interval: "5m".into(),
        r#ref: Some(api::source::GitRepositoryRef {
            branch: Some("main".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let artifact_url = || {
        let repos = repos.clone();
        async move {
            let o = repos.get("le").await?;
            anyhow::Ok(o.status.and_then(|s| s.artifact).map(|a| a.url))
        }
    };
    repos
        .create(&PostParams::default(), &GitRepository::new("le", spec))
        .await?;
    let url1 = wait_for(Duration::from_secs(20), artifact_url).await?;
    assert!(
        url1.contains(&first.storage_addr.unwrap().port().to_string()),
        "the leader reconciled: {url1}"
    );
    assert_eq!(holder().await?.as_deref(), Some(holder1.as_str()));

    // The leader stops and releases the lease; the standby takes over and reconciles.
    first.shutdown().await?;
    let holder2 = wait_for(Duration::from_secs(10), || {
        let h = holder();
        let old = holder1.clone();
        async move { Ok(h.await?.filter(|h| *h != old)) }
    })
    .await
    .context("second manager takes over")?;
    assert_ne!(holder2, holder1);
    let lease = leases.get("source-controller-leader-election").await?;
    assert!(lease.spec.unwrap().lease_transitions.unwrap_or(0) >= 1);
    // The new leader re-advertises the artifact under its own storage address.
    let port2 = second.storage_addr.unwrap().port().to_string();
    let value = harness::unique("req");
    let patch = serde_json::json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": value}}});
    repos
        .patch(
            "le",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&patch),
        )
        .await?;
    wait_for(Duration::from_secs(20), || {
        let u = artifact_url();
        let port2 = port2.clone();
        async move { Ok(u.await?.filter(|u| u.contains(&port2))) }
    })
    .await
    .context("second manager reconciles after the hand-over")?;
    second.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_selector_and_interval() -> Result<()> {
    let git = GitServer::start(Auth::None).await?;
    let repo = git.create_repo("sel", &[("a.yaml", "a: 1\n")])?;
    let client = harness::client().await?;
    let ns = harness::namespace(&client).await?;
    let storage = tempfile::tempdir()?;
    let mut opts = harness::options(&ns, storage.path());
    opts.watch_label_selector = Some("sharding.fluxcd.io/shard=a".into());
    let mgr = harness::manager(&client, opts).await?;
    let repos: Api<GitRepository> = Api::namespaced(client.clone(), &ns);
    let spec = GitRepositorySpec {
        url: git.url("sel"),
        interval: "1s".into(),
        r#ref: Some(api::source::GitRepositoryRef {
            branch: Some("main".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut mine = GitRepository::new("mine", spec.clone());
    mine.metadata.labels = Some([("sharding.fluxcd.io/shard".to_string(), "a".to_string())].into());
    repos.create(&PostParams::default(), &mine).await?;
    repos
        .create(&PostParams::default(), &GitRepository::new("other", spec))
        .await?;

    let revision = |name: &'static str| {
        let repos = repos.clone();
        async move {
            let o = repos.get(name).await?;
            anyhow::Ok(o.status.and_then(|s| s.artifact).map(|a| a.revision))
        }
    };
    let first = wait_for(Duration::from_secs(30), || revision("mine")).await?;
    // The interval alone (1s) picks up a new commit: no annotation, no spec change.
    let next = repo.commit(&[("b.yaml", "b: 1\n")], "second")?;
    let want = format!("main@sha1:{next}");
    let got = wait_for(Duration::from_secs(30), || {
        let want = want.clone();
        let rev = revision("mine");
        async move { Ok(rev.await?.filter(|r| *r == want)) }
    })
    .await
    .context("periodic reconcile")?;
    assert_ne!(got, first);
    // The object outside the shard was never touched.
    let other = repos.get("other").await?;
    assert!(
        other
            .status
            .as_ref()
            .is_none_or(|s| s.conditions.is_empty()),
        "{:?}",
        other.status
    );
    assert!(other.metadata.finalizers.is_none_or(|f| f.is_empty()));
    mgr.shutdown().await?;
    Ok(())
}
