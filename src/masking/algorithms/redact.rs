//! RedactText: letters become `X`, digits become `0`, everything else stays.

/// Replaces every alphabetic character (any script) with `X` and every
/// numeric character with `0`; the character count is unchanged.
pub(crate) fn redact(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        out.push(if c.is_alphabetic() {
            'X'
        } else if c.is_numeric() {
            '0'
        } else {
            c
        });
    }
    out
}
