//! Every built-in masking algorithm on arbitrary input: it never panics, it is
//! deterministic for a key, and an accepted value is masked the way the
//! algorithm's description (and src/masking/algorithms/tests.rs) says.
//!
//! Input bytes: [algorithm index, key length, key bytes.., value bytes..]; the
//! value is taken as UTF-8, lossily, since values arrive as PostgreSQL text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maskd::masking::algorithms::{Algorithm, DATE_SHIFT_MAX_DAYS, MaskingKey};

fuzz_target!(|data: &[u8]| {
    let [alg, key_len, rest @ ..] = data else {
        return;
    };
    let alg = Algorithm::ALL[*alg as usize % Algorithm::ALL.len()];
    let (secret, value) = rest.split_at((*key_len as usize).min(rest.len()));
    let input = String::from_utf8_lossy(value);
    let key = MaskingKey::new(secret);

    let out = alg.mask(&key, Some(&input));
    // Same key, even rebuilt from the same secret, gives the same answer.
    assert_eq!(alg.mask(&key, Some(&input)), out, "{alg} not deterministic");
    assert_eq!(
        alg.mask(&MaskingKey::new(secret), Some(&input)),
        out,
        "{alg} differs under a rebuilt key"
    );
    assert_eq!(alg.mask(&key, None), Ok(None), "{alg}: NULL must stay NULL");

    match out {
        Ok(None) => assert_eq!(alg, Algorithm::NullValueLookup, "{alg} returned NULL"),
        Ok(Some(out)) => {
            assert_ne!(alg, Algorithm::NullValueLookup);
            check_output(alg, &input, &out);
        }
        Err(e) => {
            assert!(!e.reason.is_empty(), "{alg}: empty reason");
            assert!(
                alg != Algorithm::RedactText && alg != Algorithm::NullValueLookup,
                "{alg} refused a value"
            );
        }
    }
});

fn digits_of(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// Non-digit characters with their positions (segment algorithms keep them).
fn skeleton(s: &str) -> Vec<(usize, char)> {
    s.chars()
        .enumerate()
        .filter(|(_, c)| !c.is_ascii_digit())
        .collect()
}

fn luhn_ok(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = u32::from(c - b'0');
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn ymd(s: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(&s[..10], "%Y-%m-%d").expect("YYYY-MM-DD")
}

/// The rules of tests.rs' `check_output` that hold for any accepted value
/// (the name lists of the lookups are private, so their entries are not checked).
fn check_output(alg: Algorithm, input: &str, out: &str) {
    match alg {
        Algorithm::PhoneNumberSegment | Algorithm::DigitsSegment => {
            assert_eq!(out.len(), input.len());
            assert_eq!(skeleton(out), skeleton(input));
        }
        Algorithm::SsnSegment => {
            assert_eq!(out.len(), input.len());
            assert_eq!(skeleton(out), skeleton(input));
            let d = digits_of(out);
            assert_eq!(d.len(), 9, "{out:?}");
            let area: u32 = d[..3].parse().unwrap();
            let group: u32 = d[3..5].parse().unwrap();
            let serial: u32 = d[5..].parse().unwrap();
            assert!((1..=899).contains(&area) && area != 666, "area {area}");
            assert!((1..=99).contains(&group), "group {group}");
            assert!((1..=9999).contains(&serial), "serial {serial}");
        }
        Algorithm::CreditCardSegment => {
            assert_eq!(out.len(), input.len());
            assert_eq!(skeleton(out), skeleton(input));
            let (d_in, d_out) = (digits_of(input), digits_of(out));
            assert!((12..=19).contains(&d_out.len()), "{out:?}");
            assert_eq!(d_out[..6], d_in[..6], "issuer prefix changed");
            assert!(luhn_ok(&d_out), "{out:?} fails Luhn");
        }
        Algorithm::DateShiftVariable => {
            assert_eq!(out[10..], input[10..], "time part changed");
            let shift = (ymd(out) - ymd(input)).num_days();
            assert!(
                shift != 0 && shift.abs() <= DATE_SHIFT_MAX_DAYS,
                "shift {shift}"
            );
        }
        Algorithm::RedactText => {
            assert_eq!(out.chars().count(), input.chars().count());
            for (a, b) in input.chars().zip(out.chars()) {
                let want = if a.is_alphabetic() {
                    'X'
                } else if a.is_numeric() {
                    '0'
                } else {
                    a
                };
                assert_eq!(b, want);
            }
        }
        Algorithm::NumberMinMax => {
            assert_eq!(out.starts_with('-'), input.starts_with('-'), "sign changed");
            let frac = |s: &str| s.split_once('.').map(|(_, f)| f.len());
            assert_eq!(frac(out), frac(input), "decimal places changed");
            let mantissa = |s: &str| -> u128 { digits_of(s).parse().unwrap() };
            let (m_in, m_out) = (mantissa(input), mantissa(out));
            if m_in == 0 {
                assert_eq!(out, input, "zero must stay zero");
            } else {
                assert_ne!(m_out, m_in, "number unchanged");
                assert!(m_in == 1 || (2 * m_out >= m_in && 2 * m_out <= 3 * m_in));
                assert_eq!(m_out.to_string().len(), m_in.to_string().len());
            }
        }
        Algorithm::EmailLookup => {
            // The surrounding spaces and the domain are kept as written.
            let lead = |s: &str| s.len() - s.trim_start().len();
            assert_eq!(lead(out), lead(input), "leading spaces changed");
            let (local, domain) = out.trim().split_once('@').expect("an @");
            let (_, in_domain) = input.trim().split_once('@').expect("input had an @");
            assert_eq!(domain, in_domain, "domain changed");
            assert!(!local.is_empty() && local.len() <= 64);
            assert!(local.chars().all(|c| c.is_ascii_alphanumeric() || c == '.'));
            assert!(!local.starts_with('.') && !local.ends_with('.') && !local.contains(".."));
        }
        Algorithm::FirstNameLookup | Algorithm::LastNameLookup => {
            assert!(
                !out.is_empty() && out.chars().all(|c| c.is_ascii_alphabetic()),
                "{out:?}"
            );
        }
        Algorithm::FullNameLookup => {
            let (first, last) = out.split_once(' ').expect("two words");
            assert!(!first.is_empty() && !last.is_empty(), "{out:?}");
        }
        Algorithm::StreetAddressLookup => {
            let out = out.trim();
            assert!(out.starts_with(|c: char| c.is_ascii_digit()), "{out:?}");
            assert!(out.contains(' '), "a number and a street: {out:?}");
        }
        Algorithm::Ipv4Segment => {
            let octets: Vec<&str> = out.trim().split('.').collect();
            assert_eq!(octets.len(), 4, "{out:?}");
            for o in octets {
                assert!(o == "0" || !o.starts_with('0'), "{out:?}");
                assert!(o.parse::<u8>().is_ok(), "{out:?}");
            }
        }
        Algorithm::NullValueLookup => unreachable!(),
    }
}
