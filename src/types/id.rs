/// Parses a path or query id: a positive integer that fits in 64 bits.
pub fn parse_id(name: &str, text: &str) -> Result<i64, String> {
    match text.parse::<i64>() {
        Ok(id) if id >= 1 => Ok(id),
        Ok(_) => Err(format!("{name} must be a positive integer, got '{text}'")),
        Err(_) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => Err(format!(
            "{name} '{text}' is too large: ids are at most {}",
            i64::MAX
        )),
        Err(_) => Err(format!("{name} must be a positive integer, got '{text}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_id;

    #[test]
    fn only_positive_64_bit_integers_are_ids() {
        assert_eq!(parse_id("executionId", "42"), Ok(42));
        for bad in ["0", "-1", "abc", "", "1.5", "9223372036854775808", " 1"] {
            let err = parse_id("executionId", bad).unwrap_err();
            assert!(err.contains("executionId"), "{err}");
        }
    }
}
