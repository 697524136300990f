//! What an execution event says: its type and severity.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The events maskd records on an execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// The execution was ended by a shutdown or a takeover before it finished.
    JobAborted,
    ExecutionFailed,
    /// Values an algorithm could not mask were left as they were.
    UnmaskedData,
    /// SQL objects the run disabled or dropped could not be restored.
    SqlObjectsLeftDisabled,
    /// A restored foreign key is NOT VALID: existing rows break it.
    ConstraintNotValidated,
    SqlObjectRestoreFailed,
    /// An in-place run continues after what an earlier execution of its job committed.
    ExecutionResumed,
}

impl EventType {
    pub const ALL: [EventType; 7] = [
        EventType::JobAborted,
        EventType::ExecutionFailed,
        EventType::UnmaskedData,
        EventType::SqlObjectsLeftDisabled,
        EventType::ConstraintNotValidated,
        EventType::SqlObjectRestoreFailed,
        EventType::ExecutionResumed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::JobAborted => "JOB_ABORTED",
            EventType::ExecutionFailed => "EXECUTION_FAILED",
            EventType::UnmaskedData => "UNMASKED_DATA",
            EventType::SqlObjectsLeftDisabled => "SQL_OBJECTS_LEFT_DISABLED",
            EventType::ConstraintNotValidated => "CONSTRAINT_NOT_VALIDATED",
            EventType::SqlObjectRestoreFailed => "SQL_OBJECT_RESTORE_FAILED",
            EventType::ExecutionResumed => "EXECUTION_RESUMED",
        }
    }
}

impl FromStr for EventType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("'{s}' is not an execution event type"))
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

super::text_type!(EventType);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "INFO",
            Severity::Warning => "WARNING",
            Severity::Error => "ERROR",
        }
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "INFO" => Ok(Severity::Info),
            "WARNING" => Ok(Severity::Warning),
            "ERROR" => Ok(Severity::Error),
            _ => Err(format!(
                "'{s}' is not a severity: use INFO, WARNING or ERROR"
            )),
        }
    }
}

super::text_type!(Severity);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in EventType::ALL {
            assert_eq!(t.as_str().parse::<EventType>().unwrap(), t);
        }
        for s in [Severity::Info, Severity::Warning, Severity::Error] {
            assert_eq!(s.as_str().parse::<Severity>().unwrap(), s);
        }
        assert!("job_aborted".parse::<EventType>().is_err());
    }
}
