//! Secure-lookup algorithms: first, last and full names, email addresses and
//! street address lines.
//!
//! The input is normalized (surrounding whitespace trimmed, inner whitespace
//! runs collapsed to one space, lowercased), HMAC'd in the algorithm's domain,
//! and the HMAC picks an entry of a shipped list. "John", "JOHN " and "john"
//! therefore get the same replacement (in their own case style).

use std::fmt::Write as _;
use std::sync::OnceLock;

use super::NonConformant;
use super::prf::{Domain, Keyed, Mac256, Stream};
use crate::masking::address::{DIRECTIONALS, STREET_SUFFIXES, UNIT_DESIGNATORS};

static FIRST_NAMES_TEXT: &str = include_str!("data/first_names.txt");
static LAST_NAMES_TEXT: &str = include_str!("data/last_names.txt");
static STREET_NAMES_TEXT: &str = include_str!("data/street_names.txt");

fn parse_list(text: &'static str) -> Vec<&'static str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
}

/// The shipped first names (Title Case).
pub(crate) fn first_names() -> &'static [&'static str] {
    static LIST: OnceLock<Vec<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| parse_list(FIRST_NAMES_TEXT))
}

/// The shipped last names (Title Case).
pub(crate) fn last_names() -> &'static [&'static str] {
    static LIST: OnceLock<Vec<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| parse_list(LAST_NAMES_TEXT))
}

/// The shipped street names (Title Case, one word each).
pub(crate) fn street_names() -> &'static [&'static str] {
    static LIST: OnceLock<Vec<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| parse_list(STREET_NAMES_TEXT))
}

/// Feeds bytes to an HMAC through a small buffer (few, large updates).
struct Feeder<'a> {
    mac: &'a mut Mac256,
    buf: [u8; 64],
    len: usize,
}

impl Feeder<'_> {
    #[inline]
    fn push(&mut self, b: u8) {
        if self.len == self.buf.len() {
            self.mac.update(&self.buf);
            self.len = 0;
        }
        self.buf[self.len] = b;
        self.len += 1;
    }

    fn finish(self) {
        self.mac.update(&self.buf[..self.len]);
    }
}

/// Feeds the normalized form of `s` (trimmed, whitespace runs collapsed to a
/// single space, lowercased) to `mac`. Returns false when nothing is left.
pub(crate) fn feed_normalized(mac: &mut Mac256, s: &str) -> bool {
    let t = s.trim();
    if t.is_empty() {
        return false;
    }
    let mut feeder = Feeder {
        mac,
        buf: [0; 64],
        len: 0,
    };
    let mut pending_space = false;
    for c in t.chars() {
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space {
            feeder.push(b' ');
            pending_space = false;
        }
        if c.is_ascii() {
            feeder.push((c as u8).to_ascii_lowercase());
        } else {
            for l in c.to_lowercase() {
                let mut tmp = [0u8; 4];
                for &b in l.encode_utf8(&mut tmp).as_bytes() {
                    feeder.push(b);
                }
            }
        }
    }
    feeder.finish();
    true
}

/// True when the input is written in capitals (at least two uppercase letters
/// and no lowercase one); such input gets an ALL CAPS replacement.
fn is_all_caps(s: &str) -> bool {
    let mut upper = 0;
    for c in s.chars() {
        if c.is_lowercase() {
            return false;
        }
        if c.is_uppercase() {
            upper += 1;
        }
    }
    upper >= 2
}

fn styled(name: &str, caps: bool) -> String {
    if caps {
        name.to_ascii_uppercase()
    } else {
        name.to_string()
    }
}

fn empty_name() -> NonConformant {
    NonConformant::new("the name is empty or contains only whitespace")
}

fn pick<'a>(list: &[&'a str], r: u64) -> &'a str {
    list[(r % list.len() as u64) as usize]
}

fn name_lookup(
    keyed: &Keyed,
    domain: Domain,
    list: &[&str],
    value: &str,
) -> Result<String, NonConformant> {
    let mut mac = keyed.mac(domain);
    if !feed_normalized(&mut mac, value) {
        return Err(empty_name());
    }
    let r = mac.stream().next_u64();
    Ok(styled(pick(list, r), is_all_caps(value)))
}

pub(crate) fn first_name(keyed: &Keyed, value: &str) -> Result<String, NonConformant> {
    name_lookup(keyed, Domain::FirstName, first_names(), value)
}

pub(crate) fn last_name(keyed: &Keyed, value: &str) -> Result<String, NonConformant> {
    name_lookup(keyed, Domain::LastName, last_names(), value)
}

pub(crate) fn full_name(keyed: &Keyed, value: &str) -> Result<String, NonConformant> {
    let mut mac = keyed.mac(Domain::FullName);
    if !feed_normalized(&mut mac, value) {
        return Err(empty_name());
    }
    let mut stream = mac.stream();
    let first = pick(first_names(), stream.next_u64());
    let last = pick(last_names(), stream.next_u64());
    let mut out = String::with_capacity(first.len() + last.len() + 1);
    out.push_str(first);
    out.push(' ');
    out.push_str(last);
    if is_all_caps(value) {
        out.make_ascii_uppercase();
    }
    Ok(out)
}

/// Number appended to the generated local part: 10 ..= 9999.
const EMAIL_NUMBER_MIN: u128 = 10;
const EMAIL_NUMBER_COUNT: u128 = 9990;

/// Characters RFC 5322 allows in an unquoted local part besides letters,
/// digits and dots.
const LOCAL_SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~";

fn local_part_ok(local: &str) -> bool {
    !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || LOCAL_SPECIALS.contains(c))
}

fn domain_ok(domain: &str) -> bool {
    if let Some(inner) = domain.strip_prefix('[') {
        // Address literal such as [192.0.2.1] or [IPv6:...].
        return match inner.strip_suffix(']') {
            Some(lit) => {
                !lit.is_empty()
                    && lit
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == ':')
            }
            None => false,
        };
    }
    !domain.is_empty()
        && domain.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

pub(crate) fn email(keyed: &Keyed, value: &str) -> Result<String, NonConformant> {
    let start = value.len() - value.trim_start().len();
    let trimmed = value.trim();
    let (lead, trail) = (&value[..start], &value[start + trimmed.len()..]);
    let invalid = || NonConformant::new("not an email address of the form local-part@domain");
    let (local, domain) = trimmed.split_once('@').ok_or_else(invalid)?;
    if domain.contains('@') || !local_part_ok(local) || !domain_ok(domain) {
        return Err(invalid());
    }
    let mut mac = keyed.mac(Domain::Email);
    feed_normalized(&mut mac, trimmed);
    let mut stream = mac.stream();
    let (firsts, lasts) = (first_names(), last_names());
    let mut r = stream.below(firsts.len() as u128 * lasts.len() as u128 * EMAIL_NUMBER_COUNT);
    let number = EMAIL_NUMBER_MIN + r % EMAIL_NUMBER_COUNT;
    r /= EMAIL_NUMBER_COUNT;
    let last = lasts[(r % lasts.len() as u128) as usize];
    let first = firsts[(r / lasts.len() as u128) as usize];

    let mut out = String::with_capacity(value.len() + first.len() + last.len() + 8);
    out.push_str(lead);
    let local_start = out.len();
    out.push_str(first);
    out.push('.');
    out.push_str(last);
    // Writing to a String cannot fail.
    let _ = write!(out, "{number}");
    if is_all_caps(local) {
        out[local_start..].make_ascii_uppercase();
    } else {
        out[local_start..].make_ascii_lowercase();
    }
    out.push('@');
    out.push_str(domain);
    out.push_str(trail);
    Ok(out)
}

// ---------------------------------------------------------------- street addresses

/// Most digits a house number may have (hyphenated parts together).
const HOUSE_MAX_DIGITS: usize = 10;

/// Letters a unit identifier keeps (`4B`, `PH`, `3-A`); an identifier with
/// more letters than this gets keyed letters instead, so that a word written
/// after `Apt` never survives masking.
const UNIT_KEPT_LETTERS: usize = 2;

/// True when `word`, without one trailing period and in any case, is in `list`.
fn word_in(word: &str, list: &[&str]) -> bool {
    let word = word.strip_suffix('.').unwrap_or(word);
    list.iter().any(|w| w.eq_ignore_ascii_case(word))
}

/// A house number: ASCII digit runs joined by single hyphens (`12-34`), at
/// most [`HOUSE_MAX_DIGITS`] digits, optionally ending in one letter (`221B`).
fn is_house_number(token: &str) -> bool {
    let body = token
        .strip_suffix(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(token);
    let digits = body.bytes().filter(u8::is_ascii_digit).count();
    (1..=HOUSE_MAX_DIGITS).contains(&digits)
        && body
            .split('-')
            .all(|run| !run.is_empty() && run.bytes().all(|b| b.is_ascii_digit()))
}

/// A unit identifier: after an optional `#`, 1-6 ASCII letters, digits or
/// hyphens, not starting with a hyphen (`4B`, `200`, `3-A`, `#12`).
fn is_unit_id(id: &str) -> bool {
    let id = id.strip_prefix('#').unwrap_or(id);
    (1..=6).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !id.starts_with('-')
}

/// A word of an address line, or a comma (written attached to a word or not).
#[derive(Clone, Copy)]
enum Token<'a> {
    Word(&'a str),
    Comma,
}

fn tokenize(s: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    for chunk in s.split_whitespace() {
        let mut parts = chunk.split(',');
        if let Some(first) = parts.next()
            && !first.is_empty()
        {
            out.push(Token::Word(first));
        }
        for part in parts {
            out.push(Token::Comma);
            if !part.is_empty() {
                out.push(Token::Word(part));
            }
        }
    }
    out
}

/// True when one of `tokens` is a word with a letter (a possible street name).
fn has_name_word(tokens: &[Token<'_>]) -> bool {
    tokens
        .iter()
        .any(|t| matches!(t, Token::Word(w) if w.chars().any(char::is_alphabetic)))
}

fn word<'a>(tokens: &[Token<'a>], i: usize) -> Option<&'a str> {
    match tokens.get(i) {
        Some(Token::Word(w)) => Some(w),
        _ => None,
    }
}

/// The parts of an address line kept (as written) around the street name.
struct AddressParts<'a> {
    house: &'a str,
    pre_direction: Option<&'a str>,
    suffix: Option<&'a str>,
    post_direction: Option<&'a str>,
    /// Whether a comma came before the unit.
    unit_comma: bool,
    unit_designator: Option<&'a str>,
    unit_id: Option<&'a str>,
}

/// Splits an address line (trimmed, not empty) into its kept parts; every
/// word between them is the street name, which is replaced as a whole.
fn parse_address(trimmed: &str) -> Result<AddressParts<'_>, NonConformant> {
    let first = trimmed.split_whitespace().next().unwrap_or("");
    let first = first.split(',').next().unwrap_or("");
    if !is_house_number(first) {
        return Err(NonConformant::new(
            "not a street address: it does not start with a house number",
        ));
    }
    let tokens = tokenize(trimmed);
    // The first token is the house number; trailing commas are dropped.
    let mut end = tokens.len();
    while end > 1 && matches!(tokens[end - 1], Token::Comma) {
        end -= 1;
    }
    let body = &tokens[1..end];
    if !has_name_word(body) {
        return Err(NonConformant::new(
            "not a street address: no street name follows the house number",
        ));
    }
    let mut parts = AddressParts {
        house: first,
        pre_direction: None,
        suffix: None,
        post_direction: None,
        unit_comma: false,
        unit_designator: None,
        unit_id: None,
    };
    let mut end = body.len();
    // A unit at the end: `#12`, or a designator and an identifier.
    let before_last = end.checked_sub(2).and_then(|i| word(body, i));
    let unit_start = match (before_last, word(body, end - 1)) {
        (Some(designator), Some(id)) if word_in(designator, UNIT_DESIGNATORS) && is_unit_id(id) => {
            Some((end - 2, Some(designator), id))
        }
        (_, Some(id)) if id.starts_with('#') && is_unit_id(id) => Some((end - 1, None, id)),
        _ => None,
    };
    if let Some((start, designator, id)) = unit_start
        && has_name_word(&body[..start])
    {
        parts.unit_designator = designator;
        parts.unit_id = Some(id);
        end = start;
        while end > 0 && matches!(body[end - 1], Token::Comma) {
            parts.unit_comma = true;
            end -= 1;
        }
    }
    // A direction after the suffix, then the suffix: each only with a street
    // name before it.
    if end >= 2
        && let (Some(suffix), Some(direction)) = (word(body, end - 2), word(body, end - 1))
        && word_in(direction, DIRECTIONALS)
        && word_in(suffix, STREET_SUFFIXES)
        && has_name_word(&body[..end - 2])
    {
        parts.post_direction = Some(direction);
        end -= 1;
    }
    if end >= 1
        && let Some(suffix) = word(body, end - 1)
        && word_in(suffix, STREET_SUFFIXES)
        && has_name_word(&body[..end - 1])
    {
        parts.suffix = Some(suffix);
        end -= 1;
    }
    // A direction before the street name.
    if let Some(direction) = word(body, 0)
        && word_in(direction, DIRECTIONALS)
        && body.get(1..end).is_some_and(has_name_word)
    {
        parts.pre_direction = Some(direction);
    }
    Ok(parts)
}

/// Appends `template` with each ASCII digit replaced by a keyed one (the first
/// digit of a run is 1-9 when the original's was) and, when `letters` is set,
/// each ASCII letter by a keyed one of the same case; other bytes are kept.
fn push_keyed(out: &mut String, template: &str, stream: &mut Stream, letters: bool) {
    let mut prev_digit = false;
    for c in template.chars() {
        if c.is_ascii_digit() {
            let d = if !prev_digit && c != '0' {
                1 + stream.below_small(9)
            } else {
                stream.below_small(10)
            };
            out.push(char::from(b'0' + d as u8));
            prev_digit = true;
            continue;
        }
        prev_digit = false;
        if letters && c.is_ascii_alphabetic() {
            let base = if c.is_ascii_uppercase() { b'A' } else { b'a' };
            out.push(char::from(base + stream.below_small(26) as u8));
        } else {
            out.push(c);
        }
    }
}

/// How the input writes its letters.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CaseStyle {
    Upper,
    Lower,
    Title,
}

fn case_style(s: &str) -> CaseStyle {
    if is_all_caps(s) {
        CaseStyle::Upper
    } else if !s.chars().any(char::is_uppercase) && s.chars().any(char::is_lowercase) {
        CaseStyle::Lower
    } else {
        CaseStyle::Title
    }
}

pub(crate) fn street_address(keyed: &Keyed, value: &str) -> Result<String, NonConformant> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(NonConformant::new(
            "the address is empty or contains only whitespace",
        ));
    }
    let parts = parse_address(trimmed)?;
    let mut mac = keyed.mac(Domain::StreetAddress);
    feed_normalized(&mut mac, trimmed);
    let mut stream = mac.stream();
    let list = street_names();
    let name = list[stream.below_small(list.len() as u32) as usize];

    let mut out = String::with_capacity(trimmed.len().min(64) + name.len() + 8);
    // The trailing letter of a house number (`221B`) is kept.
    push_keyed(&mut out, parts.house, &mut stream, false);
    if let Some(direction) = parts.pre_direction {
        out.push(' ');
        out.push_str(direction);
    }
    out.push(' ');
    let name_start = out.len();
    out.push_str(name);
    match case_style(trimmed) {
        CaseStyle::Upper => out[name_start..].make_ascii_uppercase(),
        CaseStyle::Lower => out[name_start..].make_ascii_lowercase(),
        CaseStyle::Title => {}
    }
    for kept in [parts.suffix, parts.post_direction].into_iter().flatten() {
        out.push(' ');
        out.push_str(kept);
    }
    if let Some(id) = parts.unit_id {
        if parts.unit_comma {
            out.push(',');
        }
        if let Some(designator) = parts.unit_designator {
            out.push(' ');
            out.push_str(designator);
        }
        out.push(' ');
        let letters = id.bytes().filter(u8::is_ascii_alphabetic).count();
        push_keyed(&mut out, id, &mut stream, letters > UNIT_KEPT_LETTERS);
    }
    Ok(out)
}
