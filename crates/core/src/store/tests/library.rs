//! The Library's queries: every sort and filter against a model, search, counts, plans.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::model::{Pacing, Subject, VoiceOver, STYLE_PRESETS};
use crate::store::library::MAX_LIMIT;
use crate::store::tests::tombstone;

const WORDS: [&str; 12] = [
    "fox", "dawn", "neon", "rain", "city", "forest", "ocean", "fog", "golden", "glacier",
    "lantern", "harbor",
];

/// A generation with the fields the Library filters and sorts on.
#[derive(Debug, Clone)]
struct Spec {
    id: String,
    created_key: i64,
    status: Status,
    mode: Mode,
    resolution: Resolution,
    aspect: AspectRatio,
    style: Option<String>,
    credits: i64,
    duration: u32,
    prompt: Vec<&'static str>,
    script: Option<Vec<&'static str>>,
    downloaded: bool,
}

impl Spec {
    fn generation(&self) -> Generation {
        let created_at = rfc3339(self.created_key);
        Generation {
            id: self.id.clone(),
            prompt: self.prompt.join(" "),
            mode: self.mode,
            settings: Settings {
                duration_seconds: self.duration,
                resolution: self.resolution,
                aspect_ratio: self.aspect,
                style_preset: self.style.clone(),
                voice_over: self.script.as_ref().map(|words| VoiceOver {
                    language: "en".into(),
                    voice: "warm".into(),
                    script: Some(words.join(" ")),
                }),
                ..Settings::default()
            },
            references: vec![],
            status: self.status,
            progress: 1.0,
            credits_charged: self.credits,
            output_url: None,
            thumbnail_url: None,
            error: None,
            created_at: created_at.clone(),
            updated_at: created_at,
            deleted: false,
            deleted_at: None,
        }
    }

    fn tokens(&self) -> BTreeSet<&'static str> {
        self.prompt
            .iter()
            .chain(self.script.iter().flatten())
            .copied()
            .collect()
    }
}

fn rfc3339(nanos: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .unwrap()
        .format(&Rfc3339)
        .unwrap()
}

/// 2025-03-01T00:00:00Z in nanoseconds.
const BASE: i64 = 1_740_787_200_000_000_000;

/// A deterministic history with ties in every sort key, including generations of the same
/// microsecond and of the same nanosecond.
fn dataset(n: usize, seed: u64) -> Vec<Spec> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let pick = |rng: &mut StdRng, k: usize| WORDS[rng.random_range(0..k)];
            let prompt = (0..rng.random_range(2..7))
                .map(|_| pick(&mut rng, WORDS.len()))
                .collect();
            let script = rng.random_bool(0.3).then(|| {
                (0..rng.random_range(1..4))
                    .map(|_| pick(&mut rng, WORDS.len()))
                    .collect()
            });
            let style = match rng.random_range(0..5) {
                0 => None,
                1 => Some("Retro Wave".to_string()),
                n => Some(STYLE_PRESETS[n].to_string()),
            };
            Spec {
                id: format!("g{:04}", rng.random_range(0..10_000) * 1000 + i),
                // Milliseconds apart, often equal, sometimes a few nanoseconds apart.
                created_key: BASE
                    + rng.random_range(0..60i64) * 1_000_000
                    + if rng.random_bool(0.2) {
                        rng.random_range(0..3)
                    } else {
                        0
                    },
                status: Status::ALL[rng.random_range(0..Status::ALL.len())],
                mode: Mode::ALL[rng.random_range(0..Mode::ALL.len())],
                resolution: Resolution::ALL[rng.random_range(0..Resolution::ALL.len())],
                aspect: AspectRatio::ALL[rng.random_range(0..AspectRatio::ALL.len())],
                style,
                credits: rng.random_range(0..4) * 100,
                duration: [5, 10, 30][rng.random_range(0..3)],
                prompt,
                script,
                downloaded: rng.random_bool(0.25),
            }
        })
        .collect()
}

fn store_with(specs: &[Spec]) -> (Fixture, Store) {
    let f = fixture();
    let mut store = Store::create(&f.path, &key()).unwrap();
    // In a shuffled order, in several batches, so placement has to make room.
    let mut order: Vec<&Spec> = specs.iter().collect();
    let mut rng = StdRng::seed_from_u64(7);
    for i in (1..order.len()).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    for chunk in order.chunks(37) {
        let batch: Vec<Generation> = chunk.iter().map(|s| s.generation()).collect();
        store.upsert_generations(&batch).unwrap();
    }
    for spec in specs.iter().filter(|s| s.downloaded) {
        assert!(store
            .record_download(&spec.id, Path::new(&format!("/clips/{}.mp4", spec.id)))
            .unwrap());
    }
    (f, store)
}

/// What the query should return, computed without SQL.
fn model(specs: &[Spec], q: &LibraryQuery) -> Vec<String> {
    let terms = model_terms(q.text.as_deref().unwrap_or(""));
    let micros = |t: &Option<String>| t.as_ref().map(|t| time_key(t).unwrap().div_euclid(1000));
    let (from, to) = (
        micros(&q.filters.created_from),
        micros(&q.filters.created_to),
    );
    let f = &q.filters;
    let mut hits: Vec<&Spec> = specs
        .iter()
        .filter(|s| f.statuses.is_empty() || f.statuses.contains(&s.status))
        .filter(|s| f.modes.is_empty() || f.modes.contains(&s.mode))
        .filter(|s| f.resolutions.is_empty() || f.resolutions.contains(&s.resolution))
        .filter(|s| f.aspect_ratios.is_empty() || f.aspect_ratios.contains(&s.aspect))
        .filter(|s| f.styles.is_empty() || f.styles.contains(&s.style))
        .filter(|s| f.has_download.is_none_or(|d| d == s.downloaded))
        .filter(|s| from.is_none_or(|from| s.created_key.div_euclid(1000) >= from))
        .filter(|s| to.is_none_or(|to| s.created_key.div_euclid(1000) < to))
        .filter(|s| {
            let tokens = s.tokens();
            terms.iter().all(|(term, prefix)| {
                tokens.iter().any(|t| {
                    if *prefix {
                        t.starts_with(term)
                    } else {
                        t == term
                    }
                })
            })
        })
        .collect();
    let time = |s: &Spec| (s.created_key, s.id.clone());
    match q.sort {
        Sort::NewestFirst => hits.sort_by_key(|s| std::cmp::Reverse(time(s))),
        Sort::OldestFirst => hits.sort_by_key(|s| time(s)),
        Sort::MostCredits => hits.sort_by_key(|s| std::cmp::Reverse((s.credits, time(s)))),
        Sort::LongestFirst => hits.sort_by_key(|s| std::cmp::Reverse((s.duration, time(s)))),
    }
    hits.into_iter().map(|s| s.id.clone()).collect()
}

/// The model's reading of search text made of whole words, with the last one a prefix unless
/// followed by a space (the generator only makes such text).
fn model_terms(text: &str) -> Vec<(String, bool)> {
    let typing = !text.ends_with(' ');
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .iter()
        .enumerate()
        .map(|(i, w)| (w.to_string(), typing && i + 1 == words.len()))
        .collect()
}

/// Every page of `q`, checked on the way.
fn all_pages(store: &Store, q: &LibraryQuery) -> Vec<String> {
    let mut q = q.clone();
    let mut seen = Vec::new();
    loop {
        let page = store.query(&q).unwrap();
        assert!(page.items.len() <= q.limit);
        seen.extend(page.items.iter().map(|i| i.generation.id.clone()));
        match page.next {
            Some(next) => {
                assert_eq!(page.items.len(), q.limit, "only a full page has a next one");
                // The cursor survives a trip through the UI.
                let json = serde_json::to_string(&next).unwrap();
                q.after = Some(serde_json::from_str(&json).unwrap());
            }
            None => break,
        }
    }
    seen
}

fn time_filter(rng_minutes: Option<i64>) -> Option<String> {
    rng_minutes.map(|ms| rfc3339(BASE + ms * 1_000_000))
}

fn arb_query() -> impl Strategy<Value = LibraryQuery> {
    let text = prop::option::of((
        prop::collection::vec(0..WORDS.len(), 1..3),
        1usize..8,
        any::<bool>(),
    ))
    .prop_map(|t| {
        t.map(|(words, cut, typing)| {
            let mut words: Vec<String> = words.into_iter().map(|i| WORDS[i].to_string()).collect();
            let last = words.last_mut().unwrap();
            if typing {
                *last = last.chars().take(cut).collect();
            }
            let mut text = words.join(" ");
            if !typing {
                text.push(' ');
            }
            text
        })
    });
    let statuses = prop::sample::subsequence(Status::ALL.to_vec(), 0..3);
    let modes = prop::sample::subsequence(Mode::ALL.to_vec(), 0..2);
    let resolutions = prop::sample::subsequence(Resolution::ALL.to_vec(), 0..2);
    let aspects = prop::sample::subsequence(AspectRatio::ALL.to_vec(), 0..3);
    let styles = prop::sample::subsequence(
        vec![
            None,
            Some("Anime".to_string()),
            Some("Retro Wave".to_string()),
            Some("Cinematic".to_string()),
        ],
        0..2,
    );
    let dates = (
        prop::option::weighted(0.3, 0..60i64),
        prop::option::weighted(0.3, 0..60i64),
    );
    let sort = prop::sample::select(vec![
        Sort::NewestFirst,
        Sort::OldestFirst,
        Sort::MostCredits,
        Sort::LongestFirst,
    ]);
    (
        text,
        (statuses, modes, resolutions, aspects, styles),
        dates,
        prop::option::of(any::<bool>()),
        sort,
        1usize..9,
    )
        .prop_map(
            |(
                text,
                (statuses, modes, resolutions, aspect_ratios, styles),
                (from, to),
                has_download,
                sort,
                limit,
            )| {
                LibraryQuery {
                    text,
                    filters: Filters {
                        statuses,
                        modes,
                        resolutions,
                        aspect_ratios,
                        styles,
                        created_from: time_filter(from),
                        created_to: time_filter(to),
                        has_download,
                    },
                    sort,
                    limit,
                    after: None,
                }
            },
        )
}

/// Every combination of search, filters, sort and page size returns exactly the model's rows,
/// in the model's order, each once, and the counts agree with the model too.
#[test]
fn queries_match_a_model_of_search_filters_sorts_and_paging() {
    let specs = dataset(240, 1);
    let (_f, store) = store_with(&specs);
    let mut runner = TestRunner::new(Config {
        cases: 300,
        ..Config::default()
    });
    runner
        .run(&arb_query(), |q| {
            let expected = model(&specs, &q);
            let got = all_pages(&store, &q);
            prop_assert_eq!(&got, &expected, "{:?}", q);

            let counts = store.counts(&q).unwrap();
            prop_assert_eq!(counts.total, expected.len() as u64, "{:?}", q);
            for c in &counts.statuses {
                let mut other = q.clone();
                other.filters.statuses = vec![c.value];
                prop_assert_eq!(c.count, model(&specs, &other).len() as u64);
            }
            for c in &counts.styles {
                let mut other = q.clone();
                other.filters.styles = vec![c.value.clone()];
                prop_assert_eq!(c.count, model(&specs, &other).len() as u64);
            }
            for c in &counts.has_download {
                let mut other = q.clone();
                other.filters.has_download = Some(c.value);
                prop_assert_eq!(c.count, model(&specs, &other).len() as u64);
            }
            for c in &counts.aspect_ratios {
                let mut other = q.clone();
                other.filters.aspect_ratios = vec![c.value];
                prop_assert_eq!(c.count, model(&specs, &other).len() as u64);
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn every_sort_pages_through_everything_at_any_page_size() {
    let specs = dataset(150, 2);
    let (_f, store) = store_with(&specs);
    for sort in [
        Sort::NewestFirst,
        Sort::OldestFirst,
        Sort::MostCredits,
        Sort::LongestFirst,
    ] {
        for limit in [1, 7, 150, MAX_LIMIT] {
            let q = LibraryQuery {
                sort,
                limit,
                ..LibraryQuery::default()
            };
            let got = all_pages(&store, &q);
            assert_eq!(got, model(&specs, &q), "{sort:?} by {limit}");
            assert_eq!(got.len(), 150);
        }
    }
}

/// The default view is everything, newest first, whatever the page: blank text is no search;
/// a search, a filter or another sort is not the default view.
#[test]
fn the_default_view_is_everything_newest_first() {
    let default = LibraryQuery::default();
    assert!(default.is_default_view());
    for same in [
        LibraryQuery {
            text: Some("  ".into()),
            limit: 7,
            after: Some(serde_json::from_value(serde_json::json!("n.5")).unwrap()),
            ..default.clone()
        },
        serde_json::from_value(serde_json::json!({"filters": {}})).unwrap(),
    ] {
        assert!(same.is_default_view(), "{same:?}");
    }
    for other in [
        LibraryQuery {
            text: Some("fox".into()),
            ..default.clone()
        },
        LibraryQuery {
            sort: Sort::OldestFirst,
            ..default.clone()
        },
        LibraryQuery {
            filters: Filters {
                has_download: Some(false),
                ..Filters::default()
            },
            ..default.clone()
        },
        LibraryQuery {
            filters: Filters {
                created_to: Some("2025-01-01T00:00:00Z".into()),
                ..Filters::default()
            },
            ..default
        },
    ] {
        assert!(!other.is_default_view(), "{other:?}");
    }
}

/// Arbitrary text typed into the search box never makes an FTS5 syntax error (or any error).
#[test]
fn any_typed_text_is_a_valid_search() {
    let specs = dataset(40, 3);
    let (_f, store) = store_with(&specs);
    let mut runner = TestRunner::new(Config {
        cases: 500,
        ..Config::default()
    });
    let text = prop_oneof![
        any::<String>(),
        "[\"*()^:+\\-. a-zA-Z0-9]{0,30}",
        prop::sample::select(vec![
            "\"",
            "\"\"",
            "*",
            "fox*",
            "NEAR(fox",
            "fox AND",
            "OR",
            "NOT fox",
            "prompt:fox",
            "{prompt}: fox",
            "^fox",
            "fox\0dawn",
            "\u{E000}fox\u{E001}",
            "fox -dawn",
            "(",
            ")",
            "\"fox",
            "fox\"",
            "'",
            "\\",
            "%",
            "_",
        ])
        .prop_map(str::to_string),
    ];
    runner
        .run(&(text, any::<bool>()), |(text, filtered)| {
            let mut q = LibraryQuery {
                text: Some(text.clone()),
                ..LibraryQuery::default()
            };
            if filtered {
                q.filters.statuses = vec![Status::Succeeded];
                q.sort = Sort::MostCredits;
            }
            let page = store.query(&q);
            prop_assert!(page.is_ok(), "{:?}: {:?}", text, page.err());
            let counts = store.counts(&q);
            prop_assert!(counts.is_ok(), "{:?}: {:?}", text, counts.err());
            Ok(())
        })
        .unwrap();
}

fn voiced(id: &str, created_at: &str, prompt: &str, script: Option<&str>) -> Generation {
    let mut g = generation(id, created_at);
    g.prompt = prompt.into();
    g.settings.voice_over = Some(VoiceOver {
        language: "fr".into(),
        voice: "calm".into(),
        script: script.map(str::to_string),
    });
    g.settings.subject = Some(Subject::Landscape);
    g.settings.pacing = Some(Pacing::Slow);
    g.settings.subtitles = true;
    g
}

fn search(store: &Store, text: &str) -> Vec<String> {
    let q = LibraryQuery {
        text: Some(text.into()),
        ..LibraryQuery::default()
    };
    all_pages(store, &q)
}

#[test]
fn search_covers_prompts_and_scripts_with_prefixes_and_highlights() {
    let f = fixture();
    let mut store = Store::create(&f.path, &key()).unwrap();
    store
        .upsert_generations(&[
            voiced(
                "g1",
                "2025-03-01T10:00:00Z",
                "A lighthouse keeper at dawn, waves crashing",
                Some("Bonjour, le phare s'éveille à l'aube"),
            ),
            voiced("g2", "2025-03-01T10:00:01Z", "Neon café at night", None),
            voiced(
                "g3",
                "2025-03-01T10:00:02Z",
                "Quiet harbor",
                Some("the lighthouse sleeps"),
            ),
        ])
        .unwrap();
    assert_eq!(
        search(&store, "lighthouse"),
        ["g3", "g1"],
        "prompt or script"
    );
    assert_eq!(
        search(&store, "lightho"),
        ["g3", "g1"],
        "a prefix while typing"
    );
    assert_eq!(
        search(&store, "light "),
        Vec::<String>::new(),
        "a finished word is whole"
    );
    assert_eq!(search(&store, "phare"), ["g1"], "the voice-over script");
    assert_eq!(search(&store, "eveille"), ["g1"], "diacritics fold");
    assert_eq!(search(&store, "CAFÉ"), ["g2"], "case and accents fold");
    assert_eq!(
        search(&store, "lighthouse harbor"),
        ["g3"],
        "every word, any column"
    );
    assert_eq!(search(&store, "\"keeper at dawn\""), ["g1"], "a phrase");
    assert_eq!(search(&store, "\"dawn at keeper\""), Vec::<String>::new());
    assert_eq!(
        search(&store, "   "),
        ["g3", "g2", "g1"],
        "blank is no search"
    );

    let page = store
        .query(&LibraryQuery {
            text: Some("dawn wav".into()),
            ..LibraryQuery::default()
        })
        .unwrap();
    let snippet = page.items[0].snippet.as_ref().unwrap();
    let highlighted: Vec<&str> = snippet
        .iter()
        .filter(|p| p.highlighted)
        .map(|p| p.text.as_str())
        .collect();
    assert_eq!(highlighted, ["dawn", "waves"]);
    let text: String = snippet.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(text, "A lighthouse keeper at dawn, waves crashing");
    // No search, no snippet.
    assert!(store.query(&LibraryQuery::default()).unwrap().items[0]
        .snippet
        .is_none());
    // Snippets from the script when that is what matched, for the other sorts too.
    let page = store
        .query(&LibraryQuery {
            text: Some("phare".into()),
            sort: Sort::MostCredits,
            ..LibraryQuery::default()
        })
        .unwrap();
    let snippet = page.items[0].snippet.as_ref().unwrap();
    assert!(
        snippet.iter().any(|p| p.highlighted && p.text == "phare"),
        "{snippet:?}"
    );
}

#[test]
fn every_setting_has_a_column() {
    let f = fixture();
    let mut store = Store::create(&f.path, &key()).unwrap();
    let g = voiced("g1", "2025-03-01T10:00:00Z", "p", Some("the script"));
    store.upsert_generations(std::slice::from_ref(&g)).unwrap();
    let row: (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        i64,
        i64,
        i64,
    ) = store
        .conn
        .query_row(
            "SELECT subject, pacing, voice_language, voice_type, voice_script, resolution,
                    aspect_ratio, music, subtitles, duration_seconds
             FROM generations WHERE id = 'g1'",
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                ))
            },
        )
        .unwrap();
    assert_eq!(
        row,
        (
            "Landscape".into(),
            "Slow".into(),
            "fr".into(),
            "calm".into(),
            "the script".into(),
            "4k".into(),
            "9:16".into(),
            1,
            1,
            12
        )
    );
    assert_eq!(store.generation("g1").unwrap(), Some(g));
}

#[test]
fn generations_of_the_same_instant_keep_their_order_whatever_the_arrival_order() {
    let f = fixture();
    let mut store = Store::create(&f.path, &key()).unwrap();
    // Same microsecond; some the same nanosecond; arriving in an order that forces room to be
    // made at the front, in the middle and at the end.
    let times = [
        ("c", "2025-03-01T10:00:00.000001000Z"),
        ("a", "2025-03-01T10:00:00.000001000Z"),
        ("e", "2025-03-01T10:00:00.000001999Z"),
        ("b", "2025-03-01T10:00:00.000001000Z"),
        ("d", "2025-03-01T10:00:00.000001500Z"),
        ("0", "2025-03-01T10:00:00.000001999Z"),
    ];
    for (id, at) in times {
        store
            .upsert_generations(&[voiced(id, at, &format!("word{id} shared"), None)])
            .unwrap();
    }
    let newest = all_pages(&store, &LibraryQuery::default());
    assert_eq!(newest, ["e", "0", "d", "c", "b", "a"]);
    // The search index followed every move.
    assert_eq!(search(&store, "shared"), newest);
    for (id, _) in times {
        assert_eq!(search(&store, &format!("word{id}")), [id]);
    }
    // A corrected creation time moves the row (and its search entry).
    store
        .upsert_generations(&[voiced(
            "a",
            "2025-03-01T10:00:00.000002Z",
            "worda shared",
            None,
        )])
        .unwrap();
    assert_eq!(
        all_pages(&store, &LibraryQuery::default()),
        ["a", "e", "0", "d", "c", "b"]
    );
    assert_eq!(search(&store, "worda"), ["a"]);
    assert_eq!(fts_matches(&store, "shared").len(), 6);
}

#[test]
fn more_than_a_microsecond_can_hold_is_a_clear_error() {
    let f = fixture();
    let mut store = Store::create(&f.path, &key()).unwrap();
    let at = "2025-03-01T10:00:00Z";
    let batch: Vec<Generation> = (0..SLOTS)
        .map(|i| generation(&format!("g{i:05}"), at))
        .collect();
    store.upsert_generations(&batch).unwrap();
    let err = store
        .upsert_generations(&[generation("g-one-too-many", at)])
        .unwrap_err();
    assert_eq!(err.code(), "store.invalid_input");
    assert!(err.to_string().contains("same instant"), "{err}");
    assert_eq!(store.count_generations().unwrap(), SLOTS as u64);
}

#[test]
fn downloads_are_recorded_kept_across_syncs_and_filterable() {
    let f = fixture();
    let mut store = Store::create(&f.path, &key()).unwrap();
    let mut g = generation("g1", "2025-03-01T10:00:00Z");
    store
        .upsert_generations(&[g.clone(), generation("g2", "2025-03-01T10:00:01Z")])
        .unwrap();
    assert!(store
        .record_download("g1", Path::new("/home/ada/Videos/fox.mp4"))
        .unwrap());
    assert!(!store.record_download("nope", Path::new("/x")).unwrap());
    // A sync update does not forget it.
    g.progress = 1.0;
    g.updated_at = "2025-03-02T00:00:00Z".into();
    store.upsert_generations(&[g]).unwrap();
    let downloaded = |value| {
        all_pages(
            &store,
            &LibraryQuery {
                filters: Filters {
                    has_download: Some(value),
                    ..Filters::default()
                },
                ..LibraryQuery::default()
            },
        )
    };
    assert_eq!(downloaded(true), ["g1"]);
    assert_eq!(downloaded(false), ["g2"]);
    let item = store.item_with_thumbnail("g1").unwrap().unwrap().item;
    let download = item.download.unwrap();
    assert_eq!(download.path, "/home/ada/Videos/fox.mp4");
    assert!(time_key(&download.saved_at).is_ok());
    assert!(store.forget_download("g1").unwrap());
    assert!(!store.forget_download("g1").unwrap());
    assert_eq!(downloaded(true), Vec::<String>::new());

    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let odd = Path::new(std::ffi::OsStr::from_bytes(b"/tmp/\xff.mp4"));
        assert_eq!(
            store.record_download("g2", odd).unwrap_err().code(),
            "store.invalid_input"
        );
    }
}

#[test]
fn one_item_comes_with_its_thumbnail() {
    let f = fixture();
    let mut store = Store::create(&f.path, &key()).unwrap();
    store
        .upsert_generations(&[
            generation("g1", "2025-03-01T10:00:00Z"),
            generation("g2", "2025-03-01T10:00:01Z"),
        ])
        .unwrap();
    let image = vec![0xAB; 10 * 1024];
    store.put_thumbnail("g1", "image/jpeg", &image).unwrap();
    let one = store.item_with_thumbnail("g1").unwrap().unwrap();
    assert!(one.item.has_thumbnail);
    assert_eq!(
        one.thumbnail,
        Some(Thumbnail {
            mime: "image/jpeg".into(),
            bytes: image
        })
    );
    assert_eq!(
        one.item.generation,
        generation("g1", "2025-03-01T10:00:00Z")
    );
    let two = store.item_with_thumbnail("g2").unwrap().unwrap();
    assert!(!two.item.has_thumbnail);
    assert_eq!(two.thumbnail, None);
    assert_eq!(store.item_with_thumbnail("nope").unwrap(), None);
    let json = serde_json::to_value(&one).unwrap();
    assert_eq!(json["id"], "g1");
    assert_eq!(json["thumbnail"]["mime"], "image/jpeg");
}

#[test]
fn counts_follow_the_facet_rules() {
    let specs = dataset(120, 4);
    let (_f, store) = store_with(&specs);
    let all = store.counts(&LibraryQuery::default()).unwrap();
    assert_eq!(all.total, 120);
    assert_eq!(all.statuses.iter().map(|c| c.count).sum::<u64>(), 120);
    assert_eq!(
        all.statuses.iter().map(|c| c.value).collect::<Vec<_>>(),
        Status::ALL
    );
    // The Studio's presets first (with zeros), then others, then "no style".
    let styles: Vec<Option<&str>> = all.styles.iter().map(|c| c.value.as_deref()).collect();
    assert_eq!(&styles[..16], STYLE_PRESETS.map(Some));
    assert_eq!(styles[16..], [Some("Retro Wave"), None]);
    assert_eq!(all.styles.iter().map(|c| c.count).sum::<u64>(), 120);

    // Ticking one status does not change the status counts, only the others.
    let q = LibraryQuery {
        filters: Filters {
            statuses: vec![Status::Failed],
            ..Filters::default()
        },
        ..LibraryQuery::default()
    };
    let failed = store.counts(&q).unwrap();
    assert_eq!(failed.statuses, all.statuses);
    assert_eq!(failed.total, all.statuses[3].count);
    assert_eq!(
        failed.modes.iter().map(|c| c.count).sum::<u64>(),
        failed.total
    );

    let json = serde_json::to_value(&failed).unwrap();
    assert_eq!(
        json["statuses"][3],
        serde_json::json!({"value": "failed", "count": failed.total})
    );
    assert_eq!(json["hasDownload"][0]["value"], true);
    assert_eq!(json["aspectRatios"][0]["value"], "16:9");
    assert_eq!(json["styles"][17]["value"], serde_json::Value::Null);
}

#[test]
fn bad_queries_are_typed_errors() {
    let f = fixture();
    let store = Store::create(&f.path, &key()).unwrap();
    for limit in [0, MAX_LIMIT + 1] {
        let q = LibraryQuery {
            limit,
            ..LibraryQuery::default()
        };
        assert_eq!(store.query(&q).unwrap_err().code(), "store.invalid_input");
    }
    let cursor =
        |s: &str| -> LibraryCursor { serde_json::from_value(serde_json::json!(s)).unwrap() };
    for (sort, after) in [
        (Sort::MostCredits, cursor("n.5")),
        (Sort::OldestFirst, cursor("n.5")),
        (Sort::NewestFirst, cursor("n.x")),
        (Sort::NewestFirst, cursor("n.1.2")),
        (Sort::MostCredits, cursor("c.1")),
        (Sort::NewestFirst, cursor("")),
    ] {
        let q = LibraryQuery {
            sort,
            after: Some(after),
            ..LibraryQuery::default()
        };
        assert_eq!(store.query(&q).unwrap_err().code(), "store.invalid_input");
    }
    let q = LibraryQuery {
        filters: Filters {
            created_from: Some("last week".into()),
            ..Filters::default()
        },
        ..LibraryQuery::default()
    };
    assert_eq!(store.query(&q).unwrap_err().code(), "store.invalid_input");
    assert_eq!(store.counts(&q).unwrap_err().code(), "store.invalid_input");
}

#[test]
fn query_json_uses_the_ui_names_and_defaults() {
    let q: LibraryQuery = serde_json::from_value(serde_json::json!({
        "text": "fox",
        "filters": {
            "statuses": ["succeeded"],
            "aspectRatios": ["21:9"],
            "styles": ["VHS", null],
            "createdFrom": "2025-01-01T00:00:00Z",
            "hasDownload": false
        },
        "sort": "mostCredits"
    }))
    .unwrap();
    assert_eq!(q.limit, 50);
    assert_eq!(q.sort, Sort::MostCredits);
    assert_eq!(q.filters.aspect_ratios, [AspectRatio::Cinema]);
    assert_eq!(q.filters.styles, [Some("VHS".to_string()), None]);
    assert_eq!(q.filters.has_download, Some(false));
    assert_eq!(
        serde_json::from_value::<LibraryQuery>(serde_json::json!({})).unwrap(),
        LibraryQuery::default()
    );
}

/// The plans that keep the Library fast with 100,000 generations: no sorting of all rows, and
/// filters read from the narrow index.
#[test]
fn library_queries_use_their_indexes() {
    let specs = dataset(30, 5);
    let (_f, store) = store_with(&specs);
    let filters = Filters {
        statuses: vec![Status::Succeeded, Status::Failed],
        styles: vec![None],
        ..Filters::default()
    };
    let cases = [
        (
            LibraryQuery {
                filters: filters.clone(),
                ..LibraryQuery::default()
            },
            "generations_filters",
        ),
        (
            LibraryQuery {
                filters: Filters {
                    created_from: Some("2025-01-01T00:00:00Z".into()),
                    ..Filters::default()
                },
                ..LibraryQuery::default()
            },
            "SEARCH generations USING INTEGER PRIMARY KEY (rowid>?)",
        ),
        (
            LibraryQuery {
                text: Some("fox".into()),
                ..LibraryQuery::default()
            },
            "VIRTUAL TABLE INDEX",
        ),
        (
            LibraryQuery {
                text: Some("fox".into()),
                filters: filters.clone(),
                sort: Sort::OldestFirst,
                ..LibraryQuery::default()
            },
            "generations_filters",
        ),
        (
            LibraryQuery {
                sort: Sort::MostCredits,
                filters,
                ..LibraryQuery::default()
            },
            "generations_most_credits",
        ),
        (
            LibraryQuery {
                sort: Sort::LongestFirst,
                ..LibraryQuery::default()
            },
            "generations_longest",
        ),
    ];
    for (q, index) in cases {
        let sql = crate::store::library::query_sql(&q).unwrap().sql;
        let plan = plan(&store, &sql.text, rusqlite::params_from_iter(&sql.params));
        assert!(plan.contains(index), "{q:?}: {plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{q:?}: {plan}");
    }
    // Counting reads the filter values from the narrow index, in order.
    let plan = plan(
        &store,
        "SELECT seq, status, mode, resolution, aspect_ratio, style_preset, has_download
         FROM generations INDEXED BY generations_filters ORDER BY seq",
        [],
    );
    assert!(
        plan.contains("COVERING INDEX generations_filters"),
        "{plan}"
    );
    assert!(!plan.contains("TEMP B-TREE"), "{plan}");
}

#[test]
fn purchases_round_trip_oldest_first() {
    let f = fixture();
    let mut store = Store::create(&f.path, &key()).unwrap();
    let purchase = |id: &str, at: &str, credits| Purchase {
        id: id.into(),
        credits,
        amount_cents: credits * 2,
        currency: "USD".into(),
        created_at: at.into(),
        updated_at: at.into(),
    };
    let later = purchase("p2", "2025-03-02T00:00:00.5Z", 500);
    let earlier = purchase("p1", "2025-03-02T00:00:00Z", 1000);
    store
        .apply_purchases_page(
            &[later.clone(), earlier.clone()],
            &Unread::default(),
            "cursor.purchases",
            "c1",
        )
        .unwrap();
    let mut changed = later.clone();
    changed.amount_cents = 999;
    store
        .upsert_purchases(std::slice::from_ref(&changed))
        .unwrap();
    assert_eq!(store.purchases().unwrap(), vec![earlier, changed]);
    assert_eq!(
        store.cursor("cursor.purchases").unwrap().as_deref(),
        Some("c1")
    );
    let err = store
        .upsert_purchases(&[purchase("p3", "soon", 1)])
        .unwrap_err();
    assert_eq!(err.code(), "store.invalid_input");
}

/// Counts follow every change: this store's writes, and commits by another connection.
#[test]
fn counts_follow_every_change() {
    let f = fixture();
    let key = key();
    let mut store = Store::create(&f.path, &key).unwrap();
    let total = |store: &Store, text: Option<&str>| {
        store
            .counts(&LibraryQuery {
                text: text.map(str::to_string),
                ..LibraryQuery::default()
            })
            .unwrap()
    };
    assert_eq!(total(&store, None).total, 0);
    store
        .upsert_generations(&[generation("g1", "2025-03-01T10:00:00Z")])
        .unwrap();
    assert_eq!(total(&store, None).total, 1);
    assert_eq!(total(&store, Some("fox")).total, 1);
    assert_eq!(total(&store, Some("heron")).total, 0);
    store.record_download("g1", Path::new("/x.mp4")).unwrap();
    assert_eq!(total(&store, None).has_download[0].count, 1);
    let mut g = generation("g1", "2025-03-01T10:00:00Z");
    g.prompt = "a heron".into();
    g.status = Status::Failed;
    store.upsert_generations(&[g]).unwrap();
    assert_eq!(total(&store, Some("heron")).total, 1);
    assert_eq!(total(&store, None).statuses[3].count, 1);

    // Another connection (a second window) writes: seen at the next count.
    let mut other = Store::open(&f.path, &same_key(&key)).unwrap();
    other
        .upsert_generations(&[generation("g2", "2025-03-01T10:00:01Z")])
        .unwrap();
    assert_eq!(total(&store, None).total, 2);
    other.upsert_generations(&[tombstone("g1")]).unwrap();
    assert_eq!(total(&store, None).total, 1);
    assert_eq!(total(&store, Some("heron")).total, 0);
}
