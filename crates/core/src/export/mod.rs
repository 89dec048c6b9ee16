//! The one-click export: everything stored about the user, in files anyone can read.
//!
//! Why it is built this way:
//! - **Nothing half-done looks finished.** The zip is written as `<name>.part` and renamed when
//!   complete; a failure, a cancel or a crash removes (or leaves only) the `.part` file.
//! - **Constant memory, one pass.** Generations are streamed from the store one at a time and
//!   read once: each goes into `media/` (its thumbnail), generations.json, generations.csv and
//!   index.html at once. A zip holds one file open at a time, so those three files are written
//!   into side zips next to the `.part` (compressed, and encrypted like the export) and merged in
//!   raw at the end. One query is one snapshot, so the three files always agree. What grows is
//!   small and says so: one line per media file for the manifest, one path per video to copy,
//!   and the credit ledger and purchases (the store returns them whole; a few hundred bytes per
//!   entry).
//! - **The store is held only for the records.** The caller holds the store while
//!   [`ZipExport::write_records`] runs (seconds for 100,000 generations); video clips are copied
//!   in afterwards from files already downloaded, so a large export does not block the app.
//! - **Checkable.** `manifest.json` is written last and lists the SHA-256 and size of every
//!   other file and the counts; [`verify`] checks an export against it.
//! - **Optionally password-protected** with AES-256 (WinZip AE-2, read by 7-Zip and most
//!   archivers: no CRC of the plaintext is stored; the zip crate writes AE-1 for all but tiny
//!   files, so the finished zip is patched, see [`make_ae2`]), under a password of at least
//!   [`MIN_EXPORT_PASSWORD_CHARS`] characters. Zip does not encrypt file names, so an
//!   encrypted export names media by id only, and its README (the one unencrypted file,
//!   holding no personal data) says it is encrypted, as does its default file name.
//! - **Safe to open.** Media names never repeat (a zip refuses a repeated name, an unpacker
//!   overwrites one), and CSV text that a spreadsheet would run as a formula is neutralised
//!   (see the `csv` module).

mod csv;
mod html;
mod names;
#[cfg(test)]
mod tests;
mod verify;

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};
use zip::write::{FileOptions, SimpleFileOptions};
use zip::{AesMode, CompressionMethod, ZipWriter};

use crate::model::{Generation, Profile, Status};
use crate::secret::SecretString;
use crate::store::{Store, StoreError};
use csv::Cell::{Decimal, Integer, Text};

pub use names::{clip_extension, default_export_name, image_extension, safe_file_name};
use names::{MediaNames, MediaRole};
pub use verify::{verify, VerifyProblem, VerifyReport};

/// Bumped whenever a file's layout changes. 2: every generation field in the CSV, media file
/// names from prompts, index.html, purchases.csv, file sizes in the manifest. 3: media names
/// say their role (`-thumbnail`, `-video`), CSV text cells that a spreadsheet would run as a
/// formula start with `'`.
pub const EXPORT_SCHEMA_VERSION: u32 = 3;

/// The file that lists every other file's SHA-256.
pub const MANIFEST: &str = "manifest.json";

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("The export could not be written: {0}")]
    Io(#[from] io::Error),
    #[error("The export could not be written: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("The export was canceled.")]
    Canceled,
    #[error("{} already exists; choose another name.", .0.display())]
    Exists(PathBuf),
    #[error("An export password cannot be empty.")]
    EmptyPassword,
    #[error("An export password needs at least {MIN_EXPORT_PASSWORD_CHARS} characters.")]
    PasswordTooShort,
    #[error(
        "This is not a Cleom export: its manifest is {bytes} bytes, more than any export writes."
    )]
    ManifestTooLarge { bytes: u64 },
    #[error("This is not a Cleom export: {0}")]
    NotAnExport(String),
    #[error("This export is password-protected: give its password to check it.")]
    PasswordRequired,
    #[error("The password does not open this export.")]
    WrongPassword,
}

impl ExportError {
    /// A stable code the UI switches on.
    pub fn code(&self) -> &'static str {
        match self {
            ExportError::Io(e) if crate::paths::is_disk_full(e) => "export.disk_full",
            ExportError::Io(_) | ExportError::Zip(_) => "export.write_failed",
            ExportError::Store(e) => e.code(),
            ExportError::Canceled => "export.canceled",
            ExportError::Exists(_) => "export.exists",
            ExportError::EmptyPassword => "export.empty_password",
            ExportError::PasswordTooShort => "export.password_too_short",
            ExportError::ManifestTooLarge { .. } => "export.manifest_too_large",
            ExportError::NotAnExport(_) => "export.not_an_export",
            ExportError::PasswordRequired => "export.password_required",
            ExportError::WrongPassword => "export.wrong_password",
        }
    }
}

/// The shortest export password, in characters (Unicode scalar values, as the app's form
/// counts them). An export's password cannot be reset or recovered and the zip can be
/// attacked offline, as often as one likes, so short ones are refused, by the app and the CLI
/// alike: both ask [`check_export_password`].
pub const MIN_EXPORT_PASSWORD_CHARS: usize = 8;

/// Whether `password` may protect an export: not empty, and at least
/// [`MIN_EXPORT_PASSWORD_CHARS`] characters.
pub fn check_export_password(password: &str) -> Result<(), ExportError> {
    match password.chars().count() {
        0 => Err(ExportError::EmptyPassword),
        n if n < MIN_EXPORT_PASSWORD_CHARS => Err(ExportError::PasswordTooShort),
        _ => Ok(()),
    }
}

/// What to put in an export.
#[derive(Debug, Default)]
pub struct ExportOptions {
    /// Also download and include the full video clips (the thumbnails are always included).
    pub include_videos: bool,
    /// Encrypt every file but README.txt with AES-256 under this password.
    pub password: Option<SecretString>,
    /// Only these generations (a Library selection); `None` exports them all. The profile,
    /// credit history and purchases are always included.
    pub only: Option<std::collections::HashSet<String>>,
}

/// What the export is doing, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ExportStep {
    /// Downloading video clips (`items` are clips).
    Downloading,
    /// Writing every generation: its thumbnail, its line in generations.json, its row in
    /// generations.csv, its card in index.html (`items` are generations).
    Generations,
    /// Copying downloaded clips into the zip (`items` are clips).
    Videos,
    /// Writing the ledger, purchases and manifest, and closing the zip.
    Finishing,
}

/// Progress of one export: `items_done` of `items_total` in the current step, and the bytes
/// downloaded and written so far in the whole export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ExportProgress {
    pub step: ExportStep,
    pub items_done: u64,
    pub items_total: u64,
    pub bytes_downloaded: u64,
    pub bytes_written: u64,
}

/// Where the export went and what is in it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "ExportResult"))]
#[serde(rename_all = "camelCase")]
pub struct ExportSummary {
    pub path: PathBuf,
    pub folder: PathBuf,
    /// Files in the zip, the manifest included.
    pub files: usize,
    pub bytes: u64,
    pub counts: Counts,
    pub encrypted: bool,
}

/// How many of each thing the export holds; `manifest.json` records them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "ExportCounts"))]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub generations: u64,
    pub credit_ledger_entries: u64,
    pub purchases: u64,
    pub thumbnails: u64,
    pub videos: u64,
    pub media_files: u64,
}

/// How often (in items) progress is reported within a step.
const PROGRESS_EVERY: u64 = 500;
/// Progress is reported at least every this many bytes while copying a clip.
const COPY_CHUNK: usize = 1 << 20;
/// Writes smaller than this are gathered before they reach the zip.
const PENDING: usize = 64 * 1024;

const README: &str = include_str!("README.txt");
const ENCRYPTED_NOTICE: &str = "\
PASSWORD-PROTECTED EXPORT (AES-256)

Every file in this archive except this README is encrypted with AES-256 (the WinZip AE-2
format) and opens only with the password chosen when exporting. 7-Zip, WinZip, Keka and
The Unarchiver open it; the zip tools built into Windows and macOS cannot. File names are not
encrypted, so the files in media/ are named by generation id only, never by prompt.

";

const GENERATION_COLUMNS: [&str; 28] = [
    "id",
    "created_at",
    "updated_at",
    "status",
    "progress",
    "mode",
    "prompt",
    "duration_seconds",
    "resolution",
    "aspect_ratio",
    "style_preset",
    "subject",
    "pacing",
    "voice_over_language",
    "voice_over_voice",
    "voice_over_script",
    "music",
    "subtitles",
    "references",
    "credits_charged",
    "output_url",
    "thumbnail_url",
    "error",
    "deleted",
    "deleted_at",
    "thumbnail_file",
    "video_file",
    "settings_json",
];

const LEDGER_COLUMNS: [&str; 7] = [
    "id",
    "created_at",
    "updated_at",
    "amount",
    "reason",
    "generation_id",
    "balance_after",
];

const PURCHASE_COLUMNS: [&str; 6] = [
    "id",
    "created_at",
    "updated_at",
    "credits",
    "amount_cents",
    "currency",
];

/// Reports progress and notices a cancel.
pub struct Monitor<'a> {
    progress: &'a dyn Fn(ExportProgress),
    cancel: &'a AtomicBool,
    /// Bytes downloaded before the zip was started (reported with every update).
    pub bytes_downloaded: u64,
}

impl<'a> Monitor<'a> {
    pub fn new(progress: &'a dyn Fn(ExportProgress), cancel: &'a AtomicBool) -> Monitor<'a> {
        Monitor {
            progress,
            cancel,
            bytes_downloaded: 0,
        }
    }

    /// Fails with [`ExportError::Canceled`] once the cancel flag is set.
    pub fn check(&self) -> Result<(), ExportError> {
        if self.cancel.load(Ordering::Relaxed) {
            Err(ExportError::Canceled)
        } else {
            Ok(())
        }
    }

    pub fn report(&self, progress: ExportProgress) {
        (self.progress)(progress);
    }
}

/// Writes a whole export of `store` to `dest` (see [`ZipExport`]). `videos`, if given, is the
/// folder of downloaded clips (see [`clip_cache_name`]); without it no clip is included.
pub fn write_zip(
    store: &Store,
    dest: &Path,
    options: &ExportOptions,
    videos: Option<&Path>,
    monitor: &Monitor<'_>,
) -> Result<ExportSummary, ExportError> {
    let mut export = ZipExport::create(dest, options)?;
    export.write_records(store, videos, monitor)?;
    export.write_videos(monitor)?;
    export.finish(monitor)
}

/// A path in `folder` for a new export with the default name, `-2`, `-3`... added if taken.
pub fn unique_export_path(folder: &Path, encrypted: bool) -> Result<PathBuf, ExportError> {
    let name = default_export_name(time::OffsetDateTime::now_utc(), encrypted);
    let stem = name.trim_end_matches(".zip");
    Ok(crate::paths::first_unused(folder, stem, |n| match n {
        1 => ".zip".to_string(),
        n => format!("-{n}.zip"),
    })?)
}

/// The name a downloaded clip has in the download folder: `<id>.<ext>`, `ext` from its URL.
pub fn clip_cache_name(g: &Generation) -> Option<String> {
    let url = g.output_url.as_deref()?;
    Some(safe_file_name("", &g.id, clip_extension(url)))
}

/// An export being written: create it, write the records (holding the store), the videos (not
/// holding it), then finish. Dropped before [`ZipExport::finish`], it deletes its `.part` file.
pub struct ZipExport {
    dest: PathBuf,
    part: PathBuf,
    archive: Archive,
    exported_at: String,
    counts: Counts,
    /// Downloaded clips to copy in: (file in the download folder, name in the zip).
    videos: Vec<(PathBuf, String)>,
    /// The names given in `media/` so far.
    media_names: MediaNames,
    /// See [`ExportOptions::only`].
    only: Option<std::collections::HashSet<String>>,
    finished: bool,
}

impl ZipExport {
    /// Starts `dest` (as `dest.part`). Fails if `dest` exists: an export never replaces a file.
    pub fn create(dest: &Path, options: &ExportOptions) -> Result<ZipExport, ExportError> {
        if let Some(password) = &options.password {
            check_export_password(password.expose())?;
        }
        if dest.try_exists()? {
            return Err(ExportError::Exists(dest.to_path_buf()));
        }
        let folder = parent(dest);
        std::fs::create_dir_all(folder)?;
        let mut part = dest.as_os_str().to_owned();
        part.push(".part");
        let part = PathBuf::from(part);
        let file = private_file(&part)?;
        let now = time::OffsetDateTime::now_utc();
        let modified = zip::DateTime::from_date_and_time(
            u16::try_from(now.year()).unwrap_or(1980),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second(),
        )
        .unwrap_or_default();
        let password = options
            .password
            .as_ref()
            .map(|p| SecretString::new(p.expose().clone()));
        let archive = Archive::new(file, password, modified);
        Ok(ZipExport {
            dest: dest.to_path_buf(),
            part,
            archive,
            exported_at: crate::now_rfc3339(),
            counts: Counts::default(),
            videos: Vec::new(),
            media_names: MediaNames::default(),
            only: options.only.clone(),
            finished: false,
        })
    }

    fn encrypted(&self) -> bool {
        self.archive.password.is_some()
    }

    /// A name in `media/` for a generation's file, never one given before in this export: from
    /// its prompt and id, or its id only when the export is encrypted (zip does not encrypt
    /// names).
    fn media_name(&mut self, g: &Generation, role: MediaRole, ext: &str) -> String {
        let prompt = if self.encrypted() {
            ""
        } else {
            g.prompt.as_str()
        };
        self.media_names.give(prompt, &g.id, role, ext)
    }

    /// Writes everything that comes from the store, in one pass over the generations (one
    /// query, so one consistent snapshot, even if another process writes meanwhile).
    /// `videos` is the folder of downloaded clips, if clips are wanted: the clips found there
    /// are remembered for [`ZipExport::write_videos`].
    pub fn write_records(
        &mut self,
        store: &Store,
        videos: Option<&Path>,
        monitor: &Monitor<'_>,
    ) -> Result<(), ExportError> {
        self.write_readme()?;
        let profile = store.profile()?;
        self.archive.file("profile.json", Kind::Text, |w| {
            serde_json::to_writer_pretty(&mut *w, &profile).map_err(io::Error::from)?;
            w.write_all(b"\n")
        })?;
        self.write_generations(store, profile.as_ref(), videos, monitor)?;
        self.write_ledger(store)?;
        self.write_purchases(store)?;
        monitor.check()
    }

    fn write_readme(&mut self) -> Result<(), ExportError> {
        let readme = if self.encrypted() {
            format!("{ENCRYPTED_NOTICE}{README}")
        } else {
            README.to_string()
        };
        self.archive.file("README.txt", Kind::Readme, |w| {
            w.write_all(readme.as_bytes())
        })
    }

    /// Streams the generations (those in [`ExportOptions::only`], if given) into their media
    /// files and the three files that list them.
    fn write_generations(
        &mut self,
        store: &Store,
        profile: Option<&Profile>,
        videos: Option<&Path>,
        monitor: &Monitor<'_>,
    ) -> Result<(), ExportError> {
        let mut lists =
            GenerationLists::start(&self.part, &self.archive, profile, &self.exported_at)?;
        let total = match &self.only {
            Some(only) => store.count_generations()?.min(only.len() as u64),
            None => store.count_generations()?,
        };
        let mut done = 0u64;
        store.for_each_generation(|g: Generation| -> Result<(), ExportError> {
            if self.only.as_ref().is_some_and(|only| !only.contains(&g.id)) {
                return Ok(());
            }
            if done.is_multiple_of(PROGRESS_EVERY) {
                monitor.check()?;
                self.report(ExportStep::Generations, done, total, monitor);
            }
            let media = GenerationMedia {
                thumbnail: self.write_thumbnail(store, &g)?,
                video: self.find_video(&g, videos),
            };
            lists.write(&g, &media, done == 0)?;
            done += 1;
            Ok(())
        })?;
        self.counts.generations = done;
        self.report(ExportStep::Generations, done, total.max(done), monitor);
        lists.merge_into(&mut self.archive, monitor)
    }

    /// Writes a generation's stored thumbnail into `media/`, giving its name there.
    fn write_thumbnail(
        &mut self,
        store: &Store,
        g: &Generation,
    ) -> Result<Option<String>, ExportError> {
        if g.thumbnail_url.is_none() {
            return Ok(None);
        }
        let Some((mime, bytes)) = store.thumbnail(&g.id)? else {
            return Ok(None);
        };
        let name = self.media_name(g, MediaRole::Thumbnail, image_extension(&mime));
        let size = bytes.len() as u64;
        self.archive
            .file(&format!("media/{name}"), Kind::Media(size), |w| {
                w.write_all(&bytes)
            })?;
        self.counts.thumbnails += 1;
        Ok(Some(name))
    }

    /// Remembers a succeeded generation's downloaded clip, if `videos` has it, for
    /// [`ZipExport::write_videos`], giving its name in `media/`.
    fn find_video(&mut self, g: &Generation, videos: Option<&Path>) -> Option<String> {
        let path = videos?.join(clip_cache_name(g)?);
        if g.status != Status::Succeeded || !path.is_file() {
            return None;
        }
        let name = self.media_name(g, MediaRole::Video, video_extension(g));
        self.videos.push((path, format!("media/{name}")));
        Some(name)
    }

    fn write_ledger(&mut self, store: &Store) -> Result<(), ExportError> {
        let ledger = store.ledger()?;
        self.counts.credit_ledger_entries = ledger.len() as u64;
        self.archive.file("credit-ledger.csv", Kind::Text, |w| {
            csv::write_header(w, &LEDGER_COLUMNS)?;
            for e in &ledger {
                let generation = e.generation_id.as_deref().unwrap_or("");
                csv::write_row(
                    w,
                    &[
                        Text(&e.id),
                        Text(&e.created_at),
                        Text(&e.updated_at),
                        Integer(e.amount),
                        Text(&e.reason),
                        Text(generation),
                        Integer(e.balance_after),
                    ],
                )?;
            }
            Ok(())
        })
    }

    fn write_purchases(&mut self, store: &Store) -> Result<(), ExportError> {
        let purchases = store.purchases()?;
        self.counts.purchases = purchases.len() as u64;
        self.archive.file("purchases.csv", Kind::Text, |w| {
            csv::write_header(w, &PURCHASE_COLUMNS)?;
            for p in &purchases {
                csv::write_row(
                    w,
                    &[
                        Text(&p.id),
                        Text(&p.created_at),
                        Text(&p.updated_at),
                        Integer(p.credits),
                        Integer(p.amount_cents),
                        Text(&p.currency),
                    ],
                )?;
            }
            Ok(())
        })
    }

    fn report(&self, step: ExportStep, done: u64, total: u64, monitor: &Monitor<'_>) {
        monitor.report(ExportProgress {
            step,
            items_done: done,
            items_total: total.max(done),
            bytes_downloaded: monitor.bytes_downloaded,
            bytes_written: self.archive.written(),
        });
    }

    /// Copies the downloaded clips found by [`ZipExport::write_records`] into the zip.
    pub fn write_videos(&mut self, monitor: &Monitor<'_>) -> Result<(), ExportError> {
        let videos = std::mem::take(&mut self.videos);
        let total = videos.len() as u64;
        let mut chunk = vec![0u8; COPY_CHUNK];
        for (done, (path, name)) in videos.into_iter().enumerate() {
            let report = |archive: &Archive| {
                monitor.report(ExportProgress {
                    step: ExportStep::Videos,
                    items_done: done as u64,
                    items_total: total,
                    bytes_downloaded: monitor.bytes_downloaded,
                    bytes_written: archive.written(),
                })
            };
            report(&self.archive);
            monitor.check()?;
            let mut file = File::open(&path)?;
            let size = file.metadata()?.len();
            self.archive.start(&name, Kind::Media(size))?;
            loop {
                let n = match file.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e.into()),
                };
                self.archive.write_all(&chunk[..n])?;
                monitor.check()?;
                report(&self.archive);
            }
            self.archive.finish_file()?;
            self.counts.videos += 1;
        }
        Ok(())
    }

    /// Writes the manifest, closes the zip and gives it its final name.
    pub fn finish(mut self, monitor: &Monitor<'_>) -> Result<ExportSummary, ExportError> {
        monitor.check()?;
        monitor.report(ExportProgress {
            step: ExportStep::Finishing,
            items_done: 0,
            items_total: 1,
            bytes_downloaded: monitor.bytes_downloaded,
            bytes_written: self.archive.written(),
        });
        self.counts.media_files = self.counts.thumbnails + self.counts.videos;
        let manifest = Manifest {
            schema_version: EXPORT_SCHEMA_VERSION,
            exported_at: &self.exported_at,
            app: concat!("Cleom Desktop ", env!("CARGO_PKG_VERSION")),
            encrypted: self.encrypted(),
            counts: self.counts,
            files: self
                .archive
                .listed
                .iter()
                .map(|f| ManifestFile {
                    path: &f.path,
                    bytes: f.bytes,
                    sha256: hex::encode(f.sha256),
                })
                .collect(),
        };
        let files = manifest.files.len() + 1;
        let json = serde_json::to_vec_pretty(&manifest).map_err(io::Error::from)?;
        drop(manifest);
        self.archive
            .file(MANIFEST, Kind::Text, |w| w.write_all(&json))?;
        self.archive.close(true)?;
        monitor.check()?;
        // The last moment to refuse replacing a file that appeared meanwhile.
        if self.dest.try_exists()? {
            return Err(ExportError::Exists(self.dest.clone()));
        }
        std::fs::rename(&self.part, &self.dest)?;
        self.finished = true;
        let bytes = std::fs::metadata(&self.dest)?.len();
        monitor.report(ExportProgress {
            step: ExportStep::Finishing,
            items_done: 1,
            items_total: 1,
            bytes_downloaded: monitor.bytes_downloaded,
            bytes_written: bytes,
        });
        Ok(ExportSummary {
            path: self.dest.clone(),
            folder: parent(&self.dest).to_path_buf(),
            files,
            bytes,
            counts: self.counts,
            encrypted: self.archive.password.is_some(),
        })
    }
}

impl Drop for ZipExport {
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_file(&self.part);
        }
    }
}

/// The extension of a generation's downloaded clip.
fn video_extension(g: &Generation) -> &'static str {
    clip_extension(g.output_url.as_deref().unwrap_or_default())
}

/// The names in `media/` of one generation's thumbnail and clip, where it has them.
struct GenerationMedia {
    thumbnail: Option<String>,
    video: Option<String>,
}

/// A generation as generations.json lists it: every field, and its media files.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExportedGeneration<'a> {
    #[serde(flatten)]
    generation: &'a Generation,
    thumbnail_file: Option<&'a str>,
    video_file: Option<&'a str>,
}

/// generations.json, generations.csv and index.html, written side by side as the generations
/// are read once: a zip is written one file at a time, so each goes into a [`Side`] zip and is
/// merged into the export afterwards.
struct GenerationLists {
    json: Side,
    csv: Side,
    html: Side,
    /// Reused for each generation's JSON.
    line: Vec<u8>,
}

impl GenerationLists {
    /// Creates the side zips next to `part` and writes each file's beginning.
    fn start(
        part: &Path,
        archive: &Archive,
        profile: Option<&Profile>,
        exported_at: &str,
    ) -> Result<GenerationLists, ExportError> {
        let password = archive.password.as_ref();
        let mut json = Side::create(part, "json", password, archive.modified)?;
        let mut csv = Side::create(part, "csv", password, archive.modified)?;
        let mut html = Side::create(part, "html", password, archive.modified)?;
        json.archive.start("generations.json", Kind::Text)?;
        json.archive.write_all(b"[\n")?;
        csv.archive.start("generations.csv", Kind::Text)?;
        csv::write_header(&mut csv.archive, &GENERATION_COLUMNS)?;
        html.archive.start("index.html", Kind::Text)?;
        html::write_head(&mut html.archive, profile, exported_at)?;
        Ok(GenerationLists {
            json,
            csv,
            html,
            line: Vec::with_capacity(4096),
        })
    }

    /// Lists one generation in all three files; `first` is whether it is the first.
    fn write(
        &mut self,
        g: &Generation,
        media: &GenerationMedia,
        first: bool,
    ) -> Result<(), ExportError> {
        let thumbnail_file = media.thumbnail.as_ref().map(|n| format!("media/{n}"));
        let video_file = media.video.as_ref().map(|n| format!("media/{n}"));
        if !first {
            self.json.archive.write_all(b",\n")?;
        }
        self.line.clear();
        serde_json::to_writer(
            &mut self.line,
            &ExportedGeneration {
                generation: g,
                thumbnail_file: thumbnail_file.as_deref(),
                video_file: video_file.as_deref(),
            },
        )
        .map_err(io::Error::from)?;
        self.json.archive.write_all(&self.line)?;
        write_generation_row(
            &mut self.csv.archive,
            g,
            thumbnail_file.as_deref(),
            video_file.as_deref(),
        )?;
        // The page lives next to media/: its links are relative to it.
        html::write_item(
            &mut self.html.archive,
            g,
            media.thumbnail.as_deref(),
            media.video.as_deref(),
            first,
            &mut self.line,
        )?;
        Ok(())
    }

    /// Writes each file's end and merges the three into `main`.
    fn merge_into(mut self, main: &mut Archive, monitor: &Monitor<'_>) -> Result<(), ExportError> {
        self.json.archive.write_all(b"\n]\n")?;
        html::write_tail(&mut self.html.archive)?;
        for side in [self.json, self.csv, self.html] {
            monitor.check()?;
            side.merge_into(main)?;
        }
        Ok(())
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Manifest<'a> {
    schema_version: u32,
    exported_at: &'a str,
    app: &'a str,
    encrypted: bool,
    counts: Counts,
    files: Vec<ManifestFile<'a>>,
}

#[derive(Serialize)]
struct ManifestFile<'a> {
    path: &'a str,
    bytes: u64,
    sha256: String,
}

/// One of the files that list every generation, written into a temporary zip of its own
/// (next to the `.part` file, encrypted like the export) while the other two are written, then
/// merged into the export as is (no second compression). Removed when dropped.
struct Side {
    path: PathBuf,
    archive: Archive,
}

impl Side {
    fn create(
        part: &Path,
        suffix: &str,
        password: Option<&SecretString>,
        modified: zip::DateTime,
    ) -> Result<Side, ExportError> {
        let mut path = part.as_os_str().to_owned();
        path.push(format!("-{suffix}"));
        let path = PathBuf::from(path);
        let file = private_file(&path)?;
        let password = password.map(|p| SecretString::new(p.expose().clone()));
        Ok(Side {
            archive: Archive::new(file, password, modified),
            path,
        })
    }

    /// Ends the side zip and copies its file into `main`, listing it there.
    fn merge_into(mut self, main: &mut Archive) -> Result<(), ExportError> {
        self.archive.finish_file()?;
        self.archive.close(false)?;
        let side = zip::ZipArchive::new(io::BufReader::new(File::open(&self.path)?))?;
        main.zip()?.merge_archive(side)?;
        main.listed.append(&mut self.archive.listed);
        Ok(())
    }
}

impl Drop for Side {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// How a file is stored in the zip.
#[derive(Clone, Copy)]
enum Kind {
    /// Never encrypted: says what the archive is.
    Readme,
    /// Text, compressed.
    Text,
    /// Already compressed media of this many bytes: stored as is.
    Media(u64),
}

/// A file listed in the manifest.
struct Listed {
    path: String,
    bytes: u64,
    sha256: [u8; 32],
}

/// A zip being written, hashing and measuring each file's bytes as they go in.
struct Archive {
    zip: Option<ZipWriter<Counting<BufWriter<File>>>>,
    written: Arc<AtomicU64>,
    password: Option<SecretString>,
    modified: zip::DateTime,
    listed: Vec<Listed>,
    /// Bytes written but not yet passed on to the zip (see `write`).
    pending: Vec<u8>,
    /// The name, running hash and size of the file being written.
    current: Option<(String, Sha256, u64)>,
}

impl Archive {
    fn new(file: File, password: Option<SecretString>, modified: zip::DateTime) -> Archive {
        let written = Arc::new(AtomicU64::new(0));
        let sink = Counting {
            inner: BufWriter::with_capacity(256 * 1024, file),
            position: 0,
            end: Arc::clone(&written),
        };
        Archive {
            zip: Some(ZipWriter::new(sink)),
            written,
            password,
            modified,
            listed: Vec::new(),
            pending: Vec::with_capacity(PENDING),
            current: None,
        }
    }

    /// Bytes of the zip written so far.
    fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    fn zip(&mut self) -> io::Result<&mut ZipWriter<Counting<BufWriter<File>>>> {
        self.zip
            .as_mut()
            .ok_or_else(|| io::Error::other("the export was already closed"))
    }

    fn start(&mut self, name: &str, kind: Kind) -> Result<(), ExportError> {
        let options: FileOptions<'_, ()> = SimpleFileOptions::default()
            .last_modified_time(self.modified)
            .unix_permissions(0o644);
        let options = match kind {
            Kind::Readme | Kind::Text => options
                .compression_method(CompressionMethod::Deflated)
                .compression_level(Some(1)),
            Kind::Media(size) => options
                .compression_method(CompressionMethod::Stored)
                .large_file(size >= u64::from(u32::MAX)),
        };
        let options = match (&self.password, kind) {
            (Some(password), Kind::Text | Kind::Media(_)) => {
                options.with_aes_encryption(AesMode::Aes256, password.expose())
            }
            _ => options,
        };
        self.zip
            .as_mut()
            .ok_or_else(|| io::Error::other("the export was already closed"))?
            .start_file(name, options)?;
        self.current = Some((name.to_string(), Sha256::new(), 0));
        Ok(())
    }

    /// Sends what `write` gathered on to the zip.
    fn drain(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            let pending = std::mem::take(&mut self.pending);
            let result = self.pass_on(&pending);
            self.pending = pending;
            self.pending.clear();
            result?;
        }
        Ok(())
    }

    /// Writes `bytes` into the current zip file, hashing and counting them.
    fn pass_on(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.zip()?.write_all(bytes)?;
        if let Some((_, hasher, size)) = self.current.as_mut() {
            hasher.update(bytes);
            *size += bytes.len() as u64;
        }
        Ok(())
    }

    fn finish_file(&mut self) -> io::Result<()> {
        self.drain()?;
        if let Some((path, hasher, bytes)) = self.current.take() {
            self.listed.push(Listed {
                path,
                bytes,
                sha256: hasher.finalize().into(),
            });
        }
        Ok(())
    }

    fn file(
        &mut self,
        name: &str,
        kind: Kind,
        body: impl FnOnce(&mut Self) -> io::Result<()>,
    ) -> Result<(), ExportError> {
        self.start(name, kind)?;
        body(self)?;
        self.finish_file()?;
        Ok(())
    }

    /// Finishes the zip; with `durable`, makes its encrypted entries AE-2 (see [`make_ae2`])
    /// and makes sure it is on disk.
    fn close(&mut self, durable: bool) -> Result<(), ExportError> {
        let zip = self
            .zip
            .take()
            .ok_or_else(|| io::Error::other("the export was already closed"))?;
        let sink = zip.finish()?;
        let mut file = sink
            .inner
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        if durable {
            if self.password.is_some() {
                make_ae2(&mut file)?;
            }
            file.sync_all()?;
        }
        Ok(())
    }
}

impl Write for Archive {
    /// Small writes (a CSV field, a comma) are gathered into `pending`: the zip's deflater and
    /// the hasher are called per 64 KiB, not per field.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.pending.len() + buf.len() > PENDING {
            self.drain()?;
        }
        if buf.len() >= PENDING {
            self.pass_on(buf)?;
        } else {
            self.pending.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain()?;
        self.zip()?.flush()
    }
}

/// The AES extra field's header id (WinZip's AES specification).
const AES_EXTRA_ID: u16 = 0x9901;

/// Turns every AES entry of the zip in `file` into AE-2: the zip crate writes an entry of 20
/// bytes or more as AE-1, which keeps the CRC-32 of the plaintext readable without the
/// password. A CRC of a small or predictable file tells whether a guess of its content is
/// right, which is why WinZip made AE-2 (the content is still authenticated by the AES
/// entry's HMAC-SHA1). So the CRC fields become 0 and the AES field's vendor version 2, in
/// the local header and in the central directory of each entry.
fn make_ae2(file: &mut File) -> Result<(), ExportError> {
    let mut headers = Vec::new();
    {
        let mut zip = zip::ZipArchive::new(io::BufReader::new(&*file))?;
        for index in 0..zip.len() {
            let entry = zip.by_index_raw(index)?;
            if entry.encrypted() {
                headers.push((entry.header_start(), entry.central_header_start()));
            }
        }
    }
    for (local, central) in headers {
        make_header_ae2(file, local, HeaderLayout::LOCAL)?;
        make_header_ae2(file, central, HeaderLayout::CENTRAL)?;
    }
    Ok(())
}

/// Where a zip header keeps what [`make_ae2`] changes.
struct HeaderLayout {
    /// The length of its fixed part, after which come the name and the extra field.
    fixed: usize,
    method: usize,
    crc: usize,
    name_length: usize,
    extra_length: usize,
}

impl HeaderLayout {
    const LOCAL: HeaderLayout = HeaderLayout {
        fixed: 30,
        method: 8,
        crc: 14,
        name_length: 26,
        extra_length: 28,
    };
    const CENTRAL: HeaderLayout = HeaderLayout {
        fixed: 46,
        method: 10,
        crc: 16,
        name_length: 28,
        extra_length: 30,
    };
}

/// The compression method of an AES entry's headers; the real one is in its AES field.
const AES_METHOD: u16 = 99;

/// Makes the header at `start` AE-2: its CRC 0, its AES field's vendor version 2, and its
/// method 99 (the zip crate writes the real method into the headers of entries merged from
/// another zip, which archivers then take for old ZipCrypto).
fn make_header_ae2(file: &mut File, start: u64, layout: HeaderLayout) -> io::Result<()> {
    let mut fixed = vec![0u8; layout.fixed];
    file.seek(SeekFrom::Start(start))?;
    file.read_exact(&mut fixed)?;
    let length = |at: usize| u64::from(u16::from_le_bytes([fixed[at], fixed[at + 1]]));
    let extra_start = start + layout.fixed as u64 + length(layout.name_length);
    let mut extra = vec![0u8; length(layout.extra_length) as usize];
    file.seek(SeekFrom::Start(extra_start))?;
    file.read_exact(&mut extra)?;
    if !set_ae2_version(&mut extra) {
        return Err(io::Error::other("an encrypted entry has no AES field"));
    }
    file.seek(SeekFrom::Start(extra_start))?;
    file.write_all(&extra)?;
    file.seek(SeekFrom::Start(start + layout.method as u64))?;
    file.write_all(&AES_METHOD.to_le_bytes())?;
    file.seek(SeekFrom::Start(start + layout.crc as u64))?;
    file.write_all(&0u32.to_le_bytes())
}

/// Sets the vendor version of the AES field in a zip extra field (`[id, size, data]` blocks,
/// little-endian) to 2 (AE-2); whether there was one.
fn set_ae2_version(extra: &mut [u8]) -> bool {
    let mut at = 0;
    while at + 4 <= extra.len() {
        let id = u16::from_le_bytes([extra[at], extra[at + 1]]);
        let size = usize::from(u16::from_le_bytes([extra[at + 2], extra[at + 3]]));
        let data = at + 4;
        if id == AES_EXTRA_ID && size >= 7 && data + size <= extra.len() {
            extra[data..data + 2].copy_from_slice(&2u16.to_le_bytes());
            return true;
        }
        at = data + size;
    }
    false
}

/// Passes writes through and publishes how far the file reaches (the zip seeks back to patch
/// headers, so the end is the furthest position written, not the sum of writes).
struct Counting<W> {
    inner: W,
    position: u64,
    end: Arc<AtomicU64>,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.position += n as u64;
        self.end.fetch_max(self.position, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write + Seek> Seek for Counting<W> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.position = self.inner.seek(pos)?;
        Ok(self.position)
    }
}

fn write_generation_row(
    w: &mut impl Write,
    g: &Generation,
    thumbnail_file: Option<&str>,
    video_file: Option<&str>,
) -> io::Result<()> {
    let s = &g.settings;
    let voice = s.voice_over.as_ref();
    csv::write_row(
        w,
        &[
            Text(&g.id),
            Text(&g.created_at),
            Text(&g.updated_at),
            Text(g.status.as_str()),
            Decimal(g.progress),
            Text(g.mode.as_str()),
            Text(&g.prompt),
            Integer(i64::from(s.duration_seconds)),
            Text(s.resolution.as_str()),
            Text(s.aspect_ratio.as_str()),
            Text(s.style_preset.as_deref().unwrap_or("")),
            Text(&s.subject.map(|v| format!("{v:?}")).unwrap_or_default()),
            Text(&s.pacing.map(|v| format!("{v:?}")).unwrap_or_default()),
            Text(voice.map(|v| v.language.as_str()).unwrap_or("")),
            Text(voice.map(|v| v.voice.as_str()).unwrap_or("")),
            Text(voice.and_then(|v| v.script.as_deref()).unwrap_or("")),
            Text(bool_text(s.music)),
            Text(bool_text(s.subtitles)),
            Text(&serde_json::to_string(&g.references).map_err(io::Error::from)?),
            Integer(g.credits_charged),
            Text(g.output_url.as_deref().unwrap_or("")),
            Text(g.thumbnail_url.as_deref().unwrap_or("")),
            Text(g.error.as_deref().unwrap_or("")),
            Text(bool_text(g.deleted)),
            Text(g.deleted_at.as_deref().unwrap_or("")),
            Text(thumbnail_file.unwrap_or("")),
            Text(video_file.unwrap_or("")),
            Text(&serde_json::to_string(s).map_err(io::Error::from)?),
        ],
    )
}

/// A flag as the CSV files write it.
fn bool_text(flag: bool) -> &'static str {
    if flag {
        "true"
    } else {
        "false"
    }
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn private_file(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    // Read too: the finished zip is read back to make its AES entries AE-2.
    options.read(true).write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}
