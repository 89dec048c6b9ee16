//! The Library: pages (search, filters, sorts), filter counts, one item, thumbnails, sync.
//!
//! The UI calls these through `ui/src/lib/api.ts`; the types that cross are generated into
//! `ui/src/lib/generated/` (see `crate::ipc_types`).
//!
//! `library({query?})` → `LibraryPage`: one page for a `LibraryQuery` (none, or `{}`, is the
//! default view: everything, newest first, 50 a page). Its text is searched as typed (words
//! AND-ed, the last word a prefix, "quoted phrases"); `limit` is 1–500; `next` is the opaque
//! `LibraryCursor` for the same query's `after`. Only a view other than the default one counts
//! as using search (see `cleom_core::analytics`).
//!
//! A `GenerationView`'s `clipKind` says what to play from `clip://localhost/<id>` (see
//! `clip_protocol`). Its `snippet` is set when the query searched: the prompt's (or the
//! voice-over script's) matching passage, cut into parts the UI renders as text, with
//! `highlighted` on the matched words. Never HTML.
//!
//! `library_counts({query?})` → `FacetCounts`: every value of each filter in a fixed order
//! (zeros included; `styles` ends with `null` = no style); each counts its values under the
//! query's text, dates and *other* filters, `total` under all of them.
//!
//! `library_item({id})` → `LibraryItemView` (its thumbnail a `data:` URL), or null.
//!
//! `save_clip({id})` → `SavedClipLocation`: the clip saved in the export folder (resumable;
//! never overwrites). `save_clip_to({id})` asks for a folder with the system's folder picker
//! first (it opens where the last one was chosen), or answers null when the user cancels.
//! `open_clip({id})`: the clip opened in the default app (`system.no_app` when the system has
//! none).
//!
//! Errors are `AppError`s; a bad query or cursor is `store.invalid_input`.

use base64::Engine;
use cleom_core::model::{Generation, Settings, Status};
use cleom_core::store::{
    Download, FacetCounts, LibraryCursor, LibraryItem, LibraryQuery, SnippetPart, Thumbnail,
};
use serde::Serialize;
use tauri::{AppHandle, Manager, State};

use crate::error::{CommandError, CommandResult};
use crate::live;
use crate::state::{AppState, SyncState};

/// A generation as a Library card shows it (thumbnails are fetched separately).
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct GenerationView {
    id: String,
    prompt: String,
    #[cfg_attr(test, ts(as = "cleom_core::model::Mode"))]
    mode: &'static str,
    settings: Settings,
    status: Status,
    progress: f64,
    credits_charged: i64,
    error: Option<String>,
    created_at: String,
    updated_at: String,
    has_thumbnail: bool,
    /// `image` (an animated GIF) or `video`: what the detail view plays from
    /// `clip://localhost/<id>`; `null` while there is no clip.
    #[cfg_attr(test, ts(type = "\"image\" | \"video\" | null"))]
    clip_kind: Option<&'static str>,
    download: Option<Download>,
    snippet: Option<Vec<SnippetPart>>,
}

impl GenerationView {
    pub fn of(g: Generation, has_thumbnail: bool) -> GenerationView {
        let clip_kind = match g
            .output_url
            .as_deref()
            .map(cleom_core::export::clip_extension)
        {
            Some("gif") => Some("image"),
            Some("bin") | None => None,
            Some(_) => Some("video"),
        };
        GenerationView {
            clip_kind,
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
            download: None,
            snippet: None,
        }
    }

    fn of_item(item: LibraryItem) -> GenerationView {
        GenerationView {
            download: item.download,
            snippet: item.snippet,
            ..GenerationView::of(item.generation, item.has_thumbnail)
        }
    }
}

/// One page of the Library; the last page has no `next`.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct LibraryPage {
    items: Vec<GenerationView>,
    next: Option<LibraryCursor>,
}

#[tauri::command]
pub async fn library(
    state: State<'_, AppState>,
    query: Option<LibraryQuery>,
) -> CommandResult<LibraryPage> {
    let query = query.unwrap_or_default();
    let account = state.account().await?;
    // Both page the same query through the store; they differ only in what analytics counts.
    let page = if query.is_default_view() {
        account.library(query.limit, query.after.as_ref())?
    } else {
        account.query(&query)?
    };
    Ok(LibraryPage {
        items: page
            .items
            .into_iter()
            .map(GenerationView::of_item)
            .collect(),
        next: page.next,
    })
}

#[tauri::command]
pub async fn library_counts(
    state: State<'_, AppState>,
    query: Option<LibraryQuery>,
) -> CommandResult<FacetCounts> {
    Ok(state.account().await?.counts(&query.unwrap_or_default())?)
}

/// One generation with its thumbnail, for the detail view.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct LibraryItemView {
    #[serde(flatten)]
    item: GenerationView,
    thumbnail: Option<String>,
}

#[tauri::command]
pub async fn library_item(
    state: State<'_, AppState>,
    id: String,
) -> CommandResult<Option<LibraryItemView>> {
    let found = state.account().await?.item_with_thumbnail(&id)?;
    Ok(found.map(|found| LibraryItemView {
        thumbnail: found.thumbnail.map(data_url),
        item: GenerationView::of_item(found.item),
    }))
}

/// The stored thumbnail as a `data:` URL (the CSP allows images from `data:` and nothing remote).
#[tauri::command]
pub async fn thumbnail(state: State<'_, AppState>, id: String) -> CommandResult<Option<String>> {
    let thumbnail = state.account().await?.thumbnail(&id)?;
    Ok(thumbnail.map(|(mime, bytes)| data_url(Thumbnail { mime, bytes })))
}

fn data_url(thumbnail: Thumbnail) -> String {
    format!(
        "data:{};base64,{}",
        thumbnail.mime,
        base64::engine::general_purpose::STANDARD.encode(thumbnail.bytes)
    )
}

#[tauri::command]
pub async fn sync_now(app: AppHandle, state: State<'_, AppState>) -> CommandResult<SyncState> {
    live::sync_once(&app).await;
    Ok(state.sync_state())
}

/// The window painted the Library's first page. The first time after start-up, the time since
/// the process began is logged: the start-up figure a user feels (the benchmark in tests/perf
/// reads it, and anyone can with `RUST_LOG=info`).
#[tauri::command]
pub fn library_shown(state: State<'_, AppState>, updates: State<'_, crate::update::Updates>) {
    if !state
        .library_shown
        .swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        let after_ms = crate::state::ms_since(state.started);
        tracing::info!(after_ms, "start-up: the Library shows its first page");
        // The window is up: the first sync and the update check need not wait any longer
        // (see `live::spawn` and `update::spawn_start_up_check`).
        state.sync_now.notify_one();
        updates.window_ready.notify_one();
    }
}

/// "Download to…": the system's folder picker, then the clip saved in the chosen folder. The
/// picker is opened from here, so the webview needs no dialog or file-system permission.
/// Answers null when the user cancels.
#[tauri::command]
pub async fn save_clip_to(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
) -> CommandResult<Option<SavedClipView>> {
    use tauri_plugin_dialog::DialogExt;
    let account = state.account().await?;
    let start = state
        .download_folder()
        .unwrap_or_else(|| state.export_dir.clone());
    let (chosen, picked) = tokio::sync::oneshot::channel();
    let mut picker = app
        .dialog()
        .file()
        .set_title("Download the clip to…")
        .set_directory(start);
    if let Some(window) = app.get_webview_window("main") {
        picker = picker.set_parent(&window);
    }
    picker.pick_folder(move |folder| {
        let _ = chosen.send(folder);
    });
    let Some(folder) = picked.await.ok().flatten() else {
        return Ok(None);
    };
    let folder = folder
        .into_path()
        .map_err(|e| cleom_core::Error::InvalidInput(format!("That folder can't be used: {e}")))?;
    let path = account.save_clip(&id, &folder).await?;
    state.set_download_folder(folder);
    Ok(Some(SavedClipView::of(path)))
}

/// "Download": saves the clip into the export folder (the Downloads folder by default) under a
/// name from its prompt; its `folder` is for "Show in folder".
#[tauri::command]
pub async fn save_clip(state: State<'_, AppState>, id: String) -> CommandResult<SavedClipView> {
    let account = state.account().await?;
    let path = account.save_clip(&id, &state.export_dir).await?;
    Ok(SavedClipView::of(path))
}

/// "Open": the clip in the system's default app (downloading it into the account's private
/// folder first if it was not saved). Only clips of this account's
/// generations, never a path or URL from the window.
#[tauri::command]
pub async fn open_clip(state: State<'_, AppState>, id: String) -> CommandResult<SavedClipView> {
    let account = state.account().await?;
    let path = account.clip_to_open(&id).await?;
    open::that_detached(&path).map_err(|e| CommandError::no_app("the clip", &e))?;
    Ok(SavedClipView::of(path))
}

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "SavedClipLocation"))]
#[serde(rename_all = "camelCase")]
pub struct SavedClipView {
    path: String,
    folder: String,
}

impl SavedClipView {
    fn of(path: std::path::PathBuf) -> SavedClipView {
        SavedClipView {
            folder: path
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            path: path.display().to_string(),
        }
    }
}
