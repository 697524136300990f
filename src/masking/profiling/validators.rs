//! Validators: is one text value an instance of a kind of personal data?
//!
//! Each function takes one value as PostgreSQL's text output of the column gives it (`col::text`)
//! and answers yes or no from its shape alone. Surrounding whitespace is ignored everywhere
//! (`char(n)` columns come padded); nothing else is cleaned up. No input makes a validator panic.
//! What a shape cannot tell apart is said at each function; [`super::classify`] decides for a
//! whole column.

use std::collections::HashSet;
use std::sync::LazyLock;

use chrono::{Months, NaiveDate};

use crate::masking::address::{DIRECTIONALS, STREET_SUFFIXES, UNIT_DESIGNATORS};

/// True when `s` has the shape `pattern`: each `d` in the pattern stands for one ASCII digit,
/// any other byte for itself.
fn has_shape(s: &str, pattern: &str) -> bool {
    s.len() == pattern.len()
        && s.bytes().zip(pattern.bytes()).all(|(c, p)| {
            if p == b'd' {
                c.is_ascii_digit()
            } else {
                c == p
            }
        })
}

/// The ASCII digits of `s`, as numbers 0-9, in order.
fn digits_of(s: &str) -> Vec<u8> {
    s.bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect()
}

/// The number written by `digits` (values 0-9; at most nine of them, so no overflow).
fn number(digits: &[u8]) -> u32 {
    digits.iter().fold(0, |n, &d| n * 10 + u32::from(d))
}

/// `s` as a number when it is `len` ASCII digits, with `len` in `lens`.
fn small_number(s: &str, lens: std::ops::RangeInclusive<usize>) -> Option<u32> {
    (lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| number(&digits_of(s)))
}

/// True when `word`, without one trailing period and in any case, is in `list` (lowercase).
fn word_in(word: &str, list: &[&str]) -> bool {
    let word = word.strip_suffix('.').unwrap_or(word).to_ascii_lowercase();
    list.contains(&word.as_str())
}

// ---------------------------------------------------------------------------------------------
// Card numbers

/// True when `digits` (ASCII digits only, at least two: a payload and its check digit) passes the
/// Luhn check: doubling every second digit from the right, the digit sum is a multiple of 10.
pub fn luhn(digits: &str) -> bool {
    if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            match i % 2 {
                0 => d,
                _ if d > 4 => d * 2 - 9,
                _ => d * 2,
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The digits of `value` when it is groups of digits separated by single spaces or by single
/// dashes (one kind of separator throughout), e.g. `4111 1111 1111 1111`.
fn grouped_digits(value: &str) -> Option<String> {
    let mut digits = String::with_capacity(value.len());
    let mut separator = None;
    let mut after_digit = false;
    for b in value.trim().bytes() {
        if b.is_ascii_digit() {
            digits.push(char::from(b));
            after_digit = true;
        } else if matches!(b, b' ' | b'-') && after_digit && *separator.get_or_insert(b) == b {
            // The first separator fixes the kind; a second one in a row is refused.
            after_digit = false;
        } else {
            return None;
        }
    }
    after_digit.then_some(digits)
}

/// True when the leading digits of `d` are a known issuer's and `d` has a length it issues:
/// Visa 4 (13, 16, 19 digits); Mastercard 51-55, 2221-2720 (16); Amex 34, 37 (15); Discover 6011,
/// 644-649, 65 (16-19); JCB 3528-3589 (16-19); Diners 300-305, 36, 38 (14-19).
fn known_issuer(d: &[u8]) -> bool {
    let prefix = |n: usize| number(&d[..n.min(d.len())]);
    let len = d.len();
    let visa = prefix(1) == 4 && matches!(len, 13 | 16 | 19);
    let mastercard =
        ((51..=55).contains(&prefix(2)) || (2221..=2720).contains(&prefix(4))) && len == 16;
    let amex = matches!(prefix(2), 34 | 37) && len == 15;
    let discover = (prefix(4) == 6011 || (644..=649).contains(&prefix(3)) || prefix(2) == 65)
        && (16..=19).contains(&len);
    let jcb = (3528..=3589).contains(&prefix(4)) && (16..=19).contains(&len);
    let diners = ((300..=305).contains(&prefix(3)) || matches!(prefix(2), 36 | 38))
        && (14..=19).contains(&len);
    visa || mastercard || amex || discover || jcb || diners
}

/// A payment card number: 13 to 19 digits, bare or in groups separated by spaces or by dashes
/// (`4111 1111 1111 1111`), with a known issuer prefix and length, passing [`luhn`].
///
/// Cannot tell apart: any other number that happens to have an issuer prefix and pass Luhn (one
/// in ten random numbers of the right prefix does), such as a 16-digit account number starting
/// with 4.
pub fn is_credit_card(value: &str) -> bool {
    let Some(digits) = grouped_digits(value) else {
        return false;
    };
    (13..=19).contains(&digits.len()) && known_issuer(&digits_of(&digits)) && luhn(&digits)
}

// ---------------------------------------------------------------------------------------------
// Social Security numbers

/// A US Social Security number: `ddd-dd-dddd`, `ddd dd dddd` or nine bare digits, in the ranges
/// the SSA issues (area not 000, 666 or 900-999; group not 00; serial not 0000), and not one of
/// the well-known void numbers 078-05-1120 (the Woolworth wallet card) and 219-09-9999 (an SSA
/// advertisement).
///
/// Cannot tell apart: any other nine-digit number in those ranges (`123456789`, an invoice or
/// member number); since randomised issuance (2011) an SSN has no further structure to check.
pub fn is_ssn(value: &str) -> bool {
    let v = value.trim();
    if !["ddd-dd-dddd", "ddd dd dddd", "ddddddddd"]
        .iter()
        .any(|shape| has_shape(v, shape))
    {
        return false;
    }
    let d = digits_of(v);
    let (area, group, serial) = (number(&d[..3]), number(&d[3..5]), number(&d[5..]));
    area != 0
        && area != 666
        && area < 900
        && group != 0
        && serial != 0
        && !matches!((area, group, serial), (78, 5, 1120) | (219, 9, 9999))
}

// ---------------------------------------------------------------------------------------------
// Email addresses

/// True for the characters RFC 5322 allows in an atom of an unquoted local part.
fn is_atext(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-".contains(&b)
}

/// A DNS label: 1-63 letters, digits or hyphens, not starting or ending with a hyphen.
fn is_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// An email address in practical RFC 5321 syntax: at most 254 characters, exactly one `@`; a
/// local part of 1-64 characters made of atoms (letters, digits and ``!#$%&'*+/=?^_`{|}~-``)
/// joined by single dots; a domain of at least two labels of 1-63 letters, digits and hyphens
/// (no hyphen first or last), the last label (the TLD) two or more letters.
///
/// Refused although RFC-valid: quoted local parts (`"john smith"@example.com`), address literals
/// (`john@[192.0.2.1]`), and internationalized addresses in UTF-8 (their punycode `xn--` domain
/// labels pass, a punycode TLD does not).
pub fn is_email(value: &str) -> bool {
    let v = value.trim();
    let Some((local, domain)) = v.split_once('@') else {
        return false;
    };
    let Some((_, tld)) = domain.rsplit_once('.') else {
        return false;
    };
    v.len() <= 254
        && (1..=64).contains(&local.len())
        && local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.bytes().all(is_atext))
        && domain.split('.').all(is_label)
        && tld.len() >= 2
        && tld.bytes().all(|b| b.is_ascii_alphabetic())
}

// ---------------------------------------------------------------------------------------------
// Telephone numbers

/// The national formats of a US number after the country code; `d` is a digit.
const PHONE_SHAPES: &[&str] = &[
    "dddddddddd",
    "ddd-ddd-dddd",
    "ddd.ddd.dddd",
    "ddd ddd dddd",
    "(ddd) ddd-dddd",
    "(ddd)ddd-dddd",
    "(ddd) ddd dddd",
    "(ddd) ddd.dddd",
];

/// Extension markers, longest first (compared in lowercase).
const EXTENSION_MARKERS: &[&str] = &["extension", "ext.", "ext", "x"];

/// True for an extension as written after a number: a [marker](EXTENSION_MARKERS), an optional
/// space, then 1-6 digits (`x123`, `ext. 123`).
fn is_extension(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    EXTENSION_MARKERS.iter().any(|marker| {
        lower.strip_prefix(marker).is_some_and(|rest| {
            let rest = rest.strip_prefix(' ').unwrap_or(rest);
            small_number(rest, 1..=6).is_some()
        })
    })
}

/// `number` without its country code (`+1` or `1`, then an optional space, dash or dot); None
/// for a number with another country code.
fn national_part(number: &str) -> Option<&str> {
    let Some(rest) = number
        .strip_prefix("+1")
        .or_else(|| number.strip_prefix('1'))
    else {
        return (!number.starts_with('+')).then_some(number);
    };
    Some(rest.strip_prefix([' ', '-', '.']).unwrap_or(rest))
}

/// A US (NANP) telephone number: an optional country code `+1` or `1`, ten digits in a usual
/// format (`(212) 555-0123`, `212-555-0123`, `212.555.0123`, `212 555 0123`, `2125550123`), and
/// an optional extension (`x123`, `ext. 123`). The area code and the exchange start with 2-9 and
/// are not N11 service codes (211-911); area codes N9X, reserved for expansion, are refused.
///
/// Cannot tell apart: any ten-digit number obeying those rules (`2125550123` may be an account
/// number); fictional 555-01XX numbers pass.
pub fn is_us_phone(value: &str) -> bool {
    let v = value.trim();
    // A phone number has no letters: the first one starts the extension.
    let (number, extension) = match v.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (v[..i].trim_end(), Some(&v[i..])),
        None => (v, None),
    };
    if extension.is_some_and(|e| !is_extension(e)) {
        return false;
    }
    let Some(national) = national_part(number) else {
        return false;
    };
    if !PHONE_SHAPES.iter().any(|shape| has_shape(national, shape)) {
        return false;
    }
    let d = digits_of(national);
    let n11 = |code: &[u8]| code[1] == 1 && code[2] == 1;
    (2..=9).contains(&d[0])
        && d[1] != 9
        && !n11(&d[..3])
        && (2..=9).contains(&d[3])
        && !n11(&d[3..6])
}

// ---------------------------------------------------------------------------------------------
// Person names

/// The names of a shipped list, lowercased.
fn name_set(names: &[&str]) -> HashSet<String> {
    names.iter().map(|n| n.to_lowercase()).collect()
}

/// The US Census first names shipped with the first-name lookup algorithm, lowercased.
static FIRST_NAMES: LazyLock<HashSet<String>> =
    LazyLock::new(|| name_set(crate::masking::algorithms::first_names()));
/// The US Census last names shipped with the last-name lookup algorithm, lowercased.
static LAST_NAMES: LazyLock<HashSet<String>> =
    LazyLock::new(|| name_set(crate::masking::algorithms::last_names()));

/// True when the word, in any case, is in `names`. PostgreSQL's spellings of booleans, `true`
/// and `false`, are refused: True is a census surname, but a boolean column is no name column.
fn in_list(names: &HashSet<String>, word: &str) -> bool {
    !matches!(word, "true" | "false") && names.contains(&word.to_lowercase())
}

/// A first name: one word of the shipped first-name list, in any case (`Mary`, `MARY`, `mary`).
///
/// Cannot tell apart: words that are also names (a first name used as a product or place name).
pub fn is_first_name(value: &str) -> bool {
    in_list(&FIRST_NAMES, value.trim())
}

/// A last name: one word of the shipped last-name list, in any case.
///
/// Cannot tell apart: common words that are census surnames, such as colours (Brown, Green,
/// Gray, White, Black), sizes (Small, Large) or `New`; a column of colour names reads as last
/// names. Compound surnames (`Smith-Jones`, `de la Cruz`) are not in the list and do not pass.
pub fn is_last_name(value: &str) -> bool {
    in_list(&LAST_NAMES, value.trim())
}

/// True for a middle name or initial: letters, with periods, hyphens and apostrophes
/// (`Q.`, `Mary-Ann`).
fn is_middle_name(word: &str) -> bool {
    word.chars().any(char::is_alphabetic)
        && word
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, '.' | '-' | '\''))
}

/// A full name: two or three whitespace-separated words, the first a [first name](is_first_name)
/// and the last a [last name](is_last_name); a middle word is any name or initial
/// (`John Q. Smith`).
///
/// Not recognised: `Last, First` order, titles and suffixes (`Dr.`, `Jr.`), and names whose
/// last word is not in the list (`John Q. Public`).
pub fn is_full_name(value: &str) -> bool {
    let words: Vec<&str> = value.split_whitespace().collect();
    let (first, last) = match words.as_slice() {
        [first, last] => (first, last),
        [first, middle, last] if is_middle_name(middle) => (first, last),
        _ => return false,
    };
    in_list(&FIRST_NAMES, first) && in_list(&LAST_NAMES, last)
}

// ---------------------------------------------------------------------------------------------
// Dates of birth

/// Ages, in years, a date of birth may give: older ones are not living people, younger ones are
/// rarely customers; the lower bound also keeps recent dates (orders, events) out.
const AGE_YEARS: std::ops::RangeInclusive<u32> = 10..=120;

/// True for the time PostgreSQL prints after the date of a timestamp: ` HH:MM:SS`, optional
/// fractional seconds, an optional zone offset (`+00`, `-05:30`, `+05:53:28`); `T` in place of
/// the space and `Z` as the zone (ISO 8601 text) are accepted too.
fn is_time_suffix(rest: &str) -> bool {
    let Some(time) = rest.strip_prefix([' ', 'T']) else {
        return false;
    };
    let Some(hms) = time.get(..8).filter(|hms| has_shape(hms, "dd:dd:dd")) else {
        return false;
    };
    let d = digits_of(hms);
    if number(&d[..2]) > 24 || number(&d[2..4]) > 59 || number(&d[4..]) > 60 {
        return false;
    }
    let mut zone = &time[8..];
    if let Some(fraction) = zone.strip_prefix('.') {
        let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        zone = &fraction[n..];
    }
    match zone.strip_prefix(['+', '-']) {
        Some(offset) => ["dd", "dd:dd", "dd:dd:dd"]
            .iter()
            .any(|shape| has_shape(offset, shape)),
        None => zone.is_empty() || zone == "Z",
    }
}

/// The date written `YYYY/MM/DD` or `MM/DD/YYYY` (month and day of one or two digits).
fn parse_slashed(s: &str) -> Option<NaiveDate> {
    let mut parts = s.split('/');
    let (a, b, c) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let (year, month, day) = if a.len() == 4 { (a, b, c) } else { (c, a, b) };
    NaiveDate::from_ymd_opt(
        i32::try_from(small_number(year, 4..=4)?).ok()?,
        small_number(month, 1..=2)?,
        small_number(day, 1..=2)?,
    )
}

/// The date of `s`: `YYYY-MM-DD` (PostgreSQL's `date` output), optionally followed by a
/// [time](is_time_suffix) (its `timestamp` and `timestamptz` output), or
/// [`YYYY/MM/DD` or `MM/DD/YYYY`](parse_slashed).
fn parse_date(s: &str) -> Option<NaiveDate> {
    let Some(iso) = s.get(..10).filter(|d| has_shape(d, "dddd-dd-dd")) else {
        return parse_slashed(s);
    };
    let rest = &s[10..];
    if !rest.is_empty() && !is_time_suffix(rest) {
        return None;
    }
    let d = digits_of(iso);
    NaiveDate::from_ymd_opt(
        i32::try_from(number(&d[..4])).ok()?,
        number(&d[4..6]),
        number(&d[6..]),
    )
}

/// A date of birth: a date at least 10 and at most 120 years before `today`, both ends included,
/// written `YYYY-MM-DD` (PostgreSQL's `date` output), optionally followed by a time as
/// PostgreSQL prints a `timestamp` or `timestamptz` (` 08:30:00.5+02`; ignored), or
/// `YYYY/MM/DD` or `MM/DD/YYYY` (month and day of one or two digits).
///
/// Cannot tell apart: any other date in that range (a contract signed fifteen years ago, a
/// product's release date). `DD/MM/YYYY` dates are read as `MM/DD/YYYY` (and refused when the
/// day is above 12).
pub fn is_birth_date(value: &str, today: NaiveDate) -> bool {
    let years = |n: u32| today.checked_sub_months(Months::new(n * 12));
    let (Some(oldest), Some(youngest)) = (years(*AGE_YEARS.end()), years(*AGE_YEARS.start()))
    else {
        return false;
    };
    parse_date(value.trim()).is_some_and(|d| (oldest..=youngest).contains(&d))
}

// ---------------------------------------------------------------------------------------------
// IPv4 addresses

/// A decimal octet: 0-255, without leading zeros (`0` itself excepted).
fn is_octet(s: &str) -> bool {
    small_number(s, 1..=3).is_some_and(|n| n <= 255 && (s == "0" || !s.starts_with('0')))
}

/// An IPv4 address in dotted-decimal form (`192.168.0.1`) and nothing else: four octets 0-255
/// without leading zeros. A network with its prefix length (`10.0.0.0/8`, as PostgreSQL prints
/// an `inet` that is not a single host) does not pass.
///
/// Cannot tell apart: version numbers or other dotted quads within 0-255 (`1.2.3.4`).
pub fn is_ipv4(value: &str) -> bool {
    let octets: Vec<&str> = value.trim().split('.').collect();
    octets.len() == 4 && octets.iter().all(|o| is_octet(o))
}

// ---------------------------------------------------------------------------------------------
// Street addresses

/// A house number: 1-6 digits, optionally followed by one letter (`221B`).
fn is_house_number(token: &str) -> bool {
    let digits = token
        .strip_suffix(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(token);
    small_number(digits, 1..=6).is_some()
}

/// A word of a street name: letters and digits (`4th`), with periods, apostrophes, hyphens and
/// ampersands; at least one letter.
fn is_street_word(word: &str) -> bool {
    word.chars().any(char::is_alphabetic)
        && word
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '\'' | '-' | '&'))
}

/// A unit identifier: 1-6 letters, digits or hyphens, starting with a letter or digit (`4B`,
/// `200`, `3-A`), after an optional `#`.
fn is_unit_id(id: &str) -> bool {
    let id = id.strip_prefix('#').unwrap_or(id);
    (1..=6).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !id.starts_with('-')
}

/// A secondary unit, as words: `#12`, or a [designator](UNIT_DESIGNATORS) (optionally with a
/// period) and an [identifier](is_unit_id): `Apt 4B`, `Suite 200`, `# 12`.
fn is_unit(words: &[&str]) -> bool {
    match words {
        [one] => one.starts_with('#') && is_unit_id(one),
        [designator, id] => word_in(designator, UNIT_DESIGNATORS) && is_unit_id(id),
        _ => false,
    }
}

/// Most words a street name may have: enough for `Martin Luther King Jr`, few enough to keep
/// most sentences out.
const MAX_STREET_NAME_WORDS: usize = 5;

/// A US street address line: a house number (1-6 digits, optionally one letter), a street name
/// of 1-5 words, a common USPS street suffix (`Street`, `St`, `Ave`, `Blvd`, `Ln`, `Way`, ...;
/// any case, optional period), an optional direction (`NW`), and an optional unit (`Apt 4B`,
/// `Suite 200`, `#12`), after a comma or not: `221B Baker Street`, `12 Elm Ct, Apt. 4B`,
/// `500 Market St Suite 200`, `77 Ocean Dr #12`.
///
/// Not recognised: addresses without a suffix (`500 Broadway`), numbered routes
/// (`Highway 101`), PO boxes, and lines with a city, state or ZIP code after the street.
/// Cannot tell apart: a sentence of the same shape (`2 cars parked on the street`).
pub fn is_street_address(value: &str) -> bool {
    let (street, unit) = match value.trim().split_once(',') {
        Some((street, unit)) => (street, Some(unit)),
        None => (value.trim(), None),
    };
    let mut words: Vec<&str> = street.split_whitespace().collect();
    match unit {
        Some(unit) => {
            if !is_unit(&unit.split_whitespace().collect::<Vec<_>>()) {
                return false;
            }
        }
        None => {
            let n = words.len();
            if n >= 2 && is_unit(&words[n - 2..]) {
                words.truncate(n - 2);
            } else if n >= 1 && is_unit(&words[n - 1..]) {
                words.truncate(n - 1);
            }
        }
    }
    let [house_number, rest @ ..] = words.as_slice() else {
        return false;
    };
    let rest = match rest {
        [init @ .., suffix, direction]
            if word_in(direction, DIRECTIONALS) && word_in(suffix, STREET_SUFFIXES) =>
        {
            &rest[..init.len() + 1]
        }
        _ => rest,
    };
    let [name @ .., suffix] = rest else {
        return false;
    };
    is_house_number(house_number)
        && word_in(suffix, STREET_SUFFIXES)
        && (1..=MAX_STREET_NAME_WORDS).contains(&name.len())
        && name.iter().all(|w| is_street_word(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixed "today" of the tests.
    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, 15).expect("a valid date")
    }

    /// Values of other kinds that a profiler meets in every database.
    const DECOYS: &[&str] = &[
        "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        "SKU-88213-BLK",
        "1234.50",
        "Deluxe Widget",
        "please call back tomorrow",
        "true",
        "false",
        "2024-11-02",
        "2025-05-20 14:03:11.52+00",
        "",
        "   ",
    ];

    fn assert_all(f: impl Fn(&str) -> bool, values: &[&str], expected: bool) {
        for v in values {
            assert_eq!(f(v), expected, "{v:?}");
        }
    }

    #[test]
    fn shapes() {
        assert!(has_shape("123-45", "ddd-dd"));
        assert!(!has_shape("123-4a", "ddd-dd"));
        assert!(!has_shape("123-456", "ddd-dd"));
        assert!(!has_shape("123 45", "ddd-dd"));
    }

    #[test]
    fn luhn_checks_the_check_digit() {
        assert_all(
            luhn,
            &["4111111111111111", "79927398713", "1234567812345670", "18"],
            true,
        );
        assert_all(
            luhn,
            &[
                "4111111111111112",
                "79927398710",
                "",
                "0",
                "4111 1111",
                "41a1",
                "١٢",
            ],
            false,
        );
    }

    #[test]
    fn cards_of_every_issuer_pass() {
        assert_all(
            is_credit_card,
            &[
                "4111111111111111",    // Visa 16
                "4222222222222",       // Visa 13
                "5555555555554444",    // Mastercard 55
                "5105105105105100",    // Mastercard 51
                "2223003122003222",    // Mastercard 2-series
                "378282246310005",     // Amex 37
                "371449635398431",     // Amex 37
                "6011111111111117",    // Discover 6011
                "6445644564456445",    // Discover 644
                "6500000000000002",    // Discover 65
                "3530111333300000",    // JCB
                "3566002020360505",    // JCB
                "30569309025904",      // Diners 305
                "36227206271667",      // Diners 36
                "38520000023237",      // Diners 38
                "4111 1111 1111 1111", // grouped
                "4111-1111-1111-1111",
                "3782 822463 10005",
                "  4111111111111111  ",
            ],
            true,
        );
    }

    #[test]
    fn non_cards_fail() {
        assert_all(
            is_credit_card,
            &[
                "4111111111111112",     // Luhn fails
                "4000000000000042",     // a 16-digit order number failing Luhn
                "1234567812345670",     // Luhn passes, no issuer starts with 1
                "3782822463100050",     // Amex prefix, 16 digits
                "555555555555444",      // Mastercard prefix, 15 digits
                "411111111111",         // 12 digits
                "41111111111111111111", // 20 digits
                "4111  1111 1111 1111", // doubled separator
                "4111-1111 1111-1111",  // mixed separators
                "-4111111111111111",
                "4111111111111111-",
                "4111.1111.1111.1111",
            ],
            false,
        );
        assert_all(is_credit_card, DECOYS, false);
    }

    #[test]
    fn ssns_in_issued_ranges_pass() {
        assert_all(
            is_ssn,
            &[
                "123-45-6789",
                "123 45 6789",
                "123456789",
                "001-01-0001",
                "665-99-9999",
                "899-12-3456",
                " 536-22-1234 ",
            ],
            true,
        );
    }

    #[test]
    fn ssns_outside_issued_ranges_or_shapes_fail() {
        assert_all(
            is_ssn,
            &[
                "000-12-3456",
                "666-12-3456",
                "900-12-3456",
                "999-99-9999",
                "123-00-4567",
                "123-45-0000",
                "078-05-1120",
                "078051120",
                "219-09-9999",
                "100000001", // group 00: sequential invoice numbers from 100000001 are refused
                "123-45 6789",
                "123-456-789",
                "12-345-6789",
                "1234567890",
                "12345678",
                "12345678a",
                "１２３-４５-６７８９",
            ],
            false,
        );
        assert_all(is_ssn, DECOYS, false);
    }

    #[test]
    fn emails_pass() {
        assert_all(
            is_email,
            &[
                "john.smith@example.com",
                "o'brien+tag@mail.example.co.uk",
                "a@b.io",
                "user_name-1@sub-domain.example.org",
                "x!#$%&'*+/=?^_`{|}~-@example.com",
                "JOHN@EXAMPLE.COM",
                "  padded@example.com  ",
                "info@xn--bcher-kva.example",
            ],
            true,
        );
    }

    #[test]
    fn non_emails_fail() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_label = format!("john@{}.com", "a".repeat(64));
        let long_total = format!("john@{}.com", vec!["a".repeat(60); 5].join("."));
        for v in [
            "john@@example.com",
            "john@doe@example.com",
            "john@example",
            ".john@example.com",
            "john.@example.com",
            "jo..hn@example.com",
            "john@-example.com",
            "john@example-.com",
            "john@example..com",
            "john@.example.com",
            "john@example.com.",
            "john@example.c",
            "john@example.c0m",
            "john@exam_ple.com",
            "john smith@example.com",
            "\"john smith\"@example.com",
            "john@[192.0.2.1]",
            "jöhn@example.com",
            "@example.com",
            "john@",
            "john.example.com",
            &long_local,
            &long_label,
            &long_total,
        ] {
            assert!(!is_email(v), "{v:?}");
        }
        assert!(long_total.len() > 254);
        assert_all(is_email, DECOYS, false);
    }

    #[test]
    fn us_phone_numbers_pass() {
        assert_all(
            is_us_phone,
            &[
                "(212) 555-0123",
                "(212)555-0123",
                "(212) 555 0123",
                "212-555-0123",
                "212.555.0123",
                "212 555 0123",
                "2125550123",
                "+1 212 555 0123",
                "+1-212-555-0123",
                "+12125550123",
                "1-212-555-0123",
                "1 (212) 555-0123",
                "12125550123",
                "212-555-0123 x123",
                "212-555-0123x123",
                "212-555-0123 ext. 123",
                "212-555-0123 EXT 9",
                "+1 (415) 555-2671 extension 12",
                " 415-555-2671 ",
            ],
            true,
        );
    }

    #[test]
    fn non_phone_numbers_fail() {
        assert_all(
            is_us_phone,
            &[
                "1000000042", // a sequential invoice number: a 1, then only nine digits
                "1000000001",
                "1234567890",
                "0212555012",
                "112-555-0123", // area code starts with 1
                "012-555-0123",
                "911-555-0123", // N11
                "411-555-0123",
                "296-555-0123", // N9X
                "212-155-0123", // exchange starts with 1
                "212-055-0123",
                "212-911-0123", // N11 exchange
                "212-555-012",
                "212-555-01234",
                "212-555.0123", // mixed separators
                "212--555-0123",
                "(212 555-0123",
                "+44 20 7946 0958",
                "+2 212 555 0123",
                "2-212-555-0123",
                "212-555-0123 x",
                "212-555-0123 x1234567",
                "212-555-0123 ext. 12a",
                "212-555-0123 call me",
                "123456789",
                "4111111111111111",
            ],
            false,
        );
        assert_all(is_us_phone, DECOYS, false);
    }

    #[test]
    fn names_from_the_lists_pass_in_any_case() {
        assert_all(
            is_first_name,
            &["Mary", "MARY", "mary", " John ", "Callie"],
            true,
        );
        assert_all(
            is_last_name,
            &["Smith", "SMITH", "garcia ", "True", "TRUE"],
            true,
        );
        assert_all(
            is_full_name,
            &[
                "John Smith",
                "MARY JOHNSON",
                "mary   johnson",
                "John Q. Smith",
                "Mary Ann Garcia",
                "John Paul-Henri Smith",
                " Robert  Brown ",
            ],
            true,
        );
    }

    #[test]
    fn other_words_are_not_names() {
        assert_all(
            is_first_name,
            &["Smithx", "John Smith", "J0hn", "Widget"],
            false,
        );
        assert_all(
            is_last_name,
            &["Smith-Jones", "John Smith", "Widget"],
            false,
        );
        assert_all(
            is_full_name,
            &[
                "John",
                "Smith John Q",            // last word not a last name
                "Widget Smith",            // first word not a first name
                "John Quincy Adams Smith", // four words
                "John 42 Smith",           // middle word not a name
                "Smith, John",
            ],
            false,
        );
        for f in [is_first_name, is_last_name, is_full_name] {
            assert_all(f, DECOYS, false);
        }
    }

    #[test]
    fn birth_dates_pass() {
        let today = today();
        for v in [
            "1985-03-14",
            "1985-03-14 00:00:00",
            "1985-03-14 08:30:00.123456",
            "1985-03-14 00:00:00+00",
            "1985-03-14 00:00:00-05:30",
            "1940-12-01 00:00:00+05:53:28",
            "1985-03-14T08:30:00Z",
            "03/14/1985",
            "3/4/1985",
            "1985/03/14",
            "1985/3/4",
            "1905-06-15", // exactly 120 years
            "2015-06-15", // exactly 10 years
        ] {
            assert!(is_birth_date(v, today), "{v:?}");
        }
    }

    #[test]
    fn recent_old_and_malformed_dates_fail() {
        let today = today();
        for v in [
            "1905-06-14",                // over 120 years
            "2015-06-16",                // under 10 years
            "2024-11-02",                // a recent order date
            "2025-05-20 14:03:11.52+00", // a timestamp from last month
            "2025-06-15",
            "2030-01-01",
            "1985-13-01",
            "1985-02-30",
            "1985-3-14",
            "19850314",
            "14/03/1985", // day-first: month 14
            "1985-03-14 25:00:00",
            "1985-03-14 08:30",
            "1985-03-14 08:30:00.",
            "1985-03-14 08:30:00+5",
            "1985-03-14 08:30:00 BC",
            "1985-03-14x",
            "03/14/85",
            "03/14/1985/1",
            "1985-03-1é",
            "March 14, 1985",
        ] {
            assert!(!is_birth_date(v, today), "{v:?}");
        }
        for v in DECOYS {
            assert!(!is_birth_date(v, today), "{v:?}");
        }
    }

    #[test]
    fn ipv4_addresses_pass() {
        assert_all(
            is_ipv4,
            &[
                "192.168.0.1",
                "0.0.0.0",
                "255.255.255.255",
                "10.0.0.10",
                " 8.8.8.8 ",
            ],
            true,
        );
    }

    #[test]
    fn non_ipv4_addresses_fail() {
        assert_all(
            is_ipv4,
            &[
                "256.1.1.1",
                "01.2.3.4",
                "1.2.3.00",
                "1.2.3",
                "1.2.3.4.5",
                "1.2.3.4/24",
                "1.2.3.",
                "1..2.3",
                "a.b.c.d",
                "1.2.3.-4",
                "+1.2.3.4",
                "1.2.3.4 5",
                "1234.50",
                "::1",
            ],
            false,
        );
        assert_all(is_ipv4, DECOYS, false);
    }

    #[test]
    fn street_addresses_pass() {
        assert_all(
            is_street_address,
            &[
                "123 Main St",
                "123 Main St.",
                "123 main street",
                "350 FIFTH AVENUE",
                "4500 Pennsylvania Avenue",
                "221B Baker Street",
                "1600 Martin Luther King Jr Blvd",
                "1 N 4th St",
                "10 Downing Street NW",
                "742 Evergreen Terrace",
                "1 Infinite Loop",
                "12 Elm Ct Apt 4B",
                "12 Elm Ct, Apt. 4B",
                "500 Market St Suite 200",
                "500 Market St, Ste 200",
                "77 Ocean Dr #12",
                "77 Ocean Dr # 12",
                "77 Ocean Dr Apt #12",
                "9 O'Connell Rd Unit 3-A",
            ],
            true,
        );
    }

    #[test]
    fn non_addresses_fail() {
        assert_all(
            is_street_address,
            &[
                "Main Street", // no house number
                "123 Main",    // no suffix
                "500 Broadway",
                "123 St",          // no street name
                "1234567 Main St", // house number too long
                "12AB Main St",
                "123 Main St Apt",          // unit without identifier
                "123 Main St, Springfield", // city after the street
                "123 Main St, Apt 4, Springfield",
                "12 Main St Apt 4B Apt 5",
                "123 Main St Apt 1234567",
                "3 friends went down the long winding lane", // too many name words
                "Highway 101",
                "SKU 88213 BLK",
                "Deluxe Widget Pro Way",
            ],
            false,
        );
        assert_all(is_street_address, DECOYS, false);
    }

    #[test]
    fn sentences_shaped_like_addresses_pass() {
        // What the validator cannot tell apart: a number, a few words and a suffix word.
        assert!(is_street_address("2 cars parked on the street"));
    }
}
