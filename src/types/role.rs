use std::fmt;
use std::str::FromStr;

/// AUDITOR reads; OPERATOR also creates and cancels executions; ADMIN does everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Auditor,
    Operator,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Auditor => "AUDITOR",
            Role::Operator => "OPERATOR",
            Role::Admin => "ADMIN",
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "AUDITOR" => Ok(Role::Auditor),
            "OPERATOR" => Ok(Role::Operator),
            "ADMIN" => Ok(Role::Admin),
            _ => Err(format!(
                "role must be ADMIN, OPERATOR or AUDITOR, got '{s}'"
            )),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
