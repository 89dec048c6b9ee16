//! The generation worker: takes every queued generation through `running` with progress
//! updates to `succeeded`, then writes its media — or to `failed` with a refund when the media
//! cannot be written.
//!
//! Jobs are rows in the `jobs` table, so a restart resumes whatever was queued or running,
//! from the progress it had reached. Each step is its own transaction that first checks the
//! generation is still active, so a cancel, a delete or an account deletion simply makes the
//! job stop at its next step.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::error::StoreError;
use crate::generations;
use crate::ids;
use crate::media;
use crate::AppState;

/// A job is this many equal steps: queued, four progress updates, done.
const STEPS: u32 = 5;
/// How often the job list is re-read even without a new generation (picks up jobs whose task
/// stopped on a storage error).
const RESCAN_INTERVAL: Duration = Duration::from_secs(2);

type JobKey = (String, String);

/// Starts the worker; it stops when `shutdown` changes or its sender is dropped.
pub(crate) fn spawn(
    app: AppState,
    job_duration: Duration,
    shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(run(app, job_duration, shutdown))
}

async fn run(app: AppState, job_duration: Duration, mut shutdown: watch::Receiver<bool>) {
    let mut tasks: JoinSet<()> = JoinSet::new();
    let mut running: HashMap<tokio::task::Id, JobKey> = HashMap::new();
    let mut busy: HashSet<JobKey> = HashSet::new();
    loop {
        match app
            .store
            .run(|db| generations::pending_jobs(db.conn()))
            .await
        {
            Ok(jobs) => {
                for job in jobs {
                    if busy.insert(job.clone()) {
                        let handle = tasks.spawn(run_job(app.clone(), job_duration, job.clone()));
                        running.insert(handle.id(), job);
                    }
                }
            }
            Err(error) => tracing::error!(%error, "cannot read the job list"),
        }
        tokio::select! {
            _ = app.jobs.notified() => {}
            _ = shutdown.changed() => break,
            Some(done) = tasks.join_next_with_id() => {
                let id = match &done {
                    Ok((id, ())) => *id,
                    Err(error) => {
                        tracing::error!(%error, "a generation job stopped abnormally");
                        error.id()
                    }
                };
                if let Some(job) = running.remove(&id) {
                    busy.remove(&job);
                }
            }
            _ = tokio::time::sleep(RESCAN_INTERVAL) => {}
        }
    }
    tasks.shutdown().await;
}

async fn run_job(app: AppState, job_duration: Duration, (uid, id): JobKey) {
    if let Err(error) = advance_job(&app, job_duration, &uid, &id).await {
        tracing::error!(%error, generation = %id, "generation job interrupted; it will be retried");
    }
}

async fn advance_job(
    app: &AppState,
    job_duration: Duration,
    uid: &str,
    id: &str,
) -> Result<(), StoreError> {
    let step = job_duration / STEPS;
    let (owner, generation_id) = (uid.to_string(), id.to_string());
    let current = app
        .store
        .run(move |db| {
            let progress = generations::progress_of(db.conn(), &owner, &generation_id)?;
            let prompt = generations::get(db.conn(), &owner, &generation_id)?.map(|g| g.prompt);
            Ok::<_, StoreError>(progress.zip(prompt))
        })
        .await?;
    let Some((progress, prompt)) = current else {
        // Finished, canceled or deleted meanwhile: just drop the job.
        let (owner, generation_id) = (uid.to_string(), id.to_string());
        return app
            .store
            .run(move |db| db.write(|tx| generations::finish_job(tx, &owner, &generation_id)))
            .await;
    };
    let done_steps = (progress * f64::from(STEPS))
        .round()
        .clamp(0.0, f64::from(STEPS - 1)) as u32;
    for reached in done_steps + 1..STEPS {
        tokio::time::sleep(step).await;
        let (owner, generation_id) = (uid.to_string(), id.to_string());
        let progress = f64::from(reached) / f64::from(STEPS);
        let active = app
            .store
            .run(move |db| {
                db.write(|tx| generations::advance(tx, &owner, &generation_id, progress))
            })
            .await?;
        if !active {
            return Ok(());
        }
    }
    tokio::time::sleep(step).await;

    let token = ids::new_secret();
    let media_root = app.media_root.clone();
    let folder_token = token.clone();
    let written =
        tokio::task::spawn_blocking(move || media::write(&media_root, &folder_token, &prompt))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?;
    let (owner, generation_id) = (uid.to_string(), id.to_string());
    match written {
        Ok(()) => {
            let base = format!("{}/api/v1/media/{token}", app.base_url);
            let output_url = format!("{base}/{}", media::CLIP_FILE);
            let thumbnail_url = format!("{base}/{}", media::POSTER_FILE);
            let stored_token = token.clone();
            let kept = app
                .store
                .run(move |db| {
                    db.write(|tx| {
                        generations::succeed(
                            tx,
                            &owner,
                            &generation_id,
                            &stored_token,
                            output_url,
                            thumbnail_url,
                        )
                    })
                })
                .await;
            if !matches!(kept, Ok(true)) {
                // Canceled, deleted or unrecordable: the files must not outlive the job.
                media::remove(&app.media_root, &token);
            }
            kept.map(|_| ())
        }
        Err(error) => {
            tracing::warn!(%error, generation = %id, "generation failed; refunding");
            let message = format!("The output could not be produced: {error}");
            app.store
                .run(move |db| {
                    db.write(|tx| generations::fail(tx, &owner, &generation_id, message))
                })
                .await
        }
    }
}

/// Removes media folders that no generation refers to (left by a job interrupted between
/// writing its files and recording them). Runs before the worker starts.
pub(crate) fn remove_orphan_media(media_root: &Path, known: &HashSet<String>) {
    let Ok(entries) = std::fs::read_dir(media_root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if ids::is_media_token(&name) && !known.contains(&name) {
            media::remove(media_root, &name);
        }
    }
}
