//! The Cleom domain as plain data: what a generation, its settings and an account are.
//!
//! These types are shared by the desktop app, the local backend and the wire formats, so their
//! serde names are the Cleom API's JSON names (camelCase fields, the string values below).
//! Nothing here does I/O.

use serde::{Deserialize, Serialize};

/// Shortest and longest clip the Studio accepts, in seconds.
pub const MIN_DURATION_SECONDS: u32 = 5;
pub const MAX_DURATION_SECONDS: u32 = 60;
/// At most this many reference images may be attached to one generation.
pub const MAX_REFERENCE_IMAGES: usize = 5;
/// A source video may be at most this large.
pub const MAX_REFERENCE_VIDEO_BYTES: u64 = 50 * 1024 * 1024;
/// A prompt may be at most this long, in characters.
pub const MAX_PROMPT_CHARS: usize = 4000;

/// What the generation starts from; it follows from the attached references.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    TextToVideo,
    ImageToVideo,
    VideoToVideo,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::TextToVideo, Mode::ImageToVideo, Mode::VideoToVideo];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::TextToVideo => "text_to_video",
            Mode::ImageToVideo => "image_to_video",
            Mode::VideoToVideo => "video_to_video",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// The mode the attached references imply, or why they cannot be combined.
    pub fn detect(references: &[Reference]) -> Result<Mode, ReferenceProblem> {
        let images = references
            .iter()
            .filter(|r| r.kind == ReferenceKind::Image)
            .count();
        let videos = references
            .iter()
            .filter(|r| r.kind == ReferenceKind::Video)
            .count();
        match (images, videos) {
            (0, 0) => Ok(Mode::TextToVideo),
            (n, 0) if n <= MAX_REFERENCE_IMAGES => Ok(Mode::ImageToVideo),
            (_, 0) => Err(ReferenceProblem::TooManyImages),
            (0, 1) => {
                if references[0].size_bytes > MAX_REFERENCE_VIDEO_BYTES {
                    Err(ReferenceProblem::VideoTooLarge)
                } else {
                    Ok(Mode::VideoToVideo)
                }
            }
            (0, _) => Err(ReferenceProblem::MoreThanOneVideo),
            _ => Err(ReferenceProblem::ImagesAndVideo),
        }
    }
}

/// Why a set of references cannot be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceProblem {
    #[error("at most {MAX_REFERENCE_IMAGES} reference images can be attached")]
    TooManyImages,
    #[error("only one source video can be attached")]
    MoreThanOneVideo,
    #[error("a source video can be at most 50 MB")]
    VideoTooLarge,
    #[error("attach either images or one video, not both")]
    ImagesAndVideo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Resolution {
    #[serde(rename = "1080p")]
    P1080,
    #[serde(rename = "2k")]
    K2,
    #[serde(rename = "4k")]
    K4,
}

impl Resolution {
    pub const ALL: [Resolution; 3] = [Resolution::P1080, Resolution::K2, Resolution::K4];

    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::P1080 => "1080p",
            Resolution::K2 => "2k",
            Resolution::K4 => "4k",
        }
    }

    pub fn parse(s: &str) -> Option<Resolution> {
        Resolution::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum AspectRatio {
    #[serde(rename = "16:9")]
    Wide,
    #[serde(rename = "9:16")]
    Tall,
    #[serde(rename = "1:1")]
    Square,
    #[serde(rename = "21:9")]
    Cinema,
    #[serde(rename = "4:3")]
    Classic,
}

impl AspectRatio {
    pub fn as_str(self) -> &'static str {
        match self {
            AspectRatio::Wide => "16:9",
            AspectRatio::Tall => "9:16",
            AspectRatio::Square => "1:1",
            AspectRatio::Cinema => "21:9",
            AspectRatio::Classic => "4:3",
        }
    }
}

/// The Studio's 16 style presets, in the order the Studio lists them.
pub const STYLE_PRESETS: [&str; 16] = [
    "Cinematic",
    "Documentary",
    "Anime",
    "3D Animation",
    "Claymation",
    "Watercolor",
    "Film Noir",
    "Cyberpunk",
    "Fantasy",
    "Vintage Film",
    "Minimalist",
    "Photorealistic",
    "Comic Book",
    "Pixel Art",
    "Timelapse",
    "VHS",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Subject {
    Person,
    Product,
    Landscape,
    Abstract,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Pacing {
    Slow,
    Normal,
    Fast,
}

/// A narration track: spoken language, voice type and an optional custom script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct VoiceOver {
    pub language: String,
    pub voice: String,
    #[serde(default)]
    pub script: Option<String>,
}

/// Every Studio setting of one generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub duration_seconds: u32,
    pub resolution: Resolution,
    #[serde(default = "default_aspect_ratio")]
    pub aspect_ratio: AspectRatio,
    #[serde(default)]
    pub style_preset: Option<String>,
    #[serde(default)]
    pub subject: Option<Subject>,
    #[serde(default)]
    pub pacing: Option<Pacing>,
    #[serde(default)]
    pub voice_over: Option<VoiceOver>,
    #[serde(default)]
    pub music: bool,
    #[serde(default)]
    pub subtitles: bool,
}

fn default_aspect_ratio() -> AspectRatio {
    AspectRatio::Wide
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            duration_seconds: 10,
            resolution: Resolution::P1080,
            aspect_ratio: AspectRatio::Wide,
            style_preset: None,
            subject: None,
            pacing: None,
            voice_over: None,
            music: false,
            subtitles: false,
        }
    }
}

/// Why settings cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsProblem {
    #[error("duration must be between 5 and 60 seconds")]
    Duration,
    #[error("unknown style preset {0:?}")]
    StylePreset(String),
    #[error("the prompt is empty")]
    EmptyPrompt,
    #[error("the prompt is longer than {MAX_PROMPT_CHARS} characters")]
    PromptTooLong,
}

impl Settings {
    pub fn validate(&self) -> Result<(), SettingsProblem> {
        if !(MIN_DURATION_SECONDS..=MAX_DURATION_SECONDS).contains(&self.duration_seconds) {
            return Err(SettingsProblem::Duration);
        }
        if let Some(style) = &self.style_preset {
            if !STYLE_PRESETS.contains(&style.as_str()) {
                return Err(SettingsProblem::StylePreset(style.clone()));
            }
        }
        Ok(())
    }
}

/// Checks a prompt the way the Cleom API does.
pub fn validate_prompt(prompt: &str) -> Result<(), SettingsProblem> {
    if prompt.trim().is_empty() {
        return Err(SettingsProblem::EmptyPrompt);
    }
    if prompt.chars().count() > MAX_PROMPT_CHARS {
        return Err(SettingsProblem::PromptTooLong);
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ReferenceKind {
    Image,
    Video,
}

/// A file attached to a generation (its metadata; the bytes travel separately).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Reference {
    pub name: String,
    pub kind: ReferenceKind,
    pub size_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Queued,
    Running,
    Succeeded,
    Failed,
    Canceled,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Queued,
        Status::Running,
        Status::Succeeded,
        Status::Failed,
        Status::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Still changing on the server.
    pub fn is_active(self) -> bool {
        matches!(self, Status::Queued | Status::Running)
    }
}

/// One generation as the Cleom API and the local store know it.
/// Timestamps are RFC 3339 strings in UTC, as Firestore returns them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Generation {
    pub id: String,
    pub prompt: String,
    pub mode: Mode,
    pub settings: Settings,
    #[serde(default)]
    pub references: Vec<Reference>,
    pub status: Status,
    /// 0.0 to 1.0.
    #[serde(default)]
    pub progress: f64,
    #[serde(default)]
    pub credits_charged: i64,
    #[serde(default)]
    pub output_url: Option<String>,
    #[serde(default)]
    pub thumbnail_url: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub deleted_at: Option<String>,
}

/// The account's profile document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub uid: String,
    pub email: String,
    #[serde(default)]
    pub display_name: Option<String>,
    pub credit_balance: i64,
    #[serde(default)]
    pub analytics_opt_in: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// One signed-in session of the account, as the Cleom API records it: the device it is on and
/// when it was first and last seen (RFC 3339, UTC). `id` is the app's own, drawn at sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct DeviceSession {
    pub id: String,
    pub device_name: String,
    /// `linux`, `macos`, `windows` or `other`.
    pub platform: String,
    pub first_seen: String,
    pub last_seen: String,
}

/// One movement of credits: a grant, a charge, a refund or a purchase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct LedgerEntry {
    pub id: String,
    /// Positive for credits received, negative for credits spent.
    pub amount: i64,
    pub reason: String,
    #[serde(default)]
    pub generation_id: Option<String>,
    pub balance_after: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// What the user asks the Cleom API to make. `id` is chosen by the client so that a retried
/// request can never be charged twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct GenerationRequest {
    pub id: String,
    pub prompt: String,
    pub settings: Settings,
    #[serde(default)]
    pub references: Vec<Reference>,
}

/// A purchase of credits (`users/{uid}/purchases/{id}`), written by the server only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Purchase {
    pub id: String,
    pub credits: i64,
    /// The price paid, in the currency's smallest unit.
    pub amount_cents: i64,
    /// ISO 4217, e.g. "USD".
    pub currency: String,
    pub created_at: String,
    pub updated_at: String,
}

impl AspectRatio {
    pub const ALL: [AspectRatio; 5] = [
        AspectRatio::Wide,
        AspectRatio::Tall,
        AspectRatio::Square,
        AspectRatio::Cinema,
        AspectRatio::Classic,
    ];

    pub fn parse(s: &str) -> Option<AspectRatio> {
        AspectRatio::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(kind: ReferenceKind, size_bytes: u64) -> Reference {
        Reference {
            name: "r".into(),
            kind,
            size_bytes,
        }
    }

    #[test]
    fn mode_follows_the_attached_references() {
        assert_eq!(Mode::detect(&[]), Ok(Mode::TextToVideo));
        let five = vec![reference(ReferenceKind::Image, 10); 5];
        assert_eq!(Mode::detect(&five), Ok(Mode::ImageToVideo));
        let six = vec![reference(ReferenceKind::Image, 10); 6];
        assert_eq!(Mode::detect(&six), Err(ReferenceProblem::TooManyImages));
        assert_eq!(
            Mode::detect(&[reference(ReferenceKind::Video, MAX_REFERENCE_VIDEO_BYTES)]),
            Ok(Mode::VideoToVideo)
        );
        assert_eq!(
            Mode::detect(&[reference(
                ReferenceKind::Video,
                MAX_REFERENCE_VIDEO_BYTES + 1
            )]),
            Err(ReferenceProblem::VideoTooLarge)
        );
        assert_eq!(
            Mode::detect(&[
                reference(ReferenceKind::Video, 1),
                reference(ReferenceKind::Image, 1)
            ]),
            Err(ReferenceProblem::ImagesAndVideo)
        );
    }

    #[test]
    fn settings_use_the_wire_names() {
        let settings = Settings {
            resolution: Resolution::K4,
            ..Settings::default()
        };
        let json = serde_json::to_value(&settings).unwrap();
        assert_eq!(json["resolution"], "4k");
        assert_eq!(json["durationSeconds"], 10);
        assert_eq!(json["aspectRatio"], "16:9");
        let back: Settings = serde_json::from_value(json).unwrap();
        assert_eq!(back, settings);
    }

    #[test]
    fn settings_reject_out_of_range_duration_and_unknown_style() {
        let mut s = Settings {
            duration_seconds: 4,
            ..Settings::default()
        };
        assert_eq!(s.validate(), Err(SettingsProblem::Duration));
        s.duration_seconds = 61;
        assert_eq!(s.validate(), Err(SettingsProblem::Duration));
        s.duration_seconds = 60;
        assert_eq!(s.validate(), Ok(()));
        s.style_preset = Some("Baroque".into());
        assert!(matches!(s.validate(), Err(SettingsProblem::StylePreset(_))));
        s.style_preset = Some("VHS".into());
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn prompts_must_have_text_and_a_bounded_length() {
        assert_eq!(validate_prompt("  \n"), Err(SettingsProblem::EmptyPrompt));
        assert_eq!(
            validate_prompt(&"x".repeat(MAX_PROMPT_CHARS + 1)),
            Err(SettingsProblem::PromptTooLong)
        );
        assert_eq!(validate_prompt("a fox at dawn"), Ok(()));
    }
}
