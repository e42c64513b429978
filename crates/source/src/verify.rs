//! OpenPGP verification of Git commit and tag signatures (`spec.verify`), with rPGP.
//!
//! A commit's signature is its `gpgsig` header; the signed payload is the commit object without that
//! header. A tag's signature is the armored block at the end of its message; the payload is what
//! precedes it. Keys come from a Secret whose every value is an armored public key (ring).

use std::collections::BTreeMap;
use std::path::Path;

use pgp::composed::{Deserializable, DetachedSignature, SignedPublicKey};
use pgp::types::KeyDetails;

use crate::git::{CheckoutResult, GitRef};

/// Errors of signature verification.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// `spec.verify.mode` is not one of `HEAD`, `head`, `Tag`, `TagAndHEAD`.
    #[error("invalid verification mode {0:?}")]
    InvalidMode(String),
    /// The Secret holds no usable public key.
    #[error("invalid verification secret {secret}: {reason}")]
    InvalidKeyring {
        /// The Secret name.
        secret: String,
        /// What is wrong.
        reason: String,
    },
    /// The object carries no signature.
    #[error("{object} is not signed")]
    Unsigned {
        /// E.g. `commit 'main@sha1:…'`.
        object: String,
    },
    /// The signature is malformed or no key of the keyring verifies it.
    #[error("unable to verify {object}: {reason}")]
    Invalid {
        /// E.g. `tag 'v1.0.0'`.
        object: String,
        /// Why.
        reason: String,
    },
    /// Tag verification was asked for a reference that is not a tag.
    #[error("cannot verify tag signature: reference {0} is not a tag or semver reference")]
    NotATag(String),
    /// Reading the Git object failed.
    #[error("read git object {object}: {reason}")]
    Read {
        /// The object.
        object: String,
        /// Why.
        reason: String,
    },
}

/// What to verify (`spec.verify.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyMode {
    /// The checked-out commit (`HEAD`, default).
    Head,
    /// The annotated tag the reference names (`Tag`).
    Tag,
    /// Both (`TagAndHEAD`).
    TagAndHead,
}

impl VerifyMode {
    /// Parses the CRD value; absent means `HEAD`.
    pub fn parse(mode: Option<&str>) -> Result<Self, VerifyError> {
        match mode {
            None | Some("HEAD") | Some("head") => Ok(VerifyMode::Head),
            Some("Tag") => Ok(VerifyMode::Tag),
            Some("TagAndHEAD") => Ok(VerifyMode::TagAndHead),
            Some(other) => Err(VerifyError::InvalidMode(other.to_string())),
        }
    }
}

/// Trusted public keys.
#[derive(Debug, Clone)]
pub struct Keyring {
    keys: Vec<SignedPublicKey>,
}

/// A successful verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// What was verified, e.g. `commit 'main@sha1:…'`.
    pub object: String,
    /// Upper-case hex fingerprint of the (sub)key that made the signature.
    pub key_fingerprint: String,
}

impl Keyring {
    /// Reads every value of a Secret as armored public key(s); `secret` names it in errors.
    pub fn from_secret_data(
        secret: &str,
        data: &BTreeMap<String, Vec<u8>>,
    ) -> Result<Self, VerifyError> {
        let mut keys = Vec::new();
        for (k, v) in data {
            let parsed = SignedPublicKey::from_armor_many(&v[..]).map_err(|e| {
                VerifyError::InvalidKeyring {
                    secret: secret.to_string(),
                    reason: format!("key {k:?}: {e}"),
                }
            })?;
            for key in parsed.0 {
                keys.push(key.map_err(|e| VerifyError::InvalidKeyring {
                    secret: secret.to_string(),
                    reason: format!("key {k:?}: {e}"),
                })?);
            }
        }
        if keys.is_empty() {
            return Err(VerifyError::InvalidKeyring {
                secret: secret.to_string(),
                reason: "no public keys found".to_string(),
            });
        }
        Ok(Keyring { keys })
    }

    /// Verifies `payload` against an armored detached signature with any key or subkey.
    fn verify(
        &self,
        object: &str,
        payload: &[u8],
        armored_sig: &str,
    ) -> Result<Verified, VerifyError> {
        let invalid = |reason: String| VerifyError::Invalid {
            object: object.to_string(),
            reason,
        };
        let (sig, _) = DetachedSignature::from_armor_single(armored_sig.as_bytes())
            .map_err(|e| invalid(format!("malformed signature: {e}")))?;
        for key in &self.keys {
            if sig.verify(&key.primary_key, payload).is_ok() {
                return Ok(Verified {
                    object: object.to_string(),
                    key_fingerprint: format!("{:X}", key.primary_key.fingerprint()),
                });
            }
            for sub in &key.public_subkeys {
                if sig.verify(&sub.key, payload).is_ok() {
                    return Ok(Verified {
                        object: object.to_string(),
                        key_fingerprint: format!("{:X}", sub.key.fingerprint()),
                    });
                }
            }
        }
        Err(invalid("no matching key in the keyring".to_string()))
    }
}

/// Splits a raw commit object into (payload without `gpgsig`, armored signature).
pub fn split_commit(raw: &[u8]) -> Option<(Vec<u8>, String)> {
    let text = std::str::from_utf8(raw).ok()?;
    let mut payload = String::with_capacity(text.len());
    let mut sig = String::new();
    let mut in_headers = true;
    let mut in_sig = false;
    for line in text.split_inclusive('\n') {
        if !in_headers {
            payload.push_str(line);
            continue;
        }
        if line == "\n" {
            in_headers = false;
            payload.push_str(line);
            continue;
        }
        if let Some(rest) = line
            .strip_prefix("gpgsig ")
            .or_else(|| line.strip_prefix("gpgsig-sha256 "))
        {
            in_sig = true;
            sig.push_str(rest);
            continue;
        }
        // Continuation lines of a multi-line header start with one space.
        if in_sig && let Some(rest) = line.strip_prefix(' ') {
            sig.push_str(rest);
            continue;
        }
        in_sig = false;
        payload.push_str(line);
    }
    if sig.is_empty() {
        return None;
    }
    Some((payload.into_bytes(), sig))
}

/// Splits a raw tag object into (payload, armored signature).
pub fn split_tag(raw: &[u8]) -> Option<(Vec<u8>, String)> {
    let text = std::str::from_utf8(raw).ok()?;
    let start = text.find("-----BEGIN PGP SIGNATURE-----")?;
    Some((text.as_bytes()[..start].to_vec(), text[start..].to_string()))
}

/// Verifies a raw commit object.
pub fn verify_commit(raw: &[u8], object: &str, keyring: &Keyring) -> Result<Verified, VerifyError> {
    let (payload, sig) = split_commit(raw).ok_or_else(|| VerifyError::Unsigned {
        object: object.to_string(),
    })?;
    keyring.verify(object, &payload, &sig)
}

/// Verifies a raw (annotated) tag object.
pub fn verify_tag(raw: &[u8], object: &str, keyring: &Keyring) -> Result<Verified, VerifyError> {
    let (payload, sig) = split_tag(raw).ok_or_else(|| VerifyError::Unsigned {
        object: object.to_string(),
    })?;
    keyring.verify(object, &payload, &sig)
}

/// Reads the raw content of a `kind` object (`commit` or `tag`) of a checkout, as
/// `git cat-file <kind> <rev>` prints it; `rev` is a full reference name or a hex object id.
/// The reference's direct target is read, not peeled, so a lightweight tag (pointing at a
/// commit) is not a `tag` object.
async fn cat_file(dir: &Path, kind: &str, rev: &str, object: &str) -> Result<Vec<u8>, VerifyError> {
    let read_err = |reason: String| VerifyError::Read {
        object: object.to_string(),
        reason,
    };
    let (dir, kind, rev) = (dir.to_path_buf(), kind.to_string(), rev.to_string());
    let read = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
        let repo = gix::open_opts(&dir, gix::open::Options::isolated())
            .map_err(|e| format!("opening the checkout: {e}"))?;
        let id = match gix::ObjectId::from_hex(rev.as_bytes()) {
            Ok(id) => id,
            Err(_) => {
                let reference = repo
                    .find_reference(rev.as_str())
                    .map_err(|e| format!("{rev}: {e}"))?;
                reference
                    .target()
                    .try_id()
                    .map(ToOwned::to_owned)
                    .ok_or_else(|| format!("{rev} is a symbolic reference"))?
            }
        };
        let found = repo.find_object(id).map_err(|e| format!("{rev}: {e}"))?;
        if found.kind.as_bytes() != kind.as_bytes() {
            return Err(format!("{rev} is a {}, not a {kind}", found.kind));
        }
        Ok(found.data.clone())
    });
    read.await
        .map_err(|e| read_err(e.to_string()))?
        .map_err(read_err)
}

/// Verifies a checkout made by [`crate::git::checkout`] as `spec.verify` asks.
pub async fn verify_checkout(
    dir: &Path,
    result: &CheckoutResult,
    reference: &GitRef,
    mode: VerifyMode,
    keyring: &Keyring,
) -> Result<Vec<Verified>, VerifyError> {
    let mut done = Vec::new();
    if matches!(mode, VerifyMode::Tag | VerifyMode::TagAndHead) {
        if !matches!(reference, GitRef::Tag(_) | GitRef::Semver(_)) {
            return Err(VerifyError::NotATag(result.reference.clone()));
        }
        let object = format!("tag '{}'", result.reference);
        let rev = format!("refs/tags/{}", result.reference);
        // A lightweight tag has no tag object: cat-file fails, which means "not signed".
        let raw = cat_file(dir, "tag", &rev, &object)
            .await
            .map_err(|_| VerifyError::Unsigned {
                object: object.clone(),
            })?;
        done.push(verify_tag(&raw, &object, keyring)?);
    }
    if matches!(mode, VerifyMode::Head | VerifyMode::TagAndHead) {
        let object = format!("commit '{}'", result.revision);
        let raw = cat_file(dir, "commit", &result.commit, &object).await?;
        done.push(verify_commit(&raw, &object, keyring)?);
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_signed_commit() {
        let raw = b"tree abc\nparent def\nauthor A <a@b> 1 +0000\ncommitter A <a@b> 1 +0000\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n iQ==\n -----END PGP SIGNATURE-----\n\nmessage\n";
        let (payload, sig) = split_commit(raw).unwrap();
        assert_eq!(
            String::from_utf8(payload).unwrap(),
            "tree abc\nparent def\nauthor A <a@b> 1 +0000\ncommitter A <a@b> 1 +0000\n\nmessage\n"
        );
        assert_eq!(
            sig,
            "-----BEGIN PGP SIGNATURE-----\n\niQ==\n-----END PGP SIGNATURE-----\n"
        );
        assert!(split_commit(b"tree abc\n\nmsg\n").is_none());
        // A message line starting with a space is not part of the signature.
        let raw = b"tree a\ngpgsig X\n Y\n\n indented message\n";
        let (payload, sig) = split_commit(raw).unwrap();
        assert_eq!(
            String::from_utf8(payload).unwrap(),
            "tree a\n\n indented message\n"
        );
        assert_eq!(sig, "X\nY\n");
    }

    #[test]
    fn modes() {
        assert_eq!(VerifyMode::parse(None).unwrap(), VerifyMode::Head);
        assert_eq!(VerifyMode::parse(Some("head")).unwrap(), VerifyMode::Head);
        assert_eq!(
            VerifyMode::parse(Some("TagAndHEAD")).unwrap(),
            VerifyMode::TagAndHead
        );
        assert!(VerifyMode::parse(Some("tag")).is_err());
    }
}
