//! A generation's clip saved on this device: into a folder the user sees (the Downloads folder,
//! "Download"), or into the account's private folder to be opened in the default app ("Open").
//!
//! The download resumes: it arrives as `<name>.part` and is renamed when complete, so an
//! interrupted one continues where it stopped. The file is named after the prompt (sanitised:
//! no path traversal, no reserved names) and the id; an existing file of that name is never
//! overwritten. Where it went is recorded in the store, for the Library's "downloaded" filter.
//!
//! The copies in the account's private folder are the app's, not the user's: they go when their
//! generation is deleted, when a download the user chose replaces them, and when a download
//! fails (its `.part`). Clips the user saved into a folder of theirs are never removed.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

pub(crate) mod download;

use crate::error::{Error, Result};
use crate::export::{clip_extension, safe_file_name};
use crate::local_copy::LocalCopy;
use crate::model::Status;
use download::{ClipSource, InFlight};

/// The account's private folder of clips opened from the app.
const OPENED_FOLDER: &str = "clips";

/// Saves generation `id`'s clip into `folder`; returns the file's path. A clip saved before
/// that is still on disk is not downloaded again; a save of the same clip already under way
/// is waited for, and its file answered.
pub(crate) async fn save(source: &ClipSource<'_>, id: &str, folder: &Path) -> Result<PathBuf> {
    let generation = source
        .local
        .with_store(|s| Ok(s.generation(id)?))?
        .ok_or_else(|| Error::InvalidInput("This generation is not in your Library.".into()))?;
    let url = match (&generation.status, &generation.output_url) {
        (Status::Succeeded, Some(url)) => url.clone(),
        _ => {
            return Err(Error::InvalidInput(
                "This generation has no clip to download (it has not succeeded).".into(),
            ))
        }
    };
    let _claim = source.in_flight.claim(id).await;
    let before = saved_clip(source, id)?;
    if let Some(saved) = &before {
        if saved.starts_with(folder) && saved.is_file() {
            return Ok(saved.clone());
        }
    }
    std::fs::create_dir_all(folder)?;
    let name = safe_file_name(&generation.prompt, &generation.id, clip_extension(&url));
    let dest = unused_path(folder, &name)?;
    let part = dest.with_file_name(format!(
        "{}.part",
        dest.file_name().unwrap_or_default().to_string_lossy()
    ));
    let never = AtomicBool::new(false);
    if let Err(e) = download::fetch(source, &generation, &part, |_, _| {}, &never).await {
        let _ = std::fs::remove_file(&part);
        return Err(e);
    }
    std::fs::rename(&part, &dest)?;
    source
        .local
        .with_store(|s| Ok(s.record_download(id, &dest)?))?;
    // "Open" uses the clip the user saved from now on: the app's own copy is not needed.
    if let Some(replaced) = before.filter(|b| *b != dest) {
        if replaced.starts_with(source.local.private_folder(OPENED_FOLDER)?) {
            let _ = std::fs::remove_file(replaced);
        }
    }
    Ok(dest)
}

/// The clip to open in the default app: the one the user saved, if it is still there, or a
/// copy downloaded into the account's private folder.
pub(crate) async fn to_open(source: &ClipSource<'_>, id: &str) -> Result<PathBuf> {
    if let Some(saved) = saved_clip(source, id)? {
        if saved.is_file() {
            return Ok(saved);
        }
    }
    let folder = source.local.private_folder(OPENED_FOLDER)?;
    save(source, id, &folder).await
}

/// Removes the app's own clip copies that no generation records any more (deleted here or on
/// another device, or replaced by a download the user chose) and the `.part` files of downloads
/// that stopped. Only while no download runs; otherwise the next call does it. Returns how many
/// files went.
pub(crate) fn remove_leftovers(local: &LocalCopy, in_flight: &InFlight) -> Result<usize> {
    let folder = local.private_folder(OPENED_FOLDER)?;
    in_flight
        .when_idle(|| {
            let files: Vec<PathBuf> = std::fs::read_dir(&folder)?
                .flatten()
                .map(|entry| entry.path())
                .filter(|path| path.is_file())
                .collect();
            // Most syncs find the folder empty: then the store is not read at all.
            if files.is_empty() {
                return Ok(0);
            }
            let recorded = local.with_store(|s| Ok(s.saved_clip_paths()?))?;
            let mut removed = 0;
            for path in files.into_iter().filter(|path| !recorded.contains(path)) {
                std::fs::remove_file(path)?;
                removed += 1;
            }
            Ok(removed)
        })
        .unwrap_or(Ok(0))
}

fn saved_clip(source: &ClipSource<'_>, id: &str) -> Result<Option<PathBuf>> {
    source.local.with_store(|s| Ok(s.saved_clip_path(id)?))
}

/// `folder/name`, or `folder/stem (2).ext`, `(3)`… if taken.
fn unused_path(folder: &Path, name: &str) -> Result<PathBuf> {
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    Ok(crate::paths::first_unused(folder, stem, |n| match n {
        1 => format!(".{ext}"),
        n => format!(" ({n}).{ext}"),
    })?)
}
