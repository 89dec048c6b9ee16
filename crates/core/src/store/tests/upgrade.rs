//! A database made by the first schema is upgraded without losing or changing a row.

use super::*;
use crate::model::VoiceOver;

/// Writes `g` the way the first version of the app did (migration 0001's columns).
fn write_v1(store: &Store, g: &Generation) {
    store
        .conn
        .execute(
            "INSERT INTO generations (id, prompt, mode, settings_json, references_json, status,
                 progress, credits_charged, output_url, thumbnail_url, error, created_at,
                 created_key, updated_at, deleted, deleted_at, duration_seconds, resolution,
                 aspect_ratio, style_preset)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 0, NULL, ?15,
                 ?16, ?17, ?18)",
            params![
                g.id,
                g.prompt,
                g.mode.as_str(),
                serde_json::to_string(&g.settings).unwrap(),
                serde_json::to_string(&g.references).unwrap(),
                g.status.as_str(),
                g.progress,
                g.credits_charged,
                g.output_url,
                g.thumbnail_url,
                g.error,
                g.created_at,
                time_key(&g.created_at).unwrap(),
                g.updated_at,
                g.settings.duration_seconds,
                g.settings.resolution.as_str(),
                g.settings.aspect_ratio.as_str(),
                g.settings.style_preset,
            ],
        )
        .unwrap();
}

fn history() -> Vec<Generation> {
    let mut all = Vec::new();
    for i in 0..300 {
        // Several per second, several per microsecond, fractions that do not sort as text.
        let created_at = match i % 3 {
            0 => format!("2025-03-01T10:{:02}:{:02}Z", i / 60, i % 60),
            1 => format!("2025-03-01T10:{:02}:{:02}.5Z", i / 60, i % 60),
            _ => format!("2025-03-01T11:{:02}:{:02}+01:00", i / 60, i % 60),
        };
        let mut g = generation(&format!("g{i:03}"), &created_at);
        g.prompt = format!("take {i} of the lighthouse at dawn");
        if i % 4 == 0 {
            g.settings.voice_over = Some(VoiceOver {
                language: "en".into(),
                voice: "narrator".into(),
                script: Some(format!("chapter{i} the keeper wakes")),
            });
        }
        if i % 5 == 0 {
            g.settings.style_preset = None;
            g.status = Status::Failed;
            g.error = Some("the render farm was busy".into());
            g.output_url = None;
        }
        all.push(g);
    }
    all
}

#[test]
fn a_first_schema_database_upgrades_without_losing_a_row() {
    let f = fixture();
    let key = key();
    let all = history();
    {
        let store = Store::create_at_version(&f.path, &key, 1).unwrap();
        let version: i64 = store
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, 1);
        // Written in reverse creation order, so the old row numbers are not creation order.
        for g in all.iter().rev() {
            write_v1(&store, g);
        }
        for g in all.iter().step_by(7) {
            assert!(store
                .put_thumbnail(&g.id, "image/png", g.id.as_bytes())
                .unwrap());
        }
        store.put_profile(&profile("u1")).unwrap();
        store
            .conn
            .execute(
                "INSERT INTO credit_ledger (id, amount, reason, generation_id, balance_after,
                     created_at, created_key, updated_at)
                 VALUES ('l1', -840, 'generation', 'g001', 360, '2025-03-01T10:00:01Z', 1, '2025-03-01T10:00:01Z')",
                [],
            )
            .unwrap();
        store.set_cursor("cursor.generations", "{\"x\":1}").unwrap();
    }

    let mut store = Store::open(&f.path, &same_key(&key)).unwrap();
    let version: i64 = store
        .conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, MIGRATIONS.len() as i64);

    // Every row, every field.
    assert_eq!(store.count_generations().unwrap(), all.len() as u64);
    for g in &all {
        assert_eq!(store.generation(&g.id).unwrap().as_ref(), Some(g));
    }
    let mut streamed = Vec::new();
    store
        .for_each_generation(|g| {
            streamed.push(g);
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let mut oldest_first = all.clone();
    oldest_first.sort_by_key(|g| (time_key(&g.created_at).unwrap(), g.id.clone()));
    assert_eq!(streamed, oldest_first);

    // Thumbnails stayed with their generations.
    for g in all.iter().step_by(7) {
        assert_eq!(
            store.thumbnail(&g.id).unwrap(),
            Some(("image/png".to_string(), g.id.as_bytes().to_vec()))
        );
    }
    let thumbnails: i64 = store
        .conn
        .query_row("SELECT count(*) FROM thumbnails", [], |r| r.get(0))
        .unwrap();
    assert_eq!(thumbnails, all.iter().step_by(7).count() as i64);
    assert_eq!(store.profile().unwrap(), Some(profile("u1")));
    assert_eq!(store.ledger().unwrap().len(), 1);
    assert_eq!(
        store.cursor("cursor.generations").unwrap().as_deref(),
        Some("{\"x\":1}")
    );

    // The new columns were filled from the old settings.
    let scripts: i64 = store
        .conn
        .query_row(
            "SELECT count(*) FROM generations WHERE voice_script LIKE 'chapter%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(scripts, 75);

    // Searchable, prompts and scripts, in creation order.
    let newest_first: Vec<String> = oldest_first.iter().rev().map(|g| g.id.clone()).collect();
    let everything = LibraryQuery {
        limit: 500,
        ..LibraryQuery::default()
    };
    let ids = |page: QueryPage| -> Vec<String> {
        page.items.into_iter().map(|i| i.generation.id).collect()
    };
    assert_eq!(ids(store.query(&everything).unwrap()), newest_first);
    let lighthouse = LibraryQuery {
        text: Some("lighthou".into()),
        ..everything.clone()
    };
    assert_eq!(ids(store.query(&lighthouse).unwrap()), newest_first);
    let script = LibraryQuery {
        text: Some("chapter40 ".into()),
        ..everything.clone()
    };
    assert_eq!(ids(store.query(&script).unwrap()), ["g040"]);
    assert_eq!(store.counts(&everything).unwrap().total, 300);

    // Writes keep working on the upgraded file.
    store
        .upsert_generations(&[generation("g-new", "2026-01-01T00:00:00Z")])
        .unwrap();
    assert_eq!(
        store.query(&everything).unwrap().items[0].generation.id,
        "g-new"
    );
    let integrity: String = store
        .conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    // FTS5 compares its index with the table and fails if they differ.
    store
        .conn
        .execute(
            "INSERT INTO generations_fts (generations_fts, rank) VALUES ('integrity-check', 1)",
            [],
        )
        .unwrap();
}

#[test]
fn a_failed_upgrade_leaves_the_first_schema_intact() {
    let f = fixture();
    let key = key();
    {
        let store = Store::create_at_version(&f.path, &key, 1).unwrap();
        write_v1(&store, &generation("g1", "2025-03-01T10:00:00Z"));
        // A thumbnail of no generation (impossible with foreign keys on, which they always
        // are): the upgrade's reference check must refuse to commit.
        store
            .conn
            .execute_batch(
                "PRAGMA foreign_keys = OFF;
                 INSERT INTO thumbnails VALUES ('ghost', 'image/png', x'00', '2025-01-01T00:00:00Z');",
            )
            .unwrap();
    }
    let err = Store::open(&f.path, &key).unwrap_err();
    assert_eq!(err.code(), "store.corrupt", "{err}");
    assert!(err.to_string().contains("0002_library"), "{err}");
    // Nothing of the failed upgrade stuck: still version 1, with its rows and old indexes.
    let conn = Connection::open(&f.path).unwrap();
    set_key(&conn, &key).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 1);
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM generations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 1);
    let old_index: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'generations_newest'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(old_index, 1);
}

#[test]
fn an_action_refused_before_0006_is_still_refused_and_keeps_its_reason() {
    let f = fixture();
    let key = key();
    {
        let store = Store::create_at_version(&f.path, &key, 5).unwrap();
        store
            .conn
            .execute_batch(
                "INSERT INTO outbox (seq, id, kind, generation_id, payload_json, created_at, state,
                     attempts, error_code, error_message)
                 VALUES
                 (1, 'a1', 'delete_generation', 'g1',
                  '{\"kind\":\"deleteGeneration\",\"generationId\":\"g1\"}',
                  '2025-03-01T10:00:00Z', 'failed', 2, 'permission_denied', 'Not yours.'),
                 (2, 'a2', 'delete_generation', 'g2',
                  '{\"kind\":\"deleteGeneration\",\"generationId\":\"g2\"}',
                  '2025-03-01T10:00:01Z', 'pending', 0, NULL, NULL);",
            )
            .unwrap();
    }
    let mut store = Store::open(&f.path, &same_key(&key)).unwrap();
    let outbox = store.outbox().unwrap();
    assert_eq!(
        outbox.iter().map(|e| e.state).collect::<Vec<_>>(),
        [OutboxState::Refused, OutboxState::Pending]
    );
    assert_eq!(outbox[0].attempts, 2);
    assert_eq!(
        outbox[0].refusal,
        Some(Refusal {
            code: "permission_denied".into(),
            message: "Not yours.".into(),
        })
    );
    assert_eq!(store.outbox_counts().unwrap(), (1, 1));
    // The rebuilt table still takes the states the app writes, and only those.
    assert!(store.outbox_retry(1).unwrap());
    assert_eq!(store.outbox_counts().unwrap(), (2, 0));
    let bad = store
        .conn
        .execute("UPDATE outbox SET state = 'failed' WHERE seq = 1", []);
    assert!(bad.is_err(), "the old word is refused by the CHECK");
}
