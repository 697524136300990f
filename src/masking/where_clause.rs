//! A table's `whereClause`: SQL the ADMIN writes for the target, run there only, inside
//! `WHERE ... AND (<clause>)` of maskd's own statements. It is trusted to be the ADMIN's own, but it
//! must stay a condition: nothing in it may end the parentheses it is put in or the statement
//! (a `;`, a comment, an unbalanced `)`), whatever quoting it uses. The target then plans a query
//! with it before it is stored, which catches everything else (unknown columns, bad syntax).

/// Checks that `clause` is one condition that cannot leave the parentheses around it: balanced
/// parentheses outside quotes, every quote closed, no `;`, no comment, no dollar quoting.
pub fn check(clause: &str) -> Result<(), String> {
    let b = clause.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' => {
                // E'...' strings take backslash escapes.
                let escapes =
                    i > 0 && matches!(b[i - 1], b'e' | b'E') && (i < 2 || !is_ident_byte(b[i - 2]));
                i = end_of_quoted(b, i, b'\'', escapes)
                    .ok_or("a string literal (') is not closed")?;
            }
            b'"' => {
                i = end_of_quoted(b, i, b'"', false)
                    .ok_or("a quoted identifier (\") is not closed")?;
            }
            b'(' => depth += 1,
            b')' => {
                depth = depth
                    .checked_sub(1)
                    .ok_or("a ')' closes more than the clause opened")?;
            }
            b';' => return Err("a ';' would end the statement".into()),
            b'-' if b.get(i + 1) == Some(&b'-') => {
                return Err("a comment (--) could hide the end of the clause".into());
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                return Err("a comment (/*) could hide the end of the clause".into());
            }
            // $1 is a parameter; $tag$ or $$ starts dollar quoting.
            b'$' if (i == 0 || !is_ident_byte(b[i - 1]))
                && !b.get(i + 1).is_some_and(u8::is_ascii_digit) =>
            {
                return Err("dollar quoting ($$) is not accepted; use '...' strings".into());
            }
            _ => {}
        }
        i += 1;
    }
    if depth > 0 {
        return Err("a '(' is not closed".into());
    }
    Ok(())
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// The index of the quote that closes the one at `start` (a doubled quote is part of the text).
fn end_of_quoted(b: &[u8], start: usize, quote: u8, escapes: bool) -> Option<usize> {
    let mut i = start + 1;
    while i < b.len() {
        if escapes && b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == quote {
            if b.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return Some(i);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn conditions_pass() {
        for ok in [
            "id > 5",
            "country = 'FR' AND (age < 18 OR age > 65)",
            "name = 'O''Brien; -- not a comment'",
            r#""Odd Name" IS NOT NULL"#,
            r"note = E'it\'s (fine'",
            "price$ > 1",
            "lower(email) LIKE '%@example.com'",
            "created > now() - interval '1 day'",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn what_could_end_the_clause_is_refused() {
        for bad in [
            "1=1; DROP TABLE x",
            ") OR (1=1",
            "1=1) OR (1=1",
            "id > 5 --",
            "id > 5 /* */",
            "(id > 5",
            "name = 'open",
            r#""open"#,
            r"note = E'\' ) OR (true",
            "x = $$a$$",
            "x = $t$a$t$",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }
}
