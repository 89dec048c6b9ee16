//! File names inside an export, derived from prompts and ids.
//!
//! A prompt is whatever the user typed, so a name made from it must be safe on every system the
//! zip may be unpacked on: no path separators or `..` (no escaping `media/`), no control or
//! bidirectional-override characters, and the rules of [`crate::file_name`] for every OS (no
//! Windows device name such as `CON` or `COM0`, no trailing dot or space, at most 255 bytes).
//! A name made here is much shorter than that (about 140 bytes at most), so that it fits in a
//! deep folder too, cut on a UTF-8 boundary. Letters and digits of
//! every script are kept, so a French or Japanese prompt still gives a readable name. The id
//! is always part of the name, and so is the file's role (`-thumbnail`, `-video`): a GIF clip
//! and a GIF thumbnail of one generation are two files. What could still make two names one
//! (ids that differ only in characters the name drops, or only in case, which Windows and macOS
//! ignore; a prompt word that reads like another generation's id) is settled by
//! [`MediaNames`], which numbers a name already given in the export.

use std::collections::HashSet;

/// Longest prompt-derived part of a name, in bytes.
const MAX_SLUG_BYTES: usize = 60;
/// Longest id part of a name, in bytes.
const MAX_ID_BYTES: usize = 64;
/// Longest extension, in bytes.
const MAX_EXT_BYTES: usize = 8;

/// A file name for a generation's media: `<words of the prompt>-<id>.<ext>`, or `<id>.<ext>`
/// when the prompt has no usable word (or is empty, as in a password-protected export, where
/// names are not encrypted and so must not reveal prompts).
///
/// Only letters and digits (of any script) survive from the prompt; every run of anything else
/// becomes one `-`. The id keeps only `[A-Za-z0-9_-]`, the extension only `[a-z0-9]`.
pub fn safe_file_name(prompt: &str, id: &str, ext: &str) -> String {
    let words = slug(prompt);
    let slug = truncate(&words, MAX_SLUG_BYTES).trim_end_matches('-');
    let id: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .skip_while(|c| *c == '-')
        .take(MAX_ID_BYTES)
        .collect();
    let id = if id.is_empty() { "generation" } else { &id };
    let ext: String = ext
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .take(MAX_EXT_BYTES)
        .collect();
    let ext = if ext.is_empty() { "bin" } else { &ext };
    let stem = if slug.is_empty() {
        id.to_string()
    } else {
        format!("{slug}-{id}")
    };
    crate::file_name::portable(&stem, &format!(".{ext}"))
}

/// What a media file is to its generation: part of its name in an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MediaRole {
    Thumbnail,
    Video,
}

impl MediaRole {
    fn as_str(self) -> &'static str {
        match self {
            MediaRole::Thumbnail => "thumbnail",
            MediaRole::Video => "video",
        }
    }
}

/// The media file names given so far in one export, so that none is given twice: a zip
/// refuses a second file of one name (the export would fail), and an unpacker would overwrite
/// the first. Names are compared without regard to case, as Windows and macOS compare them.
/// One short string per media file, like the manifest's line for it.
#[derive(Debug, Default)]
pub(crate) struct MediaNames {
    taken: HashSet<String>,
}

impl MediaNames {
    /// The name of a generation's media file: [`safe_file_name`] with the role after the id
    /// (`<words>-<id>-thumbnail.png`), and `-2`, `-3`... after that if the name was given.
    pub(crate) fn give(&mut self, prompt: &str, id: &str, role: MediaRole, ext: &str) -> String {
        let base = safe_file_name(prompt, id, ext);
        let (stem, ext) = base.rsplit_once('.').unwrap_or((base.as_str(), "bin"));
        let role = role.as_str();
        let mut n = 1u64;
        loop {
            let tail = match n {
                1 => format!("-{role}.{ext}"),
                n => format!("-{role}-{n}.{ext}"),
            };
            let name = crate::file_name::portable(stem, &tail);
            if self.taken.insert(name.to_lowercase()) {
                return name;
            }
            n += 1;
        }
    }
}

/// Letters and digits of `prompt`, with every run of other characters replaced by one `-`,
/// and no `-` at either end.
fn slug(prompt: &str) -> String {
    let mut out = String::with_capacity(prompt.len().min(MAX_SLUG_BYTES * 2));
    let mut gap = false;
    for c in prompt.chars() {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('-');
            }
            gap = false;
            out.push(c);
            if out.len() > MAX_SLUG_BYTES {
                break;
            }
        } else {
            gap = true;
        }
    }
    out
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The extension a downloaded clip is saved with, from its URL's last path segment: one of the
/// video formats Cleom serves, or `bin` when the URL does not say. A whitelist, so that a clip
/// can never be named like a thumbnail (`.png`) and overwrite it.
pub fn clip_extension(url: &str) -> &'static str {
    const KNOWN: [&str; 6] = ["mp4", "webm", "mov", "m4v", "mkv", "gif"];
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let last = path.rsplit('/').next().unwrap_or_default();
    let ext = last
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    ext.and_then(|ext| KNOWN.into_iter().find(|k| *k == ext))
        .unwrap_or("bin")
}

/// The extension of a stored thumbnail, from its mime type.
pub fn image_extension(mime: &str) -> &'static str {
    match mime {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/webp" => "webp",
        "image/gif" => "gif",
        _ => "bin",
    }
}

/// The default name of a one-click export: `cleom-export-YYYYMMDD-HHMMSS.zip`, or
/// `...-encrypted.zip` for a password-protected one, so the label is visible in any file list.
pub fn default_export_name(at: time::OffsetDateTime, encrypted: bool) -> String {
    format!(
        "cleom-export-{:04}{:02}{:02}-{:02}{:02}{:02}{}.zip",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        if encrypted { "-encrypted" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn prompt_words_and_the_id_make_the_name() {
        assert_eq!(
            safe_file_name("A glass whale, singing!", "g1", "png"),
            "A-glass-whale-singing-g1.png"
        );
        assert_eq!(safe_file_name("", "g1", "png"), "g1.png");
        assert_eq!(safe_file_name("!!!", "g1", "PNG"), "g1.png");
    }

    #[test]
    fn unicode_letters_are_kept() {
        assert_eq!(
            safe_file_name("café crème, 東京の夜", "x", "gif"),
            "café-crème-東京の夜-x.gif"
        );
        assert_eq!(safe_file_name("Привет мир", "x", "png"), "Привет-мир-x.png");
    }

    #[test]
    fn paths_controls_and_bidi_tricks_are_removed() {
        assert_eq!(
            safe_file_name("../../etc/passwd", "id", "png"),
            "etc-passwd-id.png"
        );
        assert_eq!(
            safe_file_name("..\\..\\windows\\system32", "id", "png"),
            "windows-system32-id.png"
        );
        assert_eq!(
            safe_file_name("a\u{0}b\nc\u{7f}", "id", "png"),
            "a-b-c-id.png"
        );
        // U+202E (right-to-left override) could make `gnp.exe` look like `exe.png`.
        assert_eq!(
            safe_file_name("evil\u{202e}gnp.exe", "id", "png"),
            "evil-gnp-exe-id.png"
        );
        assert_eq!(safe_file_name("x", "../id", "png"), "x-id.png");
        assert_eq!(safe_file_name("x", "id", "../png"), "x-id.png");
        assert_eq!(safe_file_name("x", "", ""), "x-generation.bin");
    }

    #[test]
    fn windows_reserved_names_are_prefixed() {
        assert_eq!(safe_file_name("", "CON", "png"), "_CON.png");
        assert_eq!(safe_file_name("", "nul", "png"), "_nul.png");
        assert_eq!(safe_file_name("", "com1", "txt"), "_com1.txt");
        assert_eq!(safe_file_name("", "CONSOLE", "png"), "CONSOLE.png");
        assert_eq!(safe_file_name("", "COM0", "mp4"), "_COM0.mp4");
        assert_eq!(safe_file_name("", "lpt0", "gif"), "_lpt0.gif");
        // A prompt word never stands alone: the id follows it.
        assert_eq!(safe_file_name("CON", "id", "png"), "CON-id.png");
    }

    #[test]
    fn long_prompts_are_cut_on_a_character_boundary() {
        let name = safe_file_name(&"é".repeat(200), "id", "png");
        assert!(name.len() <= MAX_SLUG_BYTES + 1 + 2 + 4, "{name}");
        assert!(name.ends_with("-id.png"));
        assert!(name.starts_with("éé"));
    }

    #[test]
    fn clip_extensions_come_from_a_whitelist() {
        assert_eq!(clip_extension("http://h/api/v1/media/t/clip.gif"), "gif");
        assert_eq!(clip_extension("https://h/v/clip.MP4?sig=a.png"), "mp4");
        assert_eq!(clip_extension("https://h/v/clip.png"), "bin");
        assert_eq!(clip_extension("https://h/v/clip"), "bin");
        assert_eq!(clip_extension("https://h.mp4/v/"), "bin");
    }

    #[test]
    fn export_names_say_when_they_are_encrypted() {
        let at = time::macros::datetime!(2024-03-09 07:05:01 UTC);
        assert_eq!(
            default_export_name(at, false),
            "cleom-export-20240309-070501.zip"
        );
        assert_eq!(
            default_export_name(at, true),
            "cleom-export-20240309-070501-encrypted.zip"
        );
    }

    #[test]
    fn a_thumbnail_and_a_clip_of_one_extension_get_two_names() {
        let mut names = MediaNames::default();
        assert_eq!(
            names.give("neon rain", "g1", MediaRole::Thumbnail, "gif"),
            "neon-rain-g1-thumbnail.gif"
        );
        assert_eq!(
            names.give("neon rain", "g1", MediaRole::Video, "gif"),
            "neon-rain-g1-video.gif"
        );
        assert_eq!(
            names.give("", "g1", MediaRole::Video, "gif"),
            "g1-video.gif"
        );
    }

    #[test]
    fn a_name_already_given_is_numbered() {
        let mut names = MediaNames::default();
        // Ids that differ only in a dropped character or in case; a prompt that ends like an id.
        assert_eq!(
            names.give("", "g.1", MediaRole::Thumbnail, "png"),
            "g1-thumbnail.png"
        );
        assert_eq!(
            names.give("", "g1", MediaRole::Thumbnail, "png"),
            "g1-thumbnail-2.png"
        );
        assert_eq!(
            names.give("", "G1", MediaRole::Thumbnail, "PNG"),
            "G1-thumbnail-3.png"
        );
        assert_eq!(
            names.give("a b", "c", MediaRole::Video, "mp4"),
            "a-b-c-video.mp4"
        );
        assert_eq!(
            names.give("a", "b-c", MediaRole::Video, "mp4"),
            "a-b-c-video-2.mp4"
        );
    }

    proptest! {
        #[test]
        fn media_names_are_safe_and_never_repeat(
            files in proptest::collection::vec(("\\PC{0,12}", "[a-zA-Z0-9._-]{0,6}", any::<bool>(), "[a-zA-Z]{0,4}"), 1..40)
        ) {
            let mut names = MediaNames::default();
            let mut seen = std::collections::HashSet::new();
            for (prompt, id, video, ext) in &files {
                let role = if *video { MediaRole::Video } else { MediaRole::Thumbnail };
                let name = names.give(prompt, id, role, ext);
                prop_assert!(seen.insert(name.to_lowercase()), "{} given twice", name);
                prop_assert!(!name.contains(['/', '\\']) && !name.contains(".."));
                prop_assert!(!crate::file_name::is_reserved(&name));
                prop_assert_eq!(name.matches('.').count(), 1);
            }
        }

        #[test]
        fn every_name_is_safe(prompt in any::<String>(), id in any::<String>(), ext in any::<String>()) {
            let name = safe_file_name(&prompt, &id, &ext);
            prop_assert!(!name.is_empty());
            prop_assert!(name.len() <= 200, "{} bytes", name.len());
            prop_assert!(!name.contains(['/', '\\', ':', '*', '?', '"', '<', '>', '|']));
            prop_assert!(!name.contains(".."));
            prop_assert!(!name.starts_with('.') && !name.starts_with('-'));
            prop_assert!(!name.ends_with('.') && !name.ends_with(' '));
            prop_assert!(!name.chars().any(|c| c.is_control() || c.is_whitespace()));
            prop_assert!(!crate::file_name::is_reserved(&name));
            prop_assert_eq!(name.matches('.').count(), 1);
        }

        #[test]
        fn letters_and_digits_of_a_short_prompt_survive(words in proptest::collection::vec("[\\p{L}\\p{N}]{1,4}", 1..4)) {
            let prompt = words.join(" ");
            let name = safe_file_name(&prompt, "id", "png");
            prop_assert_eq!(name, format!("{}-id.png", words.join("-")));
        }
    }
}
