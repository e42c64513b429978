//! Git over smart HTTP with basic auth and bearer tokens: every ref kind, revisions, digests,
//! sparse checkout, ignore rules, submodules and error cases.

use std::time::Duration;

use anyhow::Result;
use source::git::{self, CheckoutOptions, GitAuth, GitError, GitRef};
use source::ignore::IgnoreRules;
use source::storage::Storage;
use source::testutil::{GitHttpServer, HttpAuth};

use crate::common::{Upstream, list_tree};

fn basic(user: &str, pass: &str) -> GitAuth {
    GitAuth {
        username: Some(user.into()),
        password: Some(pass.into()),
        ..Default::default()
    }
}

/// main: 3 commits, branch `dev`, tags v1.0.0 (lightweight), v1.1.0 (annotated), v2.0.0-rc.1, v0.9.0.
struct History {
    c1: String,
    c2: String,
    c3: String,
    dev: String,
}

fn build_history(up: &Upstream) -> Result<History> {
    up.write("deploy/app.yaml", "replicas: 1\n")?;
    up.write("README.md", "# repo\n")?;
    let c1 = up.commit("one")?;
    up.tag("v0.9.0", false)?;
    up.write("deploy/app.yaml", "replicas: 2\n")?;
    let c2 = up.commit("two")?;
    up.tag("v1.0.0", false)?;
    up.write("deploy/app.yaml", "replicas: 3\n")?;
    let c3 = up.commit("three")?;
    up.tag("v1.1.0", true)?;
    up.git(&["checkout", "-q", "-b", "dev"])?;
    up.write("deploy/app.yaml", "replicas: 9\n")?;
    let dev = up.commit("dev work")?;
    up.tag("v2.0.0-rc.1", true)?;
    up.git(&["checkout", "-q", "main"])?;
    up.push_all()?;
    Ok(History { c1, c2, c3, dev })
}

fn opts(url: &str, reference: GitRef, auth: GitAuth) -> CheckoutOptions {
    CheckoutOptions {
        url: url.to_string(),
        reference,
        auth,
        timeout: Duration::from_secs(60),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_ref_kind_over_http_with_basic_auth() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let up = Upstream::new(tmp.path(), "repo")?;
    let h = build_history(&up)?;
    let srv =
        GitHttpServer::start(&up.srv, HttpAuth::Basic("flux".into(), "s3cret-pw".into())).await?;
    let url = srv.url("repo.git");
    let auth = basic("flux", "s3cret-pw");
    let cases: Vec<(GitRef, &str, String, &str)> = vec![
        (
            GitRef::Branch("main".into()),
            "main",
            h.c3.clone(),
            "replicas: 3\n",
        ),
        (
            GitRef::Branch("dev".into()),
            "dev",
            h.dev.clone(),
            "replicas: 9\n",
        ),
        (
            GitRef::Tag("v1.0.0".into()),
            "v1.0.0",
            h.c2.clone(),
            "replicas: 2\n",
        ),
        (
            GitRef::Tag("v1.1.0".into()),
            "v1.1.0",
            h.c3.clone(),
            "replicas: 3\n",
        ),
        (
            GitRef::Semver("~1".into()),
            "v1.1.0",
            h.c3.clone(),
            "replicas: 3\n",
        ),
        (
            GitRef::Semver("<1.0.0".into()),
            "v0.9.0",
            h.c1.clone(),
            "replicas: 1\n",
        ),
        (
            GitRef::Semver(">=2.0.0-0".into()),
            "v2.0.0-rc.1",
            h.dev.clone(),
            "replicas: 9\n",
        ),
        (
            GitRef::Name("refs/heads/dev".into()),
            "refs/heads/dev",
            h.dev.clone(),
            "replicas: 9\n",
        ),
        (
            GitRef::Name("refs/tags/v1.1.0".into()),
            "refs/tags/v1.1.0",
            h.c3.clone(),
            "replicas: 3\n",
        ),
        (
            GitRef::Commit {
                sha: h.c2.clone(),
                branch: Some("main".into()),
            },
            "main",
            h.c2.clone(),
            "replicas: 2\n",
        ),
        (
            GitRef::Commit {
                sha: h.c1.clone(),
                branch: None,
            },
            "",
            h.c1.clone(),
            "replicas: 1\n",
        ),
    ];
    for (i, (r, refname, commit, content)) in cases.into_iter().enumerate() {
        let dir = tmp.path().join(format!("co-{i}"));
        let o = opts(&url, r.clone(), auth.clone());
        let res = git::checkout(&o, &dir)
            .await
            .map_err(|e| anyhow::anyhow!("{r:?}: {e}"))?;
        assert_eq!(res.commit, commit, "{r:?}");
        let want_rev = if refname.is_empty() {
            format!("sha1:{commit}")
        } else {
            format!("{refname}@sha1:{commit}")
        };
        assert_eq!(res.revision, want_rev, "{r:?}");
        assert_eq!(
            std::fs::read_to_string(dir.join("deploy/app.yaml"))?,
            content,
            "{r:?}"
        );
        // resolve() agrees without cloning.
        let resolved = git::resolve(&o).await?;
        assert_eq!(resolved.revision, want_rev, "resolve {r:?}");
    }
    // Branch checkouts are shallow.
    let shallow = std::fs::read_to_string(tmp.path().join("co-0/.git/shallow"))?;
    assert_eq!(shallow.trim(), h.c3);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_commit_new_revision_and_digest_same_tree_same_digest() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let up = Upstream::new(tmp.path(), "repo")?;
    build_history(&up)?;
    let srv = GitHttpServer::start(&up.srv, HttpAuth::None).await?;
    let o = opts(
        &srv.url("repo.git"),
        GitRef::Branch("main".into()),
        GitAuth::default(),
    );
    let storage = Storage::new(tmp.path().join("storage"), "127.0.0.1:9090")?;

    let pack = |dir: std::path::PathBuf, rev: String, commit: String| {
        let mut a = storage.new_artifact(
            "GitRepository",
            "ns",
            "app",
            &rev,
            &format!("{commit}.tar.gz"),
        );
        let rules = IgnoreRules::load(&dir, None).unwrap();
        storage.archive(&mut a, &dir, &rules).map(|_| a)
    };
    let r1 = git::checkout(&o, &tmp.path().join("a")).await?;
    let a1 = pack(tmp.path().join("a"), r1.revision.clone(), r1.commit.clone())?;
    // Same revision cloned again elsewhere (new mtimes, new .git): byte-identical artifact.
    let r1b = git::checkout(&o, &tmp.path().join("b")).await?;
    assert_eq!(r1b.revision, r1.revision);
    let mut again = storage.new_artifact("GitRepository", "ns", "app2", &r1b.revision, "x.tar.gz");
    storage.archive(
        &mut again,
        &tmp.path().join("b"),
        &IgnoreRules::load(&tmp.path().join("b"), None)?,
    )?;
    assert_eq!(again.digest, a1.digest);
    assert_eq!(
        a1.url,
        format!(
            "http://127.0.0.1:9090/gitrepository/ns/app/{}.tar.gz",
            r1.commit
        )
    );
    assert_eq!(
        a1.path,
        format!("gitrepository/ns/app/{}.tar.gz", r1.commit)
    );
    storage.verify(&a1)?;

    up.write("deploy/extra.yaml", "kind: ConfigMap\n")?;
    let c4 = up.commit("four")?;
    up.push_all()?;
    let r2 = git::checkout(&o, &tmp.path().join("c")).await?;
    assert_eq!(r2.revision, format!("main@sha1:{c4}"));
    assert_ne!(r2.revision, r1.revision);
    let a2 = pack(tmp.path().join("c"), r2.revision.clone(), r2.commit.clone())?;
    assert_ne!(a2.digest, a1.digest);
    assert_eq!(a2.revision, r2.revision);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_token_and_credential_errors() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let up = Upstream::new(tmp.path(), "repo")?;
    build_history(&up)?;
    let token = "tok-ABCDEF-123456";
    let srv = GitHttpServer::start(&up.srv, HttpAuth::Bearer(token.into())).await?;
    let url = srv.url("repo.git");
    let good = GitAuth {
        bearer_token: Some(token.into()),
        ..Default::default()
    };
    let r = git::checkout(
        &opts(&url, GitRef::Branch("main".into()), good),
        &tmp.path().join("ok"),
    )
    .await?;
    assert!(r.revision.starts_with("main@sha1:"));

    let wrong_token = "tok-WRONG-987654";
    let bad = GitAuth {
        bearer_token: Some(wrong_token.into()),
        ..Default::default()
    };
    let err = git::checkout(
        &opts(&url, GitRef::Branch("main".into()), bad),
        &tmp.path().join("bad"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, GitError::Auth { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains(wrong_token) && !shown.contains(token),
        "{shown}"
    );

    let none = git::checkout(
        &opts(&url, GitRef::Branch("main".into()), GitAuth::default()),
        &tmp.path().join("none"),
    )
    .await
    .unwrap_err();
    assert!(matches!(none, GitError::Auth { .. }), "{none:?}");

    // Basic auth against a basic-auth server: wrong password, and credentials embedded in the URL.
    let srv2 =
        GitHttpServer::start(&up.srv, HttpAuth::Basic("flux".into(), "right-pass".into())).await?;
    let wrong = git::checkout(
        &opts(
            &srv2.url("repo.git"),
            GitRef::Branch("main".into()),
            basic("flux", "wrong-pass-xyz"),
        ),
        &tmp.path().join("wrong"),
    )
    .await
    .unwrap_err();
    assert!(matches!(wrong, GitError::Auth { .. }), "{wrong:?}");
    let shown = format!("{wrong} {wrong:?}");
    assert!(!shown.contains("wrong-pass-xyz"), "{shown}");
    let embedded = format!("http://flux:right-pass@{}/repo.git", srv2.addr);
    let ok = git::checkout(
        &opts(&embedded, GitRef::Branch("main".into()), GitAuth::default()),
        &tmp.path().join("embedded"),
    )
    .await?;
    assert!(ok.revision.starts_with("main@sha1:"));
    let embedded_bad = format!("http://flux:leaky-pass@{}/repo.git", srv2.addr);
    let e = git::checkout(
        &opts(
            &embedded_bad,
            GitRef::Branch("main".into()),
            GitAuth::default(),
        ),
        &tmp.path().join("embedded-bad"),
    )
    .await
    .unwrap_err();
    assert!(!format!("{e} {e:?}").contains("leaky-pass"), "{e}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gives_typed_errors() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let up = Upstream::new(tmp.path(), "repo")?;
    build_history(&up)?;
    let srv = GitHttpServer::start(&up.srv, HttpAuth::None).await?;
    let url = srv.url("repo.git");
    let none = GitAuth::default();

    // Unreachable: a port nobody listens on.
    let port = crate::common::free_port()?;
    let e = git::checkout(
        &opts(
            &format!("http://127.0.0.1:{port}/repo.git"),
            GitRef::Branch("main".into()),
            none.clone(),
        ),
        &tmp.path().join("u"),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, GitError::Unreachable { .. }), "{e:?}");

    let e = git::checkout(
        &opts(&url, GitRef::Semver("not a range".into()), none.clone()),
        &tmp.path().join("s"),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, GitError::InvalidSemver(_)), "{e:?}");
    assert!(e.to_string().contains("not a range"), "{e}");

    let e = git::checkout(
        &opts(&url, GitRef::Semver(">=5".into()), none.clone()),
        &tmp.path().join("s2"),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, GitError::NoSemverMatch { .. }), "{e:?}");

    for (i, r) in [
        GitRef::Branch("nope".into()),
        GitRef::Tag("v9.9.9".into()),
        GitRef::Name("refs/heads/nope".into()),
        GitRef::Commit {
            sha: "0123456789abcdef0123456789abcdef01234567".into(),
            branch: None,
        },
    ]
    .into_iter()
    .enumerate()
    {
        let e = git::checkout(
            &opts(&url, r.clone(), none.clone()),
            &tmp.path().join(format!("r{i}")),
        )
        .await
        .unwrap_err();
        assert!(matches!(e, GitError::RefNotFound { .. }), "{r:?}: {e:?}");
        let e = git::resolve(&opts(&url, r.clone(), none.clone())).await;
        if !matches!(r, GitRef::Commit { .. }) {
            assert!(
                matches!(e, Err(GitError::RefNotFound { .. })),
                "resolve {r:?}: {e:?}"
            );
        }
    }

    let e = git::checkout(
        &opts(
            &srv.url("missing.git"),
            GitRef::Branch("main".into()),
            none.clone(),
        ),
        &tmp.path().join("m"),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, GitError::RepositoryNotFound { .. }), "{e:?}");

    for bad in ["ftp://h/r", "file:///tmp/x", "no-scheme"] {
        let e = git::checkout(
            &opts(bad, GitRef::Branch("main".into()), none.clone()),
            &tmp.path().join("x"),
        )
        .await
        .unwrap_err();
        assert!(matches!(e, GitError::InvalidUrl { .. }), "{bad}: {e:?}");
    }
    // A commit that exists but not on the named branch.
    let h_dev = up.git(&["rev-parse", "dev"])?;
    let e = git::checkout(
        &opts(
            &url,
            GitRef::Commit {
                sha: h_dev,
                branch: Some("main".into()),
            },
            none.clone(),
        ),
        &tmp.path().join("nb"),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, GitError::RefNotFound { .. }), "{e:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sparse_checkout_ignore_and_submodules() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let sub = Upstream::new(tmp.path(), "sub")?;
    sub.write("lib/sub.yaml", "sub: true\n")?;
    sub.commit("sub")?;
    sub.push_all()?;
    let up = Upstream::new(tmp.path(), "repo")?;
    up.write("apps/a.yaml", "a\n")?;
    up.write("apps/logo.png", "png\n")?;
    up.write("infra/b.yaml", "b\n")?;
    up.write("infra/secret.yaml", "s\n")?;
    up.write("docs/readme.md", "d\n")?;
    up.write("top.yaml", "t\n")?;
    up.write(".github/workflows/ci.yaml", "ci\n")?;
    up.write(".sourceignore", "infra/secret.yaml\n")?;
    up.commit("tree")?;
    let srv = GitHttpServer::start(&up.srv, HttpAuth::None).await?;
    // Submodule by HTTP URL on the same server (same credentials scope).
    up.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        &srv.url("sub.git"),
        "vendor/sub",
    ])?;
    up.commit("add submodule")?;
    up.push_all()?;
    let url = srv.url("repo.git");

    let mut o = opts(&url, GitRef::Branch("main".into()), GitAuth::default());
    o.sparse_checkout = vec!["apps".into(), "./infra/".into()];
    let dir = tmp.path().join("sparse");
    git::checkout(&o, &dir).await?;
    assert_eq!(
        list_tree(&dir),
        vec![
            "apps/a.yaml",
            "apps/logo.png",
            "infra/b.yaml",
            "infra/secret.yaml"
        ]
    );

    // Full checkout with submodules, then the artifact content under the default ignore rules.
    let mut o = opts(&url, GitRef::Branch("main".into()), GitAuth::default());
    o.recurse_submodules = true;
    let dir = tmp.path().join("full");
    git::checkout(&o, &dir).await?;
    assert_eq!(
        std::fs::read_to_string(dir.join("vendor/sub/lib/sub.yaml"))?,
        "sub: true\n"
    );
    let files = source::archive::list_files(&dir, &IgnoreRules::load(&dir, None)?)?;
    assert_eq!(
        files,
        vec![
            ".sourceignore",
            "apps/a.yaml",
            "docs/readme.md",
            "infra/b.yaml",
            "top.yaml",
            "vendor/sub/lib/sub.yaml"
        ]
    );
    // spec.ignore replaces the default excludes (the .png comes back) and adds its own.
    let files = source::archive::list_files(&dir, &IgnoreRules::load(&dir, Some("docs/\n"))?)?;
    assert_eq!(
        files,
        vec![
            ".github/workflows/ci.yaml",
            ".sourceignore",
            "apps/a.yaml",
            "apps/logo.png",
            "infra/b.yaml",
            "top.yaml",
            "vendor/sub/lib/sub.yaml"
        ]
    );
    // Without recursion the submodule directory stays empty.
    let dir = tmp.path().join("norec");
    git::checkout(
        &opts(&url, GitRef::Branch("main".into()), GitAuth::default()),
        &dir,
    )
    .await?;
    assert!(!dir.join("vendor/sub/lib/sub.yaml").exists());
    Ok(())
}
