//! `flux local up` end to end: the real binary, the bundled example, a local Git repository and
//! a broken repository; kubectl (the real one) against the kubeconfig it writes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// kubectl from PATH (v1.33 on the development and CI machines).
const KUBECTL: &str = "kubectl";

fn up(data_dir: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flux"))
        .args(["local", "up", "--once", "--port", "0"])
        .args(if extra.contains(&"--timeout") {
            &[][..]
        } else {
            &["--timeout", "2m"][..]
        })
        .arg("--data-dir")
        .arg(data_dir)
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("running flux local up")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    text(&out.stdout).trim().to_string()
}

/// The applied objects table rows (KIND NAMESPACE NAME API VERSION STATUS MESSAGE) as
/// "KIND NAMESPACE NAME APIVERSION", asserting that every object's kstatus is Current.
fn inventory_rows(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("KIND"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            let cells: Vec<&str> = l.split('\t').map(str::trim).collect();
            assert_eq!(cells.get(4), Some(&"Current"), "kstatus of {l}");
            cells[..4].join(" ")
        })
        .collect()
}

#[test]
fn bundled_example_from_a_clean_then_an_existing_data_dir_and_kubectl_sees_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");

    // 1. Clean data dir, --once.
    let out = up(&data, &[]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "stdout={stdout}\nstderr={stderr}");
    assert!(stderr.contains("✔ all ready"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "kubeconfig: {}",
            data.join("kubeconfig").display()
        )),
        "{stderr}"
    );
    let rev_line = stdout
        .lines()
        .find(|l| l.starts_with("kustomization/flux-system"))
        .unwrap_or_else(|| panic!("no kustomization row: {stdout}"));
    assert!(rev_line.contains("main@sha1:"), "{rev_line}");
    assert!(rev_line.contains("Applied revision"), "{rev_line}");
    assert_eq!(
        inventory_rows(&stdout),
        [
            "Namespace - podinfo-production v1",
            "Namespace - podinfo-staging v1",
            "ConfigMap podinfo-production podinfo-config-g224gk7986 v1",
            "Service podinfo-production podinfo v1",
            "Deployment podinfo-production podinfo apps/v1",
            "ConfigMap podinfo-staging podinfo-config-44kttc4647 v1",
            "Service podinfo-staging podinfo v1",
            "Deployment podinfo-staging podinfo apps/v1",
        ]
    );
    // Controller logs went to the data dir, not the terminal.
    let log = std::fs::read_to_string(data.join("controllers.log")).unwrap();
    assert!(
        log.contains("\"controllerKind\":\"GitRepository\""),
        "{log}"
    );
    assert!(!stderr.contains("\"level\""), "{stderr}");

    let first_url = stderr
        .lines()
        .find_map(|l| l.strip_prefix("► API server listening on "))
        .expect("API server line")
        .to_string();

    // 2. Same data dir, kept running (no --port: the previous port is reused, so an exported
    // KUBECONFIG stays valid): kubectl sees the applied (substituted) objects.
    let (mut running, seen) = up_running(&data, &[]);
    assert!(
        seen.iter()
            .any(|l| l == &format!("► API server listening on {first_url}")),
        "{first_url} {seen:?}"
    );
    // A second `up` on a data dir in use is refused with one line.
    let busy = up(&data, &[]);
    assert_eq!(busy.status.code(), Some(1));
    let busy_err = text(&busy.stderr);
    assert!(
        busy_err
            .trim_end()
            .ends_with("is in use by another `flux local up` or `flux local apiserver`"),
        "{busy_err}"
    );
    let kubectl = |args: &[&str]| {
        let out = Command::new(KUBECTL)
            .arg("--kubeconfig")
            .arg(data.join("kubeconfig"))
            .args(args)
            .output()
            .expect("kubectl");
        assert!(
            out.status.success(),
            "kubectl {args:?}: {}",
            text(&out.stderr)
        );
        text(&out.stdout)
    };
    let deploys = kubectl(&[
        "get",
        "deployments",
        "-A",
        "-o",
        "jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}={.spec.replicas} {end}",
    ]);
    assert_eq!(
        deploys.trim(),
        "podinfo-production/podinfo=3 podinfo-staging/podinfo=1"
    );
    let msg = kubectl(&[
        "get",
        "configmap",
        "-n",
        "podinfo-staging",
        "podinfo-config-44kttc4647",
        "-o",
        "jsonpath={.data.PODINFO_UI_MESSAGE}",
    ]);
    assert_eq!(msg, "Hello from local", "postBuild substitution");
    let ks = kubectl(&["get", "kustomizations", "-n", "flux-system"]);
    assert!(ks.contains("flux-system"), "{ks}");
    // Ctrl-C stops controllers and server cleanly.
    let pid = running.child.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = running.child.0.wait().unwrap();
    assert!(status.success(), "exit after SIGINT: {status:?} {seen:?}");

    // 3. Resume once more with --once (CRDs re-applied over the existing ones).
    let log_before = std::fs::read_to_string(data.join("controllers.log"))
        .unwrap()
        .len();
    let out = up(&data, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(inventory_rows(&text(&out.stdout)).len(), 8);
    // Resuming reuses the loopback addresses: no controller failed a reconcile this run.
    let log = std::fs::read_to_string(data.join("controllers.log")).unwrap();
    let errors: Vec<&str> = log[log_before..]
        .lines()
        .filter(|l| l.contains("\"level\":\"error\""))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    // `flux logs` reads the in-process controllers' log.
    let logs = Command::new(env!("CARGO_BIN_EXE_flux"))
        .args(["logs", "--kind", "GitRepository", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(logs.status.success(), "{}", text(&logs.stderr));
    let logs = text(&logs.stdout);
    assert!(
        logs.lines()
            .any(|l| l.contains(" info GitRepository/flux-system.flux-system - stored artifact")),
        "{logs}"
    );
    assert!(!logs.contains("Kustomization/"), "{logs}");
}

#[test]
fn a_local_git_repository_is_served_at_its_head_branch() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("fleet");
    std::fs::create_dir_all(repo.join("apps")).unwrap();
    std::fs::write(
        repo.join("apps/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello\n  namespace: default\ndata:\n  who: ${who:=nobody}\n",
    )
    .unwrap();
    git(&repo, &["init", "-q", "-b", "trunk"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "first"]);
    let head = git(&repo, &["rev-parse", "HEAD"]);
    let out = up(
        &tmp.path().join("data"),
        &[
            repo.to_str().unwrap(),
            "--path",
            "./apps",
            "--substitute",
            "who=fluxrs",
        ],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", text(&out.stderr));
    assert!(
        stdout.contains(&format!("trunk@sha1:{head}")),
        "revision of the HEAD branch: {stdout}"
    );
    assert_eq!(
        inventory_rows(&stdout),
        ["ConfigMap default hello v1"],
        "{stdout}"
    );
}

#[test]
fn a_broken_repository_fails_with_the_kustomization_message() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("broken");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(
        src.join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - missing.yaml\n",
    )
    .unwrap();
    let out = up(&tmp.path().join("data"), &[src.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("✗ Kustomization/flux-system/flux-system: "),
        "{stderr}"
    );
    assert!(last.contains("missing.yaml"), "{last}");
    assert!(text(&out.stdout).is_empty(), "no status table on failure");
}

#[test]
fn a_missing_source_directory_is_one_readable_line() {
    let tmp = tempfile::tempdir().unwrap();
    let out = up(&tmp.path().join("data"), &["/nonexistent/fluxrs-src"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("/nonexistent/fluxrs-src"), "{stderr}");
}

/// Kills a child process on drop.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running `flux local up` and its stderr lines.
struct Running {
    child: KillOnDrop,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Running {
    /// Reads stderr lines until one contains `marker` (at most 120 s); returns them all.
    fn until(&self, marker: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut seen = Vec::new();
        loop {
            let line = self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("no line with {marker:?}; stderr so far: {seen:?}"));
            let done = line.contains(marker);
            seen.push(line);
            if done {
                return seen;
            }
        }
    }
}

/// Starts `flux local up ARGS` (kept running) and returns it with its stderr lines up to
/// "watching for changes".
fn up_running(data_dir: &Path, extra: &[&str]) -> (Running, Vec<String>) {
    // Wrapped at once: killed and reaped on every path, panics included.
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_flux"))
            .args(["local", "up", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let pipe = child.0.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let running = Running { child, lines: rx };
    let seen = running.until("watching for changes");
    (running, seen)
}

#[test]
fn edits_of_a_local_directory_are_picked_up_while_running() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("app");
    std::fs::create_dir_all(&src).unwrap();
    let cm = |v: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: live\n  namespace: default\ndata:\n  v: \"{v}\"\n"
        )
    };
    std::fs::write(src.join("cm.yaml"), cm("1")).unwrap();
    let data = tmp.path().join("data");
    let (running, _) = up_running(&data, &[src.to_str().unwrap()]);
    std::fs::write(src.join("cm.yaml"), cm("2")).unwrap();
    let lines = running.until("✔ Kustomization/flux-system/flux-system");
    assert!(lines.iter().any(|l| l.contains("new commit")), "{lines:?}");
    let out = Command::new(KUBECTL)
        .arg("--kubeconfig")
        .arg(data.join("kubeconfig"))
        .args([
            "get",
            "configmap",
            "live",
            "-n",
            "default",
            "-o",
            "jsonpath={.data.v}",
        ])
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), "2", "{}", text(&out.stderr));
    drop(running);
}

#[test]
fn a_git_url_is_cloned_by_the_source_controller() {
    // A first `flux local up` serves a local repository over Git smart HTTP; a second one,
    // with its own data dir, takes that URL like any remote Git URL.
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir_all(work.join("deploy")).unwrap();
    std::fs::write(
        work.join("deploy/ns.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: from-url\n",
    )
    .unwrap();
    git(&work, &["init", "-q", "-b", "release"]);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "first"]);
    let (_first, lines) = up_running(
        &tmp.path().join("data1"),
        &[work.to_str().unwrap(), "--path", "./deploy"],
    );
    let url = lines
        .iter()
        .find_map(|l| {
            let rest = l.split("→ ").nth(1)?;
            Some(rest.split_whitespace().next()?.to_string())
        })
        .unwrap_or_else(|| panic!("no served URL in {lines:?}"));
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let out = up(
        &tmp.path().join("data2"),
        &[&url, "--branch", "release", "--path", "./deploy"],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains(&format!("→ {url} (release)")), "{stderr}");
    let head = git(&work, &["rev-parse", "HEAD"]);
    assert!(stdout.contains(&format!("release@sha1:{head}")), "{stdout}");
    assert_eq!(inventory_rows(&stdout), ["Namespace - from-url v1"]);

    // A URL nobody serves fails with the GitRepository's message.
    let out = up(
        &tmp.path().join("data3"),
        &["http://127.0.0.1:9/nothing.git", "--timeout", "30s"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("✗ GitRepository/flux-system/flux-system: "),
        "{stderr}"
    );
}
