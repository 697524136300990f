//! Keyed pseudo-random functions shared by the algorithms.
//!
//! All randomness comes from HMAC-SHA256 keyed with the secret. Each use has
//! its own [`Domain`]: the keyed state has already absorbed one full 64-byte
//! block naming the domain, so per value only the message itself is hashed and
//! two domains never produce related outputs for the same message.

use hmac::{Hmac, Mac};
// sha2 0.10's `compress256` takes generic-array 0.14 blocks, which that crate now marks deprecated
// in favour of its 1.x (used by sha2 0.11); `block` confines the allowance to one place.
#[allow(deprecated)]
use sha2::digest::generic_array::GenericArray;
use sha2::{Digest, Sha256, compress256};

#[allow(deprecated)]
fn block(bytes: &[u8; 64]) -> &GenericArray<u8, sha2::digest::consts::U64> {
    GenericArray::from_slice(bytes)
}

type HmacSha256 = Hmac<Sha256>;

/// Separate PRF domains (one or more per algorithm).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Domain {
    FirstName,
    LastName,
    FullName,
    Email,
    Phone,
    Digits,
    DigitsTable,
    Ssn,
    SsnFallback,
    CardMiddle,
    DateShift,
    Number,
    StreetAddress,
    Ipv4,
}

const DOMAIN_COUNT: usize = 14;

/// SHA-256 initial hash value (FIPS 180-4, 5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

impl Domain {
    const ALL: [Domain; DOMAIN_COUNT] = [
        Domain::FirstName,
        Domain::LastName,
        Domain::FullName,
        Domain::Email,
        Domain::Phone,
        Domain::Digits,
        Domain::DigitsTable,
        Domain::Ssn,
        Domain::SsnFallback,
        Domain::CardMiddle,
        Domain::DateShift,
        Domain::Number,
        Domain::StreetAddress,
        Domain::Ipv4,
    ];

    fn label(self) -> &'static str {
        match self {
            Domain::FirstName => "FirstNameLookup",
            Domain::LastName => "LastNameLookup",
            Domain::FullName => "FullNameLookup",
            Domain::Email => "EmailLookup",
            Domain::Phone => "PhoneNumberSegment",
            Domain::Digits => "DigitsSegment",
            Domain::DigitsTable => "DigitsSegment/small-table",
            Domain::Ssn => "SsnSegment",
            Domain::SsnFallback => "SsnSegment/fallback",
            Domain::CardMiddle => "CreditCardSegment",
            Domain::DateShift => "DateShiftVariable",
            Domain::Number => "NumberMinMax",
            Domain::StreetAddress => "StreetAddressLookup",
            Domain::Ipv4 => "Ipv4Segment",
        }
    }
}

/// Everything derived from the secret: one keyed HMAC state per domain plus
/// small precomputed permutations.
pub(crate) struct Keyed {
    states: [HmacSha256; DOMAIN_COUNT],
    /// Per domain: SHA-256 chaining value after one secret block (a subkey
    /// derived by HMAC), for the one-block round function of the Feistel
    /// permutation (see [`Keyed::block_prf`]).
    block_keys: [[u32; 8]; DOMAIN_COUNT],
    /// Keyed cyclic permutation (no fixed point) of the 10 one-digit values.
    pub(crate) digits1: [u8; 10],
    /// Keyed cyclic permutation (no fixed point) of the 100 two-digit values.
    pub(crate) digits2: [u8; 100],
}

impl Keyed {
    pub(crate) fn new(secret: &[u8]) -> Self {
        // HMAC accepts keys of any length, so this never fails.
        let base = match HmacSha256::new_from_slice(secret) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC-SHA256 accepts keys of any length"),
        };
        let states = std::array::from_fn(|i| {
            let domain = Domain::ALL[i];
            debug_assert_eq!(domain as usize, i);
            // One full block: the inner hash absorbs it once, here.
            let mut block = [0u8; 64];
            let prefix = b"maskd/algorithms/v1\0";
            block[..prefix.len()].copy_from_slice(prefix);
            let label = domain.label().as_bytes();
            block[prefix.len()..prefix.len() + label.len()].copy_from_slice(label);
            let mut mac = base.clone();
            mac.update(&block);
            mac
        });
        let block_keys = std::array::from_fn(|i: usize| {
            let mut mac = states[i].clone();
            mac.update(b"feistel round subkey");
            let subkey = mac.finalize().into_bytes();
            let mut block = [0u8; 64];
            block[..32].copy_from_slice(&subkey);
            let label = b"maskd/feistel-round/v1";
            block[32..32 + label.len()].copy_from_slice(label);
            let mut cv = SHA256_IV;
            compress256(&mut cv, std::slice::from_ref(self::block(&block)));
            cv
        });
        let mut keyed = Keyed {
            states,
            block_keys,
            digits1: [0; 10],
            digits2: [0; 100],
        };
        keyed.digits1 = keyed.cyclic_table::<10>();
        keyed.digits2 = keyed.cyclic_table::<100>();
        keyed
    }

    /// A clone of the keyed state of `domain`, ready for the message.
    #[inline]
    pub(crate) fn mac(&self, domain: Domain) -> Mac256 {
        Mac256(self.states[domain as usize].clone())
    }

    /// One-block PRF: the SHA-256 compression function keyed through its
    /// chaining value (the secret first block), applied to one 64-byte block.
    /// Callers encode their fields unambiguously in the block; since every
    /// message is exactly one block there is no length extension. Returns the
    /// 256-bit output as four words.
    #[inline]
    pub(crate) fn block_prf(&self, domain: Domain, block: &[u8; 64]) -> [u64; 4] {
        let mut state = self.block_keys[domain as usize];
        compress256(&mut state, std::slice::from_ref(self::block(block)));
        std::array::from_fn(|i| (state[2 * i] as u64) << 32 | state[2 * i + 1] as u64)
    }

    /// PRF of a single message.
    #[inline]
    pub(crate) fn stream(&self, domain: Domain, msg: &[u8]) -> Stream {
        let mut mac = self.mac(domain);
        mac.update(msg);
        mac.stream()
    }

    /// A keyed random permutation P of 0..N conjugated with x -> x+1, i.e.
    /// P(P^-1(x) + 1): a single N-cycle, so no value maps to itself.
    fn cyclic_table<const N: usize>(&self) -> [u8; N] {
        let mut stream = self.stream(Domain::DigitsTable, &(N as u32).to_le_bytes());
        let mut perm = [0u8; N];
        for (i, p) in perm.iter_mut().enumerate() {
            *p = i as u8;
        }
        for i in (1..N).rev() {
            let j = stream.below(i as u128 + 1) as usize;
            perm.swap(i, j);
        }
        let mut inverse = [0u8; N];
        for (i, &p) in perm.iter().enumerate() {
            inverse[p as usize] = i as u8;
        }
        let mut table = [0u8; N];
        for (x, t) in table.iter_mut().enumerate() {
            *t = perm[(inverse[x] as usize + 1) % N];
        }
        table
    }
}

/// An HMAC computation in progress.
pub(crate) struct Mac256(HmacSha256);

impl Mac256 {
    #[inline]
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// Finishes the HMAC and turns it into a pseudo-random stream.
    #[inline]
    pub(crate) fn stream(self) -> Stream {
        let out: [u8; 32] = self.0.finalize().into_bytes().into();
        Stream::new(out)
    }
}

/// Pseudo-random words from one HMAC output. The first 16 bytes of the HMAC
/// are used directly (two u64 words, enough for almost every value); the other
/// 16 bytes are never output but key an expansion SHA-256(key || counter) for
/// longer needs, so revealing early words never reveals later ones.
pub(crate) struct Stream {
    buf: [u8; 32],
    pos: usize,
    len: usize,
    expand_key: [u8; 16],
    counter: u64,
}

impl Stream {
    #[inline]
    fn new(out: [u8; 32]) -> Self {
        let mut buf = [0u8; 32];
        buf[..16].copy_from_slice(&out[..16]);
        let mut expand_key = [0u8; 16];
        expand_key.copy_from_slice(&out[16..]);
        Stream {
            buf,
            pos: 0,
            len: 16,
            expand_key,
            counter: 0,
        }
    }

    fn refill(&mut self) {
        self.counter += 1;
        let block = Sha256::new()
            .chain_update(b"maskd/stream\0")
            .chain_update(self.expand_key)
            .chain_update(self.counter.to_le_bytes())
            .finalize();
        self.buf.copy_from_slice(&block);
        self.pos = 0;
        self.len = 32;
    }

    /// Next uniformly distributed 64-bit word.
    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        if self.pos + 8 > self.len {
            self.refill();
        }
        let mut word = [0u8; 8];
        word.copy_from_slice(&self.buf[self.pos..self.pos + 8]);
        self.pos += 8;
        u64::from_le_bytes(word)
    }

    /// Next uniformly distributed 128-bit word.
    #[inline]
    pub(crate) fn next_u128(&mut self) -> u128 {
        let lo = self.next_u64() as u128;
        let hi = self.next_u64() as u128;
        (hi << 64) | lo
    }

    /// Uniform value in `0..n` (exact, by rejection). `n` must be > 0.
    pub(crate) fn below(&mut self, n: u128) -> u128 {
        if n <= 1 {
            return 0;
        }
        // 2^128 mod n: values below it are rejected so the rest is a multiple of n.
        let threshold = n.wrapping_neg() % n;
        loop {
            let r = self.next_u128();
            if r >= threshold {
                return r % n;
            }
        }
    }

    /// Value in `0..n` from one 64-bit word: the bias (< n / 2^64) is
    /// negligible for the small `n` this is used with (list sizes, day counts).
    #[inline]
    pub(crate) fn below_small(&mut self, n: u32) -> u32 {
        (self.next_u64() % n.max(1) as u64) as u32
    }

    /// Adds (digit-wise, mod 10) pseudo-random digits to `digits` (values 0-9).
    #[inline]
    pub(crate) fn add_digits(&mut self, digits: &mut [u8]) {
        for chunk in digits.chunks_mut(9) {
            add_digits_from_word(chunk, self.next_u64());
        }
    }
}

/// Adds up to 9 pseudo-random digits taken from one 64-bit word to `chunk`
/// (digit-wise, mod 10): the word mod 10^9 has a bias below 10^9 / 2^64.
#[inline]
pub(crate) fn add_digits_from_word(chunk: &mut [u8], word: u64) {
    let mut r = word % 1_000_000_000;
    for d in chunk.iter_mut().take(9) {
        let x = *d + (r % 10) as u8;
        *d = if x >= 10 { x - 10 } else { x };
        r /= 10;
    }
}
