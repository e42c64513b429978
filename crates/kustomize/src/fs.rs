//! The filesystem the engine reads through: a trait, the real disk, and an in-memory tree.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Component, Path, PathBuf};

/// What the engine needs from a filesystem. Paths handed in are absolute.
pub trait FileSystem: Send + Sync {
    /// Reads a whole regular file.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Whether `path` is a directory (after following symlinks).
    fn is_dir(&self, path: &Path) -> bool;
    /// Resolves `..`, `.` and symlinks; fails if the path does not exist.
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf>;
}

/// The machine's filesystem.
#[derive(Clone, Copy, Debug, Default)]
pub struct DiskFs;

impl FileSystem for DiskFs {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }
    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::canonicalize(path)
    }
}

/// An in-memory tree of files (no symlinks); directories exist implicitly.
#[derive(Clone, Debug, Default)]
pub struct MemFs {
    files: BTreeMap<PathBuf, Vec<u8>>,
    dirs: BTreeSet<PathBuf>,
}

impl MemFs {
    /// An empty tree holding only `/`.
    pub fn new() -> Self {
        let mut dirs = BTreeSet::new();
        dirs.insert(PathBuf::from("/"));
        MemFs {
            files: BTreeMap::new(),
            dirs,
        }
    }

    /// Adds a file (and its parent directories) at an absolute path.
    pub fn add_file(&mut self, path: impl AsRef<Path>, content: impl Into<Vec<u8>>) {
        let p = clean(path.as_ref());
        let mut d = p.parent();
        while let Some(dir) = d {
            self.dirs.insert(dir.to_path_buf());
            d = dir.parent();
        }
        self.files.insert(p, content.into());
    }
}

impl FileSystem for MemFs {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let p = clean(path);
        if self.dirs.contains(&p) {
            return Err(io::Error::other(format!(
                "read {}: is a directory",
                p.display()
            )));
        }
        self.files.get(&p).cloned().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("open {}: no such file or directory", p.display()),
            )
        })
    }
    fn is_dir(&self, path: &Path) -> bool {
        self.dirs.contains(&clean(path))
    }
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        let p = clean(path);
        if self.dirs.contains(&p) || self.files.contains_key(&p) {
            Ok(p)
        } else {
            Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("lstat {}: no such file or directory", p.display()),
            ))
        }
    }
}

/// Lexically cleans a path: drops `.`, resolves `..` against earlier parts (never above `/`).
pub fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                // `..` never climbs above `/`; for relative paths it is kept.
                if !out.pop() && !out.has_root() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memfs_reads_and_knows_dirs() {
        let mut fs = MemFs::new();
        fs.add_file("/a/b/c.yaml", "x: 1");
        assert!(fs.is_dir(Path::new("/a/b")));
        assert_eq!(fs.read(Path::new("/a/./b/../b/c.yaml")).unwrap(), b"x: 1");
        assert!(fs.read(Path::new("/a/b")).is_err());
        assert_eq!(clean(Path::new("/a/../../b")), PathBuf::from("/b"));
    }
}
