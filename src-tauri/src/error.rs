//! How a failure reaches the UI: `{code, message}`. The UI switches on the stable code and
//! shows the message, which never holds a secret.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct CommandError {
    pub code: &'static str,
    pub message: String,
}

impl From<cleom_core::Error> for CommandError {
    fn from(e: cleom_core::Error) -> Self {
        CommandError {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

pub type CommandResult<T> = Result<T, CommandError>;
