//! Git over SSH against a real OpenSSH `sshd`: pinned host keys, plain and passphrase-protected keys.

use anyhow::Result;
use source::git::{self, CheckoutOptions, GitAuth, GitError, GitRef, SshAuth};

use crate::common::{Upstream, sshd};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_keys_and_host_key_pinning() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let up = Upstream::new(tmp.path(), "repo")?;
    up.write("a.yaml", "a: 1\n")?;
    let c1 = up.commit("one")?;
    up.push_all()?;
    let s = sshd(&tmp.path().join("sshd"))?;
    let url = format!("ssh://{}@127.0.0.1:{}{}", s.user, s.port, up.bare.display());
    let o = |ssh: SshAuth| CheckoutOptions {
        url: url.clone(),
        reference: GitRef::Branch("main".into()),
        auth: GitAuth {
            ssh: Some(ssh),
            ..Default::default()
        },
        ..Default::default()
    };

    // Unencrypted key.
    let r = git::checkout(
        &o(SshAuth {
            identity: s.key_plain.clone().into_bytes(),
            known_hosts: s.known_hosts.clone().into_bytes(),
            passphrase: None,
        }),
        &tmp.path().join("plain"),
    )
    .await?;
    assert_eq!(r.revision, format!("main@sha1:{c1}"));

    // Passphrase-protected key.
    let r = git::checkout(
        &o(SshAuth {
            identity: s.key_encrypted.clone().into_bytes(),
            known_hosts: s.known_hosts.clone().into_bytes(),
            passphrase: Some(s.passphrase.clone()),
        }),
        &tmp.path().join("enc"),
    )
    .await?;
    assert_eq!(r.commit, c1);
    let resolved = git::resolve(&o(SshAuth {
        identity: s.key_plain.clone().into_bytes(),
        known_hosts: s.known_hosts.clone().into_bytes(),
        passphrase: None,
    }))
    .await?;
    assert_eq!(resolved.commit, c1);

    // Wrong passphrase: refused, and the passphrase is not in the message.
    let e = git::checkout(
        &o(SshAuth {
            identity: s.key_encrypted.clone().into_bytes(),
            known_hosts: s.known_hosts.clone().into_bytes(),
            passphrase: Some("wrong-passphrase-zz".into()),
        }),
        &tmp.path().join("badpass"),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, GitError::Auth { .. }), "{e:?}");
    assert!(!format!("{e} {e:?}").contains("wrong-passphrase-zz"));

    // A different host key for the same host: refused.
    let e = git::checkout(
        &o(SshAuth {
            identity: s.key_plain.clone().into_bytes(),
            known_hosts: s.wrong_known_hosts.clone().into_bytes(),
            passphrase: None,
        }),
        &tmp.path().join("wronghost"),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, GitError::HostKey { .. }), "{e:?}");

    // known_hosts is required.
    let e = git::checkout(
        &o(SshAuth {
            identity: s.key_plain.clone().into_bytes(),
            known_hosts: Vec::new(),
            passphrase: None,
        }),
        &tmp.path().join("nokh"),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, GitError::MissingKnownHosts { .. }), "{e:?}");

    // An unknown client key is refused.
    let other = tmp.path().join("otherkey");
    let st = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other)
        .status()?;
    assert!(st.success());
    let e = git::checkout(
        &o(SshAuth {
            identity: std::fs::read(&other)?,
            known_hosts: s.known_hosts.clone().into_bytes(),
            passphrase: None,
        }),
        &tmp.path().join("otherclient"),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, GitError::Auth { .. }), "{e:?}");
    Ok(())
}
