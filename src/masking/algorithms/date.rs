//! DateShiftVariable: shifts dates and timestamps by a keyed number of days.

use chrono::{Datelike, Days, NaiveDate};

use super::prf::{Domain, Keyed};
use super::{DATE_SHIFT_MAX_DAYS, NonConformant};

/// Small cursor over the ASCII time part.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn two_digits(&mut self, max: u32) -> Option<u32> {
        let d = self.b.get(self.i..self.i + 2)?;
        if !d[0].is_ascii_digit() || !d[1].is_ascii_digit() {
            return None;
        }
        let v = ((d[0] - b'0') * 10 + (d[1] - b'0')) as u32;
        self.i += 2;
        (v <= max).then_some(v)
    }

    fn peek_digit(&self) -> bool {
        self.b.get(self.i).is_some_and(u8::is_ascii_digit)
    }

    fn done(&self) -> bool {
        self.i == self.b.len()
    }
}

/// Accepts "", or `[ T]HH:MM[:SS[.fraction]]` followed by an optional `Z` or
/// `±HH[[:]MM[[:]SS]]` offset (PostgreSQL prints `+00`, `+05:30`, `-03:30:45`).
fn time_part_ok(t: &[u8]) -> bool {
    if t.is_empty() {
        return true;
    }
    if t[0] != b' ' && t[0] != b'T' {
        return false;
    }
    let mut c = Cursor { b: &t[1..], i: 0 };
    let parsed = (|| {
        c.two_digits(23)?;
        if !c.eat(b':') {
            return None;
        }
        c.two_digits(59)?;
        if c.eat(b':') {
            c.two_digits(60)?;
            if c.eat(b'.') {
                if !c.peek_digit() {
                    return None;
                }
                while c.peek_digit() {
                    c.i += 1;
                }
            }
        }
        if c.eat(b'Z') {
            return Some(());
        }
        if c.eat(b'+') || c.eat(b'-') {
            c.two_digits(23)?;
            for _ in 0..2 {
                if c.done() {
                    break;
                }
                c.eat(b':');
                c.two_digits(59)?;
            }
        }
        Some(())
    })();
    parsed.is_some() && c.done()
}

fn number(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &d| {
        d.is_ascii_digit().then(|| acc * 10 + (d - b'0') as u32)
    })
}

/// The keyed shift for a date (given as its `YYYY-MM-DD` text): in
/// `-DATE_SHIFT_MAX_DAYS..=DATE_SHIFT_MAX_DAYS`, never 0.
pub(crate) fn shift_days(keyed: &Keyed, date_text: &[u8]) -> i64 {
    let max = DATE_SHIFT_MAX_DAYS;
    let r = keyed
        .stream(Domain::DateShift, date_text)
        .below_small(2 * max as u32) as i64;
    if r < max { -(r + 1) } else { r - max + 1 }
}

fn add_days(date: NaiveDate, days: i64) -> Option<NaiveDate> {
    let shifted = if days >= 0 {
        date.checked_add_days(Days::new(days.unsigned_abs()))
    } else {
        date.checked_sub_days(Days::new(days.unsigned_abs()))
    }?;
    // PostgreSQL prints years outside 1..=9999 differently (BC suffix, 5 digits).
    (1..=9999).contains(&shifted.year()).then_some(shifted)
}

pub(crate) fn shift(keyed: &Keyed, value: &str) -> Result<String, NonConformant> {
    let b = value.as_bytes();
    let shape = || {
        NonConformant::new(
            "not a date or timestamp of the form YYYY-MM-DD[ HH:MM:SS[.fraction][+HH[:MM]|Z]]",
        )
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(shape());
    }
    let (Some(year), Some(month), Some(day)) =
        (number(&b[0..4]), number(&b[5..7]), number(&b[8..10]))
    else {
        return Err(shape());
    };
    // The first 10 bytes are ASCII, so byte 10 is a character boundary.
    let rest = &value[10..];
    if !time_part_ok(rest.as_bytes()) {
        return Err(shape());
    }
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)
        .filter(|_| year >= 1)
        .ok_or_else(|| NonConformant::new("the date does not exist (bad year, month or day)"))?;
    let days = shift_days(keyed, &b[..10]);
    // Near year 1 or 9999 the shift goes the other way instead.
    let shifted = add_days(date, days)
        .or_else(|| add_days(date, -days))
        .ok_or_else(|| NonConformant::new("the date cannot be shifted within years 1-9999"))?;
    Ok(format!(
        "{:04}-{:02}-{:02}{rest}",
        shifted.year(),
        shifted.month(),
        shifted.day()
    ))
}
