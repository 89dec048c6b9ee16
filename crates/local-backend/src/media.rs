//! The placeholder output of a generation: a real PNG poster and a real animated GIF clip,
//! both derived only from the prompt (colours and shapes come from its SHA-256), so the app's
//! media handling — downloads, thumbnails, export — is exercised with genuine files, and the
//! same prompt always gives the same bytes.
//!
//! Files live in `data_dir/media/{token}/`, where the token is an unguessable secret that also
//! serves as the URL's signature.

use std::fs;
use std::io::{self, Write as _};
use std::path::Path;

use cleom_core::remote::firestore::Document;
use sha2::{Digest as _, Sha256};

use crate::documents::text_field;
use crate::ids;

pub(crate) const POSTER_FILE: &str = "poster.png";
pub(crate) const CLIP_FILE: &str = "clip.gif";
const POSTER_SIZE: (u32, u32) = (320, 180);
const CLIP_SIZE: (u16, u16) = (160, 90);
const CLIP_FRAMES: u16 = 10;
/// Per frame, in hundredths of a second.
const CLIP_FRAME_DELAY: u16 = 10;

#[derive(Debug, thiserror::Error)]
pub(crate) enum MediaError {
    #[error("cannot write media: {0}")]
    Io(#[from] io::Error),
    #[error("cannot encode the poster: {0}")]
    Png(#[from] png::EncodingError),
    #[error("cannot encode the clip: {0}")]
    Gif(#[from] gif::EncodingError),
}

/// The content type of a media file name, or `None` for names that are not media.
pub(crate) fn content_type(file: &str) -> Option<&'static str> {
    match file {
        POSTER_FILE => Some("image/png"),
        CLIP_FILE => Some("image/gif"),
        _ => None,
    }
}

type Rgb = [u8; 3];

/// The look of one prompt: two background colours, an accent and shape positions.
struct Look {
    from: Rgb,
    to: Rgb,
    accent: Rgb,
    seed: [u8; 32],
}

impl Look {
    fn of(prompt: &str) -> Look {
        let seed: [u8; 32] = Sha256::digest(prompt.as_bytes()).into();
        let hue = f32::from(u16::from_be_bytes([seed[0], seed[1]])) / 65535.0 * 360.0;
        let spread = 60.0 + f32::from(seed[2]) / 255.0 * 120.0;
        Look {
            from: hsl(hue, 0.55, 0.22),
            to: hsl(hue + spread, 0.65, 0.55),
            accent: hsl(hue + 180.0, 0.85, 0.62),
            seed,
        }
    }

    /// A seed byte as a fraction in 0..1.
    fn fraction(&self, index: usize) -> f32 {
        f32::from(self.seed[index % 32]) / 255.0
    }
}

fn hsl(hue: f32, saturation: f32, lightness: f32) -> Rgb {
    let hue = hue.rem_euclid(360.0) / 60.0;
    let chroma = (1.0 - (2.0 * lightness - 1.0).abs()) * saturation;
    let x = chroma * (1.0 - (hue % 2.0 - 1.0).abs());
    let (r, g, b) = match hue as u32 {
        0 => (chroma, x, 0.0),
        1 => (x, chroma, 0.0),
        2 => (0.0, chroma, x),
        3 => (0.0, x, chroma),
        4 => (x, 0.0, chroma),
        _ => (chroma, 0.0, x),
    };
    let m = lightness - chroma / 2.0;
    let channel = |v: f32| ((v + m).clamp(0.0, 1.0) * 255.0).round() as u8;
    [channel(r), channel(g), channel(b)]
}

fn mix(a: Rgb, b: Rgb, t: f32) -> Rgb {
    let t = t.clamp(0.0, 1.0);
    let channel =
        |i: usize| (f32::from(a[i]) + (f32::from(b[i]) - f32::from(a[i])) * t).round() as u8;
    [channel(0), channel(1), channel(2)]
}

/// The poster: a diagonal gradient with three soft discs.
pub(crate) fn render_poster(prompt: &str) -> Result<Vec<u8>, MediaError> {
    let look = Look::of(prompt);
    let (width, height) = POSTER_SIZE;
    let discs: Vec<(f32, f32, f32, f32)> = (0..3)
        .map(|i| {
            let cx = look.fraction(4 + i * 3) * width as f32;
            let cy = look.fraction(5 + i * 3) * height as f32;
            let radius = 18.0 + look.fraction(6 + i * 3) * 50.0;
            let strength = 0.35 + 0.2 * i as f32;
            (cx, cy, radius, strength)
        })
        .collect();
    let mut pixels = Vec::with_capacity((width * height * 3) as usize);
    for y in 0..height {
        for x in 0..width {
            let t = 0.6 * x as f32 / width as f32 + 0.4 * y as f32 / height as f32;
            let mut colour = mix(look.from, look.to, t);
            for &(cx, cy, radius, strength) in &discs {
                let distance = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
                if distance < radius {
                    let edge = 1.0 - (distance / radius).powi(4);
                    colour = mix(colour, look.accent, strength * edge);
                }
            }
            pixels.extend_from_slice(&colour);
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&pixels)?;
        writer.finish()?;
    }
    Ok(out)
}

/// The clip: the gradient drifting while a disc crosses the frame, looping forever.
pub(crate) fn render_clip(prompt: &str) -> Result<Vec<u8>, MediaError> {
    let look = Look::of(prompt);
    let (width, height) = CLIP_SIZE;
    // Palette: 192 background shades, then 64 accent shades (dark rim to bright centre).
    let mut palette = Vec::with_capacity(256 * 3);
    for i in 0..192 {
        palette.extend_from_slice(&mix(look.from, look.to, i as f32 / 191.0));
    }
    for i in 0..64 {
        palette.extend_from_slice(&mix(
            mix(look.accent, [0, 0, 0], 0.5),
            look.accent,
            i as f32 / 63.0,
        ));
    }
    let mut out = Vec::new();
    {
        let mut encoder = gif::Encoder::new(&mut out, width, height, &palette)?;
        encoder.set_repeat(gif::Repeat::Infinite)?;
        let radius = 10.0 + look.fraction(9) * 14.0;
        let lane = height as f32 * (0.3 + 0.4 * look.fraction(10));
        for frame_index in 0..CLIP_FRAMES {
            let phase = f32::from(frame_index) / f32::from(CLIP_FRAMES);
            let cx = phase * (width as f32 + 2.0 * radius) - radius;
            let cy = lane + (phase * std::f32::consts::TAU).sin() * height as f32 * 0.15;
            let mut indices = Vec::with_capacity(usize::from(width) * usize::from(height));
            for y in 0..height {
                for x in 0..width {
                    let (xf, yf) = (f32::from(x), f32::from(y));
                    let distance = ((xf - cx).powi(2) + (yf - cy).powi(2)).sqrt();
                    let index = if distance < radius {
                        192 + ((1.0 - distance / radius) * 63.0).round() as u8
                    } else {
                        let t = 0.7 * xf / f32::from(width) + 0.3 * yf / f32::from(height);
                        // A triangle wave, so the drift loops without a seam.
                        let shifted = (t + phase).fract();
                        let wave = 1.0 - (2.0 * shifted - 1.0).abs();
                        (wave * 191.0).round() as u8
                    };
                    indices.push(index);
                }
            }
            let mut frame = gif::Frame::from_indexed_pixels(width, height, indices, None);
            frame.delay = CLIP_FRAME_DELAY;
            encoder.write_frame(&frame)?;
        }
        encoder.into_inner()?;
    }
    Ok(out)
}

/// Makes a directory (and its parents) accessible by the owner only.
fn create_private_dir(path: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)?;
    crate::db::restrict_dir(path)
}

fn write_private_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Renders and writes both files for `prompt` under `root/token/`.
pub(crate) fn write(root: &Path, token: &str, prompt: &str) -> Result<(), MediaError> {
    let poster = render_poster(prompt)?;
    let clip = render_clip(prompt)?;
    create_private_dir(root)?;
    let folder = root.join(token);
    create_private_dir(&folder)?;
    let written = write_private_file(&folder.join(POSTER_FILE), &poster)
        .and_then(|()| write_private_file(&folder.join(CLIP_FILE), &clip));
    if let Err(error) = written {
        remove(root, token);
        return Err(error.into());
    }
    Ok(())
}

/// Deletes `root/token/` and its files; answers how many files were removed.
pub(crate) fn remove(root: &Path, token: &str) -> u64 {
    if !ids::is_media_token(token) {
        return 0;
    }
    let folder = root.join(token);
    let mut removed = 0;
    if let Ok(entries) = fs::read_dir(&folder) {
        for entry in entries.flatten() {
            if fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
    }
    let _ = fs::remove_dir(&folder);
    removed
}

/// Deletes media folders; answers how many files were removed.
pub(crate) fn remove_all(root: &Path, tokens: &[String]) -> u64 {
    tokens.iter().map(|token| remove(root, token)).sum()
}

/// The media tokens a generation's URLs name (`…/media/{token}/{file}`).
pub(crate) fn tokens_of(document: &Document) -> Vec<String> {
    let mut tokens: Vec<String> = ["outputUrl", "thumbnailUrl"]
        .iter()
        .filter_map(|key| text_field(document, key))
        .filter_map(|url| token_of(&url).map(str::to_string))
        .collect();
    tokens.dedup();
    tokens
}

fn token_of(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("/media/")?;
    let token = rest.split('/').next()?;
    ids::is_media_token(token).then_some(token)
}

/// The part of a file a `Range` header asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ByteRange {
    /// No (usable) range: the whole file.
    Full,
    /// Bytes `start..=end`.
    Partial { start: u64, end: u64 },
    /// A range entirely past the end (416).
    Unsatisfiable,
}

/// Interprets `bytes=N-`, `bytes=N-M` and `bytes=-N` for a file of `len` bytes. Multiple ranges
/// and malformed headers are ignored (the whole file is served), as RFC 9110 allows.
pub(crate) fn parse_range(header: Option<&str>, len: u64) -> ByteRange {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return ByteRange::Full;
    };
    if spec.contains(',') {
        return ByteRange::Full;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return ByteRange::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        let Ok(suffix) = last.parse::<u64>() else {
            return ByteRange::Full;
        };
        if suffix == 0 || len == 0 {
            return ByteRange::Unsatisfiable;
        }
        return ByteRange::Partial {
            start: len.saturating_sub(suffix),
            end: len - 1,
        };
    }
    let Ok(start) = first.parse::<u64>() else {
        return ByteRange::Full;
    };
    let end = if last.is_empty() {
        len.saturating_sub(1)
    } else {
        match last.parse::<u64>() {
            Ok(end) if end >= start => end.min(len.saturating_sub(1)),
            _ => return ByteRange::Full,
        }
    };
    if start >= len {
        return ByteRange::Unsatisfiable;
    }
    ByteRange::Partial { start, end }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use cleom_core::remote::firestore::Value;

    use super::*;
    use crate::documents::test_generation as generation;

    #[test]
    fn media_tokens_come_from_the_generation_urls_only_when_well_formed() {
        let token = "a".repeat(48);
        let doc = generation(BTreeMap::from([
            (
                "outputUrl".to_string(),
                Value::String(format!("http://127.0.0.1:1/api/v1/media/{token}/clip.gif")),
            ),
            (
                "thumbnailUrl".to_string(),
                Value::String(format!(
                    "http://127.0.0.1:1/api/v1/media/{token}/poster.png"
                )),
            ),
        ]));
        assert_eq!(tokens_of(&doc), vec![token]);
        let odd = generation(BTreeMap::from([
            (
                "outputUrl".to_string(),
                Value::String("http://x/api/v1/media/../../etc/clip.gif".into()),
            ),
            ("thumbnailUrl".to_string(), Value::Null),
        ]));
        assert!(tokens_of(&odd).is_empty());
    }

    #[test]
    fn the_same_prompt_gives_the_same_media_and_another_prompt_other_media() {
        let a = render_poster("a fox at dawn").unwrap();
        assert_eq!(a, render_poster("a fox at dawn").unwrap());
        assert_ne!(a, render_poster("a fox at dusk").unwrap());
        assert_eq!(&a[..8], b"\x89PNG\r\n\x1a\n");
        let clip = render_clip("a fox at dawn").unwrap();
        assert_eq!(&clip[..6], b"GIF89a");
        assert_eq!(clip, render_clip("a fox at dawn").unwrap());
        assert_eq!(clip.last(), Some(&0x3B), "a GIF ends with its trailer");
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(parse_range(None, 100), ByteRange::Full);
        assert_eq!(
            parse_range(Some("bytes=10-"), 100),
            ByteRange::Partial { start: 10, end: 99 }
        );
        assert_eq!(
            parse_range(Some("bytes=10-19"), 100),
            ByteRange::Partial { start: 10, end: 19 }
        );
        assert_eq!(
            parse_range(Some("bytes=90-200"), 100),
            ByteRange::Partial { start: 90, end: 99 }
        );
        assert_eq!(
            parse_range(Some("bytes=-10"), 100),
            ByteRange::Partial { start: 90, end: 99 }
        );
        assert_eq!(
            parse_range(Some("bytes=100-"), 100),
            ByteRange::Unsatisfiable
        );
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), ByteRange::Full);
        assert_eq!(parse_range(Some("items=0-1"), 100), ByteRange::Full);
        assert_eq!(parse_range(Some("bytes=5-2"), 100), ByteRange::Full);
    }
}
