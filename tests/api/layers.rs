//! The crate's layers and what each may use (docs/ARCHITECTURE.md draws the same): read from the
//! source, so that an import against the grain fails here rather than in a reader's head.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module of `src/` and the modules it may use. Everything else, and any circle,
/// is refused.
const ALLOWED: &[(&str, &[&str])] = &[
    // Leaves: types valid once built, settings, keys, SQL errors in words, logs.
    ("types", &[]),
    ("config", &[]),
    ("crypto", &[]),
    ("sql_error", &[]),
    ("telemetry", &[]),
    ("metrics", &["types"]),
    // maskd's own database: the pool, then the SQL of each resource and of the state machine.
    ("db", &["sql_error"]),
    ("store", &["db", "types", "config", "sql_error"]),
    // Algorithms and target databases: never maskd's own database.
    ("masking", &["types", "crypto", "sql_error"]),
    // The execution engine and the HTTP API sit side by side on the store and masking.
    (
        "engine",
        &[
            "db",
            "store",
            "masking",
            "types",
            "crypto",
            "metrics",
            "sql_error",
        ],
    ),
    (
        "api",
        &[
            "db",
            "store",
            "masking",
            "types",
            "crypto",
            "metrics",
            "config",
            "sql_error",
        ],
    ),
    ("rotation", &["db", "store", "crypto", "config"]),
    // Wiring.
    (
        "startup",
        &[
            "api", "engine", "db", "store", "crypto", "metrics", "config",
        ],
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules each top-level module names through `crate::`.
fn uses() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![];
    rust_files(&src, &mut files);
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let module = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if module == "lib" || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains("crate::{"),
            "{}: name each module used (`crate::x::...`), not `crate::{{..}}`, so this test sees it",
            relative.display()
        );
        let named = uses.entry(module.clone()).or_default();
        for (at, _) in text.match_indices("crate::") {
            let rest = &text[at + "crate::".len()..];
            let used: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if used != module {
                named.insert(used);
            }
        }
    }
    uses
}

#[test]
fn each_layer_uses_only_the_layers_below_it() {
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(m, deps)| (*m, deps.iter().copied().collect()))
        .collect();
    let uses = uses();
    for (module, used) in &uses {
        let Some(may) = allowed.get(module.as_str()) else {
            panic!(
                "src/{module} is not in this test's table of layers: add it, and to docs/ARCHITECTURE.md"
            );
        };
        let against: Vec<&String> = used.iter().filter(|u| !may.contains(u.as_str())).collect();
        assert!(
            against.is_empty(),
            "{module} uses {against:?}, which it may not (it may use {may:?})"
        );
    }
    // The table itself has no circle, so neither does the code.
    let mut order: Vec<&str> = vec![];
    while order.len() < allowed.len() {
        let next = allowed
            .iter()
            .find(|(m, deps)| !order.contains(m) && deps.iter().all(|d| order.contains(d)))
            .map(|(m, _)| *m)
            .unwrap_or_else(|| panic!("the layers have a circle among those not in {order:?}"));
        order.push(next);
    }
}

/// Handlers describe their answers with the API's own types (`error::ErrorAnswer`,
/// `request::PageParams`), never through the OpenAPI module, which only assembles the document.
#[test]
fn handlers_do_not_use_the_openapi_module() {
    let api = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let mut files = vec![];
    rust_files(&api, &mut files);
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy();
        if name == "mod.rs" || name == "openapi.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let names_it = text
            .match_indices("openapi::")
            .any(|(at, _)| !text[..at].ends_with("utoipa::"));
        assert!(!names_it, "{} uses api::openapi", file.display());
    }
}
