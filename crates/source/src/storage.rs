//! Artifact storage in Flux's layout `<kind>/<namespace>/<name>/<file>` under one root directory.
//!
//! Files are written to a temporary file in the object's directory and renamed into place, so readers
//! (the artifact server) never see partial artifacts. Writers of one object serialise on a lock file.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

use api::meta::Artifact;

use crate::archive::{self, ArchiveError, HashingWriter};
use crate::ignore::IgnoreRules;

/// Name of the per-object lock file; never served and never garbage-collected.
pub const LOCK_FILE: &str = ".lock";

/// Errors of storage operations.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The storage root could not be created.
    #[error("create storage root {path}")]
    Root {
        /// The root.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// An artifact path would leave the storage root or has an invalid component.
    #[error("invalid artifact path {0:?}")]
    InvalidPath(String),
    /// Writing an artifact failed.
    #[error("write artifact {path}")]
    Write {
        /// The artifact path relative to the root.
        path: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Packing a directory into an artifact failed.
    #[error("archive directory {dir} into artifact {path}")]
    Archive {
        /// The directory being packed.
        dir: PathBuf,
        /// The artifact path relative to the root.
        path: String,
        /// The cause.
        #[source]
        source: ArchiveError,
    },
    /// Reading, listing or deleting stored files failed.
    #[error("{op} {path}")]
    Io {
        /// The operation, e.g. `remove artifact`.
        op: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Including another artifact failed (bad paths, unsafe archive, missing `fromPath`).
    #[error("include artifact {path}: {reason}")]
    Include {
        /// The included artifact's path.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The stored file's digest differs from the artifact's.
    #[error("artifact {path} digest mismatch: expected {expected}, found {actual}")]
    DigestMismatch {
        /// The artifact path relative to the root.
        path: String,
        /// The digest the artifact records.
        expected: String,
        /// The digest of the stored file.
        actual: String,
    },
}

/// How many old artifacts to keep per object and for how long: Flux's
/// `--artifact-retention-records` (default 2) and `--artifact-retention-ttl` (default 60s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Maximum number of files kept per object, the current artifact included.
    pub records: usize,
    /// Files older than this are deleted (the current artifact never is).
    pub ttl: Duration,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            records: 2,
            ttl: Duration::from_secs(60),
        }
    }
}

/// The artifact store: a root directory and the base URL under which the artifact server serves it.
#[derive(Debug, Clone)]
pub struct Storage {
    root: PathBuf,
    base_url: String,
}

/// Holds the per-object lock until dropped.
#[derive(Debug)]
pub struct ObjectLock {
    _file: File,
}

impl Storage {
    /// Opens (creating if needed) the store at `root`; `base_url` is the advertised address,
    /// e.g. `http://source-controller.flux-system.svc.cluster.local.` (a trailing `/` is trimmed).
    pub fn new(root: impl Into<PathBuf>, base_url: &str) -> Result<Self, StorageError> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(|source| StorageError::Root {
            path: root.clone(),
            source,
        })?;
        let base_url = if base_url.contains("://") {
            base_url.trim_end_matches('/').to_string()
        } else {
            // Flux's --storage-adv-addr is a host[:port]; the scheme is always http.
            format!("http://{}", base_url.trim_end_matches('/'))
        };
        Ok(Storage { root, base_url })
    }

    /// The storage root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The advertised base URL (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Flux's artifact path `<kind>/<namespace>/<name>/<file>`, kind lower-cased.
    pub fn artifact_path(kind: &str, namespace: &str, name: &str, file: &str) -> String {
        format!("{}/{namespace}/{name}/{file}", kind.to_lowercase())
    }

    /// A new artifact (not yet written) for an object; digest, size and time are filled in on write.
    pub fn new_artifact(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        revision: &str,
        file: &str,
    ) -> Artifact {
        let path = Self::artifact_path(kind, namespace, name, file);
        Artifact {
            url: self.url_for(&path),
            path,
            revision: revision.to_string(),
            ..Default::default()
        }
    }

    /// The HTTP URL of a storage-relative path.
    pub fn url_for(&self, path: &str) -> String {
        format!("{}/{}", self.base_url, path.trim_start_matches('/'))
    }

    /// The local file of a storage-relative path, refusing anything that would leave the root.
    pub fn local_path(&self, path: &str) -> Result<PathBuf, StorageError> {
        Ok(self.root.join(checked_rel_path(path)?))
    }

    /// Whether the artifact's file exists.
    pub fn exists(&self, artifact: &Artifact) -> bool {
        self.local_path(&artifact.path)
            .map(|p| p.is_file())
            .unwrap_or(false)
    }

    /// Takes the lock of the object owning `artifact` (its directory), blocking until available.
    pub fn lock(&self, artifact: &Artifact) -> Result<ObjectLock, StorageError> {
        let file = self.local_path(&artifact.path)?;
        let dir = file
            .parent()
            .ok_or_else(|| StorageError::InvalidPath(artifact.path.clone()))?;
        let io_err = |op, source| StorageError::Io {
            op,
            path: dir.to_path_buf(),
            source,
        };
        fs::create_dir_all(dir).map_err(|e| io_err("create artifact directory", e))?;
        let f = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(LOCK_FILE))
            .map_err(|e| io_err("open lock file in", e))?;
        f.lock().map_err(|e| io_err("lock", e))?;
        Ok(ObjectLock { _file: f })
    }

    /// Packs `dir` (minus what `rules` exclude) into the artifact's file as a reproducible tar.gz and
    /// fills in its digest, size, URL and last update time.
    pub fn archive(
        &self,
        artifact: &mut Artifact,
        dir: &Path,
        rules: &IgnoreRules,
    ) -> Result<(), StorageError> {
        let arch_err = |source| StorageError::Archive {
            dir: dir.to_path_buf(),
            path: artifact.path.clone(),
            source,
        };
        let files = archive::list_files(dir, rules).map_err(arch_err)?;
        let path = artifact.path.clone();
        let (digest, size) = self.write_atomic(&path, |tmp| {
            let (_, summary) = archive::write_tar_gz(dir, &files, io::BufWriter::new(tmp))
                .map_err(|source| StorageError::Archive {
                    dir: dir.to_path_buf(),
                    path: path.clone(),
                    source,
                })?;
            Ok((summary.digest, summary.size))
        })?;
        self.fill(artifact, digest, size);
        Ok(())
    }

    /// Copies `reader` into the artifact's file atomically and fills in digest, size, URL and time.
    pub fn copy(&self, artifact: &mut Artifact, reader: &mut dyn Read) -> Result<(), StorageError> {
        let path = artifact.path.clone();
        let (digest, size) = self.write_atomic(&path, |tmp| {
            let mut w = HashingWriter::new(io::BufWriter::new(tmp));
            io::copy(reader, &mut w).map_err(|source| StorageError::Write {
                path: path.clone(),
                source,
            })?;
            let (mut inner, digest, size) = w.finish();
            inner.flush().map_err(|source| StorageError::Write {
                path: path.clone(),
                source,
            })?;
            Ok((digest, size))
        })?;
        self.fill(artifact, digest, size);
        Ok(())
    }

    fn fill(&self, artifact: &mut Artifact, digest: String, size: u64) {
        artifact.digest = digest;
        artifact.size = Some(size as i64);
        artifact.url = self.url_for(&artifact.path);
        artifact.last_update_time = rfc3339(SystemTime::now());
    }

    /// Runs `write` against a temp file next to the target, then fsyncs and renames it into place.
    fn write_atomic<T>(
        &self,
        path: &str,
        write: impl FnOnce(&mut File) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let target = self.local_path(path)?;
        let dir = target
            .parent()
            .ok_or_else(|| StorageError::InvalidPath(path.to_string()))?;
        let werr = |source| StorageError::Write {
            path: path.to_string(),
            source,
        };
        fs::create_dir_all(dir).map_err(werr)?;
        // Temp names start with '.' so the server and the garbage collector never pick them up.
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(dir)
            .map_err(werr)?;
        let out = write(tmp.as_file_mut())?;
        tmp.as_file().sync_all().map_err(werr)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o644)).map_err(werr)?;
        }
        tmp.persist(&target).map_err(|e| werr(e.error))?;
        Ok(out)
    }

    /// Recomputes the digest of the stored file and compares it with the artifact's.
    pub fn verify(&self, artifact: &Artifact) -> Result<(), StorageError> {
        let p = self.local_path(&artifact.path)?;
        let mut f = File::open(&p).map_err(|source| StorageError::Io {
            op: "open artifact",
            path: p.clone(),
            source,
        })?;
        let mut w = HashingWriter::new(io::sink());
        io::copy(&mut f, &mut w).map_err(|source| StorageError::Io {
            op: "read artifact",
            path: p.clone(),
            source,
        })?;
        let (_, actual, _) = w.finish();
        if actual != artifact.digest {
            return Err(StorageError::DigestMismatch {
                path: artifact.path.clone(),
                expected: artifact.digest.clone(),
                actual,
            });
        }
        Ok(())
    }

    /// Deletes old files of the object owning `current` by Flux's retention rules: files beyond
    /// `records` (newest kept) or older than `ttl`; `current` itself is always kept. Returns the
    /// deleted paths (storage-relative).
    pub fn garbage_collect(
        &self,
        current: &Artifact,
        policy: RetentionPolicy,
    ) -> Result<Vec<String>, StorageError> {
        let file = self.local_path(&current.path)?;
        let Some(dir) = file.parent() else {
            return Ok(Vec::new());
        };
        let io_err = |op, source| StorageError::Io {
            op,
            path: dir.to_path_buf(),
            source,
        };
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err("list artifacts in", e)),
        };
        let mut files = Vec::new();
        for e in entries {
            let e = e.map_err(|e| io_err("list artifacts in", e))?;
            let name = e.file_name().to_string_lossy().into_owned();
            let meta = e.metadata().map_err(|e| io_err("stat artifact in", e))?;
            if !meta.is_file() || name.starts_with('.') {
                continue;
            }
            let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            files.push((mtime, name));
        }
        // Newest first; the current artifact counts as one of the kept records.
        files.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
        let current_name = file.file_name().map(|n| n.to_string_lossy().into_owned());
        let now = SystemTime::now();
        let mut kept = usize::from(
            current_name
                .as_ref()
                .is_some_and(|c| files.iter().any(|f| &f.1 == c)),
        );
        let mut deleted = Vec::new();
        for (mtime, name) in files {
            if Some(&name) == current_name.as_ref() {
                continue;
            }
            let expired = now.duration_since(mtime).unwrap_or_default() > policy.ttl;
            if kept < policy.records && !expired {
                kept += 1;
                continue;
            }
            let p = dir.join(&name);
            fs::remove_file(&p).map_err(|source| StorageError::Io {
                op: "remove artifact",
                path: p.clone(),
                source,
            })?;
            let rel = Path::new(&current.path)
                .parent()
                .map(|d| format!("{}/{name}", d.display()))
                .unwrap_or(name);
            deleted.push(rel);
        }
        Ok(deleted)
    }

    /// Copies the contents of a stored artifact (a GitRepository `include`) into `dest_root/to_path`:
    /// verifies its digest, extracts it safely, and copies the `from_path` subtree (default: all).
    /// Both paths must stay inside their roots; existing files at the destination are overwritten.
    pub fn include(
        &self,
        artifact: &Artifact,
        from_path: Option<&str>,
        dest_root: &Path,
        to_path: &str,
    ) -> Result<(), StorageError> {
        let fail = |reason: String| StorageError::Include {
            path: artifact.path.clone(),
            reason,
        };
        let from = inner_path(from_path.unwrap_or("")).ok_or_else(|| {
            fail(format!(
                "fromPath {:?} leaves the artifact",
                from_path.unwrap_or("")
            ))
        })?;
        let to = inner_path(to_path)
            .ok_or_else(|| fail(format!("toPath {to_path:?} leaves the source root")))?;
        self.verify(artifact)?;
        let file = self.local_path(&artifact.path)?;
        let tmp =
            tempfile::tempdir().map_err(|e| fail(format!("create temporary directory: {e}")))?;
        let out = tmp.path().join("x");
        let f = File::open(&file).map_err(|e| fail(format!("open: {e}")))?;
        crate::fetch::extract_tar_gz(
            io::BufReader::new(f),
            &out,
            &crate::fetch::FetchLimits::default(),
        )
        .map_err(|e| fail(e.to_string()))?;
        let src = out.join(&from);
        if !src.is_dir() {
            return Err(fail(format!(
                "fromPath {:?} not found",
                from_path.unwrap_or("")
            )));
        }
        let dst = dest_root.join(&to);
        copy_tree(&src, &dst).map_err(|e| fail(format!("copy into {}: {e}", dst.display())))
    }

    /// Removes every stored file of an object (on deletion of the object).
    pub fn remove_all(&self, kind: &str, namespace: &str, name: &str) -> Result<(), StorageError> {
        let dir = self.local_path(&format!("{}/{namespace}/{name}", kind.to_lowercase()))?;
        match fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StorageError::Io {
                op: "remove artifacts of",
                path: dir,
                source,
            }),
        }
    }
}

/// A relative path of normal components (`.` allowed, `..` and absolute refused); empty is the root.
fn inner_path(p: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in Path::new(p).components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

/// Copies regular files and directories (links are not followed or copied).
fn copy_tree(src: &Path, dst: &Path) -> io::Result<()> {
    fs::create_dir_all(dst)?;
    for e in fs::read_dir(src)? {
        let e = e?;
        let ft = e.file_type()?;
        let target = dst.join(e.file_name());
        if ft.is_dir() {
            copy_tree(&e.path(), &target)?;
        } else if ft.is_file() {
            fs::copy(e.path(), &target)?;
        }
    }
    Ok(())
}

/// A storage-relative path made only of normal components that do not start with `.`.
pub(crate) fn checked_rel_path(path: &str) -> Result<PathBuf, StorageError> {
    let p = Path::new(path);
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(s) if !s.to_string_lossy().starts_with('.') => out.push(s),
            _ => return Err(StorageError::InvalidPath(path.to_string())),
        }
    }
    if out.as_os_str().is_empty() {
        return Err(StorageError::InvalidPath(path.to_string()));
    }
    Ok(out)
}

/// Formats a time as RFC 3339 UTC with second precision, as Kubernetes `metav1.Time` does.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_format() {
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_709_251_199);
        assert_eq!(rfc3339(t), "2024-02-29T23:59:59Z");
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(t), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn paths_stay_inside_root() {
        for bad in ["../x", "/etc/passwd", "a/../../b", "", ".lock", "a/.tmp-1"] {
            assert!(checked_rel_path(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            checked_rel_path("gitrepository/ns/n/abc.tar.gz").unwrap(),
            PathBuf::from("gitrepository/ns/n/abc.tar.gz")
        );
        assert_eq!(
            Storage::artifact_path("GitRepository", "ns", "n", "f.tar.gz"),
            "gitrepository/ns/n/f.tar.gz"
        );
    }
}
