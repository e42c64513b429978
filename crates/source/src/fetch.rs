//! The artifact consumer: download an artifact over HTTP with retries, verify its digest before
//! anything is unpacked, and extract the tar.gz safely.
//!
//! Extraction refuses absolute paths, `..`, links whose target leaves the destination, writing
//! through links, hard links, device/FIFO entries, and archives over the size or entry caps.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::archive::HashingWriter;

/// Caps and retry settings for [`fetch_artifact`].
#[derive(Debug, Clone)]
pub struct FetchLimits {
    /// Maximum size of the downloaded (compressed) file.
    pub max_download_bytes: u64,
    /// Maximum total size of the extracted files.
    pub max_extracted_bytes: u64,
    /// Maximum number of archive entries.
    pub max_entries: usize,
    /// Attempts in all (at least 1); connection errors and 5xx responses are retried.
    pub attempts: u32,
    /// Delay before the first retry; doubles each time.
    pub backoff: Duration,
    /// Timeout of one attempt.
    pub timeout: Duration,
}

impl Default for FetchLimits {
    fn default() -> Self {
        FetchLimits {
            max_download_bytes: 1 << 30,
            max_extracted_bytes: 4 << 30,
            max_entries: 1_000_000,
            attempts: 5,
            backoff: Duration::from_millis(200),
            timeout: Duration::from_secs(120),
        }
    }
}

/// Errors of downloading, verifying and extracting an artifact.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The URL is not an `http://` URL.
    #[error("fetch artifact {url}: unsupported URL (only http:// is accepted)")]
    UnsupportedUrl {
        /// The URL.
        url: String,
    },
    /// The server could not be reached or the transfer failed, after all retries.
    #[error("fetch artifact {url}: {message}")]
    Transport {
        /// The URL.
        url: String,
        /// What went wrong in the last attempt.
        message: String,
    },
    /// The server answered with an error status.
    #[error("fetch artifact {url}: HTTP status {status}")]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The download exceeded `max_download_bytes`.
    #[error("fetch artifact {url}: larger than the limit of {limit} bytes")]
    TooLarge {
        /// The URL.
        url: String,
        /// The limit.
        limit: u64,
    },
    /// The expected digest is not `sha256:<64 hex>`.
    #[error("verify artifact {url}: unsupported digest {digest:?}")]
    BadDigest {
        /// The URL.
        url: String,
        /// The digest given.
        digest: String,
    },
    /// The downloaded bytes do not have the expected digest; nothing was extracted.
    #[error("verify artifact {url}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// The URL.
        url: String,
        /// The expected digest.
        expected: String,
        /// The digest of the downloaded bytes.
        actual: String,
    },
    /// The archive is unsafe or over the caps; the destination was removed.
    #[error("extract artifact: {0}")]
    Unsafe(String),
    /// Local I/O failed.
    #[error("{op} {path}")]
    Io {
        /// The operation.
        op: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// What [`fetch_artifact`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedArtifact {
    /// The verified digest.
    pub digest: String,
    /// Size of the downloaded file.
    pub size: u64,
    /// Number of files extracted.
    pub files: usize,
}

/// Downloads `url`, verifies it against `expected_digest` (`sha256:<hex>`), and extracts it into
/// `dest` (created; must not exist or be empty). On any error after extraction began, `dest` is removed.
pub async fn fetch_artifact(
    url: &str,
    expected_digest: &str,
    dest: &Path,
    limits: &FetchLimits,
) -> Result<FetchedArtifact, FetchError> {
    let expected = normalise_digest(url, expected_digest)?;
    let tmp = tempfile::NamedTempFile::new().map_err(|source| FetchError::Io {
        op: "create temporary file for",
        path: PathBuf::from(url),
        source,
    })?;
    let (digest, size) = download(url, tmp.path(), limits).await?;
    if digest != expected {
        return Err(FetchError::DigestMismatch {
            url: url.to_string(),
            expected,
            actual: digest,
        });
    }
    let dest = dest.to_path_buf();
    let archive = tmp.path().to_path_buf();
    let limits2 = limits.clone();
    let files = tokio::task::spawn_blocking(move || {
        let f = File::open(&archive).map_err(|source| FetchError::Io {
            op: "open downloaded artifact",
            path: archive.clone(),
            source,
        })?;
        extract_tar_gz(io::BufReader::new(f), &dest, &limits2)
    })
    .await
    .map_err(|e| FetchError::Unsafe(format!("extraction task failed: {e}")))??;
    drop(tmp);
    Ok(FetchedArtifact {
        digest,
        size,
        files,
    })
}

fn normalise_digest(url: &str, d: &str) -> Result<String, FetchError> {
    match d.strip_prefix("sha256:") {
        Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(format!("sha256:{}", h.to_ascii_lowercase()))
        }
        _ => Err(FetchError::BadDigest {
            url: url.to_string(),
            digest: d.to_string(),
        }),
    }
}

/// Downloads into `to`, returning the digest and size; retries transport errors and 5xx.
async fn download(url: &str, to: &Path, limits: &FetchLimits) -> Result<(String, u64), FetchError> {
    let uri: hyper::Uri = url.parse().map_err(|_| FetchError::UnsupportedUrl {
        url: url.to_string(),
    })?;
    if uri.scheme_str() != Some("http") {
        return Err(FetchError::UnsupportedUrl {
            url: url.to_string(),
        });
    }
    let client: Client<_, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let mut delay = limits.backoff;
    let mut last = None;
    for attempt in 0..limits.attempts.max(1) {
        if attempt > 0 {
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
        let once =
            tokio::time::timeout(limits.timeout, attempt_once(&client, &uri, url, to, limits));
        match once.await {
            Ok(Ok(r)) => return Ok(r),
            Ok(Err(e @ FetchError::Transport { .. })) => last = Some(e),
            Ok(Err(e @ FetchError::Status { status, .. })) if status >= 500 => last = Some(e),
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                last = Some(FetchError::Transport {
                    url: url.to_string(),
                    message: format!("timed out after {:?}", limits.timeout),
                })
            }
        }
    }
    Err(last.expect("at least one attempt"))
}

async fn attempt_once(
    client: &Client<hyper_util::client::legacy::connect::HttpConnector, Empty<Bytes>>,
    uri: &hyper::Uri,
    url: &str,
    to: &Path,
    limits: &FetchLimits,
) -> Result<(String, u64), FetchError> {
    let transport = |e: &dyn std::fmt::Display| FetchError::Transport {
        url: url.to_string(),
        message: e.to_string(),
    };
    let resp = client
        .get(uri.clone())
        .await
        .map_err(|e| transport(&error_chain(&e)))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(FetchError::Status {
            url: url.to_string(),
            status: status.as_u16(),
        });
    }
    let io_err = |source| FetchError::Io {
        op: "write downloaded artifact",
        path: to.to_path_buf(),
        source,
    };
    let file = File::create(to).map_err(io_err)?;
    let mut w = HashingWriter::new(io::BufWriter::new(file));
    let mut body = resp.into_body();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| transport(&error_chain(&e)))?;
        if let Ok(data) = frame.into_data() {
            w.write_all(&data).map_err(io_err)?;
            // `written` is checked through finish() only at the end; track here for the cap.
            if w_written(&w) > limits.max_download_bytes {
                return Err(FetchError::TooLarge {
                    url: url.to_string(),
                    limit: limits.max_download_bytes,
                });
            }
        }
    }
    let (mut inner, digest, size) = w.finish();
    inner.flush().map_err(io_err)?;
    Ok((digest, size))
}

fn w_written<W: Write>(w: &HashingWriter<W>) -> u64 {
    w.written()
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Extracts a tar.gz stream into `dest` under the safety rules of this module; returns the number
/// of regular files written. On error `dest` is removed.
pub fn extract_tar_gz<R: Read>(
    reader: R,
    dest: &Path,
    limits: &FetchLimits,
) -> Result<usize, FetchError> {
    let io_err = |op, path: &Path, source| FetchError::Io {
        op,
        path: path.to_path_buf(),
        source,
    };
    if dest.exists() {
        let mut it = fs::read_dir(dest).map_err(|e| io_err("read destination", dest, e))?;
        if it.next().is_some() {
            return Err(FetchError::Unsafe(format!(
                "destination {} is not empty",
                dest.display()
            )));
        }
    }
    fs::create_dir_all(dest).map_err(|e| io_err("create destination", dest, e))?;
    let result = extract_inner(reader, dest, limits);
    if result.is_err() {
        let _ = fs::remove_dir_all(dest);
    }
    result
}

fn extract_inner<R: Read>(
    reader: R,
    dest: &Path,
    limits: &FetchLimits,
) -> Result<usize, FetchError> {
    let unsafe_err = |m: String| FetchError::Unsafe(m);
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(reader));
    let mut total: u64 = 0;
    let mut files = 0usize;
    let mut links = Vec::new();
    let entries = ar
        .entries()
        .map_err(|e| unsafe_err(format!("read archive: {e}")))?;
    for (n, entry) in entries.enumerate() {
        if n >= limits.max_entries {
            return Err(unsafe_err(format!(
                "more than {} entries",
                limits.max_entries
            )));
        }
        let mut entry = entry.map_err(|e| unsafe_err(format!("read archive entry: {e}")))?;
        let raw = entry
            .path()
            .map_err(|e| unsafe_err(format!("read entry path: {e}")))?
            .into_owned();
        // Entry names may not contain `..` at all (even when it would stay inside).
        let rel = safe_rel(&raw)
            .filter(|_| !raw.components().any(|c| c == Component::ParentDir))
            .ok_or_else(|| unsafe_err(format!("entry {:?} escapes the destination", raw)))?;
        if rel.as_os_str().is_empty() {
            continue; // "./" root entry
        }
        let target = dest.join(&rel);
        ensure_no_link_ancestors(dest, &rel)?;
        let kind = entry.header().entry_type();
        match kind {
            tar::EntryType::Directory => {
                fs::create_dir_all(&target).map_err(|e| FetchError::Io {
                    op: "create directory",
                    path: target.clone(),
                    source: e,
                })?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let size = entry.header().size().unwrap_or(u64::MAX);
                total = total.saturating_add(size);
                if total > limits.max_extracted_bytes {
                    return Err(unsafe_err(format!(
                        "extracted size exceeds the limit of {} bytes",
                        limits.max_extracted_bytes
                    )));
                }
                if let Some(parent) = target.parent() {
                    fs::create_dir_all(parent).map_err(|e| FetchError::Io {
                        op: "create directory",
                        path: parent.to_path_buf(),
                        source: e,
                    })?;
                }
                if fs::symlink_metadata(&target).is_ok() {
                    return Err(unsafe_err(format!("entry {:?} appears twice", raw)));
                }
                let mut out = File::create(&target).map_err(|e| FetchError::Io {
                    op: "create file",
                    path: target.clone(),
                    source: e,
                })?;
                // Copy at most the declared size: the header total is what the cap was checked against.
                let copied = io::copy(&mut (&mut entry).take(size), &mut out).map_err(|e| {
                    FetchError::Io {
                        op: "write file",
                        path: target.clone(),
                        source: e,
                    }
                })?;
                if copied != size {
                    return Err(unsafe_err(format!("entry {:?} is truncated", raw)));
                }
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = entry.header().mode().unwrap_or(0o644);
                    let mode = if mode & 0o111 != 0 { 0o755 } else { 0o644 };
                    let _ = fs::set_permissions(&target, fs::Permissions::from_mode(mode));
                }
                files += 1;
            }
            tar::EntryType::Symlink => {
                let link = entry
                    .link_name()
                    .map_err(|e| unsafe_err(format!("read link of {:?}: {e}", raw)))?
                    .ok_or_else(|| unsafe_err(format!("symlink {:?} without target", raw)))?
                    .into_owned();
                let parent = rel.parent().unwrap_or(Path::new(""));
                if link.is_absolute() || safe_rel(&parent.join(&link)).is_none() {
                    return Err(unsafe_err(format!(
                        "symlink {:?} -> {:?} escapes the destination",
                        raw, link
                    )));
                }
                if let Some(p) = target.parent() {
                    fs::create_dir_all(p).map_err(|e| FetchError::Io {
                        op: "create directory",
                        path: p.to_path_buf(),
                        source: e,
                    })?;
                }
                make_symlink(&link, &target)?;
                links.push(target);
            }
            tar::EntryType::Link => {
                return Err(unsafe_err(format!("hard link {:?} is not allowed", raw)));
            }
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => {}
            other => {
                return Err(unsafe_err(format!(
                    "entry {:?} has unsupported type {:?} (devices, FIFOs and the like are refused)",
                    raw, other
                )));
            }
        }
    }
    // Links that were each fine lexically can still combine into an escape; resolve them for real.
    let root = fs::canonicalize(dest).map_err(|e| FetchError::Io {
        op: "resolve destination",
        path: dest.to_path_buf(),
        source: e,
    })?;
    for l in links {
        if let Ok(real) = fs::canonicalize(&l)
            && !real.starts_with(&root)
        {
            return Err(unsafe_err(format!(
                "symlink {} resolves outside the destination",
                l.display()
            )));
        }
    }
    Ok(files)
}

#[cfg(unix)]
fn make_symlink(link: &Path, at: &Path) -> Result<(), FetchError> {
    std::os::unix::fs::symlink(link, at).map_err(|e| FetchError::Io {
        op: "create symlink",
        path: at.to_path_buf(),
        source: e,
    })
}

#[cfg(not(unix))]
fn make_symlink(_link: &Path, at: &Path) -> Result<(), FetchError> {
    Err(FetchError::Unsafe(format!(
        "symlink {} not supported on this platform",
        at.display()
    )))
}

/// Lexically normalises a relative path; `None` if it is absolute or climbs above its start.
fn safe_rel(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Refuses entries whose parent directories include an already extracted symlink.
fn ensure_no_link_ancestors(dest: &Path, rel: &Path) -> Result<(), FetchError> {
    let mut cur = dest.to_path_buf();
    let comps: Vec<_> = rel.components().collect();
    for c in &comps[..comps.len().saturating_sub(1)] {
        cur.push(c);
        if let Ok(m) = fs::symlink_metadata(&cur)
            && m.file_type().is_symlink()
        {
            return Err(FetchError::Unsafe(format!(
                "entry {} would be written through symlink {}",
                rel.display(),
                cur.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_normalisation() {
        assert_eq!(safe_rel(Path::new("a/./b")), Some(PathBuf::from("a/b")));
        assert_eq!(safe_rel(Path::new("a/../b")), Some(PathBuf::from("b")));
        assert_eq!(safe_rel(Path::new("../b")), None);
        assert_eq!(safe_rel(Path::new("a/../../b")), None);
        assert_eq!(safe_rel(Path::new("/etc")), None);
    }

    #[test]
    fn corrupted_archives_are_errors_not_panics() {
        // Flip bytes of a valid archive (before and after gzip) and make sure extraction either
        // succeeds inside the destination or fails cleanly.
        let src = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(src.path().join("d")).unwrap();
        std::fs::write(src.path().join("d/a.yaml"), "a: 1\n".repeat(50)).unwrap();
        std::fs::write(src.path().join("b.txt"), "b").unwrap();
        let files =
            crate::archive::list_files(src.path(), &crate::ignore::IgnoreRules::none()).unwrap();
        let (gz, _) = crate::archive::write_tar_gz(src.path(), &files, Vec::new()).unwrap();
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut raw)
            .unwrap();
        let out = tempfile::tempdir().unwrap();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..300 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut tar_bytes = raw.clone();
            let pos = (state as usize) % tar_bytes.len();
            tar_bytes[pos] ^= (state >> 32) as u8 | 1;
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(&tar_bytes).unwrap();
            let mut gz_bytes = enc.finish().unwrap();
            if i % 2 == 1 {
                gz_bytes = gz.clone();
                let p = (state as usize) % gz_bytes.len();
                gz_bytes[p] ^= 0x5a;
            }
            let dest = out.path().join(format!("o{i}"));
            if extract_tar_gz(&gz_bytes[..], &dest, &FetchLimits::default()).is_err() {
                assert!(!dest.exists(), "failed extraction leaves nothing behind");
            }
        }
        // Nothing was ever written next to the destinations.
        for e in std::fs::read_dir(out.path()).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(name.starts_with('o'), "{name}");
        }
    }

    #[test]
    fn digest_format() {
        assert!(normalise_digest("u", "sha256:abc").is_err());
        assert!(normalise_digest("u", "md5:00").is_err());
        let d = format!("sha256:{}", "A".repeat(64));
        assert_eq!(
            normalise_digest("u", &d).unwrap(),
            format!("sha256:{}", "a".repeat(64))
        );
    }
}
