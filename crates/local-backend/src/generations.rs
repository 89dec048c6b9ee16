//! Generations as server-side operations: create (charging credits), cancel and fail
//! (refunding them), tombstone, and the worker's progress steps — each one Firestore `:commit`
//! over the `users/{uid}/generations/{id}` document, the profile's balance, the ledger and the
//! worker's job list, made by the admin client of [`AdminClient`].
//!
//! Every commit is conditional on the documents it read (`updateTime` preconditions, or
//! `exists: false` for new ones), and is retried from a fresh read when another request got
//! there first. That is what makes a repeated create with the same id charge once: its
//! generation write requires the document not to exist, in the same commit as the charge.
//!
//! The worker's job list lives in the store too, as `cleomJobs/{key}` documents (`uid`,
//! `generationId`, and the media token being written): a job is created in the commit that
//! creates the generation and removed in the commit that ends it, so no job is lost or left
//! over whatever crashes, and the list survives restarts. `firestore.rules` gives clients no
//! access to it.

use std::collections::BTreeMap;

use cleom_core::model::{Generation, GenerationRequest, Mode, Status};
use cleom_core::remote::documents::{generation_from_document, generation_to_fields};
use cleom_core::remote::firestore::{Document, Precondition, Value, Write};
use cleom_core::remote::RemoteError;

use crate::admin_client::AdminClient;
use crate::documents::{
    generation_path, job_path, profile_path, text_field, update_time, Fields, JOBS, MAX_ATTEMPTS,
};
use crate::ledger::{self, balance_write, ledger_write};
use crate::media;

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
    #[error("too many concurrent changes to this account; try again")]
    Contended,
    #[error(transparent)]
    Remote(#[from] RemoteError),
}

/// One pending job of the worker.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Job {
    pub(crate) uid: String,
    pub(crate) id: String,
    /// The media folder the worker was writing when it last stopped, if any.
    pub(crate) media_token: Option<String>,
}

/// Every pending job.
pub(crate) async fn pending_jobs(client: &AdminClient) -> Result<Vec<Job>, RemoteError> {
    let documents = client.query_all("", JOBS, None).await?;
    Ok(documents
        .iter()
        .filter_map(|d| {
            Some(Job {
                uid: text_field(d, "uid")?,
                id: text_field(d, "generationId")?,
                media_token: text_field(d, "mediaToken"),
            })
        })
        .collect())
}

/// The job documents of one account (for its deletion).
pub(crate) async fn jobs_of(client: &AdminClient, uid: &str) -> Result<Vec<Document>, RemoteError> {
    client
        .query_all("", JOBS, Some(("uid", Value::String(uid.to_string()))))
        .await
}

/// The generation and the document it was read from.
pub(crate) async fn get(
    client: &AdminClient,
    uid: &str,
    id: &str,
) -> Result<Option<(Generation, Document)>, RemoteError> {
    let Some(document) = client.get(&generation_path(uid, id)).await? else {
        return Ok(None);
    };
    Ok(Some((generation_from_document(&document)?, document)))
}

fn is_active(generation: &Generation) -> bool {
    generation.status.is_active() && !generation.deleted
}

/// The `n`-th transform result of write `index` as a timestamp text.
fn stamp(result: &cleom_core::remote::firestore::CommitResult, index: usize, n: usize) -> String {
    match result.transform_results.get(index).and_then(|r| r.get(n)) {
        Some(Value::Timestamp(t)) => t.clone(),
        _ => result.commit_time.clone(),
    }
}

/// Creates the generation and charges `cost`, or — for a retry of the same request — answers
/// the generation that request already created, charging nothing.
pub(crate) async fn create(
    client: &AdminClient,
    uid: &str,
    email: &str,
    request: &GenerationRequest,
    mode: Mode,
    cost: i64,
) -> Result<Generation, GenerationError> {
    for _ in 0..MAX_ATTEMPTS {
        if let Some(answer) = created_before(client, uid, request).await? {
            return answer;
        }
        let profile = ledger::ensure_profile(client, uid, email).await?;
        let balance = ledger::credit_balance(&profile)?;
        if balance < cost {
            // A twin of this request may have been charged between the two reads: its commit
            // made the generation and moved the balance at once, so it is visible now.
            if let Some(answer) = created_before(client, uid, request).await? {
                return answer;
            }
            return Err(GenerationError::InsufficientCredits { cost, balance });
        }
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
            created_at: String::new(),
            updated_at: String::new(),
            deleted: false,
            deleted_at: None,
        };
        let mut fields = generation_to_fields(&generation);
        fields.remove("createdAt");
        fields.remove("updatedAt");
        let writes = vec![
            balance_write(&profile, balance - cost)?,
            ledger_write(uid, -cost, "generation", Some(&request.id), balance - cost),
            Write::update(generation_path(uid, &request.id), fields)
                .server_time("createdAt")
                .server_time("updatedAt")
                .precondition(Precondition::Exists(false)),
            job_write(uid, &request.id),
        ];
        match client.commit(writes).await {
            Ok(result) => {
                generation.created_at = stamp(&result, 2, 0);
                generation.updated_at = stamp(&result, 2, 1);
                client.jobs.notify_one();
                return Ok(generation);
            }
            // The balance moved, or the same id was created meanwhile: read again.
            Err(RemoteError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(GenerationError::Contended)
}

/// The answer to a request whose id already names a generation: that generation if the request
/// is the same (a retry), a conflict if not; `None` if there is none yet.
async fn created_before(
    client: &AdminClient,
    uid: &str,
    request: &GenerationRequest,
) -> Result<Option<Result<Generation, GenerationError>>, GenerationError> {
    let Some((existing, _)) = get(client, uid, &request.id).await? else {
        return Ok(None);
    };
    let same = existing.prompt == request.prompt
        && existing.settings == request.settings
        && existing.references == request.references;
    Ok(Some(if same {
        Ok(existing)
    } else {
        Err(GenerationError::IdConflict(request.id.clone()))
    }))
}

fn job_write(uid: &str, id: &str) -> Write {
    Write::update(
        job_path(uid, id),
        BTreeMap::from([
            ("uid".to_string(), Value::String(uid.to_string())),
            ("generationId".to_string(), Value::String(id.to_string())),
        ]),
    )
    .server_time("createdAt")
}

/// A change of some fields of a generation, conditional on the version in `document`, with
/// `updatedAt` set to the request time.
fn change(document: &Document, fields: Fields, also_stamp: &[&str]) -> Result<Write, RemoteError> {
    let mask: Vec<String> = fields.keys().cloned().collect();
    let mut write = Write::update(document.name.clone(), fields)
        .mask(mask)
        .server_time("updatedAt");
    for field in also_stamp {
        write = write.server_time(*field);
    }
    Ok(write.precondition(Precondition::UpdateTime(update_time(document)?)))
}

/// The writes that give a generation's credits back (none when nothing was charged or the
/// profile is gone).
async fn refund(
    client: &AdminClient,
    uid: &str,
    generation: &Generation,
) -> Result<Vec<Write>, RemoteError> {
    if generation.credits_charged <= 0 {
        return Ok(Vec::new());
    }
    let Some(profile) = client.get(&profile_path(uid)).await? else {
        return Ok(Vec::new());
    };
    let balance = ledger::credit_balance(&profile)?.saturating_add(generation.credits_charged);
    Ok(vec![
        balance_write(&profile, balance)?,
        ledger_write(
            uid,
            generation.credits_charged,
            "refund",
            Some(&generation.id),
            balance,
        ),
    ])
}

fn status_fields(status: Status) -> Fields {
    BTreeMap::from([(
        "status".to_string(),
        Value::String(status.as_str().to_string()),
    )])
}

/// Cancels a queued or running generation and refunds it.
pub(crate) async fn cancel(
    client: &AdminClient,
    uid: &str,
    id: &str,
) -> Result<Generation, GenerationError> {
    for _ in 0..MAX_ATTEMPTS {
        let (mut generation, document) = get(client, uid, id)
            .await?
            .ok_or_else(|| GenerationError::NotFound(id.to_string()))?;
        if !is_active(&generation) {
            return Err(GenerationError::NotCancelable(generation.status.as_str()));
        }
        let mut writes = vec![change(&document, status_fields(Status::Canceled), &[])?];
        writes.extend(refund(client, uid, &generation).await?);
        writes.push(Write::delete(job_path(uid, id)));
        match client.commit(writes).await {
            Ok(result) => {
                generation.status = Status::Canceled;
                generation.updated_at = stamp(&result, 0, 0);
                return Ok(generation);
            }
            Err(RemoteError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(GenerationError::Contended)
}

/// Marks the generation deleted (a tombstone sync can see), canceling and refunding it first
/// if it is still running, after removing its media; answers how many files went.
pub(crate) async fn tombstone(
    client: &AdminClient,
    uid: &str,
    id: &str,
) -> Result<u64, GenerationError> {
    let mut removed = 0;
    for _ in 0..MAX_ATTEMPTS {
        let (generation, document) = get(client, uid, id)
            .await?
            .ok_or_else(|| GenerationError::NotFound(id.to_string()))?;
        if generation.deleted {
            return Ok(removed);
        }
        // The files go first: a tombstone must never outlive its media's removal.
        let tokens = media::tokens_of(&document);
        let media_root = client.media_root.clone();
        removed += tokio::task::spawn_blocking(move || media::remove_all(&media_root, &tokens))
            .await
            .map_err(|_| RemoteError::Io("the media removal stopped".into()))?;
        let mut fields = BTreeMap::from([
            ("deleted".to_string(), Value::Boolean(true)),
            ("outputUrl".to_string(), Value::Null),
            ("thumbnailUrl".to_string(), Value::Null),
        ]);
        let mut writes = Vec::new();
        if is_active(&generation) {
            fields.extend(status_fields(Status::Canceled));
            writes.extend(refund(client, uid, &generation).await?);
            writes.push(Write::delete(job_path(uid, id)));
        }
        writes.insert(0, change(&document, fields, &["deletedAt"])?);
        match client.commit(writes).await {
            Ok(_) => return Ok(removed),
            Err(RemoteError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(GenerationError::Contended)
}

/// Tombstones many generations: the finished ones in one commit (their media removed first),
/// the running ones one by one ([`tombstone`]: they are canceled and refunded). Answers the
/// ids that were not found. If a finished one changed meanwhile the commit is refused as a
/// whole, and each is then tombstoned on its own.
pub(crate) async fn tombstone_many(
    client: &AdminClient,
    uid: &str,
    ids: &[String],
) -> Result<Vec<String>, GenerationError> {
    let mut missing = Vec::new();
    let mut one_by_one = Vec::new();
    let mut writes = Vec::new();
    let mut tokens = Vec::new();
    for id in ids {
        match get(client, uid, id).await? {
            None => missing.push(id.clone()),
            Some((generation, _)) if generation.deleted => {}
            Some((generation, _)) if is_active(&generation) => one_by_one.push(id.clone()),
            Some((_, document)) => {
                tokens.extend(media::tokens_of(&document));
                let fields = BTreeMap::from([
                    ("deleted".to_string(), Value::Boolean(true)),
                    ("outputUrl".to_string(), Value::Null),
                    ("thumbnailUrl".to_string(), Value::Null),
                ]);
                writes.push((id.clone(), change(&document, fields, &["deletedAt"])?));
            }
        }
    }
    // The files go first: a tombstone must never outlive its media's removal.
    let media_root = client.media_root.clone();
    tokio::task::spawn_blocking(move || media::remove_all(&media_root, &tokens))
        .await
        .map_err(|_| RemoteError::Io("the media removal stopped".into()))?;
    if !writes.is_empty() {
        let (batch_ids, batch): (Vec<String>, Vec<Write>) = writes.into_iter().unzip();
        match client.commit(batch).await {
            Ok(_) => {}
            Err(RemoteError::Conflict(_)) => one_by_one.extend(batch_ids),
            Err(e) => return Err(e.into()),
        }
    }
    for id in one_by_one {
        match tombstone(client, uid, &id).await {
            Ok(_) => {}
            Err(GenerationError::NotFound(_)) => missing.push(id),
            Err(e) => return Err(e),
        }
    }
    Ok(missing)
}

/// The generation if the worker should still work on it; otherwise its job is dropped.
async fn load_active(
    client: &AdminClient,
    job: &Job,
) -> Result<Option<(Generation, Document)>, RemoteError> {
    match get(client, &job.uid, &job.id).await? {
        Some((generation, document)) if is_active(&generation) => Ok(Some((generation, document))),
        _ => {
            finish_job(client, job).await?;
            Ok(None)
        }
    }
}

/// Removes a job from the list.
pub(crate) async fn finish_job(client: &AdminClient, job: &Job) -> Result<(), RemoteError> {
    client
        .remote
        .firestore
        .delete(&job_path(&job.uid, &job.id), client.admin())
        .await
}

/// Where an active job stands: its progress and prompt.
pub(crate) async fn progress_of(
    client: &AdminClient,
    job: &Job,
) -> Result<Option<(f64, String)>, RemoteError> {
    Ok(load_active(client, job)
        .await?
        .map(|(g, _)| (g.progress, g.prompt)))
}

/// Moves an active generation to `running` at `progress`; `false` if it is no longer active.
pub(crate) async fn advance(
    client: &AdminClient,
    job: &Job,
    progress: f64,
) -> Result<bool, RemoteError> {
    for _ in 0..MAX_ATTEMPTS {
        let Some((_, document)) = load_active(client, job).await? else {
            return Ok(false);
        };
        let mut fields = status_fields(Status::Running);
        fields.insert("progress".to_string(), Value::Double(progress));
        match client.commit(vec![change(&document, fields, &[])?]).await {
            Ok(_) => return Ok(true),
            Err(RemoteError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(RemoteError::Conflict(
        "the generation keeps changing".into(),
    ))
}

/// Notes in the job which media folder is about to be written, so a restart can remove it if
/// the job stops before recording it; `false` if the job is gone (canceled meanwhile).
pub(crate) async fn record_media_token(
    client: &AdminClient,
    job: &Job,
    token: &str,
) -> Result<bool, RemoteError> {
    let fields = BTreeMap::from([("mediaToken".to_string(), Value::String(token.to_string()))]);
    match client
        .remote
        .firestore
        .patch(
            &job_path(&job.uid, &job.id),
            &fields,
            Some(&["mediaToken"]),
            Some(Precondition::Exists(true)),
            client.admin(),
        )
        .await
    {
        Ok(_) => Ok(true),
        Err(RemoteError::NotFound) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Marks an active generation succeeded with its media; `false` if it is no longer active (the
/// caller then removes the media it wrote).
pub(crate) async fn succeed(
    client: &AdminClient,
    job: &Job,
    output_url: &str,
    thumbnail_url: &str,
) -> Result<bool, RemoteError> {
    for _ in 0..MAX_ATTEMPTS {
        let Some((_, document)) = load_active(client, job).await? else {
            return Ok(false);
        };
        let mut fields = status_fields(Status::Succeeded);
        fields.insert("progress".to_string(), Value::Double(1.0));
        fields.insert(
            "outputUrl".to_string(),
            Value::String(output_url.to_string()),
        );
        fields.insert(
            "thumbnailUrl".to_string(),
            Value::String(thumbnail_url.to_string()),
        );
        let writes = vec![
            change(&document, fields, &[])?,
            Write::delete(job_path(&job.uid, &job.id)),
        ];
        match client.commit(writes).await {
            Ok(_) => return Ok(true),
            Err(RemoteError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(RemoteError::Conflict(
        "the generation keeps changing".into(),
    ))
}

/// Marks an active generation failed with `error` and refunds it.
pub(crate) async fn fail(client: &AdminClient, job: &Job, error: &str) -> Result<(), RemoteError> {
    for _ in 0..MAX_ATTEMPTS {
        let Some((generation, document)) = load_active(client, job).await? else {
            return Ok(());
        };
        let mut fields = status_fields(Status::Failed);
        fields.insert("error".to_string(), Value::String(error.to_string()));
        let mut writes = vec![change(&document, fields, &[])?];
        writes.extend(refund(client, &job.uid, &generation).await?);
        writes.push(Write::delete(job_path(&job.uid, &job.id)));
        match client.commit(writes).await {
            Ok(_) => return Ok(()),
            Err(RemoteError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(RemoteError::Conflict(
        "the generation keeps changing".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::test_generation as document;

    #[test]
    fn a_change_masks_exactly_its_fields_and_is_conditional() {
        let doc = document(Fields::new());
        let write = change(&doc, status_fields(Status::Running), &["deletedAt"]).unwrap();
        assert_eq!(
            write,
            Write::update(doc.name.clone(), status_fields(Status::Running))
                .mask(["status"])
                .server_time("updatedAt")
                .server_time("deletedAt")
                .precondition(Precondition::UpdateTime("2024-01-01T00:00:00Z".into()))
        );
    }
}
