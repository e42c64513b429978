//! `cargo run -p xtask --release -- bench apiserver`: throughput of the embedded API server
//! (create/update/get/list), watch fan-out, cold start and memory with 10k objects.
//!
//! Drives the release `fluxrs-apiserver` binary over plain HTTP/1.1 keep-alive connections with
//! a minimal std-only client, so the figures include the full HTTP + JSON + storage path.

use anyhow::{Context, Result, anyhow, bail};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const OBJECTS: usize = 10_000;
const CLIENTS: usize = 32;

struct Conn {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Conn {
    fn open(addr: &str) -> Result<Self> {
        let s = TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
        s.set_nodelay(true)?;
        Ok(Self {
            r: BufReader::new(s.try_clone()?),
            w: s,
        })
    }

    fn send(&mut self, method: &str, path: &str, ctype: &str, body: &[u8]) -> Result<()> {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nAccept: application/json\r\n\r\n",
            body.len()
        );
        self.w.write_all(head.as_bytes())?;
        self.w.write_all(body)?;
        Ok(())
    }

    fn head(&mut self) -> Result<(u16, Option<usize>, bool)> {
        let mut line = String::new();
        self.r.read_line(&mut line)?;
        let code: u16 = line
            .split_whitespace()
            .nth(1)
            .ok_or_else(|| anyhow!("bad status line {line:?}"))?
            .parse()?;
        let (mut len, mut chunked) = (None, false);
        loop {
            let mut h = String::new();
            self.r.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let lower = h.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                len = Some(v.trim().parse()?);
            }
            if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
        }
        Ok((code, len, chunked))
    }

    fn request(
        &mut self,
        method: &str,
        path: &str,
        ctype: &str,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>)> {
        self.send(method, path, ctype, body)?;
        let (code, len, chunked) = self.head()?;
        let mut out = Vec::new();
        if chunked {
            while let Some(c) = self.chunk()? {
                out.extend(c);
            }
        } else {
            out.resize(len.unwrap_or(0), 0);
            self.r.read_exact(&mut out)?;
        }
        Ok((code, out))
    }

    fn chunk(&mut self) -> Result<Option<Vec<u8>>> {
        let mut size = String::new();
        self.r.read_line(&mut size)?;
        let n = usize::from_str_radix(size.trim(), 16)
            .map_err(|_| anyhow!("bad chunk size {size:?}"))?;
        let mut buf = vec![0; n + 2];
        self.r.read_exact(&mut buf)?;
        buf.truncate(n);
        Ok(if n == 0 { None } else { Some(buf) })
    }
}

fn cm(i: usize, rev: usize) -> Vec<u8> {
    format!(
        r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"cm-{i}","labels":{{"app":"bench","shard":"s{}"}}}},"data":{{"key":"value-{rev}","payload":"{}"}}}}"#,
        i % 10,
        "x".repeat(128)
    )
    .into_bytes()
}

/// Runs `total` operations over `CLIENTS` keep-alive connections; returns ops/s.
fn parallel(
    addr: &str,
    total: usize,
    op: impl Fn(&mut Conn, usize) -> Result<()> + Sync,
) -> Result<f64> {
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|s| -> Result<()> {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|_| {
                s.spawn(|| -> Result<()> {
                    let mut c = Conn::open(addr)?;
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= total {
                            return Ok(());
                        }
                        op(&mut c, i)?;
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| anyhow!("client thread panicked"))??;
        }
        Ok(())
    })?;
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

fn expect(code: u16, want: u16, body: &[u8]) -> Result<()> {
    if code != want {
        bail!("unexpected HTTP {code}: {}", String::from_utf8_lossy(body));
    }
    Ok(())
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn start(bin: &Path, dir: &Path) -> Result<(Child, String, Duration)> {
    let t = Instant::now();
    let mut child = Command::new(bin)
        .arg(dir)
        .arg("0")
        .arg("--insecure-http")
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?)
        .read_line(&mut line)?;
    let elapsed = t.elapsed();
    let url = line
        .trim()
        .strip_prefix("READY http://")
        .ok_or_else(|| anyhow!("server did not start: {line:?}"))?
        .to_string();
    Ok((child, url, elapsed))
}

/// Watch fan-out: `n` watchers on the namespace, `writes` updates; returns (events/s delivered
/// across all watchers, time until the last watcher saw the last event).
fn fanout(addr: &str, n: usize, writes: usize, round: usize) -> Result<(f64, Duration)> {
    let (_, body) = Conn::open(addr)?.request(
        "GET",
        "/api/v1/namespaces/default/configmaps?limit=1",
        "application/json",
        b"",
    )?;
    let v: serde_json::Value = serde_json::from_slice(&body)?;
    let rv = v["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("0")
        .to_string();
    let received = Arc::new(AtomicUsize::new(0));
    let mut watchers = Vec::new();
    for _ in 0..n {
        let mut c = Conn::open(addr)?;
        c.send("GET", &format!("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv}&timeoutSeconds=120"), "application/json", b"")?;
        let (code, _, _) = c.head()?;
        expect(code, 200, b"watch")?;
        let received = received.clone();
        watchers.push(std::thread::spawn(move || -> Result<Instant> {
            let mut seen = 0;
            while seen < writes {
                let chunk = c.chunk()?.ok_or_else(|| anyhow!("watch closed early"))?;
                seen += chunk.iter().filter(|b| **b == b'\n').count();
            }
            received.fetch_add(seen, Ordering::Relaxed);
            Ok(Instant::now())
        }));
    }
    let start = Instant::now();
    parallel(addr, writes, |c, i| {
        let (code, body) = c.request(
            "PUT",
            &format!("/api/v1/namespaces/default/configmaps/cm-{i}"),
            "application/json",
            &cm(i, round),
        )?;
        expect(code, 200, &body)
    })?;
    let mut last = start;
    for w in watchers {
        last = last.max(w.join().map_err(|_| anyhow!("watcher panicked"))??);
    }
    let total = received.load(Ordering::Relaxed);
    let elapsed = last - start;
    Ok((total as f64 / elapsed.as_secs_f64(), elapsed))
}

/// Entry point.
pub fn run(_args: &[&str]) -> Result<()> {
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "-p",
            "apiserver",
            "--bin",
            "fluxrs-apiserver",
        ])
        .status()
        .context("building the release server")?;
    if !status.success() {
        bail!("building fluxrs-apiserver failed");
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bin = root.join("target/release/fluxrs-apiserver");
    let dir = std::env::temp_dir().join(format!("apiserver-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (mut child, addr, cold) = start(&bin, &dir)?;
    let mut rows: Vec<(String, String, String)> = vec![(
        "cold start (empty data dir)".into(),
        format!("{:.1} ms", cold.as_secs_f64() * 1e3),
        "< 200 ms".into(),
    )];

    let create = parallel(&addr, OBJECTS, |c, i| {
        let (code, body) = c.request(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            &cm(i, 0),
        )?;
        expect(code, 201, &body)
    })?;
    rows.push((
        format!("create {OBJECTS} ConfigMaps (~300 B, {CLIENTS} clients)"),
        format!("{create:.0} writes/s"),
        ">= 5000 writes/s".into(),
    ));
    let update = parallel(&addr, OBJECTS, |c, i| {
        let (code, body) = c.request(
            "PUT",
            &format!("/api/v1/namespaces/default/configmaps/cm-{i}"),
            "application/json",
            &cm(i, 1),
        )?;
        expect(code, 200, &body)
    })?;
    rows.push((
        "update (PUT) 10k".into(),
        format!("{update:.0} writes/s"),
        ">= 5000 writes/s".into(),
    ));
    let patch = parallel(&addr, OBJECTS, |c, i| {
        let (code, body) = c.request(
            "PATCH",
            &format!("/api/v1/namespaces/default/configmaps/cm-{i}"),
            "application/merge-patch+json",
            br#"{"data":{"patched":"yes"}}"#,
        )?;
        expect(code, 200, &body)
    })?;
    rows.push((
        "merge patch 10k".into(),
        format!("{patch:.0} writes/s"),
        "-".into(),
    ));
    let get = parallel(&addr, 4 * OBJECTS, |c, i| {
        let (code, body) = c.request(
            "GET",
            &format!("/api/v1/namespaces/default/configmaps/cm-{}", i % OBJECTS),
            "application/json",
            b"",
        )?;
        expect(code, 200, &body)
    })?;
    rows.push(("get".into(), format!("{get:.0} reads/s"), "-".into()));
    let t = Instant::now();
    let lists = 20;
    for _ in 0..lists {
        let (code, body) = Conn::open(&addr)?.request(
            "GET",
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            b"",
        )?;
        expect(code, 200, &body)?;
    }
    let per_list = t.elapsed() / lists;
    rows.push((
        format!("list {OBJECTS} objects"),
        format!(
            "{:.1} ms/list ({:.0} objects/s)",
            per_list.as_secs_f64() * 1e3,
            OBJECTS as f64 / per_list.as_secs_f64()
        ),
        "-".into(),
    ));
    // Paginated list (limit 500) with a write between pages: later pages are served from the
    // first page's snapshot, rebuilt from the event log.
    let t = Instant::now();
    let (mut pages, mut seen, mut token) = (0usize, 0usize, String::new());
    let mut writer = Conn::open(&addr)?;
    loop {
        let path = if token.is_empty() {
            "/api/v1/namespaces/default/configmaps?limit=500".to_string()
        } else {
            format!("/api/v1/namespaces/default/configmaps?limit=500&continue={token}")
        };
        let (code, body) = Conn::open(&addr)?.request("GET", &path, "application/json", b"")?;
        expect(code, 200, &body)?;
        let v: serde_json::Value = serde_json::from_slice(&body)?;
        pages += 1;
        seen += v["items"].as_array().map(Vec::len).unwrap_or(0);
        token = v["metadata"]["continue"].as_str().unwrap_or("").to_string();
        if token.is_empty() {
            break;
        }
        let (code, body) = writer.request(
            "PATCH",
            &format!("/api/v1/namespaces/default/configmaps/cm-{pages}"),
            "application/merge-patch+json",
            format!(r#"{{"data":{{"page":"{pages}"}}}}"#).as_bytes(),
        )?;
        expect(code, 200, &body)?;
    }
    if seen != OBJECTS {
        bail!("paginated list returned {seen} objects, expected {OBJECTS}");
    }
    rows.push((
        format!("paginated list {OBJECTS} (limit 500, writes between pages)"),
        format!(
            "{:.1} ms for {pages} pages",
            t.elapsed().as_secs_f64() * 1e3
        ),
        "-".into(),
    ));
    let rss = rss_kib(child.id(), "VmRSS:");
    let hwm = rss_kib(child.id(), "VmHWM:");
    rows.push((
        format!("memory with {OBJECTS} objects"),
        format!(
            "{:.1} MiB RSS (peak {:.1} MiB)",
            rss as f64 / 1024.0,
            hwm as f64 / 1024.0
        ),
        "< 100 MiB".into(),
    ));
    for (round, n) in [1usize, 10, 100].into_iter().enumerate() {
        let writes = 1000;
        let (rate, took) = fanout(&addr, n, writes, round + 2)?;
        rows.push((
            format!("watch fan-out: {n} watchers x {writes} updates"),
            format!(
                "{rate:.0} events/s delivered, all seen after {:.0} ms",
                took.as_secs_f64() * 1e3
            ),
            "-".into(),
        ));
    }
    let _ = child.kill();
    let _ = child.wait();
    let (mut child, _, warm) = start(&bin, &dir)?;
    rows.push((
        format!("restart with {OBJECTS} objects"),
        format!("{:.1} ms", warm.as_secs_f64() * 1e3),
        "< 200 ms (empty)".into(),
    ));
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let cols = ["scenario", "fluxrs apiserver", "target (issue 3)"];
    let header = format!("{:<48} {:<56} {}", cols[0], cols[1], cols[2]);
    println!("\n{header}");
    for (a, b, c) in rows {
        println!("{a:<48} {b:<56} {c}");
    }
    println!(
        "\n(no real kube-apiserver/etcd can run on this machine, so targets stand in for the reference column)"
    );
    Ok(())
}
