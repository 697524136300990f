//! The pure steps a request's query string and body values go through (see
//! src/api/request.rs): the query string into (name, value) pairs, paging, ids,
//! statuses, and the `Int` field that takes a JSON number or a decimal string.
//! Bad input must come back as an `Err`, never a panic, and what is accepted
//! must satisfy its type's invariants.
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use maskd::types::id::parse_id;
use maskd::types::paging::{MAX_PAGE_SIZE, Page};
use maskd::types::serde_helpers::Int;
use maskd::types::status::{ExecutionStatus, ExpectedStatus};

fuzz_target!(|data: &[u8]| {
    decode_int(data);

    let query = String::from_utf8_lossy(data);
    // As `QueryParams::of` does; the first of repeated names wins.
    let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(&query) else {
        return;
    };
    // Encoding the pairs and decoding them again gives the same pairs.
    let again = serde_urlencoded::to_string(&pairs).expect("pairs encode");
    assert_eq!(
        serde_urlencoded::from_str::<Vec<(String, String)>>(&again).as_ref(),
        Ok(&pairs)
    );
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };

    match Page::parse(get("page_number"), get("page_size")) {
        Ok(page) => {
            assert!(page.number >= 1, "{page:?}");
            assert!((1..=MAX_PAGE_SIZE).contains(&page.size), "{page:?}");
            assert!(page.offset() >= 0, "{page:?}");
            // Must not overflow for any total.
            let _ = page.check_in_range(i64::MAX);
        }
        Err(e) => assert!(e.contains("page_"), "{e}"),
    }

    for (name, value) in &pairs {
        match parse_id(name, value) {
            Ok(id) => {
                assert!(id >= 1, "{id}");
                assert_eq!(value.parse::<i64>(), Ok(id));
            }
            Err(e) => assert!(e.contains(name.as_str()), "{e:?} does not name {name:?}"),
        }
        match ExecutionStatus::from_str(value) {
            Ok(s) => assert_eq!(s.as_str(), value),
            Err(e) => assert!(!e.is_empty()),
        }
        match ExpectedStatus::from_str(value) {
            Ok(s) => {
                assert_eq!(s.status().as_str(), value);
                assert!(!s.status().is_finished());
            }
            Err(e) => assert!(e.contains("expectedStatus"), "{e}"),
        }
    }
});

/// `Int` accepts exactly a JSON integer that fits i64, or a string whose trimmed
/// text is one, and gives its value.
fn decode_int(data: &[u8]) {
    let decoded = serde_json::from_slice::<Int>(data);
    let expected = match serde_json::from_slice::<serde_json::Value>(data) {
        Ok(serde_json::Value::Number(n)) => n.as_i64(),
        Ok(serde_json::Value::String(t)) => t.trim().parse().ok(),
        _ => None,
    };
    assert_eq!(
        decoded.ok().map(|i| i.0),
        expected,
        "{:?}",
        String::from_utf8_lossy(data)
    );
}
