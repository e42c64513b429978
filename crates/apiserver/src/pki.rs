//! Credentials: a generated CA, the serving certificate, an admin client certificate and token,
//! persisted in the data dir, and the kubeconfig that names them.

use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use std::path::Path;

/// Errors creating or loading credentials.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// Certificate generation failed.
    #[error("generating {what}: {source}")]
    Generate {
        /// Which credential.
        what: &'static str,
        /// Cause.
        #[source]
        source: rcgen::Error,
    },
    /// rcgen cannot put more than two O attributes into one subject.
    #[error("issuing a client certificate: at most 2 groups are supported, got {0}")]
    TooManyGroups(usize),
    /// The CA key is not available (data dir from an older version).
    #[error("issuing a client certificate: the CA key is not available in this data directory")]
    NoCaKey,
    /// Reading or writing a credential file failed.
    #[error("accessing credential file {path}: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// PEM-encoded credentials of one server instance.
#[derive(Debug, Clone)]
pub struct Pki {
    /// CA certificate (PEM).
    pub ca_cert: String,
    /// Server certificate (PEM).
    pub server_cert: String,
    /// Server key (PEM).
    pub server_key: String,
    /// Admin client certificate (PEM), `O=system:masters`.
    pub admin_cert: String,
    /// Admin client key (PEM).
    pub admin_key: String,
    /// Admin bearer token.
    pub admin_token: String,
    /// CA key (PEM), kept to mint client certificates; `None` for data dirs created before it
    /// was persisted.
    pub ca_key: Option<String>,
}

const FILES: [&str; 6] = [
    "ca.crt",
    "server.crt",
    "server.key",
    "admin.crt",
    "admin.key",
    "admin.token",
];

impl Pki {
    /// Loads the credentials from `dir/pki`, generating them on first start.
    pub fn load_or_create(dir: &Path) -> Result<Self, PkiError> {
        let pki_dir = dir.join("pki");
        let io = |p: &Path| {
            let path = p.display().to_string();
            move |source| PkiError::Io { path, source }
        };
        if FILES.iter().all(|f| pki_dir.join(f).exists()) {
            let read =
                |f: &str| std::fs::read_to_string(pki_dir.join(f)).map_err(io(&pki_dir.join(f)));
            return Ok(Self {
                ca_cert: read("ca.crt")?,
                server_cert: read("server.crt")?,
                server_key: read("server.key")?,
                admin_cert: read("admin.crt")?,
                admin_key: read("admin.key")?,
                admin_token: read("admin.token")?.trim().to_string(),
                ca_key: std::fs::read_to_string(pki_dir.join("ca.key")).ok(),
            });
        }
        let pki = Self::generate()?;
        std::fs::create_dir_all(&pki_dir).map_err(io(&pki_dir))?;
        for (f, content) in FILES.iter().zip([
            &pki.ca_cert,
            &pki.server_cert,
            &pki.server_key,
            &pki.admin_cert,
            &pki.admin_key,
            &pki.admin_token,
        ]) {
            std::fs::write(pki_dir.join(f), content).map_err(io(&pki_dir.join(f)))?;
        }
        if let Some(k) = &pki.ca_key {
            write_private(&pki_dir.join("ca.key"), k)?;
        }
        Ok(pki)
    }

    /// Generates fresh credentials.
    pub fn generate() -> Result<Self, PkiError> {
        let gen_err = |what| move |source| PkiError::Generate { what, source };
        let ca_key = KeyPair::generate().map_err(gen_err("CA key"))?;
        let ca_key_pem = ca_key.serialize_pem();
        let ca_params = ca_params();
        let ca_cert = ca_params
            .self_signed(&ca_key)
            .map_err(gen_err("CA certificate"))?;
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().map_err(gen_err("server key"))?;
        let mut sp = CertificateParams::new(vec!["localhost".to_string()])
            .map_err(gen_err("server certificate"))?;
        sp.subject_alt_names
            .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
        sp.subject_alt_names
            .push(SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()));
        sp.subject_alt_names.push(SanType::DnsName(
            "kubernetes.default.svc"
                .try_into()
                .map_err(gen_err("server SAN"))?,
        ));
        sp.distinguished_name = dn(&[(DnType::CommonName, "kube-apiserver")]);
        sp.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        sp.not_after = rcgen::date_time_ymd(2100, 1, 1);
        let server_cert = sp
            .signed_by(&server_key, &issuer)
            .map_err(gen_err("server certificate"))?;

        let (admin_cert, admin_key) =
            client_cert(&issuer, "kubernetes-admin", &["system:masters"])?;

        let token =
            uuid::Uuid::new_v4().simple().to_string() + &uuid::Uuid::new_v4().simple().to_string();
        Ok(Self {
            ca_cert: ca_cert.pem(),
            server_cert: server_cert.pem(),
            server_key: server_key.serialize_pem(),
            admin_cert,
            admin_key,
            admin_token: token,
            ca_key: Some(ca_key_pem),
        })
    }

    /// Mints a client certificate (PEM cert, PEM key) signed by our CA for `user` (subject CN)
    /// in `groups` (one subject O each, at most two), as `kubeadm kubeconfig user` would.
    pub fn issue_client_cert(
        &self,
        user: &str,
        groups: &[&str],
    ) -> Result<(String, String), PkiError> {
        let Some(ca_key) = &self.ca_key else {
            return Err(PkiError::NoCaKey);
        };
        let key = KeyPair::from_pem(ca_key).map_err(|source| PkiError::Generate {
            what: "CA key",
            source,
        })?;
        client_cert(&Issuer::new(ca_params(), key), user, groups)
    }

    /// A kubeconfig over TLS that authenticates with a given client certificate and key (PEM).
    pub fn kubeconfig_with_cert(&self, server: &str, user: &str, cert: &str, key: &str) -> String {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
        self.kubeconfig_user(
            server,
            user,
            &format!(
                "    client-certificate-data: {}\n    client-key-data: {}\n",
                b64(cert),
                b64(key)
            ),
        )
    }

    /// A kubeconfig that authenticates with a bearer token (TLS trust from our CA when `server`
    /// is https).
    pub fn kubeconfig_with_token(&self, server: &str, user: &str, token: &str) -> String {
        self.kubeconfig_user(server, user, &format!("    token: {token}\n"))
    }

    fn kubeconfig_user(&self, server: &str, user: &str, creds: &str) -> String {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
        let cluster = if server.starts_with("https") {
            format!(
                "    server: {server}\n    certificate-authority-data: {}\n",
                b64(&self.ca_cert)
            )
        } else {
            format!("    server: {server}\n")
        };
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fluxrs\n  cluster:\n{cluster}users:\n- name: {user:?}\n  user:\n{creds}contexts:\n- name: fluxrs\n  context:\n    cluster: fluxrs\n    user: {user:?}\n    namespace: default\ncurrent-context: fluxrs\npreferences: {{}}\n"
        )
    }

    /// A kubeconfig for the admin identity. `tls` selects https with the CA and client cert;
    /// otherwise a plain-http cluster entry with the token.
    pub fn kubeconfig(&self, server: &str, tls: bool) -> String {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
        let cluster = if tls {
            format!(
                "    server: {server}\n    certificate-authority-data: {}\n",
                b64(&self.ca_cert)
            )
        } else {
            format!("    server: {server}\n")
        };
        let user = if tls {
            format!(
                "    client-certificate-data: {}\n    client-key-data: {}\n",
                b64(&self.admin_cert),
                b64(&self.admin_key)
            )
        } else {
            format!("    token: {}\n", self.admin_token)
        };
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fluxrs\n  cluster:\n{cluster}users:\n- name: fluxrs-admin\n  user:\n{user}contexts:\n- name: fluxrs\n  context:\n    cluster: fluxrs\n    user: fluxrs-admin\n    namespace: default\ncurrent-context: fluxrs\npreferences: {{}}\n"
        )
    }
}

/// The CA's certificate parameters (also rebuilt to sign with a persisted CA key).
fn ca_params() -> CertificateParams {
    let mut ca_params = CertificateParams::default();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.distinguished_name = dn(&[(DnType::CommonName, "fluxrs-apiserver-ca")]);
    ca_params.not_after = rcgen::date_time_ymd(2100, 1, 1);
    ca_params
}

fn client_cert(
    issuer: &Issuer<'_, KeyPair>,
    user: &str,
    groups: &[&str],
) -> Result<(String, String), PkiError> {
    let gen_err = |what| move |source| PkiError::Generate { what, source };
    let key = KeyPair::generate().map_err(gen_err("client key"))?;
    let mut p = CertificateParams::default();
    // rcgen keys subject attributes by type, so a second O goes in under its raw OID.
    let org_types = [
        DnType::OrganizationName,
        DnType::CustomDnType(vec![2, 5, 4, 10]),
    ];
    if groups.len() > org_types.len() {
        return Err(PkiError::TooManyGroups(groups.len()));
    }
    let mut parts: Vec<(DnType, &str)> =
        org_types.into_iter().zip(groups.iter().copied()).collect();
    parts.push((DnType::CommonName, user));
    p.distinguished_name = dn(&parts);
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p.not_after = rcgen::date_time_ymd(2100, 1, 1);
    let cert = p
        .signed_by(&key, issuer)
        .map_err(gen_err("client certificate"))?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// The service-account token signing key (PKCS#8 PEM, P-256) from `dir/pki/sa.key`, generated
/// on first use.
pub fn service_account_key(dir: &Path) -> Result<String, PkiError> {
    let path = dir.join("pki").join("sa.key");
    if let Ok(k) = std::fs::read_to_string(&path) {
        return Ok(k);
    }
    let key = KeyPair::generate()
        .map_err(|source| PkiError::Generate {
            what: "service account signing key",
            source,
        })?
        .serialize_pem();
    let parent = dir.join("pki");
    std::fs::create_dir_all(&parent).map_err(|source| PkiError::Io {
        path: parent.display().to_string(),
        source,
    })?;
    write_private(&path, &key)?;
    Ok(key)
}

fn write_private(path: &Path, content: &str) -> Result<(), PkiError> {
    std::fs::write(path, content).map_err(|source| PkiError::Io {
        path: path.display().to_string(),
        source,
    })
}

fn dn(parts: &[(DnType, &str)]) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    for (t, v) in parts {
        d.push(t.clone(), *v);
    }
    d
}
