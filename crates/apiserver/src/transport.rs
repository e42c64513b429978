//! Listeners: plain HTTP or TLS (rustls, ring provider) with optional client certificates, each
//! connection served by hyper with the caller's transport identity attached to every request.

use crate::pki::Pki;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_service::Service;

/// Who the transport says the caller is.
#[derive(Debug, Clone, Default)]
pub struct PeerIdentity {
    /// A client certificate signed by our CA was presented.
    pub client_cert: bool,
    /// The identity that certificate names (subject CN and O), parsed once per connection.
    pub cert_user: Option<crate::auth::UserInfo>,
}

/// Errors building the TLS configuration.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// PEM could not be parsed.
    #[error("parsing {what} PEM: {source}")]
    Pem {
        /// Which credential.
        what: &'static str,
        /// Cause.
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    /// rustls refused the configuration.
    #[error("building TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client verifier could not be built.
    #[error("building client certificate verifier: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
}

/// Builds the rustls server configuration from our credentials.
pub fn tls_config(pki: &Pki) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(pki.server_cert.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|source| TlsError::Pem {
                what: "server certificate",
                source,
            })?;
    let key = PrivateKeyDer::from_pem_slice(pki.server_key.as_bytes()).map_err(|source| {
        TlsError::Pem {
            what: "server key",
            source,
        }
    })?;
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(pki.ca_cert.as_bytes()) {
        let ca = ca.map_err(|source| TlsError::Pem {
            what: "CA certificate",
            source,
        })?;
        roots.add(ca)?;
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .allow_unauthenticated()
    .build()?;
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// Accepts connections until `shutdown` flips to true.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => return,
        };
        let Ok((tcp, _)) = accepted else { continue };
        let _ = tcp.set_nodelay(true);
        let router = router.clone();
        let acceptor = acceptor.clone();
        let mut conn_shutdown = shutdown.clone();
        tokio::spawn(async move {
            match acceptor {
                None => {
                    let svc = service(router, PeerIdentity::default());
                    run_conn(TokioIo::new(tcp), svc, &mut conn_shutdown).await;
                }
                Some(acc) => {
                    let Ok(stream) = acc.accept(tcp).await else {
                        return;
                    };
                    let certs = stream.get_ref().1.peer_certificates();
                    let client_cert = certs.is_some_and(|c| !c.is_empty());
                    let cert_user = certs
                        .and_then(|c| c.first())
                        .and_then(|c| crate::auth::authn::cert_identity(c));
                    let svc = service(
                        router,
                        PeerIdentity {
                            client_cert,
                            cert_user,
                        },
                    );
                    run_conn(TokioIo::new(stream), svc, &mut conn_shutdown).await;
                }
            }
        });
    }
}

fn service(
    router: Router,
    peer: PeerIdentity,
) -> impl hyper::service::Service<
    hyper::Request<Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone {
    hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(peer.clone());
        let mut r = router.clone();
        async move { r.call(req.map(axum::body::Body::new)).await }
    })
}

async fn run_conn<I, S>(io: I, svc: S, shutdown: &mut watch::Receiver<bool>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: hyper::service::Service<
            hyper::Request<Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Send
        + 'static,
    S::Future: Send + 'static,
{
    let _ = TokioExecutor::new();
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = shutdown.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(std::time::Duration::from_millis(200), conn).await;
        }
    }
}
