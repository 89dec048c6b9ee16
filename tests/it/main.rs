//! The app package's integration tests, one binary with a module per area (ripgrep's layout):
//! whole flows through the core against a real local backend, and the real app window driven
//! through tauri-driver. The window tests and the desktop services they stand up (D-Bus) run on
//! Linux only: WebKitWebDriver, Xvfb and xdotool drive that window. The flows through the core
//! build on every OS.

#[cfg(target_os = "linux")]
mod e2e;
#[cfg(target_os = "linux")]
mod e2e_changes;
#[cfg(target_os = "linux")]
mod e2e_library;
#[cfg(target_os = "linux")]
mod e2e_links;
#[cfg(target_os = "linux")]
mod e2e_privacy;
#[cfg(target_os = "linux")]
mod e2e_shell;
#[cfg(target_os = "linux")]
mod e2e_studio;
#[cfg(target_os = "linux")]
mod e2e_update;
#[cfg(target_os = "linux")]
mod file_manager;
mod flow;
#[cfg(target_os = "linux")]
mod notifications;
mod privacy;
mod regression;
mod security;
mod seed;
mod support;
mod sync;
#[cfg(target_os = "linux")]
mod update_server;
#[cfg(target_os = "linux")]
mod window;
