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
        Ok(pki)
    }

    /// Generates fresh credentials.
    pub fn generate() -> Result<Self, PkiError> {
        let gen_err = |what| move |source| PkiError::Generate { what, source };
        let ca_key = KeyPair::generate().map_err(gen_err("CA key"))?;
        let mut ca_params = CertificateParams::default();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        ca_params.distinguished_name = dn(&[(DnType::CommonName, "fluxrs-apiserver-ca")]);
        ca_params.not_after = rcgen::date_time_ymd(2100, 1, 1);
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

        let admin_key = KeyPair::generate().map_err(gen_err("admin key"))?;
        let mut ap = CertificateParams::default();
        ap.distinguished_name = dn(&[
            (DnType::OrganizationName, "system:masters"),
            (DnType::CommonName, "kubernetes-admin"),
        ]);
        ap.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        ap.not_after = rcgen::date_time_ymd(2100, 1, 1);
        let admin_cert = ap
            .signed_by(&admin_key, &issuer)
            .map_err(gen_err("admin certificate"))?;

        let token =
            uuid::Uuid::new_v4().simple().to_string() + &uuid::Uuid::new_v4().simple().to_string();
        Ok(Self {
            ca_cert: ca_cert.pem(),
            server_cert: server_cert.pem(),
            server_key: server_key.serialize_pem(),
            admin_cert: admin_cert.pem(),
            admin_key: admin_key.serialize_pem(),
            admin_token: token,
        })
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

fn dn(parts: &[(DnType, &str)]) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    for (t, v) in parts {
        d.push(t.clone(), *v);
    }
    d
}
