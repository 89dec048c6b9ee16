//! `index.html`: the export as a page that opens offline in any browser.
//!
//! One self-contained file (the template next to this module): inline style and script, the
//! data as JSON inside `<script type="application/json">`, thumbnails referenced relatively as
//! `media/<name>`. Its Content-Security-Policy allows no network request at all, and prompts are
//! data, never markup: every `<`, `>` and `&` in the JSON is written as a `\u00XX` escape, so a
//! prompt such as `</script><img onerror=...>` cannot close the data block, and the page's
//! script inserts prompts with `textContent` only.

use std::io::{self, Write};

use serde::Serialize;

use crate::model::{Generation, Profile};

const TEMPLATE: &str = include_str!("index.html");
const DATA_SLOT: &str = "{{DATA}}";

/// The template around the data slot.
fn halves() -> (&'static str, &'static str) {
    TEMPLATE
        .split_once(DATA_SLOT)
        .expect("index.html has a data slot")
}

/// Writes the page up to the first generation.
pub(crate) fn write_head(
    w: &mut impl Write,
    profile: Option<&Profile>,
    exported_at: &str,
) -> io::Result<()> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Who<'a> {
        email: &'a str,
        display_name: Option<&'a str>,
    }
    w.write_all(halves().0.as_bytes())?;
    w.write_all(b"{\"exportedAt\":")?;
    write_json(w, &exported_at, &mut Vec::new())?;
    w.write_all(b",\"profile\":")?;
    let who = profile.map(|p| Who {
        email: &p.email,
        display_name: p.display_name.as_deref(),
    });
    write_json(w, &who, &mut Vec::new())?;
    w.write_all(b",\"generations\":[")
}

/// What the page shows of one generation.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Item<'a> {
    id: &'a str,
    prompt: &'a str,
    created_at: &'a str,
    status: &'a str,
    mode: &'a str,
    duration_seconds: u32,
    resolution: &'a str,
    aspect_ratio: &'a str,
    style_preset: Option<&'a str>,
    credits_charged: i64,
    thumbnail: Option<&'a str>,
    video: Option<&'a str>,
}

/// Writes one generation; `first` is whether it is the first. `buffer` is reused between calls.
pub(crate) fn write_item(
    w: &mut impl Write,
    g: &Generation,
    thumbnail: Option<&str>,
    video: Option<&str>,
    first: bool,
    buffer: &mut Vec<u8>,
) -> io::Result<()> {
    if !first {
        w.write_all(b",\n")?;
    }
    let item = Item {
        id: &g.id,
        prompt: &g.prompt,
        created_at: &g.created_at,
        status: g.status.as_str(),
        mode: g.mode.as_str(),
        duration_seconds: g.settings.duration_seconds,
        resolution: g.settings.resolution.as_str(),
        aspect_ratio: g.settings.aspect_ratio.as_str(),
        style_preset: g.settings.style_preset.as_deref(),
        credits_charged: g.credits_charged,
        thumbnail,
        video,
    };
    write_json(w, &item, buffer)
}

/// Writes the rest of the page after the last generation.
pub(crate) fn write_tail(w: &mut impl Write) -> io::Result<()> {
    w.write_all(b"]}")?;
    w.write_all(halves().1.as_bytes())
}

/// Serializes `value` as JSON that is inert inside an HTML `<script>` element.
fn write_json(w: &mut impl Write, value: &impl Serialize, buffer: &mut Vec<u8>) -> io::Result<()> {
    buffer.clear();
    serde_json::to_writer(&mut *buffer, value).map_err(io::Error::from)?;
    write_script_safe(w, buffer)
}

/// Writes JSON text with `<`, `>` and `&` as `\u003c`, `\u003e` and `\u0026`. These bytes can
/// only occur inside JSON strings, where the escapes mean the same characters.
fn write_script_safe(w: &mut impl Write, json: &[u8]) -> io::Result<()> {
    let mut start = 0;
    for (i, &b) in json.iter().enumerate() {
        let escape: &[u8] = match b {
            b'<' => b"\\u003c",
            b'>' => b"\\u003e",
            b'&' => b"\\u0026",
            _ => continue,
        };
        w.write_all(&json[start..i])?;
        w.write_all(escape)?;
        start = i + 1;
    }
    w.write_all(&json[start..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Mode, Settings, Status};

    fn generation(id: &str, prompt: &str) -> Generation {
        Generation {
            id: id.into(),
            prompt: prompt.into(),
            mode: Mode::TextToVideo,
            settings: Settings::default(),
            references: Vec::new(),
            status: Status::Succeeded,
            progress: 1.0,
            credits_charged: 700,
            output_url: Some("https://media.example/clip.mp4".into()),
            thumbnail_url: None,
            error: None,
            created_at: "2024-01-01T00:00:00Z".into(),
            updated_at: "2024-01-01T00:00:00Z".into(),
            deleted: false,
            deleted_at: None,
        }
    }

    fn page(prompts: &[&str]) -> String {
        let mut out = Vec::new();
        let profile = Profile {
            uid: "u".into(),
            email: "</script><script>alert(1)</script>@x.com".into(),
            display_name: Some("<b>me</b>".into()),
            credit_balance: 1,
            analytics_opt_in: false,
            created_at: "2024-01-01T00:00:00Z".into(),
            updated_at: "2024-01-01T00:00:00Z".into(),
        };
        write_head(&mut out, Some(&profile), "2024-01-02T00:00:00Z").unwrap();
        let mut buffer = Vec::new();
        for (i, prompt) in prompts.iter().enumerate() {
            let g = generation(&format!("g{i}"), prompt);
            write_item(&mut out, &g, Some("a-g.png"), None, i == 0, &mut buffer).unwrap();
        }
        write_tail(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Where the JSON between the data element's tags is.
    fn data_range(html: &str) -> std::ops::Range<usize> {
        let open = "<script type=\"application/json\" id=\"cleom-data\">";
        let start = html.find(open).unwrap() + open.len();
        start..start + html[start..].find("</script>").unwrap()
    }

    fn data(html: &str) -> serde_json::Value {
        serde_json::from_str(&html[data_range(html)]).unwrap()
    }

    #[test]
    fn a_hostile_prompt_stays_data() {
        let evil = [
            "</script><img src=x onerror=alert(1)>",
            "<!-- <script>alert(2)</script>",
            "]]> & &amp; \u{2028} \"quoted\" 'single' <style>*{}</style>",
            "https://tracker.example/pixel.gif",
        ];
        let html = page(&evil);
        assert_eq!(
            html.matches("<script").count(),
            2,
            "exactly two script elements"
        );
        assert_eq!(html.matches("</script>").count(), 2);
        assert_eq!(html.matches("<img").count(), 0, "no markup from the data");
        assert_eq!(html.matches("<style").count(), 1);
        assert!(!html.contains("<!--"));
        // No address to fetch anything from, except inside the data, as text.
        let mut outside_data = html.clone();
        outside_data.replace_range(data_range(&html), "");
        assert!(!outside_data.contains("http://") && !outside_data.contains("https://"));
        assert!(html.contains(
            "content=\"default-src 'none'; img-src 'self' file: data:; media-src 'self' file:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\""
        ));
        // The data still says exactly what was typed.
        let data = data(&html);
        let prompts: Vec<&str> = data["generations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["prompt"].as_str().unwrap())
            .collect();
        assert_eq!(prompts, evil);
        assert_eq!(
            data["profile"]["email"],
            "</script><script>alert(1)</script>@x.com"
        );
    }

    #[test]
    fn the_script_renders_text_only() {
        let script = halves().1;
        assert!(!script.contains("innerHTML"));
        assert!(!script.contains("outerHTML"));
        assert!(!script.contains("insertAdjacentHTML"));
        assert!(!script.contains("document.write"));
        assert!(!script.contains("eval("));
        assert!(script.contains("textContent"));
    }

    #[test]
    fn an_empty_history_is_still_a_valid_page() {
        let html = page(&[]);
        assert_eq!(data(&html)["generations"], serde_json::json!([]));
    }
}
