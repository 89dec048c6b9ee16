//! How a failure reaches the UI: `{code, message}` (`AppError` in ui/src/lib/generated). The UI
//! switches on the stable code and shows the message, which never holds a secret.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "AppError"))]
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

impl CommandError {
    /// The system has no app to open `what` with (no file manager, no video player): code
    /// `system.no_app`. The launcher's own message stays in the log.
    pub fn no_app(what: &str, error: &std::io::Error) -> CommandError {
        tracing::debug!(%error, "the system could not open {what}");
        CommandError {
            code: "system.no_app",
            message: format!("This system has no app that can open {what}."),
        }
    }
}

pub type CommandResult<T> = Result<T, CommandError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_app_is_a_clear_typed_error() {
        let raw = std::io::Error::other("Launcher \"gio\" \"open\" \"/x\" failed");
        let e = CommandError::no_app("the folder", &raw);
        assert_eq!(e.code, "system.no_app");
        assert_eq!(
            e.message,
            "This system has no app that can open the folder."
        );
        assert!(!e.message.contains("Launcher"), "{}", e.message);
    }
}
