//! Masking algorithms of maskd (API-compatible with the Delphix Masking Engine's
//! built-in algorithms).
//!
//! Every algorithm is a pure function of `(key, algorithm, input)`:
//! deterministic for a given [`MaskingKey`], different for a different key, and
//! domain-separated so that the same string masked by two algorithms gives
//! unrelated results. Values arrive as PostgreSQL's text output of the column
//! (`col::text`) and are returned as text for `$1::text::<type>`.
//!
//! A value an algorithm cannot mask yields [`NonConformant`] (the engine leaves
//! it unmasked and counts it); no input, however malformed, makes an algorithm
//! panic. Reasons never quote the value itself, so they are safe to log.

mod date;
mod fpe;
mod lookup;
mod number;
mod prf;
mod redact;
mod segment;

/// The shipped name lists, which profiling also reads.
pub(crate) use lookup::{first_names, last_names};
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;

/// Largest shift, in days, applied by [`Algorithm::DateShiftVariable`] (in
/// either direction; the shift is never 0).
pub const DATE_SHIFT_MAX_DAYS: i64 = 365;

/// Key for deterministic masking, derived from `MASKD_SECRET_KEY` bytes.
///
/// Construction precomputes one keyed HMAC-SHA256 state per algorithm domain,
/// so masking a value only clones a state. Cloning a key is cheap (shared).
#[derive(Clone)]
pub struct MaskingKey {
    inner: Arc<prf::Keyed>,
}

impl MaskingKey {
    /// Derives the masking key from the secret bytes (any length is accepted;
    /// the service should insist on at least 32 random bytes).
    pub fn new(secret: &[u8]) -> Self {
        MaskingKey {
            inner: Arc::new(prf::Keyed::new(secret)),
        }
    }
}

impl fmt::Debug for MaskingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MaskingKey(..)")
    }
}

/// A value the algorithm cannot mask (the engine leaves it unmasked and counts it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonConformant {
    pub reason: String,
}

impl NonConformant {
    pub fn new(reason: impl Into<String>) -> Self {
        NonConformant {
            reason: reason.into(),
        }
    }
}

impl fmt::Display for NonConformant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "non-conformant value: {}", self.reason)
    }
}

impl std::error::Error for NonConformant {}

/// The built-in masking algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    FirstNameLookup,
    LastNameLookup,
    FullNameLookup,
    EmailLookup,
    PhoneNumberSegment,
    DigitsSegment,
    SsnSegment,
    CreditCardSegment,
    DateShiftVariable,
    RedactText,
    NullValueLookup,
    NumberMinMax,
    StreetAddressLookup,
    Ipv4Segment,
}

impl Algorithm {
    pub const ALL: [Algorithm; 14] = [
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
        Algorithm::NullValueLookup,
        Algorithm::NumberMinMax,
        Algorithm::StreetAddressLookup,
        Algorithm::Ipv4Segment,
    ];

    /// The algorithm's name as used in the API (the variant name).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::FirstNameLookup => "FirstNameLookup",
            Algorithm::LastNameLookup => "LastNameLookup",
            Algorithm::FullNameLookup => "FullNameLookup",
            Algorithm::EmailLookup => "EmailLookup",
            Algorithm::PhoneNumberSegment => "PhoneNumberSegment",
            Algorithm::DigitsSegment => "DigitsSegment",
            Algorithm::SsnSegment => "SsnSegment",
            Algorithm::CreditCardSegment => "CreditCardSegment",
            Algorithm::DateShiftVariable => "DateShiftVariable",
            Algorithm::RedactText => "RedactText",
            Algorithm::NullValueLookup => "NullValueLookup",
            Algorithm::NumberMinMax => "NumberMinMax",
            Algorithm::StreetAddressLookup => "StreetAddressLookup",
            Algorithm::Ipv4Segment => "Ipv4Segment",
        }
    }

    /// Looks an algorithm up by its exact (case-sensitive) name.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The Delphix algorithm type of this algorithm.
    pub fn algorithm_type(self) -> &'static str {
        match self {
            Algorithm::FirstNameLookup
            | Algorithm::LastNameLookup
            | Algorithm::FullNameLookup
            | Algorithm::EmailLookup
            | Algorithm::NullValueLookup
            | Algorithm::StreetAddressLookup => "LOOKUP",
            Algorithm::PhoneNumberSegment
            | Algorithm::DigitsSegment
            | Algorithm::SsnSegment
            | Algorithm::CreditCardSegment
            | Algorithm::Ipv4Segment => "SEGMENT",
            Algorithm::DateShiftVariable => "DATE_SHIFT",
            Algorithm::RedactText => "REDACTION",
            Algorithm::NumberMinMax => "MINMAX",
        }
    }

    /// Delphix's `maskType`: the kind of value the algorithm masks.
    pub fn mask_type(self) -> &'static str {
        match self {
            Algorithm::DateShiftVariable => "LOCAL_DATE_TIME",
            Algorithm::NumberMinMax => "BIG_DECIMAL",
            _ => "STRING",
        }
    }

    /// One sentence describing what the algorithm does to a value.
    pub fn description(self) -> &'static str {
        match self {
            Algorithm::FirstNameLookup => {
                "Replaces a first name with a realistic first name chosen by a keyed secure lookup \
                 (the same name, ignoring case and surrounding spaces, always gets the same replacement)."
            }
            Algorithm::LastNameLookup => {
                "Replaces a last name with a realistic last name chosen by a keyed secure lookup \
                 (the same name, ignoring case and surrounding spaces, always gets the same replacement)."
            }
            Algorithm::FullNameLookup => {
                "Replaces a full name with a realistic \"First Last\" name whose two parts are each \
                 chosen by a keyed secure lookup of the whole name."
            }
            Algorithm::EmailLookup => {
                "Replaces the part of an email address before the @ with a keyed \
                 firstname.lastname plus digits, keeping the domain unchanged."
            }
            Algorithm::PhoneNumberSegment => {
                "Replaces every digit of a phone number (at least 7 digits) with keyed pseudo-random \
                 digits, keeping the length and all other characters such as +, spaces, dashes and \
                 parentheses in place."
            }
            Algorithm::DigitsSegment => {
                "Replaces every digit of a value with keyed pseudo-random digits, keeping the length \
                 and all other characters in place."
            }
            Algorithm::SsnSegment => {
                "Replaces a US Social Security number (123-45-6789, 123 45 6789 or 123456789) with a \
                 valid-looking keyed one (area 001-899 except 666, group 01-99, serial 0001-9999), \
                 keeping the separators."
            }
            Algorithm::CreditCardSegment => {
                "Replaces the account digits of a 12-19 digit card number with keyed digits, keeping \
                 the first 6 digits (issuer), the separators and a valid Luhn check digit."
            }
            Algorithm::DateShiftVariable => {
                "Shifts a date or timestamp by a keyed number of days between 1 and 365, earlier or \
                 later, chosen from the date, keeping the time of day and time zone exactly as written."
            }
            Algorithm::RedactText => {
                "Replaces every letter with X and every digit with 0, keeping all other characters \
                 and the length."
            }
            Algorithm::NullValueLookup => "Replaces every value with NULL.",
            Algorithm::NumberMinMax => {
                "Replaces a number with a keyed pseudo-random value between 50% and 150% of it (never \
                 the number itself), keeping its sign, decimal places and count of digits, so zero \
                 stays zero."
            }
            Algorithm::StreetAddressLookup => {
                "Replaces a US street address line (123 Main St Apt 4B) with a realistic one chosen \
                 by a keyed secure lookup of the whole address: a keyed house number with as many \
                 digits, a street name from a shipped list, and the original's directions, street \
                 suffix and unit designator as written, with the unit's number replaced by keyed \
                 digits."
            }
            Algorithm::Ipv4Segment => {
                "Replaces a dotted-decimal IPv4 address with a keyed one of the same kind: private \
                 (10/8, 172.16/12, 192.168/16), loopback and other special-purpose addresses stay \
                 in their block and public addresses map to public ones, distinct addresses staying \
                 distinct."
            }
        }
    }

    /// Masks one value given as PostgreSQL text output. `None` is SQL NULL and
    /// stays `None` (NullValueLookup returns `Ok(None)` for everything).
    pub fn mask(
        self,
        key: &MaskingKey,
        value: Option<&str>,
    ) -> Result<Option<String>, NonConformant> {
        let Some(value) = value else {
            return Ok(None);
        };
        let k = &*key.inner;
        let masked = match self {
            Algorithm::FirstNameLookup => lookup::first_name(k, value)?,
            Algorithm::LastNameLookup => lookup::last_name(k, value)?,
            Algorithm::FullNameLookup => lookup::full_name(k, value)?,
            Algorithm::EmailLookup => lookup::email(k, value)?,
            Algorithm::PhoneNumberSegment => segment::phone(k, value)?,
            Algorithm::DigitsSegment => segment::digits(k, value)?,
            Algorithm::SsnSegment => segment::ssn(k, value)?,
            Algorithm::CreditCardSegment => segment::credit_card(k, value)?,
            Algorithm::DateShiftVariable => date::shift(k, value)?,
            Algorithm::RedactText => redact::redact(value),
            Algorithm::NullValueLookup => return Ok(None),
            Algorithm::NumberMinMax => number::min_max(k, value)?,
            Algorithm::StreetAddressLookup => lookup::street_address(k, value)?,
            Algorithm::Ipv4Segment => segment::ipv4(k, value)?,
        };
        Ok(Some(masked))
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
