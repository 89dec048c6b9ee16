//! The generation worker: takes every queued generation through `running` with progress
//! updates to `succeeded`, then writes its media — or to `failed` with a refund when the media
//! cannot be written.
//!
//! Jobs are documents of the store's `cleomJobs` collection (see `generations`), so a restart
//! resumes whatever was queued or running, from the progress it had reached, whichever store
//! the API sits in front of. Each step is its own conditional commit that first checks the
//! generation is still active, so a cancel, a delete or an account deletion simply makes the job
//! stop at its next step.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use cleom_core::remote::RemoteError;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::admin_client::AdminClient;
use crate::generations::{self, Job};
use crate::ids;
use crate::media;

/// A job is this many equal steps: queued, four progress updates, done.
const STEPS: u32 = 5;
/// How often the job list is re-read even without a new generation (picks up jobs whose task
/// stopped on a storage error).
const RESCAN_INTERVAL: Duration = Duration::from_secs(2);

type JobKey = (String, String);

/// Starts the worker; it stops when `shutdown` changes or its sender is dropped.
pub(crate) fn spawn(
    client: Arc<AdminClient>,
    job_duration: Duration,
    shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(run(client, job_duration, shutdown))
}

async fn run(
    client: Arc<AdminClient>,
    job_duration: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tasks: JoinSet<()> = JoinSet::new();
    let mut running: HashMap<tokio::task::Id, JobKey> = HashMap::new();
    let mut busy: HashSet<JobKey> = HashSet::new();
    loop {
        match generations::pending_jobs(&client).await {
            Ok(jobs) => {
                for job in jobs {
                    let key = (job.uid.clone(), job.id.clone());
                    if busy.insert(key.clone()) {
                        let handle = tasks.spawn(run_job(client.clone(), job_duration, job));
                        running.insert(handle.id(), key);
                    }
                }
            }
            Err(error) => tracing::error!(code = error.code(), %error, "cannot read the job list"),
        }
        tokio::select! {
            _ = client.jobs.notified() => {}
            _ = shutdown.changed() => break,
            Some(done) = tasks.join_next_with_id() => {
                let id = match &done {
                    Ok((id, ())) => *id,
                    Err(error) => {
                        tracing::error!(%error, "a generation job stopped abnormally");
                        error.id()
                    }
                };
                if let Some(key) = running.remove(&id) {
                    busy.remove(&key);
                }
            }
            _ = tokio::time::sleep(RESCAN_INTERVAL) => {}
        }
    }
    tasks.shutdown().await;
}

async fn run_job(client: Arc<AdminClient>, job_duration: Duration, job: Job) {
    if let Err(error) = advance_job(&client, job_duration, &job).await {
        tracing::error!(code = error.code(), %error, generation = %job.id, "generation job interrupted; it will be retried");
    }
}

async fn advance_job(
    client: &AdminClient,
    job_duration: Duration,
    job: &Job,
) -> Result<(), RemoteError> {
    if let Some(token) = &job.media_token {
        // Files of an earlier run that stopped before recording them: nothing refers to them.
        media::remove(&client.media_root, token);
    }
    let Some((progress, prompt)) = generations::progress_of(client, job).await? else {
        // Finished, canceled or deleted meanwhile: the job has been dropped.
        return Ok(());
    };
    let step = job_duration / STEPS;
    let done_steps = (progress * f64::from(STEPS))
        .round()
        .clamp(0.0, f64::from(STEPS - 1)) as u32;
    for reached in done_steps + 1..STEPS {
        tokio::time::sleep(step).await;
        let progress = f64::from(reached) / f64::from(STEPS);
        if !generations::advance(client, job, progress).await? {
            return Ok(());
        }
    }
    tokio::time::sleep(step).await;

    let token = ids::new_secret();
    if !generations::record_media_token(client, job, &token).await? {
        return Ok(());
    }
    let media_root = client.media_root.clone();
    let folder_token = token.clone();
    let written =
        tokio::task::spawn_blocking(move || media::write(&media_root, &folder_token, &prompt))
            .await
            .map_err(|_| RemoteError::Io("the media writer stopped".into()))?;
    match written {
        Ok(()) => {
            // Root-relative, so a document never names the port: a backend started on another
            // port still serves it, and nothing is sent to whoever holds the old one.
            let base = format!("/api/v1/media/{token}");
            let output_url = format!("{base}/{}", media::CLIP_FILE);
            let thumbnail_url = format!("{base}/{}", media::POSTER_FILE);
            let kept = generations::succeed(client, job, &output_url, &thumbnail_url).await;
            if !matches!(kept, Ok(true)) {
                // Canceled, deleted or unrecordable: the files must not outlive the job.
                media::remove(&client.media_root, &token);
            }
            kept.map(|_| ())
        }
        Err(error) => {
            tracing::warn!(%error, generation = %job.id, "generation failed; refunding");
            let message = format!("The output could not be produced: {error}");
            generations::fail(client, job, &message).await
        }
    }
}
