//! Credit prices. The table is served by the Cleom API (`GET /v1/pricing`) and never
//! hard-coded in the app; this module holds its shape and the one estimate function that both
//! the app (before the user clicks Generate) and the local backend (when it charges) use, so
//! the estimate shown is the amount charged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{Mode, Settings};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricingTable {
    pub version: u32,
    /// Credits per second of output for every generation.
    pub base_per_second: i64,
    /// Extra credits per second for each resolution (`"1080p"`, `"2k"`, `"4k"`).
    pub resolution_per_second: BTreeMap<String, i64>,
    /// Extra credits per second for each mode (`"text_to_video"`, ...).
    pub mode_per_second: BTreeMap<String, i64>,
    pub voice_over_per_second: i64,
    pub music_per_second: i64,
    pub subtitles_per_second: i64,
}

/// What a generation will cost, line by line, so the UI can explain the total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Estimate {
    pub total: i64,
    pub per_second: i64,
    pub duration_seconds: u32,
    pub lines: Vec<EstimateLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct EstimateLine {
    pub label: String,
    pub per_second: i64,
}

/// The table does not price something the settings ask for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the pricing table has no price for {0}")]
pub struct Unpriced(pub String);

impl PricingTable {
    /// The table the local backend serves: Cleom's published 70 credits per second, +10/s with
    /// voice over, +5/s with music, and surcharges for resolution and references.
    pub fn local_default() -> PricingTable {
        PricingTable {
            version: 1,
            base_per_second: 70,
            resolution_per_second: [("1080p", 0), ("2k", 20), ("4k", 45)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            mode_per_second: [
                ("text_to_video", 0),
                ("image_to_video", 5),
                ("video_to_video", 10),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
            voice_over_per_second: 10,
            music_per_second: 5,
            subtitles_per_second: 2,
        }
    }

    pub fn estimate(&self, mode: Mode, settings: &Settings) -> Result<Estimate, Unpriced> {
        let mut lines = vec![EstimateLine {
            label: "Base".into(),
            per_second: self.base_per_second,
        }];
        let resolution = settings.resolution.as_str();
        let res = *self
            .resolution_per_second
            .get(resolution)
            .ok_or_else(|| Unpriced(format!("resolution {resolution}")))?;
        if res != 0 {
            lines.push(EstimateLine {
                label: format!("Resolution {resolution}"),
                per_second: res,
            });
        }
        let mode_name = mode.as_str();
        let by_mode = *self
            .mode_per_second
            .get(mode_name)
            .ok_or_else(|| Unpriced(format!("mode {mode_name}")))?;
        if by_mode != 0 {
            lines.push(EstimateLine {
                label: "References".into(),
                per_second: by_mode,
            });
        }
        if settings.voice_over.is_some() {
            lines.push(EstimateLine {
                label: "Voice over".into(),
                per_second: self.voice_over_per_second,
            });
        }
        if settings.music {
            lines.push(EstimateLine {
                label: "Music".into(),
                per_second: self.music_per_second,
            });
        }
        if settings.subtitles {
            lines.push(EstimateLine {
                label: "Subtitles".into(),
                per_second: self.subtitles_per_second,
            });
        }
        let per_second: i64 = lines.iter().map(|l| l.per_second).sum();
        Ok(Estimate {
            total: per_second * i64::from(settings.duration_seconds),
            per_second,
            duration_seconds: settings.duration_seconds,
            lines,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Resolution, VoiceOver};

    #[test]
    fn ten_seconds_of_plain_1080p_costs_seventy_a_second() {
        let table = PricingTable::local_default();
        let e = table
            .estimate(Mode::TextToVideo, &Settings::default())
            .unwrap();
        assert_eq!(e.total, 700);
        assert_eq!(e.per_second, 70);
    }

    #[test]
    fn voice_over_and_music_add_their_published_rates() {
        let table = PricingTable::local_default();
        let settings = Settings {
            duration_seconds: 5,
            voice_over: Some(VoiceOver {
                language: "en".into(),
                voice: "warm".into(),
                script: None,
            }),
            music: true,
            ..Settings::default()
        };
        let e = table.estimate(Mode::TextToVideo, &settings).unwrap();
        assert_eq!(e.total, 5 * (70 + 10 + 5));
    }

    #[test]
    fn a_resolution_missing_from_the_table_is_an_error_not_free() {
        let mut table = PricingTable::local_default();
        table.resolution_per_second.remove("4k");
        let settings = Settings {
            resolution: Resolution::K4,
            ..Settings::default()
        };
        assert!(table.estimate(Mode::TextToVideo, &settings).is_err());
    }
}
