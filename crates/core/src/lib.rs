//! Cleom Desktop's core: everything the app does, with no GUI and no Tauri.
//!
//! The desktop app (`src-tauri/`) and the `cleom` command line are thin shells over this crate,
//! so every flow can be tested here, against the embedded backend, without a window.

pub mod model;
pub mod pricing;
pub mod secret;
pub mod keychain;
pub mod store;
pub mod paths;
pub mod remote;
