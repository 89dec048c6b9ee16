//! "Check for updates" and "Install and restart". The webview has no updater permission: these
//! commands are its only way to the updater (see `crate::update`).
//!
//! The types that cross are generated into `ui/src/lib/generated/`; errors are `AppError`s:
//! - `update_status()` → `UpdateStatus`; its `unavailable` says why this build does not look
//!   for updates (`update.not_configured`, `config.insecure_url`, `config.invalid_url`).
//! - `check_for_update()` → `UpdateOffer`, or `null` when this is the latest version. Errors: `update.not_configured`, `config.*`,
//!   `update.unreachable`, `update.malformed`.
//! - `install_update()`, then the app restarts into the new version. Progress comes as
//!   `update-progress` events (`UpdateProgress`). Errors: `update.not_offered`,
//!   `update.busy`, `update.bad_signature`, `update.download_failed`, `update.not_installed`
//!   (a build run from its build folder), `update.needs_admin`, `update.install_failed`,
//!   `config.*` (a download address that breaks the https rule).
//!
//! The start-up check announces an offer with the `update-available` event (an `UpdateOffer`).

use tauri::{AppHandle, State};

use crate::error::CommandResult;
use crate::update::{self, UpdateOffer, UpdateStatus, Updates};

#[tauri::command]
pub fn update_status(app: AppHandle, updates: State<'_, Updates>) -> UpdateStatus {
    updates.status(&app)
}

#[tauri::command]
pub async fn check_for_update(app: AppHandle) -> CommandResult<Option<UpdateOffer>> {
    Ok(update::check(&app).await?)
}

#[tauri::command]
pub async fn install_update(app: AppHandle) -> CommandResult<()> {
    Ok(update::install(&app).await?)
}
