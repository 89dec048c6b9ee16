//! The outbox (migration 0004): what the user did on this device that the server has not heard
//! of yet, kept in the encrypted store so it survives going offline, quitting and crashing.
//!
//! An action's local effect is applied in the same transaction that queues it — a deleted
//! generation leaves the Library at once, an edited profile field shows its new value, a
//! generation composed offline appears as queued — so the app shows what the user did whether
//! or not the server has been told. `crate::sync` sends the pending actions in order, each
//! under its client id so that sending twice is harmless, and reports the result here.

use rand::distr::{Alphanumeric, SampleString};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};

use super::{now, write_cursor, write_generations, Result, Store, StoreError, SEARCH_PURGE_KEY};
use crate::model::{Generation, GenerationRequest, Status};

/// A profile field the user may change (the rules let a client write only these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", tag = "field", content = "value")]
pub enum ProfileField {
    DisplayName(Option<String>),
    AnalyticsOptIn(bool),
}

/// One action waiting for the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum OutboxAction {
    /// Delete one generation (server: tombstone it, remove its media).
    #[serde(rename_all = "camelCase")]
    DeleteGeneration { generation_id: String },
    /// Change one field of the profile.
    #[serde(rename_all = "camelCase")]
    SetProfileField { change: ProfileField },
    /// A generation composed while the server could not be reached.
    #[serde(rename_all = "camelCase")]
    CreateGeneration { request: GenerationRequest },
}

impl OutboxAction {
    fn kind(&self) -> &'static str {
        match self {
            OutboxAction::DeleteGeneration { .. } => "delete_generation",
            OutboxAction::SetProfileField { .. } => "set_profile_field",
            OutboxAction::CreateGeneration { .. } => "create_generation",
        }
    }

    fn generation_id(&self) -> Option<&str> {
        match self {
            OutboxAction::DeleteGeneration { generation_id } => Some(generation_id),
            OutboxAction::CreateGeneration { request } => Some(&request.id),
            OutboxAction::SetProfileField { .. } => None,
        }
    }
}

/// A random client id for a queued action or a new generation: the id that makes sending it
/// twice harmless.
pub fn new_client_id() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 20)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum OutboxState {
    /// Waiting to be sent (again, after a lost connection).
    Pending,
    /// The server refused it; kept, with the reason, until the user retries or dismisses it.
    Refused,
}

/// Why the server refused an action: its stable error code and the message for the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    pub code: String,
    pub message: String,
}

/// A queued action as the app lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    /// The order actions are sent in.
    pub seq: i64,
    /// The client id: a generation's own id, or a random one.
    pub id: String,
    pub action: OutboxAction,
    pub created_at: String,
    pub state: OutboxState,
    pub attempts: u32,
    pub refusal: Option<Refusal>,
}

impl Store {
    /// Queues `actions` (client id, action) and applies their local effects, all in one
    /// transaction: a deleted generation is removed (with its thumbnail and search entry), a
    /// profile field takes its new value. Generations composed offline go through
    /// [`Store::enqueue_generation`] instead.
    pub fn enqueue(&mut self, actions: &[(String, OutboxAction)]) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (id, action) in actions {
            match action {
                OutboxAction::DeleteGeneration { generation_id } => {
                    let removed = tx
                        .prepare_cached("DELETE FROM generations WHERE id = ?1")?
                        .execute([generation_id])?;
                    if removed > 0 {
                        write_cursor(&tx, SEARCH_PURGE_KEY, "due")?;
                    }
                }
                OutboxAction::SetProfileField { change } => {
                    let sql = match change {
                        ProfileField::DisplayName(_) => "UPDATE profile SET display_name = ?1",
                        ProfileField::AnalyticsOptIn(_) => {
                            "UPDATE profile SET analytics_opt_in = ?1"
                        }
                    };
                    let mut stmt = tx.prepare_cached(sql)?;
                    match change {
                        ProfileField::DisplayName(name) => stmt.execute([name])?,
                        ProfileField::AnalyticsOptIn(on) => stmt.execute([on])?,
                    };
                }
                OutboxAction::CreateGeneration { .. } => {
                    return Err(StoreError::InvalidInput(
                        "a generation is queued with enqueue_generation".into(),
                    ))
                }
            }
            insert(&tx, id, action)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// "Delete all history": every generation leaves this device at once and a delete of each
    /// is queued, in one transaction. The search index is emptied in one step rather than row
    /// by row (its per-row trigger is set aside for the statement), so this takes a second or
    /// two for 100,000 generations, not minutes. Returns how many were queued.
    pub fn delete_all_generations(&mut self) -> Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let created_at = now()?;
        let queued = tx.execute(
            "INSERT INTO outbox (id, kind, generation_id, payload_json, created_at)
             SELECT 'delete-' || id || '-' || lower(hex(randomblob(8))), 'delete_generation', id,
                    json_object('kind', 'deleteGeneration', 'generationId', id), ?1
             FROM generations
             WHERE id NOT IN (SELECT generation_id FROM outbox
                              WHERE kind = 'delete_generation' AND generation_id IS NOT NULL)
             ORDER BY seq DESC",
            [&created_at],
        )?;
        let trigger: String = tx.query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'generations_fts_delete'",
            [],
            |r| r.get(0),
        )?;
        tx.execute_batch(
            "DROP TRIGGER generations_fts_delete;
             DELETE FROM generations;
             INSERT INTO generations_fts (generations_fts) VALUES ('delete-all');",
        )?;
        tx.execute_batch(&trigger)?;
        write_cursor(&tx, SEARCH_PURGE_KEY, "due")?;
        tx.commit()?;
        Ok(queued)
    }

    /// Queues a generation composed while offline, and shows `placeholder` (queued, not yet
    /// charged) in the Library until the server's own version replaces it.
    pub fn enqueue_generation(
        &mut self,
        request: &GenerationRequest,
        placeholder: &Generation,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        write_generations(&tx, std::slice::from_ref(placeholder))?;
        insert(
            &tx,
            &request.id,
            &OutboxAction::CreateGeneration {
                request: request.clone(),
            },
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Every queued action, in the order they are sent.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        self.outbox_where("1")
    }

    /// The actions still to send, in order.
    pub fn pending_outbox(&self) -> Result<Vec<OutboxEntry>> {
        self.outbox_where("state = 'pending'")
    }

    /// How many actions wait to be sent, and how many the server refused.
    pub fn outbox_counts(&self) -> Result<(u64, u64)> {
        let (pending, refused): (i64, i64) = self.conn.query_row(
            "SELECT count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'refused')
             FROM outbox",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((pending.unsigned_abs(), refused.unsigned_abs()))
    }

    fn outbox_where(&self, condition: &str) -> Result<Vec<OutboxEntry>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT seq, id, payload_json, created_at, state, attempts, error_code, error_message
             FROM outbox WHERE {condition} ORDER BY seq"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, u32>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })?;
        let mut entries = Vec::new();
        for row in rows {
            let (seq, id, payload, created_at, state, attempts, code, message) = row?;
            let action = serde_json::from_str(&payload).map_err(|e| {
                StoreError::Corrupt(format!("queued action {seq} cannot be read: {e}"))
            })?;
            entries.push(OutboxEntry {
                seq,
                id,
                action,
                created_at,
                state: if state == "refused" {
                    OutboxState::Refused
                } else {
                    OutboxState::Pending
                },
                attempts,
                refusal: code.map(|code| Refusal {
                    code,
                    message: message.unwrap_or_default(),
                }),
            });
        }
        Ok(entries)
    }

    /// The server accepted action `seq`: it leaves the outbox, and what the server answered
    /// (the generation it created) is stored in the same transaction.
    pub fn outbox_sent(&mut self, seq: i64, answer: Option<&Generation>) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(generation) = answer {
            write_generations(&tx, std::slice::from_ref(generation))?;
        }
        tx.prepare_cached("DELETE FROM outbox WHERE seq = ?1")?
            .execute([seq])?;
        tx.commit()?;
        Ok(())
    }

    /// The server accepted all the actions `seqs` (a batch of deletes): they leave the outbox
    /// in one transaction.
    pub fn outbox_sent_all(&mut self, seqs: &[i64]) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut remove = tx.prepare_cached("DELETE FROM outbox WHERE seq = ?1")?;
            for seq in seqs {
                remove.execute([seq])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The server refused action `seq`: it stays, refused, with the reason; a generation
    /// composed offline shows as failed with that reason.
    pub fn outbox_refused(&mut self, seq: i64, refusal: &Refusal) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx
            .prepare_cached(
                "UPDATE outbox SET state = 'refused', attempts = attempts + 1, error_code = ?2,
                     error_message = ?3
                 WHERE seq = ?1",
            )?
            .execute(params![seq, refusal.code, refusal.message])?;
        if changed == 1 {
            set_placeholder_status(&tx, seq, Status::Failed, Some(&refusal.message))?;
        }
        tx.commit()?;
        Ok(())
    }

    /// "Retry": a refused action is pending again (sent with the next sync).
    pub fn outbox_retry(&mut self, seq: i64) -> Result<bool> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx
            .prepare_cached(
                "UPDATE outbox SET state = 'pending', error_code = NULL, error_message = NULL
                 WHERE seq = ?1 AND state = 'refused'",
            )?
            .execute([seq])?;
        if changed == 1 {
            set_placeholder_status(&tx, seq, Status::Queued, None)?;
        }
        tx.commit()?;
        Ok(changed == 1)
    }

    /// "Dismiss": a refused action is dropped, and its local effect undone where the server's
    /// state is the truth again — a generation composed offline disappears; a refused delete
    /// makes the next sync read the generations again, so the one still on the server returns.
    pub fn outbox_dismiss(&mut self, seq: i64) -> Result<bool> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: Option<(String, Option<String>)> = tx
            .prepare_cached(
                "SELECT kind, generation_id FROM outbox WHERE seq = ?1 AND state = 'refused'",
            )?
            .query_row([seq], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((kind, generation_id)) = found else {
            return Ok(false);
        };
        match (kind.as_str(), generation_id) {
            ("create_generation", Some(id)) => {
                tx.prepare_cached("DELETE FROM generations WHERE id = ?1")?
                    .execute([id])?;
            }
            ("delete_generation", _) => {
                tx.prepare_cached(
                    "DELETE FROM sync_state WHERE key IN ('cursor.generations', 'sync.profile')",
                )?
                .execute([])?;
            }
            _ => {}
        }
        tx.prepare_cached("DELETE FROM outbox WHERE seq = ?1")?
            .execute([seq])?;
        tx.commit()?;
        Ok(true)
    }
}

fn insert(tx: &rusqlite::Transaction<'_>, id: &str, action: &OutboxAction) -> Result<()> {
    let payload = serde_json::to_string(action)
        .map_err(|e| StoreError::InvalidInput(format!("the action cannot be saved: {e}")))?;
    let inserted = tx
        .prepare_cached(
            "INSERT INTO outbox (id, kind, generation_id, payload_json, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING",
        )?
        .execute(params![
            id,
            action.kind(),
            action.generation_id(),
            payload,
            now()?
        ])?;
    if inserted == 0 {
        return Err(StoreError::InvalidInput(format!(
            "an action with the id {id} is already queued"
        )));
    }
    Ok(())
}

/// Sets the status (and error) of the placeholder of a generation composed offline, if `seq`
/// is one.
fn set_placeholder_status(
    tx: &rusqlite::Transaction<'_>,
    seq: i64,
    status: Status,
    error: Option<&str>,
) -> Result<()> {
    tx.prepare_cached(
        "UPDATE generations SET status = ?2, error = ?3
         WHERE id = (SELECT generation_id FROM outbox WHERE seq = ?1 AND kind = 'create_generation')",
    )?
    .execute(params![seq, status.as_str(), error])?;
    Ok(())
}

/// Whether a sync must leave generation `id` alone because the user deleted it here and the
/// server has not been told yet (so it would come back, then vanish again).
pub(super) fn delete_is_pending(tx: &rusqlite::Transaction<'_>, id: &str) -> Result<bool> {
    Ok(tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE generation_id = ?1
                 AND kind = 'delete_generation' AND state = 'pending')",
        )?
        .query_row([id], |r| r.get(0))?)
}
