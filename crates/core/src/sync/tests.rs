//! Hostile server data: whatever a page of generation documents holds, storing it succeeds,
//! every document that can be read is stored, every other one is set aside with a reason, and
//! the cursor moves on. One bad document must never stall a sync.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::plan::{self, Collection};
use crate::model::Generation;
use crate::remote::documents;
use crate::remote::firestore::{Document, Value};
use crate::secret::DatabaseKey;
use crate::store::Store;

const NAME: &str = "projects/demo/databases/(default)/documents/users/u1/generations";

fn valid(i: usize) -> BTreeMap<String, Value> {
    let generation: Generation = serde_json::from_value(serde_json::json!({
        "id": format!("g{i}"), "prompt": format!("take {i}"), "mode": "text_to_video",
        "settings": {"durationSeconds": 5, "resolution": "1080p"},
        "status": "succeeded", "progress": 1.0,
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": format!("2026-01-01T00:00:{:02}.{i:06}Z", i % 60)
    }))
    .unwrap();
    documents::generation_to_fields(&generation)
}

/// Any value a document field may hold, nested a little.
fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Boolean),
        any::<i64>().prop_map(Value::Integer),
        prop_oneof![
            any::<f64>(),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(-1.0e308)
        ]
        .prop_map(Value::Double),
        Just(Value::Timestamp("2026-02-03T04:05:06Z".into())),
        ".{0,12}".prop_map(Value::String),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Value::Bytes),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..3).prop_map(Value::Map),
        ]
    })
}

const FIELDS: [&str; 15] = [
    "prompt",
    "mode",
    "settings",
    "references",
    "status",
    "progress",
    "creditsCharged",
    "outputUrl",
    "thumbnailUrl",
    "error",
    "createdAt",
    "updatedAt",
    "deleted",
    "deletedAt",
    "somethingNew",
];

/// A page: each document valid, or valid with one field replaced (or removed) by anything.
fn any_page() -> impl Strategy<Value = Vec<Document>> {
    proptest::collection::vec(
        proptest::option::of((0..FIELDS.len(), proptest::option::of(any_value()))),
        1..12,
    )
    .prop_map(|changes| {
        changes
            .into_iter()
            .enumerate()
            .map(|(i, change)| {
                let mut fields = valid(i);
                if let Some((field, value)) = change {
                    match value {
                        Some(value) => fields.insert(FIELDS[field].to_string(), value),
                        None => fields.remove(FIELDS[field]),
                    };
                }
                Document {
                    name: format!("{NAME}/g{i}"),
                    fields,
                    create_time: None,
                    update_time: None,
                }
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn any_page_is_stored_or_set_aside_and_the_cursor_moves_on(page in any_page()) {
        let dir = tempfile::tempdir().unwrap();
        let mut store =
            Store::create(&dir.path().join("h.db"), &DatabaseKey::generate().unwrap()).unwrap();
        let read = plan::read_page(Collection::Generations, &page, documents::generation_from_document);
        prop_assert_eq!(read.items.len() + read.unread.set_aside.len(), page.len());
        let cursor = plan::cursor_after(&page);
        let has_timestamp = page
            .iter()
            .any(|d| matches!(d.fields.get("updatedAt"), Some(Value::Timestamp(_))));
        prop_assert_eq!(cursor.is_ok(), has_timestamp);
        let Ok(Some(cursor)) = cursor else { return Ok(()) };
        let next = serde_json::to_string(&cursor).unwrap();
        store
            .apply_generations_page(&read.items, &read.unread, "cursor.generations", &next)
            .unwrap();
        for item in &read.items {
            if !item.deleted {
                prop_assert!(store.generation(&item.id).unwrap().is_some(), "{} stored", item.id);
            }
        }
        let set_aside = store.set_aside().unwrap();
        prop_assert_eq!(set_aside.len(), read.unread.set_aside.len());
        prop_assert!(set_aside.iter().all(|s| !s.reason.is_empty()));
        prop_assert_eq!(store.cursor("cursor.generations").unwrap(), Some(next));
    }
}

#[test]
fn a_set_aside_document_read_later_leaves_the_list() {
    let dir = tempfile::tempdir().unwrap();
    let mut store =
        Store::create(&dir.path().join("h.db"), &DatabaseKey::generate().unwrap()).unwrap();
    let mut broken = valid(1);
    broken.insert("progress".into(), Value::Double(f64::NAN));
    let page = |fields: Vec<BTreeMap<String, Value>>| -> Vec<Document> {
        fields
            .into_iter()
            .enumerate()
            .map(|(i, fields)| Document {
                name: format!("{NAME}/g{i}"),
                fields,
                create_time: None,
                update_time: None,
            })
            .collect()
    };
    let first = page(vec![valid(0), broken]);
    let read = plan::read_page(
        Collection::Generations,
        &first,
        documents::generation_from_document,
    );
    assert_eq!(read.items.len(), 1);
    store
        .apply_generations_page(&read.items, &read.unread, "c", "1")
        .unwrap();
    let (count, reason) = store.set_aside_summary().unwrap();
    assert_eq!(count, 1);
    assert!(
        reason.unwrap().contains("progress"),
        "the reason names the field"
    );
    // The server fixed it: it comes again, is read, and leaves the list.
    let second = page(vec![valid(0), valid(1)]);
    let read = plan::read_page(
        Collection::Generations,
        &second,
        documents::generation_from_document,
    );
    store
        .apply_generations_page(&read.items, &read.unread, "c", "2")
        .unwrap();
    assert_eq!(store.set_aside_summary().unwrap(), (0, None));
    assert!(store.generation("g1").unwrap().is_some());
}
