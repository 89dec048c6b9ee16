//! Keeps the Library live: a background task syncs every second while a generation is running
//! and every 20 seconds otherwise, or at once when woken (sign-in, "Sync now", and
//! after every local change), and tells the window what changed. At start-up the first sync
//! waits until the window has painted the Library (at most 3 s), so the two do not compete.
//!
//! Events: `sync-state` (a `SyncState`: idle / syncing / offline / error, last success, pending
//! and refused actions, the last error), `sync-progress` (a `SyncProgress` while a sync runs),
//! `library-changed`, `account-changed` (an `AccountView`), and `signed-out` (a `SignedOut`)
//! when the session was revoked — the local history and the outbox stay, and signing in again
//! sends what waits.
//!
//! A generation that finishes while the window is not focused is announced by a desktop
//! notification from here, not from the window: it fires whichever view is open.

use std::time::Duration;

use cleom_core::model::{Generation, Status};
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_notification::NotificationExt;

use crate::commands::session::AccountView;
use crate::error::CommandError;
use crate::state::{AppState, SyncPhase, SyncState};

/// The `signed-out` event: why the session ended (the message shown on the sign-in screen).
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "SignedOutPayload"))]
pub struct SignedOut {
    pub reason: String,
}

const ACTIVE_INTERVAL: Duration = Duration::from_secs(1);
const IDLE_INTERVAL: Duration = Duration::from_secs(20);
/// How often the anonymous feature counts are offered (sent only with the user's opt-in).
const ANALYTICS_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// How long the first sync waits for the window to show the Library (it is woken as soon as
/// the Library's first page is painted): at start-up the window comes first.
const FIRST_SYNC_AFTER: Duration = Duration::from_secs(3);

pub fn spawn(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        {
            let state = app.state::<AppState>();
            let _ = tokio::time::timeout(FIRST_SYNC_AFTER, state.sync_now.notified()).await;
        }
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
        if let Ok((pending, refused)) = account.outbox_counts() {
            emit_sync_state(
                app,
                state.set_sync_state(|s| {
                    s.pending = pending;
                    s.refused = refused;
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
    emit_sync_state(app, state.set_sync_state(|s| s.state = SyncPhase::Syncing));
    let progress = |p: &cleom_core::sync::SyncProgress| {
        let _ = app.emit("sync-progress", p);
    };
    let result = account.sync_with_progress(&progress).await;
    let (pending, refused) = account.outbox_counts().unwrap_or_default();
    let (unreadable, unreadable_reason) = account.set_aside_summary().unwrap_or_default();
    match result {
        Ok(report) => {
            emit_sync_state(
                app,
                state.set_sync_state(|s| {
                    *s = SyncState {
                        state: SyncPhase::Idle,
                        last_sync_at: Some(cleom_core::now_rfc3339()),
                        error: None,
                        pending,
                        refused,
                        unreadable,
                        unreadable_reason,
                    }
                }),
            );
            if report.changed_library() {
                let _ = app.emit("library-changed", ());
            }
            notify_finished(app, &report.finished);
            if report.profile_changed || report.sent > 0 || report.refused > 0 {
                if let Ok(view) = AccountView::of(&account) {
                    let _ = app.emit("account-changed", view);
                }
            }
        }
        Err(e) if e.ends_the_session() => {
            // The refresh token was revoked, or this session ended from another device: sign
            // in again. The encrypted history, its key and
            // the outbox stay on this device for when the same account signs in.
            *state.account.write().await = None;
            let _ = state.device.sign_out(&account);
            emit_sync_state(app, state.set_sync_state(|s| *s = SyncState::default()));
            let _ = app.emit(
                "signed-out",
                SignedOut {
                    reason: e.to_string(),
                },
            );
        }
        Err(e) => {
            let offline = e.is_offline();
            let error = CommandError::from(e);
            emit_sync_state(
                app,
                state.set_sync_state(|s| {
                    s.state = if offline {
                        SyncPhase::Offline
                    } else {
                        SyncPhase::Error
                    };
                    s.error = Some(error);
                    s.pending = pending;
                    s.refused = refused;
                    s.unreadable = unreadable;
                    s.unreadable_reason = unreadable_reason;
                }),
            );
        }
    }
    account.has_active_generations().unwrap_or(false)
}

/// Tells the user, with one desktop notification, that generations they were waiting for have
/// finished — unless they are looking at the app, where the Library shows it. The text holds no
/// prompt: notification servers keep a history.
fn notify_finished(app: &AppHandle, finished: &[Generation]) {
    if finished.is_empty() {
        return;
    }
    let looking = app
        .get_webview_window("main")
        .and_then(|window| window.is_focused().ok())
        .unwrap_or(false);
    if looking {
        return;
    }
    let (title, body) = finished_message(finished);
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::debug!("no desktop notification: {e}");
    }
}

/// The notification's title and body for generations that finished.
fn finished_message(finished: &[Generation]) -> (String, String) {
    if let [one] = finished {
        let clip = format!(
            "A {} s {} clip",
            one.settings.duration_seconds,
            one.settings.resolution.as_str()
        );
        return match one.status {
            Status::Failed => (
                "A generation failed".into(),
                format!("{clip} could not be made."),
            ),
            _ => (
                "Your clip is ready".into(),
                format!("{clip} is in your Library."),
            ),
        };
    }
    let failed = finished
        .iter()
        .filter(|g| g.status == Status::Failed)
        .count();
    let ready = finished.len() - failed;
    match (ready, failed) {
        (_, 0) => (
            format!("{ready} clips are ready"),
            "They are in your Library.".into(),
        ),
        (0, _) => (
            format!("{failed} generations failed"),
            "They could not be made.".into(),
        ),
        _ => (
            format!("{} generations finished", finished.len()),
            format!("{ready} ready, {failed} failed. See your Library."),
        ),
    }
}

fn emit_sync_state(app: &AppHandle, state: SyncState) {
    let _ = app.emit("sync-state", state);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finished(status: Status, seconds: u32) -> Generation {
        Generation {
            id: "g".into(),
            prompt: "a secret prompt".into(),
            mode: cleom_core::model::Mode::TextToVideo,
            settings: cleom_core::model::Settings {
                duration_seconds: seconds,
                ..Default::default()
            },
            references: Vec::new(),
            status,
            progress: 1.0,
            credits_charged: 0,
            output_url: None,
            thumbnail_url: None,
            error: None,
            created_at: "2026-01-01T00:00:00Z".into(),
            updated_at: "2026-01-01T00:00:00Z".into(),
            deleted: false,
            deleted_at: None,
        }
    }

    #[test]
    fn one_message_says_what_finished_without_the_prompt() {
        let (title, body) = finished_message(&[finished(Status::Failed, 7)]);
        assert_eq!(title, "A generation failed");
        assert!(body.starts_with("A 7 s ") && body.ends_with("could not be made."));
        let many = [
            finished(Status::Succeeded, 5),
            finished(Status::Succeeded, 5),
            finished(Status::Failed, 5),
        ];
        let (title, body) = finished_message(&many);
        assert_eq!(title, "3 generations finished");
        assert_eq!(body, "2 ready, 1 failed. See your Library.");
        assert_eq!(finished_message(&many[..2]).0, "2 clips are ready");
        for (title, body) in [finished_message(&many), finished_message(&many[..1])] {
            assert!(!title.contains("secret") && !body.contains("secret"));
        }
    }
}
