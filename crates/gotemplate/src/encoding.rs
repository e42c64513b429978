//! Byte encodings used by Go and sprig: base64, base32, URL query escaping.

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (Go's `base64.StdEncoding`).
pub fn b64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            B64[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            B64[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// Standard base64 decoding; `Err` carries Go's `illegal base64 data at input byte N`.
pub fn b64_decode(s: &str) -> Result<Vec<u8>, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let mut acc = 0u32;
    let mut nbits = 0;
    let mut pad = 0;
    let mut seen = 0usize;
    for (i, &c) in bytes.iter().enumerate() {
        if c == b'\n' || c == b'\r' {
            continue;
        }
        if c == b'=' {
            pad += 1;
            seen += 1;
            continue;
        }
        if pad > 0 {
            return Err(format!("illegal base64 data at input byte {i}"));
        }
        let v = match B64.iter().position(|&x| x == c) {
            Some(v) => v as u32,
            None => return Err(format!("illegal base64 data at input byte {i}")),
        };
        seen += 1;
        acc = (acc << 6) | v;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((acc >> nbits) as u8);
            acc &= (1 << nbits) - 1;
        }
    }
    if !seen.is_multiple_of(4) {
        return Err(format!(
            "illegal base64 data at input byte {}",
            bytes.len().saturating_sub(seen % 4).min(bytes.len())
        ));
    }
    Ok(out)
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Standard base32 with padding (Go's `base32.StdEncoding`).
pub fn b32_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = buf.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b));
        let chars = match chunk.len() {
            1 => 2,
            2 => 4,
            3 => 5,
            4 => 7,
            _ => 8,
        };
        for i in 0..8 {
            if i < chars {
                out.push(B32[((n >> (35 - i * 5)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base32 decoding.
pub fn b32_decode(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut acc = 0u64;
    let mut nbits = 0;
    let trimmed = s.trim_end_matches('=');
    if !s.len().is_multiple_of(8) {
        return Err(format!(
            "illegal base32 data at input byte {}",
            s.len() / 8 * 8
        ));
    }
    for (i, c) in trimmed.bytes().enumerate() {
        let v = match B32.iter().position(|&x| x == c) {
            Some(v) => v as u64,
            None => return Err(format!("illegal base32 data at input byte {i}")),
        };
        acc = (acc << 5) | v;
        nbits += 5;
        if nbits >= 8 {
            nbits -= 8;
            out.push((acc >> nbits) as u8);
            acc &= (1 << nbits) - 1;
        }
    }
    Ok(out)
}

fn should_escape(c: u8, query: bool) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => {
            query || c != b'/' && c != b';' && c != b',' && c != b'?'
        }
        _ => true,
    }
}

/// Go's `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for &c in crate::gostr::go_bytes(s).iter() {
        if c == b' ' {
            out.push('+');
        } else if should_escape(c, true) {
            out.push_str(&format!("%{c:02X}"));
        } else {
            out.push(c as char);
        }
    }
    out
}
