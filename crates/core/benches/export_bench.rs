//! Export benchmarks (docs/targets.md, "Performance"). Prints `bench <name> <value> <unit>` lines:
//!
//! - `export_100k s`: the one-click export (no videos, no password) of an encrypted store with
//!   100,000 generations, 100,000 ledger entries and 1,000 stored thumbnails (4 KB each; a real
//!   history has a thumbnail per clip, but their bytes are copied, not computed, so they measure
//!   the disk rather than the export). Median of 3 runs, page cache warm.
//! - `export_100k_peak_rss MB`: the same export in a child process (this binary run again with
//!   `CLEOM_EXPORT_BENCH_CHILD` set), which reports its own peak resident set (`VmHWM` in
//!   `/proc/self/status`) at the end: the whole process that opened the store and exported,
//!   SQLite's page cache and the binary included. A `#` line gives its peak before the export.
//! - `export_media_vs_copy x`: 1 GiB of already-downloaded clips (one incompressible file for
//!   each of the ~90 finished generations of 100) written into an export by the real path
//!   (stored zip entries, CRC-32 and SHA-256 of every byte, fsync) divided by `std::fs::copy` of
//!   the same files into a folder, also fsynced.
//!   Downloading is not measured (it is network-bound). Median of 3 each, page cache warm.
//!
//! `#` lines on stderr give context: the time of each export step, the zip's size.
//! `CLEOM_EXPORT_BENCH_QUICK=1` runs `export_100k` alone.

mod history;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;
use std::time::Instant;

use cleom_core::export::{self, ExportOptions, ExportProgress, ExportStep, Monitor};
use cleom_core::secret::{DatabaseKey, SecretString};
use cleom_core::store::Store;

const GENERATIONS: u64 = 100_000;
const CHILD_ENV: &str = "CLEOM_EXPORT_BENCH_CHILD";
const KEY_ENV: &str = "CLEOM_EXPORT_BENCH_KEY";
const MEDIA_FILES: u64 = 100;
const MEDIA_BYTES: u64 = 1 << 30;

fn main() {
    if let Some(db) = std::env::var_os(CHILD_ENV) {
        return child(Path::new(&db));
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let db = dir.path().join("history.db");
    let key = DatabaseKey::generate().expect("a key");
    let started = Instant::now();
    let store = history::build(&db, &key, GENERATIONS, 100);
    eprintln!(
        "# built a store of {GENERATIONS} generations in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    store
        .for_each_generation(|_| Ok::<(), cleom_core::store::StoreError>(()))
        .expect("a pass");
    eprintln!(
        "# one bare pass over the store (read and decode every generation): {:.2} s",
        started.elapsed().as_secs_f64()
    );

    let mut times = Vec::new();
    let mut zip_bytes = 0;
    for run in 0..3 {
        let dest = dir.path().join(format!("export-{run}.zip"));
        let steps = Mutex::new(Vec::<(ExportStep, Instant)>::new());
        let on_progress = |p: ExportProgress| {
            let mut steps = steps.lock().expect("steps");
            if steps.last().is_none_or(|(step, _)| *step != p.step) {
                steps.push((p.step, Instant::now()));
            }
        };
        let cancel = AtomicBool::new(false);
        let started = Instant::now();
        let summary = export::write_zip(
            &store,
            &dest,
            &ExportOptions::default(),
            None,
            &Monitor::new(&on_progress, &cancel),
        )
        .expect("export");
        let ended = Instant::now();
        times.push((ended - started).as_secs_f64());
        assert_eq!(summary.counts.generations, GENERATIONS);
        zip_bytes = summary.bytes;
        std::fs::remove_file(&dest).expect("remove the export");
        let steps = steps.into_inner().expect("steps");
        let ends = steps.iter().skip(1).map(|(_, at)| *at).chain([ended]);
        let spans: Vec<String> = steps
            .iter()
            .zip(ends)
            .map(|((step, at), end)| format!("{step:?} {:.2} s", (end - *at).as_secs_f64()))
            .collect();
        eprintln!("# run {run}: {}", spans.join(", "));
    }
    println!("bench export_100k {:.3} s", history::median(times));
    eprintln!("# export_100k zip size: {:.1} MB", zip_bytes as f64 / 1e6);
    drop(store);
    if std::env::var_os("CLEOM_EXPORT_BENCH_QUICK").is_some() {
        return;
    }

    let (before, peak) = peak_rss_of_child(&db, &key, dir.path());
    println!("bench export_100k_peak_rss {:.1} MB", peak);
    eprintln!("# the child's peak before exporting (store opened): {before:.1} MB");

    let ratio = media_vs_copy(dir.path());
    println!("bench export_media_vs_copy {ratio:.2} x");
}

fn export(store: &Store, dest: &Path, videos: Option<&Path>) -> export::ExportSummary {
    let cancel = AtomicBool::new(false);
    let monitor = Monitor::new(&|_| {}, &cancel);
    export::write_zip(store, dest, &ExportOptions::default(), videos, &monitor).expect("export")
}

/// Runs the export in a child process and returns its peak RSS (MB) before and after.
fn peak_rss_of_child(db: &Path, key: &DatabaseKey, dir: &Path) -> (f64, f64) {
    let output = Command::new(std::env::current_exe().expect("this binary"))
        .env(CHILD_ENV, db)
        .env(KEY_ENV, key.to_hex().expose())
        .env("CLEOM_EXPORT_BENCH_OUT", dir.join("child.zip"))
        .output()
        .expect("run the child");
    assert!(
        output.status.success(),
        "the child failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let mut values = text
        .split_whitespace()
        .map(|v| v.parse::<f64>().expect("kB"));
    let before = values.next().expect("before");
    let after = values.next().expect("after");
    (before / 1024.0, after / 1024.0)
}

/// In the child: open the store, export, print VmHWM (kB) before and after.
fn child(db: &Path) {
    let key = DatabaseKey::from_hex(&SecretString::new(std::env::var(KEY_ENV).expect("the key")))
        .expect("a key");
    let store = Store::open(db, &key).expect("open the store");
    let before = vm_hwm_kb();
    let dest = PathBuf::from(std::env::var_os("CLEOM_EXPORT_BENCH_OUT").expect("out"));
    let summary = export(&store, &dest, None);
    assert_eq!(summary.counts.generations, GENERATIONS);
    let after = vm_hwm_kb();
    std::fs::remove_file(&dest).expect("remove the export");
    println!("{before} {after}");
}

fn vm_hwm_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// Export time of 1 GiB of downloaded clips divided by a plain copy of the same files.
fn media_vs_copy(dir: &Path) -> f64 {
    let db = dir.join("media.db");
    let key = DatabaseKey::generate().expect("a key");
    let store = history::build(&db, &key, MEDIA_FILES, 0);
    let clips = dir.join("clips");
    std::fs::create_dir_all(&clips).expect("clips folder");
    let mut files = Vec::new();
    store
        .for_each_generation(|g| -> Result<(), cleom_core::store::StoreError> {
            if g.status == cleom_core::model::Status::Succeeded {
                if let Some(name) = export::clip_cache_name(&g) {
                    files.push(clips.join(name));
                }
            }
            Ok(())
        })
        .expect("clips");
    // 1 GiB in all, spread over the finished generations' clips.
    let mut rng = history::Rng::new(7);
    let mut block = vec![0u8; (MEDIA_BYTES / files.len() as u64) as usize];
    for path in &files {
        for chunk in block.chunks_mut(8) {
            let word = rng.next().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        std::fs::write(path, &block).expect("write a clip");
    }
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).expect("clip").len())
        .sum();
    eprintln!(
        "# media: {} clips, {:.2} GiB",
        files.len(),
        bytes as f64 / f64::from(1u32 << 30)
    );

    let mut export_times = Vec::new();
    let mut copy_times = Vec::new();
    for run in 0..3 {
        let dest = dir.join(format!("media-{run}.zip"));
        let started = Instant::now();
        let summary = export(&store, &dest, Some(&clips));
        export_times.push(started.elapsed().as_secs_f64());
        assert_eq!(summary.counts.videos, files.len() as u64);
        std::fs::remove_file(&dest).expect("remove the export");

        let copies = dir.join(format!("copies-{run}"));
        std::fs::create_dir_all(&copies).expect("copies folder");
        let started = Instant::now();
        for f in &files {
            let to = copies.join(f.file_name().expect("a name"));
            std::fs::copy(f, &to).expect("copy");
            std::fs::File::open(&to)
                .and_then(|f| f.sync_all())
                .expect("sync");
        }
        copy_times.push(started.elapsed().as_secs_f64());
        std::fs::remove_dir_all(&copies).expect("remove the copies");
    }
    let (export, copy) = (history::median(export_times), history::median(copy_times));
    eprintln!("# media: export {export:.2} s, copy {copy:.2} s");
    export / copy
}
