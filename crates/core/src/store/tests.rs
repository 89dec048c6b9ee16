use std::collections::HashSet;

use tempfile::TempDir;

use super::*;
use crate::model::{AspectRatio, Reference, ReferenceKind, Resolution, Settings};

mod crash;
mod library;
mod upgrade;

pub(super) fn key() -> DatabaseKey {
    DatabaseKey::generate().unwrap()
}

pub(super) fn same_key(key: &DatabaseKey) -> DatabaseKey {
    DatabaseKey::from_hex(&key.to_hex()).unwrap()
}

pub(super) fn generation(id: &str, created_at: &str) -> Generation {
    Generation {
        id: id.to_string(),
        prompt: format!("a fox at dawn, take {id}"),
        mode: Mode::ImageToVideo,
        settings: Settings {
            duration_seconds: 12,
            resolution: Resolution::K4,
            aspect_ratio: AspectRatio::Tall,
            style_preset: Some("VHS".to_string()),
            music: true,
            ..Settings::default()
        },
        references: vec![Reference {
            name: "fox.png".into(),
            kind: ReferenceKind::Image,
            size_bytes: 2048,
        }],
        status: Status::Succeeded,
        progress: 1.0,
        credits_charged: 840,
        output_url: Some(format!("https://media.example/{id}.mp4")),
        thumbnail_url: Some(format!("https://media.example/{id}.jpg")),
        error: None,
        created_at: created_at.to_string(),
        updated_at: created_at.to_string(),
        deleted: false,
        deleted_at: None,
    }
}

pub(super) fn tombstone(id: &str) -> Generation {
    Generation {
        deleted: true,
        deleted_at: Some("2025-02-01T00:00:00Z".into()),
        ..generation(id, "2025-01-01T00:00:00Z")
    }
}

pub(super) fn profile(uid: &str) -> Profile {
    Profile {
        uid: uid.to_string(),
        email: "ada@example.com".into(),
        display_name: Some("Ada".into()),
        credit_balance: 1200,
        analytics_opt_in: false,
        created_at: "2025-01-01T00:00:00Z".into(),
        updated_at: "2025-01-02T00:00:00Z".into(),
    }
}

pub(super) fn ledger_entry(
    id: &str,
    created_at: &str,
    amount: i64,
    balance_after: i64,
) -> LedgerEntry {
    LedgerEntry {
        id: id.to_string(),
        amount,
        reason: "generation".into(),
        generation_id: Some("g1".into()),
        balance_after,
        created_at: created_at.to_string(),
        updated_at: created_at.to_string(),
    }
}

pub(super) struct Fixture {
    pub(super) dir: TempDir,
    pub(super) path: PathBuf,
}

pub(super) fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accounts").join("u1").join("history.db");
    Fixture { dir, path }
}

fn files_in(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn create_then_open_round_trip() {
    let f = fixture();
    let key = key();
    let g = generation("g1", "2025-03-01T10:00:00.123Z");
    {
        let mut store = Store::create(&f.path, &key).unwrap();
        assert_eq!(
            store.upsert_generations(std::slice::from_ref(&g)).unwrap(),
            1
        );
        store.put_profile(&profile("u1")).unwrap();
        store
            .upsert_ledger(&[ledger_entry("l1", "2025-03-01T10:00:01Z", -840, 360)])
            .unwrap();
        store
            .set_cursor("generations", "2025-03-01T10:00:00Z")
            .unwrap();
    }
    let store = Store::open(&f.path, &same_key(&key)).unwrap();
    assert_eq!(store.generation("g1").unwrap(), Some(g));
    assert_eq!(store.generation("nope").unwrap(), None);
    assert_eq!(store.profile().unwrap(), Some(profile("u1")));
    assert_eq!(
        store.ledger().unwrap(),
        vec![ledger_entry("l1", "2025-03-01T10:00:01Z", -840, 360)]
    );
    assert_eq!(
        store.cursor("generations").unwrap().as_deref(),
        Some("2025-03-01T10:00:00Z")
    );
    assert_eq!(store.cursor("ledger").unwrap(), None);
    assert_eq!(store.count_generations().unwrap(), 1);
}

#[test]
fn a_wrong_key_is_rejected_and_changes_nothing() {
    let f = fixture();
    let key = key();
    {
        let mut store = Store::create(&f.path, &key).unwrap();
        store
            .upsert_generations(&[generation("g1", "2025-03-01T10:00:00Z")])
            .unwrap();
    }
    let account_dir = f.path.parent().unwrap();
    let before = files_in(account_dir);

    let err = Store::open(&f.path, &DatabaseKey::generate().unwrap()).unwrap_err();
    assert!(matches!(err, StoreError::KeyRejected), "{err:?}");
    assert_eq!(err.code(), "store.key_rejected");
    assert_eq!(
        files_in(account_dir),
        before,
        "a wrong key must not touch the files"
    );

    let store = Store::open(&f.path, &key).unwrap();
    assert_eq!(store.count_generations().unwrap(), 1);
}

#[test]
fn create_never_replaces_an_existing_database() {
    let f = fixture();
    let key = key();
    {
        let mut store = Store::create(&f.path, &key).unwrap();
        store
            .upsert_generations(&[generation("g1", "2025-03-01T10:00:00Z")])
            .unwrap();
    }
    let before = fs::read(&f.path).unwrap();
    let err = Store::create(&f.path, &DatabaseKey::generate().unwrap()).unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists), "{err:?}");
    assert_eq!(err.code(), "store.already_exists");
    assert_eq!(fs::read(&f.path).unwrap(), before);
    assert_eq!(
        Store::open(&f.path, &key)
            .unwrap()
            .count_generations()
            .unwrap(),
        1
    );

    // Whatever the file is, it is not replaced.
    let other = f.dir.path().join("other.db");
    fs::write(&other, b"not mine").unwrap();
    assert!(matches!(
        Store::create(&other, &key),
        Err(StoreError::AlreadyExists)
    ));
    assert_eq!(fs::read(&other).unwrap(), b"not mine");
}

#[test]
fn opening_a_missing_database_creates_nothing() {
    let f = fixture();
    let err = Store::open(&f.path, &key()).unwrap_err();
    assert!(matches!(err, StoreError::Missing), "{err:?}");
    assert_eq!(err.code(), "store.missing");
    assert!(!f.path.exists());
}

#[test]
fn a_file_that_is_not_a_database_is_rejected_like_a_wrong_key() {
    let f = fixture();
    let path = f.dir.path().join("garbage.db");
    fs::write(&path, vec![7u8; 8192]).unwrap();
    assert!(matches!(
        Store::open(&path, &key()),
        Err(StoreError::KeyRejected)
    ));
    assert_eq!(fs::read(&path).unwrap(), vec![7u8; 8192]);
}

#[test]
fn nothing_readable_reaches_the_disk() {
    let f = fixture();
    let marker = "zebra-quasar-7781 drifting over a neon lagoon";
    let mut g = generation("g-secret", "2025-03-01T10:00:00Z");
    g.prompt = marker.to_string();
    let account_dir = f.path.parent().unwrap().to_path_buf();
    let check = |when: &str| {
        let files = files_in(&account_dir);
        assert!(!files.is_empty());
        for (path, bytes) in files {
            assert!(
                !contains(&bytes, b"zebra-quasar"),
                "{when}: the prompt is readable in {}",
                path.display()
            );
            assert!(
                !contains(&bytes, b"SQLite format 3"),
                "{when}: {} has a plain SQLite header",
                path.display()
            );
            assert!(
                !contains(&bytes, b"media.example"),
                "{when}: a URL is readable in {}",
                path.display()
            );
        }
    };
    {
        let mut store = Store::create(&f.path, &key()).unwrap();
        store.upsert_generations(&[g]).unwrap();
        store
            .put_thumbnail("g-secret", "image/jpeg", b"zebra-quasar thumbnail")
            .unwrap();
        assert!(
            f.path.with_file_name("history.db-wal").exists(),
            "WAL holds the recent writes"
        );
        check("while open");
    }
    check("after close");
}

#[test]
fn pages_return_every_generation_once_newest_first() {
    let f = fixture();
    let mut store = Store::create(&f.path, &key()).unwrap();
    // Same instants, several ids per instant, and fraction digits that do not sort as text.
    let mut all = Vec::new();
    for i in 0..60 {
        let created_at = match i % 4 {
            0 => format!("2025-03-01T10:{:02}:00Z", i / 4),
            1 => format!("2025-03-01T10:{:02}:00.5Z", i / 4),
            2 => format!("2025-03-01T10:{:02}:00.25+00:00", i / 4),
            _ => format!("2025-03-01T11:{:02}:00.000000001+01:00", i / 4),
        };
        all.push(generation(&format!("g{i:03}"), &created_at));
        all.push(generation(&format!("h{i:03}"), &created_at));
    }
    store.upsert_generations(&all).unwrap();
    assert_eq!(store.count_generations().unwrap(), 120);

    let mut expected: Vec<_> = all
        .iter()
        .map(|g| (time_key(&g.created_at).unwrap(), g.id.clone()))
        .collect();
    expected.sort();
    expected.reverse();
    let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();

    // The default view: everything, newest first, page by page.
    let page_of = |limit: usize, after: Option<LibraryCursor>| {
        store.query(&LibraryQuery {
            limit,
            after,
            ..LibraryQuery::default()
        })
    };
    for page_size in [1, 7, 120, 500] {
        let mut seen = Vec::new();
        let mut cursor: Option<LibraryCursor> = None;
        loop {
            let page = page_of(page_size, cursor.take()).unwrap();
            assert!(page.items.len() <= page_size);
            seen.extend(page.items.iter().map(|item| item.generation.id.clone()));
            match page.next {
                Some(next) => {
                    // The cursor survives a trip through the UI.
                    let json = serde_json::to_string(&next).unwrap();
                    cursor = Some(serde_json::from_str(&json).unwrap());
                }
                None => break,
            }
        }
        assert_eq!(seen, expected, "page size {page_size}");
        assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 120);
    }
    assert_eq!(page_of(120, None).unwrap().next, None, "no empty last page");
    assert_eq!(page_of(0, None).unwrap_err().code(), "store.invalid_input");
    for bad in ["yesterday", "n.x", "n.1.2", "o.5", ""] {
        let bad: LibraryCursor = serde_json::from_value(serde_json::json!(bad)).unwrap();
        assert_eq!(
            page_of(5, Some(bad)).unwrap_err().code(),
            "store.invalid_input"
        );
    }
}

/// The query plan of `sql`, one step per line.
pub(super) fn plan(store: &Store, sql: &str, params: impl rusqlite::Params) -> String {
    let plan: Vec<String> = store
        .conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap()
        .query_map(params, |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    plan.join(" | ")
}

/// The default view's pages walk down the table itself (its rowid is `seq`): the first page
/// from the end, the next ones from a rowid search, never sorting.
#[test]
fn default_view_pages_walk_the_table() {
    let f = fixture();
    let mut store = Store::create(&f.path, &key()).unwrap();
    store
        .upsert_generations(&[
            generation("g1", "2025-03-01T10:00:00Z"),
            generation("g2", "2025-03-01T11:00:00Z"),
        ])
        .unwrap();
    let first = LibraryQuery {
        limit: 1,
        ..LibraryQuery::default()
    };
    let next = LibraryQuery {
        after: store.query(&first).unwrap().next,
        ..first.clone()
    };
    assert!(next.after.is_some());
    let plan_of = |q: &LibraryQuery| {
        let sql = crate::store::library::query_sql(q).unwrap().sql;
        plan(&store, &sql.text, rusqlite::params_from_iter(&sql.params))
    };
    let (first, next) = (plan_of(&first), plan_of(&next));
    assert!(first.starts_with("SCAN generations |"), "{first}");
    assert!(
        next.starts_with("SEARCH generations USING INTEGER PRIMARY KEY (rowid<?) |"),
        "{next}"
    );
    for plan in [first, next] {
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }
}

#[test]
fn the_active_check_reads_only_active_rows() {
    let f = fixture();
    let mut store = Store::create(&f.path, &key()).unwrap();
    let active = plan(
        &store,
        "SELECT 1 FROM generations WHERE status IN ('queued', 'running')",
        [],
    );
    assert!(active.contains("generations_active"), "{active}");
    assert!(!store.has_active_generations().unwrap());
    let mut running = generation("g1", "2025-03-01T10:00:00Z");
    running.status = Status::Running;
    store
        .upsert_generations(&[generation("g0", "2025-03-01T09:00:00Z"), running.clone()])
        .unwrap();
    assert!(store.has_active_generations().unwrap());
    running.status = Status::Failed;
    store.upsert_generations(&[running]).unwrap();
    assert!(!store.has_active_generations().unwrap());
}

#[test]
fn upserts_update_in_place_and_reject_bad_times_atomically() {
    let f = fixture();
    let mut store = Store::create(&f.path, &key()).unwrap();
    let mut g = generation("g1", "2025-03-01T10:00:00Z");
    g.status = Status::Running;
    g.progress = 0.4;
    store.upsert_generations(std::slice::from_ref(&g)).unwrap();
    g.status = Status::Succeeded;
    g.progress = 1.0;
    g.updated_at = "2025-03-01T10:01:00Z".into();
    store.upsert_generations(std::slice::from_ref(&g)).unwrap();
    assert_eq!(store.generation("g1").unwrap(), Some(g));
    assert_eq!(store.count_generations().unwrap(), 1);

    let err = store
        .upsert_generations(&[
            generation("g2", "2025-03-01T10:00:00Z"),
            generation("g3", "03/01/2025"),
        ])
        .unwrap_err();
    assert_eq!(err.code(), "store.invalid_input");
    assert_eq!(
        store.generation("g2").unwrap(),
        None,
        "a failed batch writes nothing"
    );
}

#[test]
fn a_page_answers_the_generations_it_finished() {
    let f = fixture();
    let mut store = Store::create(&f.path, &key()).unwrap();
    let with_status = |id: &str, status: Status| Generation {
        status,
        ..generation(id, "2025-03-01T10:00:00Z")
    };
    let first = [
        with_status("queued", Status::Queued),
        with_status("running", Status::Running),
        with_status("still", Status::Running),
        with_status("done", Status::Succeeded),
    ];
    let finished = store
        .apply_generations_page(&first, &Unread::default(), "cursor", "1")
        .unwrap();
    assert!(finished.is_empty(), "nothing was running here before");

    let second = [
        with_status("queued", Status::Failed),
        with_status("running", Status::Succeeded),
        with_status("still", Status::Running),
        with_status("done", Status::Succeeded),
        with_status("new", Status::Succeeded),
    ];
    let finished = store
        .apply_generations_page(&second, &Unread::default(), "cursor", "2")
        .unwrap();
    let ids: Vec<&str> = finished.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(
        ids,
        ["queued", "running"],
        "only what was queued or running here and has an outcome now"
    );
    assert_eq!(finished[0].status, Status::Failed);

    let again = store
        .apply_generations_page(&second, &Unread::default(), "cursor", "3")
        .unwrap();
    assert!(
        again.is_empty(),
        "a page applied twice finishes nothing twice"
    );
}

pub(super) fn fts_matches(store: &Store, query: &str) -> Vec<String> {
    store
        .conn
        .prepare(
            "SELECT g.id FROM generations_fts JOIN generations g ON g.seq = generations_fts.rowid
             WHERE generations_fts MATCH ?1 ORDER BY g.id",
        )
        .unwrap()
        .query_map([query], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn tombstones_remove_the_row_its_thumbnail_and_its_search_entry() {
    let f = fixture();
    let mut store = Store::create(&f.path, &key()).unwrap();
    store
        .upsert_generations(&[
            generation("g1", "2025-03-01T10:00:00Z"),
            generation("g2", "2025-03-01T10:00:01Z"),
        ])
        .unwrap();
    assert!(store
        .put_thumbnail("g1", "image/png", b"png-bytes")
        .unwrap());
    assert_eq!(fts_matches(&store, "fox"), vec!["g1", "g2"]);

    assert_eq!(
        store
            .upsert_generations(&[tombstone("g1"), tombstone("never-seen")])
            .unwrap(),
        2
    );
    assert_eq!(store.generation("g1").unwrap(), None);
    assert_eq!(store.thumbnail("g1").unwrap(), None);
    let orphans: i64 = store
        .conn
        .query_row("SELECT count(*) FROM thumbnails", [], |r| r.get(0))
        .unwrap();
    assert_eq!(orphans, 0);
    assert_eq!(fts_matches(&store, "fox"), vec!["g2"]);
    assert_eq!(store.count_generations().unwrap(), 1);
}

/// The words of a deleted prompt leave the search index's own pages at the next purge, and the
/// purge runs only when something was deleted.
#[test]
fn a_purge_removes_deleted_words_from_the_index() {
    let f = fixture();
    let mut store = Store::create(&f.path, &key()).unwrap();
    let mut secret = generation("g1", "2025-03-01T10:00:00Z");
    secret.prompt = "quixotically zygomorphic xylophonist".into();
    store
        .upsert_generations(&[secret, generation("g2", "2025-03-01T10:00:01Z")])
        .unwrap();
    let index_holds = |store: &Store, word: &str| -> bool {
        store
            .conn
            .query_row(
                "SELECT count(*) FROM generations_fts_data WHERE instr(block, ?1) > 0",
                [word.as_bytes()],
                |r| r.get::<_, i64>(0),
            )
            .unwrap()
            > 0
    };
    assert!(index_holds(&store, "zygomorphic"));
    assert!(
        !store.purge_deleted_search_entries().unwrap(),
        "nothing to purge"
    );

    store.upsert_generations(&[tombstone("g1")]).unwrap();
    assert!(
        fts_matches(&store, "zygomorphic").is_empty(),
        "gone from searches at once"
    );
    assert!(store.purge_deleted_search_entries().unwrap());
    assert!(
        !index_holds(&store, "zygomorphic"),
        "gone from the index's pages"
    );
    assert!(!index_holds(&store, "xylophonist"));
    assert_eq!(
        fts_matches(&store, "fox"),
        vec!["g2"],
        "the rest still found"
    );
    assert!(!store.purge_deleted_search_entries().unwrap(), "once");
}

#[test]
fn the_search_index_follows_prompt_edits() {
    let f = fixture();
    let mut store = Store::create(&f.path, &key()).unwrap();
    let mut g = generation("g1", "2025-03-01T10:00:00Z");
    store.upsert_generations(std::slice::from_ref(&g)).unwrap();
    g.prompt = "a heron in the rain".into();
    store.upsert_generations(std::slice::from_ref(&g)).unwrap();
    assert!(fts_matches(&store, "fox").is_empty());
    assert_eq!(fts_matches(&store, "heron"), vec!["g1"]);
}

#[test]
fn thumbnails_round_trip_and_drive_the_fetch_list() {
    let f = fixture();
    let mut store = Store::create(&f.path, &key()).unwrap();
    let mut running = generation("g-running", "2025-03-01T10:00:02Z");
    running.status = Status::Running;
    let mut no_url = generation("g-no-url", "2025-03-01T10:00:03Z");
    no_url.thumbnail_url = None;
    store
        .upsert_generations(&[
            generation("g-old", "2025-03-01T10:00:00Z"),
            generation("g-new", "2025-03-01T10:00:01Z"),
            running,
            no_url,
        ])
        .unwrap();
    assert_eq!(
        store.generations_missing_thumbnail(10).unwrap(),
        vec![
            (
                "g-new".to_string(),
                "https://media.example/g-new.jpg".to_string()
            ),
            (
                "g-old".to_string(),
                "https://media.example/g-old.jpg".to_string()
            ),
        ]
    );
    assert_eq!(store.generations_missing_thumbnail(1).unwrap().len(), 1);

    let image: Vec<u8> = (0..=255).collect();
    assert!(store.put_thumbnail("g-new", "image/jpeg", &image).unwrap());
    assert_eq!(
        store.thumbnail("g-new").unwrap(),
        Some(("image/jpeg".to_string(), image.clone()))
    );
    assert!(store.put_thumbnail("g-new", "image/png", b"v2").unwrap());
    assert_eq!(
        store.thumbnail("g-new").unwrap(),
        Some(("image/png".to_string(), b"v2".to_vec()))
    );
    assert_eq!(store.generations_missing_thumbnail(10).unwrap().len(), 1);

    // A generation that is gone gets no thumbnail.
    assert!(!store.put_thumbnail("g-gone", "image/jpeg", &image).unwrap());
    assert_eq!(store.thumbnail("g-gone").unwrap(), None);

    // An unchanged URL keeps the thumbnail; a new URL asks for a new fetch.
    let mut g = generation("g-new", "2025-03-01T10:00:01Z");
    store.upsert_generations(std::slice::from_ref(&g)).unwrap();
    assert!(store.thumbnail("g-new").unwrap().is_some());
    g.thumbnail_url = Some("https://media.example/g-new-v2.jpg".into());
    store.upsert_generations(&[g]).unwrap();
    assert_eq!(store.thumbnail("g-new").unwrap(), None);
    assert!(store
        .generations_missing_thumbnail(10)
        .unwrap()
        .iter()
        .any(|(id, _)| id == "g-new"));

    // Finding them walks only the rows still waiting (an index of those), never every
    // generation: on 100,000 rows probing each one held the store for seconds.
    let query = "SELECT id, thumbnail_url FROM generations INDEXED BY generations_thumbnail_wanted
         WHERE has_thumbnail = 0 AND status = 'succeeded' AND deleted = 0
           AND thumbnail_url IS NOT NULL ORDER BY seq DESC LIMIT 10";
    let plan = plan(&store, query, []);
    assert!(plan.contains("generations_thumbnail_wanted"), "{plan}");
    assert!(!plan.contains("thumbnails"), "{plan}");
}

#[test]
#[cfg(unix)]
fn files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let f = fixture();
    let key = key();
    let mut store = Store::create(&f.path, &key).unwrap();
    store
        .upsert_generations(&[generation("g1", "2025-03-01T10:00:00Z")])
        .unwrap();
    assert_eq!(mode(&f.path), 0o600);
    for sidecar in ["history.db-wal", "history.db-shm"] {
        let p = f.path.with_file_name(sidecar);
        assert!(p.exists(), "{sidecar}");
        assert_eq!(mode(&p), 0o600, "{sidecar}");
    }
    // Store::create made the missing folders, privately.
    assert_eq!(mode(f.path.parent().unwrap()), 0o700);
    assert_eq!(mode(f.path.parent().unwrap().parent().unwrap()), 0o700);
    drop(store);

    // Loosened permissions are tightened again on open.
    fs::set_permissions(&f.path, fs::Permissions::from_mode(0o644)).unwrap();
    let _store = Store::open(&f.path, &key).unwrap();
    assert_eq!(mode(&f.path), 0o600);
}

#[test]
fn migrations_are_numbered_and_idempotent() {
    for (index, (name, _)) in MIGRATIONS.iter().enumerate() {
        assert!(
            name.starts_with(&format!("{:04}_", index + 1)),
            "{name} is out of order"
        );
    }
    let f = fixture();
    let key = key();
    drop(Store::create(&f.path, &key).unwrap());
    let version = |store: &Store| {
        store
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
            .unwrap()
    };
    let mut store = Store::open(&f.path, &key).unwrap();
    assert_eq!(version(&store), MIGRATIONS.len() as i64);
    store
        .upsert_generations(&[generation("g1", "2025-03-01T10:00:00Z")])
        .unwrap();
    drop(store);
    let store = Store::open(&f.path, &key).unwrap();
    assert_eq!(version(&store), MIGRATIONS.len() as i64);
    assert_eq!(store.count_generations().unwrap(), 1);

    // A database from a newer app is refused, not misread.
    store.conn.pragma_update(None, "user_version", 99).unwrap();
    drop(store);
    let err = Store::open(&f.path, &key).unwrap_err();
    assert!(
        matches!(err, StoreError::TooNew { found: 99, .. }),
        "{err:?}"
    );
    assert_eq!(err.code(), "store.too_new");
}

#[test]
fn a_profile_belongs_to_one_account() {
    let f = fixture();
    let store = Store::create(&f.path, &key()).unwrap();
    assert_eq!(store.profile().unwrap(), None);
    store.put_profile(&profile("u1")).unwrap();
    let mut changed = profile("u1");
    changed.display_name = None;
    changed.credit_balance = 5;
    changed.analytics_opt_in = true;
    store.put_profile(&changed).unwrap();
    assert_eq!(store.profile().unwrap(), Some(changed.clone()));

    let err = store.put_profile(&profile("someone-else")).unwrap_err();
    assert_eq!(err.code(), "store.invalid_input");
    assert_eq!(store.profile().unwrap(), Some(changed));
}

#[test]
fn the_ledger_reads_oldest_first_and_updates_in_place() {
    let f = fixture();
    let mut store = Store::create(&f.path, &key()).unwrap();
    let grant = ledger_entry("l-grant", "2025-03-01T09:00:00Z", 2000, 2000);
    let charge = ledger_entry("l-charge", "2025-03-01T10:00:00.5Z", -840, 1160);
    let refund = ledger_entry("l-refund", "2025-03-01T10:00:00Z", 0, 0);
    store
        .upsert_ledger(&[charge.clone(), grant.clone(), refund])
        .unwrap();
    let refund = ledger_entry("l-refund", "2025-03-01T11:00:00Z", 840, 2000);
    assert_eq!(
        store.upsert_ledger(std::slice::from_ref(&refund)).unwrap(),
        1
    );
    assert_eq!(store.ledger().unwrap(), vec![grant, charge, refund]);
}

#[test]
fn cursors_are_saved_by_name() {
    let f = fixture();
    let store = Store::create(&f.path, &key()).unwrap();
    store.set_cursor("generations", "a").unwrap();
    store.set_cursor("generations", "b").unwrap();
    store.set_cursor("ledger", "c").unwrap();
    assert_eq!(store.cursor("generations").unwrap().as_deref(), Some("b"));
    assert_eq!(store.cursor("ledger").unwrap().as_deref(), Some("c"));
}

#[test]
fn for_each_streams_every_generation_and_stops_on_error() {
    let f = fixture();
    let mut store = Store::create(&f.path, &key()).unwrap();
    let all: Vec<_> = (0..25)
        .map(|i| generation(&format!("g{i:02}"), &format!("2025-03-01T10:00:{i:02}Z")))
        .collect();
    store.upsert_generations(&all).unwrap();

    let mut seen = Vec::new();
    store
        .for_each_generation(|g| {
            seen.push(g);
            Ok::<_, StoreError>(())
        })
        .unwrap();
    assert_eq!(seen, all, "oldest first, complete");

    let mut calls = 0;
    let err = store
        .for_each_generation(|_| {
            calls += 1;
            if calls == 3 {
                return Err(StoreError::InvalidInput("export canceled".into()));
            }
            Ok(())
        })
        .unwrap_err();
    assert_eq!(calls, 3);
    assert_eq!(err.to_string(), "export canceled");
}

#[test]
fn destroy_removes_every_file_and_can_run_twice() {
    let f = fixture();
    let store = Store::create(&f.path, &key()).unwrap();
    // While open, the WAL and shared-memory files exist too.
    assert!(f.path.with_file_name("history.db-wal").exists());
    drop(store);
    fs::write(f.path.with_file_name("history.db-journal"), b"x").unwrap();
    fs::write(f.path.with_file_name("history.db-wal"), b"x").unwrap();
    destroy(&f.path).unwrap();
    assert!(files_in(f.path.parent().unwrap()).is_empty());
    destroy(&f.path).unwrap();
    assert!(matches!(
        Store::open(&f.path, &key()),
        Err(StoreError::Missing)
    ));
}

#[test]
fn error_messages_never_contain_the_key() {
    let f = fixture();
    let key = key();
    drop(Store::create(&f.path, &key).unwrap());
    let wrong = DatabaseKey::generate().unwrap();
    let err = Store::open(&f.path, &wrong).unwrap_err();
    for k in [&key, &wrong] {
        let hex_key = k.to_hex();
        assert!(!err.to_string().contains(hex_key.expose().as_str()));
        assert!(!format!("{err:?}").contains(hex_key.expose().as_str()));
    }
}

/// "Delete all history": every row, its thumbnail and its search entries go in one transaction,
/// and a delete of each is queued, readable as ordinary outbox actions.
#[test]
fn deleting_all_history_empties_the_store_and_queues_every_delete() {
    let f = fixture();
    let mut store = Store::create(&f.path, &key()).unwrap();
    let all: Vec<_> = (0..300)
        .map(|i| {
            generation(
                &format!("g{i:03}"),
                &format!("2025-03-01T10:{:02}:{:02}Z", i / 60, i % 60),
            )
        })
        .collect();
    store.upsert_generations(&all).unwrap();
    assert!(store.put_thumbnail("g007", "image/png", b"png").unwrap());
    store
        .enqueue(&[(
            "already".into(),
            crate::store::OutboxAction::DeleteGeneration {
                generation_id: "g001".into(),
            },
        )])
        .unwrap();

    assert_eq!(
        store.delete_all_generations().unwrap(),
        299,
        "g001 was queued already"
    );
    assert_eq!(store.count_generations().unwrap(), 0);
    assert_eq!(store.thumbnail("g007").unwrap(), None);
    assert!(fts_matches(&store, "fox").is_empty());
    let outbox = store.outbox().unwrap();
    assert_eq!(outbox.len(), 300);
    let mut ids: Vec<String> = outbox
        .iter()
        .map(|e| match &e.action {
            crate::store::OutboxAction::DeleteGeneration { generation_id } => generation_id.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 300);
    // The search index still works for what comes next.
    store
        .upsert_generations(&[generation("new", "2025-03-02T00:00:00Z")])
        .unwrap();
    assert_eq!(fts_matches(&store, "fox"), vec!["new"]);
    assert!(store.purge_deleted_search_entries().unwrap());
}
