use cleom_core::model::Settings;
use cleom_core::pricing::Estimate;
use tauri::State;

use crate::commands::library::GenerationView;
use crate::error::CommandResult;
use crate::state::AppState;

#[tauri::command]
pub async fn estimate(state: State<'_, AppState>, settings: Settings) -> CommandResult<Estimate> {
    Ok(state.account().await?.estimate(&settings).await?)
}

#[tauri::command]
pub async fn generate(
    state: State<'_, AppState>,
    prompt: String,
    settings: Settings,
) -> CommandResult<GenerationView> {
    let account = state.account().await?;
    let generation = account.generate(&prompt, settings).await?;
    state.sync_now.notify_one();
    Ok(GenerationView::of(generation, false))
}
