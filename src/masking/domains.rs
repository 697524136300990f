//! The built-in domains: kinds of sensitive data, each with its default algorithm.

use super::algorithms::Algorithm;

pub struct Domain {
    pub name: &'static str,
    pub default_algorithm: Algorithm,
}

pub const DOMAINS: &[Domain] = &[
    Domain {
        name: "ACCOUNT_NO",
        default_algorithm: Algorithm::DigitsSegment,
    },
    Domain {
        name: "ADDRESS",
        default_algorithm: Algorithm::StreetAddressLookup,
    },
    Domain {
        name: "CREDIT_CARD",
        default_algorithm: Algorithm::CreditCardSegment,
    },
    Domain {
        name: "DOB",
        default_algorithm: Algorithm::DateShiftVariable,
    },
    Domain {
        name: "EMAIL",
        default_algorithm: Algorithm::EmailLookup,
    },
    Domain {
        name: "FIRST_NAME",
        default_algorithm: Algorithm::FirstNameLookup,
    },
    Domain {
        name: "FREE_TEXT",
        default_algorithm: Algorithm::RedactText,
    },
    Domain {
        name: "FULL_NAME",
        default_algorithm: Algorithm::FullNameLookup,
    },
    Domain {
        name: "IP_ADDRESS",
        default_algorithm: Algorithm::Ipv4Segment,
    },
    Domain {
        name: "LAST_NAME",
        default_algorithm: Algorithm::LastNameLookup,
    },
    Domain {
        name: "NULL_VALUE",
        default_algorithm: Algorithm::NullValueLookup,
    },
    Domain {
        name: "NUMBER",
        default_algorithm: Algorithm::NumberMinMax,
    },
    Domain {
        name: "SSN",
        default_algorithm: Algorithm::SsnSegment,
    },
    Domain {
        name: "TELEPHONE_NO",
        default_algorithm: Algorithm::PhoneNumberSegment,
    },
];

pub fn find(name: &str) -> Option<&'static Domain> {
    DOMAINS.iter().find(|d| d.name == name)
}
