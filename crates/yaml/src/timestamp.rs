//! Unquoted YAML timestamps, which kustomize turns into RFC 3339 strings (Go's `time.Time` JSON).

/// Parses the timestamp forms go-yaml accepts (`2006-1-2`, `2006-1-2T15:4:5.999999999Z07:00`, the
/// same with `t`, and `2006-1-2 15:4:5.999999999`) and formats the instant as Go's RFC 3339 with
/// nanoseconds does. `None` when `s` is not such a timestamp.
pub(crate) fn parse(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let mut p = Cursor { b, i: 5 };
    let year = &s[..4];
    let month = p.num(1, 2)?;
    p.lit(b'-')?;
    let day = p.num(1, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year.parse().ok()?, month) {
        return None;
    }
    if p.done() {
        return Some(format!("{year}-{month:02}-{day:02}T00:00:00Z"));
    }
    let sep = p.take()?;
    if !matches!(sep, b'T' | b't' | b' ') {
        return None;
    }
    let hour = p.num(1, 2)?;
    p.lit(b':')?;
    let min = p.num(1, 2)?;
    p.lit(b':')?;
    let sec = p.num(1, 2)?;
    if hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    let mut frac = String::new();
    if p.peek() == Some(b'.') {
        p.i += 1;
        let st = p.i;
        while p.peek().is_some_and(|c| c.is_ascii_digit()) {
            p.i += 1;
        }
        if p.i == st || p.i - st > 9 {
            return None;
        }
        frac = s[st..p.i].trim_end_matches('0').to_string();
    }
    let zone = if sep == b' ' {
        if !p.done() {
            return None;
        }
        "Z".to_string()
    } else {
        match p.take()? {
            b'Z' if p.done() => "Z".to_string(),
            sign @ (b'+' | b'-') => {
                let zh = p.num(2, 2)?;
                p.lit(b':')?;
                let zm = p.num(2, 2)?;
                if !p.done() || zh > 23 || zm > 59 {
                    return None;
                }
                if zh == 0 && zm == 0 {
                    "Z".to_string()
                } else {
                    format!("{}{zh:02}:{zm:02}", sign as char)
                }
            }
            _ => return None,
        }
    };
    let frac = if frac.is_empty() {
        String::new()
    } else {
        format!(".{frac}")
    };
    Some(format!(
        "{year}-{month:02}-{day:02}T{hour:02}:{min:02}:{sec:02}{frac}{zone}"
    ))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn done(&self) -> bool {
        self.i == self.b.len()
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn take(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }
    fn lit(&mut self, c: u8) -> Option<()> {
        (self.take()? == c).then_some(())
    }
    fn num(&mut self, min: usize, max: usize) -> Option<u32> {
        let st = self.i;
        while self.i - st < max && self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        if self.i - st < min {
            return None;
        }
        std::str::from_utf8(&self.b[st..self.i]).ok()?.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn go_timestamp_forms() {
        let cases = [
            ("2001-12-14", Some("2001-12-14T00:00:00Z")),
            ("2001-2-3", Some("2001-02-03T00:00:00Z")),
            (
                "2001-12-14T21:59:43.10-05:00",
                Some("2001-12-14T21:59:43.1-05:00"),
            ),
            ("2001-12-14t21:59:43Z", Some("2001-12-14T21:59:43Z")),
            ("2001-12-14 21:59:43.5", Some("2001-12-14T21:59:43.5Z")),
            ("2001-12-14T21:59:43+00:00", Some("2001-12-14T21:59:43Z")),
            ("2001-13-14", None),
            ("2001-02-30", None),
            ("2001-12-14x", None),
            ("20011-12-14", None),
        ];
        for (text, want) in cases {
            assert_eq!(super::parse(text).as_deref(), want, "parsing {text:?}");
        }
    }
}
