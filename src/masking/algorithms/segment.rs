//! Segment (format-preserving digit) algorithms: phone numbers, digit strings,
//! SSNs and payment card numbers.
//!
//! Only the digits are permuted (keyed by the digit count, never by the
//! punctuation), so "555-123-4567" and "(555) 1234567" mask to the same
//! digits in their own layouts, and distinct numbers stay distinct.

use super::NonConformant;
use super::fpe;
use super::prf::{Domain, Keyed};

/// Fewest digits a phone number may have.
pub(crate) const PHONE_MIN_DIGITS: usize = 7;

pub(crate) fn phone(keyed: &Keyed, value: &str) -> Result<String, NonConformant> {
    let n = value.bytes().filter(u8::is_ascii_digit).count();
    if n < PHONE_MIN_DIGITS {
        return Err(NonConformant::new(format!(
            "a phone number needs at least {PHONE_MIN_DIGITS} digits, this value has {n}"
        )));
    }
    fpe::mask_digits_in_place(keyed, Domain::Phone, value, false)
        .ok_or_else(|| NonConformant::new("the phone number could not be masked"))
}

pub(crate) fn digits(keyed: &Keyed, value: &str) -> Result<String, NonConformant> {
    fpe::mask_digits_in_place(keyed, Domain::Digits, value, true)
        .ok_or_else(|| NonConformant::new("the value contains no digits to mask"))
}

/// Parses `123-45-6789`, `123 45 6789` or `123456789`.
fn parse_ssn(value: &str) -> Option<([u8; 9], Option<u8>)> {
    let b = value.as_bytes();
    let (positions, sep): (&[usize], Option<u8>) = match b.len() {
        9 => (&[0, 1, 2, 3, 4, 5, 6, 7, 8], None),
        11 => {
            let sep = b[3];
            if (sep != b'-' && sep != b' ') || b[6] != sep {
                return None;
            }
            (&[0, 1, 2, 4, 5, 7, 8, 9, 10], Some(sep))
        }
        _ => return None,
    };
    let mut digits = [0u8; 9];
    for (d, &p) in digits.iter_mut().zip(positions) {
        if !b[p].is_ascii_digit() {
            return None;
        }
        *d = b[p] - b'0';
    }
    Some((digits, sep))
}

fn num(digits: &[u8]) -> u32 {
    digits.iter().fold(0, |acc, &d| acc * 10 + d as u32)
}

/// Area 001-899 except 666, group 01-99, serial 0001-9999.
pub(crate) fn ssn_is_valid(d: &[u8; 9]) -> bool {
    let area = num(&d[..3]);
    let group = num(&d[3..5]);
    let serial = num(&d[5..]);
    (1..=899).contains(&area) && area != 666 && group != 0 && serial != 0
}

/// Cycle-walking gives up after this many steps (never reached in practice:
/// 89% of 9-digit strings are valid SSNs).
const SSN_MAX_WALK: usize = 1000;

pub(crate) fn ssn(keyed: &Keyed, value: &str) -> Result<String, NonConformant> {
    let (input, sep) = parse_ssn(value).ok_or_else(|| {
        NonConformant::new(
            "not a social security number of the form 123-45-6789, 123 45 6789 or 123456789",
        )
    })?;
    // Cycle-walk the 9-digit permutation until a valid SSN comes up: a
    // bijection on valid SSNs (invalid inputs such as 9xx areas still get a
    // valid output).
    let mut d = input;
    let mut found = false;
    for _ in 0..SSN_MAX_WALK {
        fpe::permute(keyed, Domain::Ssn, &[], &mut d);
        if ssn_is_valid(&d) {
            found = true;
            break;
        }
    }
    if !found {
        let mut stream = keyed.stream(Domain::SsnFallback, &input);
        let mut area = 1 + stream.below(898) as u32; // 898 areas: 001-899 minus 666
        if area >= 666 {
            area += 1;
        }
        let group = 1 + stream.below(99) as u32;
        let serial = 1 + stream.below(9999) as u32;
        let text = format!("{area:03}{group:02}{serial:04}");
        for (x, b) in d.iter_mut().zip(text.bytes()) {
            *x = b - b'0';
        }
    }
    let mut out = String::with_capacity(11);
    for (i, &x) in d.iter().enumerate() {
        if let Some(s) = sep
            && (i == 3 || i == 5)
        {
            out.push(s as char);
        }
        out.push((b'0' + x) as char);
    }
    Ok(out)
}

/// Luhn check digit for `payload` (the card number without its last digit).
pub(crate) fn luhn_check_digit(payload: &[u8]) -> u8 {
    let sum: u32 = payload
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = d as u32;
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// Digits kept at the start of a card number (the issuer identification number).
pub(crate) const CARD_KEPT_PREFIX: usize = 6;

pub(crate) fn credit_card(keyed: &Keyed, value: &str) -> Result<String, NonConformant> {
    let b = value.as_bytes();
    let shape_ok = !b.is_empty()
        && b.iter()
            .all(|&c| c.is_ascii_digit() || c == b' ' || c == b'-')
        && b[0].is_ascii_digit()
        && b[b.len() - 1].is_ascii_digit()
        && !b
            .windows(2)
            .any(|w| !w[0].is_ascii_digit() && !w[1].is_ascii_digit());
    if !shape_ok {
        return Err(NonConformant::new(
            "not a card number: only digits separated by single spaces or dashes are allowed",
        ));
    }
    let mut digits = [0u8; 19];
    let mut n = 0;
    for &c in b {
        if c.is_ascii_digit() {
            if n == digits.len() {
                n += 1;
                break;
            }
            digits[n] = c - b'0';
            n += 1;
        }
    }
    if !(12..=19).contains(&n) {
        return Err(NonConformant::new(
            "a card number must have between 12 and 19 digits",
        ));
    }
    let digits = &mut digits[..n];
    let mut tweak = [0u8; CARD_KEPT_PREFIX];
    tweak.copy_from_slice(&digits[..CARD_KEPT_PREFIX]);
    fpe::permute(
        keyed,
        Domain::CardMiddle,
        &tweak,
        &mut digits[CARD_KEPT_PREFIX..n - 1],
    );
    digits[n - 1] = luhn_check_digit(&digits[..n - 1]);
    let mut out = b.to_vec();
    let mut next = digits.iter();
    for c in out.iter_mut().filter(|c| c.is_ascii_digit()) {
        if let Some(d) = next.next() {
            *c = b'0' + d;
        }
    }
    String::from_utf8(out).map_err(|_| NonConformant::new("the card number could not be masked"))
}
