//! `bench helm`: our chart renderer against `helm template` (Helm v4.1.4) on the same charts,
//! per chart and in total: wall time, peak RSS, output size, ratios.
//!
//! Each measured run is a separate process started by a small measuring process (this binary
//! in `--measure` mode), whose `getrusage(RUSAGE_CHILDREN)` then holds exactly that run's peak
//! RSS. Our side renders through the `helm` crate in `--render` mode, the same code path as
//! `flux helm template`.

use anyhow::{Context, Result, bail};
use helm::action::{TemplateOptions, template};
use helm::values::ValueOptions;
use nix::sys::resource::{UsageWho, getrusage};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The charts measured: (label, release, chart under crates/helm/tests/charts, flags).
const CASES: &[(&str, &str, &str, &[&str])] = &[
    ("one-template", "rel", "one-template", &[]),
    (
        "app (helm create style)",
        "prod",
        "app",
        &["-f", "values/app-prod.yaml"],
    ),
    ("globals (2 subcharts)", "g", "globals", &[]),
    ("alias (2 aliases)", "a", "alias", &[]),
    (
        "conditions-tags",
        "c",
        "conditions-tags",
        &["-f", "values/conditions-on.yaml"],
    ),
    ("import-values", "iv", "import-values", &[]),
    ("statefulset", "db", "statefulset", &[]),
    ("cronjob", "cron", "cronjob", &[]),
    ("nested (3 levels)", "n", "nested", &[]),
    (
        "large: 3 subcharts, 400 items",
        "big",
        "big",
        &["--set", "global.count=400"],
    ),
];

const RUNS: usize = 5;

struct Sample {
    wall_ms: f64,
    cpu_ms: f64,
    rss_kb: i64,
    bytes: u64,
}

/// Entry point: `bench helm [--runs N] [--helm PATH]`, plus the internal `--measure` and
/// `--render` modes.
pub fn run(args: &[&str]) -> Result<()> {
    match args {
        ["--measure", out, prog, rest @ ..] => measure(out, prog, rest),
        ["--render", release, chart, rest @ ..] => render(release, chart, rest),
        _ => compare(args),
    }
}

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../helm/tests")
}

/// Runs `prog` with stdout to `out`, then prints `wall_ms rss_kb` (this process has no other
/// children, so RUSAGE_CHILDREN is that run alone).
fn measure(out: &str, prog: &str, args: &[&str]) -> Result<()> {
    let file = std::fs::File::create(out)?;
    let start = Instant::now();
    let status = Command::new(prog)
        .args(args)
        .current_dir(tests_dir())
        .env("KUBECONFIG", "/nonexistent")
        .stdout(file)
        .stderr(Stdio::inherit())
        .status()
        .with_context(|| format!("running {prog}"))?;
    let wall = start.elapsed().as_secs_f64() * 1000.0;
    if !status.success() {
        bail!("{prog} failed: {status}");
    }
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN)?;
    let ms = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 * 1000.0 + t.tv_usec() as f64 / 1000.0;
    let cpu = ms(usage.user_time()) + ms(usage.system_time());
    println!("{wall:.3} {} {cpu:.3}", usage.max_rss());
    Ok(())
}

/// Renders one chart with our engine to stdout (flags: `-f`, `--set`).
fn render(release: &str, chart: &str, args: &[&str]) -> Result<()> {
    let mut vo = ValueOptions::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let v = it.next().context("flag without value")?.to_string();
        match *flag {
            "-f" => vo.value_files.push(v),
            "--set" => vo.values.push(v),
            other => bail!("unsupported flag {other}"),
        }
    }
    let dir = std::env::current_dir()?;
    let opts = TemplateOptions {
        release_name: release.into(),
        values: vo.merge(&dir)?,
        ..Default::default()
    };
    let c = helm::loader::load(&dir.join(chart))?;
    let out = template(c, &opts)?;
    std::io::stdout()
        .lock()
        .write_all(&helm::action::to_output_bytes(out))?;
    Ok(())
}

fn sample(me: &Path, out: &Path, prog: &str, args: &[String]) -> Result<Sample> {
    let o = Command::new(me)
        .args(["bench", "helm", "--measure"])
        .arg(out)
        .arg(prog)
        .args(args)
        .stderr(Stdio::inherit())
        .output()?;
    if !o.status.success() {
        bail!("measuring {prog} {args:?} failed");
    }
    let text = String::from_utf8(o.stdout)?;
    let mut f = text.split_whitespace();
    let wall_ms: f64 = f.next().context("no wall time")?.parse()?;
    let rss_kb: i64 = f.next().context("no rss")?.parse()?;
    let cpu_ms: f64 = f.next().context("no cpu time")?.parse()?;
    Ok(Sample {
        wall_ms,
        cpu_ms,
        rss_kb,
        bytes: std::fs::metadata(out)?.len(),
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn compare(args: &[&str]) -> Result<()> {
    let mut runs = RUNS;
    let mut helm_bin = std::env::var("HOME")
        .map(|h| format!("{h}/.cache/oracles/bin/helm"))
        .unwrap_or_default();
    // `--chart DIR [-f FILE | --set X]...` measures one external chart instead of the corpus.
    let mut external: Option<(String, Vec<String>)> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match *a {
            "--runs" => runs = it.next().context("--runs N")?.parse()?,
            "--helm" => helm_bin = it.next().context("--helm PATH")?.to_string(),
            "--chart" => {
                let dir = std::fs::canonicalize(it.next().context("--chart DIR")?)?;
                external = Some((dir.to_string_lossy().into_owned(), Vec::new()));
            }
            "-f" | "--set" if external.is_some() => {
                let v = it.next().context("flag without value")?;
                let flags = &mut external.as_mut().context("--chart first")?.1;
                flags.push(a.to_string());
                flags.push(if *a == "-f" {
                    std::fs::canonicalize(v)?.to_string_lossy().into_owned()
                } else {
                    v.to_string()
                });
            }
            other => bail!(
                "unknown argument {other}; usage: bench helm [--runs N] [--helm PATH] [--chart DIR [-f FILE] [--set X]...]"
            ),
        }
    }
    let cases: Vec<(String, String, String, Vec<String>)> = match &external {
        Some((dir, flags)) => {
            let label = Path::new(dir)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            vec![(label, "rel".into(), dir.clone(), flags.clone())]
        }
        None => CASES
            .iter()
            .map(|(l, r, c, f)| {
                (
                    l.to_string(),
                    r.to_string(),
                    format!("charts/{c}"),
                    f.iter().map(|s| s.to_string()).collect(),
                )
            })
            .collect(),
    };
    if !Path::new(&helm_bin).exists() {
        bail!(
            "helm not found at {helm_bin}; run /work/shared/oracles/get-oracles.sh or pass --helm"
        );
    }
    let me = std::env::current_exe()?;
    let tmp = std::env::temp_dir().join(format!("bench-helm-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    println!("helm template: ours (fluxrs helm crate) vs Helm v4.1.4, median of {runs} runs each");
    println!(
        "{:<32} {:>9} {:>9} {:>6} {:>9} {:>9} {:>6} {:>9} {:>9} {:>6} {:>9} {:>5}",
        "chart",
        "ours ms",
        "helm ms",
        "x",
        "ours cpu",
        "helm cpu",
        "x",
        "ours MiB",
        "helm MiB",
        "mem",
        "output",
        "same"
    );
    let (mut tot_ours, mut tot_helm) = (0.0, 0.0);
    let (mut cpu_ours, mut cpu_helm) = (0.0, 0.0);
    let (mut max_rss_ours, mut max_rss_helm) = (0i64, 0i64);
    for (label, release, chart, flags) in &cases {
        let mut ours_args = vec![
            "bench".to_string(),
            "helm".into(),
            "--render".into(),
            release.clone(),
            chart.clone(),
        ];
        ours_args.extend(flags.iter().cloned());
        let mut helm_args = vec!["template".to_string(), release.clone(), chart.clone()];
        helm_args.extend(flags.iter().cloned());
        let (mut ow, mut hw, mut orss, mut hrss) = (Vec::new(), Vec::new(), 0, 0);
        let (mut oc, mut hc) = (Vec::new(), Vec::new());
        let (mut obytes, mut hbytes) = (0, 0);
        for _ in 0..runs {
            let o = sample(
                &me,
                &tmp.join("ours.yaml"),
                me.to_str().context("exe path")?,
                &ours_args,
            )?;
            let h = sample(&me, &tmp.join("helm.yaml"), &helm_bin, &helm_args)?;
            ow.push(o.wall_ms);
            hw.push(h.wall_ms);
            oc.push(o.cpu_ms);
            hc.push(h.cpu_ms);
            orss = orss.max(o.rss_kb);
            hrss = hrss.max(h.rss_kb);
            obytes = o.bytes;
            hbytes = h.bytes;
        }
        let same = std::fs::read(tmp.join("ours.yaml"))? == std::fs::read(tmp.join("helm.yaml"))?;
        let (o, h) = (median(ow), median(hw));
        let (ocpu, hcpu) = (median(oc), median(hc));
        tot_ours += o;
        tot_helm += h;
        cpu_ours += ocpu;
        cpu_helm += hcpu;
        max_rss_ours = max_rss_ours.max(orss);
        max_rss_helm = max_rss_helm.max(hrss);
        println!(
            "{:<32} {:>9.1} {:>9.1} {:>5.1}x {:>9.1} {:>9.1} {:>5.1}x {:>9.1} {:>9.1} {:>5.2}x {:>8}K {:>5}",
            label,
            o,
            h,
            h / o,
            ocpu,
            hcpu,
            hcpu / ocpu.max(0.001),
            orss as f64 / 1024.0,
            hrss as f64 / 1024.0,
            orss as f64 / hrss as f64,
            hbytes.max(obytes) / 1024,
            if same { "yes" } else { "NO" }
        );
    }
    println!(
        "{:<32} {:>9.1} {:>9.1} {:>5.1}x {:>9.1} {:>9.1} {:>5.1}x {:>9.1} {:>9.1} {:>5.2}x",
        "total (time) / peak (memory)",
        tot_ours,
        tot_helm,
        tot_helm / tot_ours,
        cpu_ours,
        cpu_helm,
        cpu_helm / cpu_ours.max(0.001),
        max_rss_ours as f64 / 1024.0,
        max_rss_helm as f64 / 1024.0,
        max_rss_ours as f64 / max_rss_helm as f64
    );
    println!(
        "ms = wall time, cpu = user+sys ms (robust when the machine is shared); x = helm / ours \
         (higher is better); mem = our peak RSS / helm's (lower is better); same = byte-identical output"
    );
    std::fs::remove_dir_all(&tmp)?;
    Ok(())
}
