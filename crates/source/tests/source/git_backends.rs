//! The gix backend against the git CLI backend on the same repositories: identical revisions,
//! identical work trees (content, executable bits, symlinks, sparse selection) and identical
//! artifact digests, over smart HTTP and `file://`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use anyhow::{Result, ensure};
use source::archive::{list_files, write_tar_gz};
use source::git::{self, Backend, CheckoutOptions, GitRef};
use source::ignore::IgnoreRules;
use source::testutil::{GitHttpServer, HttpAuth};

use crate::common::Upstream;

/// Every entry below `dir` (not `.git`) as `path kind detail`: file content hash and mode bits,
/// symlink target, or `dir`.
fn describe(dir: &Path) -> Result<Vec<String>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            let p = e.path();
            if e.file_name() == ".git" {
                continue;
            }
            let rel = p.strip_prefix(root)?.to_string_lossy().into_owned();
            let ft = e.file_type()?;
            if ft.is_symlink() {
                out.push(format!("{rel} link {}", std::fs::read_link(&p)?.display()));
            } else if ft.is_dir() {
                out.push(format!("{rel} dir"));
                walk(root, &p, out)?;
            } else {
                let mode = e.metadata()?.permissions().mode() & 0o111;
                let data = std::fs::read(&p)?;
                out.push(format!(
                    "{rel} file x={:o} len={} {:?}",
                    mode,
                    data.len(),
                    {
                        use std::hash::{Hash, Hasher};
                        let mut h = std::collections::hash_map::DefaultHasher::new();
                        data.hash(&mut h);
                        h.finish()
                    }
                ));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

fn digest(dir: &Path) -> Result<String> {
    let files = list_files(dir, &IgnoreRules::load(dir, None)?)?;
    let (_, summary) = write_tar_gz(dir, &files, Vec::new())?;
    Ok(summary.digest)
}

fn build(up: &Upstream) -> Result<()> {
    up.write("README.md", "# repo\r\nwith CRLF\r\n")?;
    up.write("deploy/base/app.yaml", "replicas: 1\n")?;
    up.write("deploy/overlays/prod/k.yaml", "resources: []\n")?;
    up.write("deploy/overlays/dev/k.yaml", "resources: [a]\n")?;
    up.write("scripts/run.sh", "#!/bin/sh\necho hi\n")?;
    up.write("unicodé/ñame.txt", "x\n")?;
    up.write("empty", "")?;
    // Enough files for the gix backend to write the tree with several threads.
    for i in 0..400 {
        up.write(
            &format!("many/d{}/f{i:03}.txt", i % 7),
            &format!("file {i}\n"),
        )?;
    }
    let big: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
    up.write("data/big.txt", &big)?;
    std::fs::set_permissions(
        up.work.join("scripts/run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )?;
    std::os::unix::fs::symlink("base/app.yaml", up.work.join("deploy/link.yaml"))?;
    up.commit("one")?;
    up.tag("v1.0.0", true)?;
    up.write("data/big.txt", &format!("{big}more\n"))?;
    up.write("deploy/base/app.yaml", "replicas: 2\n")?;
    up.commit("two")?;
    up.tag("v1.1.0", false)?;
    up.push_all()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gix_and_cli_backends_give_identical_checkouts() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let up = Upstream::new(tmp.path(), "repo")?;
    build(&up)?;
    let c1 = up.git(&["rev-parse", "v1.0.0^{commit}"])?;
    let srv = GitHttpServer::start(&up.srv, HttpAuth::None).await?;
    let file_url = format!("file://{}", up.bare.display());
    let cases: Vec<(String, GitRef, Vec<String>, bool)> = vec![
        (
            srv.url("repo.git"),
            GitRef::Branch("main".into()),
            vec![],
            true,
        ),
        (
            srv.url("repo.git"),
            GitRef::Tag("v1.0.0".into()),
            vec![],
            true,
        ),
        (
            srv.url("repo.git"),
            GitRef::Semver("~1.1".into()),
            vec![],
            true,
        ),
        (
            srv.url("repo.git"),
            GitRef::Commit {
                sha: c1.clone(),
                branch: Some("main".into()),
            },
            vec![],
            false,
        ),
        (
            srv.url("repo.git"),
            GitRef::Name("refs/heads/main".into()),
            vec!["deploy/overlays/prod".into(), "./scripts/".into()],
            true,
        ),
        (
            file_url.clone(),
            GitRef::Branch("main".into()),
            vec![],
            true,
        ),
        (
            file_url.clone(),
            GitRef::Commit {
                sha: c1.clone(),
                branch: None,
            },
            vec!["deploy".into()],
            false,
        ),
    ];
    for (i, (url, reference, sparse, shallow)) in cases.into_iter().enumerate() {
        let o = CheckoutOptions {
            url: url.clone(),
            reference: reference.clone(),
            sparse_checkout: sparse.clone(),
            shallow,
            allow_file_urls: url.starts_with("file://"),
            timeout: Duration::from_secs(60),
            ..Default::default()
        };
        let a = tmp.path().join(format!("cli-{i}"));
        let b = tmp.path().join(format!("gix-{i}"));
        let ra = git::checkout_with(Backend::Cli, &o, &a).await?;
        let rb = git::checkout_with(Backend::Gix, &o, &b).await?;
        ensure!(ra == rb, "case {i} {reference:?}: {ra:?} != {rb:?}");
        let (da, db) = (describe(&a)?, describe(&b)?);
        ensure!(
            da == db,
            "case {i} {reference:?} {sparse:?}:\ncli {da:#?}\ngix {db:#?}"
        );
        ensure!(!db.is_empty(), "case {i}: empty checkout");
        if !sparse.is_empty() {
            ensure!(
                !db.iter().any(|l| l.starts_with("README.md")),
                "case {i}: sparse checkout wrote README.md: {db:#?}"
            );
        }
        ensure!(
            digest(&a)? == digest(&b)?,
            "case {i}: artifact digests differ"
        );
        // Resolution without cloning agrees too.
        let (sa, sb) = (
            git::resolve_with(Backend::Cli, &o).await?,
            git::resolve_with(Backend::Gix, &o).await?,
        );
        ensure!(sa == sb, "case {i} resolve: {sa:?} != {sb:?}");
        ensure!(sb.commit == rb.commit, "case {i}: resolve {sb:?} vs {rb:?}");
        // The git client can read the gix checkout's objects (signature verification does).
        let raw = crate::common::git(&b, &["cat-file", "commit", &rb.commit])?;
        ensure!(raw.starts_with("tree "), "case {i}: {raw}");
    }
    // file:// stays refused outside local mode for gix as well.
    let e = git::checkout_with(
        Backend::Gix,
        &CheckoutOptions {
            url: file_url,
            ..Default::default()
        },
        &tmp.path().join("refused"),
    )
    .await
    .unwrap_err();
    ensure!(
        matches!(e, git::GitError::InvalidUrl { .. }),
        "file:// without local mode: {e:?}"
    );
    Ok(())
}

/// Every file under `dir`, `.git` included, as bytes.
fn all_bytes(dir: &Path, out: &mut Vec<u8>) -> Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let ft = e.file_type()?;
        if ft.is_dir() {
            all_bytes(&e.path(), out)?;
        } else if ft.is_file() {
            out.extend(std::fs::read(e.path())?);
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gix_checkout_keeps_no_credentials_on_disk() -> Result<()> {
    use base64::Engine;
    let tmp = tempfile::tempdir()?;
    let up = Upstream::new(tmp.path(), "repo")?;
    up.write("a.yaml", "a: 1\n")?;
    up.commit("one")?;
    up.push_all()?;
    let srv = GitHttpServer::start(
        &up.srv,
        HttpAuth::Basic("flux".into(), "s3cret-on-disk?".into()),
    )
    .await?;
    let o = CheckoutOptions {
        url: srv.url("repo.git"),
        reference: GitRef::Branch("main".into()),
        auth: git::GitAuth {
            username: Some("flux".into()),
            password: Some("s3cret-on-disk?".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let dir = tmp.path().join("co");
    let r = git::checkout_with(Backend::Gix, &o, &dir).await?;
    ensure!(r.revision.starts_with("main@sha1:"), "{r:?}");
    let mut bytes = Vec::new();
    all_bytes(&dir, &mut bytes)?;
    let basic = base64::engine::general_purpose::STANDARD.encode("flux:s3cret-on-disk?");
    for needle in ["s3cret-on-disk?", basic.as_str()] {
        ensure!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{needle} found in the checkout"
        );
    }
    Ok(())
}
