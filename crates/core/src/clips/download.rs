//! Downloading clips: one clip, resumably ([`fetch`], for "Download" and "Open"), and every clip
//! for an export that includes them ([`for_export`]).
//!
//! For an export, clips are downloaded before the zip is written, into a private folder of the account
//! (`accounts/<uid>/export-videos/`), one `<id>.<ext>` per clip, through the resumable
//! download of the Cleom API: a clip arrives as `<id>.<ext>.part` and is renamed when complete.
//! The folder is removed when an export ends, complete, canceled or failed, so no copy of a clip
//! stays behind; only an export stopped by a killed app leaves it, and the next attempt skips
//! the clips already there and resumes the partial one with a `Range` request. It also goes
//! with the account on a wipe.
//!
//! The store is read a page at a time (the lock is held only while a page is read), so the app
//! stays responsive during a long download, and memory does not grow with the history.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::export::{clip_cache_name, ExportError, ExportProgress, ExportStep};
use crate::local_copy::LocalCopy;
use crate::model::{Generation, Status};
use crate::remote::cleom_api::{CleomApi, MAX_CLIP_BYTES};
use crate::remote::RemoteError;
use crate::session::Session;
use crate::store::{LibraryCursor, LibraryQuery, QueryPage};

/// The folder of an export's downloaded clips inside the account's folder.
pub const EXPORT_FOLDER: &str = "export-videos";

/// Generations read from the store per page.
const PAGE: usize = 500;

/// Where an account's clips come from: its local copy lists them, its session and the Cleom API
/// fetch them, one download per generation at a time (`in_flight`).
pub(crate) struct ClipSource<'a> {
    pub(crate) local: &'a LocalCopy,
    pub(crate) session: &'a Session,
    pub(crate) api: &'a CleomApi,
    pub(crate) in_flight: &'a InFlight,
}

/// The generations whose clip is being downloaded in this process. Two downloads of one clip
/// into one `.part` file would corrupt it (one truncating while the other writes), so a second
/// caller waits for the first and then finds its finished file, and shares that result. The
/// app's own copies are tidied (`clips::remove_leftovers`) only while no download runs, so a
/// clip just downloaded and not yet recorded is never taken for a leftover.
#[derive(Default)]
pub(crate) struct InFlight {
    claims: std::sync::Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
    downloads: Arc<tokio::sync::RwLock<()>>,
}

/// One caller's turn to download a clip; the next caller's starts when it is dropped.
pub(crate) struct Claim {
    _clip: tokio::sync::OwnedMutexGuard<()>,
    _running: tokio::sync::OwnedRwLockReadGuard<()>,
}

impl InFlight {
    /// Waits until no other download of generation `id` runs here; the download is this
    /// caller's until the claim is dropped.
    pub(crate) async fn claim(&self, id: &str) -> Claim {
        let running = Arc::clone(&self.downloads).read_owned().await;
        let lock = {
            let mut claims = self
                .claims
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            claims.retain(|_, claim| claim.strong_count() > 0);
            match claims.get(id).and_then(Weak::upgrade) {
                Some(lock) => lock,
                None => {
                    let lock = Arc::new(tokio::sync::Mutex::new(()));
                    claims.insert(id.to_string(), Arc::downgrade(&lock));
                    lock
                }
            }
        };
        Claim {
            _clip: lock.lock_owned().await,
            _running: running,
        }
    }

    /// Runs `f` if no download is under way (and none starts meanwhile); `None` otherwise.
    pub(crate) fn when_idle<T>(&self, f: impl FnOnce() -> T) -> Option<T> {
        let _idle = self.downloads.try_write().ok()?;
        Some(f())
    }
}

/// Downloads every finished clip of `source` that is not yet in `folder`. Returns the bytes
/// of all the clips in the folder.
pub(crate) async fn for_export(
    source: &ClipSource<'_>,
    folder: &Path,
    only: Option<&HashSet<String>>,
    progress: &(dyn Fn(ExportProgress) + Send + Sync),
    cancel: &AtomicBool,
) -> Result<u64> {
    let wanted = |g: &Generation| wants_clip(g) && only.is_none_or(|only| only.contains(&g.id));
    let mut total = 0u64;
    for_each_clip(source.local, &wanted, |_| {
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
        let page = page_after(source.local, cursor.as_ref())?;
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
            let _claim = source.in_flight.claim(&g.id).await;
            if !dest.is_file() {
                let part = folder.join(format!("{name}.part"));
                let on_progress = |now: u64, _: Option<u64>| report(done, bytes + now);
                match fetch(source, g, &part, on_progress, cancel).await {
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

/// A page of every generation, newest first, after `cursor` (the Library's default view).
fn page_after(local: &LocalCopy, cursor: Option<&LibraryCursor>) -> Result<QueryPage> {
    let query = LibraryQuery {
        limit: PAGE,
        after: cursor.cloned(),
        ..LibraryQuery::default()
    };
    local.with_store(|s| Ok(s.query(&query)?))
}

/// Calls `f` with every generation `wanted` says has a clip to download, a page at a time.
fn for_each_clip(
    local: &LocalCopy,
    wanted: &dyn Fn(&Generation) -> bool,
    mut f: impl FnMut(&Generation) -> Result<()>,
) -> Result<()> {
    let mut cursor: Option<LibraryCursor> = None;
    loop {
        let page = page_after(local, cursor.as_ref())?;
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
    source: &ClipSource<'_>,
    g: &Generation,
    part: &Path,
    mut on_progress: impl FnMut(u64, Option<u64>),
    cancel: &AtomicBool,
) -> Result<()> {
    let api = source.api;
    let url = g.output_url.clone().unwrap_or_default();
    let first = until_canceled(
        cancel,
        api.download(&url, part, MAX_CLIP_BYTES, &mut on_progress),
    )
    .await?;
    match first {
        Ok(_) => return Ok(()),
        Err(RemoteError::PermissionDenied | RemoteError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    let id = g.id.as_str();
    let fresh = source
        .session
        .authorized(|token| async move { Ok(api.generation(id, &token).await?) })
        .await?;
    match fresh.output_url {
        Some(fresh_url) if fresh_url != url => {
            until_canceled(
                cancel,
                api.download(&fresh_url, part, MAX_CLIP_BYTES, &mut on_progress),
            )
            .await??;
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
