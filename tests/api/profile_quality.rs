//! Profiling's quality, measured: a profile run over the corpus of tests/corpus (about 50 columns
//! of personal data and decoys, with their ground truth) finds the personal data (recall) and
//! nothing else (precision), per kind and in all.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Settings, TestApp, spawn_app_with, watch};

const CORPUS: &str = include_str!("../corpus/corpus.sql");
const TRUTH: &str = include_str!("../corpus/truth.csv");

/// (table, column) -> the domain it holds (None: no personal data).
fn truth() -> BTreeMap<(String, String), Option<String>> {
    TRUTH
        .lines()
        .skip(1)
        .map(|line| {
            let mut f = line.split(',');
            let (t, c, d) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap_or(""));
            (
                (t.to_owned(), c.to_owned()),
                (!d.is_empty()).then(|| d.to_owned()),
            )
        })
        .collect()
}

/// Creates the corpus in the target schema with `rows` rows per table, and adds its tables to
/// the ruleset.
pub async fn create_corpus(app: &TestApp, ruleset: i64, rows: i64) {
    sqlx::raw_sql(CORPUS).execute(&app.pool).await.unwrap();
    sqlx::query("SELECT corpus_make('target', $1)")
        .bind(rows as i32)
        .execute(&app.pool)
        .await
        .unwrap();
    let tables: std::collections::BTreeSet<String> =
        truth().keys().map(|(t, _)| t.clone()).collect();
    for t in tables {
        app.mask_columns(ruleset, &t, &[]).await;
    }
}

/// Per kind: (true positives, false positives, false negatives).
type Scores = BTreeMap<String, (u32, u32, u32)>;

fn score(found: &BTreeMap<(String, String), Option<String>>) -> Scores {
    let mut scores = Scores::new();
    for (key, expected) in truth() {
        let got = found
            .get(&key)
            .unwrap_or_else(|| panic!("{key:?} was not profiled"))
            .clone();
        match (&expected, &got) {
            (Some(e), Some(g)) if e == g => scores.entry(e.clone()).or_default().0 += 1,
            _ => {
                if let Some(g) = &got {
                    scores.entry(g.clone()).or_default().1 += 1;
                    println!("false positive: {key:?} found as {g}, is {expected:?}");
                }
                if let Some(e) = &expected {
                    scores.entry(e.clone()).or_default().2 += 1;
                    println!("missed: {key:?} is {e}, found {got:?}");
                }
            }
        }
    }
    scores
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiling_finds_the_personal_data_of_the_corpus_and_nothing_else() {
    let app = spawn_app_with(Settings {
        workers: 1,
        ..Default::default()
    })
    .await;
    let rs = app.create_ruleset().await;
    create_corpus(&app, rs, 5_000).await;
    let job = app
        .post(
            "/profile-jobs",
            json!({"jobName": "corpus", "rulesetId": rs, "profileSetId": 1}),
        )
        .await;
    assert_eq!(job.status, StatusCode::CREATED, "{job:?}");
    let id = app.submit(job.body["profileJobId"].as_i64().unwrap()).await;
    let last = watch(&app, id, |e| e["endTime"].is_string())
        .await
        .pop()
        .unwrap();
    assert_eq!(last["status"], "SUCCEEDED", "{last}");

    let results = app
        .get(&format!(
            "/profile-results-database/{id}?page_size=1000&page_number=1"
        ))
        .await;
    let found: BTreeMap<(String, String), Option<String>> = results.body["responseList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r: &Value| {
            (
                (
                    r["tableName"].as_str().unwrap().to_owned(),
                    r["columnName"].as_str().unwrap().to_owned(),
                ),
                r["domainName"].as_str().map(str::to_owned),
            )
        })
        .collect();
    let scores = score(&found);
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    println!(
        "{:<14} {:>3} {:>3} {:>3} {:>9} {:>6}",
        "kind", "tp", "fp", "fn", "precision", "recall"
    );
    for (kind, (t, f, n)) in &scores {
        let precision = f64::from(*t) / f64::from((t + f).max(1));
        let recall = f64::from(*t) / f64::from((t + n).max(1));
        println!("{kind:<14} {t:>3} {f:>3} {n:>3} {precision:>9.2} {recall:>6.2}");
        (tp, fp, fn_) = (tp + t, fp + f, fn_ + n);
    }
    let precision = f64::from(tp) / f64::from(tp + fp);
    let recall = f64::from(tp) / f64::from(tp + fn_);
    println!(
        "all: precision {precision:.3}, recall {recall:.3} over {} columns",
        truth().len()
    );
    assert!(precision >= 0.95, "precision {precision:.3}");
    assert!(recall >= 0.95, "recall {recall:.3}");
}
