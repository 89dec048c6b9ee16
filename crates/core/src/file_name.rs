//! Names for the files Cleom writes where the user sees them (saved clips, exports, deletion
//! receipts) that Linux, macOS and Windows all accept.
//!
//! A name ext4 takes may be refused or silently changed by Windows, and the user's Downloads
//! folder can be a synced or shared one that another OS reads too. So one set of rules applies
//! on every OS, which also means they are tested here:
//! - Windows' device names `CON`, `PRN`, `AUX`, `NUL`, `COM0`–`COM9`, `LPT0`–`LPT9` (and the
//!   superscript `COM¹²³`/`LPT¹²³`, `CONIN$`, `CONOUT$`) name a device whatever their case and
//!   extension (`con.tar.gz` too): such a name gets a `_` in front.
//! - `< > : " / \ | ? *` and control characters become `_`.
//! - No trailing dot or space: Windows drops them, so `a.` and `a` would be one file.
//! - At most 255 bytes: ext4's and APFS's limit, and never more than NTFS's 255 UTF-16 units.
//!   The stem is cut on a character boundary; the tail (extension, number) is kept whole, so a
//!   numbered name stays distinct.
//! - The whole path: Windows' classic limit is 260 UTF-16 units (`MAX_PATH`, with its NUL).
//!   Rust's standard library writes and reads longer paths itself (it adds the `\\?\` prefix
//!   when a path needs it), but Explorer and many players cannot open such a file. So the stem
//!   is also cut until the path fits in [`MAX_PATH_UNITS`], though never below
//!   [`MIN_STEM_CHARS`] characters: in a folder deeper than that the path stays longer, which
//!   this app still handles, rather than a name that says nothing.

use std::path::{Path, PathBuf};

/// The longest file name, in bytes.
pub const MAX_NAME_BYTES: usize = 255;
/// The longest path that every Windows program can open: `MAX_PATH` less its terminating NUL,
/// in UTF-16 units.
pub const MAX_PATH_UNITS: usize = 259;
/// A stem is not cut below this many characters to fit a path into [`MAX_PATH_UNITS`].
pub const MIN_STEM_CHARS: usize = 16;

/// Windows' reserved device names, compared without regard to ASCII case.
const RESERVED: [&str; 32] = [
    "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "COM0", "COM1", "COM2", "COM3", "COM4",
    "COM5", "COM6", "COM7", "COM8", "COM9", "COM¹", "COM²", "COM³", "LPT0", "LPT1", "LPT2", "LPT3",
    "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "LPT¹", "LPT²", "LPT³",
];

/// Characters Windows forbids in a name (besides control characters).
const FORBIDDEN: [char; 9] = ['<', '>', ':', '"', '/', '\\', '|', '?', '*'];

/// Whether Windows takes `name` for a device: its part before the first dot, trailing spaces
/// ignored, is a reserved name.
pub fn is_reserved(name: &str) -> bool {
    let base = name
        .split('.')
        .next()
        .unwrap_or_default()
        .trim_end_matches(' ');
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(base))
}

/// `stem` then `tail` (`.mp4`, ` (2).mp4`, `-3.zip`...) as a name every OS accepts, at most
/// [`MAX_NAME_BYTES`] long (the stem is cut; the tail is kept).
pub fn portable(stem: &str, tail: &str) -> String {
    build(stem, tail, usize::MAX)
}

/// `folder` joined with [`portable`]`(stem, tail)`, the stem also cut so that the whole path
/// fits in [`MAX_PATH_UNITS`] where that leaves it [`MIN_STEM_CHARS`] characters.
pub fn path_in(folder: &Path, stem: &str, tail: &str) -> PathBuf {
    // Counted on the lossy text: exact for any folder that is valid Unicode.
    let folder_units = folder.to_string_lossy().encode_utf16().count();
    let name_units = MAX_PATH_UNITS.saturating_sub(folder_units + 1);
    folder.join(build(stem, tail, name_units))
}

fn build(stem: &str, tail: &str, name_units: usize) -> String {
    let tail = clean(tail);
    let mut stem = clean(stem);
    if is_reserved(&format!("{stem}{tail}")) {
        stem.insert(0, '_');
    }
    let max_bytes = MAX_NAME_BYTES.saturating_sub(tail.len());
    let max_units = name_units.saturating_sub(tail.encode_utf16().count());
    let (mut bytes, mut units, mut end) = (0, 0, 0);
    for (chars, c) in stem.chars().enumerate() {
        bytes += c.len_utf8();
        units += c.len_utf16();
        if bytes > max_bytes || (units > max_units && chars >= MIN_STEM_CHARS) {
            break;
        }
        end = bytes;
    }
    stem.truncate(end);
    let mut name = stem + &tail;
    while name.ends_with(['.', ' ']) {
        name.pop();
    }
    if name.is_empty() {
        name.push('_');
    }
    name
}

fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || FORBIDDEN.contains(&c) {
                '_'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether Windows would accept `name` as is (the rules of the module docs).
    fn valid_everywhere(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= MAX_NAME_BYTES
            && !is_reserved(name)
            && !name.ends_with(['.', ' '])
            && !name
                .chars()
                .any(|c| c.is_control() || FORBIDDEN.contains(&c))
    }

    #[test]
    fn every_reserved_device_name_gets_a_prefix_whatever_its_case_and_extension() {
        let mut names: Vec<String> = ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
            .map(String::from)
            .to_vec();
        for n in 0..=9 {
            names.push(format!("COM{n}"));
            names.push(format!("LPT{n}"));
        }
        names.extend(["COM¹", "COM²", "COM³", "LPT¹", "LPT²", "LPT³"].map(String::from));
        for name in &names {
            for variant in [name.clone(), name.to_lowercase(), format!("{name} ")] {
                assert!(is_reserved(&variant), "{variant:?}");
                for tail in ["", ".txt", ".tar.gz"] {
                    let made = portable(&variant, tail);
                    assert!(made.starts_with('_'), "{variant:?}{tail} -> {made:?}");
                    assert!(valid_everywhere(&made), "{made:?}");
                }
            }
        }
        assert_eq!(portable("com0", ".mp4"), "_com0.mp4");
        assert_eq!(portable("Lpt0", ""), "_Lpt0");
        // Only the whole part before the first dot counts.
        for fine in ["CONSOLE", "COM10", "LPT", "NULL", "xCON", "COM1x"] {
            assert!(!is_reserved(fine), "{fine}");
            assert_eq!(portable(fine, ".txt"), format!("{fine}.txt"));
        }
    }

    #[test]
    fn forbidden_and_control_characters_become_underscores() {
        assert_eq!(
            portable("a<b>c:d\"e/f\\g|h?i*j", ".txt"),
            "a_b_c_d_e_f_g_h_i_j.txt"
        );
        assert_eq!(
            portable("tab\there\nnul\0del\u{7f}", ".txt"),
            "tab_here_nul_del_.txt"
        );
        assert_eq!(portable("x", ".t?t"), "x.t_t");
    }

    #[test]
    fn no_name_ends_with_a_dot_or_a_space() {
        assert_eq!(portable("notes. . ", ""), "notes");
        assert_eq!(portable("a", ". "), "a");
        assert_eq!(portable("...", ""), "_");
        assert_eq!(portable("", ""), "_");
        assert_eq!(portable("clip ", ".mp4"), "clip .mp4");
    }

    #[test]
    fn a_long_name_is_cut_to_255_bytes_on_a_character_boundary_keeping_its_tail() {
        let name = portable(&"é".repeat(200), " (2).mp4");
        assert!(name.len() <= MAX_NAME_BYTES, "{} bytes", name.len());
        assert!(
            name.len() > MAX_NAME_BYTES - 2,
            "cut no more than a character"
        );
        assert!(name.ends_with("é (2).mp4"), "{name}");
        // A 4-byte character is never split.
        let name = portable(&"🎬".repeat(100), ".zip");
        assert!(name.len() <= MAX_NAME_BYTES);
        assert_eq!(name, format!("{}.zip", "🎬".repeat(62)));
        // Short names are untouched.
        assert_eq!(portable("short", ".txt"), "short.txt");
    }

    #[test]
    fn a_path_is_kept_within_windows_max_path_by_cutting_the_stem() {
        let folder = Path::new("/home/someone/Downloads");
        let path = path_in(folder, &"a".repeat(300), ".mp4");
        let units = path.to_string_lossy().encode_utf16().count();
        assert_eq!(units, MAX_PATH_UNITS, "{}", path.display());
        assert!(path.to_string_lossy().ends_with("aaa.mp4"));
        assert_eq!(path.parent(), Some(folder));
        // A short name in a short folder is the name itself.
        assert_eq!(path_in(folder, "clip", ".mp4"), folder.join("clip.mp4"));
        // A folder too deep for any name: the stem keeps its first characters, the tail whole.
        let deep = PathBuf::from(format!("/{}", "d".repeat(300)));
        let path = path_in(&deep, "a-prompt-made-into-a-name-g1", " (3).mp4");
        assert_eq!(
            path.file_name().unwrap(),
            format!(
                "{} (3).mp4",
                &"a-prompt-made-into-a-name-g1"[..MIN_STEM_CHARS]
            )
            .as_str()
        );
    }

    #[test]
    fn distinct_tails_give_distinct_names_however_long_the_stem() {
        let stem = "x".repeat(1000);
        let one = portable(&stem, ".mp4");
        let two = portable(&stem, " (2).mp4");
        assert_ne!(one, two);
        assert!(valid_everywhere(&one) && valid_everywhere(&two));
    }

    proptest::proptest! {
        #[test]
        fn every_made_name_is_valid_everywhere(stem in proptest::prelude::any::<String>(), tail in "[ -~]{0,12}") {
            let name = portable(&stem, &tail);
            proptest::prop_assert!(valid_everywhere(&name), "{:?}", name);
        }
    }
}
