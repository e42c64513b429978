//! The sprig function library (Masterminds/sprig v3), as Helm exposes it.

pub mod certs;
pub mod conv;
mod crypto;
pub mod date;
mod dicts;
mod lists;
mod math;
mod misc;
pub mod semver;
mod strings;
mod url;

use crate::funcs::{FuncError, Functions};
use crate::value::{Map, Value};

/// All sprig functions (including `env`/`expandenv`, which Helm removes).
pub fn functions() -> Functions {
    let mut f = Functions::new();
    strings::register(&mut f);
    lists::register(&mut f);
    dicts::register(&mut f);
    math::register(&mut f);
    misc::register(&mut f);
    semver::register(&mut f);
    date::register(&mut f);
    url::register(&mut f);
    crypto::register(&mut f);
    certs::register(&mut f);
    f.add("env", &[crate::Param::String], |_, a| {
        ok_s(std::env::var(arg_s(a, 0)).unwrap_or_default())
    });
    f.add("expandenv", &[crate::Param::String], |_, a| {
        ok_s(arg_s(a, 0))
    });
    f
}

/// The string argument `i` (exec has checked its type).
pub(crate) fn arg_s(a: &[Value], i: usize) -> &str {
    a.get(i).and_then(Value::as_str).unwrap_or_default()
}

/// The integer argument `i` (exec has checked its type).
pub(crate) fn arg_i(a: &[Value], i: usize) -> i64 {
    a.get(i).and_then(Value::as_int).unwrap_or_default()
}

/// `Ok(string value)`.
pub(crate) fn ok_s(s: impl AsRef<str>) -> Result<Value, FuncError> {
    Ok(Value::str(s.as_ref()))
}

/// Fills `buf` from the operating system's random source.
pub(crate) fn random_bytes(buf: &mut [u8]) {
    if getrandom::fill(buf).is_err() {
        // No OS randomness: fall back to a time-seeded generator rather than failing a render.
        let mut x = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15);
        for b in buf.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
    }
}

/// A uniform random number in `0..n` (n > 0).
pub(crate) fn random_below(n: u64) -> u64 {
    let zone = u64::MAX - u64::MAX % n;
    loop {
        let mut b = [0u8; 8];
        random_bytes(&mut b);
        let x = u64::from_le_bytes(b);
        if x < zone {
            return x % n;
        }
    }
}

/// A deep copy (copystructure): maps and lists are copied recursively.
pub(crate) fn deep_copy(v: &Value, depth: usize) -> Value {
    if depth > crate::value::MAX_VALUE_DEPTH {
        return Value::Nil;
    }
    match v {
        Value::Map(m) => Value::map(
            m.read()
                .iter()
                .map(|(k, x)| (k.clone(), deep_copy(x, depth + 1)))
                .collect::<Map>(),
        ),
        Value::List(l, k) => Value::List(
            std::sync::Arc::new(l.iter().map(|x| deep_copy(x, depth + 1)).collect()),
            *k,
        ),
        other => other.clone(),
    }
}
