//! Segment (format-preserving digit) algorithms: phone numbers, digit strings,
//! SSNs, payment card numbers and IPv4 addresses.
//!
//! Only the digits are permuted (keyed by the digit count, never by the
//! punctuation), so "555-123-4567" and "(555) 1234567" mask to the same
//! digits in their own layouts, and distinct numbers stay distinct. IPv4
//! addresses are permuted as 32-bit numbers within their address block.

use super::NonConformant;
use super::fpe;
use super::prf::{Domain, Keyed};

/// Fewest digits a phone number may have.
pub(crate) const PHONE_MIN_DIGITS: usize = 7;

pub(crate) fn phone(keyed: &Keyed, value: &str) -> Result<String, NonConformant> {
    let n = value.bytes().filter(u8::is_ascii_digit).count();
    if n < PHONE_MIN_DIGITS {
        return Err(NonConformant::new(format!(
            "a phone number needs at least {PHONE_MIN_DIGITS} digits, this value has {n}"
        )));
    }
    fpe::mask_digits_in_place(keyed, Domain::Phone, value, false)
        .ok_or_else(|| NonConformant::new("the phone number could not be masked"))
}

pub(crate) fn digits(keyed: &Keyed, value: &str) -> Result<String, NonConformant> {
    fpe::mask_digits_in_place(keyed, Domain::Digits, value, true)
        .ok_or_else(|| NonConformant::new("the value contains no digits to mask"))
}

/// Parses `123-45-6789`, `123 45 6789` or `123456789`.
fn parse_ssn(value: &str) -> Option<([u8; 9], Option<u8>)> {
    let b = value.as_bytes();
    let (positions, sep): (&[usize], Option<u8>) = match b.len() {
        9 => (&[0, 1, 2, 3, 4, 5, 6, 7, 8], None),
        11 => {
            let sep = b[3];
            if (sep != b'-' && sep != b' ') || b[6] != sep {
                return None;
            }
            (&[0, 1, 2, 4, 5, 7, 8, 9, 10], Some(sep))
        }
        _ => return None,
    };
    let mut digits = [0u8; 9];
    for (d, &p) in digits.iter_mut().zip(positions) {
        if !b[p].is_ascii_digit() {
            return None;
        }
        *d = b[p] - b'0';
    }
    Some((digits, sep))
}

fn num(digits: &[u8]) -> u32 {
    digits.iter().fold(0, |acc, &d| acc * 10 + d as u32)
}

/// Area 001-899 except 666, group 01-99, serial 0001-9999.
pub(crate) fn ssn_is_valid(d: &[u8; 9]) -> bool {
    let area = num(&d[..3]);
    let group = num(&d[3..5]);
    let serial = num(&d[5..]);
    (1..=899).contains(&area) && area != 666 && group != 0 && serial != 0
}

/// Cycle-walking gives up after this many steps (never reached in practice:
/// 89% of 9-digit strings are valid SSNs).
const SSN_MAX_WALK: usize = 1000;

pub(crate) fn ssn(keyed: &Keyed, value: &str) -> Result<String, NonConformant> {
    let (input, sep) = parse_ssn(value).ok_or_else(|| {
        NonConformant::new(
            "not a social security number of the form 123-45-6789, 123 45 6789 or 123456789",
        )
    })?;
    // Cycle-walk the 9-digit permutation until a valid SSN comes up: a
    // bijection on valid SSNs (invalid inputs such as 9xx areas still get a
    // valid output).
    let mut d = input;
    let mut found = false;
    for _ in 0..SSN_MAX_WALK {
        fpe::permute(keyed, Domain::Ssn, &[], &mut d);
        if ssn_is_valid(&d) {
            found = true;
            break;
        }
    }
    if !found {
        let mut stream = keyed.stream(Domain::SsnFallback, &input);
        let mut area = 1 + stream.below(898) as u32; // 898 areas: 001-899 minus 666
        if area >= 666 {
            area += 1;
        }
        let group = 1 + stream.below(99) as u32;
        let serial = 1 + stream.below(9999) as u32;
        let text = format!("{area:03}{group:02}{serial:04}");
        for (x, b) in d.iter_mut().zip(text.bytes()) {
            *x = b - b'0';
        }
    }
    let mut out = String::with_capacity(11);
    for (i, &x) in d.iter().enumerate() {
        if let Some(s) = sep
            && (i == 3 || i == 5)
        {
            out.push(s as char);
        }
        out.push((b'0' + x) as char);
    }
    Ok(out)
}

/// Luhn check digit for `payload` (the card number without its last digit).
pub(crate) fn luhn_check_digit(payload: &[u8]) -> u8 {
    let sum: u32 = payload
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = d as u32;
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// Digits kept at the start of a card number (the issuer identification number).
pub(crate) const CARD_KEPT_PREFIX: usize = 6;

pub(crate) fn credit_card(keyed: &Keyed, value: &str) -> Result<String, NonConformant> {
    let b = value.as_bytes();
    let shape_ok = !b.is_empty()
        && b.iter()
            .all(|&c| c.is_ascii_digit() || c == b' ' || c == b'-')
        && b[0].is_ascii_digit()
        && b[b.len() - 1].is_ascii_digit()
        && !b
            .windows(2)
            .any(|w| !w[0].is_ascii_digit() && !w[1].is_ascii_digit());
    if !shape_ok {
        return Err(NonConformant::new(
            "not a card number: only digits separated by single spaces or dashes are allowed",
        ));
    }
    let mut digits = [0u8; 19];
    let mut n = 0;
    for &c in b {
        if c.is_ascii_digit() {
            if n == digits.len() {
                n += 1;
                break;
            }
            digits[n] = c - b'0';
            n += 1;
        }
    }
    if !(12..=19).contains(&n) {
        return Err(NonConformant::new(
            "a card number must have between 12 and 19 digits",
        ));
    }
    let digits = &mut digits[..n];
    let mut tweak = [0u8; CARD_KEPT_PREFIX];
    tweak.copy_from_slice(&digits[..CARD_KEPT_PREFIX]);
    fpe::permute(
        keyed,
        Domain::CardMiddle,
        &tweak,
        &mut digits[CARD_KEPT_PREFIX..n - 1],
    );
    digits[n - 1] = luhn_check_digit(&digits[..n - 1]);
    let mut out = b.to_vec();
    let mut next = digits.iter();
    for c in out.iter_mut().filter(|c| c.is_ascii_digit()) {
        if let Some(d) = next.next() {
            *c = b'0' + d;
        }
    }
    String::from_utf8(out).map_err(|_| NonConformant::new("the card number could not be masked"))
}

// ---------------------------------------------------------------- IPv4 addresses

/// An IPv4 address block: the `prefix` leading bits of `base`.
#[derive(Clone, Copy)]
struct Block {
    base: u32,
    prefix: u32,
}

impl Block {
    const fn new(a: u8, b: u8, c: u8, prefix: u32) -> Block {
        Block {
            base: u32::from_be_bytes([a, b, c, 0]),
            prefix,
        }
    }

    fn size(self) -> u32 {
        1 << (32 - self.prefix)
    }

    fn contains(self, x: u32) -> bool {
        x.wrapping_sub(self.base) < self.size()
    }
}

/// The special-purpose IPv4 blocks (IANA registry, RFC 6890 and successors),
/// sorted and disjoint. An address in one of them is masked within it, so
/// private stays private (10/8, 172.16/12, 192.168/16), loopback stays
/// loopback, multicast stays multicast; every other address is public and is
/// masked to a public address.
const SPECIAL_BLOCKS: [Block; 15] = [
    Block::new(0, 0, 0, 8),       // "this network"
    Block::new(10, 0, 0, 8),      // private
    Block::new(100, 64, 0, 10),   // shared address space (carrier-grade NAT)
    Block::new(127, 0, 0, 8),     // loopback
    Block::new(169, 254, 0, 16),  // link-local
    Block::new(172, 16, 0, 12),   // private
    Block::new(192, 0, 0, 24),    // IETF protocol assignments
    Block::new(192, 0, 2, 24),    // documentation (TEST-NET-1)
    Block::new(192, 88, 99, 24),  // 6to4 relay anycast
    Block::new(192, 168, 0, 16),  // private
    Block::new(198, 18, 0, 15),   // benchmarking
    Block::new(198, 51, 100, 24), // documentation (TEST-NET-2)
    Block::new(203, 0, 113, 24),  // documentation (TEST-NET-3)
    Block::new(224, 0, 0, 4),     // multicast
    Block::new(240, 0, 0, 4),     // reserved, and the limited broadcast address
];

/// Tweak of the permutation of public addresses (blocks use their index).
const PUBLIC_TWEAK: u8 = 0xff;

/// Number of public addresses: 2^32 minus the special blocks.
fn public_count() -> u64 {
    (1u64 << 32)
        - SPECIAL_BLOCKS
            .iter()
            .map(|b| u64::from(b.size()))
            .sum::<u64>()
}

/// Index of the public address `x` among all public addresses, in order.
fn public_rank(x: u32) -> u32 {
    let below: u32 = SPECIAL_BLOCKS
        .iter()
        .filter(|b| b.base < x)
        .map(|b| b.size())
        .sum();
    x - below
}

/// The public address of index `r` (inverse of [`public_rank`]).
fn public_unrank(r: u32) -> u32 {
    let mut x = r;
    for b in SPECIAL_BLOCKS {
        if x >= b.base {
            x += b.size();
        }
    }
    x
}

/// Keyed permutation of the `bits`-bit numbers (2 <= bits <= 32): a binary
/// Feistel network like [`fpe`]'s, halves of bits/2 and the rest, each round
/// one keyed compression of `round | bits | tweak | other half (u32 LE)`.
fn permute_bits(keyed: &Keyed, tweak: u8, bits: u32, x: u32) -> u32 {
    let mask = |m: u32| ((1u64 << m) - 1) as u32;
    let u = bits / 2;
    let v = bits - u;
    let mut a = (u64::from(x) >> v) as u32 & mask(u);
    let mut b = x & mask(v);
    let mut block = [0u8; 64];
    block[1] = bits as u8;
    block[2] = tweak;
    for round in 0..fpe::ROUNDS {
        // `a` has m bits: u in even rounds, v in odd ones.
        let m = if round % 2 == 0 { u } else { v };
        block[0] = round;
        block[3..7].copy_from_slice(&b.to_le_bytes());
        let w = keyed.block_prf(Domain::Ipv4, &block);
        let c = a ^ (w[0] as u32 & mask(m));
        a = b;
        b = c;
    }
    // After an even number of rounds `a` has u bits again and `b` v.
    ((u64::from(a) << v) as u32) | b
}

/// Cycle-walking of public addresses gives up after this many steps (never
/// reached in practice: 86% of 32-bit numbers are public ranks).
const IPV4_MAX_WALK: usize = 1000;

fn mask_ipv4(keyed: &Keyed, x: u32) -> u32 {
    if let Some((i, block)) = SPECIAL_BLOCKS
        .iter()
        .enumerate()
        .find(|(_, b)| b.contains(x))
    {
        let bits = 32 - block.prefix;
        let host = x - block.base;
        return block.base | permute_bits(keyed, i as u8, bits, host);
    }
    // Public: permute the public ranks, walking the 32-bit permutation's cycle
    // until a rank comes up (a bijection on public addresses).
    let n = public_count();
    let mut r = public_rank(x);
    for _ in 0..IPV4_MAX_WALK {
        r = permute_bits(keyed, PUBLIC_TWEAK, 32, r);
        if u64::from(r) < n {
            return public_unrank(r);
        }
    }
    let mut stream = keyed.stream(Domain::Ipv4, &x.to_be_bytes());
    public_unrank(stream.below(u128::from(n)) as u32)
}

/// A decimal octet: 0-255 without leading zeros (`0` itself excepted).
fn parse_octet(s: &str) -> Option<u8> {
    let ok = (1..=3).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'));
    if ok { s.parse().ok() } else { None }
}

pub(crate) fn ipv4(keyed: &Keyed, value: &str) -> Result<String, NonConformant> {
    let start = value.len() - value.trim_start().len();
    let trimmed = value.trim();
    let (lead, trail) = (&value[..start], &value[start + trimmed.len()..]);
    let mut octets = [0u8; 4];
    let mut parts = trimmed.split('.');
    for o in &mut octets {
        *o = parts.next().and_then(parse_octet).ok_or_else(|| {
            NonConformant::new(
                "not an IPv4 address: four numbers 0-255 without leading zeros, separated by dots",
            )
        })?;
    }
    if parts.next().is_some() {
        return Err(NonConformant::new(
            "not an IPv4 address: more than four dot-separated parts",
        ));
    }
    let [a, b, c, d] = mask_ipv4(keyed, u32::from_be_bytes(octets)).to_be_bytes();
    Ok(format!("{lead}{a}.{b}.{c}.{d}{trail}"))
}

#[cfg(test)]
mod ipv4_tests {
    use super::*;

    #[test]
    fn blocks_are_sorted_disjoint_and_aligned() {
        for w in SPECIAL_BLOCKS.windows(2) {
            assert!(u64::from(w[0].base) + u64::from(w[0].size()) <= u64::from(w[1].base));
        }
        for b in SPECIAL_BLOCKS {
            assert_eq!(b.base % b.size(), 0, "{:#x}/{}", b.base, b.prefix);
        }
        assert_eq!(public_count(), 3_702_258_432);
    }

    #[test]
    fn public_rank_and_unrank_are_inverse() {
        let mut x: u32 = 1;
        for _ in 0..100_000 {
            x = x.wrapping_mul(2_654_435_761).wrapping_add(12_345);
            if SPECIAL_BLOCKS.iter().any(|b| b.contains(x)) {
                continue;
            }
            let r = public_rank(x);
            assert!(u64::from(r) < public_count());
            assert_eq!(public_unrank(r), x);
        }
        // The edges around every block.
        for b in SPECIAL_BLOCKS {
            for x in [b.base.wrapping_sub(1), b.base.wrapping_add(b.size())] {
                if !SPECIAL_BLOCKS.iter().any(|b| b.contains(x)) {
                    assert_eq!(public_unrank(public_rank(x)), x, "{x:#x}");
                }
            }
        }
        assert_eq!(public_unrank(0), u32::from_be_bytes([1, 0, 0, 0]));
        assert_eq!(
            public_unrank((public_count() - 1) as u32),
            u32::from_be_bytes([223, 255, 255, 255])
        );
    }

    #[test]
    fn bit_permutation_is_a_bijection() {
        let keyed = Keyed::new(b"bijection test key");
        for bits in [2u32, 3, 8, 11] {
            let n = 1u32 << bits;
            let mut seen = vec![false; n as usize];
            for x in 0..n {
                let y = permute_bits(&keyed, 0, bits, x);
                assert!(y < n, "{bits} bits: {x} -> {y}");
                assert!(!seen[y as usize], "{bits} bits: collision at {y}");
                seen[y as usize] = true;
            }
        }
    }
}
