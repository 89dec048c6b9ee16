//! Downloading the full video clips for an export that includes them.
//!
//! Clips are downloaded before the zip is written, into a private folder of the account
//! (`accounts/<uid>/export-videos/`), one `<id>.<ext>` per clip, through the resumable
//! download of the Cleom API: a clip arrives as `<id>.<ext>.part` and is renamed when complete.
//! So a canceled, failed or interrupted export loses nothing: the next attempt skips the clips
//! already there and resumes the partial one with a `Range` request. The folder is removed when
//! an export completes, and goes with the account on a wipe.
//!
//! The store is read a page at a time (the lock is held only while a page is read), so the app
//! stays responsive during a long download, and memory does not grow with the history.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::{clip_cache_name, ExportError, ExportProgress, ExportStep};
use crate::account::Account;
use crate::error::{Error, Result};
use crate::model::{Generation, Status};
use crate::remote::RemoteError;
use crate::store::LibraryCursor;

/// The folder of downloaded clips inside the account's folder.
pub const FOLDER: &str = "export-videos";

/// Generations read from the store per page.
const PAGE: usize = 500;

/// Downloads every finished clip of `account` that is not yet in `folder`. Returns the bytes
/// of all the clips in the folder.
pub(crate) async fn download(
    account: &Account,
    folder: &Path,
    only: Option<&HashSet<String>>,
    progress: &(dyn Fn(ExportProgress) + Send + Sync),
    cancel: &AtomicBool,
) -> Result<u64> {
    let wanted = |g: &Generation| wants_clip(g) && only.is_none_or(|only| only.contains(&g.id));
    let mut total = 0u64;
    for_each_clip(account, &wanted, |_| {
        total += 1;
        Ok(())
    })?;

    let mut clips = Vec::with_capacity(PAGE);
    let mut cursor: Option<LibraryCursor> = None;
    let mut done = 0u64;
    let mut bytes = 0u64;
    let report = |done: u64, bytes: u64| {
        progress(ExportProgress {
            step: ExportStep::Downloading,
            items_done: done,
            items_total: total.max(done),
            bytes_downloaded: bytes,
            bytes_written: 0,
        })
    };
    report(0, 0);
    loop {
        // One page at a time, so the store is not held across the downloads.
        clips.clear();
        let page = account.library(PAGE, cursor.as_ref())?;
        clips.extend(
            page.items
                .into_iter()
                .map(|item| item.generation)
                .filter(|g| wanted(g)),
        );
        for g in &clips {
            if cancel.load(Ordering::Relaxed) {
                return Err(ExportError::Canceled.into());
            }
            let Some(name) = clip_cache_name(g) else {
                continue;
            };
            let dest = folder.join(&name);
            if !dest.is_file() {
                let part = folder.join(format!("{name}.part"));
                let on_progress = |now: u64, _: Option<u64>| report(done, bytes + now);
                match fetch(account, g, &part, on_progress, cancel).await {
                    Ok(()) => std::fs::rename(&part, &dest)?,
                    // Deleted on the server since the last sync: nothing to include.
                    Err(Error::Remote(RemoteError::NotFound)) => {
                        tracing::warn!(id = %g.id, "a clip is gone from the server; not exported");
                        let _ = std::fs::remove_file(&part);
                    }
                    Err(e) => return Err(e),
                }
            }
            if let Ok(meta) = std::fs::metadata(&dest) {
                bytes += meta.len();
            }
            done += 1;
            report(done, bytes);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(bytes)
}

/// Whether a generation has a clip to download.
fn wants_clip(g: &Generation) -> bool {
    g.status == Status::Succeeded && g.output_url.is_some()
}

/// Calls `f` with every generation `wanted` says has a clip to download, a page at a time.
fn for_each_clip(
    account: &Account,
    wanted: &dyn Fn(&Generation) -> bool,
    mut f: impl FnMut(&Generation) -> Result<()>,
) -> Result<()> {
    let mut cursor: Option<LibraryCursor> = None;
    loop {
        let page = account.library(PAGE, cursor.as_ref())?;
        for item in &page.items {
            if wanted(&item.generation) {
                f(&item.generation)?;
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(()),
        }
    }
}

/// Downloads one clip into `part` (resuming what is there). A signed URL that has expired
/// (the server answers 403 or 404) is asked for again once, through the generation itself.
pub(crate) async fn fetch(
    account: &Account,
    g: &Generation,
    part: &Path,
    mut on_progress: impl FnMut(u64, Option<u64>),
    cancel: &AtomicBool,
) -> Result<()> {
    let api = &account.remote().api;
    let url = g.output_url.clone().unwrap_or_default();
    let first = until_canceled(cancel, api.download(&url, part, &mut on_progress)).await?;
    match first {
        Ok(_) => return Ok(()),
        Err(RemoteError::PermissionDenied | RemoteError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    let id = g.id.as_str();
    let fresh = account
        .authorized(|token| async move { Ok(api.generation(id, &token).await?) })
        .await?;
    match fresh.output_url {
        Some(fresh_url) if fresh_url != url => {
            until_canceled(cancel, api.download(&fresh_url, part, &mut on_progress)).await??;
            Ok(())
        }
        _ => Err(RemoteError::NotFound.into()),
    }
}

/// Runs `work` until it ends or `cancel` is set (checked every 100 ms).
async fn until_canceled<T>(
    cancel: &AtomicBool,
    work: impl std::future::Future<Output = T>,
) -> Result<T> {
    let watch = async {
        while !cancel.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::select! {
        out = work => Ok(out),
        () = watch => Err(ExportError::Canceled.into()),
    }
}
