//! A writer killed in the middle of a transaction leaves a database that opens cleanly with
//! every committed row. The writer is a real process (this test binary, run again in "writer"
//! mode) and is killed with SIGKILL at random moments.

// What the killing test uses; it runs on Unix only (SIGKILL).
#[cfg(unix)]
use {
    rand::Rng,
    std::io::{BufRead, BufReader},
    std::process::{Command, Stdio},
    std::sync::mpsc,
    std::time::{Duration, Instant},
};

use super::*;

const DB_ENV: &str = "CLEOM_CRASH_WRITER_DB";
const KEY_ENV: &str = "CLEOM_CRASH_WRITER_KEY";
/// Generations per transaction.
const BATCH: usize = 25;

fn batch(number: u64) -> Vec<Generation> {
    (0..BATCH)
        .map(|i| {
            let mut g = generation(
                &format!("b{number:05}-{i:02}"),
                &format!("2025-03-01T10:00:00.{:06}Z", number * 100 + i as u64),
            );
            // Long enough that a transaction spans several pages.
            g.prompt = format!(
                "batch {number} item {i} {}",
                "a slow pan over the harbor ".repeat(20)
            );
            g
        })
        .collect()
}

/// Not a test of its own: the writer, run by `killed_writers_lose_no_committed_row` in a
/// child process. Writes batch after batch, each with its sync cursor in one transaction, and
/// prints the number of each batch once it is committed.
#[test]
fn writer_child() {
    let (Some(path), Some(hex_key)) = (std::env::var_os(DB_ENV), std::env::var(KEY_ENV).ok())
    else {
        return;
    };
    let key = DatabaseKey::from_hex(&SecretString::new(hex_key)).unwrap();
    let mut store = Store::open(Path::new(&path), &key).unwrap();
    let mut number: u64 = store
        .cursor("cursor.generations")
        .unwrap()
        .map_or(0, |c| c.parse::<u64>().unwrap() + 1);
    loop {
        store
            .apply_generations_page(
                &batch(number),
                &Unread::default(),
                "cursor.generations",
                &number.to_string(),
            )
            .unwrap();
        println!("committed {number}");
        number += 1;
    }
}

#[test]
#[cfg(unix)]
fn killed_writers_lose_no_committed_row() {
    let f = fixture();
    let key = key();
    drop(Store::create(&f.path, &key).unwrap());
    let mut rng = rand::rng();
    let mut reported: Option<u64> = None;
    for round in 0..6 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "store::tests::crash::writer_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(DB_ENV, &f.path)
            .env(KEY_ENV, key.to_hex().expose())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(n) = line.strip_prefix("committed ") {
                    let _ = tx.send(n.parse::<u64>().unwrap());
                }
            }
        });
        // Wait for the first commit of this round, then kill at a random moment after it.
        let first = rx.recv_timeout(Duration::from_secs(60)).unwrap();
        let deadline = Instant::now() + Duration::from_millis(rng.random_range(5..200));
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "round {round}: the writer was not killed"
        );
        reader.join().unwrap();
        let last = rx.try_iter().last().unwrap_or(first);
        assert!(
            reported.is_none_or(|r| last > r),
            "round {round} made progress"
        );
        reported = Some(last);

        // The database opens cleanly and holds every reported batch, whole.
        let store = Store::open(&f.path, &key).unwrap();
        let integrity: String = store
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(integrity, "ok", "round {round}");
        let cursor: u64 = store
            .cursor("cursor.generations")
            .unwrap()
            .unwrap()
            .parse()
            .unwrap();
        // A batch may have committed after the last line was printed, never before.
        assert!(
            cursor == last || cursor == last + 1,
            "round {round}: cursor {cursor}, last reported {last}"
        );
        let batches = cursor + 1;
        assert_eq!(
            store.count_generations().unwrap(),
            batches * BATCH as u64,
            "round {round}: only whole batches"
        );
        for number in 0..batches {
            for g in batch(number).iter().step_by(8) {
                assert_eq!(store.generation(&g.id).unwrap().as_ref(), Some(g));
            }
        }
        // The search index is consistent with the table.
        store
            .conn
            .execute(
                "INSERT INTO generations_fts (generations_fts, rank) VALUES ('integrity-check', 1)",
                [],
            )
            .unwrap();
    }
}
