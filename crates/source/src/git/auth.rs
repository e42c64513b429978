//! Credentials for Git transports, read from a Secret's data with Flux's key names.

use std::collections::BTreeMap;
use std::fmt;

use super::GitError;

/// HTTPS and SSH credentials; `Debug` never prints secret material.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct GitAuth {
    /// HTTP basic auth user name (Secret key `username`).
    pub username: Option<String>,
    /// HTTP basic auth password (Secret key `password`).
    pub password: Option<String>,
    /// HTTP bearer token (Secret key `bearerToken`).
    pub bearer_token: Option<String>,
    /// PEM bundle of CA certificates trusted for HTTPS (Secret key `ca.crt`, legacy `caFile`).
    pub ca_pem: Option<Vec<u8>>,
    /// SSH key authentication.
    pub ssh: Option<SshAuth>,
}

/// SSH key authentication; `known_hosts` is mandatory for `ssh://` URLs.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SshAuth {
    /// Private key in OpenSSH or PEM format (Secret key `identity`).
    pub identity: Vec<u8>,
    /// known_hosts lines pinning the server's host key (Secret key `known_hosts`).
    pub known_hosts: Vec<u8>,
    /// Passphrase of an encrypted private key (Secret key `password` when `identity` is present).
    pub passphrase: Option<String>,
}

/// An HTTP(S) proxy (`spec.proxySecretRef`: keys `address`, `username`, `password`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProxyOptions {
    /// Proxy URL, e.g. `http://proxy:3128`.
    pub address: String,
    /// Optional proxy user.
    pub username: Option<String>,
    /// Optional proxy password.
    pub password: Option<String>,
}

impl fmt::Debug for GitAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitAuth")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "<redacted>"),
            )
            .field("ca_pem", &self.ca_pem.as_ref().map(|c| c.len()))
            .field("ssh", &self.ssh)
            .finish()
    }
}

impl fmt::Debug for SshAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SshAuth")
            .field("identity", &"<redacted>")
            .field("known_hosts_bytes", &self.known_hosts.len())
            .field(
                "passphrase",
                &self.passphrase.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl fmt::Debug for ProxyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyOptions")
            .field("address", &self.address)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

fn text(
    data: &BTreeMap<String, Vec<u8>>,
    key: &str,
    secret: &str,
) -> Result<Option<String>, GitError> {
    match data.get(key) {
        None => Ok(None),
        Some(v) => String::from_utf8(v.clone())
            .map(Some)
            .map_err(|_| GitError::InvalidSecret {
                secret: secret.to_string(),
                reason: format!("key {key:?} is not UTF-8"),
            }),
    }
}

impl GitAuth {
    /// Reads Flux's GitRepository Secret keys for a URL: `username`/`password`, `bearerToken`,
    /// `ca.crt` (or `caFile`) for http(s); `identity`, `known_hosts`, `password` for ssh.
    /// `secret` names the Secret in errors.
    pub fn from_secret_data(
        url: &str,
        secret: &str,
        data: &BTreeMap<String, Vec<u8>>,
    ) -> Result<GitAuth, GitError> {
        let mut auth = GitAuth::default();
        if url.starts_with("ssh://") || (!url.contains("://") && url.contains('@')) {
            let identity = data.get("identity").cloned();
            let known_hosts = data.get("known_hosts").cloned();
            if identity.is_some() || known_hosts.is_some() {
                auth.ssh = Some(SshAuth {
                    identity: identity.unwrap_or_default(),
                    known_hosts: known_hosts.unwrap_or_default(),
                    passphrase: text(data, "password", secret)?,
                });
            }
            return Ok(auth);
        }
        auth.username = text(data, "username", secret)?;
        auth.password = text(data, "password", secret)?;
        auth.bearer_token = text(data, "bearerToken", secret)?;
        if auth.password.is_some() && auth.username.is_none() {
            return Err(GitError::InvalidSecret {
                secret: secret.to_string(),
                reason: "'password' is set but 'username' is missing".to_string(),
            });
        }
        if auth.bearer_token.is_some() && auth.username.is_some() {
            return Err(GitError::InvalidSecret {
                secret: secret.to_string(),
                reason: "'bearerToken' and 'username' are mutually exclusive".to_string(),
            });
        }
        auth.ca_pem = data.get("ca.crt").or_else(|| data.get("caFile")).cloned();
        Ok(auth)
    }

    /// Every secret string, for scrubbing command output before it reaches an error message.
    pub(crate) fn secrets(&self) -> Vec<String> {
        let mut v = Vec::new();
        v.extend(self.password.clone());
        v.extend(self.bearer_token.clone());
        if let Some(s) = &self.ssh {
            v.extend(s.passphrase.clone());
        }
        v.retain(|s| !s.is_empty());
        v
    }
}

impl ProxyOptions {
    /// Reads Flux's proxy Secret keys `address`, `username`, `password`.
    pub fn from_secret_data(
        secret: &str,
        data: &BTreeMap<String, Vec<u8>>,
    ) -> Result<Self, GitError> {
        let address = text(data, "address", secret)?.ok_or_else(|| GitError::InvalidSecret {
            secret: secret.to_string(),
            reason: "key 'address' is missing".to_string(),
        })?;
        Ok(ProxyOptions {
            address,
            username: text(data, "username", secret)?,
            password: text(data, "password", secret)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(kv: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn secret_keys() {
        let a = GitAuth::from_secret_data(
            "https://h/r",
            "s",
            &data(&[("username", "u"), ("password", "p"), ("ca.crt", "PEM")]),
        )
        .unwrap();
        assert_eq!(a.username.as_deref(), Some("u"));
        assert_eq!(a.ca_pem.as_deref(), Some(&b"PEM"[..]));
        let dbg = format!("{a:?}");
        assert!(!dbg.contains("\"p\""), "{dbg}");
        let s = GitAuth::from_secret_data(
            "ssh://git@h/r",
            "s",
            &data(&[
                ("identity", "KEY"),
                ("known_hosts", "h ssh-ed25519 AAA"),
                ("password", "pp"),
            ]),
        )
        .unwrap();
        let ssh = s.ssh.unwrap();
        assert_eq!(ssh.passphrase.as_deref(), Some("pp"));
        assert!(!format!("{ssh:?}").contains("KEY"));
        assert!(matches!(
            GitAuth::from_secret_data("https://h/r", "s", &data(&[("password", "p")])),
            Err(GitError::InvalidSecret { .. })
        ));
    }
}
