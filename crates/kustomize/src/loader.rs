//! Root-restricted loading: files only from inside the current kustomization directory,
//! directories only from inside the build's source root, cycles and depth bounded.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::Error;
use crate::fs::{FileSystem, clean};

/// Deepest chain of nested kustomizations we follow (bases of bases of ...).
pub const MAX_DEPTH: usize = 64;

/// Loads files relative to one kustomization directory.
#[derive(Clone)]
pub struct Loader {
    fs: Arc<dyn FileSystem>,
    /// Canonical directory of the kustomization this loader serves.
    root: PathBuf,
    /// Canonical directory nothing may be read outside of.
    source_root: PathBuf,
    /// Roots of the kustomizations that led here, outermost first (cycle detection).
    chain: Vec<PathBuf>,
}

/// Whether a resource path names a remote location, which we do not fetch.
pub fn is_remote(path: &str) -> bool {
    let p = path.trim();
    p.contains("://")
        || p.starts_with("git@")
        || p.starts_with("github.com/")
        || p.starts_with("gitlab.com/")
        || p.starts_with("bitbucket.org/")
        || p.contains("?ref=")
        || p.contains(".git//")
}

impl Loader {
    /// A loader for `dir`, refusing anything outside `source_root`.
    pub fn new(fs: Arc<dyn FileSystem>, source_root: &Path, dir: &Path) -> Result<Self, Error> {
        let source_root = fs.canonicalize(source_root).map_err(|e| Error::Io {
            op: "resolve source root",
            path: source_root.display().to_string(),
            source: e,
        })?;
        let root = fs.canonicalize(dir).map_err(|e| Error::Io {
            op: "resolve kustomization directory",
            path: dir.display().to_string(),
            source: e,
        })?;
        if !root.starts_with(&source_root) {
            return Err(Error::Security(format!(
                "directory '{}' is outside the source root '{}'",
                root.display(),
                source_root.display()
            )));
        }
        if !fs.is_dir(&root) {
            return Err(Error::NotADirectory(root.display().to_string()));
        }
        Ok(Loader {
            fs,
            root,
            source_root,
            chain: Vec::new(),
        })
    }

    /// The kustomization directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The underlying filesystem.
    pub fn fs(&self) -> &Arc<dyn FileSystem> {
        &self.fs
    }

    fn absolute(&self, rel: &str) -> PathBuf {
        clean(&self.root.join(rel))
    }

    /// Whether `rel` names a directory (inside the source root).
    pub fn is_dir(&self, rel: &str) -> bool {
        self.fs.is_dir(&self.absolute(rel))
    }

    /// Reads a file that must lie in or below this kustomization's directory, also after
    /// following symlinks (kustomize's root-only load restrictor).
    pub fn load(&self, rel: &str) -> Result<Vec<u8>, Error> {
        if is_remote(rel) {
            return Err(Error::Remote(rel.to_string()));
        }
        let abs = self.absolute(rel);
        if !abs.starts_with(&self.root) {
            return Err(Error::Security(format!(
                "file '{}' is not in or below '{}'",
                abs.display(),
                self.root.display()
            )));
        }
        let real = self.fs.canonicalize(&abs).map_err(|e| Error::Io {
            op: "read",
            path: abs.display().to_string(),
            source: e,
        })?;
        if !real.starts_with(&self.root) {
            return Err(Error::Security(format!(
                "file '{}' resolves to '{}', which is not in or below '{}'",
                abs.display(),
                real.display(),
                self.root.display()
            )));
        }
        self.fs.read(&real).map_err(|e| Error::Io {
            op: "read",
            path: abs.display().to_string(),
            source: e,
        })
    }

    /// A loader for a sub-kustomization directory `rel` (a base, resource dir or component).
    pub fn child(&self, rel: &str) -> Result<Loader, Error> {
        if is_remote(rel) {
            return Err(Error::Remote(rel.to_string()));
        }
        let abs = self.absolute(rel);
        let real = self.fs.canonicalize(&abs).map_err(|e| Error::Io {
            op: "resolve directory",
            path: abs.display().to_string(),
            source: e,
        })?;
        if !real.starts_with(&self.source_root) {
            return Err(Error::Security(format!(
                "path '{}' resolves to '{}', which is outside the source root '{}'",
                rel,
                real.display(),
                self.source_root.display()
            )));
        }
        if !self.fs.is_dir(&real) {
            return Err(Error::NotADirectory(abs.display().to_string()));
        }
        let mut chain = self.chain.clone();
        chain.push(self.root.clone());
        for visited in &chain {
            if visited.starts_with(&real) {
                return Err(Error::Cycle {
                    candidate: real.display().to_string(),
                    visited: visited.display().to_string(),
                });
            }
        }
        if chain.len() >= MAX_DEPTH {
            return Err(Error::TooDeep {
                path: real.display().to_string(),
                max: MAX_DEPTH,
            });
        }
        Ok(Loader {
            fs: self.fs.clone(),
            root: real,
            source_root: self.source_root.clone(),
            chain,
        })
    }
}
