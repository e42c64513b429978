//! Flux's `.sourceignore` semantics: gitignore syntax, the default excludes, `.sourceignore` files in
//! any directory (scoped to it) and `spec.ignore`.
//!
//! Order (later rules win, `!pattern` re-includes): the VCS excludes; the default excludes unless
//! `spec.ignore` is set (then it replaces them); every `.sourceignore`, parents before children; `spec.ignore`.

use std::path::{Path, PathBuf};

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

/// Name of the per-directory ignore file.
pub const SOURCE_IGNORE_FILE: &str = ".sourceignore";
/// Version-control files always excluded.
pub const EXCLUDE_VCS: &[&str] = &[".git/", ".gitignore", ".gitmodules", ".gitattributes"];
/// Binary and archive extensions excluded unless `spec.ignore` is set.
pub const EXCLUDE_EXT: &[&str] = &[
    "*.jpg", "*.jpeg", "*.gif", "*.png", "*.wmv", "*.flv", "*.tar.gz", "*.zip",
];
/// CI configuration excluded unless `spec.ignore` is set.
pub const EXCLUDE_CI: &[&str] = &[
    ".github/",
    ".circleci/",
    ".travis.yml",
    ".gitlab-ci.yml",
    "appveyor.yml",
    ".drone.yml",
    "cloudbuild.yaml",
    "codeship-services.yml",
    "codeship-steps.yml",
];
/// Tool configuration excluded unless `spec.ignore` is set.
pub const EXCLUDE_EXTRA: &[&str] = &["**/.goreleaser.yml", "**/.sops.yaml", "**/.flux.yaml"];

/// Errors loading ignore rules.
#[derive(Debug, thiserror::Error)]
pub enum IgnoreError {
    /// An ignore file could not be read.
    #[error("read ignore file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A pattern is not valid gitignore syntax.
    #[error("parse ignore pattern {pattern:?} from {origin}")]
    Pattern {
        /// The offending line.
        pattern: String,
        /// Where it came from (`spec.ignore`, a file path, or `defaults`).
        origin: String,
        /// The cause.
        #[source]
        source: ignore::Error,
    },
}

/// One set of patterns scoped to a directory (relative to the source root, `""` for the root).
struct Layer {
    domain: String,
    rules: Gitignore,
}

/// Compiled ignore rules for one source tree.
pub struct IgnoreRules {
    layers: Vec<Layer>,
    has_negation: bool,
}

impl IgnoreRules {
    /// Rules with no patterns at all: nothing is excluded.
    pub fn none() -> Self {
        IgnoreRules {
            layers: Vec::new(),
            has_negation: false,
        }
    }

    /// Loads the rules for `root` as source-controller does for a GitRepository or Bucket:
    /// VCS excludes, defaults (only when `spec_ignore` is `None`), `.sourceignore` files, `spec.ignore`.
    pub fn load(root: &Path, spec_ignore: Option<&str>) -> Result<Self, IgnoreError> {
        let mut me = IgnoreRules::none();
        me.push_lines("", root, EXCLUDE_VCS.iter().copied(), "defaults")?;
        if spec_ignore.is_none() {
            let defaults = EXCLUDE_EXT
                .iter()
                .chain(EXCLUDE_CI)
                .chain(EXCLUDE_EXTRA)
                .copied();
            me.push_lines("", root, defaults, "defaults")?;
        }
        let mut files = Vec::new();
        collect_sourceignore(root, root, &mut files)?;
        // Parents before children so deeper files override shallower ones.
        files.sort_by(|a, b| {
            let da = a.0.matches('/').count() + usize::from(!a.0.is_empty());
            let db = b.0.matches('/').count() + usize::from(!b.0.is_empty());
            da.cmp(&db).then_with(|| a.0.cmp(&b.0))
        });
        for (domain, file) in files {
            let text = std::fs::read_to_string(&file).map_err(|source| IgnoreError::Read {
                path: file.clone(),
                source,
            })?;
            let dir = root.join(&domain);
            me.push_lines(&domain, &dir, text.lines(), &file.display().to_string())?;
        }
        if let Some(spec) = spec_ignore {
            me.push_lines("", root, spec.lines(), "spec.ignore")?;
        }
        Ok(me)
    }

    /// Rules from explicit pattern text applied at the root (e.g. for tests or other source kinds).
    pub fn from_patterns(root: &Path, patterns: &str) -> Result<Self, IgnoreError> {
        let mut me = IgnoreRules::none();
        me.push_lines("", root, patterns.lines(), "patterns")?;
        Ok(me)
    }

    fn push_lines<'a>(
        &mut self,
        domain: &str,
        dir: &Path,
        lines: impl Iterator<Item = &'a str>,
        origin: &str,
    ) -> Result<(), IgnoreError> {
        let mut b = GitignoreBuilder::new(dir);
        for line in lines {
            if line.trim_start().starts_with('!') {
                self.has_negation = true;
            }
            b.add_line(None, line)
                .map_err(|source| IgnoreError::Pattern {
                    pattern: line.to_string(),
                    origin: origin.to_string(),
                    source,
                })?;
        }
        let rules = b.build().map_err(|source| IgnoreError::Pattern {
            pattern: String::new(),
            origin: origin.to_string(),
            source,
        })?;
        self.layers.push(Layer {
            domain: domain.to_string(),
            rules,
        });
        Ok(())
    }

    /// Whether the path (relative to the root, `/`-separated) is excluded. A file under an excluded
    /// directory is excluded unless a later pattern re-includes it by name (go-git's behaviour).
    pub fn is_excluded(&self, rel: &str, is_dir: bool) -> bool {
        // Paths are relative to the root; empty and `.` segments are dropped because the matcher
        // strips `./` and would then see a rooted path, which it refuses by panicking (found by
        // fuzzing with `.//` and `/`).
        let normalized: String;
        let rel = if rel.split('/').any(|seg| seg.is_empty() || seg == ".") {
            normalized = rel
                .split('/')
                .filter(|seg| !seg.is_empty() && *seg != ".")
                .collect::<Vec<_>>()
                .join("/");
            normalized.as_str()
        } else {
            rel
        };
        for layer in self.layers.iter().rev() {
            let local = if layer.domain.is_empty() {
                rel
            } else {
                match rel
                    .strip_prefix(layer.domain.as_str())
                    .and_then(|r| r.strip_prefix('/'))
                {
                    Some(r) => r,
                    None => continue,
                }
            };
            match layer.rules.matched_path_or_any_parents(local, is_dir) {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
                Match::None => {}
            }
        }
        false
    }

    /// Whether a directory may be skipped entirely while walking: it is excluded and no pattern
    /// could re-include something beneath it.
    pub fn can_prune_dir(&self, rel: &str) -> bool {
        !self.has_negation && self.is_excluded(rel, true)
    }
}

fn collect_sourceignore(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), IgnoreError> {
    let read_err = |source| IgnoreError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(read_err)?
        .collect::<Result<_, _>>()
        .map_err(read_err)?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let ft = e.file_type().map_err(read_err)?;
        let name = e.file_name();
        if ft.is_dir() {
            if name == ".git" {
                continue;
            }
            collect_sourceignore(root, &e.path(), out)?;
        } else if ft.is_file() && name == SOURCE_IGNORE_FILE {
            let domain = dir
                .strip_prefix(root)
                .unwrap_or(Path::new(""))
                .to_string_lossy()
                .replace('\\', "/");
            out.push((domain, e.path()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn defaults_and_sourceignore() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, ".sourceignore", "secret.yaml\n!keep.png\n");
        write(root, "sub/.sourceignore", "local.txt\n/anchored.txt\n");
        let rules = IgnoreRules::load(root, None).unwrap();
        let table = [
            (".git/config", false, true),
            (".gitignore", false, true),
            (".gitmodules", false, true),
            ("a/.gitattributes", false, true),
            ("img.jpg", false, true),
            ("deep/x.tar.gz", false, true),
            (".github/workflows/ci.yaml", false, true),
            (".travis.yml", false, true),
            ("x/.sops.yaml", false, true),
            ("x/.flux.yaml", false, true),
            ("app.yaml", false, false),
            ("secret.yaml", false, true),
            ("nested/secret.yaml", false, true),
            ("keep.png", false, false),
            ("sub/local.txt", false, true),
            ("local.txt", false, false),
            ("sub/anchored.txt", false, true),
            ("sub/deeper/anchored.txt", false, false),
            (".sourceignore", false, false),
        ];
        for (p, is_dir, want) in table {
            assert_eq!(rules.is_excluded(p, is_dir), want, "{p}");
        }
    }

    #[test]
    fn spec_ignore_replaces_defaults_but_not_vcs() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let rules = IgnoreRules::load(root, Some("/*\n!/deploy/\n")).unwrap();
        assert!(rules.is_excluded(".git/HEAD", false));
        assert!(rules.is_excluded("README.md", false));
        assert!(rules.is_excluded("src/main.go", false));
        assert!(!rules.is_excluded("deploy/app.yaml", false));
        assert!(
            !rules.is_excluded("deploy/logo.png", false),
            "defaults replaced"
        );
        let no_img = IgnoreRules::load(root, Some("")).unwrap();
        assert!(!no_img.is_excluded("logo.png", false));
        assert!(no_img.is_excluded(".gitmodules", false));
    }

    #[test]
    fn rooted_paths_do_not_panic() {
        // Fuzzer find: the matcher asserts on rooted paths; they are treated as root-relative.
        let rules = IgnoreRules::from_patterns(Path::new("/nonexistent"), ".\n*\n").unwrap();
        assert!(rules.is_excluded("/", true));
        assert!(rules.is_excluded("/a/b.yaml", false));
        assert_eq!(
            rules.is_excluded("//a", false),
            rules.is_excluded("a", false)
        );
        assert_eq!(rules.is_excluded(".//", true), rules.is_excluded("", true));
        assert_eq!(
            rules.is_excluded("./a/./b", false),
            rules.is_excluded("a/b", false)
        );
    }
}
