//! Generations as server-side operations: create (charging credits), cancel and fail (refunding
//! them), tombstone, and the worker's progress steps — each one transaction over the
//! `users/{uid}/generations/{id}` document, the profile's balance and the ledger.
//!
//! A generation document holds exactly the fields of `cleom_core::model::Generation` (minus the
//! id, which is the document id), so it is read into that type, changed, and written back.

use cleom_core::model::{Generation, GenerationRequest, Mode, Status};

use crate::account;
use crate::db::{get_doc, Tx};
use crate::error::StoreError;
use crate::firestore::value::{fields_from_plain, Fields, Value};

/// Document fields holding timestamps (stored as `timestampValue`, read back as RFC 3339).
const TIMESTAMP_FIELDS: [&str; 3] = ["createdAt", "updatedAt", "deletedAt"];

#[derive(Debug, thiserror::Error)]
pub(crate) enum GenerationError {
    #[error("there is no generation {0}")]
    NotFound(String),
    #[error("a generation with id {0} already exists with different content")]
    IdConflict(String),
    #[error("this generation costs {cost} credits but the balance is {balance}")]
    InsufficientCredits { cost: i64, balance: i64 },
    #[error("the generation is {0} and can no longer be canceled")]
    NotCancelable(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub(crate) fn generation_path(uid: &str, id: &str) -> String {
    format!("users/{uid}/generations/{id}")
}

fn to_fields(generation: &Generation) -> Result<Fields, StoreError> {
    let corrupt = |reason: String| StoreError::CorruptDocument {
        path: generation.id.clone(),
        reason,
    };
    let plain = serde_json::to_value(generation).map_err(|e| corrupt(e.to_string()))?;
    let serde_json::Value::Object(mut map) = plain else {
        return Err(corrupt("a generation must serialise to an object".into()));
    };
    map.remove("id");
    Ok(fields_from_plain(&map, &TIMESTAMP_FIELDS))
}

pub(crate) fn from_fields(id: &str, fields: &Fields) -> Result<Generation, StoreError> {
    let mut plain = Value::Map(fields.clone()).to_plain();
    plain["id"] = serde_json::Value::String(id.to_string());
    serde_json::from_value(plain).map_err(|e| StoreError::CorruptDocument {
        path: id.to_string(),
        reason: e.to_string(),
    })
}

fn load(tx: &Tx<'_>, uid: &str, id: &str) -> Result<Option<Generation>, StoreError> {
    tx.get(&generation_path(uid, id))?
        .map(|doc| from_fields(id, &doc.fields))
        .transpose()
}

fn save(tx: &Tx<'_>, uid: &str, generation: &mut Generation) -> Result<(), StoreError> {
    generation.updated_at = tx.now.to_rfc3339();
    tx.set(
        &generation_path(uid, &generation.id),
        &to_fields(generation)?,
    )
}

/// Reads one generation outside a transaction.
pub(crate) fn get(
    conn: &rusqlite::Connection,
    uid: &str,
    id: &str,
) -> Result<Option<Generation>, StoreError> {
    get_doc(conn, &generation_path(uid, id))?
        .map(|doc| from_fields(id, &doc.fields))
        .transpose()
}

/// Creates the generation and charges `cost`, or — for a retry of the same request — answers
/// the generation that request already created, charging nothing.
pub(crate) fn create(
    tx: &Tx<'_>,
    uid: &str,
    request: &GenerationRequest,
    mode: Mode,
    cost: i64,
) -> Result<Generation, GenerationError> {
    if let Some(existing) = load(tx, uid, &request.id)? {
        let same = existing.prompt == request.prompt
            && existing.settings == request.settings
            && existing.references == request.references;
        return if same {
            Ok(existing)
        } else {
            Err(GenerationError::IdConflict(request.id.clone()))
        };
    }
    let profile = account::ensure_profile(tx, uid)?;
    let balance = account::credit_balance(&profile);
    if balance < cost {
        return Err(GenerationError::InsufficientCredits { cost, balance });
    }
    account::move_credits(tx, uid, -cost, "generation", Some(&request.id))?;
    let now = tx.now.to_rfc3339();
    let mut generation = Generation {
        id: request.id.clone(),
        prompt: request.prompt.clone(),
        mode,
        settings: request.settings.clone(),
        references: request.references.clone(),
        status: Status::Queued,
        progress: 0.0,
        credits_charged: cost,
        output_url: None,
        thumbnail_url: None,
        error: None,
        created_at: now.clone(),
        updated_at: now,
        deleted: false,
        deleted_at: None,
    };
    save(tx, uid, &mut generation)?;
    tx.conn
        .execute(
            "INSERT OR IGNORE INTO jobs (uid, generation_id) VALUES (?1, ?2)",
            [uid, &request.id],
        )
        .map_err(StoreError::from)?;
    Ok(generation)
}

/// Ends an active generation as `status` and gives its credits back.
fn end_with_refund(
    tx: &Tx<'_>,
    uid: &str,
    generation: &mut Generation,
    status: Status,
) -> Result<(), StoreError> {
    generation.status = status;
    save(tx, uid, generation)?;
    if generation.credits_charged > 0 {
        account::move_credits(
            tx,
            uid,
            generation.credits_charged,
            "refund",
            Some(&generation.id),
        )?;
    }
    finish_job(tx, uid, &generation.id)
}

/// Removes a generation from the worker's job list.
pub(crate) fn finish_job(tx: &Tx<'_>, uid: &str, id: &str) -> Result<(), StoreError> {
    tx.conn.execute(
        "DELETE FROM jobs WHERE uid = ?1 AND generation_id = ?2",
        [uid, id],
    )?;
    Ok(())
}

/// Cancels a queued or running generation and refunds it.
pub(crate) fn cancel(tx: &Tx<'_>, uid: &str, id: &str) -> Result<Generation, GenerationError> {
    let mut generation =
        load(tx, uid, id)?.ok_or_else(|| GenerationError::NotFound(id.to_string()))?;
    if !generation.status.is_active() || generation.deleted {
        return Err(GenerationError::NotCancelable(generation.status.as_str()));
    }
    end_with_refund(tx, uid, &mut generation, Status::Canceled)?;
    Ok(generation)
}

/// Marks the generation deleted (a tombstone sync can see), canceling and refunding it first
/// if it is still running; answers the media tokens whose files must now be removed.
pub(crate) fn tombstone(tx: &Tx<'_>, uid: &str, id: &str) -> Result<Vec<String>, GenerationError> {
    let mut generation =
        load(tx, uid, id)?.ok_or_else(|| GenerationError::NotFound(id.to_string()))?;
    if generation.status.is_active() && !generation.deleted {
        end_with_refund(tx, uid, &mut generation, Status::Canceled)?;
    }
    if !generation.deleted {
        generation.deleted = true;
        generation.deleted_at = Some(tx.now.to_rfc3339());
        generation.output_url = None;
        generation.thumbnail_url = None;
        save(tx, uid, &mut generation)?;
    }
    let mut statement = tx
        .conn
        .prepare("SELECT token FROM media WHERE uid = ?1 AND generation_id = ?2")
        .map_err(StoreError::from)?;
    let tokens = statement
        .query_map([uid, id], |r| r.get(0))
        .and_then(|rows| rows.collect::<Result<Vec<String>, _>>())
        .map_err(StoreError::from)?;
    tx.conn
        .execute(
            "DELETE FROM media WHERE uid = ?1 AND generation_id = ?2",
            [uid, id],
        )
        .map_err(StoreError::from)?;
    Ok(tokens)
}

/// Generations the worker has to finish: (uid, id).
pub(crate) fn pending_jobs(
    conn: &rusqlite::Connection,
) -> Result<Vec<(String, String)>, StoreError> {
    let mut statement = conn.prepare("SELECT uid, generation_id FROM jobs ORDER BY rowid")?;
    let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The generation if the worker should still work on it; otherwise drops its job.
fn load_active(tx: &Tx<'_>, uid: &str, id: &str) -> Result<Option<Generation>, StoreError> {
    match load(tx, uid, id)? {
        Some(g) if g.status.is_active() && !g.deleted => Ok(Some(g)),
        _ => {
            finish_job(tx, uid, id)?;
            Ok(None)
        }
    }
}

/// Where a job stands, for resuming it.
pub(crate) fn progress_of(
    conn: &rusqlite::Connection,
    uid: &str,
    id: &str,
) -> Result<Option<f64>, StoreError> {
    Ok(get(conn, uid, id)?
        .filter(|g| g.status.is_active() && !g.deleted)
        .map(|g| g.progress))
}

/// Moves an active generation to `running` at `progress`; `false` if it is no longer active.
pub(crate) fn advance(tx: &Tx<'_>, uid: &str, id: &str, progress: f64) -> Result<bool, StoreError> {
    let Some(mut generation) = load_active(tx, uid, id)? else {
        return Ok(false);
    };
    generation.status = Status::Running;
    generation.progress = progress;
    save(tx, uid, &mut generation)?;
    Ok(true)
}

/// Marks an active generation succeeded with its media; `false` if it is no longer active (the
/// caller then removes the media it wrote).
pub(crate) fn succeed(
    tx: &Tx<'_>,
    uid: &str,
    id: &str,
    media_token: &str,
    output_url: String,
    thumbnail_url: String,
) -> Result<bool, StoreError> {
    let Some(mut generation) = load_active(tx, uid, id)? else {
        return Ok(false);
    };
    generation.status = Status::Succeeded;
    generation.progress = 1.0;
    generation.output_url = Some(output_url);
    generation.thumbnail_url = Some(thumbnail_url);
    save(tx, uid, &mut generation)?;
    tx.conn.execute(
        "INSERT INTO media (token, uid, generation_id) VALUES (?1, ?2, ?3)",
        [media_token, uid, id],
    )?;
    finish_job(tx, uid, id)?;
    Ok(true)
}

/// Marks an active generation failed with `error` and refunds it.
pub(crate) fn fail(tx: &Tx<'_>, uid: &str, id: &str, error: String) -> Result<(), StoreError> {
    let Some(mut generation) = load_active(tx, uid, id)? else {
        return Ok(());
    };
    generation.error = Some(error);
    end_with_refund(tx, uid, &mut generation, Status::Failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleom_core::model::{Reference, ReferenceKind, Settings, VoiceOver};

    #[test]
    fn a_generation_survives_the_document_round_trip() {
        let generation = Generation {
            id: "g1".into(),
            prompt: "a fox".into(),
            mode: Mode::ImageToVideo,
            settings: Settings {
                voice_over: Some(VoiceOver {
                    language: "en".into(),
                    voice: "warm".into(),
                    script: None,
                }),
                style_preset: Some("Anime".into()),
                ..Settings::default()
            },
            references: vec![Reference {
                name: "a.png".into(),
                kind: ReferenceKind::Image,
                size_bytes: 10,
            }],
            status: Status::Running,
            progress: 0.0,
            credits_charged: 700,
            output_url: None,
            thumbnail_url: None,
            error: None,
            created_at: "2024-01-02T03:04:05.123456Z".into(),
            updated_at: "2024-01-02T03:04:06Z".into(),
            deleted: false,
            deleted_at: None,
        };
        let fields = to_fields(&generation).unwrap();
        assert!(matches!(fields["updatedAt"], Value::Timestamp(_)));
        assert!(matches!(fields["progress"], Value::Double(_)));
        assert!(matches!(fields["creditsCharged"], Value::Integer(700)));
        assert!(!fields.contains_key("id"));
        assert_eq!(from_fields("g1", &fields).unwrap(), generation);
    }
}
