//! Paginated lists (`limit` + `continue`): later pages come from the snapshot of the first page
//! even with writes in between (as etcd serves them), and a token whose snapshot is no longer
//! retained gets 410 Expired with the real server's message and an inconsistent-continue token.

use crate::common::{kube_client, py, start, unique};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

fn cm(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"v": value}})).unwrap()
}

/// (name, data.v) of a page.
fn page(l: &kube::core::ObjectList<ConfigMap>) -> Vec<(String, String)> {
    l.items
        .iter()
        .map(|c| {
            (
                c.metadata.name.clone().unwrap_or_default(),
                c.data
                    .as_ref()
                    .and_then(|d| d.get("v").cloned())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test]
async fn continued_pages_read_the_first_pages_snapshot() {
    let c = kube_client().await;
    let ns = unique("page");
    let nsobj: Namespace = serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap();
    Api::<Namespace>::all(c.clone())
        .create(&PostParams::default(), &nsobj)
        .await
        .unwrap();
    let api: Api<ConfigMap> = Api::namespaced(c.clone(), &ns);
    for i in 0..6 {
        api.create(&PostParams::default(), &cm(&format!("c{i}"), "old"))
            .await
            .unwrap();
    }
    let first = api.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(page(&first), pairs(&[("c0", "old"), ("c1", "old")]));
    assert_eq!(first.metadata.remaining_item_count, Some(4));
    let rv = first.metadata.resource_version.clone().unwrap();
    let token = first.metadata.continue_.clone().unwrap();

    // Writes between pages: a create that sorts into the rest, an update, a delete.
    api.create(&PostParams::default(), &cm("c2a", "new"))
        .await
        .unwrap();
    api.patch(
        "c3",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"v": "new"}})),
    )
    .await
    .unwrap();
    api.delete("c4", &DeleteParams::default()).await.unwrap();

    let second = api
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(page(&second), pairs(&[("c2", "old"), ("c3", "old")]));
    assert_eq!(
        second.metadata.resource_version.as_deref(),
        Some(rv.as_str())
    );
    assert_eq!(second.metadata.remaining_item_count, Some(2));
    let third = api
        .list(
            &ListParams::default()
                .limit(2)
                .continue_token(second.metadata.continue_.as_deref().unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(page(&third), pairs(&[("c4", "old"), ("c5", "old")]));
    assert_eq!(third.metadata.continue_.as_deref().unwrap_or(""), "");
    assert_eq!(
        third.metadata.resource_version.as_deref(),
        Some(rv.as_str())
    );

    // A fresh list sees the writes.
    let now = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(
        page(&now),
        pairs(&[
            ("c0", "old"),
            ("c1", "old"),
            ("c2", "old"),
            ("c2a", "new"),
            ("c3", "new"),
            ("c5", "old"),
        ])
    );
    assert_ne!(now.metadata.resource_version.as_deref(), Some(rv.as_str()));
}

#[test]
fn a_compacted_snapshot_is_410_with_an_inconsistent_continue_token() {
    // A server retaining only 8 events: the snapshot of the first page is soon unreachable.
    let env = start(true, 8);
    let ns = env.namespace("pgexp");
    let out = py(
        &env,
        &format!(
            r#"
ns = '{ns}'
for i in range(4):
    v1.create_namespaced_config_map(ns, {{'metadata': {{'name': 'c%d' % i}}}})
st, h, b = raw('GET', '/api/v1/namespaces/%s/configmaps?limit=2' % ns)
assert st == 200, (st, b)
first = json.loads(b)
assert [i['metadata']['name'] for i in first['items']] == ['c0', 'c1'], first
tok = first['metadata']['continue']
# Push the first page's resourceVersion out of the retained history.
for i in range(12):
    v1.patch_namespaced_config_map('c3', ns, {{'data': {{'n': str(i)}}}})
st, h, b = raw('GET', '/api/v1/namespaces/%s/configmaps?limit=2&continue=%s' % (ns, tok))
s = json.loads(b)
assert st == 410, (st, b)
assert s['kind'] == 'Status' and s['reason'] == 'Expired' and s['code'] == 410, s
assert s['message'].startswith('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response'), s['message']
retry = s['metadata']['continue']
assert retry and retry != tok
# The inconsistent token continues after c1 at the latest state.
st, h, b = raw('GET', '/api/v1/namespaces/%s/configmaps?limit=5&continue=%s' % (ns, retry))
assert st == 200, (st, b)
rest = json.loads(b)
assert [i['metadata']['name'] for i in rest['items']] == ['c2', 'c3'], rest
assert rest['items'][1]['data']['n'] == '11', rest['items'][1]
assert int(rest['metadata']['resourceVersion']) > int(first['metadata']['resourceVersion'])
# A bad token is 400, not a crash.
st, h, b = raw('GET', '/api/v1/namespaces/%s/configmaps?limit=2&continue=eyJydiI6MCwibnMiOiIiLCJuYW1lIjoiIn0' % ns)
assert st == 400, (st, b)
print('ok')
"#
        ),
    );
    assert_eq!(out.trim(), "ok");
}
