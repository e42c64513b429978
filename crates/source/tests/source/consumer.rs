//! The artifact consumer: download with retries, digest verification before extraction, and safe
//! extraction of crafted archives.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Result;
use flate2::Compression;
use flate2::write::GzEncoder;
use source::fetch::{FetchError, FetchLimits, extract_tar_gz, fetch_artifact};
use source::ignore::IgnoreRules;
use source::storage::Storage;

use crate::common::list_tree;
use crate::storage::start_server;

/// One raw tar entry, written byte by byte so that names the `tar` crate would refuse get through.
fn raw_entry(out: &mut Vec<u8>, name: &str, kind: tar::EntryType, link: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    {
        let g = h.as_gnu_mut().unwrap();
        g.name[..name.len()].copy_from_slice(name.as_bytes());
        g.linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    if matches!(kind, tar::EntryType::Char | tar::EntryType::Block) {
        h.set_device_major(1).unwrap();
        h.set_device_minor(3).unwrap();
    }
    h.set_cksum();
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(data);
    let pad = (512 - data.len() % 512) % 512;
    out.extend(std::iter::repeat_n(0u8, pad));
}

fn gz(entries: &[(&str, tar::EntryType, &str, &[u8])]) -> Vec<u8> {
    let mut t = Vec::new();
    for (n, k, l, d) in entries {
        raw_entry(&mut t, n, *k, l, d);
    }
    t.extend(std::iter::repeat_n(0u8, 1024));
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(&t).unwrap();
    e.finish().unwrap()
}

use tar::EntryType::{Block, Char, Directory, Fifo, Link, Regular, Symlink};

#[test]
fn crafted_archives_are_refused() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let limits = FetchLimits::default();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("dot-dot", gz(&[("../evil.txt", Regular, "", b"x")])),
        (
            "nested dot-dot",
            gz(&[("a/../../evil.txt", Regular, "", b"x")]),
        ),
        (
            "inner dot-dot",
            gz(&[("a/../inside.txt", Regular, "", b"x")]),
        ),
        ("absolute", gz(&[("/tmp/evil-abs.txt", Regular, "", b"x")])),
        ("symlink up", gz(&[("link", Symlink, "../../etc", b"")])),
        (
            "symlink absolute",
            gz(&[("link", Symlink, "/etc/passwd", b"")]),
        ),
        (
            "symlink chain",
            gz(&[("r", Symlink, ".", b""), ("g", Symlink, "r/..", b"")]),
        ),
        (
            "write through symlink",
            gz(&[
                ("sub/", Directory, "", b""),
                ("d", Symlink, "sub", b""),
                ("d/x.txt", Regular, "", b"x"),
            ]),
        ),
        (
            "hard link",
            gz(&[("a.txt", Regular, "", b"x"), ("b.txt", Link, "a.txt", b"")]),
        ),
        ("char device", gz(&[("null", Char, "", b"")])),
        ("block device", gz(&[("disk", Block, "", b"")])),
        ("fifo", gz(&[("pipe", Fifo, "", b"")])),
        (
            "duplicate",
            gz(&[("a.txt", Regular, "", b"x"), ("a.txt", Regular, "", b"y")]),
        ),
    ];
    for (i, (what, bytes)) in cases.into_iter().enumerate() {
        let dest = tmp.path().join(format!("case-{i}/out"));
        let e = extract_tar_gz(&bytes[..], &dest, &limits).unwrap_err();
        assert!(matches!(e, FetchError::Unsafe(_)), "{what}: {e:?}");
        assert!(!dest.exists(), "{what}: destination removed after refusal");
        assert!(
            !tmp.path().join(format!("case-{i}/evil.txt")).exists(),
            "{what}"
        );
    }
    assert!(!std::path::Path::new("/tmp/evil-abs.txt").exists());

    // Caps: total size and entry count.
    let big = vec![b'a'; 4096];
    let small = FetchLimits {
        max_extracted_bytes: 1000,
        ..FetchLimits::default()
    };
    let e = extract_tar_gz(
        &gz(&[("big", Regular, "", &big)])[..],
        &tmp.path().join("big"),
        &small,
    )
    .unwrap_err();
    assert!(e.to_string().contains("exceeds the limit"), "{e}");
    let few = FetchLimits {
        max_entries: 2,
        ..FetchLimits::default()
    };
    let three = gz(&[
        ("a", Regular, "", b"1"),
        ("b", Regular, "", b"2"),
        ("c", Regular, "", b"3"),
    ]);
    let e = extract_tar_gz(&three[..], &tmp.path().join("many"), &few).unwrap_err();
    assert!(e.to_string().contains("entries"), "{e}");

    // A benign archive with an internal relative symlink is fine.
    let ok = gz(&[
        ("dir/", Directory, "", b""),
        ("dir/file.yaml", Regular, "", b"k: v\n"),
        ("dir/link.yaml", Symlink, "file.yaml", b""),
        ("top.yaml", Symlink, "dir/../dir/file.yaml", b""),
    ]);
    let dest = tmp.path().join("ok");
    assert_eq!(extract_tar_gz(&ok[..], &dest, &limits)?, 1);
    assert_eq!(
        std::fs::read_to_string(dest.join("dir/link.yaml"))?,
        "k: v\n"
    );
    assert_eq!(std::fs::read_to_string(dest.join("top.yaml"))?, "k: v\n");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_verifies_digest_before_extracting() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("storage");
    let (addr, _task) = start_server(&root).await?;
    let storage = Storage::new(&root, &addr.to_string())?;
    let src = tmp.path().join("src");
    for (p, c) in [
        ("apps/a.yaml", "a\n"),
        ("apps/b/c.yaml", "c\n"),
        ("run.sh", "#!/bin/sh\n"),
    ] {
        let f = src.join(p);
        std::fs::create_dir_all(f.parent().unwrap())?;
        std::fs::write(f, c)?;
    }
    let mut a = storage.new_artifact("GitRepository", "ns", "app", "main@sha1:1", "1.tar.gz");
    storage.archive(&mut a, &src, &IgnoreRules::none())?;

    let dest = tmp.path().join("consumer");
    let got = fetch_artifact(&a.url, &a.digest, &dest, &FetchLimits::default()).await?;
    assert_eq!(got.digest, a.digest);
    assert_eq!(got.files, 3);
    assert_eq!(list_tree(&dest), list_tree(&src));
    assert_eq!(std::fs::read_to_string(dest.join("apps/b/c.yaml"))?, "c\n");

    // Wrong expected digest: refused and nothing extracted.
    let wrong = format!("sha256:{}", "0".repeat(64));
    let dest2 = tmp.path().join("consumer2");
    let e = fetch_artifact(&a.url, &wrong, &dest2, &FetchLimits::default())
        .await
        .unwrap_err();
    assert!(matches!(e, FetchError::DigestMismatch { .. }), "{e:?}");
    assert!(!dest2.exists());

    // Tampered stored file (a crafted archive swapped in): refused by digest before extraction.
    std::fs::write(
        storage.local_path(&a.path)?,
        gz(&[("../pwned.txt", tar::EntryType::Regular, "", b"x")]),
    )?;
    let e = fetch_artifact(
        &a.url,
        &a.digest,
        &tmp.path().join("consumer3"),
        &FetchLimits::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, FetchError::DigestMismatch { .. }), "{e:?}");
    assert!(!tmp.path().join("pwned.txt").exists());

    // Bad inputs: missing artifact, non-http URL, malformed digest, unreachable server, size cap.
    let e = fetch_artifact(
        &format!("http://{addr}/gitrepository/ns/app/none.tar.gz"),
        &a.digest,
        &tmp.path().join("c4"),
        &FetchLimits::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, FetchError::Status { status: 404, .. }), "{e:?}");
    let e = fetch_artifact(
        "https://example.invalid/x",
        &a.digest,
        &tmp.path().join("c5"),
        &FetchLimits::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, FetchError::UnsupportedUrl { .. }), "{e:?}");
    let e = fetch_artifact(
        &a.url,
        "sha256:xyz",
        &tmp.path().join("c6"),
        &FetchLimits::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, FetchError::BadDigest { .. }), "{e:?}");
    let port = crate::common::free_port()?;
    let quick = FetchLimits {
        attempts: 2,
        backoff: Duration::from_millis(10),
        ..FetchLimits::default()
    };
    let e = fetch_artifact(
        &format!("http://127.0.0.1:{port}/x.tar.gz"),
        &a.digest,
        &tmp.path().join("c7"),
        &quick,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, FetchError::Transport { .. }), "{e:?}");
    let tiny = FetchLimits {
        max_download_bytes: 10,
        ..FetchLimits::default()
    };
    let mut b = storage.new_artifact("GitRepository", "ns", "app", "r", "2.tar.gz");
    storage.archive(&mut b, &src, &IgnoreRules::none())?;
    let e = fetch_artifact(&b.url, &b.digest, &tmp.path().join("c8"), &tiny)
        .await
        .unwrap_err();
    assert!(matches!(e, FetchError::TooLarge { .. }), "{e:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_retries_server_errors() -> Result<()> {
    use axum::http::StatusCode;
    let tmp = tempfile::tempdir()?;
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src)?;
    std::fs::write(src.join("a.yaml"), "a\n")?;
    let storage = Storage::new(tmp.path().join("st"), "h")?;
    let mut a = storage.new_artifact("OCIRepository", "ns", "o", "r", "a.tar.gz");
    storage.archive(&mut a, &src, &IgnoreRules::none())?;
    let bytes = std::fs::read(storage.local_path(&a.path)?)?;
    let hits = Arc::new(AtomicUsize::new(0));
    let h2 = hits.clone();
    let app = axum::Router::new().fallback(move || {
        let hits = h2.clone();
        let bytes = bytes.clone();
        async move {
            // Two failures, then success.
            if hits.fetch_add(1, Ordering::SeqCst) < 2 {
                (StatusCode::SERVICE_UNAVAILABLE, Vec::new())
            } else {
                (StatusCode::OK, bytes)
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let limits = FetchLimits {
        attempts: 4,
        backoff: Duration::from_millis(20),
        ..FetchLimits::default()
    };
    let got = fetch_artifact(
        &format!("http://{addr}/a.tar.gz"),
        &a.digest,
        &tmp.path().join("out"),
        &limits,
    )
    .await?;
    assert_eq!(got.digest, a.digest);
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    // With fewer attempts than failures the last status is reported.
    hits.store(0, Ordering::SeqCst);
    let limits = FetchLimits {
        attempts: 2,
        backoff: Duration::from_millis(10),
        ..FetchLimits::default()
    };
    let e = fetch_artifact(
        &format!("http://{addr}/a.tar.gz"),
        &a.digest,
        &tmp.path().join("out2"),
        &limits,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, FetchError::Status { status: 503, .. }), "{e:?}");
    task.abort();
    Ok(())
}
