//! sprig's date functions over a Go-like `time.Time` (UTC and fixed offsets; Go layouts).

use std::sync::Arc;

use super::{arg_s, ok_s};
use crate::funcs::{FuncError, Functions, Param as P};
use crate::value::{Object, Value};

/// A point in time with a fixed zone, like Go's `time.Time`.
#[derive(Clone, Debug, PartialEq)]
pub struct Time {
    /// Seconds since the Unix epoch.
    pub secs: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
    /// Zone offset east of UTC, in seconds.
    pub offset: i32,
    /// Zone abbreviation (e.g. "UTC").
    pub zone: String,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

struct Parts {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    min: i64,
    sec: i64,
    weekday: usize,
    yday: i64,
}

impl Time {
    /// The current time in UTC (Go's `time.Now()` with `Local` = UTC here).
    pub fn now() -> Time {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Time::unix(d.as_secs() as i64, d.subsec_nanos())
    }

    /// A UTC time from Unix seconds and nanoseconds.
    pub fn unix(secs: i64, nanos: u32) -> Time {
        Time {
            secs,
            nanos,
            offset: 0,
            zone: "UTC".into(),
        }
    }

    fn parts(&self) -> Parts {
        let local = self.secs + i64::from(self.offset);
        let days = local.div_euclid(86_400);
        let rem = local.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Parts {
            year,
            month,
            day,
            hour: rem / 3600,
            min: rem % 3600 / 60,
            sec: rem % 60,
            weekday: (days + 4).rem_euclid(7) as usize,
            yday: days - days_from_civil(year, 1, 1) + 1,
        }
    }

    /// Go's `Time.Format(layout)`.
    pub fn format(&self, layout: &str) -> String {
        let p = self.parts();
        let mut out = String::new();
        let mut rest = layout;
        while !rest.is_empty() {
            let (tok, len) = next_token(rest);
            match tok {
                Tok::Lit => {
                    let c = rest.chars().next().unwrap_or(' ');
                    out.push(c);
                    rest = &rest[c.len_utf8()..];
                    continue;
                }
                Tok::LongMonth => out.push_str(MONTHS[(p.month - 1) as usize]),
                Tok::Month => out.push_str(&MONTHS[(p.month - 1) as usize][..3]),
                Tok::NumMonth => out.push_str(&p.month.to_string()),
                Tok::ZeroMonth => out.push_str(&format!("{:02}", p.month)),
                Tok::LongWeekDay => out.push_str(DAYS[p.weekday]),
                Tok::WeekDay => out.push_str(&DAYS[p.weekday][..3]),
                Tok::Day => out.push_str(&p.day.to_string()),
                Tok::UnderDay => out.push_str(&format!("{:>2}", p.day)),
                Tok::ZeroDay => out.push_str(&format!("{:02}", p.day)),
                Tok::UnderYearDay => out.push_str(&format!("{:>3}", p.yday)),
                Tok::ZeroYearDay => out.push_str(&format!("{:03}", p.yday)),
                Tok::Hour => out.push_str(&format!("{:02}", p.hour)),
                Tok::Hour12 => {
                    out.push_str(&(if p.hour % 12 == 0 { 12 } else { p.hour % 12 }).to_string())
                }
                Tok::ZeroHour12 => out.push_str(&format!(
                    "{:02}",
                    if p.hour % 12 == 0 { 12 } else { p.hour % 12 }
                )),
                Tok::Minute => out.push_str(&p.min.to_string()),
                Tok::ZeroMinute => out.push_str(&format!("{:02}", p.min)),
                Tok::Second => out.push_str(&p.sec.to_string()),
                Tok::ZeroSecond => out.push_str(&format!("{:02}", p.sec)),
                Tok::LongYear => out.push_str(&format!("{:04}", p.year)),
                Tok::Year => out.push_str(&format!("{:02}", p.year.rem_euclid(100))),
                Tok::PM => out.push_str(if p.hour >= 12 { "PM" } else { "AM" }),
                Tok::Pm => out.push_str(if p.hour >= 12 { "pm" } else { "am" }),
                Tok::TZ => {
                    if self.zone.is_empty() {
                        out.push_str(&offset_text(self.offset, "-0700", false));
                    } else {
                        out.push_str(&self.zone);
                    }
                }
                Tok::Offset(kind, z) => out.push_str(&offset_text(self.offset, kind, z)),
                Tok::Frac(n, zeros, sep) => {
                    let digits = format!("{:09}", self.nanos);
                    if zeros {
                        out.push(sep);
                        out.push_str(&digits[..n]);
                    } else {
                        let d = digits[..n].trim_end_matches('0');
                        if !d.is_empty() {
                            out.push(sep);
                            out.push_str(d);
                        }
                    }
                }
            }
            rest = &rest[len..];
        }
        out
    }

    /// Go's `Time.String()`.
    pub fn go_string(&self) -> String {
        let mut s = self.format("2006-01-02 15:04:05.999999999 -0700 MST");
        if self.zone.is_empty() {
            s = self.format("2006-01-02 15:04:05.999999999 -0700 -0700");
        }
        s
    }
}

fn offset_text(off: i32, kind: &str, z: bool) -> String {
    if z && off == 0 {
        return "Z".into();
    }
    let sign = if off < 0 { '-' } else { '+' };
    let a = off.unsigned_abs();
    let (h, m, s) = (a / 3600, a % 3600 / 60, a % 60);
    match kind {
        "-07" => format!("{sign}{h:02}"),
        "-07:00" => format!("{sign}{h:02}:{m:02}"),
        "-07:00:00" => format!("{sign}{h:02}:{m:02}:{s:02}"),
        "-070000" => format!("{sign}{h:02}{m:02}{s:02}"),
        _ => format!("{sign}{h:02}{m:02}"),
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Tok {
    Lit,
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    TZ,
    Offset(&'static str, bool),
    Frac(usize, bool, char),
}

/// Go's `nextStdChunk`, reduced to "what token starts here and how long is it".
fn next_token(s: &str) -> (Tok, usize) {
    let b = s.as_bytes();
    let starts = |p: &str| s.starts_with(p);
    match b[0] {
        b'J' => {
            if starts("January") {
                return (Tok::LongMonth, 7);
            }
            if starts("Jan") {
                return (Tok::Month, 3);
            }
        }
        b'M' => {
            if starts("Monday") {
                return (Tok::LongWeekDay, 6);
            }
            if starts("Mon") {
                return (Tok::WeekDay, 3);
            }
            if starts("MST") {
                return (Tok::TZ, 3);
            }
        }
        b'0' => {
            if b.len() >= 2 && (b'1'..=b'6').contains(&b[1]) {
                return (
                    match b[1] {
                        b'1' => Tok::ZeroMonth,
                        b'2' => Tok::ZeroDay,
                        b'3' => Tok::ZeroHour12,
                        b'4' => Tok::ZeroMinute,
                        b'5' => Tok::ZeroSecond,
                        _ => Tok::Year,
                    },
                    2,
                );
            }
            if starts("002") {
                return (Tok::ZeroYearDay, 3);
            }
        }
        b'1' => {
            if starts("15") {
                return (Tok::Hour, 2);
            }
            return (Tok::NumMonth, 1);
        }
        b'2' => {
            if starts("2006") {
                return (Tok::LongYear, 4);
            }
            return (Tok::Day, 1);
        }
        b'_' => {
            if starts("_2") {
                if starts("_2006") {
                    return (Tok::Lit, 1);
                }
                return (Tok::UnderDay, 2);
            }
            if starts("__2") {
                return (Tok::UnderYearDay, 3);
            }
        }
        b'3' => return (Tok::Hour12, 1),
        b'4' => return (Tok::Minute, 1),
        b'5' => return (Tok::Second, 1),
        b'P' if starts("PM") => {
            return (Tok::PM, 2);
        }
        b'p' if starts("pm") => {
            return (Tok::Pm, 2);
        }
        b'-' => {
            for k in ["-07:00:00", "-070000", "-07:00", "-0700", "-07"] {
                if starts(k) {
                    return (Tok::Offset(k, false), k.len());
                }
            }
        }
        b'Z' => {
            for (k, kind) in [
                ("Z07:00:00", "-07:00:00"),
                ("Z070000", "-070000"),
                ("Z07:00", "-07:00"),
                ("Z0700", "-0700"),
                ("Z07", "-07"),
            ] {
                if starts(k) {
                    return (Tok::Offset(kind, true), k.len());
                }
            }
        }
        b'.' | b',' if b.len() >= 2 && (b[1] == b'0' || b[1] == b'9') => {
            let ch = b[1];
            let n = b[1..].iter().take_while(|c| **c == ch).count();
            let next = b.get(1 + n);
            if !next.is_some_and(|c| c.is_ascii_digit()) {
                return (Tok::Frac(n.min(9), ch == b'0', b[0] as char), 1 + n);
            }
        }
        _ => {}
    }
    (Tok::Lit, 1)
}

/// Go's `time.Parse(layout, value)` for the common layouts (UTC when no zone is given).
pub fn parse(layout: &str, value: &str) -> Result<Time, String> {
    // Go reports the value left and the layout element that failed to match.
    let cur_v = std::cell::Cell::new(value);
    let cur_elem = std::cell::Cell::new(layout);
    let err = || {
        format!(
            "parsing time {} as {}: cannot parse {} as {}",
            crate::gofmt::quote(value),
            crate::gofmt::quote(layout),
            crate::gofmt::quote(cur_v.get()),
            crate::gofmt::quote(cur_elem.get())
        )
    };
    let (mut year, mut month, mut day, mut hour, mut min, mut sec, mut nanos) =
        (1i64, 1i64, 1i64, 0i64, 0i64, 0i64, 0u32);
    let mut pm: Option<bool> = None;
    let mut offset = 0i32;
    let mut zone = "UTC".to_string();
    let mut l = layout;
    let mut v = value;
    let num = |v: &mut &str, min: usize, max: usize| -> Option<i64> {
        let n = v
            .bytes()
            .take(max)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if n < min {
            return None;
        }
        let x = v[..n].parse().ok()?;
        *v = &v[n..];
        Some(x)
    };
    while !l.is_empty() {
        let (tok, len) = next_token(l);
        cur_v.set(v);
        cur_elem.set(&l[..len]);
        match tok {
            Tok::Lit => {
                // A run of literal text up to the next layout element, matched like Go's `skip`.
                let mut run = 0;
                while run < l.len() && next_token(&l[run..]).0 == Tok::Lit {
                    run += l[run..].chars().next().map_or(1, char::len_utf8);
                }
                let mut prefix = &l[..run];
                while !prefix.is_empty() {
                    if let Some(p) = prefix.strip_prefix(' ') {
                        if !v.is_empty() && !v.starts_with(' ') {
                            cur_v.set(v);
                            cur_elem.set(&l[..run]);
                            return Err(err());
                        }
                        prefix = p.trim_start_matches(' ');
                        v = v.trim_start_matches(' ');
                        continue;
                    }
                    let c = prefix.chars().next().unwrap_or(' ');
                    if !v.starts_with(c) {
                        cur_v.set(v);
                        cur_elem.set(&l[..run]);
                        return Err(err());
                    }
                    prefix = &prefix[c.len_utf8()..];
                    v = &v[c.len_utf8()..];
                }
                l = &l[run..];
                continue;
            }
            Tok::LongMonth | Tok::Month => {
                let i = MONTHS
                    .iter()
                    .position(|m| {
                        let m = if tok == Tok::Month { &m[..3] } else { m };
                        v.get(..m.len()).is_some_and(|p| p.eq_ignore_ascii_case(m))
                    })
                    .ok_or_else(err)?;
                v = &v[if tok == Tok::Month {
                    3
                } else {
                    MONTHS[i].len()
                }..];
                month = i as i64 + 1;
            }
            Tok::LongWeekDay | Tok::WeekDay => {
                let i = DAYS
                    .iter()
                    .position(|d| {
                        let d = if tok == Tok::WeekDay { &d[..3] } else { d };
                        v.get(..d.len()).is_some_and(|p| p.eq_ignore_ascii_case(d))
                    })
                    .ok_or_else(err)?;
                v = &v[if tok == Tok::WeekDay {
                    3
                } else {
                    DAYS[i].len()
                }..];
            }
            Tok::NumMonth | Tok::ZeroMonth => {
                month = num(&mut v, if tok == Tok::ZeroMonth { 2 } else { 1 }, 2).ok_or_else(err)?
            }
            Tok::Day | Tok::ZeroDay => {
                day = num(&mut v, if tok == Tok::ZeroDay { 2 } else { 1 }, 2).ok_or_else(err)?
            }
            Tok::UnderDay => {
                v = v.strip_prefix(' ').unwrap_or(v);
                day = num(&mut v, 1, 2).ok_or_else(err)?;
            }
            Tok::UnderYearDay | Tok::ZeroYearDay => {
                v = v.trim_start_matches(' ');
                num(&mut v, 1, 3).ok_or_else(err)?;
            }
            Tok::Hour => hour = num(&mut v, 2, 2).ok_or_else(err)?,
            Tok::Hour12 | Tok::ZeroHour12 => {
                hour = num(&mut v, if tok == Tok::ZeroHour12 { 2 } else { 1 }, 2).ok_or_else(err)?
            }
            Tok::Minute | Tok::ZeroMinute => {
                min = num(&mut v, if tok == Tok::ZeroMinute { 2 } else { 1 }, 2).ok_or_else(err)?
            }
            Tok::Second | Tok::ZeroSecond => {
                sec = num(&mut v, if tok == Tok::ZeroSecond { 2 } else { 1 }, 2).ok_or_else(err)?;
                // Go accepts a fractional second after the seconds even if the layout has none.
                if (v.starts_with('.') || v.starts_with(','))
                    && !matches!(next_token(&l[len..]).0, Tok::Frac(..))
                    && v[1..].starts_with(|c: char| c.is_ascii_digit())
                {
                    let n = v[1..].bytes().take_while(|c| c.is_ascii_digit()).count();
                    let digits = format!("{:0<9}", &v[1..1 + n.min(9)]);
                    nanos = digits.parse().unwrap_or(0);
                    v = &v[1 + n..];
                }
            }
            Tok::LongYear => year = num(&mut v, 4, 4).ok_or_else(err)?,
            Tok::Year => {
                let y = num(&mut v, 2, 2).ok_or_else(err)?;
                year = if y >= 69 { 1900 + y } else { 2000 + y };
            }
            Tok::PM | Tok::Pm => {
                if v.len() < 2 {
                    return Err(err());
                }
                pm = match v.get(..2).unwrap_or("") {
                    "PM" | "pm" => Some(true),
                    "AM" | "am" => Some(false),
                    _ => return Err(err()),
                };
                v = &v[2..];
            }
            Tok::TZ => {
                let n = v.bytes().take_while(|c| c.is_ascii_uppercase()).count();
                if n < 3 {
                    return Err(err());
                }
                zone = v[..n].to_string();
                v = &v[n..];
            }
            Tok::Offset(kind, z) => {
                if z && v.starts_with('Z') {
                    v = &v[1..];
                    offset = 0;
                } else {
                    let sign = match v.as_bytes().first() {
                        Some(b'+') => 1,
                        Some(b'-') => -1,
                        _ => return Err(err()),
                    };
                    v = &v[1..];
                    let h = num(&mut v, 2, 2).ok_or_else(err)?;
                    let mut m = 0;
                    let mut s = 0;
                    if kind.contains(':') {
                        if kind.len() > 3 {
                            v = v.strip_prefix(':').ok_or_else(err)?;
                            m = num(&mut v, 2, 2).ok_or_else(err)?;
                        }
                        if kind.len() > 6 {
                            v = v.strip_prefix(':').ok_or_else(err)?;
                            s = num(&mut v, 2, 2).ok_or_else(err)?;
                        }
                    } else if kind.len() > 3 {
                        m = num(&mut v, 2, 2).ok_or_else(err)?;
                        if kind.len() > 5 {
                            s = num(&mut v, 2, 2).ok_or_else(err)?;
                        }
                    }
                    offset = (sign * (h * 3600 + m * 60 + s)) as i32;
                    zone = String::new();
                }
            }
            Tok::Frac(n, _, sep) => {
                if v.starts_with(sep) {
                    let k = v[1..].bytes().take_while(|c| c.is_ascii_digit()).count();
                    let digits = format!("{:0<9}", &v[1..1 + k.min(9)]);
                    nanos = digits.parse().unwrap_or(0);
                    v = &v[1 + k..];
                } else if n > 0 && tok != Tok::Frac(n, false, sep) {
                    return Err(err());
                }
            }
        }
        l = &l[len..];
    }
    if !v.is_empty() {
        return Err(format!(
            "parsing time {}: extra text: {}",
            crate::gofmt::quote(value),
            crate::gofmt::quote(v)
        ));
    }
    if let Some(pm) = pm {
        if pm && hour < 12 {
            hour += 12;
        } else if !pm && hour == 12 {
            hour = 0;
        }
    }
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 59 {
        return Err(format!(
            "parsing time {}: day out of range",
            crate::gofmt::quote(value)
        ));
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + min * 60 + sec - i64::from(offset);
    if zone.is_empty() && offset == 0 {
        zone = "UTC".into();
    }
    Ok(Time {
        secs,
        nanos,
        offset,
        zone,
    })
}

/// Go's `time.ParseDuration`, in nanoseconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let orig = s;
    let bad = || format!("time: invalid duration {}", crate::gofmt::quote(orig));
    let (neg, mut s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(bad());
    }
    let mut total: f64 = 0.0;
    while !s.is_empty() {
        let n = s
            .bytes()
            .take_while(|c| c.is_ascii_digit() || *c == b'.')
            .count();
        if n == 0 {
            return Err(bad());
        }
        let x: f64 = s[..n].parse().map_err(|_| bad())?;
        s = &s[n..];
        let u = s
            .bytes()
            .take_while(|c| !c.is_ascii_digit() && *c != b'.')
            .count();
        let unit = match &s[..u] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "" => {
                return Err(format!(
                    "time: missing unit in duration {}",
                    crate::gofmt::quote(orig)
                ));
            }
            other => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    crate::gofmt::quote(other),
                    crate::gofmt::quote(orig)
                ));
            }
        };
        total += x * unit;
        s = &s[u..];
    }
    let t = total.round() as i64;
    Ok(if neg { -t } else { t })
}

/// Go's `Duration.String()`.
pub fn duration_string(d: i64) -> String {
    if d == 0 {
        return "0s".into();
    }
    let neg = d < 0;
    let u = d.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        let (unit, div) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        out.push_str(&frac_text(u, div));
        out.push_str(unit);
    } else {
        let h = u / 3_600_000_000_000;
        let m = u / 60_000_000_000 % 60;
        let s_ns = u % 60_000_000_000;
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            out.push_str(&format!("{m}m"));
        }
        out.push_str(&frac_text(s_ns, 1_000_000_000));
        out.push('s');
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

fn frac_text(v: u64, div: u64) -> String {
    let int = v / div;
    let frac = v % div;
    if frac == 0 {
        return int.to_string();
    }
    let width = div.to_string().len() - 1;
    let f = format!("{frac:0width$}");
    format!("{int}.{}", f.trim_end_matches('0'))
}

impl Object for Time {
    fn type_name(&self) -> String {
        "time.Time".into()
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    fn has_method(&self, name: &str) -> bool {
        matches!(
            name,
            "Unix"
                | "Year"
                | "Day"
                | "Hour"
                | "Minute"
                | "Second"
                | "Format"
                | "UTC"
                | "String"
                | "YearDay"
                | "Nanosecond"
                | "UnixNano"
        )
    }
    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, FuncError>> {
        let p = self.parts();
        Some(Ok(match name {
            "Unix" => Value::Int64(self.secs),
            "UnixNano" => Value::Int64(
                self.secs
                    .saturating_mul(1_000_000_000)
                    .saturating_add(i64::from(self.nanos)),
            ),
            "Year" => Value::Int(p.year),
            "Day" => Value::Int(p.day),
            "YearDay" => Value::Int(p.yday),
            "Hour" => Value::Int(p.hour),
            "Minute" => Value::Int(p.min),
            "Second" => Value::Int(p.sec),
            "Nanosecond" => Value::Int(i64::from(self.nanos)),
            "String" => Value::str(self.go_string()),
            "UTC" => Value::Object(Arc::new(Time::unix(self.secs, self.nanos))),
            "Format" => {
                Value::str(self.format(args.first().and_then(Value::as_str).unwrap_or_default()))
            }
            _ => return None,
        }))
    }
    fn display(&self) -> String {
        self.go_string()
    }
    fn to_value(&self) -> Value {
        Value::str(self.format("2006-01-02T15:04:05.999999999Z07:00"))
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

fn as_time(v: &Value) -> Option<Time> {
    match v {
        Value::Object(o) => o.as_any().and_then(|a| a.downcast_ref::<Time>()).cloned(),
        _ => None,
    }
}

/// sprig's `formatDate`: accepts time.Time or Unix seconds (int, int64).
fn format_date(layout: &str, date: &Value, zone: &str) -> String {
    let t = match date {
        Value::Int(i) | Value::Int64(i) => Time::unix(*i, 0),
        other => as_time(other).unwrap_or_else(Time::now),
    };
    in_zone(&t, zone).format(layout)
}

fn in_zone(t: &Time, zone: &str) -> Time {
    // Only UTC (and Local, which is UTC here) are known; Go falls back to UTC for unknown zones.
    let _ = zone;
    Time::unix(t.secs, t.nanos)
}

fn time_value(t: Time) -> Value {
    Value::Object(Arc::new(t))
}

pub(super) fn register(f: &mut Functions) {
    f.add("now", &[], |_, _| Ok(time_value(Time::now())));
    f.add("date", &[P::String, P::Any], |_, a| {
        ok_s(format_date(arg_s(a, 0), &a[1], "Local"))
    });
    f.add("htmlDate", &[P::Any], |_, a| {
        ok_s(format_date("2006-01-02", &a[0], "Local"))
    });
    for name in ["dateInZone", "date_in_zone"] {
        f.add(name, &[P::String, P::Any, P::String], |_, a| {
            ok_s(format_date(arg_s(a, 0), &a[1], arg_s(a, 2)))
        });
    }
    f.add("htmlDateInZone", &[P::Any, P::String], |_, a| {
        ok_s(format_date("2006-01-02", &a[0], arg_s(a, 1)))
    });
    for (name, must) in [
        ("dateModify", false),
        ("date_modify", false),
        ("mustDateModify", true),
        ("must_date_modify", true),
    ] {
        f.add(name, &[P::String, P::Any], move |_, a| {
            let Some(t) = as_time(&a[1]) else {
                return Err(FuncError::new(format!(
                    "wrong type for value; expected time.Time; got {}",
                    a[1].type_name()
                )));
            };
            match parse_duration(arg_s(a, 0)) {
                Ok(d) => {
                    let total =
                        i128::from(t.secs) * 1_000_000_000 + i128::from(t.nanos) + i128::from(d);
                    let secs = total.div_euclid(1_000_000_000) as i64;
                    let nanos = total.rem_euclid(1_000_000_000) as u32;
                    Ok(time_value(Time { secs, nanos, ..t }))
                }
                Err(e) if must => Err(FuncError::new(e)),
                Err(_) => Ok(time_value(t)),
            }
        });
    }
    f.add("toDate", &[P::String, P::String], |_, a| {
        Ok(time_value(parse(arg_s(a, 0), arg_s(a, 1)).unwrap_or(
            Time {
                secs: -62_135_596_800,
                nanos: 0,
                offset: 0,
                zone: "UTC".into(),
            },
        )))
    });
    f.add("mustToDate", &[P::String, P::String], |_, a| {
        parse(arg_s(a, 0), arg_s(a, 1))
            .map(time_value)
            .map_err(FuncError::new)
    });
    f.add("unixEpoch", &[P::Any], |_, a| match as_time(&a[0]) {
        Some(t) => ok_s(t.secs.to_string()),
        None => Err(FuncError::new(format!(
            "wrong type for value; expected time.Time; got {}",
            a[0].type_name()
        ))),
    });
    f.add("ago", &[P::Any], |_, a| {
        let t = match &a[0] {
            Value::Int(i) | Value::Int64(i) => Time::unix(*i, 0),
            other => as_time(other).unwrap_or_else(Time::now),
        };
        let now = Time::now();
        let d = (now.secs - t.secs) * 1_000_000_000;
        ok_s(duration_string(d))
    });
    f.add("duration", &[P::Any], |_, a| {
        let n = match &a[0] {
            Value::String(s) => s.parse::<i64>().unwrap_or(0),
            Value::Int64(i) => *i,
            _ => 0,
        };
        ok_s(duration_string(n.saturating_mul(1_000_000_000)))
    });
    f.add("durationRound", &[P::Any], |_, a| {
        let d: i64 = match &a[0] {
            Value::String(s) => parse_duration(s).unwrap_or(0),
            Value::Int64(i) => *i,
            other => match as_time(other) {
                Some(t) => (Time::now().secs - t.secs) * 1_000_000_000,
                None => 0,
            },
        };
        let u = d.unsigned_abs();
        let hour = 3_600_000_000_000u64;
        let (year, month, day, minute, second) = (
            hour * 24 * 365,
            hour * 24 * 30,
            hour * 24,
            60_000_000_000u64,
            1_000_000_000u64,
        );
        ok_s(if u > year {
            format!("{}y", u / year)
        } else if u > month {
            format!("{}mo", u / month)
        } else if u > day {
            format!("{}d", u / day)
        } else if u > hour {
            format!("{}h", u / hour)
        } else if u > minute {
            format!("{}m", u / minute)
        } else if u > second {
            format!("{}s", u / second)
        } else {
            "0s".into()
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_round_trip() {
        let t = parse("2006-01-02T15:04:05Z07:00", "2021-03-04T05:06:07+02:00").unwrap();
        assert_eq!(t.secs, 1_614_827_167);
        assert_eq!(
            t.format("2006-01-02 15:04:05 -0700"),
            "2021-03-04 05:06:07 +0200"
        );
        assert_eq!(
            Time::unix(0, 0).format("Mon Jan _2 3:04PM 2006"),
            "Thu Jan  1 12:00AM 1970"
        );
        assert_eq!(
            Time::unix(0, 5_000_000).format("05.000|05.999"),
            "00.005|00.005"
        );
        assert!(parse("2006-01-02", "2021/03/04").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m").unwrap(), 5_400_000_000_000);
        assert_eq!(duration_string(90_061_000_000_000), "25h1m1s");
        assert_eq!(duration_string(1_500), "1.5µs");
        assert!(parse_duration("5x").is_err());
    }
}
