//! The TypeScript of every type that crosses IPC — the commands' results and arguments, the
//! events' payloads, the error — generated with ts-rs from the Rust types into
//! `ui/src/lib/generated/` (committed; the UI imports it from there, `index.ts` included).
//!
//! `ipc_types_are_current` fails when those files are stale; write them again with
//! `cargo test -p cleom-desktop --lib -- --ignored regenerate_ipc_types`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ts_rs::{Config, ExportError, TS};

use crate::commands::library::{GenerationView, LibraryItemView, LibraryPage, SavedClipView};
use crate::commands::links::LinkView;
use crate::commands::session::{AccountView, AppStatus};
use crate::error::CommandError;
use crate::live::SignedOut;
use crate::state::SyncState;
use crate::update::{UpdateOffer, UpdateProgress, UpdateStatus};

const REGENERATE: &str = "cargo test -p cleom-desktop --lib -- --ignored regenerate_ipc_types";

/// Where the generated files are committed.
fn committed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/lib/generated")
}

/// Writes every IPC type (each one's dependencies come with it) and `index.ts` into `dir`.
fn generate(dir: &Path) {
    // The UI's numbers are JavaScript numbers: credits, counts and byte sizes stay far below
    // 2^53, so 64-bit integers are `number` (ts-rs would say `bigint`).
    let cfg = Config::new().with_large_int("number").with_out_dir(dir);
    type Export = fn(&Config) -> Result<(), ExportError>;
    let roots: [Export; 25] = [
        // Command results.
        AppStatus::export_all,
        AccountView::export_all,
        cleom_core::pricing::Estimate::export_all,
        GenerationView::export_all,
        LibraryPage::export_all,
        cleom_core::store::FacetCounts::export_all,
        LibraryItemView::export_all,
        SyncState::export_all,
        cleom_core::export::ExportSummary::export_all,
        SavedClipView::export_all,
        cleom_core::access::AccessReport::export_all,
        cleom_core::account::DeletionReceipt::export_all,
        cleom_core::store::OutboxEntry::export_all,
        cleom_core::model::LedgerEntry::export_all,
        cleom_core::model::Purchase::export_all,
        LinkView::export_all,
        UpdateStatus::export_all,
        UpdateOffer::export_all,
        // Command arguments.
        cleom_core::model::Settings::export_all,
        cleom_core::model::Reference::export_all,
        cleom_core::store::LibraryQuery::export_all,
        // Event payloads (besides AccountView, SyncState and UpdateOffer above).
        cleom_core::sync::SyncProgress::export_all,
        cleom_core::export::ExportProgress::export_all,
        SignedOut::export_all,
        UpdateProgress::export_all,
    ];
    for export in roots {
        export(&cfg).expect("the IPC types export");
    }
    // The error every command rejects with.
    CommandError::export_all(&cfg).expect("the IPC types export");

    let mut index = String::from(
        "// Generated from the Rust types by src-tauri/src/ipc_types.rs: do not edit.\n\
         // Regenerate with `",
    );
    index.push_str(REGENERATE);
    index.push_str("`.\n\n");
    for name in read(dir).keys() {
        if let Some(module) = name.strip_suffix(".ts") {
            index.push_str(&format!("export type * from './{module}';\n"));
        }
    }
    std::fs::write(dir.join("index.ts"), index).expect("index.ts is written");
}

/// The `.ts` files in `dir` by name, with their text.
fn read(dir: &Path) -> BTreeMap<String, String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .map(|e| e.expect("the folder is listed").path())
        .filter(|p| p.extension().is_some_and(|e| e == "ts"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).expect("the file is read"))
        })
        .collect()
}

#[test]
fn ipc_types_are_current() {
    let fresh = tempfile::tempdir().expect("a temporary folder");
    generate(fresh.path());
    let want = read(fresh.path());
    let have = read(&committed_dir());
    let mut stale: Vec<String> = want
        .iter()
        .filter(|(name, text)| have.get(*name) != Some(text))
        .map(|(name, _)| name.clone())
        .collect();
    stale.extend(have.keys().filter(|n| !want.contains_key(*n)).cloned());
    assert!(
        stale.is_empty(),
        "ui/src/lib/generated/ is stale ({}): the Rust IPC types changed. Regenerate it with \
         `{REGENERATE}` and commit the result.",
        stale.join(", ")
    );
}

#[test]
#[ignore = "writes ui/src/lib/generated/; run it after changing a type that crosses IPC"]
fn regenerate_ipc_types() {
    let dir = committed_dir();
    for name in read(&dir).keys() {
        std::fs::remove_file(dir.join(name)).expect("an old file is removed");
    }
    generate(&dir);
}
