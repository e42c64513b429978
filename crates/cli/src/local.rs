//! `flux local ...`: the embedded API server and the local GitOps loop.

use anyhow::Context;
use clap::{Args, Subcommand};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

/// `flux local` arguments.
#[derive(Args)]
pub struct LocalArgs {
    #[command(subcommand)]
    command: LocalCommand,
}

#[derive(Subcommand)]
enum LocalCommand {
    /// Run a GitOps loop on this machine: embedded API server, all controllers, a
    /// GitRepository and a Kustomization for PATH or URL (default: the bundled quickstart).
    Up(crate::local_up::UpArgs),
    /// Run the embedded Kubernetes API server alone (until interrupted).
    Apiserver(ApiserverArgs),
}

/// `flux local apiserver` arguments.
#[derive(Args)]
struct ApiserverArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 6443)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind_address: IpAddr,
    /// Directory for the database and credentials.
    #[arg(long, default_value = ".fluxrs/apiserver")]
    data_dir: PathBuf,
    /// Where to write the admin kubeconfig (default: <data-dir>/kubeconfig).
    #[arg(long)]
    kubeconfig_out: Option<PathBuf>,
    /// Serve plain HTTP without authentication instead of HTTPS.
    #[arg(long)]
    insecure_http: bool,
}

/// Runs `flux local`.
pub fn run(args: LocalArgs) -> anyhow::Result<()> {
    match args.command {
        LocalCommand::Up(a) => crate::local_up::run(a),
        LocalCommand::Apiserver(a) => apiserver(a),
    }
}

fn apiserver(a: ApiserverArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let mut cfg = apiserver::Config::new(&a.data_dir);
        cfg.addr = SocketAddr::new(a.bind_address, a.port);
        cfg.tls = !a.insecure_http;
        let kubeconfig = a.kubeconfig_out.clone().unwrap_or_else(|| a.data_dir.join("kubeconfig"));
        cfg.kubeconfig_out = Some(kubeconfig.clone());
        let started = std::time::Instant::now();
        let server = apiserver::start(cfg).await.context("starting the API server")?;
        println!(
            "► API server listening on {} (ready in {} ms)\n► kubeconfig: {}\n  kubectl --kubeconfig {} get namespaces",
            server.url,
            started.elapsed().as_millis(),
            kubeconfig.display(),
            kubeconfig.display()
        );
        tokio::signal::ctrl_c().await.context("waiting for interrupt")?;
        println!("► shutting down");
        server.shutdown().await;
        Ok(())
    })
}
