//! The web console: the page at `/` and its assets, served from the binary with a strict
//! Content-Security-Policy and nothing fetched from elsewhere.

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HeaderMap};

use crate::common::spawn_app;

const CONSOLE_DIR: &str = "src/api/console";

fn header<'a>(headers: &'a HeaderMap, name: &reqwest::header::HeaderName) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// Checks the headers every console file carries; answers the body.
async fn fetch_console_file(address: &str, path: &str, content_type: &str) -> String {
    let r = reqwest::get(format!("{address}{path}")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    let headers = r.headers().clone();
    assert_eq!(header(&headers, &CONTENT_TYPE), content_type, "{path}");
    assert_eq!(header(&headers, &CACHE_CONTROL), "no-cache", "{path}");
    let csp = header(&headers, &CONTENT_SECURITY_POLICY);
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    for needed in [
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
    ] {
        assert!(directives.contains(&needed), "{path}: {csp}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    r.text().await.unwrap()
}

/// The values of every `attribute="..."` in `html`.
fn attribute_values<'a>(html: &'a str, attribute: &str) -> Vec<&'a str> {
    let marker = format!(" {attribute}=\"");
    html.match_indices(&marker)
        .map(|(at, _)| {
            let rest = &html[at + marker.len()..];
            &rest[..rest.find('"').expect("the attribute is closed")]
        })
        .collect()
}

fn content_type_of(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        _ => panic!("the console references {path}, of a kind it should not need"),
    }
}

#[tokio::test]
async fn the_page_and_every_asset_it_references_are_served_with_a_strict_policy() {
    let app = spawn_app().await;
    let html = fetch_console_file(&app.address, "/", "text/html; charset=utf-8").await;
    assert_eq!(
        html,
        std::fs::read_to_string(format!("{CONSOLE_DIR}/index.html")).unwrap()
    );

    let references: Vec<&str> = attribute_values(&html, "src")
        .into_iter()
        .chain(attribute_values(&html, "href"))
        .collect();
    for file in ["/console/console.js", "/console/console.css"] {
        assert!(references.contains(&file), "{references:?}");
    }
    for path in &references {
        let name = path
            .strip_prefix("/console/")
            .unwrap_or_else(|| panic!("{path} is not one of the console's own files"));
        let body = fetch_console_file(&app.address, path, content_type_of(path)).await;
        let on_disk = std::fs::read_to_string(format!("{CONSOLE_DIR}/{name}")).unwrap();
        assert_eq!(body, on_disk, "{path} is served as it is in the repository");
    }

    let missing = reqwest::get(format!("{}/console/nothing.js", app.address))
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("nothing.js"),
        "{body}"
    );
}

#[test]
fn the_page_has_no_inline_script_or_style_that_the_policy_would_block() {
    let html = std::fs::read_to_string(format!("{CONSOLE_DIR}/index.html")).unwrap();
    let scripts = html.matches("<script").count();
    assert!(scripts >= 1);
    assert_eq!(
        scripts,
        html.matches("<script type=\"module\" src=\"").count(),
        "every script is a module loaded from a file"
    );
    assert!(!html.contains("<style"), "styles live in console.css");
    assert!(attribute_values(&html, "style").is_empty());
    let handlers: Vec<&str> = html
        .split_whitespace()
        .filter(|word| word.starts_with("on") && word.contains("=\""))
        .collect();
    assert!(handlers.is_empty(), "inline event handlers: {handlers:?}");
}

#[test]
fn nothing_in_the_console_references_an_external_url() {
    let mut files = 0;
    for entry in std::fs::read_dir(CONSOLE_DIR).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        // An SVG names its XML namespace with a URL that is an identifier, never fetched.
        let text = text.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        for scheme in ["http://", "https://"] {
            assert!(
                !text.contains(scheme),
                "{} references something outside maskd ({scheme})",
                path.display()
            );
        }
        if path.extension().is_some_and(|e| e == "css") {
            // The style sheet loads nothing: no fonts, images or other sheets.
            assert!(!text.contains("url(") && !text.contains("@import"));
        }
        files += 1;
    }
    assert!(files >= 3, "index.html, console.js and console.css");
}
