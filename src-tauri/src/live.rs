//! Keeps the Library live: a background task syncs every second while a generation is running
//! and every 20 seconds otherwise, or at once when woken, and tells the window what changed.

use std::time::Duration;

use tauri::{AppHandle, Emitter, Manager};

use crate::commands::session::AccountView;
use crate::error::CommandError;
use crate::state::{AppState, SyncState};

const ACTIVE_INTERVAL: Duration = Duration::from_secs(1);
const IDLE_INTERVAL: Duration = Duration::from_secs(20);

pub fn spawn(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        loop {
            let active = sync_once(&app).await;
            let state = app.state::<AppState>();
            let wait = if active {
                ACTIVE_INTERVAL
            } else {
                IDLE_INTERVAL
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = state.sync_now.notified() => {}
            }
        }
    });
}

/// Runs one sync of the signed-in account, if any, and reports it to the window.
/// Returns whether generations are still running (so the caller polls faster).
pub async fn sync_once(app: &AppHandle) -> bool {
    let state = app.state::<AppState>();
    let Some(account) = state.account.read().await.clone() else {
        return false;
    };
    let _one_at_a_time = state.sync_running.lock().await;
    emit_sync_state(app, state.set_sync_state(|s| s.state = "syncing"));
    match account.sync().await {
        Ok(report) => {
            emit_sync_state(
                app,
                state.set_sync_state(|s| {
                    *s = SyncState {
                        state: "idle",
                        last_sync_at: Some(cleom_core::now_rfc3339()),
                        error: None,
                        pending: 0,
                    }
                }),
            );
            if report.generations > 0 || report.thumbnails > 0 {
                let _ = app.emit("library-changed", ());
            }
            if report.profile_changed {
                if let Ok(view) = AccountView::of(&account) {
                    let _ = app.emit("account-changed", view);
                }
            }
        }
        Err(e) if e.code() == "auth.session_expired" => {
            *state.account.write().await = None;
            let _ = state.device.sign_out(&account);
            emit_sync_state(app, state.set_sync_state(|s| *s = SyncState::default()));
            let _ = app.emit("signed-out", serde_json::json!({ "reason": e.to_string() }));
        }
        Err(e) => {
            let offline = e.is_offline();
            let error = CommandError::from(e);
            emit_sync_state(
                app,
                state.set_sync_state(|s| {
                    s.state = if offline { "offline" } else { "error" };
                    s.error = Some(error);
                }),
            );
        }
    }
    account.has_active_generations().unwrap_or(false)
}

fn emit_sync_state(app: &AppHandle, state: SyncState) {
    let _ = app.emit("sync-state", state);
}
