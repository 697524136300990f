//! Values per second per masking algorithm, on one core.
//!
//! Run: `cargo bench --bench algorithms`. Each iteration masks a batch of
//! 1,024 realistic, distinct values; criterion reports elements/s.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use maskd::masking::algorithms::{Algorithm, MaskingKey};

const BATCH: usize = 1024;

/// Small deterministic generator (splitmix64) for realistic inputs.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }

    fn word(&mut self, min: usize, max: usize) -> String {
        let len = min + self.below((max - min + 1) as u64) as usize;
        let mut w: String = (0..len)
            .map(|_| char::from(b'a' + self.below(26) as u8))
            .collect();
        w[..1].make_ascii_uppercase();
        w
    }
}

fn inputs(alg: Algorithm, g: &mut Gen) -> Vec<String> {
    (0..BATCH)
        .map(|_| match alg {
            Algorithm::FirstNameLookup | Algorithm::LastNameLookup => g.word(3, 10),
            Algorithm::FullNameLookup => format!("{} {}", g.word(3, 9), g.word(4, 11)),
            Algorithm::EmailLookup => format!(
                "{}.{}@{}.com",
                g.word(3, 8).to_lowercase(),
                g.word(4, 10).to_lowercase(),
                g.word(4, 9).to_lowercase()
            ),
            Algorithm::PhoneNumberSegment => {
                format!("+1 ({}) {}-{}", g.digits(3), g.digits(3), g.digits(4))
            }
            Algorithm::DigitsSegment => {
                let n = 4 + g.below(9) as usize;
                g.digits(n)
            }
            Algorithm::SsnSegment => {
                format!("{:03}-{}-{}", 1 + g.below(899), g.digits(2), g.digits(4))
            }
            Algorithm::CreditCardSegment => format!(
                "4{} {} {} {}",
                g.digits(3),
                g.digits(4),
                g.digits(4),
                g.digits(4)
            ),
            Algorithm::DateShiftVariable => format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{}+00",
                1950 + g.below(80),
                1 + g.below(12),
                1 + g.below(28),
                g.below(24),
                g.below(60),
                g.below(60),
                g.digits(6)
            ),
            Algorithm::RedactText => format!("{} {} {}", g.word(3, 10), g.digits(5), g.word(2, 8)),
            Algorithm::NullValueLookup => g.word(3, 10),
            Algorithm::NumberMinMax => {
                format!("{}.{}", g.below(1_000_000), g.digits(2))
            }
            Algorithm::StreetAddressLookup => {
                const SUFFIXES: [&str; 6] = ["St", "Ave", "Blvd", "Rd", "Ln", "Street"];
                let suffix = SUFFIXES[g.below(SUFFIXES.len() as u64) as usize];
                let street = format!("{} {} {suffix}", 1 + g.below(9999), g.word(4, 10));
                if g.below(4) == 0 {
                    format!("{street} Apt {}", 1 + g.below(999))
                } else {
                    street
                }
            }
            Algorithm::Ipv4Segment => match g.below(4) {
                0 => format!("10.{}.{}.{}", g.below(256), g.below(256), g.below(256)),
                1 => format!("192.168.{}.{}", g.below(256), g.below(256)),
                _ => format!(
                    "{}.{}.{}.{}",
                    1 + g.below(223),
                    g.below(256),
                    g.below(256),
                    g.below(256)
                ),
            },
        })
        .collect()
}

fn algorithms(c: &mut Criterion) {
    let key = MaskingKey::new(b"benchmark secret key, 32 bytes!!");
    let mut g = Gen(42);
    let mut group = c.benchmark_group("mask");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    group.sample_size(30);
    for alg in Algorithm::ALL {
        let values = inputs(alg, &mut g);
        // Every generated value must be maskable, or the figure means nothing.
        for v in &values {
            alg.mask(&key, Some(v))
                .unwrap_or_else(|e| panic!("{alg} rejected {v:?}: {e}"));
        }
        group.bench_function(alg.name(), |b| {
            b.iter(|| {
                for v in &values {
                    let _ = black_box(alg.mask(&key, Some(black_box(v.as_str()))));
                }
            })
        });
    }
    group.finish();

    c.bench_function("MaskingKey::new", |b| {
        b.iter(|| MaskingKey::new(black_box(b"benchmark secret key, 32 bytes!!")))
    });
}

criterion_group!(benches, algorithms);
criterion_main!(benches);
