//! The app package's integration tests, one binary with a module per area (ripgrep's layout):
//! whole flows through the core against a real local backend, and the real app window driven
//! through tauri-driver.

mod e2e;
mod e2e_changes;
mod e2e_library;
mod e2e_links;
mod e2e_privacy;
mod e2e_shell;
mod e2e_studio;
mod e2e_update;
mod flow;
mod notifications;
mod privacy;
mod seed;
mod support;
mod sync;
mod update_server;
mod window;
