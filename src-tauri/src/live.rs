//! Keeps the Library live: a background task syncs every second while a generation is running
//! and every 20 seconds otherwise, or at once when woken (start-up, sign-in, "Sync now", and
//! after every local change), and tells the window what changed.
//!
//! Events: `sync-state` (idle / syncing / offline / error, last success, pending and refused
//! actions, the last error), `sync-progress` (`{phase, pages, items}` while a sync runs),
//! `library-changed`, `account-changed`, and `signed-out` when the session was revoked — the
//! local history and the outbox stay, and signing in again sends what waits.

use std::time::Duration;

use tauri::{AppHandle, Emitter, Manager};

use crate::commands::session::AccountView;
use crate::error::CommandError;
use crate::state::{AppState, SyncState};

const ACTIVE_INTERVAL: Duration = Duration::from_secs(1);
const IDLE_INTERVAL: Duration = Duration::from_secs(20);
/// How often the anonymous feature counts are offered (sent only with the user's opt-in).
const ANALYTICS_INTERVAL: Duration = Duration::from_secs(15 * 60);

pub fn spawn(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        let mut last_report = std::time::Instant::now();
        loop {
            let active = sync_once(&app).await;
            let state = app.state::<AppState>();
            if last_report.elapsed() >= ANALYTICS_INTERVAL {
                last_report = std::time::Instant::now();
                send_analytics(&app).await;
            }
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

/// Sends the feature counts if the signed-in user opted in; a failure waits for the next turn.
async fn send_analytics(app: &AppHandle) {
    let state = app.state::<AppState>();
    let Some(account) = state.account.read().await.clone() else {
        return;
    };
    if let Err(error) = account.send_analytics().await {
        tracing::debug!(code = error.code(), "analytics report not sent");
    }
}

/// After a change made on this device: the Library and the pending count show it at once, and
/// the background sync is woken to send it.
pub async fn changed_locally(app: &AppHandle) {
    let state = app.state::<AppState>();
    if let Some(account) = state.account.read().await.clone() {
        if let Ok((pending, failed)) = account.outbox_counts() {
            emit_sync_state(
                app,
                state.set_sync_state(|s| {
                    s.pending = pending;
                    s.failed = failed;
                }),
            );
        }
        if let Ok(view) = AccountView::of(&account) {
            let _ = app.emit("account-changed", view);
        }
    }
    let _ = app.emit("library-changed", ());
    state.sync_now.notify_one();
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
    let progress = |p: &cleom_core::sync::SyncProgress| {
        let _ = app.emit("sync-progress", p);
    };
    let result = account.sync_with_progress(&progress).await;
    let (pending, failed) = account.outbox_counts().unwrap_or_default();
    match result {
        Ok(report) => {
            emit_sync_state(
                app,
                state.set_sync_state(|s| {
                    *s = SyncState {
                        state: "idle",
                        last_sync_at: Some(cleom_core::now_rfc3339()),
                        error: None,
                        pending,
                        failed,
                    }
                }),
            );
            if report.changed_library() {
                let _ = app.emit("library-changed", ());
            }
            if report.profile_changed || report.sent > 0 || report.refused > 0 {
                if let Ok(view) = AccountView::of(&account) {
                    let _ = app.emit("account-changed", view);
                }
            }
        }
        Err(e) if e.code() == "auth.session_expired" => {
            // The refresh token was revoked: sign in again. The encrypted history, its key and
            // the outbox stay on this device for when the same account signs in.
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
                    s.pending = pending;
                    s.failed = failed;
                }),
            );
        }
    }
    account.has_active_generations().unwrap_or(false)
}

fn emit_sync_state(app: &AppHandle, state: SyncState) {
    let _ = app.emit("sync-state", state);
}
