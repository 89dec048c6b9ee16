//! What the user changes from this device — deleting generations, editing the profile — and the
//! outbox that carries those changes to Cleom (see `cleom_core::store::outbox`).
//!
//! Each change is applied locally at once and queued; the background sync is woken to send it,
//! so these commands answer immediately, online or not.
//!
//! JSON shapes (camelCase):
//! - `delete_generations({ids: string[]})` → `number` (how many were queued)
//! - `delete_all_history()` → `number`: every generation, here at once and on Cleom via the outbox
//! - `set_display_name({name: string | null})`, `set_analytics_opt_in({on: boolean})` → `null`
//! - `outbox()` → `OutboxEntry[]`: `{seq, id, action, createdAt, state: "pending"|"failed",
//!   attempts, refusal: {code, message} | null}`, where `action` is
//!   `{kind: "deleteGeneration", generationId}`,
//!   `{kind: "setProfileField", change: {field: "displayName"|"analyticsOptIn", value}}` or
//!   `{kind: "createGeneration", request: {id, prompt, settings, references}}`
//! - `retry_action({seq})`, `dismiss_action({seq})` → `boolean` (false: no such refused action)

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
