//! What the user changes from this device — deleting generations, editing the profile — and the
//! outbox that carries those changes to Cleom (see `cleom_core::store::outbox`).
//!
//! Each change is applied locally at once and queued; the background sync is woken to send it,
//! so these commands answer immediately, online or not.
//!
//! The types that cross to the window are generated into `ui/src/lib/generated/` (see
//! `crate::ipc_types`):
//! - `delete_generations({ids})` → how many were queued
//! - `delete_all_history()` → how many: every generation, here at once and on Cleom via the outbox
//! - `set_display_name({name})` (null or blank: none), `set_analytics_opt_in({on})`
//! - `outbox()` → `OutboxEntry[]`, in the order they are sent
//! - `retry_action({seq})`, `dismiss_action({seq})` → false when there is no such refused action

use cleom_core::store::{OutboxEntry, ProfileField};
use tauri::{AppHandle, State};

use crate::error::CommandResult;
use crate::live;
use crate::state::AppState;

#[tauri::command]
pub async fn delete_generations(
    app: AppHandle,
    state: State<'_, AppState>,
    ids: Vec<String>,
) -> CommandResult<usize> {
    let queued = state.account().await?.delete_generations(&ids)?;
    live::changed_locally(&app).await;
    Ok(queued)
}

/// "Delete all history" → how many generations were deleted here (and queued for Cleom).
#[tauri::command]
pub async fn delete_all_history(
    app: AppHandle,
    state: State<'_, AppState>,
) -> CommandResult<usize> {
    let queued = state.account().await?.delete_all_generations()?;
    live::changed_locally(&app).await;
    Ok(queued)
}

#[tauri::command]
pub async fn set_display_name(
    app: AppHandle,
    state: State<'_, AppState>,
    name: Option<String>,
) -> CommandResult<()> {
    state
        .account()
        .await?
        .set_profile_field(ProfileField::DisplayName(name))?;
    live::changed_locally(&app).await;
    Ok(())
}

#[tauri::command]
pub async fn set_analytics_opt_in(
    app: AppHandle,
    state: State<'_, AppState>,
    on: bool,
) -> CommandResult<()> {
    state
        .account()
        .await?
        .set_profile_field(ProfileField::AnalyticsOptIn(on))?;
    live::changed_locally(&app).await;
    Ok(())
}

#[tauri::command]
pub async fn outbox(state: State<'_, AppState>) -> CommandResult<Vec<OutboxEntry>> {
    Ok(state.account().await?.outbox()?)
}

#[tauri::command]
pub async fn retry_action(
    app: AppHandle,
    state: State<'_, AppState>,
    seq: i64,
) -> CommandResult<bool> {
    let retried = state.account().await?.retry_action(seq)?;
    live::changed_locally(&app).await;
    Ok(retried)
}

#[tauri::command]
pub async fn dismiss_action(
    app: AppHandle,
    state: State<'_, AppState>,
    seq: i64,
) -> CommandResult<bool> {
    let dismissed = state.account().await?.dismiss_action(seq)?;
    live::changed_locally(&app).await;
    Ok(dismissed)
}
