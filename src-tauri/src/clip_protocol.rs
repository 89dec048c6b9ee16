//! `clip://localhost/<generation id>`: a generation's clip for the detail view's player.
//!
//! The window may not load anything from the network (the CSP allows images and media from
//! `'self'`, `data:` and this scheme only), so the clip comes from this device: the copy the
//! user saved, or one downloaded once into the account's private folder (see
//! `cleom_core::clips`). Only clips of the signed-in account's own generations, by id; anything
//! else is a 404 and the player shows the poster instead — as it does offline before a clip was
//! ever fetched.

use tauri::http::{header, Request, Response, StatusCode};
use tauri::{AppHandle, Manager, UriSchemeContext, UriSchemeResponder, Wry};

use crate::state::AppState;

/// The scheme's name, as the CSP in tauri.conf.json names it.
pub const SCHEME: &str = "clip";

/// The content type of a clip file, by the extension `cleom_core::export::clip_extension` gave.
pub fn content_type(path: &std::path::Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
    {
        "gif" => "image/gif",
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        "mkv" => "video/x-matroska",
        _ => "application/octet-stream",
    }
}

pub fn handle(
    ctx: UriSchemeContext<'_, Wry>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    let app = ctx.app_handle().clone();
    let id = request.uri().path().trim_start_matches('/').to_string();
    tauri::async_runtime::spawn(async move {
        let response = match clip(&app, &id).await {
            Ok((content_type, bytes)) => Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, content_type)
                .body(bytes),
            Err(error) => {
                tracing::debug!(code = error.code(), "no clip to play");
                Response::builder()
                    .status(StatusCode::NOT_FOUND)
                    .header(header::CONTENT_TYPE, "text/plain")
                    .body(Vec::new())
            }
        };
        match response {
            Ok(response) => responder.respond(response),
            Err(error) => tracing::warn!(%error, "the clip answer could not be built"),
        }
    });
}

async fn clip(app: &AppHandle, id: &str) -> Result<(&'static str, Vec<u8>), cleom_core::Error> {
    let account = app
        .state::<AppState>()
        .account
        .read()
        .await
        .clone()
        .ok_or(cleom_core::Error::NotSignedIn)?;
    let path = account.clip_to_open(id).await?;
    let bytes = tokio::fs::read(&path).await?;
    Ok((content_type(&path), bytes))
}
