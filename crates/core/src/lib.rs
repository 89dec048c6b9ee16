//! Cleom Desktop's core: everything the app does, with no GUI and no Tauri.
//!
//! The desktop app (`src-tauri/`) is a thin shell over this crate, so every flow can be tested
//! here, against the local backend, without a window. Start at [`device::Device`] (sign in,
//! resume offline) and [`Account`] (everything a signed-in user does).
//!
//! docs/architecture.md says which way its modules depend on each other, and why.

pub mod access;
pub mod account;
pub mod analytics;
pub mod clips;
pub mod device;
pub mod error;
pub mod export;
pub mod file_name;
pub mod keychain;
pub mod link;
mod local_copy;
pub mod model;
pub mod paths;
pub mod pricing;
mod recovery;
pub mod remote;
pub mod reveal;
pub mod secret;
mod session;
mod signed_in;
pub mod signed_in_devices;
pub mod store;
mod studio;
pub mod sync;

pub use account::Account;
pub use error::{Error, Result};

/// The current time as Firestore writes it (RFC 3339, UTC).
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
