//! kube-rs (the client Flux's controllers use): Api CRUD and patches, errors, watcher with
//! and without streaming lists, reflector, metadata lists, discovery, delete_collection.

use crate::common::{kube_client, unique};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Client, Discovery};
use serde_json::json;
use std::time::Duration;

async fn namespace(client: &Client, prefix: &str) -> String {
    let name = unique(prefix);
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    name
}

fn cm(name: &str, labels: serde_json::Value) -> ConfigMap {
    serde_json::from_value(
        json!({"metadata": {"name": name, "labels": labels}, "data": {"a": "1"}}),
    )
    .unwrap()
}

#[tokio::test]
async fn api_crud_patches_and_errors() {
    let c = kube_client().await;
    let ns = namespace(&c, "kube").await;
    let api: Api<ConfigMap> = Api::namespaced(c.clone(), &ns);
    let created = api
        .create(&PostParams::default(), &cm("k1", json!({"app": "x"})))
        .await
        .unwrap();
    assert!(created.metadata.uid.is_some());
    let err = api
        .create(&PostParams::default(), &cm("k1", json!({})))
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(s) => assert_eq!((s.code, s.reason.as_str()), (409, "AlreadyExists")),
        other => panic!("unexpected {other:?}"),
    }
    let merged = api
        .patch(
            "k1",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"b": "2"}})),
        )
        .await
        .unwrap();
    assert_eq!(merged.data.as_ref().unwrap().len(), 2);
    let smp = api
        .patch(
            "k1",
            &PatchParams::default(),
            &Patch::Strategic(json!({"metadata": {"labels": {"s": "1"}}})),
        )
        .await
        .unwrap();
    assert_eq!(smp.metadata.labels.as_ref().unwrap().len(), 2);
    let mut cur = api.get("k1").await.unwrap();
    cur.metadata.resource_version = Some("1".into());
    let err = api
        .replace("k1", &PostParams::default(), &cur)
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 409),
        "{err:?}"
    );
    api.delete("k1", &DeleteParams::default()).await.unwrap();
    let err = api.get("k1").await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 404 && s.reason == "NotFound"),
        "{err:?}"
    );
    assert!(api.get_opt("k1").await.unwrap().is_none());
}

#[tokio::test]
async fn watcher_reflector_and_streaming_lists() {
    let c = kube_client().await;
    let ns = namespace(&c, "kwatch").await;
    let api: Api<ConfigMap> = Api::namespaced(c.clone(), &ns);
    api.create(&PostParams::default(), &cm("pre", json!({})))
        .await
        .unwrap();
    // Default watcher (list + watch) feeding a reflector.
    let (reader, writer) = reflector::store::<ConfigMap>();
    let rf = reflector(writer, watcher(api.clone(), watcher::Config::default())).applied_objects();
    let task = tokio::spawn(rf.for_each(|_| futures::future::ready(())));
    tokio::time::timeout(Duration::from_secs(10), reader.wait_until_ready())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reader.state().len(), 1);
    api.create(&PostParams::default(), &cm("live", json!({})))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while reader.state().len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "reflector saw the new object"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    task.abort();
    // Streaming lists: InitDone arrives only after the initial-events-end bookmark.
    let mut events = watcher(api.clone(), watcher::Config::default().streaming_lists()).boxed();
    let mut init_names = Vec::new();
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(10), events.try_next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        match ev {
            watcher::Event::InitApply(o) => init_names.push(o.metadata.name.unwrap()),
            watcher::Event::InitDone => break,
            _ => {}
        }
    }
    init_names.sort();
    assert_eq!(init_names, ["live", "pre"]);
    api.delete("pre", &DeleteParams::default()).await.unwrap();
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(10), events.try_next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let watcher::Event::Delete(o) = ev {
            assert_eq!(o.metadata.name.as_deref(), Some("pre"));
            break;
        }
    }
}

#[tokio::test]
async fn metadata_lists_discovery_and_delete_collection() {
    let c = kube_client().await;
    let ns = namespace(&c, "kmeta").await;
    let api: Api<ConfigMap> = Api::namespaced(c.clone(), &ns);
    for (n, l) in [("m1", "keep"), ("m2", "drop"), ("m3", "drop")] {
        api.create(&PostParams::default(), &cm(n, json!({"k": l})))
            .await
            .unwrap();
    }
    let meta = api.list_metadata(&ListParams::default()).await.unwrap();
    let names: Vec<_> = meta
        .items
        .iter()
        .map(|m| m.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["m1", "m2", "m3"]);
    api.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels("k=drop"),
    )
    .await
    .unwrap();
    let left: Vec<_> = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|c| c.metadata.name.unwrap())
        .collect();
    assert_eq!(left, ["m1"]);
    let paged = api.list(&ListParams::default().limit(1)).await.unwrap();
    assert_eq!(paged.items.len(), 1);
    let legacy = Discovery::new(c.clone()).run().await.unwrap();
    assert!(legacy.has_group("apps") && legacy.has_group("apiextensions.k8s.io"));
    let aggregated = Discovery::new(c.clone()).run_aggregated().await.unwrap();
    let apps = aggregated.get("apps").unwrap();
    assert!(
        apps.recommended_resources()
            .iter()
            .any(|(r, _)| r.plural == "deployments")
    );
}
