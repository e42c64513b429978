//! sprig's password and cipher functions: `bcrypt`, `htpasswd`, `derivePassword`,
//! `encryptAES`, `decryptAES`.

use super::{arg_i, arg_s, ok_s};
use crate::encoding;
use crate::funcs::{FuncError, Functions, Param as P};
use crate::gostr;
use crate::value::Value;

const MASTER_PASSWORD_SEED: &str = "com.lyndir.masterpassword";

fn templates(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        "long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        "medium" => &["CvcnoCvc", "CvcCvcno"],
        "short" => &["Cvcn"],
        "basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        "pin" => &["nnnn"],
        _ => return None,
    })
}

fn template_chars(c: u8) -> &'static str {
    match c {
        b'V' => "AEIOU",
        b'C' => "BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => "aeiou",
        b'c' => "bcdfghjklmnpqrstvwxyz",
        b'A' => "AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => "0123456789",
        b'o' => "@&%?,=[]_:-+*$#!'^~;()/.",
        _ => "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

/// The Master Password algorithm sprig's `derivePassword` implements.
fn derive_password(counter: u32, kind: &str, password: &str, user: &str, site: &str) -> String {
    use hmac::Mac;
    let Some(temps) = templates(kind) else {
        return format!("cannot find password template {kind}");
    };
    let (user, site, password) = (
        gostr::go_bytes(user),
        gostr::go_bytes(site),
        gostr::go_bytes(password),
    );
    let mut salt = MASTER_PASSWORD_SEED.as_bytes().to_vec();
    salt.extend_from_slice(&(user.len() as u32).to_be_bytes());
    salt.extend_from_slice(&user);
    let mut key = [0u8; 64];
    let params = match scrypt::Params::new(15, 8, 2, 64) {
        Ok(p) => p,
        Err(e) => return format!("failed to derive password: {e}"),
    };
    if let Err(e) = scrypt::scrypt(&password, &salt, &params, &mut key) {
        return format!("failed to derive password: {e}");
    }
    let mut msg = MASTER_PASSWORD_SEED.as_bytes().to_vec();
    msg.extend_from_slice(&(site.len() as u32).to_be_bytes());
    msg.extend_from_slice(&site);
    msg.extend_from_slice(&counter.to_be_bytes());
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key) else {
        return "failed to derive password: bad key".into();
    };
    mac.update(&msg);
    let seed = mac.finalize().into_bytes();
    let temp = temps[seed[0] as usize % temps.len()];
    temp.bytes()
        .enumerate()
        .map(|(i, c)| {
            let chars = template_chars(c).as_bytes();
            chars[seed[i + 1] as usize % chars.len()] as char
        })
        .collect()
}

fn bcrypt_hash(input: &str) -> String {
    match bcrypt::hash_with_result(gostr::go_bytes(input), 10) {
        Ok(h) => h.format_for_version(bcrypt::Version::TwoA),
        Err(e) => format!("failed to encrypt string with bcrypt: {e}"),
    }
}

fn aes_key(password: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    let b = gostr::go_bytes(password);
    let n = b.len().min(32);
    key[..n].copy_from_slice(&b[..n]);
    key
}

fn encrypt_aes(password: &str, plaintext: &str) -> String {
    use aes::cipher::{BlockEncrypt, KeyInit, generic_array::GenericArray};
    if plaintext.is_empty() {
        return String::new();
    }
    let cipher = aes::Aes256::new(GenericArray::from_slice(&aes_key(password)));
    let mut content = gostr::go_bytes(plaintext).into_owned();
    let pad = 16 - content.len() % 16;
    content.extend(std::iter::repeat_n(pad as u8, pad));
    let mut out = vec![0u8; 16];
    super::random_bytes(&mut out);
    let mut prev: [u8; 16] = out[..16].try_into().unwrap_or([0; 16]);
    for chunk in content.chunks(16) {
        let mut block = [0u8; 16];
        for i in 0..16 {
            block[i] = chunk[i] ^ prev[i];
        }
        let mut b = GenericArray::from(block);
        cipher.encrypt_block(&mut b);
        prev = b.into();
        out.extend_from_slice(&prev);
    }
    encoding::b64_encode(&out)
}

fn decrypt_aes(password: &str, crypt64: &str) -> Result<String, String> {
    use aes::cipher::{BlockDecrypt, KeyInit, generic_array::GenericArray};
    let crypt = encoding::b64_decode(crypt64)?;
    if crypt.len() < 16 {
        return Err(format!(
            "runtime error: slice bounds out of range [:16] with capacity {}",
            crypt.len()
        ));
    }
    let body = &crypt[16..];
    if body.len() % 16 != 0 {
        return Err("crypto/cipher: input not full blocks".into());
    }
    let cipher = aes::Aes256::new(GenericArray::from_slice(&aes_key(password)));
    let mut prev: [u8; 16] = crypt[..16].try_into().unwrap_or([0; 16]);
    let mut out = Vec::with_capacity(body.len());
    for chunk in body.chunks(16) {
        let mut b = GenericArray::clone_from_slice(chunk);
        cipher.decrypt_block(&mut b);
        for i in 0..16 {
            out.push(b[i] ^ prev[i]);
        }
        prev.copy_from_slice(chunk);
    }
    let Some(&last) = out.last() else {
        return Err("runtime error: index out of range [-1]".into());
    };
    let end = out.len() as i64 - i64::from(last);
    if end < 0 {
        return Err(format!("runtime error: slice bounds out of range [:{end}]"));
    }
    out.truncate(end as usize);
    Ok(gostr::from_go_bytes(out))
}

pub(super) fn register(f: &mut Functions) {
    f.add("bcrypt", &[P::String], |_, a| {
        ok_s(bcrypt_hash(arg_s(a, 0)))
    });
    f.add("htpasswd", &[P::String, P::String], |_, a| {
        let user = arg_s(a, 0);
        if user.contains(':') {
            return ok_s(format!("invalid username: {user}"));
        }
        ok_s(format!("{user}:{}", bcrypt_hash(arg_s(a, 1))))
    });
    f.add(
        "derivePassword",
        &[P::Int, P::String, P::String, P::String, P::String],
        |_, a| {
            ok_s(derive_password(
                arg_i(a, 0) as u32,
                arg_s(a, 1),
                arg_s(a, 2),
                arg_s(a, 3),
                arg_s(a, 4),
            ))
        },
    );
    f.add("encryptAES", &[P::String, P::String], |_, a| {
        ok_s(encrypt_aes(arg_s(a, 0), arg_s(a, 1)))
    });
    f.add("decryptAES", &[P::String, P::String], |_, a| {
        decrypt_aes(arg_s(a, 0), arg_s(a, 1))
            .map(Value::str)
            .map_err(FuncError::new)
    });
}
