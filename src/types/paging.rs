//! Delphix paging: `page_number` (>= 1) and `page_size` (1..=10000).

use serde::Serialize;

pub const DEFAULT_PAGE_SIZE: i64 = 1000;
pub const MAX_PAGE_SIZE: i64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub number: i64,
    pub size: i64,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            number: 1,
            size: DEFAULT_PAGE_SIZE,
        }
    }
}

impl Page {
    pub fn parse(number: Option<&str>, size: Option<&str>) -> Result<Self, String> {
        let number = match number {
            None => 1,
            Some(t) => match t.parse::<i64>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    return Err(format!(
                        "page_number must be an integer of at least 1, got '{t}'"
                    ));
                }
            },
        };
        let size = match size {
            None => DEFAULT_PAGE_SIZE,
            Some(t) => match t.parse::<i64>() {
                Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
                _ => {
                    return Err(format!(
                        "page_size must be an integer from 1 to {MAX_PAGE_SIZE}, got '{t}'"
                    ));
                }
            },
        };
        Ok(Page { number, size })
    }

    pub fn offset(&self) -> i64 {
        (self.number - 1).saturating_mul(self.size)
    }

    /// Delphix refuses a page past the last one (when there is at least one item).
    pub fn check_in_range(&self, total: i64) -> Result<(), String> {
        if total > 0 && self.offset() >= total {
            // Rounded up without `total + size - 1`, which overflows near i64::MAX.
            let last = (total - 1) / self.size + 1;
            return Err(format!(
                "page_number {} is outside of the acceptable range. The last page is {last}",
                self.number
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    pub number_on_page: i64,
    pub total: i64,
}

/// A list answer: `{"_pageInfo": {...}, "responseList": [...]}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Paged<T> {
    #[serde(rename = "_pageInfo")]
    pub page_info: PageInfo,
    #[serde(rename = "responseList")]
    pub response_list: Vec<T>,
}

impl<T> Paged<T> {
    pub fn new(response_list: Vec<T>, total: i64) -> Self {
        Paged {
            page_info: PageInfo {
                number_on_page: response_list.len() as i64,
                total,
            },
            response_list,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(
            Page::parse(None, None).unwrap(),
            Page {
                number: 1,
                size: 1000
            }
        );
        assert_eq!(Page::parse(Some("3"), Some("10")).unwrap().offset(), 20);
        for (n, s) in [
            (Some("0"), None),
            (Some("x"), None),
            (None, Some("0")),
            (None, Some("10001")),
        ] {
            assert!(Page::parse(n, s).is_err());
        }
    }

    #[test]
    fn past_the_last_page_names_it() {
        let page = Page {
            number: 4,
            size: 10,
        };
        assert!(page.check_in_range(31).is_ok());
        let err = page.check_in_range(30).unwrap_err();
        assert!(
            err.contains("is outside of the acceptable range. The last page is 3"),
            "{err}"
        );
        assert!(
            page.check_in_range(0).is_ok(),
            "an empty list has no last page"
        );
    }

    #[test]
    fn last_page_of_a_huge_total_does_not_overflow() {
        let page = Page {
            number: i64::MAX,
            size: MAX_PAGE_SIZE,
        };
        let err = page.check_in_range(i64::MAX).unwrap_err();
        let last = i64::MAX / MAX_PAGE_SIZE + 1;
        assert!(err.ends_with(&format!("The last page is {last}")), "{err}");
    }
}
