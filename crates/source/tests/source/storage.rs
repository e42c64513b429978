//! Artifact storage and the artifact server: layout, serving, retention, locking.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use anyhow::Result;
use source::ignore::IgnoreRules;
use source::storage::{RetentionPolicy, Storage};

/// Starts the artifact server for `root` and returns its address.
pub async fn start_server(
    root: &std::path::Path,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let storage = Storage::new(root, "placeholder")?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let _ = source::server::serve(storage, "127.0.0.1:0".parse().unwrap(), |a| {
            let _ = tx.send(a);
        })
        .await;
    });
    Ok((rx.await?, task))
}

/// One raw HTTP/1.1 request (so paths are sent exactly as written); returns the status code.
fn raw_get(addr: SocketAddr, method: &str, path: &str) -> Result<(u16, String)> {
    let mut s = std::net::TcpStream::connect(addr)?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let buf = String::from_utf8_lossy(&raw).into_owned();
    let code = buf.split_whitespace().nth(1).unwrap_or("0").parse()?;
    Ok((code, buf))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_serves_artifacts_and_nothing_else() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("storage");
    let (addr, _task) = start_server(&root).await?;
    let storage = Storage::new(&root, &addr.to_string())?;
    let src = tmp.path().join("src");
    std::fs::create_dir_all(src.join("k"))?;
    std::fs::write(src.join("k/app.yaml"), "kind: Namespace\n")?;
    let mut a = storage.new_artifact(
        "GitRepository",
        "flux-system",
        "podinfo",
        "main@sha1:abc",
        "abc.tar.gz",
    );
    storage.archive(&mut a, &src, &IgnoreRules::none())?;
    assert_eq!(
        a.url,
        format!("http://{addr}/gitrepository/flux-system/podinfo/abc.tar.gz")
    );
    let size = a.size.unwrap() as usize;
    let (code, resp) = raw_get(addr, "GET", "/gitrepository/flux-system/podinfo/abc.tar.gz")?;
    assert_eq!(code, 200);
    assert!(
        resp.to_ascii_lowercase()
            .contains(&format!("content-length: {size}")),
        "{resp}"
    );
    let (code, _) = raw_get(
        addr,
        "HEAD",
        "/gitrepository/flux-system/podinfo/abc.tar.gz",
    )?;
    assert_eq!(code, 200);
    // Lock files, traversal, absolute and encoded traversal, directories, missing files: all 404.
    storage.lock(&a)?;
    std::fs::write(tmp.path().join("outside.txt"), "secret")?;
    for p in [
        "/gitrepository/flux-system/podinfo/.lock",
        "/../outside.txt",
        "/gitrepository/../../outside.txt",
        "/%2e%2e/outside.txt",
        "/gitrepository/flux-system/podinfo",
        "/gitrepository/flux-system/podinfo/missing.tar.gz",
        "//etc/passwd",
    ] {
        let (code, body) = raw_get(addr, "GET", p)?;
        assert!(code == 404 || code == 400, "{p}: {code}");
        assert!(!body.contains("secret"), "{p}");
    }
    // A symlink planted in the store is not followed.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(
            tmp.path().join("outside.txt"),
            root.join("gitrepository/flux-system/podinfo/link.tar.gz"),
        )?;
        let (code, _) = raw_get(
            addr,
            "GET",
            "/gitrepository/flux-system/podinfo/link.tar.gz",
        )?;
        assert_eq!(code, 404);
    }
    let (code, _) = raw_get(
        addr,
        "DELETE",
        "/gitrepository/flux-system/podinfo/abc.tar.gz",
    )?;
    assert_eq!(code, 405);
    Ok(())
}

fn set_mtime(p: &std::path::Path, age: Duration) -> Result<()> {
    let f = std::fs::File::options().write(true).open(p)?;
    f.set_modified(SystemTime::now() - age)?;
    Ok(())
}

#[test]
fn garbage_collection_follows_retention() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let storage = Storage::new(tmp.path(), "http://h")?;
    let mut arts = Vec::new();
    for i in 0..5 {
        let mut a = storage.new_artifact(
            "GitRepository",
            "ns",
            "app",
            &format!("r{i}"),
            &format!("{i}.tar.gz"),
        );
        storage.copy(&mut a, &mut format!("content {i}").as_bytes())?;
        set_mtime(
            &storage.local_path(&a.path)?,
            Duration::from_secs(50 - i * 10),
        )?;
        arts.push(a);
    }
    let current = &arts[4];
    let _lock = storage.lock(current)?;
    let deleted = storage.garbage_collect(
        current,
        RetentionPolicy {
            records: 2,
            ttl: Duration::from_secs(3600),
        },
    )?;
    let mut deleted_sorted = deleted.clone();
    deleted_sorted.sort();
    assert_eq!(
        deleted_sorted,
        vec![
            "gitrepository/ns/app/0.tar.gz",
            "gitrepository/ns/app/1.tar.gz",
            "gitrepository/ns/app/2.tar.gz"
        ]
    );
    assert!(storage.exists(&arts[3]) && storage.exists(current));
    assert!(
        storage.local_path("gitrepository/ns/app/.lock").is_err(),
        "lock path is not an artifact path"
    );
    assert!(
        tmp.path().join("gitrepository/ns/app/.lock").exists(),
        "lock file kept"
    );
    // TTL: the remaining older file is past a 15s TTL; the current one never goes.
    set_mtime(
        &storage.local_path(&current.path)?,
        Duration::from_secs(3600),
    )?;
    let deleted = storage.garbage_collect(
        current,
        RetentionPolicy {
            records: 10,
            ttl: Duration::from_secs(15),
        },
    )?;
    assert_eq!(deleted, vec!["gitrepository/ns/app/3.tar.gz"]);
    assert!(storage.exists(current));
    storage.verify(current)?;
    // Removing the object removes its directory.
    storage.remove_all("GitRepository", "ns", "app")?;
    assert!(!tmp.path().join("gitrepository/ns/app").exists());
    Ok(())
}

#[test]
fn lock_serialises_writers_and_verify_detects_tampering() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let storage = Storage::new(tmp.path(), "http://h")?;
    let a = storage.new_artifact("Bucket", "ns", "b", "rev", "x.tar.gz");
    let guard = storage.lock(&a)?;
    let (tx, rx) = std::sync::mpsc::channel();
    let s2 = storage.clone();
    let a2 = a.clone();
    let t = std::thread::spawn(move || {
        let _g = s2.lock(&a2).unwrap();
        tx.send(SystemTime::now()).unwrap();
    });
    std::thread::sleep(Duration::from_millis(300));
    let released = SystemTime::now();
    assert!(rx.try_recv().is_err(), "second locker must wait");
    drop(guard);
    let acquired = rx.recv_timeout(Duration::from_secs(5))?;
    assert!(acquired >= released);
    t.join().unwrap();

    let mut a = a;
    storage.copy(&mut a, &mut &b"original"[..])?;
    storage.verify(&a)?;
    std::fs::write(storage.local_path(&a.path)?, b"tampered")?;
    let e = storage.verify(&a).unwrap_err();
    assert!(e.to_string().contains("digest mismatch"), "{e}");
    // No temp files are left behind by atomic writes.
    let names: Vec<_> = std::fs::read_dir(tmp.path().join("bucket/ns/b"))?
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| n == "x.tar.gz" || n == ".lock"),
        "{names:?}"
    );
    Ok(())
}

#[test]
fn include_copies_a_subtree_of_another_artifact() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let storage = Storage::new(tmp.path().join("st"), "h")?;
    let src = tmp.path().join("src");
    for (p, c) in [
        ("deploy/base/a.yaml", "a\n"),
        ("deploy/b.yaml", "b\n"),
        ("other/c.yaml", "c\n"),
    ] {
        let f = src.join(p);
        std::fs::create_dir_all(f.parent().unwrap())?;
        std::fs::write(f, c)?;
    }
    let mut a = storage.new_artifact("GitRepository", "ns", "lib", "main@sha1:1", "1.tar.gz");
    storage.archive(&mut a, &src, &IgnoreRules::none())?;
    let dest = tmp.path().join("checkout");
    std::fs::create_dir_all(&dest)?;
    storage.include(&a, Some("./deploy"), &dest, "vendor/lib")?;
    assert_eq!(
        crate::common::list_tree(&dest),
        vec!["vendor/lib/b.yaml", "vendor/lib/base/a.yaml"]
    );
    storage.include(&a, None, &dest, "all")?;
    assert!(dest.join("all/other/c.yaml").is_file());
    for (from, to) in [
        (Some("../x"), "ok"),
        (None, "../escape"),
        (None, "/abs"),
        (Some("missing"), "m"),
    ] {
        let e = storage.include(&a, from, &dest, to).unwrap_err();
        assert!(e.to_string().starts_with("include artifact"), "{e}");
    }
    assert!(!tmp.path().join("escape").exists());
    // A tampered artifact is not included.
    std::fs::write(storage.local_path(&a.path)?, b"junk")?;
    let e = storage.include(&a, None, &dest, "again").unwrap_err();
    assert!(e.to_string().contains("digest mismatch"), "{e}");
    assert!(!dest.join("again").exists());
    Ok(())
}
