use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The status of an execution, and of each of its components. Stored as text (the columns' CHECK
/// constraints admit exactly these), read and bound as this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ExecutionStatus {
    Queued,
    Running,
    Succeeded,
    Warning,
    Failed,
    Cancelled,
}

impl ExecutionStatus {
    pub const ALL: [ExecutionStatus; 6] = [
        ExecutionStatus::Cancelled,
        ExecutionStatus::Failed,
        ExecutionStatus::Queued,
        ExecutionStatus::Running,
        ExecutionStatus::Succeeded,
        ExecutionStatus::Warning,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Queued => "QUEUED",
            ExecutionStatus::Running => "RUNNING",
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Warning => "WARNING",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::Cancelled => "CANCELLED",
        }
    }

    /// Whether a cancel with this `expectedStatus` acts on an execution in this status (the guard
    /// of `store::executions::cancel`, which checks it in SQL).
    pub fn cancel_applies(self, expected: Option<ExpectedStatus>) -> bool {
        matches!(self, ExecutionStatus::Queued | ExecutionStatus::Running)
            && expected.is_none_or(|e| e.status() == self)
    }

    /// SUCCEEDED, WARNING or FAILED: the run is over and cannot be cancelled.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            ExecutionStatus::Succeeded | ExecutionStatus::Warning | ExecutionStatus::Failed
        )
    }
}

impl FromStr for ExecutionStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ExecutionStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "'{s}' is not an execution status: use one of CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED, WARNING"
                )
            })
    }
}

impl fmt::Display for ExecutionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

super::text_type!(ExecutionStatus);

/// The `expectedStatus` of a cancel: only the two statuses a cancel can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "UPPERCASE")]
pub enum ExpectedStatus {
    Queued,
    Running,
}

impl ExpectedStatus {
    pub fn status(self) -> ExecutionStatus {
        match self {
            ExpectedStatus::Queued => ExecutionStatus::Queued,
            ExpectedStatus::Running => ExecutionStatus::Running,
        }
    }
}

impl FromStr for ExpectedStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "QUEUED" => Ok(ExpectedStatus::Queued),
            "RUNNING" => Ok(ExpectedStatus::Running),
            _ => Err(format!(
                "expectedStatus must be QUEUED or RUNNING, got '{s}'"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for s in ExecutionStatus::ALL {
            assert_eq!(s.as_str().parse::<ExecutionStatus>().unwrap(), s);
        }
        assert!("queued".parse::<ExecutionStatus>().is_err());
        assert!("SUCCEEDED".parse::<ExpectedStatus>().is_err());
        assert_eq!(
            "RUNNING".parse::<ExpectedStatus>().unwrap().status(),
            ExecutionStatus::Running
        );
    }
}
