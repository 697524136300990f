//! The SQL objects of a run (triggers, foreign keys, indexes it disabled or dropped on its target):
//! each is recorded before it is touched, and whoever ends the execution (its worker, or the
//! instance that took it over) restores them all, or reports in an event the ones it could not
//! restore and why. An execution is ended only once one or the other is recorded.

use sqlx::postgres::PgConnection;

use super::Instance;
use super::events::{self, Event};
use super::runner::{RunContext, RunError};
use crate::masking::sql_objects as catalog;
use crate::masking::target::{self, Target};
use crate::sql_error;
use crate::store::jobs::DatabaseMaskingOptions;
use crate::store::sql_objects::{self as store, SqlObject};
use crate::types::target::FoundSqlObject;

/// The SQL objects of the table that the job's options say to disable or drop.
pub(super) async fn in_the_way(
    conn: &mut PgConnection,
    t: &catalog::TableRef<'_>,
    options: &DatabaseMaskingOptions,
) -> Result<Vec<FoundSqlObject>, RunError> {
    let mut found = Vec::new();
    if options.disable_triggers {
        found.extend(catalog::triggers(conn, t).await?);
    }
    if options.disable_constraints {
        found.extend(catalog::foreign_keys(conn, t).await?);
    }
    if options.drop_indexes {
        found.extend(catalog::indexes(conn, t).await?);
    }
    Ok(found)
}

/// Records, then disables (or drops) each object, while the execution is still this worker's.
/// Stopped when it no longer is: an object disabled just as the execution was taken over is put
/// back at once, since the instance that took over may have restored the others already.
pub(super) async fn disable(
    ctx: &RunContext<'_>,
    conn: &mut PgConnection,
    found: Vec<FoundSqlObject>,
) -> Result<(), RunError> {
    let (instance, id) = (ctx.instance, ctx.execution.execution_id);
    for o in found {
        let Some(recorded) = store::record(&instance.pool, id, instance.worker_id(), &o).await?
        else {
            return Err(RunError::Stopped);
        };
        catalog::disable(conn, &o.disable_sql).await?;
        if !store::mark_disabled(&instance.pool, recorded.sql_object_id, instance.worker_id())
            .await?
        {
            match catalog::restore(conn, &o.restore_sql).await {
                Ok(()) => {
                    tracing::info!(object = %recorded.describe(), "restored at once: the execution is no longer this worker's")
                }
                Err(e) => {
                    tracing::error!(object = %recorded.describe(), error = %sql_error::describe(&e), restore_sql = %o.restore_sql, "disabled as the execution was taken over, and cannot be restored")
                }
            }
            return Err(RunError::Stopped);
        }
        tracing::info!(object = %recorded.describe(), "disabled");
    }
    Ok(())
}

/// What to do with the run's objects as the execution ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Restore,
    /// Leave them as they are and say so (an abrupt cancel); `why` is said in the event.
    Report {
        why: String,
    },
    /// Nothing: the execution is no longer this instance's to end.
    Nothing,
}

/// What became of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Nothing was asked.
    Untouched,
    /// Every object is back (or there were none), and every constraint valid.
    All,
    /// Every object is back, but a constraint is NOT VALID (an event says so).
    NotValidated,
    /// Some are not back; a `SQL_OBJECTS_LEFT_DISABLED` event names them and says why.
    Reported,
    /// maskd's database recorded neither (it is out of reach): the execution must not be ended,
    /// so that the instance taking it over restores or reports them.
    Unrecorded,
}

/// Does `action` on the execution's objects not restored yet. `target` is where they are, or why
/// it is out of reach.
pub(super) async fn settle(
    instance: &Instance,
    execution_id: i64,
    target: Result<&Target, &str>,
    action: Action,
) -> Settled {
    match action {
        Action::Nothing => Settled::Untouched,
        Action::Report { why } => report_left(instance, execution_id, &why).await,
        Action::Restore => {
            let target = match target {
                Ok(t) => t,
                Err(why) => {
                    let why = format!("the target cannot be reached: {why}");
                    return report_left(instance, execution_id, &why).await;
                }
            };
            match restore_all(instance, execution_id, target).await {
                Ok(true) => Settled::All,
                Ok(false) => Settled::NotValidated,
                Err(Unrestored::Unlisted) => Settled::Unrecorded,
                Err(Unrestored::Left(why)) => report_left(instance, execution_id, &why).await,
            }
        }
    }
}

/// Why some objects are not back.
enum Unrestored {
    /// maskd's database could not even list them.
    Unlisted,
    /// The reason, for the event.
    Left(String),
}

/// Restores every object not restored yet, newest first. Ok(false) when all are back but a
/// constraint could not be validated.
async fn restore_all(
    instance: &Instance,
    execution_id: i64,
    target: &Target,
) -> Result<bool, Unrestored> {
    let objects = unrestored(instance, execution_id)
        .await
        .ok_or(Unrestored::Unlisted)?;
    if objects.is_empty() {
        return Ok(true);
    }
    let mut conn = target.connect().await.map_err(|e| {
        tracing::error!(error = %e, "cannot connect to the target to restore SQL objects");
        Unrestored::Left(format!("the target cannot be reached: {e}"))
    })?;
    let mut validated = true;
    let mut failed = false;
    for o in &objects {
        match restore_one(instance, execution_id, &mut conn, o).await {
            Ok(v) => validated &= v,
            Err(()) => failed = true,
        }
    }
    target::close(conn).await;
    if failed {
        Err(Unrestored::Left("restoring them failed".into()))
    } else {
        Ok(validated)
    }
}

/// Restores one object and records it; Ok(false) when it is back but NOT VALID.
async fn restore_one(
    instance: &Instance,
    execution_id: i64,
    conn: &mut PgConnection,
    o: &SqlObject,
) -> Result<bool, ()> {
    if let Err(e) = catalog::restore(conn, &o.restore_sql).await {
        let reason = sql_error::describe(&e);
        tracing::error!(object = %o.describe(), reason = %reason, "restore failed");
        let event = Event::SqlObjectRestoreFailed {
            object: o.describe(),
            reason,
        };
        events::record(instance, execution_id, &event).await;
        return Err(());
    }
    if let Err(e) = store::mark_restored(&instance.pool, o.sql_object_id).await {
        // Back on the target, but not known to be: reported as left, to be safe.
        tracing::error!(error = %e, object = %o.describe(), "restored, but cannot record it");
        return Err(());
    }
    tracing::info!(object = %o.describe(), "restored");
    let Some(validate_sql) = &o.validate_sql else {
        return Ok(true);
    };
    match catalog::validate(conn, validate_sql).await {
        Ok(()) => Ok(true),
        Err(e) => {
            // Restored and enforced for new rows, but existing rows break it (a run stopped
            // part-way masks one side of a relation only).
            let event = Event::ConstraintNotValidated {
                object: o.describe(),
                reason: sql_error::describe(&e),
                validate_sql: validate_sql.clone(),
            };
            tracing::warn!(object = %o.describe(), "constraint not validated");
            events::record(instance, execution_id, &event).await;
            Ok(false)
        }
    }
}

/// Names every object not restored, and why, in a `SQL_OBJECTS_LEFT_DISABLED` event.
async fn report_left(instance: &Instance, execution_id: i64, why: &str) -> Settled {
    let Some(left) = unrestored(instance, execution_id).await else {
        return Settled::Unrecorded;
    };
    if left.is_empty() {
        return Settled::All;
    }
    let event = Event::SqlObjectsLeftDisabled {
        objects: left.iter().map(SqlObject::describe).collect(),
        restore_sql: left.iter().map(|o| o.restore_sql.clone()).collect(),
        why: why.to_owned(),
    };
    if events::record(instance, execution_id, &event).await {
        Settled::Reported
    } else {
        tracing::error!(
            "the SQL objects left disabled are not reported; the execution stays open until another instance takes it over"
        );
        Settled::Unrecorded
    }
}

async fn unrestored(instance: &Instance, execution_id: i64) -> Option<Vec<SqlObject>> {
    match store::unrestored(&instance.pool, execution_id).await {
        Ok(objects) => Some(objects),
        Err(e) => {
            tracing::error!(error = %e, "cannot list the SQL objects of the run: the execution stays open until another instance takes it over");
            None
        }
    }
}
