//! Local account wipe benchmark (docs/targets.md, "Performance"). Prints `bench wipe_100k <ms> ms`: the time of
//! `Account::wipe_local` — close the store, delete the account's folder (an encrypted history
//! of 100,000 generations, 100,000 ledger entries and 1,000 thumbnails), delete its two
//! keychain entries, forget the signed-in account — on an account resumed from disk exactly as
//! the app does at start-up. The keychain is the in-memory one (the OS keychain's speed is not
//! ours to measure). Median of 3 runs, each on a fresh copy of the same history.

mod history;

use std::sync::Arc;
use std::time::Instant;

use cleom_core::device::Device;
use cleom_core::keychain::{self, memory::MemoryKeychain, Keychain};
use cleom_core::paths::DataDir;
use cleom_core::remote::{Endpoints, Remote};
use cleom_core::secret::{DatabaseKey, SecretString};

const GENERATIONS: u64 = 100_000;
const UID: &str = "benchuser";

fn main() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let template = dir.path().join("template.db");
    let key = DatabaseKey::generate().expect("a key");
    let started = Instant::now();
    drop(history::build(&template, &key, GENERATIONS, 100));
    eprintln!(
        "# built a store of {GENERATIONS} generations in {:.1} s ({:.0} MB)",
        started.elapsed().as_secs_f64(),
        std::fs::metadata(&template).expect("store").len() as f64 / 1e6
    );

    let mut times = Vec::new();
    for run in 0..3 {
        let data = DataDir::at(dir.path().join(format!("data-{run}")));
        let db = data.database_path(UID).expect("a path");
        data.ensure_account_dir(UID).expect("account folder");
        std::fs::copy(&template, &db).expect("copy the history");
        std::fs::write(
            data.root().join("device.json"),
            format!("{{\"signedIn\":\"{UID}\"}}"),
        )
        .expect("device.json");
        let keychain = Arc::new(MemoryKeychain::new());
        keychain
            .set(&keychain::database_key_entry(UID), &key.to_hex())
            .expect("key");
        keychain
            .set(
                &keychain::refresh_token_entry(UID),
                &SecretString::new("refresh".into()),
            )
            .expect("token");
        // Never contacted: the wipe is local.
        let remote = Remote::new(Endpoints::local("http://127.0.0.1:9").expect("endpoints"))
            .expect("remote");
        let device = Device::new(data.clone(), keychain.clone(), remote).expect("device");
        let account = device
            .resume()
            .expect("resume")
            .expect("the account resumes");
        // A Library page first, as the app would have shown: the store is warm and in use.
        account.library(50, None).expect("a page");

        let started = Instant::now();
        let (files, entries) = account.wipe_local().expect("wipe");
        times.push(started.elapsed().as_secs_f64() * 1000.0);

        assert!(
            files >= 1 && entries == 2,
            "{files} files, {entries} entries"
        );
        assert!(!data.account_dir(UID).expect("a path").exists());
        for entry in keychain::account_entries(UID) {
            assert!(keychain.get(&entry).expect("get").is_none());
        }
    }
    println!("bench wipe_100k {:.1} ms", history::median(times));
}
