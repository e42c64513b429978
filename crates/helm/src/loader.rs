//! Chart loading from a directory (with `.helmignore`), from a `.tgz` (safe extraction), or from
//! an in-memory file list, including subcharts in `charts/` (directories and packaged archives).

use crate::chart::{self, Chart, File, MetadataError};
use crate::ignore::{IgnoreError, Rules};
use crate::yamlconv;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest single file accepted (Helm's `MaxDecompressedFileSize`, 5 MiB).
pub const MAX_FILE_SIZE: u64 = 5 * 1024 * 1024;
/// Largest decompressed chart accepted (Helm's `MaxDecompressedChartSize`, 100 MiB).
pub const MAX_CHART_SIZE: u64 = 100 * 1024 * 1024;

/// Errors while loading a chart.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Reading a file or directory failed.
    #[error("reading chart file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `.helmignore` is invalid.
    #[error("parsing .helmignore of {path}: {source}")]
    Ignore {
        /// The chart directory.
        path: String,
        /// The cause.
        #[source]
        source: IgnoreError,
    },
    /// `Chart.yaml` is absent.
    #[error("Chart.yaml file is missing")]
    NoChartYaml,
    /// `Chart.yaml` is invalid.
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    /// `values.yaml` does not parse.
    #[error("cannot load values.yaml: cannot unmarshal yaml document: {0}")]
    Values(#[source] yamlconv::YamlError),
    /// `requirements.yaml` does not parse.
    #[error("cannot load requirements.yaml: {0}")]
    Requirements(#[source] MetadataError),
    /// A subchart failed to load.
    #[error("error unpacking subchart {name} in {parent}: {source}")]
    Subchart {
        /// The entry in `charts/`.
        name: String,
        /// The parent chart.
        parent: String,
        /// The cause.
        #[source]
        source: Box<LoadError>,
    },
    /// The archive is unsafe or malformed.
    #[error("{0}")]
    Archive(String),
    /// A file or the whole chart is too large.
    #[error("{0}")]
    TooLarge(String),
    /// A file that is not a regular file (device, socket, escaping link).
    #[error("cannot load irregular file {0} as it has file mode type bits set")]
    Irregular(String),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> LoadError + '_ {
    move |source| LoadError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Loads a chart from a path: a directory, or a `.tgz` file.
pub fn load(path: &Path) -> Result<Chart, LoadError> {
    let meta = std::fs::metadata(path).map_err(io_err(path))?;
    if meta.is_dir() {
        load_dir(path)
    } else {
        let data = std::fs::read(path).map_err(io_err(path))?;
        load_archive(&data)
    }
}

/// Loads a chart directory, applying `.helmignore` and Helm's default rules.
pub fn load_dir(dir: &Path) -> Result<Chart, LoadError> {
    let root = dir.canonicalize().map_err(io_err(dir))?;
    let mut rules = match std::fs::read_to_string(root.join(".helmignore")) {
        Ok(text) => Rules::parse(&text).map_err(|source| LoadError::Ignore {
            path: dir.display().to_string(),
            source,
        })?,
        Err(_) => Rules::default(),
    };
    rules.add_defaults();
    let mut files = Vec::new();
    let mut total = 0u64;
    walk(&root, &root, "", &rules, &mut files, &mut total, 0)?;
    load_files(files)
}

fn walk(
    root: &Path,
    dir: &Path,
    prefix: &str,
    rules: &Rules,
    files: &mut Vec<File>,
    total: &mut u64,
    depth: usize,
) -> Result<(), LoadError> {
    if depth > 64 {
        return Err(LoadError::Archive(format!(
            "directory nesting too deep at {}",
            dir.display()
        )));
    }
    let mut names: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .map_err(io_err(dir))?
        .map(|e| e.map(|e| (e.file_name().to_string_lossy().into_owned(), e.path())))
        .collect::<Result<_, _>>()
        .map_err(io_err(dir))?;
    names.sort();
    for (name, path) in names {
        let rel = format!("{prefix}{name}");
        // Follow symlinks as Helm does, but never out of the chart root.
        let real = path.canonicalize().map_err(io_err(&path))?;
        if !real.starts_with(root) {
            return Err(LoadError::Irregular(rel));
        }
        let meta = std::fs::metadata(&real).map_err(io_err(&path))?;
        if meta.is_dir() {
            if rules.ignore(&rel, true) {
                continue;
            }
            walk(
                root,
                &real,
                &format!("{rel}/"),
                rules,
                files,
                total,
                depth + 1,
            )?;
            continue;
        }
        if rules.ignore(&rel, false) {
            continue;
        }
        if !meta.is_file() {
            return Err(LoadError::Irregular(rel));
        }
        if meta.len() > MAX_FILE_SIZE {
            return Err(LoadError::TooLarge(format!(
                "chart file {rel:?} is larger than the maximum file size {MAX_FILE_SIZE}"
            )));
        }
        *total += meta.len();
        if *total > MAX_CHART_SIZE {
            return Err(LoadError::TooLarge(format!(
                "chart is larger than the maximum size {MAX_CHART_SIZE}"
            )));
        }
        let data = std::fs::read(&real).map_err(io_err(&path))?;
        files.push(File {
            name: rel,
            data: strip_bom(data),
        });
    }
    Ok(())
}

fn strip_bom(mut data: Vec<u8>) -> Vec<u8> {
    if data.starts_with(&[0xEF, 0xBB, 0xBF]) {
        data.drain(..3);
    }
    data
}

/// Extracts the files of a chart archive (`.tgz`): the first path component is dropped; absolute
/// paths, `..`, links, devices and oversized content are rejected.
pub fn archive_files(data: &[u8]) -> Result<Vec<File>, LoadError> {
    let gz = flate2::read::GzDecoder::new(data);
    let mut ar = tar::Archive::new(gz);
    let mut files: Vec<File> = Vec::new();
    let mut total = 0u64;
    let entries = ar
        .entries()
        .map_err(|e| LoadError::Archive(format!("reading chart archive: {e}")))?;
    for entry in entries {
        let mut entry =
            entry.map_err(|e| LoadError::Archive(format!("reading chart archive: {e}")))?;
        let kind = entry.header().entry_type();
        let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        if !(kind.is_file() || kind == tar::EntryType::Continuous) {
            return Err(LoadError::Archive(format!(
                "chart archive entry {raw_name:?} is not a regular file"
            )));
        }
        let delim = if raw_name.contains('\\') { '\\' } else { '/' };
        let parts: Vec<&str> = raw_name.split(delim).collect();
        if parts[0] == "Chart.yaml" {
            return Err(LoadError::Archive(
                "chart yaml not in base directory".into(),
            ));
        }
        let n = parts[1..].join("/");
        if n.starts_with('/') {
            return Err(LoadError::Archive(
                "chart illegally contains absolute paths".into(),
            ));
        }
        let n = clean_path(&n);
        if n == "." {
            return Err(LoadError::Archive(format!(
                "chart illegally contains content outside the base directory: {raw_name:?}"
            )));
        }
        if n.starts_with("..") {
            return Err(LoadError::Archive(
                "chart illegally references parent directory".into(),
            ));
        }
        let b = n.as_bytes();
        if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
            return Err(LoadError::Archive(
                "chart contains illegally named files".into(),
            ));
        }
        let size = entry.header().size().unwrap_or(0);
        if size > MAX_FILE_SIZE {
            return Err(LoadError::TooLarge(format!(
                "decompressed chart file {n:?} is larger than the maximum file size {MAX_FILE_SIZE}"
            )));
        }
        let mut buf = Vec::with_capacity(size as usize);
        (&mut entry)
            .take(MAX_FILE_SIZE + 1)
            .read_to_end(&mut buf)
            .map_err(|e| LoadError::Archive(format!("reading chart archive entry {n}: {e}")))?;
        total += buf.len() as u64;
        if buf.len() as u64 > MAX_FILE_SIZE || total > MAX_CHART_SIZE {
            return Err(LoadError::TooLarge(format!(
                "decompressed chart is larger than the maximum size {MAX_CHART_SIZE}"
            )));
        }
        let file = File {
            name: n,
            data: strip_bom(buf),
        };
        // A later entry with the same name replaces the earlier one.
        if let Some(existing) = files.iter_mut().find(|f| f.name == file.name) {
            *existing = file;
        } else {
            files.push(file);
        }
    }
    if files.is_empty() {
        return Err(LoadError::Archive("no files in chart archive".into()));
    }
    Ok(files)
}

/// Go's `path.Clean` for relative paths.
fn clean_path(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if matches!(out.last(), Some(&s) if s != "..") {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            s => out.push(s),
        }
    }
    if out.is_empty() {
        ".".into()
    } else {
        out.join("/")
    }
}

/// Loads a chart archive (`.tgz` bytes).
pub fn load_archive(data: &[u8]) -> Result<Chart, LoadError> {
    load_files(archive_files(data)?)
}

/// Builds a chart from its files (paths relative to the chart root).
pub fn load_files(files: Vec<File>) -> Result<Chart, LoadError> {
    let mut c = Chart::default();
    let mut have_chart_yaml = false;
    let mut subcharts: Vec<(String, Vec<File>)> = Vec::new();
    let mut requirements: Option<Vec<u8>> = None;
    let mut requirements_lock: Option<Vec<u8>> = None;
    for f in files {
        match f.name.as_str() {
            "Chart.yaml" => {
                c.metadata = chart::parse_metadata(&f.data)?;
                have_chart_yaml = true;
            }
            "Chart.lock" => {}
            "requirements.lock" => requirements_lock = Some(f.data),
            "values.yaml" => {
                // go-yaml's reader refuses bad UTF-8 before any syntax.
                if let Some(problem) = gotemplate::gostr::yaml_reader_error(&f.data) {
                    return Err(LoadError::Values(yamlconv::YamlError::Syntax(
                        problem.to_string(),
                    )));
                }
                c.values = yamlconv::parse_values(&String::from_utf8_lossy(&f.data))
                    .map_err(LoadError::Values)?;
            }
            "values.schema.json" => c.schema = Some(f.data),
            "requirements.yaml" => requirements = Some(f.data),
            name if name.starts_with("templates/") => c.templates.push(f),
            name if name.starts_with("charts/") => {
                if name.ends_with(".prov") {
                    c.files.push(f);
                    continue;
                }
                let rest = &name["charts/".len()..];
                let (cname, inner) = match rest.split_once('/') {
                    Some((a, b)) => (a.to_string(), b.to_string()),
                    None => (rest.to_string(), rest.to_string()),
                };
                let file = File {
                    name: inner,
                    data: f.data,
                };
                match subcharts.iter_mut().find(|(n, _)| *n == cname) {
                    Some((_, v)) => v.push(file),
                    None => subcharts.push((cname, vec![file])),
                }
            }
            _ => c.files.push(f),
        }
    }
    if !have_chart_yaml {
        return Err(LoadError::NoChartYaml);
    }
    if let Some(req) = requirements {
        // requirements.yaml (apiVersion v1) replaces the dependencies, whatever the apiVersion;
        // only v1 charts keep it among their files.
        let text = String::from_utf8_lossy(&req);
        let node = yamlconv::parse_first(&text)
            .map_err(|e| LoadError::Requirements(MetadataError::Yaml(e)))?;
        if let Some(deps) = node.as_ref().and_then(|n| n.get("dependencies")) {
            c.metadata.dependencies =
                chart::parse_dependencies(Some(deps)).map_err(LoadError::Requirements)?;
        }
        if c.metadata.api_version == "v1" {
            c.files.push(File {
                name: "requirements.yaml".into(),
                data: req,
            });
        }
    }
    if let Some(lock) = requirements_lock
        && c.metadata.api_version == "v1"
    {
        c.files.push(File {
            name: "requirements.lock".into(),
            data: lock,
        });
    }
    c.metadata.validate()?;
    for (name, files) in subcharts {
        if name.starts_with('_') || name.starts_with('.') {
            continue;
        }
        let sub = if name.ends_with(".tgz") {
            let file = &files[0];
            if file.name != name {
                return Err(LoadError::Archive(format!(
                    "error unpacking subchart tar in {}: expected {}, got {}",
                    c.metadata.name, name, file.name
                )));
            }
            load_archive(&file.data)
        } else {
            // Files directly in charts/ that are not archives are not charts.
            let inner: Vec<File> = files.into_iter().filter(|f| f.name != name).collect();
            if inner.is_empty() {
                continue;
            }
            load_files(inner)
        };
        let sub = sub.map_err(|e| LoadError::Subchart {
            name: name.clone(),
            parent: c.metadata.name.clone(),
            source: Box::new(e),
        })?;
        c.dependencies.push(sub);
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tgz(entries: &[(&str, &[u8], tar::EntryType)]) -> Vec<u8> {
        let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (name, data, kind) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            if *kind == tar::EntryType::Symlink {
                h.set_link_name("../../etc/passwd").unwrap();
            }
            // Write the raw name so hostile paths survive the builder's own checks.
            let gnu = h.as_gnu_mut().unwrap();
            gnu.name[..name.len()].copy_from_slice(name.as_bytes());
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap()
    }

    const CHART: &[u8] = b"apiVersion: v2\nname: c\nversion: 0.1.0\n";

    #[test]
    fn loads_archive_with_subchart() {
        let sub = tgz(&[(
            "sub/Chart.yaml",
            b"apiVersion: v2\nname: sub\nversion: 1.0.0\n",
            tar::EntryType::Regular,
        )]);
        let data = tgz(&[
            ("c/Chart.yaml", CHART, tar::EntryType::Regular),
            ("c/values.yaml", b"a: 1\n", tar::EntryType::Regular),
            ("c/templates/x.yaml", b"x", tar::EntryType::Regular),
            ("c/charts/sub-1.0.0.tgz", &sub, tar::EntryType::Regular),
        ]);
        let c = load_archive(&data).unwrap();
        assert_eq!(c.metadata.name, "c");
        assert_eq!(c.templates.len(), 1);
        assert_eq!(c.dependencies[0].metadata.name, "sub");
    }

    #[test]
    fn directory_symlinks_stay_inside_the_chart() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("c");
        std::fs::create_dir_all(root.join("templates")).unwrap();
        std::fs::write(root.join("Chart.yaml"), CHART).unwrap();
        std::fs::write(root.join("data.txt"), "inside").unwrap();
        std::os::unix::fs::symlink("data.txt", root.join("link.txt")).unwrap();
        let c = load_dir(&root).unwrap();
        let link = c.files.iter().find(|f| f.name == "link.txt").unwrap();
        assert_eq!(link.data, b"inside");
        std::fs::write(tmp.path().join("secret"), "outside").unwrap();
        std::os::unix::fs::symlink("../secret", root.join("templates/escape.yaml")).unwrap();
        let err = load_dir(&root).unwrap_err().to_string();
        assert!(err.contains("templates/escape.yaml"), "{err}");
    }

    #[test]
    fn rejects_unsafe_archives() {
        let dotdot = tgz(&[
            ("c/../../evil", b"x", tar::EntryType::Regular),
            ("c/Chart.yaml", CHART, tar::EntryType::Regular),
        ]);
        assert!(
            load_archive(&dotdot)
                .unwrap_err()
                .to_string()
                .contains("parent directory")
        );
        let link = tgz(&[
            ("c/Chart.yaml", CHART, tar::EntryType::Regular),
            ("c/l", b"", tar::EntryType::Symlink),
        ]);
        assert!(
            load_archive(&link)
                .unwrap_err()
                .to_string()
                .contains("not a regular file")
        );
        let top = tgz(&[("Chart.yaml", CHART, tar::EntryType::Regular)]);
        assert!(
            load_archive(&top)
                .unwrap_err()
                .to_string()
                .contains("base directory")
        );
    }
}
