//! `kubectl get` for built-ins: the server's Table columns and cells as kubectl prints them.

use crate::common::{Env, shared};

/// Column start offsets of a kubectl table header (columns are separated by 2+ spaces).
fn starts(header: &str) -> Vec<usize> {
    let b = header.as_bytes();
    (0..b.len())
        .filter(|&i| b[i] != b' ' && (i == 0 || (i >= 2 && b[i - 1] == b' ' && b[i - 2] == b' ')))
        .collect()
}

/// Runs `kubectl get …` and returns the header cells and the row whose NAME-ish cell (at
/// `key_col`) equals `key`.
fn get_row(env: &Env, args: &[&str], key_col: usize, key: &str) -> (Vec<String>, Vec<String>) {
    let out = env.kubectl(args).ok().stdout;
    let mut lines = out.lines();
    let header = lines.next().unwrap_or_default();
    let st = starts(header);
    let split = |l: &str| -> Vec<String> {
        st.iter()
            .enumerate()
            .map(|(i, &s)| {
                let e = st.get(i + 1).copied().unwrap_or(l.len()).min(l.len());
                l.get(s.min(l.len())..e).unwrap_or("").trim().to_string()
            })
            .collect()
    };
    let row = lines
        .map(split)
        .find(|r| r.get(key_col).is_some_and(|c| c == key))
        .unwrap_or_else(|| panic!("no row {key} in:\n{out}"));
    (split(header), row)
}

/// Asserts header and row; `*` in `row` matches any non-empty cell (ages).
fn check(env: &Env, args: &[&str], key_col: usize, key: &str, header: &[&str], row: &[&str]) {
    let (h, r) = get_row(env, args, key_col, key);
    assert_eq!(h, header, "header of kubectl {args:?}");
    assert_eq!(r.len(), row.len(), "{r:?}");
    for (got, want) in r.iter().zip(row) {
        if *want == "*" {
            assert!(!got.is_empty(), "empty cell in {r:?}");
        } else {
            assert_eq!(got, want, "row of kubectl {args:?}: {r:?}");
        }
    }
}

fn apply(env: &Env, yaml: &str) {
    env.kubectl_in(yaml, &["apply", "-f", "-"]).ok();
}

#[test]
fn services() {
    let env = shared();
    let ns = env.namespace("tbl-svc");
    apply(
        env,
        &format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: {ns}}}\nspec:\n  clusterIP: 10.96.0.10\n  selector: {{tier: front, app: web}}\n  ports:\n  - {{name: http, port: 80}}\n  - {{name: https, port: 443, protocol: TCP}}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: np, namespace: {ns}}}\nspec:\n  type: NodePort\n  clusterIP: 10.96.0.11\n  externalIPs: [1.2.3.4]\n  ports:\n  - {{port: 53, nodePort: 30053, protocol: UDP}}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: ext, namespace: {ns}}}\nspec:\n  type: ExternalName\n  externalName: example.com\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: lb, namespace: {ns}}}\nspec:\n  type: LoadBalancer\n  ports:\n  - {{port: 8080}}\n"
        ),
    );
    let h = [
        "NAME",
        "TYPE",
        "CLUSTER-IP",
        "EXTERNAL-IP",
        "PORT(S)",
        "AGE",
    ];
    let get = ["get", "svc", "-n", &ns];
    check(
        env,
        &get,
        0,
        "web",
        &h,
        &[
            "web",
            "ClusterIP",
            "10.96.0.10",
            "<none>",
            "80/TCP,443/TCP",
            "*",
        ],
    );
    check(
        env,
        &get,
        0,
        "np",
        &h,
        &[
            "np",
            "NodePort",
            "10.96.0.11",
            "1.2.3.4",
            "53:30053/UDP",
            "*",
        ],
    );
    check(
        env,
        &get,
        0,
        "ext",
        &h,
        &[
            "ext",
            "ExternalName",
            "<none>",
            "example.com",
            "<none>",
            "*",
        ],
    );
    check(
        env,
        &get,
        0,
        "lb",
        &h,
        &["lb", "LoadBalancer", "<none>", "<pending>", "8080/TCP", "*"],
    );
    let wide = ["get", "svc", "-n", &ns, "-o", "wide"];
    let hw = [
        "NAME",
        "TYPE",
        "CLUSTER-IP",
        "EXTERNAL-IP",
        "PORT(S)",
        "AGE",
        "SELECTOR",
    ];
    check(
        env,
        &wide,
        0,
        "web",
        &hw,
        &[
            "web",
            "ClusterIP",
            "10.96.0.10",
            "<none>",
            "80/TCP,443/TCP",
            "*",
            "app=web,tier=front",
        ],
    );
    check(
        env,
        &wide,
        0,
        "ext",
        &hw,
        &[
            "ext",
            "ExternalName",
            "<none>",
            "example.com",
            "<none>",
            "*",
            "<none>",
        ],
    );
}

fn template(app: &str) -> String {
    format!(
        "  selector:\n    matchLabels: {{app: {app}}}\n  template:\n    metadata:\n      labels: {{app: {app}}}\n    spec:\n      containers:\n      - {{name: c, image: nginx}}\n      - {{name: side, image: busybox}}\n"
    )
}

#[test]
fn workloads() {
    let env = shared();
    let ns = env.namespace("tbl-apps");
    let t = template("w");
    apply(
        env,
        &format!(
            "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: rs, namespace: {ns}, annotations: {{fluxrs.io/simulate: 'off'}}}}\nspec:\n  replicas: 3\n{t}---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: sts, namespace: {ns}, annotations: {{fluxrs.io/simulate: 'off'}}}}\nspec:\n  replicas: 2\n  serviceName: sts\n{t}---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: ds, namespace: {ns}, annotations: {{fluxrs.io/simulate: 'off'}}}}\nspec:\n{t}"
        ),
    );
    check(
        env,
        &["get", "rs", "-n", &ns],
        0,
        "rs",
        &["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
        &["rs", "3", "0", "0", "*"],
    );
    check(
        env,
        &["get", "rs", "-n", &ns, "-o", "wide"],
        0,
        "rs",
        &[
            "NAME",
            "DESIRED",
            "CURRENT",
            "READY",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR",
        ],
        &["rs", "3", "0", "0", "*", "c,side", "nginx,busybox", "app=w"],
    );
    check(
        env,
        &["get", "sts", "-n", &ns],
        0,
        "sts",
        &["NAME", "READY", "AGE"],
        &["sts", "0/2", "*"],
    );
    check(
        env,
        &["get", "sts", "-n", &ns, "-o", "wide"],
        0,
        "sts",
        &["NAME", "READY", "AGE", "CONTAINERS", "IMAGES"],
        &["sts", "0/2", "*", "c,side", "nginx,busybox"],
    );
    let dsh = [
        "NAME",
        "DESIRED",
        "CURRENT",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "NODE SELECTOR",
        "AGE",
    ];
    check(
        env,
        &["get", "ds", "-n", &ns],
        0,
        "ds",
        &dsh,
        &["ds", "0", "0", "0", "0", "0", "<none>", "*"],
    );
    let mut dsw = dsh.to_vec();
    dsw.extend(["CONTAINERS", "IMAGES", "SELECTOR"]);
    check(
        env,
        &["get", "ds", "-n", &ns, "-o", "wide"],
        0,
        "ds",
        &dsw,
        &[
            "ds",
            "0",
            "0",
            "0",
            "0",
            "0",
            "<none>",
            "*",
            "c,side",
            "nginx,busybox",
            "app=w",
        ],
    );
}

#[test]
fn deployments_wide() {
    let env = shared();
    let ns = env.namespace("tbl-dep");
    let t = template("d");
    apply(
        env,
        &format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: dep, namespace: {ns}, annotations: {{fluxrs.io/simulate: 'off'}}}}\nspec:\n  replicas: 2\n{t}"
        ),
    );
    check(
        env,
        &["get", "deploy", "-n", &ns],
        0,
        "dep",
        &["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
        &["dep", "0/2", "0", "0", "*"],
    );
    check(
        env,
        &["get", "deploy", "-n", &ns, "-o", "wide"],
        0,
        "dep",
        &[
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR",
        ],
        &[
            "dep",
            "0/2",
            "0",
            "0",
            "*",
            "c,side",
            "nginx,busybox",
            "app=d",
        ],
    );
}

#[test]
fn nodes_hpas_and_priority_classes() {
    let env = shared();
    let ns = env.namespace("tbl-node");
    let node = crate::common::unique("node");
    let pc = crate::common::unique("pc");
    apply(
        env,
        &format!(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: {node}\n  labels: {{node-role.kubernetes.io/control-plane: '', kubernetes.io/role: worker}}\nspec: {{unschedulable: true}}\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: hpa, namespace: {ns}}}\nspec:\n  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}\n  minReplicas: 2\n  maxReplicas: 5\n  metrics:\n  - type: Resource\n    resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 80}}}}\n  - type: Resource\n    resource: {{name: memory, target: {{type: AverageValue, averageValue: 100Mi}}}}\n---\napiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {{name: {pc}}}\nvalue: 1000\n"
        ),
    );
    check(
        env,
        &["get", "node", &node, "-o", "wide"],
        0,
        &node,
        &[
            "NAME",
            "STATUS",
            "ROLES",
            "AGE",
            "VERSION",
            "INTERNAL-IP",
            "EXTERNAL-IP",
            "OS-IMAGE",
            "KERNEL-VERSION",
            "CONTAINER-RUNTIME",
        ],
        &[
            &node,
            "Unknown,SchedulingDisabled",
            "control-plane,worker",
            "*",
            "",
            "<none>",
            "<none>",
            "<unknown>",
            "<unknown>",
            "<unknown>",
        ],
    );
    env.kubectl(&["delete", "node", &node]).ok();
    check(
        env,
        &["get", "hpa", "-n", &ns],
        0,
        "hpa",
        &[
            "NAME",
            "REFERENCE",
            "TARGETS",
            "MINPODS",
            "MAXPODS",
            "REPLICAS",
            "AGE",
        ],
        &[
            "hpa",
            "Deployment/web",
            "cpu: <unknown>/80%, memory: <unknown>/100Mi",
            "2",
            "5",
            "0",
            "*",
        ],
    );
    check(
        env,
        &["get", "pc", &pc],
        0,
        &pc,
        &["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"],
        &[&pc, "1000", "false", "*", "PreemptLowerPriority"],
    );
    env.kubectl(&["delete", "pc", &pc]).ok();
}

#[test]
fn jobs_and_cronjobs() {
    let env = shared();
    let ns = env.namespace("tbl-batch");
    // Generator output piped to apply (kubectl 1.33 would send protobuf for these kinds).
    let generate = |args: &[&str]| {
        let mut a = vec!["create"];
        a.extend_from_slice(args);
        a.extend(["-n", &ns, "--dry-run=client", "-o", "yaml"]);
        // The workload simulation would complete the Job: these rows show a bare status.
        let y = env.kubectl(&a).ok().stdout.replacen(
            "metadata:\n",
            "metadata:\n  annotations: {fluxrs.io/simulate: 'off'}\n",
            1,
        );
        apply(env, &y);
    };
    generate(&["job", "j", "--image=busybox"]);
    generate(&["cronjob", "cj", "--image=busybox", "--schedule=*/5 * * * *"]);
    apply(
        env,
        &format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {{name: par, namespace: {ns}, annotations: {{fluxrs.io/simulate: 'off'}}}}\nspec:\n  parallelism: 3\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{{name: c, image: busybox}}]\n"
        ),
    );
    let h = ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"];
    check(
        env,
        &["get", "jobs", "-n", &ns],
        0,
        "j",
        &h,
        &["j", "Running", "0/1", "", "*"],
    );
    check(
        env,
        &["get", "jobs", "-n", &ns],
        0,
        "par",
        &h,
        &["par", "Running", "0/1 of 3", "", "*"],
    );
    check(
        env,
        &["get", "cronjobs", "-n", &ns],
        0,
        "cj",
        &[
            "NAME",
            "SCHEDULE",
            "TIMEZONE",
            "SUSPEND",
            "ACTIVE",
            "LAST SCHEDULE",
            "AGE",
        ],
        &["cj", "*/5 * * * *", "<none>", "False", "0", "<none>", "*"],
    );
    check(
        env,
        &["get", "cronjobs", "-n", &ns, "-o", "wide"],
        0,
        "cj",
        &[
            "NAME",
            "SCHEDULE",
            "TIMEZONE",
            "SUSPEND",
            "ACTIVE",
            "LAST SCHEDULE",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR",
        ],
        &[
            "cj",
            "*/5 * * * *",
            "<none>",
            "False",
            "0",
            "<none>",
            "*",
            "cj",
            "busybox",
            "<none>",
        ],
    );
}

#[test]
fn ingresses_and_events() {
    let env = shared();
    let ns = env.namespace("tbl-ing");
    apply(
        env,
        &format!(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: ing, namespace: {ns}}}\nspec:\n  ingressClassName: nginx\n  tls: [{{hosts: [a.example.com]}}]\n  rules:\n  - host: a.example.com\n  - host: b.example.com\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: plain, namespace: {ns}}}\nspec:\n  defaultBackend:\n    service: {{name: web, port: {{number: 80}}}}\n---\napiVersion: v1\nkind: Event\nmetadata: {{name: p1.abc, namespace: {ns}}}\ninvolvedObject: {{kind: Pod, name: p1, namespace: {ns}, fieldPath: 'spec.containers{{c}}'}}\ntype: Warning\nreason: BackOff\nmessage: '  Back-off restarting failed container  '\ncount: 3\nfirstTimestamp: '2020-01-01T00:00:00Z'\nlastTimestamp: '2020-01-01T00:05:00Z'\nsource: {{component: kubelet, host: node1}}\n"
        ),
    );
    let h = ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"];
    check(
        env,
        &["get", "ing", "-n", &ns],
        0,
        "ing",
        &h,
        &[
            "ing",
            "nginx",
            "a.example.com,b.example.com",
            "",
            "80, 443",
            "*",
        ],
    );
    check(
        env,
        &["get", "ing", "-n", &ns],
        0,
        "plain",
        &h,
        &["plain", "<none>", "*", "", "80", "*"],
    );
    check(
        env,
        &["get", "events", "-n", &ns],
        3,
        "pod/p1",
        &["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
        &[
            "*",
            "Warning",
            "BackOff",
            "pod/p1",
            "Back-off restarting failed container",
        ],
    );
    check(
        env,
        &["get", "events", "-n", &ns, "-o", "wide"],
        3,
        "pod/p1",
        &[
            "LAST SEEN",
            "TYPE",
            "REASON",
            "OBJECT",
            "SUBOBJECT",
            "SOURCE",
            "MESSAGE",
            "FIRST SEEN",
            "COUNT",
            "NAME",
        ],
        &[
            "*",
            "Warning",
            "BackOff",
            "pod/p1",
            "spec.containers{c}",
            "kubelet, node1",
            "Back-off restarting failed container",
            "*",
            "3",
            "p1.abc",
        ],
    );
}

#[test]
fn volumes() {
    let env = shared();
    let ns = env.namespace("tbl-pvc");
    let pv = crate::common::unique("pv");
    apply(
        env,
        &format!(
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: data, namespace: {ns}}}\nspec:\n  storageClassName: standard\n  accessModes: [ReadWriteOnce]\n  resources: {{requests: {{storage: 1Gi}}}}\n---\napiVersion: v1\nkind: PersistentVolume\nmetadata: {{name: {pv}}}\nspec:\n  capacity: {{storage: 5Gi}}\n  accessModes: [ReadWriteMany, ReadWriteOnce]\n  persistentVolumeReclaimPolicy: Delete\n  storageClassName: fast\n  claimRef: {{namespace: {ns}, name: data}}\n  hostPath: {{path: /tmp/x}}\n"
        ),
    );
    check(
        env,
        &["get", "pvc", "-n", &ns, "-o", "wide"],
        0,
        "data",
        &[
            "NAME",
            "STATUS",
            "VOLUME",
            "CAPACITY",
            "ACCESS MODES",
            "STORAGECLASS",
            "VOLUMEATTRIBUTESCLASS",
            "AGE",
            "VOLUMEMODE",
        ],
        &[
            "data",
            "Pending",
            "",
            "",
            "",
            "standard",
            "<unset>",
            "*",
            "Filesystem",
        ],
    );
    let claim = format!("{ns}/data");
    check(
        env,
        &["get", "pv", &pv],
        0,
        &pv,
        &[
            "NAME",
            "CAPACITY",
            "ACCESS MODES",
            "RECLAIM POLICY",
            "STATUS",
            "CLAIM",
            "STORAGECLASS",
            "VOLUMEATTRIBUTESCLASS",
            "REASON",
            "AGE",
        ],
        &[
            &pv, "5Gi", "RWO,RWX", "Delete", "Pending", &claim, "fast", "<unset>", "", "*",
        ],
    );
    env.kubectl(&["delete", "pv", &pv]).ok();
}

#[test]
fn policy_and_misc() {
    let env = shared();
    let ns = env.namespace("tbl-misc");
    let cr = crate::common::unique("cr");
    let sc = crate::common::unique("sc");
    apply(
        env,
        &format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: {cr}}}\nrules: []\n---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: {sc}\n  annotations: {{storageclass.kubernetes.io/is-default-class: 'true'}}\nprovisioner: example.com/disk\n---\napiVersion: v1\nkind: Endpoints\nmetadata: {{name: web, namespace: {ns}}}\nsubsets:\n- addresses: [{{ip: 10.0.0.1}}, {{ip: 10.0.0.2}}]\n  ports: [{{port: 80}}, {{port: 443}}]\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: np, namespace: {ns}}}\nspec:\n  podSelector: {{matchLabels: {{app: web}}}}\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: pdb, namespace: {ns}}}\nspec:\n  minAvailable: 50%\n  selector: {{matchLabels: {{app: web}}}}\n---\napiVersion: v1\nkind: ResourceQuota\nmetadata: {{name: q, namespace: {ns}}}\nspec:\n  hard: {{pods: '10', requests.cpu: '2', limits.memory: 4Gi}}\n---\napiVersion: v1\nkind: LimitRange\nmetadata: {{name: lr, namespace: {ns}}}\nspec:\n  limits: [{{type: Container, default: {{cpu: 500m}}}}]\n"
        ),
    );
    let (h, r) = get_row(env, &["get", "clusterrole", &cr], 0, &cr);
    assert_eq!(h, ["NAME", "CREATED AT"]);
    assert!(r[1].ends_with('Z') && r[1].contains('T'), "{r:?}");
    let (h, r) = get_row(env, &["get", "limitrange", "-n", &ns], 0, "lr");
    assert_eq!(h, ["NAME", "CREATED AT"]);
    assert!(r[1].ends_with('Z'), "{r:?}");
    check(
        env,
        &["get", "sc", &sc],
        0,
        &format!("{sc} (default)"),
        &[
            "NAME",
            "PROVISIONER",
            "RECLAIMPOLICY",
            "VOLUMEBINDINGMODE",
            "ALLOWVOLUMEEXPANSION",
            "AGE",
        ],
        &[
            &format!("{sc} (default)"),
            "example.com/disk",
            "Delete",
            "Immediate",
            "false",
            "*",
        ],
    );
    env.kubectl(&["delete", "sc", &sc]).ok();
    check(
        env,
        &["get", "ep", "-n", &ns],
        0,
        "web",
        &["NAME", "ENDPOINTS", "AGE"],
        &[
            "web",
            "10.0.0.1:80,10.0.0.1:443,10.0.0.2:80 + 1 more...",
            "*",
        ],
    );
    check(
        env,
        &["get", "netpol", "-n", &ns],
        0,
        "np",
        &["NAME", "POD-SELECTOR", "AGE"],
        &["np", "app=web", "*"],
    );
    check(
        env,
        &["get", "pdb", "-n", &ns],
        0,
        "pdb",
        &[
            "NAME",
            "MIN AVAILABLE",
            "MAX UNAVAILABLE",
            "ALLOWED DISRUPTIONS",
            "AGE",
        ],
        &["pdb", "50%", "N/A", "0", "*"],
    );
    // Columns come from status.hard/used (the quota controller's job upstream).
    env.kubectl(&[
        "patch",
        "quota",
        "q",
        "-n",
        &ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"hard":{"pods":"10","requests.cpu":"2","limits.memory":"4Gi"},"used":{"pods":"1","requests.cpu":"500m"}}}"#,
    ])
    .ok();
    check(
        env,
        &["get", "quota", "-n", &ns],
        0,
        "q",
        &["NAME", "AGE", "REQUEST", "LIMIT"],
        &[
            "q",
            "*",
            "pods: 1/10, requests.cpu: 500m/2",
            "limits.memory: 0/4Gi",
        ],
    );
}

/// `kubectl get crd` prints CREATED AT as an RFC 3339 timestamp (the real server's default
/// table convertor), not as an age.
#[test]
fn crd_created_at_is_a_timestamp() {
    let env = shared();
    let group = format!("{}.tables.example.com", crate::common::unique("crdts"));
    apply(env, &crate::crd::widget_crd(&group));
    let name = format!("widgets.{group}");
    let (h, r) = get_row(env, &["get", "crd", &name], 0, &name);
    assert_eq!(h, ["NAME", "CREATED AT"]);
    let ts = &r[1];
    let b = ts.as_bytes();
    assert!(
        ts.len() == 20
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[13] == b':'
            && b[16] == b':'
            && b[19] == b'Z'
            && ts.chars().filter(char::is_ascii_digit).count() == 14,
        "CREATED AT is not a timestamp: {r:?}"
    );
    env.kubectl(&["delete", "crd", &name]).ok();
}
