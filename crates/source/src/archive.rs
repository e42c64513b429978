//! Reproducible tar.gz packing of a directory tree: the same files give the same bytes.
//!
//! Only regular files are packed (as source-controller does), sorted by path, with uid/gid 0, empty
//! owner names, zero mtimes and modes normalised to 0o644 (0o755 when any execute bit is set).

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use sha2::{Digest, Sha256};

use crate::ignore::IgnoreRules;

/// Errors packing a directory.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Walking or reading the source tree failed.
    #[error("read {path} while archiving")]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Writing the archive failed.
    #[error("write archive")]
    Write(#[source] io::Error),
    /// A path is not valid UTF-8, which the tar paths we produce require.
    #[error("path {0} is not valid UTF-8")]
    NonUtf8Path(PathBuf),
}

/// What was written: `sha256:<hex>` of the compressed bytes, their size and the file count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveSummary {
    /// `sha256:<hex>` of the compressed stream.
    pub digest: String,
    /// Size of the compressed stream in bytes.
    pub size: u64,
    /// Number of files packed.
    pub files: usize,
}

/// A writer that hashes and counts everything written through it.
pub(crate) struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> HashingWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            written: 0,
        }
    }

    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    pub(crate) fn finish(self) -> (W, String, u64) {
        (
            self.inner,
            format!("sha256:{}", hex(&self.hasher.finalize())),
            self.written,
        )
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

/// Lists the regular files under `root` (sorted, `/`-separated relative paths) that `rules` keep.
pub fn list_files(root: &Path, rules: &IgnoreRules) -> Result<Vec<String>, ArchiveError> {
    let mut out = Vec::new();
    walk(root, "", rules, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(
    dir: &Path,
    prefix: &str,
    rules: &IgnoreRules,
    out: &mut Vec<String>,
) -> Result<(), ArchiveError> {
    let read_err = |source| ArchiveError::Read {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let entry = entry.map_err(read_err)?;
        let name = entry.file_name();
        let name = name
            .to_str()
            .ok_or_else(|| ArchiveError::NonUtf8Path(entry.path()))?;
        let rel = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        };
        // file_type() does not follow symlinks: links are neither packed nor followed.
        let ft = entry.file_type().map_err(read_err)?;
        if ft.is_dir() {
            if rules.can_prune_dir(&rel) {
                continue;
            }
            walk(&entry.path(), &rel, rules, out)?;
        } else if ft.is_file() && name == ".git" {
            // A submodule's `.git` is a file pointing into the parent repository: never content.
            continue;
        } else if ft.is_file() && !rules.is_excluded(&rel, false) {
            out.push(rel);
        }
    }
    Ok(())
}

/// Packs `files` (relative to `root`) into a reproducible tar.gz written to `out`.
pub fn write_tar_gz<W: Write>(
    root: &Path,
    files: &[String],
    out: W,
) -> Result<(W, ArchiveSummary), ArchiveError> {
    let hashing = HashingWriter::new(out);
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(hashing, Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    for rel in files {
        let path = root.join(rel);
        let read_err = |source| ArchiveError::Read {
            path: path.clone(),
            source,
        };
        let mut f = File::open(&path).map_err(read_err)?;
        let meta = f.metadata().map_err(read_err)?;
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(meta.len());
        header.set_mode(if is_executable(&meta) { 0o755 } else { 0o644 });
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        // Bound the read by the size in the header so a file growing meanwhile cannot corrupt the stream.
        let reader = (&mut f).take(meta.len());
        tar.append_data(&mut header, rel, reader)
            .map_err(ArchiveError::Write)?;
    }
    let gz = tar.into_inner().map_err(ArchiveError::Write)?;
    let hashing = gz.finish().map_err(ArchiveError::Write)?;
    let (out, digest, size) = hashing.finish();
    Ok((
        out,
        ArchiveSummary {
            digest,
            size,
            files: files.len(),
        },
    ))
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &std::fs::Metadata) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_tree_same_bytes_regardless_of_mtime_and_mode() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        for root in [a.path(), b.path()] {
            std::fs::create_dir_all(root.join("x/y")).unwrap();
            std::fs::write(root.join("x/y/z.yaml"), "z: 1\n").unwrap();
            std::fs::write(root.join("a.yaml"), "a: 1\n").unwrap();
        }
        // Different permissions (non-exec) and a later mtime must not change the output.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                b.path().join("a.yaml"),
                std::fs::Permissions::from_mode(0o600),
            )
            .unwrap();
        }
        std::fs::write(b.path().join("x/y/z.yaml"), "z: 1\n").unwrap();
        let none = IgnoreRules::none();
        let fa = list_files(a.path(), &none).unwrap();
        let fb = list_files(b.path(), &none).unwrap();
        assert_eq!(fa, vec!["a.yaml".to_string(), "x/y/z.yaml".to_string()]);
        let (ba, sa) = write_tar_gz(a.path(), &fa, Vec::new()).unwrap();
        let (bb, sb) = write_tar_gz(b.path(), &fb, Vec::new()).unwrap();
        assert_eq!(ba, bb);
        assert_eq!(sa, sb);
        assert_eq!(sa.size as usize, ba.len());
        assert!(sa.digest.starts_with("sha256:") && sa.digest.len() == 7 + 64);
        // Entries carry normalised metadata.
        let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(&ba[..]));
        for e in ar.entries().unwrap() {
            let e = e.unwrap();
            let h = e.header();
            assert_eq!(h.mtime().unwrap(), 0);
            assert_eq!(h.uid().unwrap(), 0);
            assert_eq!(h.mode().unwrap(), 0o644);
        }
    }

    #[test]
    fn hex_encoding() {
        assert_eq!(hex(&[0x00, 0xab, 0x10, 0xff]), "00ab10ff");
    }
}
