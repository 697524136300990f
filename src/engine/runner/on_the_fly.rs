//! On-the-fly masking: copy each table of the ruleset from the source into the table of the same
//! name in the target, masking the masked columns on the way; the source is only read (its
//! sessions are read-only). Per table: `COPY (SELECT ...) TO STDOUT` on the source, the rows
//! masked on a blocking thread batch by batch (unmasked fields pass byte for byte), and
//! `COPY ... FROM STDIN` on the target, one COPY per `commitSize` rows, each its own transaction.
//!
//! Before the first table: the prescript, then with `truncateTables` one `TRUNCATE` of every
//! target table. Tables are written parents first (foreign keys between them in the target), and
//! with `numInputStreams` several at once, a table starting only once the tables it references
//! are done. The SQL objects the job's options name are disabled on the target tables (dropping
//! indexes during the load and rebuilding them after is the fast path) and restored as for
//! in-place masking. A re-run starts over: the target is rewritten.

use std::collections::HashSet;
use std::sync::Mutex;

use futures_util::StreamExt;
use sqlx::Executor;
use sqlx::postgres::PgConnection;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::in_place::{self, Ledger};
use super::{RunContext, RunError, chunked};
use crate::masking::algorithms::{Algorithm, MaskingKey};
use crate::masking::copy_table::{self, CopiedTable, SourceRead};
use crate::masking::copy_text;
use crate::masking::table_sql::{self, ColumnRule};
use crate::masking::target;
use crate::store::jobs::MaskingJob;
use crate::store::table_metadata;

/// Rows masked per blocking task and sent per message; a COPY spans `commitSize` rows.
const MAX_BATCH: i64 = 10_000;

/// A masked column: its position in the COPY rows, its algorithm, and its length limit.
type Masked = (usize, Algorithm, Option<i32>);

pub(in crate::engine) struct OnTheFlyMasking {
    job: MaskingJob,
}

/// One table to copy, with its execution component.
pub(super) struct TablePlan {
    pub component_id: i64,
    pub table_name: String,
    pub where_clause: Option<String>,
    pub custom_sql: Option<String>,
    pub rules: Vec<ColumnRule>,
    /// Split into chunks, recorded with the execution.
    chunked: bool,
}

impl TablePlan {
    pub(super) fn source_read(&self) -> SourceRead<'_> {
        SourceRead {
            custom_sql: self.custom_sql.as_deref(),
            where_clause: self.where_clause.as_deref(),
        }
    }
}

/// A table ready to copy: its plan, what the catalogs said of it, and the source rows it reads.
type ReadyTable = (TablePlan, CopiedTable, i64);

impl OnTheFlyMasking {
    pub(super) fn new(job: MaskingJob) -> Self {
        OnTheFlyMasking { job }
    }

    pub(super) async fn run(&mut self, ctx: &RunContext<'_>) -> Result<(), RunError> {
        let job = &self.job;
        let source = ctx
            .source
            .ok_or_else(|| RunError::Failed("the on-the-fly job has no source connector".into()))?;
        if source.describe() == ctx.target.describe() && source.schema() == ctx.target.schema() {
            return Err(RunError::Failed(format!(
                "the source and the target are the same schema '{}' of {}: an on-the-fly job reads one and writes another",
                source.schema(),
                source.describe()
            )));
        }
        let plans = plan(ctx, job.ruleset_id).await?;
        let mut source_conn = ctx.connect_source().await?;
        let mut target_conn = ctx.connect_target().await?;
        let mut tables = Vec::with_capacity(plans.len());
        let mut rows_total = 0;
        for mut p in plans {
            let t = copy_table::resolve(
                &mut source_conn,
                source.schema(),
                &mut target_conn,
                ctx.target.schema(),
                &p.table_name,
                p.source_read(),
                &p.rules,
            )
            .await?;
            let n: i64 = sqlx::query_scalar(t.count_sql())
                .fetch_one(&mut source_conn)
                .await?;
            let chunking = ctx.instance.chunking;
            if let Some(key) = t.key.as_ref().filter(|_| n >= chunking.min_rows) {
                let split = chunked::split_source(&mut source_conn, key, chunking.rows).await?;
                chunked::record(ctx, &p.table_name, None, &split).await?;
                tracing::info!(table = %p.table_name, chunks = split.len(), rows = n, "split into chunks");
                p.chunked = true;
            }
            rows_total += n;
            tables.push((p, t, n));
        }
        let oids: Vec<u32> = tables.iter().map(|(_, t, _)| t.target_oid).collect();
        let edges = copy_table::dependencies(&mut target_conn, &oids).await?;
        let schedule = Schedule::new(tables, &edges);
        let streams = (job.num_input_streams.max(1) as usize).clamp(1, oids.len().max(1));
        tracing::info!(tables = oids.len(), rows_total, streams, source = %source.describe(), target = %ctx.target.describe(), "counted");
        ctx.progress.lock().await.set_total(rows_total).await?;

        let options = &job.database_masking_options;
        if let Some(script) = &options.prescript {
            super::in_place::run_script(&mut target_conn, "prescript", script).await?;
        }
        if options.truncate_tables && !oids.is_empty() {
            let names: Vec<&str> = schedule.target_names();
            target_conn
                .execute(format!("TRUNCATE {}", names.join(", ")).as_str())
                .await?;
            tracing::info!(tables = names.len(), "target tables emptied");
        }
        let mut conns = vec![(source_conn, target_conn)];
        while conns.len() < streams {
            conns.push((ctx.connect_source().await?, ctx.connect_target().await?));
        }
        futures_util::future::try_join_all(
            conns
                .iter_mut()
                .map(|(s, t)| stream(ctx, job, s, t, &schedule)),
        )
        .await?;
        let mut conns = conns.into_iter();
        let (first_source, mut first_target) = conns.next().expect("one stream at least");
        for (s, t) in conns {
            target::close(s).await;
            target::close(t).await;
        }
        target::close(first_source).await;
        if let Some(script) = &options.postscript {
            super::in_place::run_script(&mut first_target, "postscript", script).await?;
        }
        ctx.progress.lock().await.write().await?;
        target::close(first_target).await;
        Ok(())
    }
}

/// The tables to copy (every table of the ruleset), each with its execution component.
async fn plan(ctx: &RunContext<'_>, ruleset_id: i64) -> Result<Vec<TablePlan>, RunError> {
    let mut plans = tables_to_copy(ctx, ruleset_id, None).await?;
    let progress = ctx.progress.lock().await;
    for p in &mut plans {
        p.component_id = progress.new_component(&p.table_name).await?;
    }
    Ok(plans)
}

/// The ruleset's tables (only `only`, when given), without their components.
pub(super) async fn tables_to_copy(
    ctx: &RunContext<'_>,
    ruleset_id: i64,
    only: Option<&str>,
) -> Result<Vec<TablePlan>, RunError> {
    let pool = &ctx.instance.pool;
    let tables = table_metadata::tables_of_ruleset(pool, ruleset_id).await?;
    let masked = table_metadata::masked_columns(pool, ruleset_id).await?;
    let mut plans = Vec::with_capacity(tables.len());
    for t in tables
        .into_iter()
        .filter(|t| only.is_none_or(|o| o == t.table_name))
    {
        let mut rules = vec![];
        for c in masked
            .iter()
            .filter(|c| c.table_metadata_id == t.table_metadata_id)
        {
            let Some(algorithm) = Algorithm::from_name(&c.algorithm_name) else {
                return Err(RunError::Failed(format!(
                    "column {}.{} names unknown algorithm '{}'",
                    c.table_name, c.column_name, c.algorithm_name
                )));
            };
            rules.push(ColumnRule {
                name: c.column_name.clone(),
                algorithm,
            });
        }
        plans.push(TablePlan {
            component_id: 0,
            table_name: t.table_name,
            where_clause: t.where_clause,
            custom_sql: t.custom_sql,
            rules,
            chunked: false,
        });
    }
    Ok(plans)
}

/// The tables still to copy, parents first, each handed out once the tables it references (among
/// them) are done.
struct Schedule {
    state: Mutex<ScheduleState>,
    changed: Notify,
    target_names: Vec<String>,
}

struct ScheduleState {
    /// (table, the target oids it waits for).
    pending: Vec<(ReadyTable, Vec<u32>)>,
    done: HashSet<u32>,
}

impl Schedule {
    /// `edges`: (referencing, referenced) target oids. Tables are ordered parents first, keeping
    /// the ruleset's order otherwise; a table in a cycle of foreign keys waits only for the tables
    /// ordered before it (its constraints need `disableConstraints` to load).
    fn new(tables: Vec<ReadyTable>, edges: &[(u32, u32)]) -> Schedule {
        let mut left = tables;
        let mut ordered: Vec<(ReadyTable, Vec<u32>)> = Vec::with_capacity(left.len());
        while !left.is_empty() {
            let placed: HashSet<u32> = ordered.iter().map(|(t, _)| t.1.target_oid).collect();
            let waiting: HashSet<u32> = left.iter().map(|t| t.1.target_oid).collect();
            let ready = left
                .iter()
                .position(|t| {
                    !edges
                        .iter()
                        .any(|&(from, to)| from == t.1.target_oid && waiting.contains(&to))
                })
                .unwrap_or(0);
            let table = left.remove(ready);
            let parents = edges
                .iter()
                .filter(|&&(from, to)| from == table.1.target_oid && placed.contains(&to))
                .map(|&(_, to)| to)
                .collect();
            ordered.push((table, parents));
        }
        Schedule {
            target_names: ordered
                .iter()
                .map(|(t, _)| t.1.target_qualified.clone())
                .collect(),
            state: Mutex::new(ScheduleState {
                pending: ordered,
                done: HashSet::new(),
            }),
            changed: Notify::new(),
        }
    }

    fn target_names(&self) -> Vec<&str> {
        self.target_names.iter().map(String::as_str).collect()
    }

    /// The next table whose parents are done, waiting for one if need be; None when none is left.
    async fn next(&self) -> Option<ReadyTable> {
        loop {
            // Made before looking, so that a table done meanwhile still wakes this one.
            let changed = self.changed.notified();
            {
                let mut s = self.state.lock().expect("not poisoned");
                if s.pending.is_empty() {
                    return None;
                }
                let done = &s.done;
                if let Some(i) = s
                    .pending
                    .iter()
                    .position(|(_, parents)| parents.iter().all(|p| done.contains(p)))
                {
                    return Some(s.pending.remove(i).0);
                }
            }
            changed.await;
        }
    }

    fn done(&self, target_oid: u32) {
        self.state
            .lock()
            .expect("not poisoned")
            .done
            .insert(target_oid);
        self.changed.notify_waiters();
    }
}

/// One stream of a run: copies the next table of the schedule until none is left.
async fn stream(
    ctx: &RunContext<'_>,
    job: &MaskingJob,
    source: &mut PgConnection,
    target: &mut PgConnection,
    schedule: &Schedule,
) -> Result<(), RunError> {
    while let Some((p, t, n)) = schedule.next().await {
        ctx.progress
            .lock()
            .await
            .start_component(p.component_id, n)
            .await?;
        let unmasked_before =
            super::begin_table(ctx, target, &(&t).into(), &job.database_masking_options).await?;
        let rows = if p.chunked {
            chunked::copy_table(ctx, job, source, target, &p, &t).await?
        } else {
            let rows = copy(
                ctx,
                job,
                (source, target),
                &t,
                p.component_id,
                t.copy_out_sql(),
                &Ledger::Table,
            )
            .await?;
            tracing::info!(table = %t.name, rows, "table copied");
            rows
        };
        super::end_table(ctx, p.component_id, rows, unmasked_before).await?;
        schedule.done(t.target_oid);
    }
    Ok(())
}

/// Copies the rows `copy_out_sql` reads, masking them on the way; the rows written. Recorded in
/// `ledger`: a whole table's COPYs commit as they end; a chunk's each commit in a transaction
/// recorded around its COMMIT, by the key of its last row (the chunk is read in key order).
pub(super) async fn copy(
    ctx: &RunContext<'_>,
    job: &MaskingJob,
    (source, target): (&mut PgConnection, &mut PgConnection),
    t: &CopiedTable,
    component_id: i64,
    copy_out_sql: &str,
    ledger: &Ledger,
) -> Result<i64, RunError> {
    let commit_size = job.database_masking_options.commit_size as i64;
    let batch = commit_size.min(MAX_BATCH);
    let masked: Vec<Masked> = t
        .columns
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.algorithm.map(|a| (i, a, c.max_chars)))
        .collect();
    let mut rows_in = copy_text::Rows::default();
    let mut pending: Vec<u8> = Vec::new();
    let mut pending_rows = 0i64;
    let mut done = 0i64;
    let mut out = source.copy_out_raw(copy_out_sql).await?;
    let mut ended = false;
    let mut last_key: Option<Vec<String>> = None;
    while !ended {
        // One COPY, and so one transaction, per `commitSize` rows.
        if matches!(ledger, Ledger::Chunk { .. }) {
            target.execute("BEGIN").await?;
        }
        let mut copy_in = target.copy_in_raw(t.copy_in_sql()).await?;
        let mut uncommitted = 0i64;
        while !ended && uncommitted < commit_size {
            let chunk = out.next().await.transpose()?;
            ended = chunk.is_none();
            if let Some(chunk) = chunk {
                rows_in.push(&chunk, |row| {
                    pending.extend_from_slice(row);
                    pending.push(b'\n');
                    pending_rows += 1;
                });
            }
            if pending_rows >= batch || (ended && pending_rows > 0) {
                let data = std::mem::take(&mut pending);
                let n = std::mem::take(&mut pending_rows);
                if let (Ledger::Chunk { .. }, Some(key)) = (ledger, &t.key) {
                    last_key = Some(key_of_last_row(&data, &key.positions)?);
                }
                let data = if masked.is_empty() {
                    data
                } else {
                    mask_batch(ctx, job, component_id, t, &masked, data).await?
                };
                copy_in.send(data).await?;
                uncommitted += n;
                done += n;
                in_place::report(ctx, ledger, component_id, n, done).await?;
            }
        }
        if let Ledger::Table = ledger {
            // The COPY commits as it ends.
            ctx.instance.metrics.add_rows_masked(uncommitted as u64);
        }
        copy_in.finish().await?;
        if let Ledger::Chunk { .. } = ledger {
            match &last_key {
                Some(key) if uncommitted > 0 => {
                    in_place::commit(ctx, target, &t.name, ledger, key, uncommitted).await?
                }
                _ => {
                    target.execute("COMMIT").await?;
                }
            }
        }
    }
    if rows_in.has_partial() {
        return Err(RunError::Failed(format!(
            "the source's COPY of table '{}' ended in the middle of a row",
            t.name
        )));
    }
    drop(out);
    Ok(done)
}

/// The key of the last of COPY text `rows`: its fields at `positions`, decoded.
fn key_of_last_row(rows: &[u8], positions: &[usize]) -> Result<Vec<String>, RunError> {
    let last = rows
        .strip_suffix(b"\n")
        .unwrap_or(rows)
        .rsplit(|&b| b == b'\n')
        .next()
        .unwrap_or_default();
    let fields: Vec<&[u8]> = copy_text::fields(last).collect();
    positions
        .iter()
        .map(|&i| {
            fields
                .get(i)
                .and_then(|raw| copy_text::decode(raw).ok().flatten())
                .ok_or_else(|| RunError::Failed("the source sent a row without its key".into()))
        })
        .collect()
}

/// Masks a batch of rows on a blocking thread, counting the values left unmasked.
async fn mask_batch(
    ctx: &RunContext<'_>,
    job: &MaskingJob,
    component_id: i64,
    t: &CopiedTable,
    masked: &[Masked],
    data: Vec<u8>,
) -> Result<Vec<u8>, RunError> {
    let (key, columns, stop) = (
        ctx.instance.masking_key.clone(),
        masked.to_vec(),
        ctx.stop.clone(),
    );
    let (data, failures) =
        tokio::task::spawn_blocking(move || mask_rows(&key, &columns, &data, &stop))
            .await
            .map_err(|e| RunError::Failed(format!("masking a batch panicked: {e}")))??;
    for (&(i, algorithm, _), &count) in masked.iter().zip(&failures) {
        if count == 0 {
            continue;
        }
        let column = &t.columns[i].name;
        ctx.add_unmasked(&t.name, column, algorithm.name(), count, component_id);
        if job.fail_immediately {
            return Err(RunError::Failed(format!(
                "a value of {}.{column} could not be masked by {} (or its masked value would not fit the column) and the job fails immediately",
                t.name,
                algorithm.name()
            )));
        }
    }
    Ok(data)
}

/// Masks the `masked` fields of COPY text rows, copying every other byte as it is; with the count
/// of values each masked column could not mask (the algorithm refused them, or the masked value
/// would not fit the column: left as they were, never cut short). Stopped when the run is: a blocking thread is
/// not stopped by dropping the run, so it looks for itself.
fn mask_rows(
    key: &MaskingKey,
    masked: &[Masked],
    rows: &[u8],
    stop: &CancellationToken,
) -> Result<(Vec<u8>, Vec<i64>), RunError> {
    let mut out = Vec::with_capacity(rows.len() + rows.len() / 8);
    let mut failures = vec![0; masked.len()];
    let Some(rows) = rows.strip_suffix(b"\n") else {
        return Ok((out, failures));
    };
    for (n, row) in rows.split(|&b| b == b'\n').enumerate() {
        if n % 1024 == 0 && stop.is_cancelled() {
            return Err(RunError::Stopped);
        }
        let mut next = masked.iter().enumerate().peekable();
        for (i, raw) in copy_text::fields(row).enumerate() {
            if i > 0 {
                out.push(b'\t');
            }
            match next.next_if(|(_, (column, ..))| *column == i) {
                None => out.extend_from_slice(raw),
                Some((m, (_, algorithm, max_chars))) => {
                    let value = copy_text::decode(raw).map_err(|_| {
                        RunError::Failed("the source sent a value that is not UTF-8".into())
                    })?;
                    match algorithm.mask(key, value.as_deref()) {
                        Ok(v) if table_sql::fits(v.as_deref(), *max_chars) => {
                            copy_text::encode(v.as_deref(), &mut out)
                        }
                        _ => {
                            failures[m] += 1;
                            out.extend_from_slice(raw);
                        }
                    }
                }
            }
        }
        out.push(b'\n');
    }
    Ok((out, failures))
}
