//! Git over HTTPS with a private CA (`ca.crt`), plus the timeout of a server that never answers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};
use source::git::{self, CheckoutOptions, GitAuth, GitError, GitRef};
use source::testutil::{GitHttpServer, HttpAuth};

use crate::common::Upstream;

/// A CA and a server certificate for 127.0.0.1 signed by it.
fn pki() -> Result<(String, rustls::ServerConfig)> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::default();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate()?;
    let mut sp = CertificateParams::new(vec!["localhost".to_string()])?;
    sp.subject_alt_names
        .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
    let cert = sp.signed_by(&key, &issuer)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )?;
    Ok((ca_cert.pem(), cfg))
}

/// Terminates TLS on a random port and forwards the plain bytes to `backend`.
async fn tls_front(
    cfg: rustls::ServerConfig,
    backend: std::net::SocketAddr,
) -> Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>)> {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                if let Ok(mut up) = tokio::net::TcpStream::connect(backend).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                }
            });
        }
    });
    Ok((addr, task))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_custom_ca() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let up = Upstream::new(tmp.path(), "repo")?;
    up.write("a.yaml", "a: 1\n")?;
    let c1 = up.commit("one")?;
    up.push_all()?;
    let backend =
        GitHttpServer::start(&up.srv, HttpAuth::Basic("u".into(), "tls-pass".into())).await?;
    let (ca_pem, cfg) = pki()?;
    let (addr, task) = tls_front(cfg, backend.addr).await?;
    let url = format!("https://{addr}/repo.git");
    let o = |ca: Option<Vec<u8>>| CheckoutOptions {
        url: url.clone(),
        reference: GitRef::Branch("main".into()),
        auth: GitAuth {
            username: Some("u".into()),
            password: Some("tls-pass".into()),
            ca_pem: ca,
            ..Default::default()
        },
        ..Default::default()
    };
    let r = git::checkout(
        &o(Some(ca_pem.clone().into_bytes())),
        &tmp.path().join("ok"),
    )
    .await?;
    assert_eq!(r.revision, format!("main@sha1:{c1}"));
    // Without the CA the server is not trusted.
    let e = git::checkout(&o(None), &tmp.path().join("noca"))
        .await
        .unwrap_err();
    assert!(matches!(e, GitError::Tls { .. }), "{e:?}");
    // A different CA does not help either.
    let (other_ca, _) = pki()?;
    let e = git::checkout(&o(Some(other_ca.into_bytes())), &tmp.path().join("otherca"))
        .await
        .unwrap_err();
    assert!(matches!(e, GitError::Tls { .. }), "{e:?}");
    task.abort();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_server_times_out() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let o = CheckoutOptions {
        url: format!("http://{addr}/repo.git"),
        reference: GitRef::Branch("main".into()),
        timeout: Duration::from_secs(2),
        ..Default::default()
    };
    let start = Instant::now();
    let e = git::checkout(&o, &tmp.path().join("t")).await.unwrap_err();
    assert!(matches!(e, GitError::Timeout { .. }), "{e:?}");
    assert!(start.elapsed() < Duration::from_secs(10));
    task.abort();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_proxy_is_used_and_its_password_stays_hidden() -> Result<()> {
    use source::git::ProxyOptions;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let tmp = tempfile::tempdir()?;
    let up = Upstream::new(tmp.path(), "repo")?;
    up.write("a.yaml", "a: 1\n")?;
    let c1 = up.commit("one")?;
    up.push_all()?;
    let backend = GitHttpServer::start(&up.srv, HttpAuth::None).await?;
    // A forward proxy that pipes every connection to the backend; the backend accepts the
    // absolute-form request targets a client sends to a proxy.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let proxy_addr = listener.local_addr()?;
    let hits = Arc::new(AtomicUsize::new(0));
    let h2 = hits.clone();
    let target = backend.addr;
    let task = tokio::spawn(async move {
        while let Ok((mut c, _)) = listener.accept().await {
            h2.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if let Ok(mut b) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut c, &mut b).await;
                }
            });
        }
    });
    // The repository host does not resolve: only the proxy can reach it.
    let o = |proxy: String| CheckoutOptions {
        url: "http://git.invalid/repo.git".into(),
        reference: GitRef::Branch("main".into()),
        proxy: Some(ProxyOptions {
            address: proxy,
            username: Some("proxy-user".into()),
            password: Some("proxy-pa55word".into()),
        }),
        timeout: Duration::from_secs(30),
        ..Default::default()
    };
    let r = git::checkout(&o(format!("http://{proxy_addr}")), &tmp.path().join("via")).await?;
    assert_eq!(r.commit, c1);
    assert!(hits.load(Ordering::SeqCst) > 0);
    // A dead proxy: unreachable, and the proxy password is not shown.
    let dead = crate::common::free_port()?;
    let e = git::checkout(
        &o(format!("http://127.0.0.1:{dead}")),
        &tmp.path().join("dead"),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, GitError::Unreachable { .. }), "{e:?}");
    assert!(!format!("{e} {e:?}").contains("proxy-pa55word"), "{e}");
    task.abort();
    Ok(())
}
