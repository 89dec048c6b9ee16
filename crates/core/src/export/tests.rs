//! Whole exports of a real (encrypted) store, read back with a zip reader.

use std::collections::BTreeSet;
use std::io::Read;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use super::*;
use crate::model::{LedgerEntry, Mode, Profile, Purchase, Settings, Status};
use crate::secret::DatabaseKey;

const EVIL: &str = "</script><img src=x onerror=alert(1)> ../../etc/passwd";

fn generation(id: &str, prompt: &str, second: u32, status: Status) -> Generation {
    let at = format!("2024-01-01T00:00:{second:02}Z");
    Generation {
        id: id.into(),
        prompt: prompt.into(),
        mode: Mode::TextToVideo,
        settings: Settings::default(),
        references: Vec::new(),
        status,
        progress: 1.0,
        credits_charged: 700,
        output_url: (status == Status::Succeeded)
            .then(|| format!("http://127.0.0.1:1/api/v1/media/t{id}/clip.gif")),
        thumbnail_url: Some(format!("http://127.0.0.1:1/api/v1/media/t{id}/poster.png")),
        error: None,
        created_at: at.clone(),
        updated_at: at,
        deleted: false,
        deleted_at: None,
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    store: Store,
    key: DatabaseKey,
}

/// A store with three generations (one with a hostile prompt, one in Japanese, one failed),
/// thumbnails for the first two, two ledger entries and a purchase.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let key = DatabaseKey::generate().unwrap();
    let mut store = Store::create(&dir.path().join("history.db"), &key).unwrap();
    store
        .put_profile(&Profile {
            uid: "u1".into(),
            email: "ada@example.com".into(),
            display_name: Some("Ada".into()),
            credit_balance: 1200,
            analytics_opt_in: false,
            created_at: "2024-01-01T00:00:00Z".into(),
            updated_at: "2024-01-01T00:00:00Z".into(),
        })
        .unwrap();
    store
        .upsert_generations(&[
            generation("g1", EVIL, 1, Status::Succeeded),
            generation("g2", "東京の夜, \"neon\"\nrain", 2, Status::Succeeded),
            generation("g3", "a failed one", 3, Status::Failed),
        ])
        .unwrap();
    for id in ["g1", "g2"] {
        let png = [b"\x89PNG\r\n\x1a\n".as_slice(), id.as_bytes()].concat();
        assert!(store.put_thumbnail(id, "image/png", &png).unwrap());
    }
    let entry = |id: &str, amount: i64, reason: &str, balance: i64| LedgerEntry {
        id: id.into(),
        amount,
        reason: reason.into(),
        generation_id: None,
        balance_after: balance,
        created_at: "2024-01-01T00:00:00Z".into(),
        updated_at: "2024-01-01T00:00:00Z".into(),
    };
    store
        .upsert_ledger(&[
            entry("l1", 2000, "signup_grant", 2000),
            entry("l2", -800, "generation", 1200),
        ])
        .unwrap();
    store
        .upsert_purchases(&[Purchase {
            id: "p1".into(),
            credits: 1000,
            amount_cents: 999,
            currency: "EUR".into(),
            created_at: "2024-01-01T00:00:00Z".into(),
            updated_at: "2024-01-01T00:00:00Z".into(),
        }])
        .unwrap();
    Fixture { dir, store, key }
}

fn run(
    store: &Store,
    dest: &Path,
    options: &ExportOptions,
    videos: Option<&Path>,
) -> Result<ExportSummary, ExportError> {
    let cancel = AtomicBool::new(false);
    write_zip(
        store,
        dest,
        options,
        videos,
        &Monitor::new(&|_| {}, &cancel),
    )
}

fn read(zip: &mut zip::ZipArchive<File>, name: &str, password: Option<&str>) -> Vec<u8> {
    let mut file = match password {
        Some(p) => zip.by_name_decrypt(name, p.as_bytes()),
        None => zip.by_name(name),
    }
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).unwrap();
    bytes
}

fn text(zip: &mut zip::ZipArchive<File>, name: &str) -> String {
    String::from_utf8(read(zip, name, None)).unwrap()
}

fn open_zip(path: &Path) -> zip::ZipArchive<File> {
    zip::ZipArchive::new(File::open(path).unwrap()).unwrap()
}

#[test]
fn an_export_holds_every_file_and_verifies() {
    let f = fixture();
    let dest = f.dir.path().join("out").join("export.zip");
    let summary = run(&f.store, &dest, &ExportOptions::default(), None).unwrap();
    assert_eq!(summary.path, dest);
    assert!(!summary.encrypted);
    assert_eq!(
        summary.counts,
        Counts {
            generations: 3,
            credit_ledger_entries: 2,
            purchases: 1,
            thumbnails: 2,
            videos: 0,
            media_files: 2,
        }
    );
    assert!(!f.dir.path().join("out").join("export.zip.part").exists());

    let mut zip = open_zip(&dest);
    let names: BTreeSet<&str> = zip.file_names().collect();
    let evil_png = format!("media/{}", safe_file_name(EVIL, "g1", "png"));
    assert_eq!(
        evil_png,
        "media/script-img-src-x-onerror-alert-1-etc-passwd-g1.png"
    );
    let expected: BTreeSet<&str> = [
        "README.txt",
        "profile.json",
        "generations.json",
        "generations.csv",
        "index.html",
        "credit-ledger.csv",
        "purchases.csv",
        "manifest.json",
        evil_png.as_str(),
        "media/東京の夜-neon-rain-g2.png",
    ]
    .into_iter()
    .collect();
    assert_eq!(names, expected);
    assert_eq!(summary.files, expected.len());

    // generations.json: every field, as typed, with the names of its files.
    let json: serde_json::Value =
        serde_json::from_slice(&read(&mut zip, "generations.json", None)).unwrap();
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["prompt"], EVIL);
    assert_eq!(rows[0]["thumbnailFile"], evil_png.as_str());
    assert_eq!(rows[0]["settings"]["durationSeconds"], 10);
    assert_eq!(rows[2]["thumbnailFile"], serde_json::Value::Null);
    let back: Generation = serde_json::from_value(rows[1].clone()).unwrap();
    assert_eq!(back, f.store.generation("g2").unwrap().unwrap());

    // generations.csv: a header of every column, one RFC 4180 record per generation.
    let csv = text(&mut zip, "generations.csv");
    assert!(csv.starts_with(&format!("{}\r\n", GENERATION_COLUMNS.join(","))));
    assert!(csv.contains("\"東京の夜, \"\"neon\"\"\nrain\""));
    assert_eq!(csv.matches("\r\n").count(), 4);

    let ledger = text(&mut zip, "credit-ledger.csv");
    assert!(
        ledger.contains("l2,2024-01-01T00:00:00Z,2024-01-01T00:00:00Z,-800,generation,,1200\r\n")
    );
    let purchases = text(&mut zip, "purchases.csv");
    assert_eq!(
        purchases,
        "id,created_at,updated_at,credits,amount_cents,currency\r\np1,2024-01-01T00:00:00Z,2024-01-01T00:00:00Z,1000,999,EUR\r\n"
    );
    let profile: serde_json::Value =
        serde_json::from_slice(&read(&mut zip, "profile.json", None)).unwrap();
    assert_eq!(profile["email"], "ada@example.com");

    // index.html: the hostile prompt is data, the thumbnails are linked relatively.
    let html = text(&mut zip, "index.html");
    assert_eq!(html.matches("<script").count(), 2);
    assert!(!html.contains("<img src=x"));
    assert!(html.contains("\"thumbnail\":\"script-img-src-x-onerror-alert-1-etc-passwd-g1.png\""));
    assert!(html.contains("\\u003c/script\\u003e\\u003cimg"));

    let manifest: serde_json::Value =
        serde_json::from_slice(&read(&mut zip, "manifest.json", None)).unwrap();
    assert_eq!(manifest["schemaVersion"], EXPORT_SCHEMA_VERSION);
    assert_eq!(manifest["counts"]["generations"], 3);
    assert_eq!(
        manifest["files"].as_array().unwrap().len(),
        expected.len() - 1
    );
    for file in manifest["files"].as_array().unwrap() {
        let name = file["path"].as_str().unwrap();
        let bytes = read(&mut zip, name, None);
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            file["sha256"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(
            bytes.len() as u64,
            file["bytes"].as_u64().unwrap(),
            "{name}"
        );
    }

    let report = verify(&dest, None).unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!(report.files_checked, expected.len() - 1);
    assert_eq!(report.counts, summary.counts);
}

#[test]
fn an_export_never_replaces_a_file() {
    let f = fixture();
    let dest = f.dir.path().join("taken.zip");
    std::fs::write(&dest, b"precious").unwrap();
    let err = run(&f.store, &dest, &ExportOptions::default(), None).unwrap_err();
    assert_eq!(err.code(), "export.exists");
    assert_eq!(std::fs::read(&dest).unwrap(), b"precious");

    let first = unique_export_path(f.dir.path(), false).unwrap();
    std::fs::write(&first, b"x").unwrap();
    let second = unique_export_path(f.dir.path(), false).unwrap();
    assert_ne!(first, second);
    assert!(
        second.to_string_lossy().ends_with("-2.zip"),
        "{}",
        second.display()
    );
}

#[test]
fn a_canceled_export_leaves_nothing_behind() {
    let f = fixture();
    let folder = f.dir.path().join("exports");
    let dest = folder.join("export.zip");
    let cancel = AtomicBool::new(false);
    let seen = Mutex::new(Vec::new());
    let progress = |p: ExportProgress| {
        seen.lock().unwrap().push(p);
        if p.step == ExportStep::Generations {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let err = write_zip(
        &f.store,
        &dest,
        &ExportOptions::default(),
        None,
        &Monitor::new(&progress, &cancel),
    )
    .unwrap_err();
    assert_eq!(err.code(), "export.canceled");
    let left: Vec<_> = std::fs::read_dir(&folder).unwrap().collect();
    assert!(left.is_empty(), "no zip, no .part, no side file: {left:?}");
    let seen = seen.lock().unwrap();
    assert!(seen
        .iter()
        .any(|p| p.step == ExportStep::Generations && p.items_done == 3 && p.items_total == 3));
    assert!(seen
        .windows(2)
        .all(|w| w[0].bytes_written <= w[1].bytes_written));
}

#[test]
fn progress_ends_with_the_whole_zip() {
    let f = fixture();
    let dest = f.dir.path().join("export.zip");
    let cancel = AtomicBool::new(false);
    let last = Mutex::new(None);
    let progress = |p: ExportProgress| *last.lock().unwrap() = Some(p);
    let summary = write_zip(
        &f.store,
        &dest,
        &ExportOptions::default(),
        None,
        &Monitor::new(&progress, &cancel),
    )
    .unwrap();
    let last = last.lock().unwrap().unwrap();
    assert_eq!(last.step, ExportStep::Finishing);
    assert_eq!((last.items_done, last.items_total), (1, 1));
    assert_eq!(last.bytes_written, summary.bytes);
}

#[test]
fn a_history_that_changes_during_the_export_is_exported_as_it_was() {
    let f = fixture();
    // Another process (the app while the CLI exports) writes through its own connection.
    let mut other = Store::open(&f.dir.path().join("history.db"), &f.key).unwrap();
    let dest = f.dir.path().join("export.zip");
    let cancel = AtomicBool::new(false);
    let wrote = AtomicBool::new(false);
    let other = Mutex::new(&mut other);
    let progress = |p: ExportProgress| {
        if p.step == ExportStep::Generations && !wrote.swap(true, Ordering::Relaxed) {
            let g = generation("g9", "sneaked in", 9, Status::Succeeded);
            other.lock().unwrap().upsert_generations(&[g]).unwrap();
        }
    };
    let monitor = Monitor::new(&progress, &cancel);
    let summary = write_zip(&f.store, &dest, &ExportOptions::default(), None, &monitor).unwrap();
    assert!(wrote.load(Ordering::Relaxed));
    assert_eq!(
        summary.counts.generations, 3,
        "one snapshot: the new one is not half in"
    );
    let report = verify(&dest, None).unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
}

#[test]
fn downloaded_clips_are_included_as_they_are() {
    let f = fixture();
    let clips = f.dir.path().join("clips");
    std::fs::create_dir(&clips).unwrap();
    let g1 = f.store.generation("g1").unwrap().unwrap();
    let clip = b"GIF89a fake clip bytes".repeat(1000);
    std::fs::write(clips.join(clip_cache_name(&g1).unwrap()), &clip).unwrap();
    assert_eq!(clip_cache_name(&g1).unwrap(), "g1.gif");
    // A leftover partial download and a failed generation's name are not included.
    std::fs::write(clips.join("g2.gif.part"), b"partial").unwrap();
    std::fs::write(clips.join("g3.gif"), b"not a finished generation").unwrap();

    let dest = f.dir.path().join("export.zip");
    let options = ExportOptions {
        include_videos: true,
        password: None,
        only: None,
    };
    let summary = run(&f.store, &dest, &options, Some(&clips)).unwrap();
    assert_eq!((summary.counts.videos, summary.counts.media_files), (1, 3));
    let mut zip = open_zip(&dest);
    let name = format!("media/{}", safe_file_name(EVIL, "g1", "gif"));
    assert_eq!(read(&mut zip, &name, None), clip);
    assert_eq!(
        zip.by_name(&name).unwrap().compression(),
        CompressionMethod::Stored
    );
    let json: serde_json::Value =
        serde_json::from_slice(&read(&mut zip, "generations.json", None)).unwrap();
    assert_eq!(json[0]["videoFile"], name.as_str());
    assert_eq!(json[1]["videoFile"], serde_json::Value::Null);
    assert!(text(&mut zip, "index.html").contains(&format!(
        "\"video\":\"{}\"",
        name.trim_start_matches("media/")
    )));
    assert!(verify(&dest, None).unwrap().is_ok());
}

/// Exporting a Library selection: only those generations, their media and rows; the account's
/// profile, ledger and purchases as always; the manifest counts and verifies.
#[test]
fn a_selection_exports_only_its_generations() {
    let f = fixture();
    let dest = f.dir.path().join("selection.zip");
    let options = ExportOptions {
        include_videos: false,
        password: None,
        only: Some(["g2".to_string(), "g3".to_string(), "gone".to_string()].into()),
    };
    let summary = run(&f.store, &dest, &options, None).unwrap();
    assert_eq!(summary.counts.generations, 2);
    assert_eq!(summary.counts.thumbnails, 1);
    let mut zip = open_zip(&dest);
    let json: serde_json::Value =
        serde_json::from_slice(&read(&mut zip, "generations.json", None)).unwrap();
    let mut ids: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["g2", "g3"]);
    let csv = text(&mut zip, "generations.csv");
    assert!(!csv.contains("g1,") && csv.contains("g2") && csv.contains("g3"));
    assert!(!text(&mut zip, "index.html").contains("\"g1\""));
    assert!(text(&mut zip, "credit-ledger.csv").contains("signup_grant"));
    assert!(text(&mut zip, "purchases.csv").contains("EUR"));
    assert!(verify(&dest, None).unwrap().is_ok());
}

#[test]
fn a_password_protected_export_opens_only_with_its_password() {
    let f = fixture();
    let dest = f.dir.path().join("secret-encrypted.zip");
    let options = ExportOptions {
        include_videos: false,
        password: Some(SecretString::new("correct horse".into())),
        only: None,
    };
    let summary = run(&f.store, &dest, &options, None).unwrap();
    assert!(summary.encrypted);

    let mut zip = open_zip(&dest);
    // File names are not encrypted by zip, so they carry no prompt.
    let names: Vec<String> = zip.file_names().map(str::to_string).collect();
    assert!(names.contains(&"media/g1.png".to_string()), "{names:?}");
    assert!(names
        .iter()
        .all(|n| !n.contains("script") && !n.contains("東京")));
    // The README says what this is and is the only readable file.
    assert!(text(&mut zip, "README.txt").starts_with("PASSWORD-PROTECTED EXPORT (AES-256)"));
    for name in names.iter().filter(|n| *n != "README.txt") {
        match zip.by_name(name) {
            Err(zip::result::ZipError::UnsupportedArchive(msg)) => {
                assert_eq!(msg, zip::result::ZipError::PASSWORD_REQUIRED)
            }
            Err(e) => panic!("{name}: {e}"),
            Ok(_) => panic!("{name} is readable without the password"),
        }
        assert!(matches!(
            zip.by_name_decrypt(name, b"wrong password"),
            Err(zip::result::ZipError::InvalidPassword)
        ));
    }
    // Nothing personal is visible in the raw bytes either.
    let raw = std::fs::read(&dest).unwrap();
    for needle in ["ada@example.com", "failed one", "neon", "signup_grant"] {
        assert!(
            !raw.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{needle}"
        );
    }
    // With the password everything is there.
    let json: serde_json::Value =
        serde_json::from_slice(&read(&mut zip, "generations.json", Some("correct horse"))).unwrap();
    assert_eq!(json[0]["prompt"], EVIL);

    assert_eq!(
        verify(&dest, None).unwrap_err().code(),
        "export.password_required"
    );
    let wrong = SecretString::new("nope".into());
    assert_eq!(
        verify(&dest, Some(&wrong)).unwrap_err().code(),
        "export.wrong_password"
    );
    let right = SecretString::new("correct horse".into());
    let report = verify(&dest, Some(&right)).unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    assert!(report.encrypted);

    let empty = ExportOptions {
        include_videos: false,
        password: Some(SecretString::new(String::new())),
        only: None,
    };
    let err = run(&f.store, &f.dir.path().join("e.zip"), &empty, None).unwrap_err();
    assert_eq!(err.code(), "export.empty_password");
}

/// Copies the zip at `from` to `to`, with `change` deciding each file's new content (`None`
/// drops it), plus `extra` files.
fn rewrite(
    from: &Path,
    to: &Path,
    change: impl Fn(&str, Vec<u8>) -> Option<Vec<u8>>,
    extra: &[(&str, &[u8])],
) {
    let mut source = open_zip(from);
    let mut out = ZipWriter::new(File::create(to).unwrap());
    for i in 0..source.len() {
        let mut file = source.by_index(i).unwrap();
        let name = file.name().to_string();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).unwrap();
        if let Some(bytes) = change(&name, bytes) {
            out.start_file(name.as_str(), SimpleFileOptions::default())
                .unwrap();
            out.write_all(&bytes).unwrap();
        }
    }
    for (name, bytes) in extra {
        out.start_file(*name, SimpleFileOptions::default()).unwrap();
        out.write_all(bytes).unwrap();
    }
    out.finish().unwrap();
}

#[test]
fn verify_reports_every_difference() {
    let f = fixture();
    let good = f.dir.path().join("good.zip");
    run(&f.store, &good, &ExportOptions::default(), None).unwrap();
    let bad = f.dir.path().join("bad.zip");
    rewrite(
        &good,
        &bad,
        |name, bytes| match name {
            "README.txt" => None,
            "credit-ledger.csv" => Some([bytes.as_slice(), b"l3,x,x,1,forged,,1\r\n"].concat()),
            _ => Some(bytes),
        },
        &[("media/extra.png", b"unlisted"), ("../escape.txt", b"x")],
    );
    let report = verify(&bad, None).unwrap();
    let problems: BTreeSet<String> = report.problems.iter().map(ToString::to_string).collect();
    let expected: BTreeSet<String> = [
        "README.txt: listed but missing",
        "credit-ledger.csv: its content differs from the manifest",
        "media/extra.png: present but not listed in the manifest",
        "../escape.txt: this name would escape the folder it is unpacked into",
        "../escape.txt: present but not listed in the manifest",
        "entries in credit-ledger.csv: the manifest says 2, the files hold 3",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(problems, expected);

    let not_export = f.dir.path().join("plain.zip");
    rewrite(
        &good,
        &not_export,
        |name, b| (name != MANIFEST).then_some(b),
        &[],
    );
    assert_eq!(
        verify(&not_export, None).unwrap_err().code(),
        "export.not_an_export"
    );
}
