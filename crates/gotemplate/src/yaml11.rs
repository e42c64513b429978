//! go-yaml v2's scalar rules (YAML 1.1 as Helm reads and writes it), in one place for the
//! reader behind `fromYaml` ([`crate::yaml_error`]), the writer behind `toYaml`
//! ([`crate::yaml_out`]) and the `helm` crate's values reader: which plain scalars are
//! null, booleans, numbers or timestamps.

/// The value a plain (or `!!`-tagged) scalar resolves to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resolved {
    /// `~`, `null`, empty.
    Null,
    /// `true`/`yes`/`on`/`y` and their negatives, in the three spellings go-yaml knows.
    Bool(bool),
    /// An integer that fits `int64` (decimal, `0x`, `0o`, `0b`, leading-zero octal, `_`).
    Int(i64),
    /// An integer above `int64` that fits `uint64`.
    Uint(u64),
    /// A float, `.inf`/`.nan` included.
    Float(f64),
    /// A timestamp (`2006-1-2`, ...); Helm keeps its text as a string.
    Timestamp,
    /// Anything else: the text itself.
    Str,
}

impl Resolved {
    /// go-yaml's tag suffix (`int`, `str`, ...) for this resolution.
    pub fn tag(self) -> &'static str {
        match self {
            Resolved::Null => "null",
            Resolved::Bool(_) => "bool",
            Resolved::Int(_) | Resolved::Uint(_) => "int",
            Resolved::Float(_) => "float",
            Resolved::Timestamp => "timestamp",
            Resolved::Str => "str",
        }
    }
}

/// go-yaml v2 `resolve` of scalar text (merge keys are recognised by the reader, not here:
/// `<` has no resolve hint, so `<<` resolves to a string). `want` is the tag suffix asked for with `!!` (`str`
/// keeps the text; `timestamp` or none let timestamps resolve).
pub fn resolve(s: &str, want: Option<&str>) -> Resolved {
    if want == Some("str") {
        return Resolved::Str;
    }
    let hint = match s.as_bytes().first() {
        None => b'N',
        Some(b'+' | b'-') => b'S',
        Some(b'0'..=b'9') => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        Some(_) => return Resolved::Str,
    };
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Resolved::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Resolved::Bool(false);
        }
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        _ => {}
    }
    match hint {
        b'.' => {
            if let Some(f) = parse_float(s) {
                return Resolved::Float(f);
            }
        }
        b'D' | b'S' => {
            if (want.is_none() || want == Some("timestamp")) && is_timestamp(s) {
                return Resolved::Timestamp;
            }
            let plain = s.replace('_', "");
            if let Some(i) = crate::gofmt::parse_go_int(&plain) {
                return Resolved::Int(i);
            }
            if let Some(u) = crate::gofmt::parse_go_uint(&plain) {
                return Resolved::Uint(u);
            }
            if is_float_syntax(&plain)
                && let Some(f) = parse_float(&plain)
            {
                return Resolved::Float(f);
            }
            // go-yaml's own binary form, sign included (ParseInt would refuse `-0b1`).
            if let Some(bin) = plain.strip_prefix("0b") {
                if let Ok(i) = i64::from_str_radix(bin, 2) {
                    return Resolved::Int(i);
                }
                if let Ok(u) = u64::from_str_radix(bin, 2) {
                    return Resolved::Uint(u);
                }
            } else if let Some(bin) = plain.strip_prefix("-0b")
                && let Ok(i) = i64::from_str_radix(&format!("-{bin}"), 2)
            {
                return Resolved::Int(i);
            }
        }
        _ => {}
    }
    Resolved::Str
}

/// go-yaml's float pattern `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
pub fn is_float_syntax(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mant, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mant_ok = match mant.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mant),
    };
    mant_ok && exp.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)))
}

/// Go `strconv.ParseFloat(s, 64)` of decimal text as go-yaml calls it: out-of-range values
/// (an error in Go) and Go's `Inf`/`NaN` spellings are not floats here.
pub fn parse_float(s: &str) -> Option<f64> {
    if s.contains('_') || s.contains(['i', 'I', 'n', 'N', 'x', 'X']) {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// go-yaml v2's `parseTimestamp`: Go's `time.Parse` with the layouts
/// `2006-1-2T15:4:5.999999999Z07:00` (also with `t`), `2006-1-2 15:4:5.999999999` and
/// `2006-1-2`, including Go's range checks (month, day of that month, hour, minute, second,
/// zone offset).
pub fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let year: u32 = s[..4].parse().unwrap_or(0);
    let mut i = 5;
    // Go's getnum without a fixed width: one digit, or two when the second is a digit.
    let num = |i: &mut usize| -> Option<u32> {
        let d = |k: usize| {
            b.get(k)
                .filter(|c| c.is_ascii_digit())
                .map(|c| u32::from(c - b'0'))
        };
        let first = d(*i)?;
        match d(*i + 1) {
            Some(second) => {
                *i += 2;
                Some(first * 10 + second)
            }
            None => {
                *i += 1;
                Some(first)
            }
        }
    };
    let Some(month) = num(&mut i).filter(|m| (1..=12).contains(m)) else {
        return false;
    };
    if b.get(i) != Some(&b'-') {
        return false;
    }
    i += 1;
    let Some(day) = num(&mut i) else { return false };
    if day < 1 || day > days_in(month, year) {
        return false;
    }
    if i == b.len() {
        return true;
    }
    let zoned = match b[i] {
        b'T' | b't' => true,
        b' ' => false,
        _ => return false,
    };
    i += 1;
    for (limit, colon) in [(24, true), (60, true), (60, false)] {
        if num(&mut i).is_none_or(|n| n >= limit) {
            return false;
        }
        if colon {
            if b.get(i) != Some(&b':') {
                return false;
            }
            i += 1;
        }
    }
    if matches!(b.get(i), Some(b'.' | b',')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if zoned {
        if b.get(i) == Some(&b'Z') {
            i += 1;
        } else {
            let Some(z) = b.get(i..i + 6) else {
                return false;
            };
            let two = |p: &[u8]| {
                p.iter()
                    .all(u8::is_ascii_digit)
                    .then(|| u32::from(p[0] - b'0') * 10 + u32::from(p[1] - b'0'))
            };
            let ok = matches!(z[0], b'+' | b'-')
                && z[3] == b':'
                && two(&z[1..3]).is_some_and(|h| h <= 24)
                && two(&z[4..6]).is_some_and(|m| m <= 60);
            if !ok {
                return false;
            }
            i += 6;
        }
    }
    i == b.len()
}

/// Days in `month` of `year` (Gregorian, as Go's `time` package counts them).
fn days_in(month: u32, year: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_as_go_time_parse_reads_them() {
        for (s, want) in [
            ("2001-12-14", true),
            ("2001-1-2", true),
            ("2001-02-29", false),
            ("2000-02-29", true),
            ("1900-02-29", false),
            ("2001-13-01", false),
            ("2001-04-31", false),
            ("2001-12-14t21:59:43.10-05:00", true),
            ("2001-12-14T21:59:43Z", true),
            ("2001-12-14T21:59:43", false),
            ("2001-12-14 21:59:43.10", true),
            ("2001-12-14 21:59:43.10Z", false),
            ("2001-12-14T24:00:00Z", false),
            ("2001-12-14T1:2:3+01:00", true),
            ("2001-12-14T01:02:03+1:00", false),
            ("2001-12-14T01:02:60Z", false),
            ("2001-12-14x", false),
            ("12-14", false),
            ("20011-12-14", false),
        ] {
            assert_eq!(is_timestamp(s), want, "{s}");
        }
    }

    #[test]
    fn resolution_table() {
        for (s, want) in [
            ("yes", Resolved::Bool(true)),
            ("Off", Resolved::Bool(false)),
            ("~", Resolved::Null),
            ("017", Resolved::Int(15)),
            ("08", Resolved::Float(8.0)),
            ("1_000", Resolved::Int(1000)),
            ("0x1F", Resolved::Int(31)),
            ("-0b101", Resolved::Int(-5)),
            ("18446744073709551615", Resolved::Uint(u64::MAX)),
            (".5", Resolved::Float(0.5)),
            ("1e400", Resolved::Str),
            ("2001-12-14", Resolved::Timestamp),
            ("<<", Resolved::Str),
            ("hello", Resolved::Str),
        ] {
            assert_eq!(resolve(s, None), want, "{s}");
        }
        assert_eq!(resolve("2001-12-14", Some("str")), Resolved::Str);
    }
}
