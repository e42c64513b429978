//! sprig's integer and float math (`add`, `div`, `addf` with shopspring/decimal, `round`, ...).

use super::arg_i;
use super::conv::{to_f64, to_i64};
use crate::funcs::{FuncError, Functions, Param as P};
use crate::value::{ListKind, Value};
use std::sync::Arc;

/// A decimal `mant × 10^exp`, enough of shopspring/decimal for sprig's float math.
#[derive(Clone, Copy, Debug)]
struct Dec {
    mant: i128,
    exp: i32,
}

impl Dec {
    fn from_f64(f: f64) -> Option<Dec> {
        if !f.is_finite() {
            return None;
        }
        if f == 0.0 {
            return Some(Dec { mant: 0, exp: 0 });
        }
        let s = format!("{:e}", f);
        let (m, e) = s.split_once('e')?;
        let e: i32 = e.parse().ok()?;
        let neg = m.starts_with('-');
        let digits: String = m.chars().filter(|c| c.is_ascii_digit()).collect();
        let frac = digits.len() as i32 - 1;
        let mant: i128 = digits.parse().ok()?;
        Some(Dec {
            mant: if neg { -mant } else { mant },
            exp: e - frac,
        })
    }

    fn to_f64(self) -> f64 {
        format!("{}e{}", self.mant, self.exp)
            .parse()
            .unwrap_or(f64::NAN)
    }

    fn align(a: Dec, b: Dec) -> Option<(i128, i128, i32)> {
        let e = a.exp.min(b.exp);
        let sa = 10i128.checked_pow((a.exp - e) as u32)?;
        let sb = 10i128.checked_pow((b.exp - e) as u32)?;
        Some((a.mant.checked_mul(sa)?, b.mant.checked_mul(sb)?, e))
    }

    fn add(a: Dec, b: Dec) -> Option<Dec> {
        let (x, y, e) = Dec::align(a, b)?;
        Some(Dec {
            mant: x.checked_add(y)?,
            exp: e,
        })
    }

    fn sub(a: Dec, b: Dec) -> Option<Dec> {
        let (x, y, e) = Dec::align(a, b)?;
        Some(Dec {
            mant: x.checked_sub(y)?,
            exp: e,
        })
    }

    fn mul(a: Dec, b: Dec) -> Option<Dec> {
        Some(Dec {
            mant: a.mant.checked_mul(b.mant)?,
            exp: a.exp + b.exp,
        })
    }

    /// `DivRound(b, 16)`: 16 decimal places, half away from zero.
    fn div(a: Dec, b: Dec) -> Option<Dec> {
        // a/b = (ma/mb) * 10^(ea-eb); want mantissa at exponent -16 (one extra digit to round).
        let shift = a.exp - b.exp + 17;
        let (num, den) = if shift >= 0 {
            (
                a.mant.checked_mul(10i128.checked_pow(shift as u32)?)?,
                b.mant,
            )
        } else {
            (
                a.mant,
                b.mant.checked_mul(10i128.checked_pow((-shift) as u32)?)?,
            )
        };
        let q = num / den;
        let r = if q >= 0 { (q + 5) / 10 } else { (q - 5) / 10 };
        Some(Dec { mant: r, exp: -16 })
    }
}

fn dec_op(
    a: &Value,
    rest: &[Value],
    op: fn(Dec, Dec) -> Option<Dec>,
    fallback: fn(f64, f64) -> f64,
    is_div: bool,
) -> Result<Value, FuncError> {
    let mut acc_f = to_f64(a);
    let mut acc = Dec::from_f64(acc_f);
    for x in rest {
        let xf = to_f64(x);
        if is_div && xf == 0.0 {
            return Err(FuncError::new("decimal division by 0"));
        }
        acc = match (acc, Dec::from_f64(xf)) {
            (Some(p), Some(q)) => op(p, q),
            _ => None,
        };
        acc_f = match acc {
            Some(d) => d.to_f64(),
            None => fallback(acc_f, xf),
        };
        if acc.is_none() {
            acc = Dec::from_f64(acc_f);
        }
    }
    Ok(Value::Float(acc_f))
}

fn untilstep(start: i64, stop: i64, step: i64) -> Result<Vec<i64>, FuncError> {
    let mut v = Vec::new();
    let n = if stop < start {
        if step >= 0 {
            return Ok(v);
        }
        (start - stop) / -step
    } else {
        if step <= 0 {
            return Ok(v);
        }
        (stop - start) / step
    };
    if n > 1_000_000 {
        return Err(FuncError::new("untilStep: too many elements"));
    }
    let mut i = start;
    if stop < start {
        while i > stop {
            v.push(i);
            i += step;
        }
    } else {
        while i < stop {
            v.push(i);
            i += step;
        }
    }
    Ok(v)
}

fn int_list(v: Vec<i64>) -> Value {
    Value::List(
        Arc::new(v.into_iter().map(Value::Int).collect()),
        ListKind::Int,
    )
}

pub(super) fn register(f: &mut Functions) {
    f.add_variadic("add", &[], P::Any, |_, a| {
        Ok(Value::Int64(
            a.iter().map(to_i64).fold(0i64, i64::wrapping_add),
        ))
    });
    f.add("add1", &[P::Any], |_, a| {
        Ok(Value::Int64(to_i64(&a[0]).wrapping_add(1)))
    });
    f.add("sub", &[P::Any, P::Any], |_, a| {
        Ok(Value::Int64(to_i64(&a[0]).wrapping_sub(to_i64(&a[1]))))
    });
    f.add_variadic("mul", &[P::Any], P::Any, |_, a| {
        Ok(Value::Int64(
            a[1..]
                .iter()
                .map(to_i64)
                .fold(to_i64(&a[0]), i64::wrapping_mul),
        ))
    });
    f.add("div", &[P::Any, P::Any], |_, a| {
        let d = to_i64(&a[1]);
        if d == 0 {
            return Err(FuncError::new("runtime error: integer divide by zero"));
        }
        Ok(Value::Int64(to_i64(&a[0]).wrapping_div(d)))
    });
    f.add("mod", &[P::Any, P::Any], |_, a| {
        let d = to_i64(&a[1]);
        if d == 0 {
            return Err(FuncError::new("runtime error: integer divide by zero"));
        }
        Ok(Value::Int64(to_i64(&a[0]).wrapping_rem(d)))
    });
    for name in ["max", "biggest"] {
        f.add_variadic(name, &[P::Any], P::Any, |_, a| {
            Ok(Value::Int64(
                a[1..].iter().map(to_i64).fold(to_i64(&a[0]), i64::max),
            ))
        });
    }
    f.add_variadic("min", &[P::Any], P::Any, |_, a| {
        Ok(Value::Int64(
            a[1..].iter().map(to_i64).fold(to_i64(&a[0]), i64::min),
        ))
    });
    f.add_variadic("maxf", &[P::Any], P::Any, |_, a| {
        Ok(Value::Float(a[1..].iter().map(to_f64).fold(
            to_f64(&a[0]),
            |x, y| {
                if x.is_nan() || y.is_nan() {
                    f64::NAN
                } else {
                    x.max(y)
                }
            },
        )))
    });
    f.add_variadic("minf", &[P::Any], P::Any, |_, a| {
        Ok(Value::Float(a[1..].iter().map(to_f64).fold(
            to_f64(&a[0]),
            |x, y| {
                if x.is_nan() || y.is_nan() {
                    f64::NAN
                } else {
                    x.min(y)
                }
            },
        )))
    });
    f.add_variadic("addf", &[], P::Any, |_, a| {
        if a.is_empty() {
            return Ok(Value::Float(0.0));
        }
        dec_op(&a[0], &a[1..], Dec::add, |x, y| x + y, false)
    });
    f.add("add1f", &[P::Any], |_, a| {
        dec_op(&a[0], &[Value::Int(1)], Dec::add, |x, y| x + y, false)
    });
    f.add_variadic("subf", &[P::Any], P::Any, |_, a| {
        dec_op(&a[0], &a[1..], Dec::sub, |x, y| x - y, false)
    });
    f.add_variadic("mulf", &[P::Any], P::Any, |_, a| {
        dec_op(&a[0], &a[1..], Dec::mul, |x, y| x * y, false)
    });
    f.add_variadic("divf", &[P::Any], P::Any, |_, a| {
        dec_op(&a[0], &a[1..], Dec::div, |x, y| x / y, true)
    });
    f.add("ceil", &[P::Any], |_, a| {
        Ok(Value::Float(to_f64(&a[0]).ceil()))
    });
    f.add("floor", &[P::Any], |_, a| {
        Ok(Value::Float(to_f64(&a[0]).floor()))
    });
    f.add_variadic("round", &[P::Any, P::Int], P::Float, |_, a| {
        let round_on = a.get(2).map(to_f64).unwrap_or(0.5);
        let val = to_f64(&a[0]);
        let pow = 10f64.powf(arg_i(a, 1) as f64);
        let digit = pow * val;
        let frac = digit.fract();
        let r = if frac >= round_on {
            digit.ceil()
        } else {
            digit.floor()
        };
        Ok(Value::Float(r / pow))
    });
    f.add("int", &[P::Any], |_, a| Ok(Value::Int(to_i64(&a[0]))));
    f.add("int64", &[P::Any], |_, a| Ok(Value::Int64(to_i64(&a[0]))));
    f.add("float64", &[P::Any], |_, a| Ok(Value::Float(to_f64(&a[0]))));
    f.add("atoi", &[P::String], |_, a| {
        let s = a[0].as_str().unwrap_or_default();
        let t = s.strip_prefix('+').unwrap_or(s);
        let ok = !t.is_empty()
            && t.trim_start_matches('-')
                .bytes()
                .all(|b| b.is_ascii_digit())
            && t.matches('-').count() <= 1
            && !t[1..].contains('-');
        Ok(Value::Int(if ok { t.parse().unwrap_or(0) } else { 0 }))
    });
    f.add("toDecimal", &[P::Any], |_, a| {
        let s = super::conv::strval(&a[0]);
        let t = s.strip_prefix('+').unwrap_or(&s);
        Ok(Value::Int64(i64::from_str_radix(t, 8).unwrap_or(0)))
    });
    f.add("randInt", &[P::Int, P::Int], |_, a| {
        let (lo, hi) = (arg_i(a, 0), arg_i(a, 1));
        if hi <= lo {
            return Err(FuncError::new("invalid argument to Intn"));
        }
        Ok(Value::Int(
            lo + super::random_below((hi - lo) as u64) as i64,
        ))
    });
    f.add("until", &[P::Int], |_, a| {
        let n = arg_i(a, 0);
        Ok(int_list(untilstep(0, n, if n < 0 { -1 } else { 1 })?))
    });
    f.add("untilStep", &[P::Int, P::Int, P::Int], |_, a| {
        Ok(int_list(untilstep(arg_i(a, 0), arg_i(a, 1), arg_i(a, 2))?))
    });
    f.add_variadic("seq", &[], P::Int, |_, a| {
        let p: Vec<i64> = a.iter().map(to_i64).collect();
        let v = match p.len() {
            1 => {
                let (start, end) = (1, p[0]);
                let inc = if end < start { -1 } else { 1 };
                untilstep(start, end + inc, inc)?
            }
            2 => {
                let (start, end) = (p[0], p[1]);
                let step = if end < start { -1 } else { 1 };
                untilstep(start, end + step, step)?
            }
            3 => {
                let (start, step, end) = (p[0], p[1], p[2]);
                let mut inc = 1;
                if end < start {
                    inc = -1;
                    if step > 0 {
                        return Ok(Value::str(""));
                    }
                }
                untilstep(start, end + inc, step)?
            }
            _ => return Ok(Value::str("")),
        };
        Ok(Value::str(
            v.iter().map(i64::to_string).collect::<Vec<_>>().join(" "),
        ))
    });
}
