//! `bench git`: fetch + package a generated repository (≥ 5,000 files, ≥ 50 MB) served over smart
//! HTTP on loopback; ours (`source::git::checkout` + `Storage::archive`) against the git CLI
//! (`git clone --depth 1` + `tar czf`), wall time and peak RSS side by side.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Repetitions per tool; the best wall time and the largest peak RSS are kept.
const RUNS: usize = 3;

struct Measure {
    wall: Duration,
    rss_kib: u64,
}

/// Runs `cmd` under `/usr/bin/time` (peak RSS of the whole process tree it waited for).
fn measure(cmd: &mut Command) -> Result<Measure> {
    let rss_file =
        std::env::temp_dir().join(format!("fluxrs-bench-git-rss-{}", std::process::id()));
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss_file)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    let start = Instant::now();
    let out = timed
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .context("run /usr/bin/time")?;
    let wall = start.elapsed();
    if !out.status.success() {
        bail!(
            "{:?} failed: {}",
            cmd.get_program(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let rss_kib = std::fs::read_to_string(&rss_file)?
        .lines()
        .filter_map(|l| l.trim().parse::<u64>().ok())
        .next_back()
        .unwrap_or(0);
    let _ = std::fs::remove_file(&rss_file);
    Ok(Measure { wall, rss_kib })
}

fn git(dir: &Path, args: &[&str]) -> Result<()> {
    let st = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .stdout(Stdio::null())
        .status()
        .with_context(|| format!("run git {args:?}"))?;
    if !st.success() {
        bail!("git {args:?} failed");
    }
    Ok(())
}

/// Writes `files` files of ~10.5 KiB of pseudo-random YAML (half-compressible hex) in 50 directories.
fn generate(work: &Path, files: usize) -> Result<u64> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut total = 0u64;
    for i in 0..files {
        let dir = work.join(format!("apps/team-{:02}", i % 50));
        std::fs::create_dir_all(&dir)?;
        let mut s = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\ndata:\n");
        for l in 0..300 {
            s.push_str(&format!(
                "  key-{l:03}: \"{:016x}{:08x}\"\n",
                next(),
                next() as u32
            ));
        }
        total += s.len() as u64;
        std::fs::write(dir.join(format!("cm-{i:05}.yaml")), s)?;
    }
    Ok(total)
}

/// `xtask bench-git-one <url> <out-dir>`: one run of ours, in its own process for a clean RSS.
pub fn run_one(args: &[&str]) -> Result<()> {
    let [url, out] = args else {
        bail!("usage: bench-git-one <url> <out-dir>");
    };
    let out = PathBuf::from(out);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let opts = source::git::CheckoutOptions {
        url: url.to_string(),
        reference: source::git::GitRef::Branch("main".into()),
        timeout: Duration::from_secs(600),
        ..Default::default()
    };
    let dir = out.join("checkout");
    let res = rt.block_on(source::git::checkout(&opts, &dir))?;
    let storage = source::storage::Storage::new(out.join("storage"), "localhost:9090")?;
    let mut art = storage.new_artifact(
        "GitRepository",
        "bench",
        "repo",
        &res.revision,
        &format!("{}.tar.gz", res.commit),
    );
    let rules = source::ignore::IgnoreRules::load(&dir, None)?;
    storage.archive(&mut art, &dir, &rules)?;
    println!("{} {} {}", res.revision, art.digest, art.size.unwrap_or(0));
    Ok(())
}

/// `xtask bench git [FILES]`.
pub fn run(args: &[&str]) -> Result<()> {
    let files: usize = match args.first() {
        Some(n) => n.parse().context("FILES must be a number")?,
        None => 5000,
    };
    let root = std::env::temp_dir().join(format!("fluxrs-bench-git-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let work = root.join("work");
    std::fs::create_dir_all(&work)?;
    eprintln!("generating {files} files ...");
    let bytes = generate(&work, files)?;
    git(&work, &["init", "-q", "-b", "main"])?;
    git(&work, &["add", "-A"])?;
    git(&work, &["commit", "-q", "-m", "bench"])?;
    let srv_root = root.join("srv");
    std::fs::create_dir_all(&srv_root)?;
    git(&root, &["clone", "-q", "--bare", "work", "srv/repo.git"])?;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let server = rt.block_on(source::testutil::GitHttpServer::start(
        &srv_root,
        source::testutil::HttpAuth::None,
    ))?;
    let url = server.url("repo.git");
    let exe = std::env::current_exe()?;

    let mut ours: Option<Measure> = None;
    let mut theirs: Option<Measure> = None;
    let mut sizes = (0u64, 0u64);
    for i in 0..RUNS {
        let out = root.join(format!("ours-{i}"));
        let m = measure(Command::new(&exe).arg("bench-git-one").arg(&url).arg(&out))?;
        let art_dir = out.join("storage/gitrepository/bench/repo");
        if let Some(e) = std::fs::read_dir(&art_dir)?
            .flatten()
            .find(|e| e.file_name().to_string_lossy().ends_with(".tar.gz"))
        {
            sizes.0 = e.metadata()?.len();
        }
        std::fs::remove_dir_all(&out)?;
        ours = Some(merge(ours, m));

        let d = root.join(format!("ref-{i}"));
        let script = format!(
            "git clone -q --depth 1 '{url}' '{d}' && tar czf '{d}.tar.gz' -C '{d}' --exclude=.git .",
            d = d.display()
        );
        let m = measure(Command::new("sh").arg("-c").arg(&script))?;
        sizes.1 = std::fs::metadata(format!("{}.tar.gz", d.display()))?.len();
        std::fs::remove_dir_all(&d)?;
        std::fs::remove_file(format!("{}.tar.gz", d.display()))?;
        theirs = Some(merge(theirs, m));
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&root);
    let (o, t) = (ours.expect("runs"), theirs.expect("runs"));
    println!(
        "repository: {files} files, {:.1} MB, served by git http-backend on loopback; best of {RUNS}",
        bytes as f64 / 1e6
    );
    println!(
        "{:<44} {:>10} {:>12} {:>14}",
        "tool", "wall", "peak RSS", "artifact"
    );
    println!(
        "{:<44} {:>9.2}s {:>9} MiB {:>11.1} MB",
        "fluxrs source::git::checkout + archive",
        o.wall.as_secs_f64(),
        o.rss_kib / 1024,
        sizes.0 as f64 / 1e6
    );
    println!(
        "{:<44} {:>9.2}s {:>9} MiB {:>11.1} MB",
        "git clone --depth 1 + tar czf",
        t.wall.as_secs_f64(),
        t.rss_kib / 1024,
        sizes.1 as f64 / 1e6
    );
    println!(
        "ratio (ours / git CLI): wall {:.2}x, peak RSS {:.2}x",
        o.wall.as_secs_f64() / t.wall.as_secs_f64(),
        o.rss_kib as f64 / t.rss_kib.max(1) as f64
    );
    Ok(())
}

fn merge(acc: Option<Measure>, m: Measure) -> Measure {
    match acc {
        None => m,
        Some(a) => Measure {
            wall: a.wall.min(m.wall),
            rss_kib: a.rss_kib.max(m.rss_kib),
        },
    }
}
