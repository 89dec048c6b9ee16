//! A realistic synthetic history for the export and wipe benchmarks: an encrypted store with
//! generations whose prompts, settings and statuses vary like a real user's, and a ledger with
//! one charge per generation. Deterministic (a fixed-seed generator), so runs compare.

use std::path::Path;

use cleom_core::model::{
    AspectRatio, Generation, LedgerEntry, Mode, Pacing, Profile, Resolution, Settings, Status,
    Subject, VoiceOver, STYLE_PRESETS,
};
use cleom_core::secret::DatabaseKey;
use cleom_core::store::Store;

const SUBJECTS: [&str; 12] = [
    "a glass whale",
    "an old lighthouse keeper",
    "a neon-lit street market",
    "a red fox",
    "a clockwork garden",
    "two astronauts",
    "a paper boat",
    "a jazz trio",
    "a snow leopard",
    "a tiny robot",
    "a desert caravan",
    "a café in Montmartre",
];
const ACTIONS: [&str; 10] = [
    "drifting through",
    "dancing in",
    "walking slowly across",
    "discovering",
    "racing through",
    "sleeping under",
    "singing about",
    "repairing",
    "watching",
    "flying over",
];
const PLACES: [&str; 10] = [
    "the northern lights",
    "a rainy Tokyo alley at night",
    "a field of sunflowers, golden hour",
    "the surface of Mars",
    "an abandoned cathedral",
    "a coral reef, \"crystal clear\" water",
    "a snowy forest, soft light",
    "a busy harbour, 1920s",
    "the clouds above the Alps",
    "a kitchen full of steam",
];
const CAMERA: [&str; 6] = [
    "",
    ", slow dolly in",
    ", aerial drone shot",
    ", handheld, shallow depth of field",
    ", 35mm film grain",
    ", wide establishing shot, then close-up",
];

/// A small fixed-seed generator (SplitMix64): no dependency, same history every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// True one time in `n`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.next().is_multiple_of(n)
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }
}

fn time(second: u64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(1_700_000_000 + second as i64)
        .expect("a valid time");
    at.format(&time::format_description::well_known::Rfc3339)
        .expect("formattable")
}

/// The `i`-th generation of the synthetic history.
pub fn generation(rng: &mut Rng, i: u64) -> Generation {
    let prompt = format!(
        "{} {} {}{}",
        rng.pick(&SUBJECTS),
        rng.pick(&ACTIONS),
        rng.pick(&PLACES),
        rng.pick(&CAMERA)
    );
    let status = match rng.next() % 20 {
        0 => Status::Failed,
        1 => Status::Canceled,
        _ => Status::Succeeded,
    };
    let duration = 5 + (rng.next() % 56) as u32;
    let voice = rng.one_in(4).then(|| VoiceOver {
        language: "en".into(),
        voice: "warm".into(),
        script: rng.one_in(2).then(|| "Once upon a time, far away.".into()),
    });
    let settings = Settings {
        duration_seconds: duration,
        resolution: rng.pick(&Resolution::ALL),
        aspect_ratio: rng.pick(&[AspectRatio::Wide, AspectRatio::Tall, AspectRatio::Square]),
        style_preset: (!rng.one_in(3)).then(|| rng.pick(&STYLE_PRESETS).to_string()),
        subject: rng
            .one_in(2)
            .then(|| rng.pick(&[Subject::Person, Subject::Landscape])),
        pacing: rng
            .one_in(2)
            .then(|| rng.pick(&[Pacing::Slow, Pacing::Fast])),
        voice_over: voice,
        music: rng.one_in(2),
        subtitles: rng.one_in(3),
    };
    let id = format!("gen{i:017}");
    let succeeded = status == Status::Succeeded;
    Generation {
        output_url: succeeded.then(|| format!("https://media.cleomai.com/v1/media/{id}/clip.mp4")),
        thumbnail_url: succeeded
            .then(|| format!("https://media.cleomai.com/v1/media/{id}/poster.png")),
        error: (status == Status::Failed).then(|| "The clip could not be rendered.".into()),
        id,
        prompt,
        mode: Mode::TextToVideo,
        settings,
        references: Vec::new(),
        status,
        progress: 1.0,
        credits_charged: i64::from(duration) * 70,
        created_at: time(i * 60),
        updated_at: time(i * 60 + 30),
        deleted: false,
        deleted_at: None,
    }
}

/// Creates an encrypted store at `path` with `count` generations, one ledger charge per
/// generation, a profile, and a stored thumbnail (a PNG-sized blob) on one in `thumbnail_every`.
pub fn build(path: &Path, key: &DatabaseKey, count: u64, thumbnail_every: u64) -> Store {
    let mut store = Store::create(path, key).expect("create the store");
    store
        .put_profile(&Profile {
            uid: "benchuser".into(),
            email: "bench@example.com".into(),
            display_name: Some("Bench User".into()),
            credit_balance: 1_000_000,
            analytics_opt_in: false,
            created_at: time(0),
            updated_at: time(0),
        })
        .expect("profile");
    let mut rng = Rng::new(42);
    let mut batch = Vec::with_capacity(1000);
    let mut ledger = Vec::with_capacity(1000);
    let mut balance = 10_000_000i64;
    let mut i = 0;
    while i < count {
        batch.clear();
        ledger.clear();
        for _ in 0..1000.min(count - i) {
            let g = generation(&mut rng, i);
            balance -= g.credits_charged;
            ledger.push(LedgerEntry {
                id: format!("led{i:017}"),
                amount: -g.credits_charged,
                reason: "generation".into(),
                generation_id: Some(g.id.clone()),
                balance_after: balance,
                created_at: g.created_at.clone(),
                updated_at: g.created_at.clone(),
            });
            batch.push(g);
            i += 1;
        }
        store.upsert_generations(&batch).expect("generations");
        store.upsert_ledger(&ledger).expect("ledger");
        for g in &batch {
            let n: u64 = g.id[3..].parse().expect("numeric id");
            if thumbnail_every > 0 && n.is_multiple_of(thumbnail_every) && g.thumbnail_url.is_some()
            {
                let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
                png.extend((0..4096).map(|_| rng.next() as u8));
                store
                    .put_thumbnail(&g.id, "image/png", &png)
                    .expect("thumbnail");
            }
        }
    }
    store
}

/// The median of some timings.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
