//! Keyed format-preserving permutation of digit strings.
//!
//! An FF1-style alternating Feistel network over decimal digits: the digits
//! are split into halves A (n/2 digits) and B, and for each of [`ROUNDS`]
//! rounds A := A + F(round, B) mod 10^|A|, then the halves swap roles. F is a
//! keyed PRF of the whole other half: for up to 36 digits one SHA-256
//! compression whose chaining value is a secret block derived by HMAC from the
//! key (see `Keyed::block_prf`), beyond that HMAC-SHA256. After two rounds
//! every output digit depends on every input digit (no prefix is revealed),
//! and the map is a bijection on digit strings of one length, so distinct
//! inputs stay distinct.
//!
//! Why not NIST FF1 (SP 800-38G) itself: FF1-AES256 through the `fpe` crate
//! (0.7.0, with `aes` 0.9.4) measured about 0.14-0.20 M values/s per core for
//! 9-16 digits on this project's machine (2026-12-03), against the required
//! 1 M values/s; about 3/4 of its time is `num-bigint` arithmetic and
//! allocation, the rest AES called one block at a time (BENCHMARKS.md).

use super::prf::{Domain, Keyed};

/// Feistel rounds (as in NIST FF1).
pub(crate) const ROUNDS: u8 = 10;

/// Digit strings at most this long are permuted on the stack.
const STACK_DIGITS: usize = 64;

/// Permutes `digits` (each 0-9, at least 2 of them) in place, keyed by
/// `domain` and `tweak` (a different tweak gives an unrelated permutation).
pub(crate) fn permute(keyed: &Keyed, domain: Domain, tweak: &[u8], digits: &mut [u8]) {
    let n = digits.len();
    if n < 2 {
        return;
    }
    let tweak = &tweak[..tweak.len().min(MAX_TWEAK)];
    if n <= NUMERIC_MAX_DIGITS {
        permute_numeric(keyed, domain, tweak, digits);
    } else {
        permute_long(keyed, domain, tweak, digits);
    }
}

/// Longest tweak used (longer ones are cut).
const MAX_TWEAK: usize = 32;

/// Up to this many digits, the halves are handled as u64 numbers.
const NUMERIC_MAX_DIGITS: usize = 36;

const POW10: [u64; 19] = {
    let mut p = [1u64; 19];
    let mut i = 1;
    while i < 19 {
        p[i] = p[i - 1] * 10;
        i += 1;
    }
    p
};

fn to_number(digits: &[u8]) -> u64 {
    digits.iter().fold(0, |acc, &d| acc * 10 + d as u64)
}

fn write_number(mut x: u64, digits: &mut [u8]) {
    for d in digits.iter_mut().rev() {
        *d = (x % 10) as u8;
        x /= 10;
    }
}

/// Feistel on halves held as numbers (n <= 36 digits, so each half has at
/// most 18 digits): each round is one keyed SHA-256 compression of the
/// block `round | n | tweak length | tweak | B (u64 LE)`, whose fields have
/// fixed positions for a given tweak length, so the encoding is unambiguous.
fn permute_numeric(keyed: &Keyed, domain: Domain, tweak: &[u8], digits: &mut [u8]) {
    let n = digits.len();
    let u = n / 2;
    let v = n - u;
    let mut a = to_number(&digits[..u]);
    let mut b = to_number(&digits[u..]);
    let mut block = [0u8; 64];
    block[1] = n as u8;
    block[2] = tweak.len() as u8;
    block[3..3 + tweak.len()].copy_from_slice(tweak);
    let b_at = 3 + tweak.len();
    for round in 0..ROUNDS {
        // `a` has m digits: u in even rounds, v in odd ones.
        let m = if round % 2 == 0 { u } else { v };
        block[0] = round;
        block[b_at..b_at + 8].copy_from_slice(&b.to_le_bytes());
        let w = keyed.block_prf(domain, &block);
        // Uniform below 10^m: at most 9 digits per 64-bit word, so the
        // modulo bias stays below 10^9 / 2^64.
        let y = if m <= 9 {
            w[0] % POW10[m]
        } else {
            (w[0] % POW10[m - 9]) * POW10[9] + w[1] % POW10[9]
        };
        let mut c = a + y;
        if c >= POW10[m] {
            c -= POW10[m];
        }
        a = b;
        b = c;
    }
    // After an even number of rounds `a` has u digits again and `b` v.
    let (left, right) = digits.split_at_mut(u);
    write_number(a, left);
    write_number(b, right);
}

/// Feistel on digit vectors for long digit strings: the round function is
/// HMAC-SHA256 of the whole other half, expanded to as many digits as needed,
/// added digit-wise mod 10.
fn permute_long(keyed: &Keyed, domain: Domain, tweak: &[u8], digits: &mut [u8]) {
    let n = digits.len();
    let u = n / 2;
    let v = n - u;
    for round in 0..ROUNDS {
        let la = if round % 2 == 0 { u } else { v };
        let (a, b) = digits.split_at_mut(la);
        // Header: fixed-size fields first, so every message is unambiguous.
        let mut header = [0u8; 10];
        header[0] = round;
        header[1..9].copy_from_slice(&(n as u64).to_le_bytes());
        header[9] = tweak.len() as u8;
        let mut mac = keyed.mac(domain);
        mac.update(&header);
        mac.update(tweak);
        mac.update(b);
        mac.stream().add_digits(a);
        // [A' | B] -> [B | A']: the halves swap roles.
        digits.rotate_left(la);
    }
}

/// Parses every ASCII digit of `value`, permutes them and writes them back in
/// place, keeping every other byte. Returns the new string and the number of
/// digits. Digit counts 1 and 2 (too small for a Feistel network) use keyed
/// cyclic tables from `small_tables` when given, so they never map to themselves.
pub(crate) fn mask_digits_in_place(
    keyed: &Keyed,
    domain: Domain,
    value: &str,
    small_tables: bool,
) -> Option<String> {
    let bytes = value.as_bytes();
    let n = bytes.iter().filter(|b| b.is_ascii_digit()).count();
    if n == 0 {
        return None;
    }
    let mut stack = [0u8; STACK_DIGITS];
    let mut heap = Vec::new();
    let digits: &mut [u8] = if n <= STACK_DIGITS {
        &mut stack[..n]
    } else {
        heap.resize(n, 0);
        &mut heap
    };
    for (d, b) in digits
        .iter_mut()
        .zip(bytes.iter().filter(|b| b.is_ascii_digit()))
    {
        *d = b - b'0';
    }
    match n {
        1 if small_tables => digits[0] = keyed.digits1[digits[0] as usize],
        2 if small_tables => {
            let x = keyed.digits2[(digits[0] * 10 + digits[1]) as usize];
            digits[0] = x / 10;
            digits[1] = x % 10;
        }
        _ => permute(keyed, domain, &[], digits),
    }
    let mut out = bytes.to_vec();
    let mut next = digits.iter();
    for b in out.iter_mut().filter(|b| b.is_ascii_digit()) {
        if let Some(d) = next.next() {
            *b = b'0' + d;
        }
    }
    // Only ASCII digits were replaced by ASCII digits, so this is valid UTF-8.
    String::from_utf8(out).ok()
}
