//! Git over the `git://` protocol served by `git daemon`.

use anyhow::Result;
use source::git::{self, CheckoutOptions, GitAuth, GitError, GitRef};

use crate::common::{Upstream, git_daemon};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn branch_and_tag_over_git_daemon() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let up = Upstream::new(tmp.path(), "repo")?;
    up.write("a.yaml", "a: 1\n")?;
    let c1 = up.commit("one")?;
    up.tag("v1.0.0", true)?;
    up.write("a.yaml", "a: 2\n")?;
    let c2 = up.commit("two")?;
    up.push_all()?;
    let (_d, port) = git_daemon(&up.srv)?;
    let url = format!("git://127.0.0.1:{port}/repo.git");
    let o = CheckoutOptions {
        url: url.clone(),
        reference: GitRef::Branch("main".into()),
        ..Default::default()
    };
    let r = git::checkout(&o, &tmp.path().join("b")).await?;
    assert_eq!(r.revision, format!("main@sha1:{c2}"));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("b/a.yaml"))?,
        "a: 2\n"
    );
    let o = CheckoutOptions {
        url: url.clone(),
        reference: GitRef::Semver("^1".into()),
        ..Default::default()
    };
    let r = git::checkout(&o, &tmp.path().join("t")).await?;
    assert_eq!(r.revision, format!("v1.0.0@sha1:{c1}"));
    // git:// cannot carry credentials: refuse rather than silently drop them.
    let o = CheckoutOptions {
        url,
        auth: GitAuth {
            username: Some("u".into()),
            password: Some("p".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let e = git::checkout(&o, &tmp.path().join("c")).await.unwrap_err();
    assert!(matches!(e, GitError::InvalidUrl { .. }), "{e:?}");
    Ok(())
}
