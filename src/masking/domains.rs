//! The built-in domains: kinds of sensitive data, each with its default algorithm.

use super::algorithms::Algorithm;

pub struct Domain {
    pub name: &'static str,
    pub default_algorithm: Algorithm,
    /// Whether a column's values alone show the domain. A number is a NUMBER to mask only when
    /// the column's name says so (`salary`, not `amount`): for such a domain, profiling counts a
    /// data-level match only in a column whose name one of the set's expressions also matches.
    pub shown_by_values_alone: bool,
}

pub const DOMAINS: &[Domain] = &[
    Domain {
        name: "ACCOUNT_NO",
        default_algorithm: Algorithm::DigitsSegment,
        shown_by_values_alone: true,
    },
    Domain {
        name: "ADDRESS",
        default_algorithm: Algorithm::StreetAddressLookup,
        shown_by_values_alone: true,
    },
    Domain {
        name: "CREDIT_CARD",
        default_algorithm: Algorithm::CreditCardSegment,
        shown_by_values_alone: true,
    },
    Domain {
        name: "DOB",
        default_algorithm: Algorithm::DateShiftVariable,
        shown_by_values_alone: true,
    },
    Domain {
        name: "EMAIL",
        default_algorithm: Algorithm::EmailLookup,
        shown_by_values_alone: true,
    },
    Domain {
        name: "FIRST_NAME",
        default_algorithm: Algorithm::FirstNameLookup,
        shown_by_values_alone: true,
    },
    Domain {
        name: "FREE_TEXT",
        default_algorithm: Algorithm::RedactText,
        shown_by_values_alone: true,
    },
    Domain {
        name: "FULL_NAME",
        default_algorithm: Algorithm::FullNameLookup,
        shown_by_values_alone: true,
    },
    Domain {
        name: "IP_ADDRESS",
        default_algorithm: Algorithm::Ipv4Segment,
        shown_by_values_alone: true,
    },
    Domain {
        name: "LAST_NAME",
        default_algorithm: Algorithm::LastNameLookup,
        shown_by_values_alone: true,
    },
    Domain {
        name: "NULL_VALUE",
        default_algorithm: Algorithm::NullValueLookup,
        shown_by_values_alone: true,
    },
    Domain {
        name: "NUMBER",
        default_algorithm: Algorithm::NumberMinMax,
        shown_by_values_alone: false,
    },
    Domain {
        name: "SSN",
        default_algorithm: Algorithm::SsnSegment,
        shown_by_values_alone: true,
    },
    Domain {
        name: "TELEPHONE_NO",
        default_algorithm: Algorithm::PhoneNumberSegment,
        shown_by_values_alone: true,
    },
];

pub fn find(name: &str) -> Option<&'static Domain> {
    DOMAINS.iter().find(|d| d.name == name)
}
