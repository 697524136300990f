//! NumberMinMax: replaces a number by a keyed value of similar size.
//!
//! Rule: write the number as `sign · M · 10^-d` (M = its digits as an integer,
//! d = decimal places, k = significant digits of M). The output is
//! `sign · M' · 10^-d` with M' uniform (keyed by the input text) among the
//! integers of `[max(ceil(M/2), 10^(k-1)), min(floor(3M/2), 10^k - 1)]` other
//! than M itself. So the value moves by a factor in [0.5, 1.5], keeps its sign,
//! its decimal places and its number of digits (so it still fits the
//! `numeric(p, s)` it came from) and is never 0 or the input. An integer is
//! also kept within the smallest of int2/int4/int8 that holds the input, so it
//! fits the integer column it came from. When that range holds only M (M = 1),
//! M' = 2. Zero has no neighbours of its size and stays zero.

use std::fmt::Write as _;

use super::NonConformant;
use super::prf::{Domain, Keyed};

/// Most significant digits supported (M < 10^38 < 2^127).
pub(crate) const MAX_DIGITS: usize = 38;

/// The inclusive range M' is drawn from (before excluding M), for the
/// mantissa `m` (> 0), decimal places `d` and sign.
pub(crate) fn candidate_range(m: u128, decimals: usize, negative: bool) -> (u128, u128) {
    let k = m.ilog10();
    let low_digits = 10u128.pow(k);
    let high_digits = if k + 1 >= 39 {
        u128::MAX
    } else {
        10u128.pow(k + 1) - 1
    };
    let lo = m.div_ceil(2).max(low_digits);
    let mut hi = (m + m / 2).min(high_digits);
    if decimals == 0 {
        let caps: [u128; 3] = if negative {
            [32_768, 2_147_483_648, 9_223_372_036_854_775_808]
        } else {
            [32_767, 2_147_483_647, 9_223_372_036_854_775_807]
        };
        if let Some(&cap) = caps.iter().find(|&&cap| m <= cap) {
            hi = hi.min(cap);
        }
    }
    if lo == hi {
        // Only m itself fits (m = 1): step to the next value.
        hi = m + 1;
    }
    (lo, hi)
}

pub(crate) fn min_max(keyed: &Keyed, value: &str) -> Result<String, NonConformant> {
    let shape = || NonConformant::new("not a plain decimal number such as -1234.50 or 42");
    let b = value.as_bytes();
    let (sign, body) = match b.first() {
        Some(b'-') | Some(b'+') => (&value[..1], &b[1..]),
        _ => ("", b),
    };
    let (int_part, frac_part) = match body.iter().position(|&c| c == b'.') {
        Some(p) => (&body[..p], &body[p + 1..]),
        None => (body, &body[body.len()..]),
    };
    let has_point = int_part.len() < body.len();
    if int_part.is_empty()
        || (has_point && frac_part.is_empty())
        || !int_part.iter().all(u8::is_ascii_digit)
        || !frac_part.iter().all(u8::is_ascii_digit)
    {
        return Err(shape());
    }
    let decimals = frac_part.len();
    let mut m: u128 = 0;
    let mut significant = 0usize;
    for &c in int_part.iter().chain(frac_part) {
        if significant == 0 && c == b'0' {
            continue;
        }
        significant += 1;
        if significant > MAX_DIGITS {
            return Err(NonConformant::new(format!(
                "numbers with more than {MAX_DIGITS} significant digits are not supported"
            )));
        }
        m = m * 10 + (c - b'0') as u128;
    }
    if m == 0 {
        // Zero (also "-0.00"): no value of the same size exists.
        return Ok(value.to_string());
    }
    let (lo, hi) = candidate_range(m, decimals, sign == "-");
    let mut stream = keyed.stream(Domain::Number, b);
    let mut new = lo + stream.below(hi - lo); // hi - lo candidates once m is left out
    if new >= m {
        new += 1;
    }

    // Format with the same decimal places; keep a zero-padded integer width
    // (e.g. "007") when the input had one.
    let mut digits = String::with_capacity(40);
    let _ = write!(digits, "{new}");
    let (int_digits, frac_digits) = if digits.len() > decimals {
        digits.split_at(digits.len() - decimals)
    } else {
        ("", digits.as_str())
    };
    let width = if int_part.len() > 1 && int_part[0] == b'0' {
        int_part.len()
    } else {
        1
    };
    let mut out = String::with_capacity(value.len() + 4);
    out.push_str(sign);
    for _ in int_digits.len()..width {
        out.push('0');
    }
    out.push_str(int_digits);
    if has_point {
        out.push('.');
        for _ in frac_digits.len()..decimals {
            out.push('0');
        }
        out.push_str(frac_digits);
    }
    Ok(out)
}
