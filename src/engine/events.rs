//! The events the engine records on an execution: each one's type, severity and cause are decided
//! here, in one place, and recording one never fails the run (a failure is logged in the
//! execution's span, which names the execution and its job).

use crate::store::events::{self, NewEvent};
use crate::types::{EventType, Severity};

use super::Instance;

/// An event of an execution, with what its cause names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The run failed: `why` says what and what to do about it.
    ExecutionFailed {
        why: String,
    },
    /// maskd shut down before the execution finished.
    ShutDown,
    /// The instance running the execution stopped heartbeating and this one ended it.
    TakenOver,
    /// `count` values of `table.column` could not be masked by `algorithm`.
    UnmaskedData {
        table: String,
        column: String,
        algorithm: &'static str,
        count: i64,
        component_id: i64,
    },
    /// SQL objects the run disabled or dropped are not back; `why` says why not.
    SqlObjectsLeftDisabled {
        objects: Vec<String>,
        restore_sql: Vec<String>,
        why: String,
    },
    /// A foreign key is back but NOT VALID.
    ConstraintNotValidated {
        object: String,
        reason: String,
        validate_sql: String,
    },
    SqlObjectRestoreFailed {
        object: String,
        reason: String,
    },
    /// The run continues after the rows execution `from` committed, in `tables` tables.
    Resumed {
        from: i64,
        tables: Vec<String>,
    },
}

impl Event {
    pub fn to_new_event(&self) -> NewEvent {
        let plain = |event_type, severity, cause: String| NewEvent {
            event_type,
            severity,
            cause,
            count: None,
            execution_component_id: None,
            masked_object_name: None,
            masked_object_parent_name: None,
            algorithm_name: None,
        };
        match self {
            Event::ExecutionFailed { why } => {
                plain(EventType::ExecutionFailed, Severity::Error, why.clone())
            }
            Event::ShutDown => plain(
                EventType::JobAborted,
                Severity::Error,
                "maskd shut down before the execution finished; run the job again".into(),
            ),
            Event::TakenOver => plain(
                EventType::JobAborted,
                Severity::Error,
                "the maskd instance running this execution stopped; another instance ended it. Run the job again"
                    .into(),
            ),
            Event::UnmaskedData {
                table,
                column,
                algorithm,
                count,
                component_id,
            } => NewEvent {
                count: Some(*count),
                execution_component_id: Some(*component_id),
                masked_object_name: Some(column.clone()),
                masked_object_parent_name: Some(table.clone()),
                algorithm_name: Some((*algorithm).to_owned()),
                ..plain(
                    EventType::UnmaskedData,
                    Severity::Warning,
                    format!(
                        "{count} value(s) of {table}.{column} could not be masked by {algorithm} and were left as they were"
                    ),
                )
            },
            Event::SqlObjectsLeftDisabled {
                objects,
                restore_sql,
                why,
            } => NewEvent {
                count: Some(objects.len() as i64),
                ..plain(
                    EventType::SqlObjectsLeftDisabled,
                    Severity::Warning,
                    format!(
                        "left disabled or dropped ({why}): {}. Restore them with: {}",
                        objects.join(", "),
                        restore_sql.join("; ")
                    ),
                )
            },
            Event::ConstraintNotValidated {
                object,
                reason,
                validate_sql,
            } => plain(
                EventType::ConstraintNotValidated,
                Severity::Warning,
                format!(
                    "{object} is back but NOT VALID: existing rows break it ({reason}). Mask the rest, then run: {validate_sql}"
                ),
            ),
            Event::SqlObjectRestoreFailed { object, reason } => plain(
                EventType::SqlObjectRestoreFailed,
                Severity::Error,
                format!("cannot restore {object}: {reason}"),
            ),
            Event::Resumed { from, tables } => NewEvent {
                count: Some(tables.len() as i64),
                ..plain(
                    EventType::ExecutionResumed,
                    Severity::Info,
                    format!(
                        "continuing after the rows execution {from} committed in {}; those rows are not masked again (submit with startOver true to mask every row again)",
                        tables.join(", ")
                    ),
                )
            },
        }
    }
}

/// Records an event. Whether it was recorded: a caller that must not end the execution without it
/// (the report of objects left disabled) leaves the execution to a takeover when it was not.
pub(super) async fn record(instance: &Instance, execution_id: i64, event: &Event) -> bool {
    let new = event.to_new_event();
    match events::add(&instance.pool, execution_id, &new).await {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(
                error = %e,
                event_type = %new.event_type,
                cause = %new.cause,
                "cannot record an execution event"
            );
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_event_has_its_type_severity_and_cause() {
        let left = Event::SqlObjectsLeftDisabled {
            objects: vec!["TRIGGER audit ON public.people".into()],
            restore_sql: vec!["ALTER TABLE public.people ENABLE TRIGGER audit".into()],
            why: "the cancel was not graceful".into(),
        }
        .to_new_event();
        assert_eq!(left.event_type, EventType::SqlObjectsLeftDisabled);
        assert_eq!(left.severity, Severity::Warning);
        assert_eq!(left.count, Some(1));
        assert_eq!(
            left.cause,
            "left disabled or dropped (the cancel was not graceful): TRIGGER audit ON public.people. \
             Restore them with: ALTER TABLE public.people ENABLE TRIGGER audit"
        );

        let unmasked = Event::UnmaskedData {
            table: "people".into(),
            column: "email".into(),
            algorithm: "EmailLookup",
            count: 3,
            component_id: 7,
        }
        .to_new_event();
        assert_eq!(unmasked.event_type, EventType::UnmaskedData);
        assert_eq!(unmasked.execution_component_id, Some(7));
        assert_eq!(
            (
                unmasked.masked_object_parent_name.as_deref(),
                unmasked.masked_object_name.as_deref()
            ),
            (Some("people"), Some("email"))
        );
        assert!(
            unmasked
                .cause
                .contains("of people.email could not be masked")
        );
        assert_eq!(unmasked.algorithm_name.as_deref(), Some("EmailLookup"));

        for aborted in [Event::ShutDown, Event::TakenOver] {
            let e = aborted.to_new_event();
            assert_eq!(
                (e.event_type, e.severity),
                (EventType::JobAborted, Severity::Error)
            );
            assert!(
                e.cause.ends_with("Run the job again") || e.cause.ends_with("run the job again")
            );
        }
    }
}
