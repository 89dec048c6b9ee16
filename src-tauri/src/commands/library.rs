use base64::Engine;
use cleom_core::model::{Generation, Settings, Status};
use cleom_core::store::PageCursor;
use serde::Serialize;
use tauri::{AppHandle, State};

use crate::error::CommandResult;
use crate::live;
use crate::state::{AppState, SyncState};

/// A generation as a Library card shows it (thumbnails are fetched separately).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerationView {
    id: String,
    prompt: String,
    mode: &'static str,
    settings: Settings,
    status: Status,
    progress: f64,
    credits_charged: i64,
    error: Option<String>,
    created_at: String,
    updated_at: String,
    has_thumbnail: bool,
}

impl GenerationView {
    pub fn of(g: Generation, has_thumbnail: bool) -> GenerationView {
        GenerationView {
            mode: g.mode.as_str(),
            id: g.id,
            prompt: g.prompt,
            settings: g.settings,
            status: g.status,
            progress: g.progress,
            credits_charged: g.credits_charged,
            error: g.error,
            created_at: g.created_at,
            updated_at: g.updated_at,
            has_thumbnail,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct LibraryPage {
    items: Vec<GenerationView>,
    next: Option<PageCursor>,
}

#[tauri::command]
pub async fn library(
    state: State<'_, AppState>,
    limit: usize,
    before: Option<PageCursor>,
) -> CommandResult<LibraryPage> {
    let page = state
        .account()
        .await?
        .library(limit.clamp(1, 500), before.as_ref())?;
    Ok(LibraryPage {
        items: page
            .items
            .into_iter()
            .map(|item| GenerationView::of(item.generation, item.has_thumbnail))
            .collect(),
        next: page.next,
    })
}

/// The stored thumbnail as a `data:` URL (the CSP allows images from `data:` and nothing remote).
#[tauri::command]
pub async fn thumbnail(state: State<'_, AppState>, id: String) -> CommandResult<Option<String>> {
    let thumbnail = state.account().await?.thumbnail(&id)?;
    Ok(thumbnail.map(|(mime, bytes)| {
        format!(
            "data:{mime};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }))
}

#[tauri::command]
pub async fn sync_now(app: AppHandle, state: State<'_, AppState>) -> CommandResult<SyncState> {
    live::sync_once(&app).await;
    Ok(state.sync_state())
}
