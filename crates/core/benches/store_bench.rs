//! The Library store with a big history: 100,000 generations with realistic prompts (100–600
//! characters, a quarter with voice-over scripts) and ~10 KB thumbnails, in the encrypted store
//! and, with the same schema, code and queries, in plain SQLite, side by side.
//!
//! Run: `cargo bench --workspace --bench store_bench` (a few minutes; it writes ~2 GB to a
//! temporary folder, `CLEOM_BENCH_DIR` to choose where; `CLEOM_BENCH_ROWS` for a smaller run).
//! Prints one line per figure: `bench <name> <value> <unit>`.
//!
//! Targets (docs/targets.md, "Performance", 2-core machine): open ≤ 50 ms, first page ≤ 5 ms,
//! search p95 ≤ 10 ms, search + filter p95 ≤ 10 ms.

use std::path::Path;
use std::time::{Duration, Instant};

use cleom_core::model::{
    AspectRatio, Generation, Mode, Pacing, Resolution, Settings, Status, Subject, VoiceOver,
    STYLE_PRESETS,
};
use cleom_core::secret::DatabaseKey;
use cleom_core::store::{Filters, LibraryQuery, Sort, Store};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

const SUBJECTS: &[&str] = &[
    "a lone lighthouse keeper",
    "a red fox",
    "an old fisherman",
    "a neon-lit street market",
    "a glass skyscraper",
    "two kids on bicycles",
    "a herd of wild horses",
    "a vintage convertible",
    "a robot barista",
    "a ballet dancer",
    "a snow leopard",
    "a paper boat",
    "a steaming bowl of ramen",
    "a hot air balloon",
    "an abandoned greenhouse",
    "a jazz trio",
    "a sleepy cat",
    "a mountain monastery",
    "a desert caravan",
    "a koi pond",
    "a skateboarder",
    "a violinist",
    "a city tram",
    "a sailboat",
];
const ACTIONS: &[&str] = &[
    "walking slowly through",
    "drifting above",
    "racing across",
    "waiting quietly in",
    "dancing in",
    "emerging from",
    "circling around",
    "resting beside",
    "climbing up",
    "gliding over",
];
const PLACES: &[&str] = &[
    "a misty pine forest",
    "a rain-soaked alley",
    "the golden wheat fields",
    "a frozen lake",
    "a crowded harbor",
    "the edge of a volcano",
    "an empty subway station",
    "a coral reef",
    "a rooftop garden",
    "a foggy mountain pass",
    "a sunlit meadow",
    "the northern lights",
    "a candlelit library",
    "a busy night market",
    "a quiet suburban street",
    "a sandstorm",
];
const CAMERA: &[&str] = &[
    "slow dolly in",
    "sweeping drone shot",
    "handheld close-up",
    "wide establishing shot",
    "low angle tracking shot",
    "time-lapse",
    "overhead crane shot",
    "shallow depth of field",
    "rack focus from foreground to background",
    "steady orbit around the subject",
];
const LIGHT: &[&str] = &[
    "golden hour light",
    "soft overcast light",
    "harsh midday sun",
    "moody blue hour",
    "flickering neon glow",
    "warm candlelight",
    "cold fluorescent light",
    "dramatic backlight",
    "volumetric fog and god rays",
    "bioluminescent glow",
];
const MOOD: &[&str] = &[
    "melancholic and quiet",
    "joyful and energetic",
    "tense and suspenseful",
    "dreamlike",
    "nostalgic",
    "epic and grand",
    "intimate",
    "whimsical",
    "eerie",
    "serene",
];
/// Words that occur in few prompts, for the rare-word searches.
const RARE: &[&str] = &[
    "quetzal",
    "zeppelin",
    "obsidian",
    "marionette",
    "axolotl",
    "kaleidoscope",
    "samovar",
    "origami",
    "tesseract",
    "narwhal",
    "bonsai",
    "gondola",
];
const SCRIPT: &[&str] = &[
    "Every morning the keeper climbs the stairs.",
    "This city never sleeps.",
    "Some journeys begin with a single step.",
    "Listen to the sound of the rain.",
    "The market opens at midnight.",
    "Nobody remembers the old road anymore.",
    "Welcome to the future of coffee.",
    "Hold on tight, here we go.",
];

fn pick<'a>(rng: &mut StdRng, words: &[&'a str]) -> &'a str {
    words[rng.random_range(0..words.len())]
}

/// A prompt of 100 to 600 characters, built like people write them.
fn prompt(rng: &mut StdRng) -> String {
    let target = rng.random_range(100..=600);
    // About 1 in 100 prompts has one of the rare words.
    let rare = if rng.random_bool(0.01) {
        format!("a {} and ", pick(rng, RARE))
    } else {
        String::new()
    };
    let mut p = format!(
        "{rare}{} {} {}",
        pick(rng, SUBJECTS),
        pick(rng, ACTIONS),
        pick(rng, PLACES)
    );
    while p.len() < target {
        let part = match rng.random_range(0..5) {
            0 => pick(rng, CAMERA).to_string(),
            1 => pick(rng, LIGHT).to_string(),
            2 => format!("mood: {}", pick(rng, MOOD)),
            3 => format!("{} {}", pick(rng, ACTIONS), pick(rng, PLACES)),
            _ => format!("with {}", pick(rng, SUBJECTS)),
        };
        p.push_str(", ");
        p.push_str(&part);
    }
    let mut end = target.min(p.len());
    while !p.is_char_boundary(end) {
        end -= 1;
    }
    p.truncate(end);
    p
}

fn weighted<T: Copy>(rng: &mut StdRng, choices: &[(T, u32)]) -> T {
    let total: u32 = choices.iter().map(|(_, w)| w).sum();
    let mut n = rng.random_range(0..total);
    for (value, weight) in choices {
        if n < *weight {
            return *value;
        }
        n -= weight;
    }
    choices[0].0
}

/// 2024-01-01T00:00:00Z.
const START: i64 = 1_704_067_200;

fn history(rows: usize) -> Vec<Generation> {
    let mut rng = StdRng::seed_from_u64(2025);
    let span = 2 * 365 * 24 * 3600;
    (0..rows)
        .map(|i| {
            // In creation order (as a first sync receives them), spread over two years.
            let secs = START + (i as i64 * span) / rows as i64 + rng.random_range(0..60);
            let micros = rng.random_range(0..1_000_000);
            let created_at = time::OffsetDateTime::from_unix_timestamp(secs)
                .unwrap()
                .replace_microsecond(micros)
                .unwrap()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap();
            let status = weighted(
                &mut rng,
                &[
                    (Status::Succeeded, 85),
                    (Status::Failed, 8),
                    (Status::Canceled, 4),
                    (Status::Running, 2),
                    (Status::Queued, 1),
                ],
            );
            let duration = rng.random_range(5..=60);
            let voice_over = rng.random_bool(0.25).then(|| VoiceOver {
                language: "en".into(),
                voice: "warm".into(),
                script: Some(pick(&mut rng, SCRIPT).to_string()),
            });
            let id = format!("{:020x}", rng.next_u64());
            Generation {
                prompt: prompt(&mut rng),
                mode: weighted(
                    &mut rng,
                    &[
                        (Mode::TextToVideo, 6),
                        (Mode::ImageToVideo, 3),
                        (Mode::VideoToVideo, 1),
                    ],
                ),
                settings: Settings {
                    duration_seconds: duration,
                    resolution: weighted(
                        &mut rng,
                        &[
                            (Resolution::P1080, 5),
                            (Resolution::K2, 3),
                            (Resolution::K4, 2),
                        ],
                    ),
                    aspect_ratio: weighted(
                        &mut rng,
                        &[
                            (AspectRatio::Wide, 10),
                            (AspectRatio::Tall, 5),
                            (AspectRatio::Square, 3),
                            (AspectRatio::Cinema, 1),
                            (AspectRatio::Classic, 1),
                        ],
                    ),
                    style_preset: rng
                        .random_bool(0.8)
                        .then(|| pick(&mut rng, &STYLE_PRESETS).to_string()),
                    subject: Some(Subject::Landscape),
                    pacing: Some(Pacing::Normal),
                    music: rng.random_bool(0.4),
                    subtitles: rng.random_bool(0.2),
                    voice_over,
                },
                references: vec![],
                status,
                progress: if status == Status::Succeeded {
                    1.0
                } else {
                    0.3
                },
                credits_charged: i64::from(duration) * 70,
                output_url: (status == Status::Succeeded)
                    .then(|| format!("https://media.cleomai.com/u/{id}/clip.mp4")),
                thumbnail_url: (status == Status::Succeeded)
                    .then(|| format!("https://media.cleomai.com/u/{id}/poster.jpg")),
                error: (status == Status::Failed).then(|| "The render failed.".to_string()),
                updated_at: created_at.clone(),
                created_at,
                deleted: false,
                deleted_at: None,
                id,
            }
        })
        .collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn p95(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let rank = (samples.len() * 95).div_ceil(100).max(1);
    samples[rank - 1]
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

fn line(name: &str, value: f64, unit: &str) {
    println!("bench {name} {value:.3} {unit}");
}

/// The search box: common words, rare words, multi-word, and prefixes as a user types them.
fn searches() -> Vec<String> {
    let mut texts: Vec<String> = [
        "lighthouse",
        "fox",
        "golden hour",
        "neon",
        "rain",
        "forest",
        "drone shot",
        "city tram",
        "mood: eerie",
        "candlelight library",
        "frozen lake",
        "backlight",
        "ramen",
        "violinist",
        "quetzal",
        "zeppelin",
        "obsidian",
        "axolotl",
        "narwhal gondola",
        "keeper climbs",
        "midnight market",
        "journeys",
        "tram sailboat koi",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for word in [
        "lighthouse",
        "candlelight",
        "volcano",
        "origami",
        "skateboarder",
        "wheat",
    ] {
        for n in 1..=word.len().min(7) {
            texts.push(word[..n].to_string());
        }
    }
    texts
}

/// The filters a Library user picks, alone and together.
fn filter_sets(newest: &str) -> Vec<Filters> {
    let recent =
        time::OffsetDateTime::parse(newest, &time::format_description::well_known::Rfc3339)
            .unwrap()
            - time::Duration::days(90);
    let recent = recent
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    vec![
        Filters {
            statuses: vec![Status::Succeeded],
            ..Filters::default()
        },
        Filters {
            resolutions: vec![Resolution::K4],
            ..Filters::default()
        },
        Filters {
            styles: vec![Some("Anime".into())],
            ..Filters::default()
        },
        Filters {
            aspect_ratios: vec![AspectRatio::Tall],
            modes: vec![Mode::ImageToVideo],
            ..Filters::default()
        },
        Filters {
            created_from: Some(recent),
            ..Filters::default()
        },
        Filters {
            statuses: vec![Status::Failed],
            ..Filters::default()
        },
        Filters {
            statuses: vec![Status::Succeeded],
            resolutions: vec![Resolution::K4],
            styles: vec![Some("Cinematic".into()), Some("Film Noir".into())],
            ..Filters::default()
        },
        Filters {
            has_download: Some(true),
            ..Filters::default()
        },
    ]
}

struct Figures {
    open: Duration,
    first_page: Duration,
    deep_page: Duration,
    search_p95: Duration,
    search_filter_p95: Duration,
    filter_page_p95: Duration,
    counts: Duration,
    search_counts_p95: Duration,
    item_with_thumbnail: Duration,
    insert_per_s: f64,
    thumbnails_per_s: f64,
    size_mb: f64,
}

fn run(kind: &str, dir: &Path, all: &[Generation], key: Option<&DatabaseKey>) -> Figures {
    let path = dir.join(format!("{kind}.db"));
    let create = || match key {
        Some(key) => Store::create(&path, key).unwrap(),
        None => Store::create_plain_for_bench(&path).unwrap(),
    };
    let open = || match key {
        Some(key) => Store::open(&path, key).unwrap(),
        None => Store::open_plain_for_bench(&path).unwrap(),
    };

    // Insert as a first sync does: pages of 500, each one transaction with its cursor.
    let mut store = create();
    let (_, took) = timed(|| {
        for (n, page) in all.chunks(500).enumerate() {
            store
                .apply_generations_page(
                    page,
                    &cleom_core::store::Unread::default(),
                    "cursor.generations",
                    &n.to_string(),
                )
                .unwrap();
        }
    });
    let insert_per_s = all.len() as f64 / took.as_secs_f64();

    // Thumbnails, ~10 KB each (random bytes: JPEG does not compress further).
    let mut rng = StdRng::seed_from_u64(7);
    let mut image = vec![0u8; 11 * 1024];
    let with_thumbnail: Vec<&Generation> =
        all.iter().filter(|g| g.thumbnail_url.is_some()).collect();
    let (_, took) = timed(|| {
        for g in &with_thumbnail {
            rng.fill_bytes(&mut image);
            let size = 9 * 1024 + rng.random_range(0..2048);
            store
                .put_thumbnail(&g.id, "image/jpeg", &image[..size])
                .unwrap();
        }
    });
    let thumbnails_per_s = with_thumbnail.len() as f64 / took.as_secs_f64();
    for g in all.iter().step_by(37) {
        store
            .record_download(&g.id, Path::new(&format!("/home/ada/Videos/{}.mp4", g.id)))
            .unwrap();
    }
    drop(store);

    let size_mb = ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
        .map(|m| m.len() as f64 / 1e6)
        .sum();

    // Opening: key, schema check, pragmas.
    let open_samples: Vec<Duration> = (0..15).map(|_| timed(|| drop(open())).1).collect();
    let open_time = median(open_samples);
    let store = open();

    let page = |q: &LibraryQuery| store.query(q).unwrap();
    let first = LibraryQuery::default();
    page(&first);
    let first_page = median((0..200).map(|_| timed(|| page(&first)).1).collect());

    // A page 90% of the way down the history.
    let mut deep = LibraryQuery {
        limit: 500,
        ..LibraryQuery::default()
    };
    for _ in 0..(all.len() * 9 / 10 / 500) {
        deep.after = page(&deep).next;
    }
    deep.limit = 50;
    let deep_page = median((0..200).map(|_| timed(|| page(&deep)).1).collect());

    let texts = searches();
    let search = |text: &str, filters: &Filters| LibraryQuery {
        text: Some(text.to_string()),
        filters: filters.clone(),
        ..LibraryQuery::default()
    };
    let none = Filters::default();
    let verbose = std::env::var_os("CLEOM_BENCH_VERBOSE").is_some();
    let mut samples = Vec::new();
    for round in 0..3 {
        for text in &texts {
            let (found, took) = timed(|| page(&search(text, &none)));
            if verbose && round == 2 {
                eprintln!(
                    "{kind} search {text:?}: {:.2} ms, {} items",
                    ms(took),
                    found.items.len()
                );
            }
            samples.push(took);
        }
    }
    let search_p95 = p95(samples);

    let filters = filter_sets(&all.last().unwrap().created_at);
    let mut samples = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        for f in [
            &filters[i % filters.len()],
            &filters[(i * 3 + 1) % filters.len()],
        ] {
            let (found, took) = timed(|| page(&search(text, f)));
            if verbose && ms(took) > 3.0 {
                eprintln!(
                    "{kind} search {text:?} + {f:?}: {:.2} ms, {} items",
                    ms(took),
                    found.items.len()
                );
            }
            samples.push(took);
        }
    }
    let search_filter_p95 = p95(samples);

    let mut samples = Vec::new();
    for _ in 0..10 {
        for f in &filters {
            let q = LibraryQuery {
                filters: f.clone(),
                ..LibraryQuery::default()
            };
            samples.push(timed(|| page(&q)).1);
        }
    }
    let filter_page_p95 = p95(samples);

    let counts = median(
        (0..10)
            .map(|_| timed(|| store.counts(&LibraryQuery::default()).unwrap()).1)
            .collect(),
    );
    let search_counts_p95 = p95(texts
        .iter()
        .map(|text| timed(|| store.counts(&search(text, &none)).unwrap()).1)
        .collect());

    let mut rng = StdRng::seed_from_u64(11);
    let item_with_thumbnail = median(
        (0..300)
            .map(|_| {
                let g = with_thumbnail[rng.random_range(0..with_thumbnail.len())];
                timed(|| {
                    let item = store.item_with_thumbnail(&g.id).unwrap().unwrap();
                    assert!(item.thumbnail.is_some());
                })
                .1
            })
            .collect(),
    );

    // Sanity: the other sorts work at this size too.
    for sort in [Sort::OldestFirst, Sort::MostCredits, Sort::LongestFirst] {
        let q = LibraryQuery {
            sort,
            ..LibraryQuery::default()
        };
        assert_eq!(page(&q).items.len(), 50);
    }

    Figures {
        open: open_time,
        first_page,
        deep_page,
        search_p95,
        search_filter_p95,
        filter_page_p95,
        counts,
        search_counts_p95,
        item_with_thumbnail,
        insert_per_s,
        thumbnails_per_s,
        size_mb,
    }
}

fn report(kind: &str, f: &Figures) {
    line(&format!("{kind}_open"), ms(f.open), "ms");
    line(&format!("{kind}_first_page"), ms(f.first_page), "ms");
    line(&format!("{kind}_deep_page"), ms(f.deep_page), "ms");
    line(&format!("{kind}_search_p95"), ms(f.search_p95), "ms");
    line(
        &format!("{kind}_search_filter_p95"),
        ms(f.search_filter_p95),
        "ms",
    );
    line(
        &format!("{kind}_filter_page_p95"),
        ms(f.filter_page_p95),
        "ms",
    );
    line(&format!("{kind}_counts"), ms(f.counts), "ms");
    line(
        &format!("{kind}_search_counts_p95"),
        ms(f.search_counts_p95),
        "ms",
    );
    line(
        &format!("{kind}_item_with_thumbnail"),
        ms(f.item_with_thumbnail),
        "ms",
    );
    line(&format!("{kind}_insert_per_s"), f.insert_per_s, "rows/s");
    line(
        &format!("{kind}_thumbnail_insert_per_s"),
        f.thumbnails_per_s,
        "rows/s",
    );
    line(&format!("{kind}_file_size"), f.size_mb, "MB");
}

fn main() {
    // `cargo bench` passes `--bench`; there are no options to parse.
    let rows: usize = std::env::var("CLEOM_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = match std::env::var_os("CLEOM_BENCH_DIR") {
        Some(dir) => tempfile::tempdir_in(dir),
        None => tempfile::tempdir(),
    }
    .unwrap();
    let (all, took) = timed(|| history(rows));
    let chars: usize = all.iter().map(|g| g.prompt.chars().count()).sum();
    eprintln!(
        "store_bench: {rows} generations (prompts {} chars on average) made in {:.1} s, in {}",
        chars / rows.max(1),
        took.as_secs_f64(),
        dir.path().display()
    );
    let key = DatabaseKey::generate().unwrap();
    let encrypted = run("encrypted", dir.path(), &all, Some(&key));

    report("encrypted", &encrypted);
    let plain = run("plain", dir.path(), &all, None);
    report("plain", &plain);
    line(
        "ratio_search_p95",
        encrypted.search_p95.as_secs_f64() / plain.search_p95.as_secs_f64(),
        "x",
    );
    line(
        "ratio_search_filter_p95",
        encrypted.search_filter_p95.as_secs_f64() / plain.search_filter_p95.as_secs_f64(),
        "x",
    );
    line(
        "ratio_first_page",
        encrypted.first_page.as_secs_f64() / plain.first_page.as_secs_f64(),
        "x",
    );
    line(
        "ratio_insert",
        encrypted.insert_per_s / plain.insert_per_s,
        "x",
    );
}
