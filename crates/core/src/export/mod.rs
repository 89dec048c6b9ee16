//! The one-click export: everything stored about the user, in files anyone can read.
//!
//! The zip is written as a `.part` file and renamed when complete, so a crash or a full disk
//! never leaves something that looks like a finished export. Generations are streamed from the
//! store one at a time, so memory does not grow with the history. `manifest.json` is written
//! last and lists the SHA-256 of every other file, so an export can be verified later.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::ZipWriter;

use crate::model::Generation;
use crate::store::{Store, StoreError};

/// Bumped whenever a file's layout changes.
pub const EXPORT_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("The export could not be written: {0}")]
    Io(#[from] io::Error),
    #[error("The export could not be written: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ExportError {
    pub fn code(&self) -> &'static str {
        match self {
            ExportError::Io(e) if e.raw_os_error() == Some(28) => "export.disk_full",
            ExportError::Io(_) | ExportError::Zip(_) => "export.write_failed",
            ExportError::Store(e) => e.code(),
        }
    }
}

/// Where the export went and how big it is.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportSummary {
    pub path: PathBuf,
    pub folder: PathBuf,
    pub files: usize,
    pub bytes: u64,
}

const README: &str = "\
Your Cleom data, exported by Cleom Desktop.

profile.json        your account: email, display name, credit balance, analytics choice
generations.json    every generation with every setting, status and timestamp (JSON)
generations.csv     the same, one row per generation (UTF-8, RFC 4180)
credit-ledger.csv   every credit movement: grants, charges, refunds, purchases
media/              the thumbnail of each generation, named by its id
manifest.json       the export's schema version, time, counts, and the SHA-256 of every file
";

const GENERATION_COLUMNS: &str = "id,created_at,updated_at,status,mode,prompt,duration_seconds,resolution,aspect_ratio,style_preset,subject,pacing,voice_over_language,voice_over_voice,voice_over_script,music,subtitles,credits_charged,output_url,thumbnail_url,error";

/// Writes `cleom-export-<time>.zip` into `folder` (created if needed) and returns its summary.
pub fn write_zip(store: &Store, folder: &Path) -> Result<ExportSummary, ExportError> {
    std::fs::create_dir_all(folder)?;
    let stamp = time::OffsetDateTime::now_utc();
    let name = format!(
        "cleom-export-{:04}{:02}{:02}-{:02}{:02}{:02}.zip",
        stamp.year(),
        u8::from(stamp.month()),
        stamp.day(),
        stamp.hour(),
        stamp.minute(),
        stamp.second()
    );
    let path = folder.join(&name);
    let part = folder.join(format!("{name}.part"));
    let result = write_to(store, &part);
    match result {
        Ok(files) => {
            std::fs::rename(&part, &path)?;
            let bytes = std::fs::metadata(&path)?.len();
            Ok(ExportSummary {
                path,
                folder: folder.to_path_buf(),
                files,
                bytes,
            })
        }
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            Err(e)
        }
    }
}

fn write_to(store: &Store, part: &Path) -> Result<usize, ExportError> {
    let file = private_file(part)?;
    let mut zip = Archive {
        zip: ZipWriter::new(BufWriter::new(file)),
        hashes: Vec::new(),
        current: None,
    };

    zip.file("README.txt", |w| w.write_all(README.as_bytes()))?;
    let profile = store.profile()?;
    zip.file("profile.json", |w| {
        serde_json::to_writer_pretty(&mut *w, &profile).map_err(io::Error::from)
    })?;

    let mut generations = 0u64;
    zip.start("generations.json")?;
    zip.write_all(b"[\n")?;
    let mut ids_with_thumbnails = Vec::new();
    store.for_each_generation(|g: Generation| -> Result<(), ExportError> {
        if generations > 0 {
            zip.write_all(b",\n")?;
        }
        serde_json::to_writer_pretty(&mut zip, &g).map_err(io::Error::from)?;
        generations += 1;
        if g.thumbnail_url.is_some() {
            ids_with_thumbnails.push(g.id.clone());
        }
        Ok(())
    })?;
    zip.write_all(b"\n]\n")?;
    zip.finish_file();

    zip.start("generations.csv")?;
    zip.write_all(GENERATION_COLUMNS.as_bytes())?;
    zip.write_all(b"\r\n")?;
    store.for_each_generation(|g: Generation| -> Result<(), ExportError> {
        Ok(write_generation_row(&mut zip, &g)?)
    })?;
    zip.finish_file();

    let ledger = store.ledger()?;
    zip.file("credit-ledger.csv", |w| {
        w.write_all(b"id,created_at,amount,reason,generation_id,balance_after\r\n")?;
        for e in &ledger {
            write_row(
                w,
                &[
                    &e.id,
                    &e.created_at,
                    &e.amount.to_string(),
                    &e.reason,
                    e.generation_id.as_deref().unwrap_or(""),
                    &e.balance_after.to_string(),
                ],
            )?;
        }
        Ok(())
    })?;

    let mut media = 0u64;
    for id in &ids_with_thumbnails {
        if let Some((mime, bytes)) = store.thumbnail(id)? {
            let ext = if mime == "image/png" { "png" } else { "bin" };
            zip.file(&format!("media/{id}.{ext}"), |w| w.write_all(&bytes))?;
            media += 1;
        }
    }

    let manifest = serde_json::json!({
        "schemaVersion": EXPORT_SCHEMA_VERSION,
        "exportedAt": crate::now_rfc3339(),
        "counts": {
            "generations": generations,
            "creditLedgerEntries": ledger.len(),
            "mediaFiles": media,
        },
        "files": zip.hashes.iter().map(|(name, hash)| serde_json::json!({"path": name, "sha256": hash})).collect::<Vec<_>>(),
    });
    let files = zip.hashes.len() + 1;
    zip.file("manifest.json", |w| {
        serde_json::to_writer_pretty(&mut *w, &manifest).map_err(io::Error::from)
    })?;
    let mut inner = zip.zip.finish()?;
    inner.flush()?;
    inner.get_ref().sync_all()?;
    Ok(files)
}

/// A zip being written, hashing each file's bytes as they go in.
struct Archive {
    zip: ZipWriter<BufWriter<File>>,
    hashes: Vec<(String, String)>,
    /// The name and running hash of the file being written.
    current: Option<(String, Sha256)>,
}

impl Archive {
    fn start(&mut self, name: &str) -> Result<(), ExportError> {
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        self.zip.start_file(name, options)?;
        self.current = Some((name.to_string(), Sha256::new()));
        Ok(())
    }

    fn finish_file(&mut self) {
        if let Some((name, hasher)) = self.current.take() {
            self.hashes.push((name, hex::encode(hasher.finalize())));
        }
    }

    fn file(
        &mut self,
        name: &str,
        body: impl FnOnce(&mut Self) -> io::Result<()>,
    ) -> Result<(), ExportError> {
        self.start(name)?;
        body(self)?;
        self.finish_file();
        Ok(())
    }
}

impl Write for Archive {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.zip.write(buf)?;
        if let Some((_, hasher)) = self.current.as_mut() {
            hasher.update(&buf[..n]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.zip.flush()
    }
}

fn write_generation_row(w: &mut impl Write, g: &Generation) -> io::Result<()> {
    let s = &g.settings;
    let voice = s.voice_over.as_ref();
    write_row(
        w,
        &[
            &g.id,
            &g.created_at,
            &g.updated_at,
            g.status.as_str(),
            g.mode.as_str(),
            &g.prompt,
            &s.duration_seconds.to_string(),
            s.resolution.as_str(),
            s.aspect_ratio.as_str(),
            s.style_preset.as_deref().unwrap_or(""),
            &s.subject.map(|v| format!("{v:?}")).unwrap_or_default(),
            &s.pacing.map(|v| format!("{v:?}")).unwrap_or_default(),
            voice.map(|v| v.language.as_str()).unwrap_or(""),
            voice.map(|v| v.voice.as_str()).unwrap_or(""),
            voice.and_then(|v| v.script.as_deref()).unwrap_or(""),
            &s.music.to_string(),
            &s.subtitles.to_string(),
            &g.credits_charged.to_string(),
            g.output_url.as_deref().unwrap_or(""),
            g.thumbnail_url.as_deref().unwrap_or(""),
            g.error.as_deref().unwrap_or(""),
        ],
    )
}

/// One RFC 4180 record: fields with a comma, quote or line break are quoted, quotes doubled.
fn write_row(w: &mut impl Write, fields: &[&str]) -> io::Result<()> {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        if field.contains([',', '"', '\r', '\n']) {
            w.write_all(b"\"")?;
            w.write_all(field.replace('"', "\"\"").as_bytes())?;
            w.write_all(b"\"")?;
        } else {
            w.write_all(field.as_bytes())?;
        }
    }
    w.write_all(b"\r\n")
}

fn private_file(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(fields: &[&str]) -> String {
        let mut out = Vec::new();
        write_row(&mut out, fields).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(row(&["a", "b c"]), "a,b c\r\n");
        assert_eq!(
            row(&["x,y", "say \"hi\"", "two\nlines"]),
            "\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
        );
        assert_eq!(row(&["café ☕"]), "café ☕\r\n");
    }
}
