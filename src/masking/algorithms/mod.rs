//! The built-in masking algorithms.

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
}

impl Algorithm {
    pub const ALL: [Algorithm; 12] = [
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
    ];

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
        }
    }

    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name)
    }

    pub fn algorithm_type(self) -> &'static str {
        match self {
            Algorithm::FirstNameLookup
            | Algorithm::LastNameLookup
            | Algorithm::FullNameLookup
            | Algorithm::EmailLookup
            | Algorithm::NullValueLookup => "LOOKUP",
            Algorithm::PhoneNumberSegment
            | Algorithm::DigitsSegment
            | Algorithm::SsnSegment
            | Algorithm::CreditCardSegment => "SEGMENT",
            Algorithm::DateShiftVariable => "DATE_SHIFT",
            Algorithm::RedactText => "REDACTION",
            Algorithm::NumberMinMax => "MINMAX",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Algorithm::FirstNameLookup => {
                "Replaces a first name with a realistic first name chosen by secure lookup."
            }
            Algorithm::LastNameLookup => {
                "Replaces a last name with a realistic last name chosen by secure lookup."
            }
            Algorithm::FullNameLookup => {
                "Replaces a full name with a realistic first and last name chosen by secure lookup."
            }
            Algorithm::EmailLookup => {
                "Replaces the local part of an email address, keeping the domain and a valid address."
            }
            Algorithm::PhoneNumberSegment => {
                "Replaces the digits of a phone number, keeping its length, punctuation and spaces."
            }
            Algorithm::DigitsSegment => {
                "Replaces every digit of a string, keeping its length and all other characters."
            }
            Algorithm::SsnSegment => {
                "Replaces a US social security number with a valid-looking one in the same format."
            }
            Algorithm::CreditCardSegment => {
                "Replaces a payment card number, keeping its issuer prefix, length and separators, with a valid Luhn check digit."
            }
            Algorithm::DateShiftVariable => {
                "Shifts a date or timestamp by 1 to 365 days, the same shift for the same date."
            }
            Algorithm::RedactText => {
                "Redacts free text: letters become X and digits 0, keeping its shape."
            }
            Algorithm::NullValueLookup => "Replaces every value with NULL.",
            Algorithm::NumberMinMax => {
                "Replaces a number with one between half and one and a half times it, keeping sign and decimal places."
            }
        }
    }
}
