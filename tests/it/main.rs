//! The app package's integration tests, one binary with a module per area (ripgrep's layout):
//! whole flows through the core against a real local backend, and the real app window driven
//! through tauri-driver.

mod e2e;
mod flow;
mod support;
