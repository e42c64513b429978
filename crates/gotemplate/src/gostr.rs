//! Go strings (arbitrary byte sequences) carried in Rust `str`s.
//!
//! A Go `string` is any sequence of bytes; `b64dec` of random data, `trunc 2` of `"日本語"`
//! or `.Files.Get` of a binary file give strings that are not valid UTF-8, and Go keeps every
//! byte: `len` counts them, `%q` prints them as `\xe6`, the rendered manifest contains them.
//! [`Value::String`](crate::Value::String) stores `Arc<str>` so that all the ordinary (valid
//! UTF-8) text costs nothing extra; the bytes of an invalid sequence are stored as *escape
//! chars* instead:
//!
//! - a byte `b` in `0x80..=0xFF` that is not part of valid UTF-8 becomes the char
//!   `U+10FF00 + b` (so `U+10FF80..=U+10FFFF`, the end of Supplementary Private Use Area-B);
//! - ASCII bytes are always valid UTF-8 and never escaped.
//!
//! One escape char stands for one Go byte and also for one Go rune (Go decodes each byte of
//! an invalid sequence as one `utf8.RuneError` of width 1), so `chars()` counts, padding and
//! `%.Ns` precision behave as Go's rune iteration does without any conversion. Byte-wise
//! operations (`len`, `index`, `slice`, `trunc`, `substr`, hashes, base64, `%x`) go through
//! [`go_bytes`]/[`go_len`]/[`go_slice`]; bytes that become a Go string go through
//! [`from_go_bytes`]; places where Go itself substitutes U+FFFD (`encoding/json`,
//! `strings.Map`) use [`to_lossy`]; the rendered text leaves the engine through
//! [`to_output_bytes`].
//!
//! [`from_go_bytes`] also escapes the bytes of any genuine `U+10FF80..=U+10FFFF` char found
//! in its input, so `go_bytes(from_go_bytes(b)) == b` for every byte string.
//!
//! **Limitation**: text that enters as a Rust `&str` (template source, values, function
//! results built from `&str`) is taken as already encoded, so a genuine char in
//! `U+10FF80..=U+10FFFF` there is read as the single raw byte it would encode. These are
//! unassigned private-use code points; no real chart uses them.
//!
//! The two halves of a cut char, joined again, are re-decoded by [`normalize`], which the
//! functions that join strings (`printf`/`print`/`println`, `cat`, `join`, `repeat`,
//! `include`, `tpl`) apply to their results, and byte-wise results go through
//! [`from_go_bytes`], so the one form of a Go string is kept. A function added by a host that
//! concatenates strings itself should call [`normalize`] too; otherwise only rune-wise
//! operations (`%.Ns`, padding width, `upper`) would see separate raw bytes, while bytes
//! (output, `len`, hashes, substring search) and `%q` stay exact.

use std::borrow::Cow;

/// The first escape char minus 0x80: byte `b` is stored as `char::from_u32(ESCAPE_BASE + b)`.
const ESCAPE_BASE: u32 = 0x10FF00;
/// The lowest escape char (`U+10FF80`, byte 0x80).
const ESCAPE_MIN: u32 = ESCAPE_BASE + 0x80;

/// The UTF-8 encoding of every escape char starts with these two bytes, followed by 0xBE or
/// 0xBF and a continuation byte.
const LEAD: [u8; 2] = [0xF4, 0x8F];

/// The escape char standing for the raw byte `b` (`b >= 0x80`); ASCII bytes map to themselves.
pub fn escape_char(b: u8) -> char {
    if b < 0x80 {
        return b as char;
    }
    // U+10FF80..=U+10FFFF are all valid scalar values (no surrogates there).
    char::from_u32(ESCAPE_BASE + u32::from(b)).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// The raw byte an escape char stands for, or `None` for an ordinary char.
pub fn escaped_byte(c: char) -> Option<u8> {
    let u = c as u32;
    if u >= ESCAPE_MIN {
        Some((u - ESCAPE_BASE) as u8)
    } else {
        None
    }
}

/// Whether `s` may hold escape chars (a cheap, exact-enough test: a false positive only costs
/// the slow path). Strings without the byte 0xF4 are certainly plain UTF-8.
fn may_have_escapes(s: &str) -> bool {
    let b = s.as_bytes();
    // `contains` on a byte slice is memchr-accelerated in std.
    if !b.contains(&LEAD[0]) {
        return false;
    }
    b.windows(3)
        .any(|w| w[0] == LEAD[0] && w[1] == LEAD[1] && (w[2] == 0xBE || w[2] == 0xBF))
}

/// Whether `s` holds escape chars, i.e. whether the Go string it encodes is not valid UTF-8.
pub fn has_raw_bytes(s: &str) -> bool {
    may_have_escapes(s) && s.chars().any(|c| escaped_byte(c).is_some())
}

/// Appends the Go string `bytes` to `out`, escaping every byte of an invalid UTF-8 sequence
/// (and of any genuine escape-range char, so the encoding stays reversible).
pub fn push_go_bytes(out: &mut String, bytes: &[u8]) {
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        if may_have_escapes(valid) {
            for c in valid.chars() {
                if escaped_byte(c).is_some() {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        out.push(escape_char(b));
                    }
                } else {
                    out.push(c);
                }
            }
        } else {
            out.push_str(valid);
        }
        for &b in chunk.invalid() {
            out.push(escape_char(b));
        }
    }
}

/// Go's `string(bytes)`: the bytes as a string value, valid UTF-8 passed through unchanged
/// (without copying when given a `Vec`), every other byte kept as an escape char.
pub fn from_go_bytes(bytes: impl Into<Vec<u8>>) -> String {
    let bytes = bytes.into();
    match String::from_utf8(bytes) {
        Ok(s) if !may_have_escapes(&s) => s,
        Ok(s) => {
            let mut out = String::with_capacity(s.len() + 8);
            push_go_bytes(&mut out, s.as_bytes());
            out
        }
        Err(e) => {
            let bytes = e.into_bytes();
            let mut out = String::with_capacity(bytes.len() + 16);
            push_go_bytes(&mut out, &bytes);
            out
        }
    }
}

/// [`from_go_bytes`] for a borrowed slice: borrows when the bytes are plain UTF-8.
pub fn from_go_slice(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) if !may_have_escapes(s) => Cow::Borrowed(s),
        _ => {
            let mut out = String::with_capacity(bytes.len() + 16);
            push_go_bytes(&mut out, bytes);
            Cow::Owned(out)
        }
    }
}

/// The canonical form of a Go string built by joining pieces: raw bytes that together form
/// valid UTF-8 (the halves of a cut char, printed side by side) become that char again, so
/// rune-wise operations and comparisons see what Go sees. Free when `s` has no raw bytes.
pub fn normalize(s: String) -> String {
    if !has_raw_bytes(&s) {
        return s;
    }
    from_go_bytes(go_bytes(&s).into_owned())
}

/// Go's `[]byte(s)`: the bytes of the Go string `s` encodes (borrowed when `s` holds no
/// escape chars, the common case).
pub fn go_bytes(s: &str) -> Cow<'_, [u8]> {
    if !may_have_escapes(s) {
        return Cow::Borrowed(s.as_bytes());
    }
    let mut out = Vec::with_capacity(s.len());
    let mut buf = [0u8; 4];
    for c in s.chars() {
        match escaped_byte(c) {
            Some(b) => out.push(b),
            None => out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes()),
        }
    }
    Cow::Owned(out)
}

/// Go's `len(s)`: the number of bytes of the Go string `s` encodes.
pub fn go_len(s: &str) -> usize {
    if !may_have_escapes(s) {
        return s.len();
    }
    // Each escape char is 4 UTF-8 bytes standing for 1 Go byte.
    s.len() - 3 * s.chars().filter(|c| escaped_byte(*c).is_some()).count()
}

/// Go's `s[i]`: the byte at Go byte offset `i`, or `None` when out of range.
pub fn go_byte_at(s: &str, i: usize) -> Option<u8> {
    if !may_have_escapes(s) {
        return s.as_bytes().get(i).copied();
    }
    go_bytes(s).get(i).copied()
}

/// Go's `s[lo:hi]` with Go byte offsets (`lo <= hi <= go_len(s)`, checked by the caller; out of
/// range offsets are clamped). Cutting through a multi-byte char leaves its bytes as escape
/// chars, as Go leaves them as invalid UTF-8. Borrows when the cut is on char boundaries of
/// plain text.
pub fn go_slice(s: &str, lo: usize, hi: usize) -> Cow<'_, str> {
    if !may_have_escapes(s) {
        let hi = hi.min(s.len());
        let lo = lo.min(hi);
        if s.is_char_boundary(lo) && s.is_char_boundary(hi) {
            return Cow::Borrowed(&s[lo..hi]);
        }
        return Cow::Owned(from_go_slice(&s.as_bytes()[lo..hi]).into_owned());
    }
    let b = go_bytes(s);
    let hi = hi.min(b.len());
    let lo = lo.min(hi);
    Cow::Owned(from_go_slice(&b[lo..hi]).into_owned())
}

/// The Go string `s` with every raw byte replaced by U+FFFD, as Go does where it decodes
/// runes and writes them back (`encoding/json`, `strings.Map`, `strings.ToUpper` of non-ASCII
/// text, `[]rune(s)`). Borrows when there is nothing to replace.
pub fn to_lossy(s: &str) -> Cow<'_, str> {
    if !has_raw_bytes(s) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if escaped_byte(c).is_some() {
                    char::REPLACEMENT_CHARACTER
                } else {
                    c
                }
            })
            .collect(),
    )
}

/// Whether a substring operation over these Go strings must work on bytes: a raw byte in
/// either may match (or be matched by) a byte inside a multi-byte char, which a char-wise
/// `str` search never does. Plain text keeps the fast `str` algorithms.
pub fn needs_bytewise(a: &str, b: &str) -> bool {
    has_raw_bytes(a) || has_raw_bytes(b)
}

/// The Go byte offset of the first occurrence of `needle` in `hay` (byte-wise, as Go's
/// `strings.Index`).
pub fn find_bytes(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Go's `strings.Contains` on Go strings.
pub fn contains(hay: &str, needle: &str) -> bool {
    if !needs_bytewise(hay, needle) {
        return hay.contains(needle);
    }
    find_bytes(&go_bytes(hay), &go_bytes(needle)).is_some()
}

/// Go's `strings.HasPrefix` on Go strings.
pub fn has_prefix(s: &str, prefix: &str) -> bool {
    go_bytes(s).starts_with(&go_bytes(prefix))
}

/// Go's `strings.HasSuffix` on Go strings.
pub fn has_suffix(s: &str, suffix: &str) -> bool {
    go_bytes(s).ends_with(&go_bytes(suffix))
}

/// Go's `strings.SplitN(s, sep, n)` for a non-empty `sep`, on bytes (n < 0: every part).
pub fn split_n(s: &str, sep: &str, n: i64) -> Vec<String> {
    if !needs_bytewise(s, sep) {
        return if n < 0 {
            s.split(sep).map(String::from).collect()
        } else {
            s.splitn(n as usize, sep).map(String::from).collect()
        };
    }
    let (b, sep) = (go_bytes(s), go_bytes(sep));
    let mut out = Vec::new();
    let mut rest: &[u8] = &b;
    while n < 0 || (out.len() as i64) < n - 1 {
        match find_bytes(rest, &sep) {
            Some(i) if !sep.is_empty() => {
                out.push(from_go_slice(&rest[..i]).into_owned());
                rest = &rest[i + sep.len()..];
            }
            _ => break,
        }
    }
    out.push(from_go_slice(rest).into_owned());
    out
}

/// Go's `strings.Replace(s, old, new, -1)` for a non-empty `old`, on bytes.
pub fn replace_all(s: &str, old: &str, new: &str) -> String {
    if !needs_bytewise(s, old) && !has_raw_bytes(new) {
        return s.replace(old, new);
    }
    let (b, old, new) = (go_bytes(s), go_bytes(old), go_bytes(new));
    let mut out = Vec::with_capacity(b.len());
    let mut rest: &[u8] = &b;
    while let Some(i) = find_bytes(rest, &old).filter(|_| !old.is_empty()) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(&new);
        rest = &rest[i + old.len()..];
    }
    out.extend_from_slice(rest);
    from_go_bytes(out)
}

/// The first error go-yaml's reader (`yaml_parser_update_buffer`) reports on the bytes of a
/// document, before any YAML syntax is looked at: its UTF-8 sequence checks in its order,
/// then its allowed-character check. Helm hits these on rendered manifests and `fromYaml`
/// on Go strings holding raw bytes.
pub fn yaml_reader_error(input: &[u8]) -> Option<&'static str> {
    let mut i = 0;
    while i < input.len() {
        let lead = input[i];
        let width = match lead {
            0x00..=0x7F => 1,
            _ if lead & 0xE0 == 0xC0 => 2,
            _ if lead & 0xF0 == 0xE0 => 3,
            _ if lead & 0xF8 == 0xF0 => 4,
            _ => return Some("invalid leading UTF-8 octet"),
        };
        if i + width > input.len() {
            return Some("incomplete UTF-8 octet sequence");
        }
        let mut value = u32::from(match width {
            1 => lead & 0x7F,
            2 => lead & 0x1F,
            3 => lead & 0x0F,
            _ => lead & 0x07,
        });
        for &b in &input[i + 1..i + width] {
            if b & 0xC0 != 0x80 {
                return Some("invalid trailing UTF-8 octet");
            }
            value = (value << 6) | u32::from(b & 0x3F);
        }
        let shortest = match width {
            1 => true,
            2 => value >= 0x80,
            3 => value >= 0x800,
            _ => value >= 0x10000,
        };
        if !shortest {
            return Some("invalid length of a UTF-8 sequence");
        }
        if (0xD800..=0xDFFF).contains(&value) || value > 0x10FFFF {
            return Some("invalid Unicode character");
        }
        let allowed = matches!(value,
            0x09 | 0x0A | 0x0D | 0x20..=0x7E | 0x85 | 0xA0..=0xD7FF | 0xE000..=0xFFFD
            | 0x10000..=0x10FFFF);
        if !allowed {
            return Some("control characters are not allowed");
        }
        i += width;
    }
    None
}

/// The bytes to write for rendered template output (what Go's `io.Writer` would receive):
/// the string's own bytes when it holds no escape chars (no copy), the raw bytes otherwise.
pub fn to_output_bytes(s: String) -> Vec<u8> {
    if !may_have_escapes(&s) {
        return s.into_bytes();
    }
    go_bytes(&s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_utf8_passes_through_borrowed() {
        let s = "héllo 日本語 🚀";
        assert!(matches!(go_bytes(s), Cow::Borrowed(_)));
        assert!(matches!(from_go_slice(s.as_bytes()), Cow::Borrowed(_)));
        assert_eq!(from_go_bytes(s.as_bytes().to_vec()), s);
        assert_eq!(go_len(s), s.len());
        assert!(!has_raw_bytes(s));
        assert!(matches!(to_lossy(s), Cow::Borrowed(_)));
    }

    #[test]
    fn invalid_bytes_become_one_escape_char_each() {
        let s = from_go_bytes(vec![b'a', 0xE6, 0x97, 0xFF, b'z']);
        assert_eq!(
            s.chars().collect::<Vec<_>>(),
            ['a', '\u{10FFE6}', '\u{10FF97}', '\u{10FFFF}', 'z']
        );
        assert_eq!(go_len(&s), 5);
        assert_eq!(go_bytes(&s).as_ref(), &[b'a', 0xE6, 0x97, 0xFF, b'z']);
        assert_eq!(go_byte_at(&s, 1), Some(0xE6));
        assert_eq!(go_byte_at(&s, 5), None);
        assert!(has_raw_bytes(&s));
        assert_eq!(to_lossy(&s), "a\u{FFFD}\u{FFFD}\u{FFFD}z");
        assert_eq!(to_output_bytes(s), vec![b'a', 0xE6, 0x97, 0xFF, b'z']);
    }

    #[test]
    fn genuine_escape_range_chars_round_trip_as_bytes() {
        // U+10FF80 is F4 8F BE 80: from bytes it is kept as four escaped bytes.
        let raw = "x\u{10FF80}y".as_bytes().to_vec();
        let s = from_go_bytes(raw.clone());
        assert_eq!(s.chars().count(), 6);
        assert_eq!(go_bytes(&s).as_ref(), raw.as_slice());
        assert_eq!(go_len(&s), raw.len());
        // Near misses (U+10FF7F, U+10FFFF's neighbours below) are ordinary chars.
        let near = "\u{10FF7F}";
        assert!(!has_raw_bytes(near));
        assert_eq!(go_len(near), 4);
    }

    #[test]
    fn slicing_through_a_multibyte_char() {
        let s = "日本語";
        assert_eq!(go_slice(s, 0, 3), "日");
        assert!(matches!(go_slice(s, 3, 6), Cow::Borrowed("本")));
        let cut = go_slice(s, 0, 2);
        assert_eq!(go_bytes(&cut).as_ref(), &[0xE6, 0x97]);
        assert_eq!(go_len(&cut), 2);
        // Re-joining the two halves gives valid UTF-8 again only through bytes.
        let rest = go_slice(s, 2, 9);
        let mut joined = go_bytes(&cut).into_owned();
        joined.extend_from_slice(&go_bytes(&rest));
        assert_eq!(from_go_bytes(joined), s);
        // Slicing an escaped string works on Go byte offsets.
        assert_eq!(go_slice(&cut, 1, 2).chars().next(), Some('\u{10FF97}'));
        assert_eq!(go_slice(&cut, 1, 99), go_slice(&cut, 1, 2));
    }

    #[test]
    fn substring_operations_work_on_bytes() {
        let e_lead = from_go_bytes(vec![0xC3]); // first byte of "é"
        assert!(contains("é", &e_lead));
        assert!(!contains("e", &e_lead));
        assert!(contains("héllo", "ll"));
        assert!(has_prefix("é", &e_lead));
        assert!(has_suffix("é", &from_go_bytes(vec![0xA9])));
        assert_eq!(
            replace_all("éé", &e_lead, "x"),
            from_go_bytes(vec![b'x', 0xA9, b'x', 0xA9])
        );
        assert_eq!(replace_all("a-b", "-", "+"), "a+b");
        let parts = split_n("日", &from_go_bytes(vec![0x97]), -1);
        assert_eq!(parts.len(), 2);
        assert_eq!(go_bytes(&parts[0]).as_ref(), &[0xE6]);
        assert_eq!(go_bytes(&parts[1]).as_ref(), &[0xA5]);
        assert_eq!(split_n("a,b,c", ",", 2), ["a", "b,c"]);
        let sep = from_go_bytes(vec![0xFF]);
        let s = from_go_bytes(vec![b'a', 0xFF, b'b', 0xFF, b'c']);
        assert_eq!(
            split_n(&s, &sep, 2),
            ["a", &from_go_bytes(vec![b'b', 0xFF, b'c'])]
        );
        assert_eq!(split_n(&s, &sep, -1), ["a", "b", "c"]);
    }

    #[test]
    fn yaml_reader_errors() {
        assert_eq!(yaml_reader_error("a: 日本語\n".as_bytes()), None);
        assert_eq!(
            yaml_reader_error(b"a: \xe6\x97"),
            Some("incomplete UTF-8 octet sequence")
        );
        assert_eq!(
            yaml_reader_error(b"a: \"\xe6\x97\""),
            Some("invalid trailing UTF-8 octet")
        );
        assert_eq!(
            yaml_reader_error(b"a: \xff"),
            Some("invalid leading UTF-8 octet")
        );
        assert_eq!(
            yaml_reader_error(b"a: \xc0\x80"),
            Some("invalid length of a UTF-8 sequence")
        );
        assert_eq!(
            yaml_reader_error(b"a: \xed\xa0\x80"),
            Some("invalid Unicode character")
        );
        assert_eq!(
            yaml_reader_error(b"a: \x01 \xff"),
            Some("control characters are not allowed")
        );
    }

    #[test]
    fn normalize_rejoins_cut_chars() {
        let a = go_slice("日本", 0, 2).into_owned();
        let b = go_slice("日本", 2, 6).into_owned();
        let joined = format!("{a}{b}");
        assert_eq!(joined.chars().count(), 4);
        assert_eq!(normalize(joined), "日本");
        let raw = from_go_bytes(vec![0xFF, b'x']);
        assert_eq!(normalize(raw.clone()), raw);
        // A genuine escape-range char kept as its bytes stays so.
        let genuine = from_go_bytes("\u{10FF80}".as_bytes());
        assert_eq!(normalize(genuine.clone()), genuine);
    }

    #[test]
    fn escape_chars_map_both_ways() {
        for b in 0x80..=0xFFu8 {
            assert_eq!(escaped_byte(escape_char(b)), Some(b));
        }
        assert_eq!(escape_char(b'a'), 'a');
        assert_eq!(escaped_byte('a'), None);
        assert_eq!(escaped_byte('\u{FFFD}'), None);
    }
}
