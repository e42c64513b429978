//! `bench kustomize`: our engine against `kubectl kustomize` on realistic overlays and one large
//! generated tree; wall time and peak RSS of each, side by side, with ratios.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Repetitions per tool and case; the best wall time and the largest peak RSS are kept.
const RUNS: usize = 5;

struct Measure {
    wall: Duration,
    rss_kib: u64,
    bytes: usize,
}

/// Runs `cmd` under `/usr/bin/time` for its peak RSS; returns stdout, wall time and RSS.
fn measure(cmd: Command) -> Result<(Vec<u8>, Measure)> {
    let rss_file = std::env::temp_dir().join(format!("fluxrs-bench-rss-{}", std::process::id()));
    let prog = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss_file)
        .arg(prog)
        .args(args);
    if let Some(d) = cmd.get_current_dir() {
        timed.current_dir(d);
    }
    let start = Instant::now();
    let out = timed
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .output()
        .context("run /usr/bin/time")?;
    let wall = start.elapsed();
    if !out.status.success() {
        bail!("command failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let rss_kib = std::fs::read_to_string(&rss_file)?
        .lines()
        .filter_map(|l| l.trim().parse::<u64>().ok())
        .next_back()
        .unwrap_or(0);
    let bytes = out.stdout.len();
    Ok((
        out.stdout,
        Measure {
            wall,
            rss_kib,
            bytes,
        },
    ))
}

fn best(mut make: impl FnMut() -> Command) -> Result<(Vec<u8>, Measure)> {
    let mut best: Option<(Vec<u8>, Measure)> = None;
    for _ in 0..RUNS {
        let (out, m) = measure(make())?;
        best = Some(match best {
            None => (out, m),
            Some((o, b)) => (
                o,
                Measure {
                    wall: b.wall.min(m.wall),
                    rss_kib: b.rss_kib.max(m.rss_kib),
                    bytes: b.bytes,
                },
            ),
        });
    }
    Ok(best.expect("at least one run"))
}

/// Child mode: build one tree with our engine and print it (measured by the parent).
pub fn run_one(args: &[&str]) -> Result<()> {
    let [root, dir] = args else {
        bail!("usage: bench-kustomize-one ROOT DIR")
    };
    let out = kustomize::build_yaml(Arc::new(kustomize::DiskFs), Path::new(root), Path::new(dir))?;
    use std::io::Write;
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(())
}

fn write(root: &Path, rel: &str, text: &str) -> Result<()> {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent"))?;
    std::fs::write(&p, text).with_context(|| format!("write {}", p.display()))
}

fn crd(i: usize) -> String {
    let mut props = String::new();
    for f in 0..150 {
        let _ = write!(
            props,
            "              field{f}:\n                type: string\n                description: Field number {f} of widget kind {i}, documented at length as real CRDs are.\n"
        );
    }
    format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widget{i}s.bench.example.com\nspec:\n  group: bench.example.com\n  names:\n    kind: Widget{i}\n    plural: widget{i}s\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            properties:\n{props}"
    )
}

fn app(i: usize) -> Vec<(String, String)> {
    let n = format!("app{i}");
    let mut env = String::new();
    for e in 0..20 {
        let _ = write!(
            env,
            "        - name: SETTING_{e}\n          value: \"value-{e}-for-{n}\"\n"
        );
    }
    let deploy = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {n}\n  labels:\n    app: {n}\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: {n}\n  template:\n    metadata:\n      labels:\n        app: {n}\n      annotations:\n        prometheus.io/scrape: \"true\"\n    spec:\n      serviceAccountName: {n}\n      containers:\n      - name: main\n        image: registry.example.com/{n}:1.0.0\n        ports:\n        - name: http\n          containerPort: 8080\n        env:\n{env}        envFrom:\n        - configMapRef:\n            name: {n}-config\n        - secretRef:\n            name: {n}-secret\n        resources:\n          requests:\n            cpu: 100m\n            memory: 128Mi\n          limits:\n            cpu: \"1\"\n            memory: 512Mi\n        livenessProbe:\n          httpGet:\n            path: /healthz\n            port: http\n        readinessProbe:\n          httpGet:\n            path: /readyz\n            port: http\n        volumeMounts:\n        - name: data\n          mountPath: /data\n      volumes:\n      - name: data\n        persistentVolumeClaim:\n          claimName: {n}-data\n"
    );
    let rest = format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {n}\nspec:\n  selector:\n    app: {n}\n  ports:\n  - name: http\n    port: 80\n    targetPort: http\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {n}\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: {n}-data\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Gi\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {n}\nspec:\n  rules:\n  - host: {n}.example.com\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service:\n            name: {n}\n            port:\n              number: 80\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: {n}\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: {n}\n  minReplicas: 2\n  maxReplicas: 10\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: {n}\nrules:\n- apiGroups: [\"\"]\n  resources: [configmaps]\n  resourceNames: [{n}-config]\n  verbs: [get]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: {n}\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: {n}\nsubjects:\n- kind: ServiceAccount\n  name: {n}\n---\napiVersion: bench.example.com/v1\nkind: Widget{w}\nmetadata:\n  name: {n}\nspec:\n  field0: a\n  field1: b\n",
        w = i % 5
    );
    let mut conf = String::new();
    for l in 0..150 {
        let _ = writeln!(
            conf,
            "location /{n}/route{l} {{ proxy_pass http://upstream-{l}:8080; proxy_read_timeout 30s; }}"
        );
    }
    let kust = format!(
        "resources:\n- deploy.yaml\n- rest.yaml\nconfigMapGenerator:\n- name: {n}-config\n  files:\n  - app.conf\n  literals:\n  - APP={n}\n  - LEVEL=info\nsecretGenerator:\n- name: {n}-secret\n  literals:\n  - token=t-{n}\n"
    );
    vec![
        (format!("base/{n}/kustomization.yaml"), kust),
        (format!("base/{n}/deploy.yaml"), deploy),
        (format!("base/{n}/rest.yaml"), rest),
        (format!("base/{n}/app.conf"), conf),
    ]
}

/// A large tree: 10 CRDs, 100 apps of 11 objects (config files included), an overlay with
/// 102 patches, images, replicas, labels and annotations.
fn large_tree(root: &Path) -> Result<PathBuf> {
    let apps = 100;
    let mut crds = String::new();
    for i in 0..10 {
        crds.push_str(&crd(i));
        crds.push_str("---\n");
    }
    write(root, "crds/crds.yaml", &crds)?;
    write(root, "crds/kustomization.yaml", "resources:\n- crds.yaml\n")?;
    let mut res = String::from("resources:\n- ../crds\n");
    let mut patches = String::new();
    for i in 0..apps {
        for (p, t) in app(i) {
            write(root, &p, &t)?;
        }
        let _ = writeln!(res, "- ../base/app{i}");
        let _ = write!(
            patches,
            "- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: app{i}\n    spec:\n      template:\n        spec:\n          containers:\n          - name: main\n            env:\n            - name: ENVIRONMENT\n              value: production\n"
        );
    }
    let overlay = format!(
        "{res}namespace: production\nnamePrefix: prod-\ncommonLabels:\n  env: production\ncommonAnnotations:\n  team: platform\nimages:\n- name: registry.example.com/app1\n  newTag: 2.0.0\nreplicas:\n- name: app2\n  count: 5\npatches:\n{patches}- target:\n    kind: HorizontalPodAutoscaler\n  patch: |-\n    - op: replace\n      path: /spec/maxReplicas\n      value: 20\n- target:\n    kind: Deployment\n    labelSelector: app in (app3,app4)\n  patch: |-\n    - op: add\n      path: /spec/template/spec/priorityClassName\n      value: high\n"
    );
    write(root, "overlay/kustomization.yaml", &overlay)?;
    Ok(root.join("overlay"))
}

/// Runs the benchmark and prints the table.
pub fn run(_args: &[&str]) -> Result<()> {
    let ws = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()?;
    let golden = ws.join("crates/kustomize/tests/golden");
    let tmp = std::env::temp_dir().join("fluxrs-bench-kustomize");
    let _ = std::fs::remove_dir_all(&tmp);
    let large = large_tree(&tmp.join("large"))?;
    let mut cases: Vec<(String, PathBuf, PathBuf)> = Vec::new();
    for (name, target) in [
        ("flux-repo-production", "apps/production"),
        ("flux-repo-staging", "apps/staging"),
        ("combo-overlay-everything", "overlays/prod"),
        ("combo-many-bases", "."),
        ("nameref-rbac", "."),
    ] {
        let root = golden.join(name).join("input");
        cases.push((name.to_string(), root.clone(), root.join(target)));
    }
    cases.push(("large (generated)".into(), tmp.join("large"), large));
    let me = std::env::current_exe()?;
    let mut table = String::new();
    let _ = writeln!(
        table,
        "{:<26} {:>7} {:>9} {:>11} {:>9} {:>11} {:>7} {:>7} {:>5}",
        "case",
        "objects",
        "out KiB",
        "fluxrs ms",
        "RSS MiB",
        "kubectl ms",
        "RSS MiB",
        "speed",
        "mem"
    );
    let (mut ours_total, mut theirs_total) = (Duration::ZERO, Duration::ZERO);
    let (mut ours_rss, mut theirs_rss) = (0u64, 0u64);
    for (name, root, dir) in &cases {
        let (ours_out, ours) = best(|| {
            let mut c = Command::new(&me);
            c.arg("bench-kustomize-one").arg(root).arg(dir);
            c
        })?;
        let (theirs_out, theirs) = best(|| {
            let mut c = Command::new("kubectl");
            c.arg("kustomize").arg(dir);
            c
        })?;
        let parse = |b: &[u8]| kustomize::yamlio::parse_all(&String::from_utf8_lossy(b), name);
        let (a, b) = (parse(&ours_out)?, parse(&theirs_out)?);
        if a != b {
            bail!("{name}: our output differs from kubectl kustomize");
        }
        ours_total += ours.wall;
        theirs_total += theirs.wall;
        ours_rss = ours_rss.max(ours.rss_kib);
        theirs_rss = theirs_rss.max(theirs.rss_kib);
        let _ = writeln!(
            table,
            "{:<26} {:>7} {:>9} {:>11.1} {:>9.1} {:>11.1} {:>7.1} {:>6.1}x {:>4.1}x",
            name,
            b.iter().filter(|v| !v.is_null()).count(),
            theirs.bytes / 1024,
            ours.wall.as_secs_f64() * 1e3,
            ours.rss_kib as f64 / 1024.0,
            theirs.wall.as_secs_f64() * 1e3,
            theirs.rss_kib as f64 / 1024.0,
            theirs.wall.as_secs_f64() / ours.wall.as_secs_f64(),
            theirs.rss_kib as f64 / ours.rss_kib.max(1) as f64,
        );
        let _ = ours.bytes;
    }
    let _ = writeln!(
        table,
        "{:<26} {:>7} {:>9} {:>11.1} {:>9.1} {:>11.1} {:>7.1} {:>6.1}x {:>4.1}x",
        "total (max RSS)",
        "",
        "",
        ours_total.as_secs_f64() * 1e3,
        ours_rss as f64 / 1024.0,
        theirs_total.as_secs_f64() * 1e3,
        theirs_rss as f64 / 1024.0,
        theirs_total.as_secs_f64() / ours_total.as_secs_f64(),
        theirs_rss as f64 / ours_rss.max(1) as f64,
    );
    println!(
        "bench kustomize: best of {RUNS} runs per tool; outputs checked equal as data\n\n{table}"
    );
    Ok(())
}
