//! Profiling: finding personal data in database columns from a sample of their values.
//!
//! [`validators`] decide whether one value is an instance of a [`Kind`]; [`classify`] turns those
//! decisions over a column's sample into a [`Finding`], or none. Pure functions: the caller reads
//! the sample (non-NULL values, as `col::text`) and records the finding.

pub mod validators;

use chrono::NaiveDate;

/// Fewest non-blank values [`classify`] decides on: a smaller sample gives no finding.
pub const MIN_VALUES: usize = 5;

/// The most memory a compiled profile expression may take: far above any useful expression, low
/// enough that no expression can exhaust a worker (`a{1000}{1000}` is refused).
const EXPRESSION_SIZE_LIMIT: usize = 1 << 20;

/// A profile expression compiled, the same way when it is saved and when a run uses it: Rust's
/// regex, which runs in linear time, within [`EXPRESSION_SIZE_LIMIT`].
pub fn compile_expression(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .size_limit(EXPRESSION_SIZE_LIMIT)
        .build()
}

/// A kind of personal data a validator recognises, mapped to a masking domain.
///
/// [`Kind::ALL`] lists the kinds in order of precedence: when two kinds match as many values of
/// a column, [`classify`] picks the one listed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    CreditCard,
    Ssn,
    Email,
    Phone,
    Ipv4,
    DateOfBirth,
    StreetAddress,
    FullName,
    FirstName,
    LastName,
}

impl Kind {
    /// Every kind, in order of precedence (see [`classify`]).
    pub const ALL: [Kind; 10] = [
        Kind::CreditCard,
        Kind::Ssn,
        Kind::Email,
        Kind::Phone,
        Kind::Ipv4,
        Kind::DateOfBirth,
        Kind::StreetAddress,
        Kind::FullName,
        Kind::FirstName,
        Kind::LastName,
    ];

    /// The masking domain of this kind of data.
    pub fn domain_name(self) -> &'static str {
        match self {
            Kind::CreditCard => "CREDIT_CARD",
            Kind::Ssn => "SSN",
            Kind::Email => "EMAIL",
            Kind::Phone => "TELEPHONE_NO",
            Kind::Ipv4 => "IP_ADDRESS",
            Kind::DateOfBirth => "DOB",
            Kind::StreetAddress => "ADDRESS",
            Kind::FullName => "FULL_NAME",
            Kind::FirstName => "FIRST_NAME",
            Kind::LastName => "LAST_NAME",
        }
    }

    /// The stable name of this kind's validator, recorded with a finding.
    pub fn validator_name(self) -> &'static str {
        match self {
            Kind::CreditCard => "luhn-card",
            Kind::Ssn => "ssn-rules",
            Kind::Email => "email-syntax",
            Kind::Phone => "us-phone",
            Kind::Ipv4 => "ipv4",
            Kind::DateOfBirth => "birth-date-range",
            Kind::StreetAddress => "street-address",
            Kind::FullName => "full-name-list",
            Kind::FirstName => "first-name-list",
            Kind::LastName => "last-name-list",
        }
    }

    /// Whether `value` is an instance of this kind, by its validator; `today` dates the range
    /// of birth dates.
    pub fn matches(self, value: &str, today: NaiveDate) -> bool {
        match self {
            Kind::CreditCard => validators::is_credit_card(value),
            Kind::Ssn => validators::is_ssn(value),
            Kind::Email => validators::is_email(value),
            Kind::Phone => validators::is_us_phone(value),
            Kind::Ipv4 => validators::is_ipv4(value),
            Kind::DateOfBirth => validators::is_birth_date(value, today),
            Kind::StreetAddress => validators::is_street_address(value),
            Kind::FullName => validators::is_full_name(value),
            Kind::FirstName => validators::is_first_name(value),
            Kind::LastName => validators::is_last_name(value),
        }
    }
}

/// What [`classify`] found in a column: `matched` of the `sampled` non-blank values are of
/// `kind`, `ratio` being `matched / sampled`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finding {
    pub kind: Kind,
    pub matched: usize,
    pub sampled: usize,
    pub ratio: f64,
}

/// The kind of personal data in a column, among `kinds` (those a profile set looks for), from a
/// sample of its non-NULL values (as `col::text`).
///
/// Blank values (empty or whitespace only) are skipped and not counted. With fewer than
/// [`MIN_VALUES`] values left there is no finding. Otherwise the validator of every kind of `kinds` runs on
/// every value, and the kind matching the most values wins when its ratio (matched / sampled)
/// is at least `threshold` (e.g. 0.8; a NaN threshold finds nothing). A kind matching no value
/// never wins.
///
/// Ties go to the kind listed first in [`Kind::ALL`]. Only the name kinds can match the same
/// value (`James` is a first and a last name; card numbers, SSNs and phone numbers differ in
/// their digit counts, the other kinds in shape), so in practice: a column whose values are
/// mostly in the name lists is a name column, [`Kind::FullName`] when most values are two or
/// three words (a full name is never a single first or last name, so it wins only with at least
/// as many matches), then [`Kind::FirstName`] before [`Kind::LastName`] when the single words
/// are in both lists equally often.
pub fn classify(
    values: &[&str],
    kinds: &[Kind],
    today: NaiveDate,
    threshold: f64,
) -> Option<Finding> {
    let sample: Vec<&str> = values
        .iter()
        .copied()
        .filter(|v| !v.trim().is_empty())
        .collect();
    if sample.len() < MIN_VALUES {
        return None;
    }
    let mut best: Option<(Kind, usize)> = None;
    for kind in Kind::ALL.into_iter().filter(|k| kinds.contains(k)) {
        let matched = sample.iter().filter(|v| kind.matches(v, today)).count();
        if matched > best.map_or(0, |(_, m)| m) {
            best = Some((kind, matched));
        }
    }
    let (kind, matched) = best?;
    let ratio = matched as f64 / sample.len() as f64;
    (ratio >= threshold).then_some(Finding {
        kind,
        matched,
        sampled: sample.len(),
        ratio,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;

    use super::validators::{is_credit_card, luhn};
    use super::*;
    use crate::masking::domains;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, 15).expect("a valid date")
    }

    fn classify_at(values: &[&str], threshold: f64) -> Option<Finding> {
        classify(values, &Kind::ALL, today(), threshold)
    }

    fn kind_of(values: &[&str]) -> Option<Kind> {
        classify_at(values, 0.8).map(|f| f.kind)
    }

    #[test]
    fn kinds_map_to_domains_and_have_distinct_validator_names() {
        for kind in Kind::ALL {
            let name = kind.domain_name();
            assert!(domains::find(name).is_some(), "{kind:?} -> {name}");
        }
        let names: HashSet<_> = Kind::ALL.iter().map(|k| k.validator_name()).collect();
        assert_eq!(names.len(), Kind::ALL.len());
        let domains: HashSet<_> = Kind::ALL.iter().map(|k| k.domain_name()).collect();
        assert_eq!(domains.len(), Kind::ALL.len());
    }

    #[test]
    fn a_card_column_is_credit_cards() {
        let values = [
            "4111111111111111",
            "5555 5555 5555 4444",
            "378282246310005",
            "6011-1111-1111-1117",
            "3530111333300000",
            "",
            "4111111111111112", // a typo: fails Luhn
        ];
        let finding = classify_at(&values, 0.8).expect("a finding");
        assert_eq!(
            finding,
            Finding {
                kind: Kind::CreditCard,
                matched: 5,
                sampled: 6,
                ratio: 5.0 / 6.0,
            }
        );
        assert_eq!(classify_at(&values, 0.9), None);
    }

    #[test]
    fn an_email_column_is_emails() {
        let values = [
            "john.smith@example.com",
            "mary@example.org",
            "r.brown+news@mail.example.co.uk",
            "   ",
            "ops@example.io",
            "sales@example.com",
        ];
        let finding = classify_at(&values, 0.8).expect("a finding");
        assert_eq!(
            (finding.kind, finding.matched, finding.sampled),
            (Kind::Email, 5, 5)
        );
        assert_eq!(finding.ratio, 1.0);
    }

    #[test]
    fn other_columns_of_personal_data_are_found() {
        let columns: [(&[&str], Kind); 8] = [
            (
                &[
                    "123-45-6789",
                    "536-22-1234",
                    "001-01-0001",
                    "665 99 9999",
                    "899123456",
                ],
                Kind::Ssn,
            ),
            (
                &[
                    "(212) 555-0123",
                    "212-555-0199",
                    "+1 415 555 2671",
                    "3125550100",
                    "617.555.0142 x12",
                ],
                Kind::Phone,
            ),
            (
                &[
                    "10.0.0.1",
                    "192.168.1.20",
                    "8.8.8.8",
                    "172.16.0.254",
                    "0.0.0.0",
                ],
                Kind::Ipv4,
            ),
            (
                &[
                    "1985-03-14",
                    "1962-11-30",
                    "2001-07-04",
                    "1947-01-09",
                    "1990-12-25",
                ],
                Kind::DateOfBirth,
            ),
            (
                &[
                    "123 Main St",
                    "42 Elm Ave Apt 3",
                    "7 Oak Lane",
                    "900 Park Blvd, Suite 12",
                    "15 Pine Ct",
                ],
                Kind::StreetAddress,
            ),
            (
                &[
                    "John Smith",
                    "Mary Johnson",
                    "Robert Q. Brown",
                    "Linda Garcia",
                    "Michael Miller",
                ],
                Kind::FullName,
            ),
            (
                &[
                    "Jennifer",
                    "Michael",
                    "Linda",
                    "Barbara",
                    "Susan",
                    "Elizabeth",
                ],
                Kind::FirstName,
            ),
            (
                &[
                    "Smith",
                    "Johnson",
                    "Williams",
                    "Garcia",
                    "Rodriguez",
                    "Martinez",
                ],
                Kind::LastName,
            ),
        ];
        for (values, kind) in columns {
            assert_eq!(kind_of(values), Some(kind), "{values:?}");
        }
    }

    #[test]
    fn recent_order_dates_are_not_birth_dates() {
        let values = [
            "2024-11-02",
            "2025-01-17 09:12:44.1+00",
            "2023-08-30",
            "2025-05-20 14:03:11.52+00",
            "2022-02-14",
            "2025-06-01",
        ];
        assert_eq!(classify_at(&values, 0.8), None);
    }

    #[test]
    fn a_column_of_product_names_called_name_is_not_names() {
        let values = [
            "Deluxe Widget",
            "Garden Hose",
            "Coffee Mug",
            "Desk Lamp",
            "Water Bottle",
            "Premium Chair",
        ];
        assert_eq!(classify_at(&values, 0.8), None);
    }

    #[test]
    fn columns_of_other_data_give_no_finding() {
        let columns: [&[&str]; 6] = [
            &[
                "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
                "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
                "6ba7b811-9dad-11d1-80b4-00c04fd430c8",
                "00000000-0000-0000-0000-000000000000",
                "123e4567-e89b-12d3-a456-426614174000",
            ],
            &[
                "SKU-88213-BLK",
                "SKU-88214-RED",
                "SKU-10001-WHT",
                "SKU-20400-BLU",
                "SKU-30000-GRN",
            ],
            &["1234.50", "19.99", "0.00", "250.00", "1000000.01"],
            &["true", "false", "true", "true", "false", "true"],
            &["true", "true", "true", "true", "true"],
            &[
                "please call back tomorrow",
                "left a voicemail",
                "customer asked for a refund",
                "shipped 2 boxes",
                "n/a",
            ],
        ];
        for values in columns {
            assert_eq!(classify_at(values, 0.8), None, "{values:?}");
        }
    }

    #[test]
    fn sequential_invoice_numbers_with_group_00_are_not_ssns() {
        let invoices: Vec<String> = (100_000_001..=100_000_050).map(|n| n.to_string()).collect();
        let values: Vec<&str> = invoices.iter().map(String::as_str).collect();
        assert_eq!(classify_at(&values, 0.8), None);
    }

    #[test]
    fn sequential_invoice_numbers_in_issued_ranges_look_like_ssns() {
        // What the validator cannot tell apart: nine-digit numbers in the ranges the SSA issues
        // (area 001-899 but 666, group 01-99, serial 0001-9999) are SSNs as far as their shape
        // goes; only the column's name or type, or its values' uniqueness over time, can say
        // they are invoice numbers.
        let invoices: Vec<String> = (123_456_789..123_456_839).map(|n| n.to_string()).collect();
        let values: Vec<&str> = invoices.iter().map(String::as_str).collect();
        assert_eq!(kind_of(&values), Some(Kind::Ssn));
    }

    #[test]
    fn a_mixed_column_below_the_threshold_gives_no_finding() {
        let values = [
            "john.smith@example.com",
            "mary@example.org",
            "ops@example.io",
            "(212) 555-0123",
            "Deluxe Widget",
            "1234.50",
        ];
        assert_eq!(classify_at(&values, 0.8), None);
        let finding = classify_at(&values, 0.5).expect("a finding at 0.5");
        assert_eq!(
            (finding.kind, finding.matched, finding.sampled),
            (Kind::Email, 3, 6)
        );
        assert_eq!(classify_at(&values, f64::NAN), None);
    }

    #[test]
    fn fewer_than_min_values_give_no_finding() {
        let cards = [
            "4111111111111111",
            "5555555555554444",
            "378282246310005",
            "6011111111111117",
        ];
        assert_eq!(classify_at(&cards, 0.8), None);
        let with_blanks = [cards.as_slice(), &["", "  ", "\t"]].concat();
        assert_eq!(classify_at(&with_blanks, 0.8), None);
        assert_eq!(classify_at(&[], 0.0), None);
        let five = [cards.as_slice(), &["3530111333300000"]].concat();
        assert_eq!(kind_of(&five), Some(Kind::CreditCard));
    }

    #[test]
    fn ties_go_to_the_kind_listed_first() {
        // Each of these is both a first and a last name in the census lists.
        let values = ["James", "Thomas", "Lee", "Taylor", "Scott"];
        for v in values {
            assert!(Kind::FirstName.matches(v, today()) && Kind::LastName.matches(v, today()));
        }
        assert_eq!(kind_of(&values), Some(Kind::FirstName));
    }

    /// Issuer prefixes and a length each issues, for generated card numbers.
    const ISSUERS: &[(&str, usize)] = &[
        ("4", 16),
        ("4", 13),
        ("4", 19),
        ("51", 16),
        ("55", 16),
        ("2221", 16),
        ("2720", 16),
        ("34", 15),
        ("37", 15),
        ("6011", 16),
        ("644", 16),
        ("649", 19),
        ("65", 16),
        ("3528", 16),
        ("3589", 19),
        ("300", 14),
        ("305", 16),
        ("36", 14),
        ("38", 14),
    ];

    /// A card number: `prefix`, then `body` digits up to one short of `len`, then the Luhn
    /// check digit.
    fn card_number(prefix: &str, len: usize, body: &[u8]) -> String {
        let mut partial: String = prefix.to_string();
        partial.extend(
            body.iter()
                .take(len - 1 - prefix.len())
                .map(|d| char::from(b'0' + d)),
        );
        (0..10u8)
            .map(|d| format!("{partial}{d}"))
            .find(|n| luhn(n))
            .expect("one check digit passes")
    }

    fn card() -> impl Strategy<Value = String> {
        (
            prop::sample::select(ISSUERS),
            prop::collection::vec(0u8..10, 18),
        )
            .prop_map(|((prefix, len), body)| card_number(prefix, len, &body))
    }

    proptest! {
        #[test]
        fn generated_cards_pass(number in card()) {
            prop_assert!(is_credit_card(&number), "{}", number);
            let grouped: Vec<String> = number
                .as_bytes()
                .chunks(4)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            prop_assert!(is_credit_card(&grouped.join(" ")));
            prop_assert!(is_credit_card(&grouped.join("-")));
        }

        #[test]
        fn changing_one_digit_fails_luhn(
            number in card(),
            position in any::<prop::sample::Index>(),
            delta in 1u8..10,
        ) {
            let mut digits = number.into_bytes();
            let i = position.index(digits.len());
            digits[i] = b'0' + (digits[i] - b'0' + delta) % 10;
            let changed = String::from_utf8(digits).expect("ASCII digits");
            prop_assert!(!luhn(&changed), "{}", changed);
            prop_assert!(!is_credit_card(&changed), "{}", changed);
        }

        #[test]
        fn arbitrary_text_never_panics(values in prop::collection::vec(
            // Any text, and text made of the characters the validators look at.
            prop_oneof![any::<String>(), "[0-9a-zA-Z é().:/#,@+-]{0,30}"],
            0..8,
        )) {
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            if let Some(f) = classify(&values, &Kind::ALL, today(), 0.0) {
                prop_assert!(f.matched >= 1 && f.matched <= f.sampled && f.sampled >= MIN_VALUES);
            }
        }
    }

    #[test]
    fn classify_looks_only_for_the_kinds_it_is_given() {
        let emails = [
            "a@example.com",
            "b@example.com",
            "c@example.com",
            "d@example.com",
            "e@example.com",
        ];
        assert_eq!(
            classify(&emails, &[Kind::Email], today(), 0.8).map(|f| f.kind),
            Some(Kind::Email)
        );
        assert_eq!(
            classify(&emails, &[Kind::Ssn, Kind::Phone], today(), 0.8),
            None
        );
        assert_eq!(classify(&emails, &[], today(), 0.8), None);
    }
}
