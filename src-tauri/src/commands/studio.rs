use cleom_core::model::{Reference, Settings};
use cleom_core::pricing::Estimate;
use tauri::State;

use crate::commands::library::GenerationView;
use crate::error::CommandResult;
use crate::state::AppState;

#[tauri::command]
pub async fn estimate(
    state: State<'_, AppState>,
    settings: Settings,
    references: Option<Vec<Reference>>,
) -> CommandResult<Estimate> {
    let references = references.unwrap_or_default();
    Ok(state
        .account()
        .await?
        .estimate_with(&settings, &references)
        .await?)
}

#[tauri::command]
pub async fn generate(
    state: State<'_, AppState>,
    prompt: String,
    settings: Settings,
    references: Option<Vec<Reference>>,
) -> CommandResult<GenerationView> {
    let account = state.account().await?;
    let generation = account
        .generate_with(&prompt, settings, references.unwrap_or_default())
        .await?;
    state.sync_now.notify_one();
    Ok(GenerationView::of(generation, false))
}

/// The Studio's unsent draft, kept in the account's encrypted store (never in a plain file).
#[tauri::command]
pub async fn draft(state: State<'_, AppState>) -> CommandResult<Option<String>> {
    Ok(state.account().await?.draft()?)
}

#[tauri::command]
pub async fn save_draft(state: State<'_, AppState>, draft: String) -> CommandResult<()> {
    Ok(state.account().await?.save_draft(&draft)?)
}
