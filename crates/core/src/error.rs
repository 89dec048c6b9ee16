//! The one error type the app and the command line see.
//!
//! Each module has its own error enum; this one wraps them so a caller handles one type, and
//! every variant has a stable dotted `code()` that the UI switches on (messages may change,
//! codes may not). No message ever carries a secret.

use crate::export::ExportError;
use crate::keychain::KeychainError;
use crate::link::LinkError;
use crate::paths::PathError;
use crate::remote::RemoteError;
use crate::secret::SecretError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keychain(#[from] KeychainError),
    #[error(transparent)]
    Remote(#[from] RemoteError),
    #[error(transparent)]
    Path(#[from] PathError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error("{0}")]
    InvalidInput(String),
    #[error("Sign in to continue.")]
    NotSignedIn,
    #[error(
        "This device has a saved Cleom history for this account, but its key is missing from \
         the system keychain, so it cannot be opened."
    )]
    KeyMissing,
    #[error("Cleom can't be reached and no price list has been saved yet.")]
    PricingUnavailable,
    #[error("Not enough credits: this needs {needed}, the balance is {balance}.")]
    InsufficientCredits { needed: i64, balance: i64 },
    #[error(
        "This device's copy could not be set aside for recovery ({0}), so nothing was reset and \
         the copy is where it was. Free some disk space, then try again."
    )]
    SetAsideFailed(#[source] std::io::Error),
    #[error("A local file could not be written or read: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    pub fn code(&self) -> &'static str {
        match self {
            Error::Store(e) => e.code(),
            Error::Keychain(e) => e.code(),
            Error::Remote(e) => e.code(),
            Error::Path(e) => e.code(),
            Error::Export(e) => e.code(),
            Error::Secret(e) => e.code(),
            Error::Link(e) => e.code(),
            Error::InvalidInput(_) => "request.invalid",
            Error::NotSignedIn => "auth.not_signed_in",
            Error::KeyMissing => "store.key_missing",
            Error::PricingUnavailable => "pricing.unavailable",
            Error::InsufficientCredits { .. } => "credits.insufficient",
            Error::SetAsideFailed(_) => "local_copy.set_aside_failed",
            // By kind, not errno: Rust maps ENOSPC and EDQUOT (Linux, macOS) and
            // ERROR_DISK_FULL and ERROR_HANDLE_DISK_FULL (Windows) to it alike.
            Error::Io(e) if crate::paths::is_disk_full(e) => "io.disk_full",
            Error::Io(_) => "io.failed",
        }
    }

    /// True when the failure means "no connection", so the app can keep working offline.
    pub fn is_offline(&self) -> bool {
        matches!(
            self,
            Error::Remote(RemoteError::Unreachable | RemoteError::Timeout)
        )
    }

    /// True when the server no longer accepts the session (a refused or revoked token).
    pub fn is_session_expired(&self) -> bool {
        matches!(self, Error::Remote(RemoteError::SessionExpired))
    }

    /// True when this device is signed out by the server: its tokens no longer work, or the
    /// user ended this session from another device. The history stays; the user signs in again.
    pub fn ends_the_session(&self) -> bool {
        matches!(
            self,
            Error::Remote(RemoteError::SessionExpired | RemoteError::SessionRevoked)
        )
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_and_expired_sessions_are_told_by_variant_not_by_text() {
        assert!(Error::from(RemoteError::Unreachable).is_offline());
        assert!(Error::from(RemoteError::Timeout).is_offline());
        assert!(!Error::from(RemoteError::Server(503)).is_offline());
        assert!(!Error::NotSignedIn.is_offline());
        assert!(Error::from(RemoteError::SessionExpired).is_session_expired());
        assert!(!Error::from(RemoteError::PermissionDenied).is_session_expired());
        assert!(!Error::NotSignedIn.is_session_expired());
        assert!(Error::from(RemoteError::SessionRevoked).ends_the_session());
        assert!(Error::from(RemoteError::SessionExpired).ends_the_session());
        assert!(!Error::from(RemoteError::SessionRevoked).is_session_expired());
        assert!(!Error::from(RemoteError::Unreachable).ends_the_session());
    }

    #[test]
    fn a_full_disk_is_told_by_its_kind_on_every_os() {
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        assert_eq!(Error::Io(full).code(), "io.disk_full");
        let quota = std::io::Error::from(std::io::ErrorKind::QuotaExceeded);
        assert_eq!(Error::Io(quota).code(), "io.disk_full");
        #[cfg(unix)]
        assert_eq!(
            Error::Io(std::io::Error::from_raw_os_error(28)).code(),
            "io.disk_full"
        );
        #[cfg(windows)]
        for code in [39, 112] {
            assert_eq!(
                Error::Io(std::io::Error::from_raw_os_error(code)).code(),
                "io.disk_full"
            );
        }
        assert_eq!(
            Error::Io(std::io::Error::from(std::io::ErrorKind::PermissionDenied)).code(),
            "io.failed"
        );
    }
}
