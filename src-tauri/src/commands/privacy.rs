use cleom_core::account::DeletionReceipt;
use cleom_core::export::ExportSummary;
use cleom_core::secret::SecretString;
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;

#[tauri::command]
pub async fn export_data(state: State<'_, AppState>) -> CommandResult<ExportSummary> {
    let account = state.account().await?;
    let folder = state.export_dir.clone();
    Ok(
        tauri::async_runtime::spawn_blocking(move || account.export(&folder))
            .await
            .map_err(|e| cleom_core::Error::InvalidInput(e.to_string()))??,
    )
}

/// Opens the export folder in the system's file manager. Only folders inside the export folder
/// are opened, so the window cannot make the app open arbitrary files or URLs.
#[tauri::command]
pub fn show_in_folder(state: State<'_, AppState>, path: String) -> CommandResult<()> {
    let outside = || cleom_core::Error::InvalidInput("Only the export folder can be shown.".into());
    let root = std::fs::canonicalize(&state.export_dir).map_err(cleom_core::Error::from)?;
    let folder = std::fs::canonicalize(&path).map_err(|_| outside())?;
    if !folder.starts_with(&root) || !folder.is_dir() {
        return Err(outside().into());
    }
    open::that_detached(&folder).map_err(cleom_core::Error::from)?;
    Ok(())
}

#[tauri::command]
pub async fn delete_account(
    state: State<'_, AppState>,
    password: String,
) -> CommandResult<DeletionReceipt> {
    let account = state.account().await?;
    let receipt = account.delete(&SecretString::new(password)).await?;
    *state.account.write().await = None;
    Ok(receipt)
}
