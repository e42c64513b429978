//! sprig's key and certificate functions: `genPrivateKey`, `genCA`, `genSelfSignedCert`,
//! `genSignedCert` (and their `WithKey` variants), `buildCustomCert`.

use std::sync::Arc;

use super::{arg_i, arg_s, ok_s};
use crate::encoding;
use crate::funcs::{FuncError, Functions, Param as P};
use crate::value::{Map, Object, Value};

/// sprig's `certificate` struct: PEM `Cert` and `Key`.
#[derive(Clone, Debug)]
pub struct Certificate {
    /// PEM certificate.
    pub cert: String,
    /// PEM private key.
    pub key: String,
}

impl Object for Certificate {
    fn type_name(&self) -> String {
        "sprig.certificate".into()
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Cert" => Some(Value::str(self.cert.as_str())),
            "Key" => Some(Value::str(self.key.as_str())),
            _ => None,
        }
    }
    fn display(&self) -> String {
        format!("{{{} {}}}", self.cert, self.key)
    }
    fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("Cert".into(), Value::str(self.cert.as_str()));
        m.insert("Key".into(), Value::str(self.key.as_str()));
        Value::map(m)
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// A private key in the two encodings we need: sprig's PEM and PKCS#8 for signing.
struct Key {
    pem: String,
    pkcs8_pem: String,
    alg: &'static rcgen::SignatureAlgorithm,
}

fn rsa_key(bits: usize) -> Result<Key, String> {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::EncodePrivateKey;
    let k = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits).map_err(|e| e.to_string())?;
    Ok(Key {
        pem: k
            .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
            .map_err(|e| e.to_string())?
            .to_string(),
        pkcs8_pem: k
            .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
            .map_err(|e| e.to_string())?
            .to_string(),
        alg: &rcgen::PKCS_RSA_SHA256,
    })
}

fn ecdsa_key() -> Result<Key, String> {
    use p256::pkcs8::EncodePrivateKey;
    let k = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
    Ok(Key {
        pem: k
            .to_sec1_pem(p256::pkcs8::LineEnding::LF)
            .map_err(|e| e.to_string())?
            .to_string(),
        pkcs8_pem: k
            .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
            .map_err(|e| e.to_string())?
            .to_string(),
        alg: &rcgen::PKCS_ECDSA_P256_SHA256,
    })
}

fn ed25519_key() -> Result<Key, String> {
    let rng = ring::rand::SystemRandom::new();
    let doc = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).map_err(|e| e.to_string())?;
    let pem = pem_encode("PRIVATE KEY", doc.as_ref());
    Ok(Key {
        pem: pem.clone(),
        pkcs8_pem: pem,
        alg: &rcgen::PKCS_ED25519,
    })
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = encoding::b64_encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Reads a PEM private key (PKCS#1 RSA, SEC1 EC or PKCS#8) as sprig's `parsePrivateKeyPEM` does.
fn parse_key(pem: &str) -> Result<Key, String> {
    use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
    use rsa::pkcs1::DecodeRsaPrivateKey;
    if pem.contains("BEGIN RSA PRIVATE KEY") {
        let k = rsa::RsaPrivateKey::from_pkcs1_pem(pem).map_err(|e| e.to_string())?;
        return Ok(Key {
            pem: pem.to_string(),
            pkcs8_pem: k
                .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
                .map_err(|e| e.to_string())?
                .to_string(),
            alg: &rcgen::PKCS_RSA_SHA256,
        });
    }
    if pem.contains("BEGIN EC PRIVATE KEY") {
        let k = p256::SecretKey::from_sec1_pem(pem).map_err(|e| e.to_string())?;
        return Ok(Key {
            pem: pem.to_string(),
            pkcs8_pem: k
                .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
                .map_err(|e| e.to_string())?
                .to_string(),
            alg: &rcgen::PKCS_ECDSA_P256_SHA256,
        });
    }
    if pem.contains("BEGIN PRIVATE KEY") {
        if rsa::RsaPrivateKey::from_pkcs8_pem(pem).is_ok() {
            return Ok(Key {
                pem: pem.to_string(),
                pkcs8_pem: pem.to_string(),
                alg: &rcgen::PKCS_RSA_SHA256,
            });
        }
        if p256::SecretKey::from_pkcs8_pem(pem).is_ok() {
            return Ok(Key {
                pem: pem.to_string(),
                pkcs8_pem: pem.to_string(),
                alg: &rcgen::PKCS_ECDSA_P256_SHA256,
            });
        }
        return Ok(Key {
            pem: pem.to_string(),
            pkcs8_pem: pem.to_string(),
            alg: &rcgen::PKCS_ED25519,
        });
    }
    Err("no PEM data found".into())
}

fn key_pair(k: &Key) -> Result<rcgen::KeyPair, String> {
    rcgen::KeyPair::from_pem_and_sign_algo(&k.pkcs8_pem, k.alg).map_err(|e| e.to_string())
}

/// sprig's `getBaseCertTemplate`.
fn base_params(
    cn: &str,
    ips: &Value,
    dns: &Value,
    days: i64,
) -> Result<rcgen::CertificateParams, String> {
    let mut p = rcgen::CertificateParams::default();
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, cn);
    p.distinguished_name = dn;
    for ip in ips.as_list().unwrap_or_default() {
        let s = ip
            .as_str()
            .ok_or_else(|| format!("error parsing ip: {}", super::conv::strval(ip)))?;
        let addr: std::net::IpAddr = s.parse().map_err(|_| format!("error parsing ip: {s}"))?;
        p.subject_alt_names.push(rcgen::SanType::IpAddress(addr));
    }
    for d in dns.as_list().unwrap_or_default() {
        let s = d.as_str().ok_or_else(|| {
            format!(
                "error processing alternate dns name: {}",
                super::conv::strval(d)
            )
        })?;
        let name = s
            .to_string()
            .try_into()
            .map_err(|e: rcgen::Error| e.to_string())?;
        p.subject_alt_names.push(rcgen::SanType::DnsName(name));
    }
    let now = time::OffsetDateTime::now_utc();
    p.not_before = now;
    p.not_after = now + time::Duration::days(days);
    let mut serial = [0u8; 16];
    super::random_bytes(&mut serial);
    serial[0] &= 0x7f;
    p.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    p.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    p.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
    ];
    p.is_ca = rcgen::IsCa::ExplicitNoCa;
    Ok(p)
}

fn cert_value(c: Certificate) -> Value {
    Value::Object(Arc::new(c))
}

fn gen_ca(cn: &str, days: i64, key: Key) -> Result<Value, String> {
    let mut p = base_params(cn, &Value::Nil, &Value::Nil, days)?;
    p.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let kp = key_pair(&key)?;
    let cert = p.self_signed(&kp).map_err(|e| e.to_string())?;
    Ok(cert_value(Certificate {
        cert: cert.pem(),
        key: key.pem,
    }))
}

fn gen_self_signed(a: &[Value], key: Key) -> Result<Value, String> {
    let p = base_params(arg_s(a, 0), &a[1], &a[2], arg_i(a, 3))?;
    let kp = key_pair(&key)?;
    let cert = p.self_signed(&kp).map_err(|e| e.to_string())?;
    Ok(cert_value(Certificate {
        cert: cert.pem(),
        key: key.pem,
    }))
}

fn as_certificate(v: &Value) -> Result<Certificate, String> {
    match v {
        Value::Object(o) => o
            .as_any()
            .and_then(|a| a.downcast_ref::<Certificate>())
            .cloned()
            .ok_or_else(|| {
                format!(
                    "wrong type for value; expected sprig.certificate; got {}",
                    v.type_name()
                )
            }),
        Value::Map(m) => Ok(Certificate {
            cert: m
                .get("Cert")
                .map(|x| super::conv::strval(&x))
                .unwrap_or_default(),
            key: m
                .get("Key")
                .map(|x| super::conv::strval(&x))
                .unwrap_or_default(),
        }),
        other => Err(format!(
            "wrong type for value; expected sprig.certificate; got {}",
            other.type_name()
        )),
    }
}

fn gen_signed(a: &[Value], key: Key) -> Result<Value, String> {
    let ca = as_certificate(&a[4])?;
    let ca_key = parse_key(&ca.key).map_err(|e| format!("error parsing CA private key: {e}"))?;
    let ca_kp = key_pair(&ca_key)?;
    let issuer = rcgen::Issuer::from_ca_cert_pem(&ca.cert, ca_kp)
        .map_err(|e| format!("error parsing CA certificate: {e}"))?;
    let p = base_params(arg_s(a, 0), &a[1], &a[2], arg_i(a, 3))?;
    let kp = key_pair(&key)?;
    let cert = p.signed_by(&kp, &issuer).map_err(|e| e.to_string())?;
    Ok(cert_value(Certificate {
        cert: cert.pem(),
        key: key.pem,
    }))
}

fn fe(e: String) -> FuncError {
    FuncError::new(e)
}

pub(super) fn register(f: &mut Functions) {
    f.add("genPrivateKey", &[P::String], |_, a| {
        let k = match arg_s(a, 0) {
            "rsa" => rsa_key(4096),
            "ecdsa" => ecdsa_key(),
            "ed25519" => ed25519_key(),
            other => return ok_s(format!("Unknown type {other}")),
        };
        match k {
            Ok(k) => ok_s(k.pem),
            Err(e) => ok_s(format!("failed to generate private key: {e}")),
        }
    });
    f.add("genCA", &[P::String, P::Int], |_, a| {
        gen_ca(arg_s(a, 0), arg_i(a, 1), rsa_key(2048).map_err(fe)?).map_err(fe)
    });
    f.add("genCAWithKey", &[P::String, P::Int, P::String], |_, a| {
        let key = parse_key(arg_s(a, 2)).map_err(|e| fe(format!("parse error: {e}")))?;
        gen_ca(arg_s(a, 0), arg_i(a, 1), key).map_err(fe)
    });
    f.add(
        "genSelfSignedCert",
        &[P::String, P::List, P::List, P::Int],
        |_, a| gen_self_signed(a, rsa_key(2048).map_err(fe)?).map_err(fe),
    );
    f.add(
        "genSelfSignedCertWithKey",
        &[P::String, P::List, P::List, P::Int, P::String],
        |_, a| {
            let key = parse_key(arg_s(a, 4)).map_err(|e| fe(format!("parse error: {e}")))?;
            gen_self_signed(a, key).map_err(fe)
        },
    );
    f.add(
        "genSignedCert",
        &[P::String, P::List, P::List, P::Int, P::Any],
        |_, a| gen_signed(a, rsa_key(2048).map_err(fe)?).map_err(fe),
    );
    f.add(
        "genSignedCertWithKey",
        &[P::String, P::List, P::List, P::Int, P::Any, P::String],
        |_, a| {
            let key = parse_key(arg_s(a, 5)).map_err(|e| fe(format!("parse error: {e}")))?;
            gen_signed(a, key).map_err(fe)
        },
    );
    f.add("buildCustomCert", &[P::String, P::String], |_, a| {
        let cert = encoding::b64_decode(arg_s(a, 0))
            .map_err(|_| fe("unable to decode base64 certificate".into()))?;
        let key = encoding::b64_decode(arg_s(a, 1))
            .map_err(|_| fe("unable to decode base64 private key".into()))?;
        let cert = String::from_utf8_lossy(&cert).into_owned();
        let key = String::from_utf8_lossy(&key).into_owned();
        if !cert.contains("-----BEGIN CERTIFICATE-----") {
            return Err(fe("unable to decode certificate".into()));
        }
        parse_key(&key).map_err(|e| fe(format!("error parsing private key: {e}")))?;
        Ok(cert_value(Certificate { cert, key }))
    });
}
