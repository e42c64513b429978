//! Standalone API server process (what `flux local apiserver` runs), used by crash-safety tests
//! and the benchmark, which need a process they can kill.
//!
//! Usage: `fluxrs-apiserver <data-dir> <port> [--insecure-http]`; prints `READY <url>` once
//! serving and writes `<data-dir>/kubeconfig`.

use std::net::SocketAddr;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(port)) = (args.get(1), args.get(2).and_then(|p| p.parse::<u16>().ok()))
    else {
        eprintln!("usage: fluxrs-apiserver <data-dir> <port> [--insecure-http]");
        std::process::exit(2);
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("starting runtime: {e}");
            std::process::exit(1);
        }
    };
    rt.block_on(async {
        let mut cfg = apiserver::Config::new(dir);
        cfg.addr = SocketAddr::from(([127, 0, 0, 1], port));
        cfg.tls = !args.iter().any(|a| a == "--insecure-http");
        cfg.kubeconfig_out = Some(std::path::Path::new(dir).join("kubeconfig"));
        match apiserver::start(cfg).await {
            Ok(s) => {
                println!("READY {}", s.url);
                std::future::pending::<()>().await;
            }
            Err(e) => {
                eprintln!("starting API server: {e}");
                std::process::exit(1);
            }
        }
    });
}
