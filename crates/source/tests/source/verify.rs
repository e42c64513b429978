//! OpenPGP signatures of commits and tags made by real `gpg`, verified with rPGP.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use source::git::{self, CheckoutOptions, GitRef};
use source::testutil::{GitHttpServer, HttpAuth};
use source::verify::{Keyring, VerifyError, VerifyMode, verify_checkout, verify_commit};

use crate::common::{Upstream, git};

/// A throw-away GnuPG home with one ed25519 signing key; its agent is stopped on drop.
struct GpgKey {
    home: PathBuf,
    fingerprint: String,
    armored_public: Vec<u8>,
}

impl Drop for GpgKey {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", &self.home)
            .status();
    }
}

fn gpg(home: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let out = Command::new("gpg")
        .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
        .args(args)
        .env("GNUPGHOME", home)
        .stdin(Stdio::null())
        .output()
        .context("run gpg")?;
    if !out.status.success() {
        bail!("gpg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(out.stdout)
}

fn gpg_key(dir: &Path, name: &str) -> Result<GpgKey> {
    let home = dir.join(format!("gnupg-{name}"));
    std::fs::create_dir_all(&home)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700))?;
    }
    let uid = format!("{name} <{name}@example.com>");
    gpg(
        &home,
        &["--quick-gen-key", &uid, "ed25519", "sign", "never"],
    )?;
    let listing = String::from_utf8(gpg(&home, &["--with-colons", "--list-keys"])?)?;
    let fingerprint = listing
        .lines()
        .find_map(|l| l.strip_prefix("fpr:"))
        .and_then(|l| l.split(':').find(|f| !f.is_empty()))
        .context("fingerprint")?
        .to_string();
    let armored_public = gpg(&home, &["--armor", "--export", &fingerprint])?;
    Ok(GpgKey {
        home,
        fingerprint,
        armored_public,
    })
}

/// Runs git in `dir` with signing configured for `key`.
fn git_signed(dir: &Path, key: &GpgKey, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .args([
            "-c",
            &format!("user.signingkey={}", key.fingerprint),
            "-c",
            "gpg.program=gpg",
        ])
        .args(args)
        .current_dir(dir)
        .env("GNUPGHOME", &key.home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .stdin(Stdio::null())
        .output()?;
    if !out.status.success() {
        bail!("git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn keyring(key: &GpgKey) -> Result<Keyring> {
    let mut data = BTreeMap::new();
    data.insert("author.asc".to_string(), key.armored_public.clone());
    Ok(Keyring::from_secret_data("pgp-keys", &data)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_commits_and_tags() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let alice = gpg_key(tmp.path(), "alice")?;
    let mallory = gpg_key(tmp.path(), "mallory")?;
    let up = Upstream::new(tmp.path(), "repo")?;
    up.write("a.yaml", "a: 1\n")?;
    git(&up.work, &["add", "-A"])?;
    git_signed(&up.work, &alice, &["commit", "-q", "-S", "-m", "signed"])?;
    git_signed(
        &up.work,
        &alice,
        &["tag", "-s", "v1.0.0", "-m", "signed tag"],
    )?;
    up.tag("v1.0.1-light", false)?;
    up.write("a.yaml", "a: 2\n")?;
    up.commit("unsigned")?;
    git(&up.work, &["branch", "-q", "unsigned-branch"])?;
    git(&up.work, &["reset", "-q", "--hard", "HEAD~1"])?;
    up.push_all()?;
    let srv = GitHttpServer::start(&up.srv, HttpAuth::None).await?;
    let url = srv.url("repo.git");
    let good = keyring(&alice)?;
    let wrong = keyring(&mallory)?;

    let co = |r: GitRef, name: &str| {
        let o = CheckoutOptions {
            url: url.clone(),
            reference: r,
            ..Default::default()
        };
        let dir = tmp.path().join(name);
        async move { git::checkout(&o, &dir).await.map(|res| (dir, res)) }
    };

    // Signed HEAD: accepted with the right key, rejected with another.
    let r = GitRef::Branch("main".into());
    let (dir, res) = co(r.clone(), "main").await?;
    let v = verify_checkout(&dir, &res, &r, VerifyMode::Head, &good).await?;
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].key_fingerprint, alice.fingerprint);
    assert_eq!(v[0].object, format!("commit '{}'", res.revision));
    let e = verify_checkout(&dir, &res, &r, VerifyMode::Head, &wrong)
        .await
        .unwrap_err();
    assert!(matches!(e, VerifyError::Invalid { .. }), "{e:?}");

    // A tampered commit object fails even with the right key.
    let raw = Command::new("git")
        .args(["cat-file", "commit", &res.commit])
        .current_dir(&dir)
        .output()?
        .stdout;
    let tampered = String::from_utf8(raw)?.replace("signed", "evil!!");
    let e = verify_commit(tampered.as_bytes(), "commit", &good).unwrap_err();
    assert!(matches!(e, VerifyError::Invalid { .. }), "{e:?}");

    // Signed annotated tag: Tag and TagAndHEAD modes.
    let r = GitRef::Tag("v1.0.0".into());
    let (dir, res) = co(r.clone(), "tag").await?;
    let v = verify_checkout(&dir, &res, &r, VerifyMode::Tag, &good).await?;
    assert_eq!(v[0].object, "tag 'v1.0.0'");
    assert_eq!(v[0].key_fingerprint, alice.fingerprint);
    let v = verify_checkout(&dir, &res, &r, VerifyMode::TagAndHead, &good).await?;
    assert_eq!(v.len(), 2);
    let e = verify_checkout(&dir, &res, &r, VerifyMode::Tag, &wrong)
        .await
        .unwrap_err();
    assert!(matches!(e, VerifyError::Invalid { .. }), "{e:?}");

    // Lightweight tag: nothing to verify in Tag mode.
    let r = GitRef::Tag("v1.0.1-light".into());
    let (dir, res) = co(r.clone(), "light").await?;
    let e = verify_checkout(&dir, &res, &r, VerifyMode::Tag, &good)
        .await
        .unwrap_err();
    assert!(matches!(e, VerifyError::Unsigned { .. }), "{e:?}");
    // Tag mode on a branch reference is an error.
    let r = GitRef::Branch("unsigned-branch".into());
    let (dir, res) = co(r.clone(), "unsigned").await?;
    let e = verify_checkout(&dir, &res, &r, VerifyMode::Tag, &good)
        .await
        .unwrap_err();
    assert!(matches!(e, VerifyError::NotATag(_)), "{e:?}");
    // Unsigned HEAD.
    let e = verify_checkout(&dir, &res, &r, VerifyMode::Head, &good)
        .await
        .unwrap_err();
    assert!(matches!(e, VerifyError::Unsigned { .. }), "{e:?}");

    // A Secret without keys is refused.
    let mut data = BTreeMap::new();
    data.insert("x".to_string(), b"not a key".to_vec());
    assert!(Keyring::from_secret_data("s", &data).is_err());
    assert!(Keyring::from_secret_data("s", &BTreeMap::new()).is_err());
    Ok(())
}
