//! Tests of the masking algorithms (unit, property and statistical).

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use chrono::NaiveDate;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

use super::lookup::{first_names, last_names, street_names};
use super::{Algorithm, DATE_SHIFT_MAX_DAYS, MaskingKey, NonConformant};
use crate::masking::profiling::validators::{is_ipv4, is_street_address};

const SECRET: &[u8] = b"maskd test secret key 0123456789abcdef";

/// The test key (built once: tests call this in loops).
fn key() -> MaskingKey {
    static KEY: OnceLock<MaskingKey> = OnceLock::new();
    KEY.get_or_init(|| MaskingKey::new(SECRET)).clone()
}

/// A key whose secret differs from [`key`]'s in one bit.
fn other_key() -> MaskingKey {
    static KEY: OnceLock<MaskingKey> = OnceLock::new();
    KEY.get_or_init(|| MaskingKey::new(b"maskd test secret key 0123456789abcdeF"))
        .clone()
}

fn mask(alg: Algorithm, k: &MaskingKey, v: &str) -> Result<String, NonConformant> {
    match alg.mask(k, Some(v)) {
        Ok(Some(s)) => Ok(s),
        Ok(None) => panic!("{alg} returned NULL for a non-NULL value"),
        Err(e) => Err(e),
    }
}

fn ok(alg: Algorithm, v: &str) -> String {
    mask(alg, &key(), v).unwrap_or_else(|e| panic!("{alg} rejected {v:?}: {e}"))
}

/// `n` values drawn from `strategy` with a fixed seed.
fn sample<S: Strategy>(strategy: S, n: usize) -> Vec<S::Value> {
    let mut runner = TestRunner::deterministic();
    (0..n)
        .map(|_| {
            strategy
                .new_tree(&mut runner)
                .expect("strategy generates")
                .current()
        })
        .collect()
}

// ---------------------------------------------------------------- strategies

fn first_name_input() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Z][a-z]{1,12}",
        "[A-Z]{2,12}",
        "[a-z]{2,12}",
        " {0,2}[A-Z][a-z]{1,10}(-[A-Z][a-z]{1,8})? {0,2}",
        "[A-Z][a-zéèüöñ]{1,10}",
    ]
}

fn full_name_input() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Z][a-z]{1,10} [A-Z][a-z]{1,12}",
        "[A-Z]{2,10} [A-Z]{2,12}",
        "[A-Z][a-z]{1,10} [A-Z]\\. [A-Z][a-z]{1,12}",
    ]
}

fn email_input() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,10}\\.[a-z]{1,12}@[a-z]{2,10}\\.(com|org|net|co\\.uk)",
        "[a-z][a-z0-9._+-]{0,15}@[a-z][a-z0-9-]{0,10}\\.[a-z]{2,6}",
        "[A-Z]{2,10}@[A-Z]{2,8}\\.COM",
    ]
}

fn phone_input() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\+1 \\([0-9]{3}\\) [0-9]{3}-[0-9]{4}",
        "[0-9]{3}-[0-9]{3}-[0-9]{4}",
        "\\+[1-9][0-9]{0,2} [0-9]{6,12}",
        "[0-9]{7,15}",
        "\\+44 [0-9]{4} [0-9]{6} ext\\. [0-9]{1,4}",
    ]
}

fn digits_input() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,20}",
        "[A-Z]{0,3}[-/ ]?[0-9]{1,12}[-/ ]?[A-Za-z]{0,4}",
        "[0-9]{2,6}-[0-9]{2,6}",
    ]
}

fn ssn_input() -> impl Strategy<Value = String> {
    (0u32..1000, 0u32..100, 0u32..10000, 0usize..3).prop_map(|(a, g, s, sep)| match sep {
        0 => format!("{a:03}{g:02}{s:04}"),
        1 => format!("{a:03}-{g:02}-{s:04}"),
        _ => format!("{a:03} {g:02} {s:04}"),
    })
}

fn card_input() -> impl Strategy<Value = String> {
    let prefix = prop_oneof![
        Just("4"),
        Just("51"),
        Just("55"),
        Just("34"),
        Just("37"),
        Just("6011"),
        Just("35"),
    ];
    (
        prefix,
        12usize..=19,
        prop::collection::vec(0u8..10, 19),
        0usize..3,
    )
        .prop_map(|(prefix, len, rest, sep)| {
            let mut digits: Vec<u8> = prefix.bytes().map(|b| b - b'0').collect();
            digits.extend(rest.into_iter().take(len - digits.len()));
            let plain: String = digits.iter().map(|d| (b'0' + d) as char).collect();
            let sep = match sep {
                0 => return plain,
                1 => ' ',
                _ => '-',
            };
            let mut out = String::new();
            for (i, c) in plain.chars().enumerate() {
                if i > 0 && i % 4 == 0 {
                    out.push(sep);
                }
                out.push(c);
            }
            out
        })
}

fn date_input() -> impl Strategy<Value = String> {
    let date = (1i32..=9999, 1u32..=12, 1u32..=31).prop_filter_map("valid date", |(y, m, d)| {
        NaiveDate::from_ymd_opt(y, m, d).map(|_| format!("{y:04}-{m:02}-{d:02}"))
    });
    let time = prop_oneof![
        Just(String::new()),
        "( |T)([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]",
        " ([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\\.[0-9]{1,6}",
        " ([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?[+-](0[0-9]|1[0-4])(:(00|30|45))?",
        "T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z",
    ];
    (date, time).prop_map(|(d, t)| d + &t)
}

fn number_input() -> impl Strategy<Value = String> {
    let int = prop_oneof![9 => "[1-9][0-9]{0,11}", 1 => Just("0".to_string())];
    ("-?", int, proptest::option::of("[0-9]{1,4}")).prop_map(|(s, i, f)| match f {
        Some(f) => format!("{s}{i}.{f}"),
        None => format!("{s}{i}"),
    })
}

/// US street address lines the profiler's validator recognises: house number,
/// optional direction, 1-3 name words, a suffix in one of its spellings, an
/// optional direction and an optional unit, in title, upper or lower case.
fn street_address_input() -> impl Strategy<Value = String> {
    let house = "[1-9][0-9]{0,5}[A-Z]?|[0-9]";
    let pre = prop_oneof![3 => Just(String::new()), 1 => "(N|S|E|W|North|South|NE|SW) "];
    let name = prop_oneof![
        "[A-Z][a-z]{2,10}",
        "[A-Z][a-z]{2,9} [A-Z][a-z]{2,9}",
        "[A-Z][a-z]{1,7} [A-Z][a-z]{1,7} [A-Z][a-z]{2,7}",
        "[1-9][0-9]?(st|nd|rd|th)",
        "O'[A-Z][a-z]{3,7}",
    ];
    let suffix = "(St|Street|Ave|Avenue|Av|Blvd|Boulevard|Rd|Road|Ln|Lane|Dr|Drive|Ct|Court|Way|Pl|\
                  Place|Ter|Terrace|Cir|Pkwy|Hwy|Loop|Trl|Sq|Row|Run|Path|Walk)\\.?";
    let post = prop_oneof![4 => Just(String::new()), 1 => " (N|S|E|W|NE|NW|SE|SW)"];
    let unit = prop_oneof![
        3 => Just(String::new()),
        1 => "(,)? (Apt|Apt\\.|Suite|Ste|Unit|Rm|Fl|Bldg) [0-9]{1,4}[A-Z]?",
        1 => "(,)? (#[1-9][0-9]{0,3}|# [0-9]{1,3}|Apt #[0-9]{1,3}|Unit [0-9]{1,2}-[A-Z])",
    ];
    let case = 0u8..6;
    (house, pre, name, suffix, post, unit, case, " {0,2}").prop_map(
        |(house, pre, name, suffix, post, unit, case, pad)| {
            let line = format!("{pad}{house} {pre}{name} {suffix}{post}{unit}{pad}");
            match case {
                0 => line.to_uppercase(),
                1 => line.to_lowercase(),
                _ => line,
            }
        },
    )
}

fn ipv4_input() -> impl Strategy<Value = String> {
    let octets = prop_oneof![
        3 => any::<[u8; 4]>(),
        1 => any::<[u8; 3]>().prop_map(|[b, c, d]| [10, b, c, d]),
        1 => (16u8..32, any::<[u8; 2]>()).prop_map(|(b, [c, d])| [172, b, c, d]),
        1 => any::<[u8; 2]>().prop_map(|[c, d]| [192, 168, c, d]),
        1 => any::<[u8; 3]>().prop_map(|[b, c, d]| [127, b, c, d]),
        1 => (1u8..224, any::<[u8; 3]>()).prop_map(|(a, [b, c, d])| [a, b, c, d]),
    ];
    (octets, prop_oneof![4 => Just(""), 1 => Just(" ")])
        .prop_map(|([a, b, c, d], pad)| format!("{pad}{a}.{b}.{c}.{d}{pad}"))
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(any::<char>(), 0..64).prop_map(|v| v.into_iter().collect()),
        "[\\x00-\\x1f0-9 @.+-]{0,40}",
        "\\PC{0,40}",
    ]
}

/// A strategy of valid inputs for every algorithm.
fn valid_input(alg: Algorithm) -> BoxedStrategy<String> {
    match alg {
        Algorithm::FirstNameLookup | Algorithm::LastNameLookup => first_name_input().boxed(),
        Algorithm::FullNameLookup => full_name_input().boxed(),
        Algorithm::EmailLookup => email_input().boxed(),
        Algorithm::PhoneNumberSegment => phone_input().boxed(),
        Algorithm::DigitsSegment => digits_input().boxed(),
        Algorithm::SsnSegment => ssn_input().boxed(),
        Algorithm::CreditCardSegment => card_input().boxed(),
        Algorithm::DateShiftVariable => date_input().boxed(),
        Algorithm::RedactText => "[A-Za-z0-9 ,.-]{1,30}".boxed(),
        Algorithm::NullValueLookup => any_text().boxed(),
        Algorithm::NumberMinMax => number_input().boxed(),
        Algorithm::StreetAddressLookup => street_address_input().boxed(),
        Algorithm::Ipv4Segment => ipv4_input().boxed(),
    }
}

// ---------------------------------------------------------------- independent checkers

fn luhn_ok(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let mut d = c.to_digit(10).expect("digit");
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

fn digits_of(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// Non-digit characters with their positions (must be preserved by segments).
fn skeleton(s: &str) -> Vec<(usize, char)> {
    s.chars()
        .enumerate()
        .filter(|(_, c)| !c.is_ascii_digit())
        .collect()
}

fn is_title_case_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase()) && chars.all(|c| c.is_ascii_alphabetic())
}

fn check_ssn(out: &str, input: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(out.len(), input.len());
    prop_assert_eq!(skeleton(out), skeleton(input));
    let d = digits_of(out);
    prop_assert_eq!(d.len(), 9);
    let area: u32 = d[..3].parse().unwrap();
    let group: u32 = d[3..5].parse().unwrap();
    let serial: u32 = d[5..].parse().unwrap();
    prop_assert!((1..=899).contains(&area) && area != 666, "area {}", area);
    prop_assert!((1..=99).contains(&group), "group {}", group);
    prop_assert!((1..=9999).contains(&serial), "serial {}", serial);
    Ok(())
}

/// The kind of an IPv4 address (dotted quad, surrounding spaces allowed), from
/// the IANA special-purpose registry: what Ipv4Segment must keep.
fn ipv4_class(s: &str) -> &'static str {
    let o: Vec<u8> = s.trim().split('.').map(|o| o.parse().unwrap()).collect();
    match (o[0], o[1], o[2]) {
        (0, _, _) => "this network",
        (10, _, _) => "private 10/8",
        (100, 64..=127, _) => "shared",
        (127, _, _) => "loopback",
        (169, 254, _) => "link-local",
        (172, 16..=31, _) => "private 172.16/12",
        (192, 0, 0) => "IETF",
        (192, 0, 2) => "TEST-NET-1",
        (192, 88, 99) => "6to4 relay",
        (192, 168, _) => "private 192.168/16",
        (198, 18..=19, _) => "benchmarking",
        (198, 51, 100) => "TEST-NET-2",
        (203, 0, 113) => "TEST-NET-3",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved",
        _ => "public",
    }
}

/// Checks a StreetAddressLookup output: a keyed house number of the input's
/// shape, then (after the input's direction, if any) a street name from the
/// list in the input's case style, then the rest of the input as written but
/// for its digits.
fn check_street_address(input: &str, out: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        is_street_address(out),
        "{:?} -> {:?} is no address",
        input,
        out
    );
    let norm_in = input.split_whitespace().collect::<Vec<_>>().join(" ");
    prop_assert_eq!(out, out.trim());
    prop_assert!(!out.contains("  "));
    let words: Vec<&str> = out.split(' ').collect();
    let (house_in, house_out) = (norm_in.split(' ').next().unwrap(), words[0]);
    prop_assert_eq!(skeleton(house_out), skeleton(house_in));
    prop_assert_eq!(house_out.len(), house_in.len());
    prop_assert!(!house_out.starts_with('0') || house_in.starts_with('0'));
    let in_list = |w: &str| street_names().iter().any(|n| n.eq_ignore_ascii_case(w));
    let at = if in_list(words[1]) { 1 } else { 2 };
    prop_assert!(
        words.len() > at && in_list(words[at]),
        "{:?}: no listed name",
        out
    );
    if at == 2 {
        // A direction kept as written.
        prop_assert_eq!(words[1], norm_in.split(' ').nth(1).unwrap());
    }
    let name = words[at];
    let letters = || input.chars().filter(|c| c.is_alphabetic());
    if letters().filter(|c| c.is_uppercase()).count() >= 2 && !letters().any(char::is_lowercase) {
        prop_assert_eq!(name.to_ascii_uppercase(), name);
    } else if !letters().any(char::is_uppercase) {
        prop_assert_eq!(name.to_ascii_lowercase(), name);
    } else {
        prop_assert!(street_names().contains(&name), "{}", name);
    }
    let tail_out = words[at + 1..].join(" ");
    if !tail_out.is_empty() {
        prop_assert!(norm_in.len() > tail_out.len());
        let tail_in = &norm_in[norm_in.len() - tail_out.len()..];
        prop_assert_eq!(skeleton(tail_in), skeleton(&tail_out));
        prop_assert!(norm_in[..norm_in.len() - tail_out.len()].ends_with(' '));
    }
    Ok(())
}

fn split_date(s: &str) -> (NaiveDate, &str) {
    let date = NaiveDate::parse_from_str(&s[..10], "%Y-%m-%d").expect("date");
    (date, &s[10..])
}

/// Checks that `out` is a valid masking of `input` by `alg`.
fn check_output(alg: Algorithm, input: &str, out: &str) -> Result<(), TestCaseError> {
    match alg {
        Algorithm::FirstNameLookup | Algorithm::LastNameLookup => {
            let list = if alg == Algorithm::FirstNameLookup {
                first_names()
            } else {
                last_names()
            };
            let caps = input.chars().filter(|c| c.is_uppercase()).count() >= 2
                && !input.chars().any(char::is_lowercase);
            if caps {
                prop_assert!(
                    list.iter().any(|n| n.to_ascii_uppercase() == out),
                    "{} not an upper-cased list entry",
                    out
                );
            } else {
                prop_assert!(list.contains(&out), "{} not a list entry", out);
            }
        }
        Algorithm::FullNameLookup => {
            let (first, last) = out.split_once(' ').expect("two words");
            let upper =
                input.chars().any(char::is_uppercase) && !input.chars().any(char::is_lowercase);
            let norm = |s: &str| s.to_ascii_lowercase();
            prop_assert!(first_names().iter().any(|n| norm(n) == norm(first)));
            prop_assert!(last_names().iter().any(|n| norm(n) == norm(last)));
            if upper {
                prop_assert_eq!(out.to_ascii_uppercase(), out);
            } else {
                prop_assert!(is_title_case_name(first), "{}", out);
                prop_assert!(last.starts_with(|c: char| c.is_ascii_uppercase()));
            }
        }
        Algorithm::EmailLookup => {
            prop_assert_eq!(out.matches('@').count(), 1);
            let (local, domain) = out.split_once('@').unwrap();
            let (_, in_domain) = input.trim().split_once('@').unwrap();
            prop_assert_eq!(domain, in_domain);
            prop_assert!(!local.is_empty() && local.len() <= 64);
            prop_assert!(local.chars().all(|c| c.is_ascii_alphanumeric() || c == '.'));
            prop_assert!(!local.starts_with('.') && !local.ends_with('.'));
            prop_assert!(!local.contains(".."));
            let (first, rest) = local.split_once('.').unwrap();
            prop_assert!(first.chars().all(|c| c.is_ascii_alphabetic()));
            let number_start = rest.find(|c: char| c.is_ascii_digit()).unwrap();
            prop_assert!((2..=4).contains(&(rest.len() - number_start)));
        }
        Algorithm::PhoneNumberSegment | Algorithm::DigitsSegment => {
            prop_assert_eq!(out.len(), input.len());
            prop_assert_eq!(out.chars().count(), input.chars().count());
            prop_assert_eq!(skeleton(out), skeleton(input));
            prop_assert_eq!(digits_of(out).len(), digits_of(input).len());
        }
        Algorithm::SsnSegment => check_ssn(out, input)?,
        Algorithm::CreditCardSegment => {
            prop_assert_eq!(out.len(), input.len());
            prop_assert_eq!(skeleton(out), skeleton(input));
            let (d_in, d_out) = (digits_of(input), digits_of(out));
            prop_assert_eq!(&d_out[..6], &d_in[..6]);
            prop_assert!(luhn_ok(&d_out), "{} fails Luhn", out);
        }
        Algorithm::DateShiftVariable => {
            let (d_in, rest_in) = split_date(input);
            let (d_out, rest_out) = split_date(out);
            prop_assert_eq!(rest_in, rest_out);
            let shift = (d_out - d_in).num_days();
            prop_assert!(
                shift != 0 && shift.abs() <= DATE_SHIFT_MAX_DAYS,
                "shift {}",
                shift
            );
        }
        Algorithm::RedactText => {
            prop_assert_eq!(out.chars().count(), input.chars().count());
            for (a, b) in input.chars().zip(out.chars()) {
                let want = if a.is_alphabetic() {
                    'X'
                } else if a.is_numeric() {
                    '0'
                } else {
                    a
                };
                prop_assert_eq!(b, want);
            }
        }
        Algorithm::NullValueLookup => unreachable!(),
        Algorithm::StreetAddressLookup => {
            prop_assert!(is_street_address(input), "generated {:?}", input);
            check_street_address(input, out)?;
        }
        Algorithm::Ipv4Segment => {
            prop_assert!(is_ipv4(out), "{:?}", out);
            let lead = |s: &str| s.len() - s.trim_start().len();
            let trail = |s: &str| s.len() - s.trim_end().len();
            prop_assert_eq!(lead(out), lead(input));
            prop_assert_eq!(trail(out), trail(input));
            prop_assert_eq!(ipv4_class(out), ipv4_class(input), "{} -> {}", input, out);
        }
        Algorithm::NumberMinMax => {
            let neg_in = input.starts_with('-');
            prop_assert_eq!(out.starts_with('-'), neg_in);
            let frac = |s: &str| s.split_once('.').map(|(_, f)| f.len());
            prop_assert_eq!(frac(out), frac(input));
            let mantissa = |s: &str| -> u128 { digits_of(s).parse().unwrap() };
            let (m_in, m_out) = (mantissa(input), mantissa(out));
            if m_in == 0 {
                prop_assert_eq!(out, input);
            } else {
                prop_assert!(m_out != m_in);
                prop_assert!(m_in == 1 || (2 * m_out >= m_in && 2 * m_out <= 3 * m_in));
                prop_assert_eq!(m_out.to_string().len(), m_in.to_string().len());
            }
        }
    }
    Ok(())
}

const MASKING: [Algorithm; 13] = [
    Algorithm::FirstNameLookup,
    Algorithm::LastNameLookup,
    Algorithm::FullNameLookup,
    Algorithm::EmailLookup,
    Algorithm::PhoneNumberSegment,
    Algorithm::DigitsSegment,
    Algorithm::SsnSegment,
    Algorithm::CreditCardSegment,
    Algorithm::DateShiftVariable,
    Algorithm::RedactText,
    Algorithm::NumberMinMax,
    Algorithm::StreetAddressLookup,
    Algorithm::Ipv4Segment,
];

// ---------------------------------------------------------------- API

#[test]
fn names_round_trip_and_metadata() {
    let mut names = HashSet::new();
    for alg in Algorithm::ALL {
        assert_eq!(Algorithm::from_name(alg.name()), Some(alg));
        assert_eq!(format!("{alg:?}"), alg.name());
        assert!(names.insert(alg.name()));
        assert_eq!(Algorithm::from_name(&alg.name().to_lowercase()), None);
        let d = alg.description();
        assert!(d.len() > 20 && d.ends_with('.'), "{alg}: {d}");
        let t = alg.algorithm_type();
        assert!(["LOOKUP", "SEGMENT", "DATE_SHIFT", "REDACTION", "MINMAX"].contains(&t));
    }
    assert_eq!(Algorithm::from_name(""), None);
    assert_eq!(Algorithm::from_name("Nope"), None);
    assert_eq!(Algorithm::EmailLookup.algorithm_type(), "LOOKUP");
    assert_eq!(Algorithm::NullValueLookup.algorithm_type(), "LOOKUP");
    assert_eq!(Algorithm::SsnSegment.algorithm_type(), "SEGMENT");
    assert_eq!(Algorithm::DateShiftVariable.algorithm_type(), "DATE_SHIFT");
    assert_eq!(Algorithm::RedactText.algorithm_type(), "REDACTION");
    assert_eq!(Algorithm::NumberMinMax.algorithm_type(), "MINMAX");
    assert_eq!(Algorithm::StreetAddressLookup.algorithm_type(), "LOOKUP");
    assert_eq!(Algorithm::Ipv4Segment.algorithm_type(), "SEGMENT");
    for alg in [Algorithm::StreetAddressLookup, Algorithm::Ipv4Segment] {
        assert_eq!(alg.mask_type(), "STRING");
    }
}

#[test]
fn every_domain_names_an_algorithm_and_the_list_is_sorted() {
    use crate::masking::domains::{DOMAINS, find};
    let names: Vec<&str> = DOMAINS.iter().map(|d| d.name).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(names, sorted);
    for (domain, alg) in [
        ("ADDRESS", Algorithm::StreetAddressLookup),
        ("IP_ADDRESS", Algorithm::Ipv4Segment),
    ] {
        assert_eq!(find(domain).map(|d| d.default_algorithm), Some(alg));
    }
}

#[test]
fn null_stays_null_and_null_lookup_nulls_everything() {
    for alg in Algorithm::ALL {
        assert_eq!(alg.mask(&key(), None), Ok(None), "{alg}");
    }
    for v in ["", "x", "John", "2021-01-01", "\u{0}"] {
        assert_eq!(Algorithm::NullValueLookup.mask(&key(), Some(v)), Ok(None));
    }
}

#[test]
fn error_display_and_debug_do_not_leak() {
    let e = mask(Algorithm::SsnSegment, &key(), "secret-value-123").unwrap_err();
    assert!(!e.reason.contains("secret-value"));
    assert!(e.to_string().contains(&e.reason));
    let boxed: Box<dyn std::error::Error> = Box::new(e);
    assert!(!boxed.to_string().is_empty());
    assert_eq!(format!("{:?}", key()), "MaskingKey(..)");
}

#[test]
fn name_lists_are_big_clean_and_unique() {
    for list in [first_names(), last_names()] {
        assert!(list.len() >= 1000, "{}", list.len());
        let unique: HashSet<_> = list.iter().map(|n| n.to_ascii_lowercase()).collect();
        assert_eq!(unique.len(), list.len(), "duplicates");
        for n in list {
            assert!(is_title_case_name(n), "{n:?}");
        }
    }
    assert!(first_names().contains(&"Mary") && last_names().contains(&"Smith"));
}

#[test]
fn street_names_are_big_clean_and_unique() {
    let list = street_names();
    assert!(list.len() >= 500, "{}", list.len());
    let unique: HashSet<_> = list.iter().map(|n| n.to_ascii_lowercase()).collect();
    assert_eq!(unique.len(), list.len(), "duplicates");
    for n in list {
        // One word, Title Case (ordinals such as Twenty-First hyphenated).
        assert!(n.split('-').all(is_title_case_name), "{n:?}");
        // Never a suffix, direction or unit word, so the output parses back.
        let line = format!("1 {n} St");
        assert!(is_street_address(&line), "{line:?}");
        assert!(
            !is_street_address(&format!("1 Elm {n}")),
            "{n:?} is a suffix"
        );
        assert!(
            !is_street_address(&format!("1 Elm St {n}")),
            "{n:?} is a direction"
        );
        assert!(
            !is_street_address(&format!("1 Elm St {n} 2")),
            "{n:?} is a unit designator"
        );
    }
    for n in [
        "Main",
        "Oak",
        "Maple",
        "Washington",
        "Lake",
        "Hill",
        "Park",
        "Elm",
        "Second",
    ] {
        assert!(list.contains(&n), "{n}");
    }
}

// ---------------------------------------------------------------- properties

proptest! {
    // About 90 cases per algorithm.
    #![proptest_config(ProptestConfig::with_cases(1200))]
    #[test]
    fn valid_inputs_mask_validly_and_deterministically(
        (alg, input) in prop::sample::select(MASKING.to_vec())
            .prop_flat_map(|a| (Just(a), valid_input(a)))
    ) {
        let out = mask(alg, &key(), &input)
            .map_err(|e| TestCaseError::fail(format!("{alg} rejected {input:?}: {e}")))?;
        check_output(alg, &input, &out)?;
        // Same key (even rebuilt from the same secret) -> same output.
        prop_assert_eq!(&mask(alg, &key(), &input).unwrap(), &out);
        let rebuilt = MaskingKey::new(SECRET);
        prop_assert_eq!(&mask(alg, &rebuilt, &input).unwrap(), &out);
        // A different key gives a valid output too.
        let other = mask(alg, &other_key(), &input).unwrap();
        check_output(alg, &input, &other)?;
    }

}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(input in any_text()) {
        for alg in Algorithm::ALL {
            match alg.mask(&key(), Some(&input)) {
                Ok(Some(out)) => {
                    if alg == Algorithm::RedactText {
                        prop_assert_eq!(out.chars().count(), input.chars().count());
                    }
                }
                Ok(None) => prop_assert_eq!(alg, Algorithm::NullValueLookup),
                Err(e) => {
                    prop_assert!(!e.reason.is_empty());
                    prop_assert!(alg != Algorithm::RedactText && alg != Algorithm::NullValueLookup);
                }
            }
        }
    }

    #[test]
    fn name_normalization_ignores_case_and_spaces(name in "[A-Za-z]{1,12}( [A-Za-z]{1,12})?", pad in " {0,3}") {
        for alg in [Algorithm::FirstNameLookup, Algorithm::LastNameLookup, Algorithm::FullNameLookup] {
            let a = ok(alg, &name.to_lowercase());
            let b = ok(alg, &format!("{pad}{}{pad}", name.to_uppercase()));
            let c = ok(alg, &name.replace(' ', "   "));
            prop_assert_eq!(a.to_lowercase(), b.to_lowercase());
            prop_assert_eq!(a.to_lowercase(), c.to_lowercase());
        }
    }

    #[test]
    fn ssn_rejects_bad_shapes(s in "[0-9 -]{0,12}") {
        let shape_ok = {
            let b = s.as_bytes();
            (b.len() == 9 && b.iter().all(u8::is_ascii_digit))
                || (b.len() == 11 && (b[3] == b'-' || b[3] == b' ') && b[6] == b[3]
                    && [0, 1, 2, 4, 5, 7, 8, 9, 10].iter().all(|&i| b[i].is_ascii_digit()))
        };
        match mask(Algorithm::SsnSegment, &key(), &s) {
            Ok(out) => { prop_assert!(shape_ok); check_ssn(&out, &s)?; }
            Err(_) => prop_assert!(!shape_ok),
        }
    }

    #[test]
    fn card_rejects_bad_shapes(s in "[0-9]{0,21}|[0-9 -]{10,25}") {
        let n = digits_of(&s).len();
        let res = mask(Algorithm::CreditCardSegment, &key(), &s);
        if !(12..=19).contains(&n) || s.starts_with([' ', '-']) || s.ends_with([' ', '-'])
            || s.contains("  ") || s.contains("--") || s.contains(" -") || s.contains("- ") {
            prop_assert!(res.is_err());
        } else {
            let out = res.unwrap();
            check_output(Algorithm::CreditCardSegment, &s, &out)?;
        }
    }

    #[test]
    fn ipv4_stays_in_its_block(octets in any::<[u8; 4]>()) {
        let [a, b, c, d] = octets;
        let input = format!("{a}.{b}.{c}.{d}");
        let out = ok(Algorithm::Ipv4Segment, &input);
        prop_assert!(is_ipv4(&out), "{}", out);
        prop_assert_eq!(ipv4_class(&out), ipv4_class(&input), "{} -> {}", input, out);
        // Private stays private, loopback loopback, public public.
        let private = |s: &str| ipv4_class(s).starts_with("private");
        prop_assert_eq!(private(&out), private(&input));
        prop_assert_eq!(ipv4_class(&out) == "loopback", a == 127);
        prop_assert_eq!(&ok(Algorithm::Ipv4Segment, &input), &out);
    }

    #[test]
    fn ipv4_rejects_what_is_not_a_dotted_quad(s in "[0-9.]{0,16}|[0-9]{1,4}(\\.[0-9]{1,4}){2,4}") {
        let res = mask(Algorithm::Ipv4Segment, &key(), &s);
        prop_assert_eq!(res.is_ok(), is_ipv4(&s), "{:?}", s);
    }

    #[test]
    fn street_address_ignores_case_and_spacing(input in street_address_input(), pad in " {1,3}") {
        let out = ok(Algorithm::StreetAddressLookup, &input);
        let spaced = format!("{pad}{}{pad}", input.trim().replace(' ', &pad));
        for variant in [input.to_uppercase(), input.to_lowercase(), spaced] {
            let other = ok(Algorithm::StreetAddressLookup, &variant);
            prop_assert_eq!(other.to_lowercase(), out.to_lowercase(), "{:?} vs {:?}", variant, input);
        }
    }

    #[test]
    fn street_address_needs_a_leading_number(s in "[A-Za-z#.-][A-Za-z0-9 #.,-]{0,30}") {
        prop_assert!(mask(Algorithm::StreetAddressLookup, &key(), &s).is_err());
    }

    #[test]
    fn phone_needs_seven_digits(s in "[0-9() +-]{0,20}") {
        let res = mask(Algorithm::PhoneNumberSegment, &key(), &s);
        prop_assert_eq!(res.is_ok(), digits_of(&s).len() >= 7);
    }
}

// ---------------------------------------------------------------- rates

/// Over 10,000 generated valid inputs per algorithm: the output differs from
/// the input for at least 99%, and from the other key's output for almost all.
#[test]
fn outputs_differ_from_input_and_across_keys() {
    let (k1, k2) = (key(), other_key());
    for alg in MASKING {
        let inputs = sample(valid_input(alg), 10_000);
        let (mut same_as_input, mut same_across_keys, mut checked) = (0, 0, 0);
        for input in &inputs {
            let a = mask(alg, &k1, input).unwrap();
            let b = mask(alg, &k2, input).unwrap();
            // Where the range allows no change: zero (there is no other zero)
            // and text without letters or digits.
            if (alg == Algorithm::NumberMinMax && digits_of(input).parse::<u128>() == Ok(0))
                || (alg == Algorithm::RedactText && !input.chars().any(char::is_alphanumeric))
            {
                continue;
            }
            checked += 1;
            same_as_input += usize::from(a == *input);
            same_across_keys += usize::from(a == b);
        }
        assert!(checked > 9_000, "{alg}: only {checked} checked");
        let differ = 1.0 - same_as_input as f64 / checked as f64;
        assert!(
            differ >= 0.99,
            "{alg}: only {differ:.4} differ from the input"
        );
        // Number/date outputs have few possible values; the rest have many.
        let max_key_collisions = match alg {
            Algorithm::RedactText => checked, // not keyed
            Algorithm::NumberMinMax => checked / 10,
            _ => checked / 100,
        };
        assert!(
            same_across_keys <= max_key_collisions,
            "{alg}: {same_across_keys} of {checked} equal under two keys"
        );
    }
}

/// Same string, different algorithms: outputs are not linked.
#[test]
fn domains_are_separated() {
    let k = key();
    let mut same = 0;
    let n = 5_000;
    for i in 0..n {
        let v = format!("person {i}");
        let first = mask(Algorithm::FirstNameLookup, &k, &v).unwrap();
        let full = mask(Algorithm::FullNameLookup, &k, &v).unwrap();
        same += usize::from(full.starts_with(&format!("{first} ")));
    }
    // Unlinked: about n / 5163 coincidences.
    assert!(same < 10, "{same} of {n} linked");
    let phone = mask(Algorithm::PhoneNumberSegment, &k, "5551234567").unwrap();
    let digits = mask(Algorithm::DigitsSegment, &k, "5551234567").unwrap();
    assert_ne!(phone, digits);
}

/// Chi-square test of the secure lookups: 100,000 distinct inputs spread
/// evenly over the list entries.
#[test]
fn secure_lookup_spreads_evenly() {
    let k = key();
    for (alg, list) in [
        (Algorithm::FirstNameLookup, first_names()),
        (Algorithm::LastNameLookup, last_names()),
    ] {
        let index: HashMap<&str, usize> = list.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let mut counts = vec![0u32; list.len()];
        let n = 100_000;
        for i in 0..n {
            let out = mask(alg, &k, &format!("input{i}")).unwrap();
            counts[index[out.as_str()]] += 1;
        }
        let expected = n as f64 / list.len() as f64;
        let chi2: f64 = counts
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum();
        let df = (list.len() - 1) as f64;
        let sigma = (2.0 * df).sqrt();
        // A biased map (e.g. part of the list unused, or modulo bias) would be
        // far above; a too-regular map (e.g. round robin) far below.
        assert!(
            (chi2 - df).abs() < 6.0 * sigma,
            "{alg}: chi2 {chi2:.0} with {df} degrees of freedom"
        );
        assert!(counts.iter().all(|&c| c > 0), "{alg}: unused entries");
    }
}

#[test]
fn full_name_does_not_reveal_parts() {
    // Same first name, different last names: the masked first names vary.
    let firsts: HashSet<String> = last_names()[..300]
        .iter()
        .map(|last| {
            let out = ok(Algorithm::FullNameLookup, &format!("John {last}"));
            out.split(' ').next().unwrap().to_string()
        })
        .collect();
    assert!(firsts.len() > 250, "{}", firsts.len());
    assert_eq!(
        ok(Algorithm::FullNameLookup, "JOHN SMITH").to_ascii_uppercase(),
        ok(Algorithm::FullNameLookup, "JOHN SMITH")
    );
}

#[test]
fn name_case_style() {
    let caps = ok(Algorithm::FirstNameLookup, "JOHN");
    assert_eq!(caps, caps.to_ascii_uppercase());
    let title = ok(Algorithm::FirstNameLookup, "john");
    assert!(is_title_case_name(&title));
    assert_eq!(caps.to_lowercase(), title.to_lowercase());
    for empty in ["", "   ", "\t\n"] {
        for alg in [
            Algorithm::FirstNameLookup,
            Algorithm::LastNameLookup,
            Algorithm::FullNameLookup,
        ] {
            assert!(mask(alg, &key(), empty).is_err());
        }
    }
}

#[test]
fn email_examples() {
    let out = ok(Algorithm::EmailLookup, "John.Smith@Example.com");
    assert!(out.ends_with("@Example.com"), "{out}");
    assert_eq!(
        ok(Algorithm::EmailLookup, "john.smith@example.com")
            .split('@')
            .next(),
        out.split('@').next()
    );
    let caps = ok(Algorithm::EmailLookup, "JSMITH@EXAMPLE.COM");
    assert_eq!(caps, caps.to_ascii_uppercase());
    let padded = ok(Algorithm::EmailLookup, " a@b.org ");
    assert!(padded.starts_with(' ') && padded.ends_with("@b.org "));
    for bad in [
        "",
        "plain",
        "@x.com",
        "a@",
        "a@@b.com",
        "a@b@c.com",
        "a b@c.com",
        "a@b..com",
        "a@.com",
        "a@b.com.",
        "a@b c.com",
        "a\u{0}@b.com",
    ] {
        assert!(
            mask(Algorithm::EmailLookup, &key(), bad).is_err(),
            "{bad:?}"
        );
    }
    assert!(mask(Algorithm::EmailLookup, &key(), "user+tag@[192.0.2.1]").is_ok());
    assert!(mask(Algorithm::EmailLookup, &key(), "josé@müller.de").is_ok());
}

// ---------------------------------------------------------------- segments

#[test]
fn digits_segment_is_a_permutation_without_fixed_points_for_short_values() {
    for width in 1..=4usize {
        let count = 10usize.pow(width as u32);
        let mut seen = HashSet::new();
        let mut fixed = 0;
        for x in 0..count {
            let input = format!("{x:0width$}");
            let out = ok(Algorithm::DigitsSegment, &input);
            assert_eq!(out.len(), width);
            fixed += usize::from(out == input);
            assert!(seen.insert(out), "collision at width {width}");
        }
        if width <= 2 {
            assert_eq!(fixed, 0, "fixed points at width {width}");
        } else {
            assert!(fixed <= 5, "{fixed} fixed points at width {width}");
        }
    }
    // The one- and two-digit tables are keyed.
    let one: Vec<String> = (0..10)
        .map(|d| ok(Algorithm::DigitsSegment, &d.to_string()))
        .collect();
    let one_other: Vec<String> = (0..10)
        .map(|d| mask(Algorithm::DigitsSegment, &other_key(), &d.to_string()).unwrap())
        .collect();
    assert_ne!(one, one_other);
}

#[test]
fn segments_keep_distinct_values_distinct() {
    let k = key();
    // Distinct inputs spread over the whole space (step coprime to 10).
    let spread = |count: u64, space: u64| (0..count).map(move |i| i * 7_919_009 % space);
    let phones: Vec<String> = spread(10_000, 10_000_000)
        .map(|x| format!("{:03}-{:04}", x / 10_000, x % 10_000))
        .collect();
    let ssns: Vec<String> = spread(10_000, 1_000_000_000)
        .map(|x| format!("{:09}", x))
        .filter(|s| check_ssn(s, s).is_ok())
        .collect();
    let cards: Vec<String> = spread(10_000, 1_000_000_000)
        .map(|x| {
            let payload = format!("411111{x:09}");
            (0..10)
                .map(|c| format!("{payload}{c}"))
                .find(|s| luhn_ok(s))
                .unwrap()
        })
        .collect();
    for (alg, inputs) in [
        (Algorithm::PhoneNumberSegment, phones),
        (Algorithm::SsnSegment, ssns),
        (Algorithm::CreditCardSegment, cards),
    ] {
        let inputs: HashSet<String> = inputs.into_iter().collect();
        let outputs: HashSet<String> = inputs.iter().map(|s| mask(alg, &k, s).unwrap()).collect();
        assert!(inputs.len() > 8_000, "{alg}: {}", inputs.len());
        assert_eq!(outputs.len(), inputs.len(), "{alg} merged distinct values");
    }
}

#[test]
fn changing_the_last_digit_changes_the_whole_number() {
    let inputs = sample("[0-9]{10}", 2_000);
    let mut shared_prefix = 0;
    for alg in [Algorithm::PhoneNumberSegment, Algorithm::DigitsSegment] {
        for input in &inputs {
            let last = input.as_bytes()[9] - b'0';
            let changed = format!("{}{}", &input[..9], (last + 1) % 10);
            let (a, b) = (ok(alg, input), ok(alg, &changed));
            shared_prefix += usize::from(a[..5] == b[..5]);
        }
    }
    // A random pair shares a 5-digit prefix with probability 1e-5.
    assert!(
        shared_prefix <= 2,
        "{shared_prefix} outputs kept the prefix"
    );
}

#[test]
fn segment_examples() {
    let phone = ok(Algorithm::PhoneNumberSegment, "+1 (555) 123-4567");
    assert_eq!(skeleton(&phone), skeleton("+1 (555) 123-4567"));
    // Formatting does not change which digits come out.
    assert_eq!(
        digits_of(&phone),
        digits_of(&ok(Algorithm::PhoneNumberSegment, "15551234567"))
    );
    assert!(mask(Algorithm::PhoneNumberSegment, &key(), "555-1234").is_ok());
    assert!(mask(Algorithm::PhoneNumberSegment, &key(), "555-123").is_err());
    assert!(mask(Algorithm::DigitsSegment, &key(), "no digits").is_err());
    assert!(mask(Algorithm::DigitsSegment, &key(), "").is_err());
}

#[test]
fn ssn_examples() {
    for input in ["123-45-6789", "123 45 6789", "123456789"] {
        let out = ok(Algorithm::SsnSegment, input);
        check_ssn(&out, input).unwrap();
        assert_ne!(out, input);
    }
    // Invalid-range inputs still come out valid.
    for input in ["000-00-0000", "666-12-3456", "987-65-4321", "999999999"] {
        check_ssn(&ok(Algorithm::SsnSegment, input), input).unwrap();
    }
    for bad in [
        "123-45-678",
        "123-456789",
        "123 45-6789",
        "12a-45-6789",
        " 123456789",
        "１２３456789",
    ] {
        assert!(mask(Algorithm::SsnSegment, &key(), bad).is_err(), "{bad:?}");
    }
}

#[test]
fn card_examples() {
    for input in [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "378282246310005",
        "601111111111111",
        "3530111333300000",
        "6011000990139424123",
        "411111111111",
    ] {
        let out = ok(Algorithm::CreditCardSegment, input);
        assert!(luhn_ok(&digits_of(&out)), "{out}");
        assert_eq!(skeleton(&out), skeleton(input));
        assert_eq!(digits_of(&out)[..6], digits_of(input)[..6]);
        assert_ne!(out, input);
    }
    for bad in [
        "41111111111",
        "41111111111111111111",
        "4111 1111 1111 111a",
        " 4111111111111111",
        "4111  1111 1111 1111",
        "4111111111111111-",
    ] {
        assert!(
            mask(Algorithm::CreditCardSegment, &key(), bad).is_err(),
            "{bad:?}"
        );
    }
}

// ---------------------------------------------------------------- dates, numbers, redaction

#[test]
fn date_shift_range_and_shapes() {
    assert_eq!(DATE_SHIFT_MAX_DAYS, 365);
    let k = key();
    let start = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap();
    let mut shifts = HashSet::new();
    for i in 0..20_000 {
        let d = start + chrono::Days::new(i);
        let input = d.format("%Y-%m-%d").to_string();
        let out = mask(Algorithm::DateShiftVariable, &k, &input).unwrap();
        let (o, _) = split_date(&out);
        let shift = (o - d).num_days();
        assert!(shift != 0 && shift.abs() <= DATE_SHIFT_MAX_DAYS);
        shifts.insert(shift);
        // Timestamps on the same day shift with their date.
        let ts = format!("{input} 12:34:56.789+05:30");
        assert_eq!(
            ok(Algorithm::DateShiftVariable, &ts),
            format!("{out} 12:34:56.789+05:30")
        );
    }
    // All 730 possible shifts occur, both directions, up to the maximum.
    assert_eq!(shifts.len(), 2 * DATE_SHIFT_MAX_DAYS as usize);
    assert!(shifts.contains(&DATE_SHIFT_MAX_DAYS) && shifts.contains(&-DATE_SHIFT_MAX_DAYS));

    for input in [
        "2021-03-04",
        "2021-03-04 05:06:07",
        "2021-03-04 05:06:07.123456",
        "2021-03-04 05:06:07+00",
        "2021-03-04 05:06:07.5-03:30",
        "2021-03-04 05:06:07+05:30:15",
        "2021-03-04T05:06:07Z",
        "2021-03-04 05:06",
        "0001-01-01",
        "9999-12-31 23:59:59",
        "2020-02-29",
    ] {
        let out = ok(Algorithm::DateShiftVariable, input);
        check_output(Algorithm::DateShiftVariable, input, &out).unwrap();
    }
    for bad in [
        "",
        "2021",
        "2021-13-01",
        "2021-02-30",
        "0000-01-01",
        "21-03-04",
        "2021-03-04x",
        "2021-03-04 25:00:00",
        "2021-03-04 05:06:07 BC",
        "2021-03-04 05:06:07.",
        "infinity",
        "2021/03/04",
        "２０２１-03-04",
        "2021-03-04 05:06:07+",
        "2021-03-04 05:06:07+5",
    ] {
        assert!(
            mask(Algorithm::DateShiftVariable, &key(), bad).is_err(),
            "{bad:?}"
        );
    }
}

#[test]
fn number_examples() {
    assert_eq!(ok(Algorithm::NumberMinMax, "0"), "0");
    assert_eq!(ok(Algorithm::NumberMinMax, "-0.00"), "-0.00");
    assert_eq!(ok(Algorithm::NumberMinMax, "1"), "2");
    let out = ok(Algorithm::NumberMinMax, "-1234.50");
    assert!(
        out.starts_with('-') && out.split_once('.').unwrap().1.len() == 2,
        "{out}"
    );
    let v: f64 = out.parse().unwrap();
    assert!((-1851.75..=-1000.0).contains(&v) && v != -1234.5, "{out}");
    let small = ok(Algorithm::NumberMinMax, "0.05");
    assert!(
        ["0.03", "0.04", "0.06", "0.07"].contains(&small.as_str()),
        "{small}"
    );
    assert_eq!(ok(Algorithm::NumberMinMax, "007").len(), 3);
    // Integer type limits hold.
    for (min, max) in [
        (-32_768i128, 32_767i128),
        (-2_147_483_648, 2_147_483_647),
        (-9_223_372_036_854_775_808, 9_223_372_036_854_775_807),
    ] {
        for input in (max - 300..=max).chain(min..min + 300) {
            let v: i128 = ok(Algorithm::NumberMinMax, &input.to_string())
                .parse()
                .unwrap();
            assert!((min..=max).contains(&v), "{input} -> {v}");
        }
    }
    // numeric(5,2) stays numeric(5,2).
    for input in ["999.99", "500.00", "-999.99"] {
        let out = ok(Algorithm::NumberMinMax, input);
        assert!(out.trim_start_matches('-').len() == 6, "{input} -> {out}");
    }
    assert!(
        mask(
            Algorithm::NumberMinMax,
            &key(),
            "12345678901234567890123456789012345678"
        )
        .is_ok()
    );
    for bad in [
        "",
        "-",
        "+",
        ".5",
        "5.",
        "1e5",
        "NaN",
        "Infinity",
        "1,000",
        " 1",
        "1 ",
        "--1",
        "1.2.3",
        "123456789012345678901234567890123456789",
    ] {
        assert!(
            mask(Algorithm::NumberMinMax, &key(), bad).is_err(),
            "{bad:?}"
        );
    }
}

#[test]
fn redaction_examples() {
    assert_eq!(ok(Algorithm::RedactText, ""), "");
    assert_eq!(ok(Algorithm::RedactText, "Ab 12-z!"), "XX 00-X!");
    assert_eq!(ok(Algorithm::RedactText, "Żółw ٣ 日本"), "XXXX 0 XX");
}

// ---------------------------------------------------------------- street addresses, IPv4

/// True when `out` has the shape `pattern`: `d` a digit, `D` a digit 1-9, `L`
/// a letter, `*` a street name from the list, anything else itself.
fn shaped(out: &str, pattern: &str) -> bool {
    let (mut o, mut p) = (out, pattern);
    while let Some(pc) = p.chars().next() {
        p = &p[pc.len_utf8()..];
        if pc == '*' {
            let end = o.find([' ', ',']).unwrap_or(o.len());
            if !street_names()
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&o[..end]))
            {
                return false;
            }
            o = &o[end..];
            continue;
        }
        let Some(oc) = o.chars().next() else {
            return false;
        };
        o = &o[oc.len_utf8()..];
        let ok = match pc {
            '0' => oc.is_ascii_digit(),
            '1' => oc.is_ascii_digit() && oc != '0',
            '@' => oc.is_ascii_alphabetic(),
            _ => oc == pc,
        };
        if !ok {
            return false;
        }
    }
    o.is_empty()
}

#[test]
fn street_address_examples() {
    for (input, pattern) in [
        ("123 Main St", "100 * St"),
        ("123 Main St.", "100 * St."),
        ("4500 North Oak Avenue Apt 4B", "1000 North * Avenue Apt 1B"),
        ("221B Baker Street", "100B * Street"),
        ("1600 Martin Luther King Jr Blvd", "1000 * Blvd"),
        ("1 N 4th St", "1 N * St"),
        ("10 Downing Street NW", "10 * Street NW"),
        ("12 Elm Ct, Apt. 4B", "10 * Ct, Apt. 1B"),
        ("500 Market St Suite 200", "100 * St Suite 100"),
        ("500 Market St, Ste 200", "100 * St, Ste 100"),
        ("77 Ocean Dr #12", "10 * Dr #10"),
        ("77 Ocean Dr # 12", "10 * Dr # 10"),
        ("77 Ocean Dr Apt #12", "10 * Dr Apt #10"),
        ("9 O'Connell Rd Unit 3-A", "1 * Rd Unit 1-A"),
        ("  12   Elm   Ct  ", "10 * Ct"),
        ("0 Elm St", "0 * St"),
        ("12-34 Elm St", "10-10 * St"),
        // No suffix: the street name alone replaces everything after the number.
        ("500 Broadway", "100 *"),
        ("123 Main St, Springfield", "100 *"),
        ("123 St", "100 *"),
        // Many letters after a designator are not kept.
        ("12 Elm Ct Apt Smith", "10 * Ct Apt @@@@@"),
    ] {
        let out = ok(Algorithm::StreetAddressLookup, input);
        assert!(
            shaped(&out, pattern),
            "{input:?} -> {out:?}, want {pattern:?}"
        );
        if is_street_address(input) {
            assert!(is_street_address(&out), "{input:?} -> {out:?}");
        }
    }
    assert!(!ok(Algorithm::StreetAddressLookup, "12 Elm Ct Apt Smith").contains("Smith"));
    // Case style follows the input; case and spacing do not change the result.
    let title = ok(Algorithm::StreetAddressLookup, "350 Fifth Avenue");
    let upper = ok(Algorithm::StreetAddressLookup, "350 FIFTH AVENUE");
    let lower = ok(Algorithm::StreetAddressLookup, "  350  fifth avenue ");
    assert_eq!(upper, upper.to_uppercase());
    assert_eq!(lower, lower.to_lowercase());
    assert_eq!(title.to_lowercase(), lower);
    assert_eq!(upper.to_lowercase(), lower);
    let name = title.split(' ').nth(1).unwrap();
    assert!(street_names().contains(&name), "{title}");
    // Keyed: another key gives another address; another number another street.
    assert_ne!(
        mask(
            Algorithm::StreetAddressLookup,
            &other_key(),
            "350 Fifth Avenue"
        )
        .unwrap(),
        title
    );
    let streets: HashSet<String> = (1..=200)
        .map(|n| ok(Algorithm::StreetAddressLookup, &format!("{n} Main St")))
        .map(|out| out.split(' ').nth(1).unwrap().to_string())
        .collect();
    assert!(streets.len() > 150, "{}", streets.len());

    for bad in [
        "",
        "   ",
        "Main Street",
        "Highway 101",
        "PO Box 12",
        "123",
        "123 456",
        "12 , 34",
        "12AB Main St",
        "A12 Main St",
        "12345678901 Main St",
        "-12 Main St",
        "12- Main St",
        "１２ Main St",
    ] {
        let e = mask(Algorithm::StreetAddressLookup, &key(), bad).unwrap_err();
        for word in bad.split_whitespace().filter(|w| w.len() > 3) {
            assert!(!e.reason.contains(word), "{bad:?}: {}", e.reason);
        }
    }
}

#[test]
fn street_address_spreads_over_the_list() {
    let k = key();
    let mut seen = HashSet::new();
    for i in 0..20_000 {
        let out = mask(Algorithm::StreetAddressLookup, &k, &format!("{i} Elm St")).unwrap();
        seen.insert(out.split(' ').nth(1).unwrap().to_string());
    }
    // 20,000 draws from ~900 names leave none unused.
    assert_eq!(seen.len(), street_names().len());
}

#[test]
fn ipv4_examples() {
    for (input, class) in [
        ("10.0.0.1", "private 10/8"),
        ("172.16.0.1", "private 172.16/12"),
        ("172.31.255.255", "private 172.16/12"),
        ("192.168.1.1", "private 192.168/16"),
        ("127.0.0.1", "loopback"),
        ("8.8.8.8", "public"),
        ("1.0.0.0", "public"),
        ("223.255.255.255", "public"),
        ("172.15.255.255", "public"),
        ("172.32.0.0", "public"),
        ("169.254.1.2", "link-local"),
        ("100.64.0.1", "shared"),
        ("224.0.0.251", "multicast"),
        ("0.0.0.0", "this network"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.1", "TEST-NET-1"),
    ] {
        let out = ok(Algorithm::Ipv4Segment, input);
        assert!(is_ipv4(&out), "{input} -> {out}");
        assert_eq!(ipv4_class(&out), class, "{input} -> {out}");
        assert_eq!(ipv4_class(input), class, "{input}");
        assert_ne!(out, input);
        // (A /24 block has 256 addresses: two keys agree on one in 256.)
        if class != "TEST-NET-1" {
            assert_ne!(
                mask(Algorithm::Ipv4Segment, &other_key(), input).unwrap(),
                out,
                "{input}: not keyed"
            );
        }
    }
    let block = |k: &MaskingKey| -> Vec<String> {
        (0..256)
            .map(|x| mask(Algorithm::Ipv4Segment, k, &format!("192.0.2.{x}")).unwrap())
            .collect()
    };
    assert_ne!(block(&key()), block(&other_key()));
    let padded = ok(Algorithm::Ipv4Segment, " 10.1.2.3 ");
    assert!(
        padded.starts_with(" 10.") && padded.ends_with(' '),
        "{padded:?}"
    );
    assert_eq!(padded.trim(), ok(Algorithm::Ipv4Segment, "10.1.2.3"));
    for bad in [
        "",
        "256.1.1.1",
        "01.2.3.4",
        "1.2.3.00",
        "1.2.3",
        "1.2.3.4.5",
        "1.2.3.4/24",
        "10.0.0.0/8",
        "1.2.3.",
        "1..2.3",
        "a.b.c.d",
        "1.2.3.-4",
        "+1.2.3.4",
        "1.2.3.4 5",
        "1234.50",
        "::1",
        "::ffff:10.0.0.1",
        "１.2.3.4",
        "1.2.3.4\u{0}",
    ] {
        let e = mask(Algorithm::Ipv4Segment, &key(), bad).unwrap_err();
        assert!(
            bad.len() < 4 || !e.reason.contains(bad),
            "{bad:?}: {}",
            e.reason
        );
    }
}

#[test]
fn ipv4_keeps_distinct_addresses_distinct() {
    let k = key();
    for (prefix, count) in [("192.168", 65_536u32), ("192.0.2", 256)] {
        let outputs: HashSet<String> = (0..count)
            .map(|x| {
                let host = if count == 256 {
                    format!("{x}")
                } else {
                    format!("{}.{}", x >> 8, x & 255)
                };
                let out = mask(Algorithm::Ipv4Segment, &k, &format!("{prefix}.{host}")).unwrap();
                assert!(out.starts_with(&format!("{prefix}.")), "{out}");
                out
            })
            .collect();
        assert_eq!(outputs.len(), count as usize, "{prefix}: merged addresses");
    }
    let publics: Vec<String> = sample(ipv4_input(), 20_000)
        .into_iter()
        .filter(|s| ipv4_class(s) == "public")
        .map(|s| s.trim().to_string())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let outputs: HashSet<String> = publics
        .iter()
        .map(|s| ok(Algorithm::Ipv4Segment, s))
        .collect();
    assert!(publics.len() > 5_000, "{}", publics.len());
    assert_eq!(outputs.len(), publics.len());
}

#[test]
fn huge_and_hostile_inputs_do_not_panic() {
    let big_digits = "7".repeat(200_000);
    let big_text = "aé \u{0}1".repeat(50_000);
    let controls: String = (0u8..32).map(char::from).collect();
    for input in [
        big_digits.as_str(),
        big_text.as_str(),
        controls.as_str(),
        "\u{10FFFF}",
        "\u{FEFF}1",
    ] {
        for alg in Algorithm::ALL {
            let res = alg.mask(&key(), Some(input));
            if let Ok(Some(out)) = &res
                && matches!(alg, Algorithm::DigitsSegment | Algorithm::RedactText)
            {
                assert_eq!(out.chars().count(), input.chars().count());
            }
        }
    }
    let masked = ok(Algorithm::DigitsSegment, &big_digits);
    assert_ne!(masked, big_digits);
    assert!(masked.bytes().all(|b| b.is_ascii_digit()));
}
