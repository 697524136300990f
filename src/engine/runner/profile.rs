//! Profiling: for each table of the ruleset, read a bounded sample of its rows (one statement
//! with a row limit, on a read-only session: a profile run never writes the target), decide for
//! each column which domain its data (or, with too few values, its name) shows, and record the
//! result; a column found takes the domain, its default algorithm and `isMasked`, unless its
//! `isProfilerWritable` is false. `rowsMasked` counts the rows sampled.

use std::sync::Mutex;

use chrono::NaiveDate;
use regex::Regex;
use sqlx::postgres::PgConnection;

use super::{RunContext, RunError};
use crate::masking::domains;
use crate::masking::profiling::{self as validators, Kind, MIN_VALUES};
use crate::masking::table_sql::{self, SampledTable};
use crate::masking::target;
use crate::store::profile_jobs::ProfileJob;
use crate::store::profiling::{self, ExpressionToRun, Found, NewResult};
use crate::store::table_metadata;
use crate::types::ExecutionStatus;

pub(in crate::engine) struct Profiling {
    job: ProfileJob,
}

/// One table to profile, with its execution component.
struct TablePlan {
    component_id: i64,
    table_name: String,
    /// (column_metadata_id, column name)
    columns: Vec<(i64, String)>,
}

/// An expression of the job's profile set, compiled.
struct Expression {
    name: String,
    domain: String,
    data_level: bool,
    /// A built-in data-level expression whose domain a validator checks better: the validator
    /// decides in its place.
    replaced_by_validator: bool,
    regex: Regex,
}

type ReadyTable = (TablePlan, SampledTable, i64);

impl Profiling {
    pub(super) fn new(job: ProfileJob) -> Self {
        Profiling { job }
    }

    pub(super) async fn run(&mut self, ctx: &RunContext<'_>) -> Result<(), RunError> {
        let job = &self.job;
        let settings = ctx.instance.profiling;
        let expressions = expressions(ctx, job.profile_set_id).await?;
        let plans = plan(ctx, job.ruleset_id).await?;
        let mut conn = ctx.connect_target_read_only().await?;
        let schema = ctx.target.schema().to_owned();
        let mut tables = Vec::with_capacity(plans.len());
        let mut rows_total = 0;
        for p in plans {
            let names: Vec<String> = p.columns.iter().map(|(_, n)| n.clone()).collect();
            let t = table_sql::sampled_table(&mut conn, &schema, &p.table_name, &names).await?;
            let n = table_sql::count_sample(&mut conn, &t, settings.sample_rows).await?;
            rows_total += n;
            tables.push((p, t, n));
        }
        let streams = (job.num_input_streams.max(1) as usize).clamp(1, tables.len().max(1));
        tracing::info!(tables = tables.len(), rows_total, streams, target = %ctx.target.describe(), "sampling");
        ctx.progress.lock().await.set_total(rows_total).await?;
        let mut conns = vec![conn];
        while conns.len() < streams {
            conns.push(ctx.connect_target_read_only().await?);
        }
        let queue = Mutex::new(tables.into_iter());
        let decide = Decide {
            expressions: &expressions,
            today: chrono::Utc::now().date_naive(),
            most_evidence: job.multiple_profiler_check,
            match_ratio: settings.match_ratio,
        };
        futures_util::future::try_join_all(
            conns
                .iter_mut()
                .map(|c| stream(ctx, &decide, settings.sample_rows, c, &queue)),
        )
        .await?;
        ctx.progress.lock().await.write().await?;
        for c in conns {
            target::close(c).await;
        }
        Ok(())
    }
}

/// The profile set's expressions, compiled.
async fn expressions(ctx: &RunContext<'_>, set_id: i64) -> Result<Vec<Expression>, RunError> {
    let stored = profiling::expressions_of_set(&ctx.instance.pool, set_id).await?;
    stored.into_iter().map(compile).collect()
}

fn compile(e: ExpressionToRun) -> Result<Expression, RunError> {
    let regex = validators::compile_expression(&e.regular_expression).map_err(|why| {
            RunError::Failed(format!(
                "profile expression {} ('{}') does not compile: {why}. Correct it with PUT /profile-expressions/{}",
                e.profile_expression_id, e.expression_name, e.profile_expression_id
            ))
        })?;
    let replaced_by_validator = e.built_in
        && e.data_level_profiling
        && Kind::ALL.iter().any(|k| k.domain_name() == e.domain_name);
    Ok(Expression {
        name: e.expression_name,
        domain: e.domain_name,
        data_level: e.data_level_profiling,
        replaced_by_validator,
        regex,
    })
}

/// The tables to profile (every column of every table of the ruleset), each with its component.
async fn plan(ctx: &RunContext<'_>, ruleset_id: i64) -> Result<Vec<TablePlan>, RunError> {
    let columns = table_metadata::columns_of_ruleset(&ctx.instance.pool, ruleset_id).await?;
    let progress = ctx.progress.lock().await;
    let mut plans: Vec<TablePlan> = Vec::new();
    for c in columns {
        if plans.last().is_none_or(|p| p.table_name != c.table_name) {
            plans.push(TablePlan {
                component_id: progress.new_component(&c.table_name).await?,
                table_name: c.table_name.clone(),
                columns: vec![],
            });
        }
        plans
            .last_mut()
            .expect("pushed")
            .columns
            .push((c.column_metadata_id, c.column_name));
    }
    Ok(plans)
}

/// One stream of a run: profiles the next table of `queue` on `conn` until none is left.
async fn stream(
    ctx: &RunContext<'_>,
    decide: &Decide<'_>,
    sample_rows: i64,
    conn: &mut PgConnection,
    queue: &Mutex<std::vec::IntoIter<ReadyTable>>,
) -> Result<(), RunError> {
    loop {
        let next = queue.lock().expect("not poisoned").next();
        let Some((p, t, n)) = next else {
            return Ok(());
        };
        ctx.progress
            .lock()
            .await
            .start_component(p.component_id, n)
            .await?;
        let rows = table_sql::read_sample(conn, &t, sample_rows).await?;
        let read = rows.len() as i64;
        ctx.progress
            .lock()
            .await
            .add(read, p.component_id, read)
            .await?;
        for (i, (column_id, column)) in p.columns.iter().enumerate() {
            let values: Vec<&str> = rows.iter().filter_map(|r| r[i].as_deref()).collect();
            let (found, sampled, matched) = decide.column(column, &values);
            let result = NewResult {
                column_metadata_id: *column_id,
                table_name: p.table_name.clone(),
                column_name: column.clone(),
                found,
                values_sampled: sampled as i64,
                values_matched: matched as i64,
            };
            let recorded = profiling::record_result(
                &ctx.instance.pool,
                ctx.execution.execution_id,
                ctx.instance.worker_id(),
                &result,
            )
            .await?;
            if !recorded {
                return Err(RunError::Stopped);
            }
        }
        ctx.progress
            .lock()
            .await
            .end_component(p.component_id, read, ExecutionStatus::Succeeded)
            .await?;
        tracing::info!(table = %p.table_name, rows = read, "table profiled");
    }
}

/// How a column's domain is decided.
struct Decide<'a> {
    expressions: &'a [Expression],
    today: NaiveDate,
    /// `multipleProfilerCheck`: the candidate with the highest match ratio wins, else the first.
    most_evidence: bool,
    /// The share of the non-blank values that must match.
    match_ratio: f64,
}

impl Decide<'_> {
    /// What `values` (the column's non-NULL sampled values) show: the domain found, and how many
    /// non-blank values were sampled and matched.
    ///
    /// The data decides when there are at least `MIN_VALUES` values: the data-level expressions
    /// of the set, each a candidate when at least `match_ratio` of the values match (for a
    /// domain values alone do not show, NUMBER, only when the name matches too), then the
    /// validators of the set's domains (the one matching the most values, at the same ratio); a
    /// column whose values match nothing is not found, even when its name looks sensitive
    /// (`ssn_verified` holding booleans). With fewer values, the set's column-name expressions
    /// decide.
    fn column(&self, name: &str, values: &[&str]) -> (Option<Found>, usize, usize) {
        let values: Vec<&str> = values
            .iter()
            .copied()
            .filter(|v| !v.trim().is_empty())
            .collect();
        let sampled = values.len();
        if sampled < MIN_VALUES {
            let by_name = self
                .expressions
                .iter()
                .find(|e| !e.data_level && e.regex.is_match(name));
            return (
                by_name.and_then(|e| found(&e.domain, &e.name, "COLUMN_NAME")),
                sampled,
                0,
            );
        }
        // Candidates in order: (domain, found by, matched).
        let mut candidates: Vec<(&str, &str, usize)> = vec![];
        let named = |domain: &str| {
            self.expressions
                .iter()
                .any(|e| !e.data_level && e.domain == domain && e.regex.is_match(name))
        };
        for e in self.expressions.iter().filter(|e| {
            e.data_level
                && !e.replaced_by_validator
                && (domains::find(&e.domain).is_none_or(|d| d.shown_by_values_alone)
                    || named(&e.domain))
        }) {
            let matched = values.iter().filter(|v| e.regex.is_match(v)).count();
            candidates.push((&e.domain, &e.name, matched));
        }
        let kinds: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|k| self.expressions.iter().any(|e| e.domain == k.domain_name()))
            .collect();
        if let Some(f) = validators::classify(&values, &kinds, self.today, self.match_ratio) {
            candidates.push((f.kind.domain_name(), f.kind.validator_name(), f.matched));
        }
        let enough = |m: usize| m > 0 && m as f64 >= self.match_ratio * sampled as f64;
        let mut qualified = candidates.into_iter().filter(|c| enough(c.2));
        let winner = if self.most_evidence {
            // The first of those matching the most values.
            qualified.fold(None::<(&str, &str, usize)>, |best, c| match best {
                Some(b) if b.2 >= c.2 => Some(b),
                _ => Some(c),
            })
        } else {
            qualified.next()
        };
        match winner {
            Some((domain, by, matched)) => (found(domain, by, "DATA"), sampled, matched),
            None => (None, sampled, 0),
        }
    }
}

/// A finding of `domain` (with its default algorithm), if maskd has that domain.
fn found(domain: &str, by: &str, found_in: &'static str) -> Option<Found> {
    let d = domains::find(domain)?;
    Some(Found {
        domain_name: d.name.to_owned(),
        algorithm_name: d.default_algorithm.name().to_owned(),
        found_by: by.to_owned(),
        found_in,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expression(
        domain: &str,
        name: &str,
        data_level: bool,
        built_in: bool,
        regex: &str,
    ) -> Expression {
        compile(ExpressionToRun {
            profile_expression_id: 1,
            domain_name: domain.into(),
            expression_name: name.into(),
            regular_expression: regex.into(),
            data_level_profiling: data_level,
            built_in,
        })
        .expect("compiles")
    }

    fn decide(expressions: &[Expression], most_evidence: bool) -> Decide<'_> {
        Decide {
            expressions,
            today: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            most_evidence,
            match_ratio: 0.8,
        }
    }

    fn set() -> Vec<Expression> {
        vec![
            expression("SSN", "ssn name", false, true, "(?i)(^|_)ssn($|_)"),
            expression(
                "SSN",
                "ssn data",
                true,
                true,
                "^[0-8][0-9]{2}-?[0-9]{2}-?[0-9]{4}$",
            ),
            expression("EMAIL", "email name", false, true, "(?i)(^|_)email($|_)"),
            expression(
                "ACCOUNT_NO",
                "iban",
                true,
                true,
                "^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$",
            ),
        ]
    }

    #[test]
    fn the_data_decides_and_a_sensitive_name_over_other_data_is_not_found() {
        let set = set();
        let d = decide(&set, false);
        let ssns = [
            "123-45-6789",
            "234-56-7890",
            "345-67-8901",
            "456-78-9012",
            "567-89-0123",
        ];
        let (found, sampled, matched) = d.column("c7", &ssns);
        let found = found.expect("an SSN column under a name that says nothing");
        assert_eq!(
            (
                found.domain_name.as_str(),
                found.found_in,
                found.found_by.as_str()
            ),
            ("SSN", "DATA", "ssn-rules")
        );
        assert_eq!(
            (found.algorithm_name.as_str(), sampled, matched),
            ("SsnSegment", 5, 5)
        );

        let flags = ["true", "false", "true", "true", "false", "false"];
        assert!(d.column("ssn_verified", &flags).0.is_none());
        let sent = [
            "2026-11-02 10:00:00+00",
            "2026-11-03 11:00:00+00",
            "2026-11-04 12:00:00+00",
            "2026-11-05 13:00:00+00",
            "2026-11-06 14:00:00+00",
        ];
        assert!(d.column("email_sent_at", &sent).0.is_none());
    }

    #[test]
    fn with_too_few_values_the_name_decides() {
        let set = set();
        let d = decide(&set, false);
        let (found, sampled, _) = d.column("customer_ssn", &["123-45-6789", " "]);
        let found = found.expect("found by its name");
        assert_eq!(
            (found.domain_name.as_str(), found.found_in, sampled),
            ("SSN", "COLUMN_NAME", 1)
        );
        assert!(d.column("notes", &[]).0.is_none());
    }

    #[test]
    fn validators_look_only_for_the_sets_domains_and_custom_data_expressions_count() {
        let only_iban = vec![expression(
            "ACCOUNT_NO",
            "iban",
            true,
            true,
            "^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$",
        )];
        let d = decide(&only_iban, false);
        let emails = [
            "a@example.com",
            "b@example.com",
            "c@example.com",
            "d@example.com",
            "e@example.com",
        ];
        assert!(
            d.column("email", &emails).0.is_none(),
            "EMAIL is not in the set"
        );
        let ibans = [
            "DE89370400440532013000",
            "GB29NWBK60161331926819",
            "FR1420041010050500013M02606",
            "NL91ABNA0417164300",
            "BE68539007547034",
        ];
        assert_eq!(d.column("x", &ibans).0.unwrap().domain_name, "ACCOUNT_NO");
    }

    #[test]
    fn a_number_is_found_only_under_a_name_that_says_so() {
        let set = vec![
            expression("NUMBER", "figure name", false, true, "(?i)(^|_)salary($|_)"),
            expression("NUMBER", "number", true, true, "^[0-9]+(\\.[0-9]+)?$"),
        ];
        let d = decide(&set, false);
        let figures = ["85000.00", "91000.50", "40000", "120000", "77000"];
        let (found, sampled, matched) = d.column("annual_salary", &figures);
        let found = found.expect("a salary");
        assert_eq!(
            (found.domain_name.as_str(), found.found_in, sampled, matched),
            ("NUMBER", "DATA", 5, 5)
        );
        assert!(d.column("amount", &figures).0.is_none());
        // The name alone is not enough either, when the data says otherwise.
        let bands = ["A", "B", "C", "A", "B"];
        assert!(d.column("salary", &bands).0.is_none());
    }

    #[test]
    fn multiple_profiler_check_takes_the_most_evidence_else_the_first() {
        let set = vec![
            expression("FREE_TEXT", "anything", true, false, "."),
            expression("EMAIL", "email name", false, true, "(?i)email"),
        ];
        let emails = [
            "a@example.com",
            "b@example.com",
            "c@example.com",
            "d@example.com",
            "not-an-email",
        ];
        // Both match at least 80%: the custom expression all 5, the validator 4.
        assert_eq!(
            decide(&set, false)
                .column("c", &emails)
                .0
                .unwrap()
                .domain_name,
            "FREE_TEXT"
        );
        assert_eq!(
            decide(&set, true)
                .column("c", &emails)
                .0
                .unwrap()
                .domain_name,
            "FREE_TEXT"
        );
        let set = vec![
            expression("FREE_TEXT", "at least one letter", true, false, "^[a-z]"),
            expression("EMAIL", "email name", false, true, "(?i)email"),
        ];
        let emails = [
            "a@example.com",
            "b@example.com",
            "c@example.com",
            "d@example.com",
            "E@example.com",
        ];
        // The custom expression matches 4 (first), the validator 5 (most).
        assert_eq!(
            decide(&set, false)
                .column("c", &emails)
                .0
                .unwrap()
                .domain_name,
            "FREE_TEXT"
        );
        assert_eq!(
            decide(&set, true)
                .column("c", &emails)
                .0
                .unwrap()
                .domain_name,
            "EMAIL"
        );
    }
}
