//! `cargo bench --workspace --bench sync_bench`: how fast a device catches up with the server.
//!
//! A real local backend on loopback and a real encrypted store (SQLCipher), through the app's
//! own `Account::sync`: 10,000 generations into an empty store, then 100 changed ones, then a
//! sync with nothing new. Requests are counted at the backend. Prints one line per figure,
//! `bench <name> <value> <unit>`.

use std::sync::Arc;
use std::time::Instant;

use cleom_core::device::Device;
use cleom_core::keychain::memory::MemoryKeychain;
use cleom_core::model::{AspectRatio, Generation, Mode, Resolution, Settings, Status};
use cleom_core::paths::DataDir;
use cleom_core::remote::{Endpoints, Remote};
use cleom_core::secret::SecretString;
use cleom_local_backend::BackendConfig;

const WORDS: &[&str] = &[
    "a",
    "slow",
    "cinematic",
    "shot",
    "of",
    "the",
    "harbour",
    "at",
    "dawn",
    "with",
    "fog",
    "rolling",
    "over",
    "wooden",
    "boats",
    "lanterns",
    "glowing",
    "soft",
    "golden",
    "light",
    "camera",
    "drifts",
    "towards",
    "an",
    "old",
    "lighthouse",
    "while",
    "seagulls",
    "circle",
    "above",
    "waves",
    "crash",
    "gently",
    "against",
    "stone",
    "pier",
    "children",
    "laugh",
    "in",
    "distance",
    "neon",
    "city",
    "rain",
    "reflections",
    "on",
    "wet",
    "asphalt",
];

fn prompt(i: usize) -> String {
    // 100 to 600 characters of plausible words, different for every generation.
    let target = 100 + (i * 7_919) % 500;
    let mut text = String::with_capacity(target + 16);
    let mut n = i;
    while text.len() < target {
        n = n
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(WORDS[(n >> 33) % WORDS.len()]);
    }
    text
}

fn generation(i: usize) -> Generation {
    let created = time::OffsetDateTime::from_unix_timestamp(1_767_225_600 - i as i64)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    Generation {
        id: format!("bench{i:06}"),
        prompt: prompt(i),
        mode: Mode::TextToVideo,
        settings: Settings {
            duration_seconds: 5 + (i % 56) as u32,
            resolution: Resolution::ALL[i % 3],
            aspect_ratio: AspectRatio::ALL[i % 5],
            ..Settings::default()
        },
        references: Vec::new(),
        status: Status::Succeeded,
        progress: 1.0,
        credits_charged: 350,
        output_url: None,
        thumbnail_url: None,
        error: None,
        created_at: created.clone(),
        updated_at: created,
        deleted: false,
        deleted_at: None,
    }
}

fn line(name: &str, value: f64, unit: &str) {
    println!("bench {name} {value:.3} {unit}");
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let backend_dir = tempfile::tempdir().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let backend = cleom_local_backend::start(BackendConfig::new(backend_dir.path()))
        .await
        .unwrap();
    let remote = Remote::new(Endpoints::local(&backend.base_url()).unwrap()).unwrap();
    let device = Device::new(
        DataDir::at(data_dir.path()),
        Arc::new(MemoryKeychain::new()),
        remote,
    )
    .unwrap();
    let account = device
        .sign_up(
            "bench@example.com",
            &SecretString::new("a long enough password".into()),
        )
        .await
        .unwrap();
    account.sync().await.unwrap();
    let uid = account.uid().to_string();

    let mut history: Vec<Generation> = (0..10_000).map(generation).collect();
    backend.put_generations(&uid, &history).await.unwrap();

    let before = backend.request_count();
    let started = Instant::now();
    let report = account.sync().await.unwrap();
    let took = started.elapsed();
    assert_eq!(report.generations, 10_000);
    line("sync_initial_10k", took.as_secs_f64(), "s");
    line(
        "sync_initial_10k_requests",
        (backend.request_count() - before) as f64,
        "n",
    );

    for g in history.iter_mut().step_by(100) {
        g.prompt.push_str(" — edited");
    }
    let changed: Vec<Generation> = history.iter().step_by(100).cloned().collect();
    assert_eq!(changed.len(), 100);
    backend.put_generations(&uid, &changed).await.unwrap();
    let started = Instant::now();
    let report = account.sync().await.unwrap();
    let took = started.elapsed();
    assert_eq!(report.generations, 100);
    line("sync_incremental_100", took.as_secs_f64() * 1000.0, "ms");

    let before = backend.request_count();
    let started = Instant::now();
    let report = account.sync().await.unwrap();
    let took = started.elapsed();
    assert_eq!(report.generations, 0);
    line("sync_noop", took.as_secs_f64() * 1000.0, "ms");
    line(
        "sync_noop_requests",
        (backend.request_count() - before) as f64,
        "n",
    );
    backend.shutdown().await;
}
