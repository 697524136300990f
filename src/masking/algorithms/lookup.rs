//! Secure-lookup algorithms: first, last and full names, and email addresses.
//!
//! The input is normalized (surrounding whitespace trimmed, inner whitespace
//! runs collapsed to one space, lowercased), HMAC'd in the algorithm's domain,
//! and the HMAC picks an entry of a shipped list. "John", "JOHN " and "john"
//! therefore get the same replacement (in their own case style).

use std::fmt::Write as _;
use std::sync::OnceLock;

use super::NonConformant;
use super::prf::{Domain, Keyed, Mac256};

static FIRST_NAMES_TEXT: &str = include_str!("data/first_names.txt");
static LAST_NAMES_TEXT: &str = include_str!("data/last_names.txt");

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
