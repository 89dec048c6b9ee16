//! The `clip:` scheme: a generation's clip for the detail view's player, at
//! `clip://localhost/<generation id>` on Linux and macOS and at `http://clip.localhost/<id>` on
//! Windows, where WebView2 loads no custom scheme and Tauri answers that origin with this same
//! handler. The UI builds both in one place (`clipOrigin` in ui/src/lib/detail.ts), and
//! ui/src/lib/csp.test.ts checks that the CSP in tauri.conf.json allows exactly those.
//!
//! The window may not load anything from the network (the CSP allows images and media from
//! `'self'`, `data:` and this scheme only), so the clip comes from this device: the copy the
//! user saved, or one downloaded once into the account's private folder (see
//! `cleom_core::clips`). Only clips of the signed-in account's own generations, by id; anything
//! else is a 404 and the player shows the poster instead — as it does offline before a clip was
//! ever fetched.
//!
//! The id is the path's one segment, percent-decoded exactly once; anything else (more segments,
//! `.` or `..`, a slash or a control character once decoded) is a 404 before the account is
//! asked. Every answer says `X-Content-Type-Options: nosniff` and carries a sandboxing CSP, so a
//! clip is only ever played as the media type it is served as, never run as a page.
//!
//! Byte ranges are served (`Range: bytes=…` → 206), as a video player asks for them to start
//! playing at once and to seek; an answer holds at most [`MAX_CHUNK`] bytes, so a long 4K clip
//! is never read into memory whole.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use tauri::http::{header, Request, Response, StatusCode};
use tauri::{AppHandle, Manager, UriSchemeContext, UriSchemeResponder, Wry};

use crate::state::AppState;

/// The scheme's name, as the CSP in tauri.conf.json names it (`clip:`, and `http://clip.localhost`
/// for Windows).
pub const SCHEME: &str = "clip";

/// The content type of a clip file, by the extension `cleom_core::export::clip_extension` gave.
pub fn content_type(path: &std::path::Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
    {
        "gif" => "image/gif",
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        "mkv" => "video/x-matroska",
        _ => "application/octet-stream",
    }
}

/// Headers on every answer of the scheme, the 404s included.
const HARDENING: [(&str, &str); 2] = [
    ("x-content-type-options", "nosniff"),
    ("content-security-policy", "default-src 'none'; sandbox"),
];

/// The generation id a `clip:` path names, or `None`: the path's one segment (after its leading
/// `/`), percent-decoded exactly once, never empty, `.`, `..`, or holding a slash, a backslash
/// or a control character.
pub fn clip_id(path: &str) -> Option<String> {
    let segment = path.strip_prefix('/').unwrap_or(path);
    if segment.contains('/') {
        return None;
    }
    let id = percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .ok()?
        .into_owned();
    let refused = id.is_empty()
        || id == "."
        || id == ".."
        || id.chars().any(|c| c == '/' || c == '\\' || c.is_control());
    (!refused).then_some(id)
}

/// A response builder with the [`HARDENING`] headers.
fn hardened() -> tauri::http::response::Builder {
    HARDENING
        .iter()
        .fold(Response::builder(), |builder, (name, value)| {
            builder.header(*name, *value)
        })
}

/// The most one answer holds; a player asks for the rest with further ranges.
pub const MAX_CHUNK: u64 = 4 * 1024 * 1024;

/// The bytes `start..=end` of a file of `len` bytes that a `Range` header asks for, `Ok(None)`
/// for the whole file (no header, or one this does not understand, which HTTP says to ignore),
/// or `Err(())` when the range lies outside the file (416). One range only, capped at
/// [`MAX_CHUNK`] bytes.
pub fn byte_range(header: Option<&str>, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (first, last) = (first.trim(), last.trim());
    let (start, end) = match (first.parse::<u64>(), last.parse::<u64>()) {
        (Ok(start), Ok(end)) if start <= end => (start, end.min(len.saturating_sub(1))),
        (Ok(start), Err(_)) if last.is_empty() => (start, len.saturating_sub(1)),
        (Err(_), Ok(suffix)) if first.is_empty() && suffix > 0 => {
            (len.saturating_sub(suffix), len.saturating_sub(1))
        }
        _ => return Ok(None),
    };
    if start >= len {
        return Err(());
    }
    Ok(Some((start, end.min(start + MAX_CHUNK - 1))))
}

/// The answer for `path`: the whole file (200) or the asked range (206), or 416. A file over
/// [`MAX_CHUNK`] asked for whole is answered with its first chunk (206).
pub fn answer(path: &Path, range: Option<&str>) -> std::io::Result<Response<Vec<u8>>> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let response = hardened()
        .header(header::CONTENT_TYPE, content_type(path))
        .header(header::ACCEPT_RANGES, "bytes");
    let part = match byte_range(range, len) {
        Err(()) => {
            return response
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{len}"))
                .body(Vec::new())
                .map_err(std::io::Error::other)
        }
        Ok(None) if len <= MAX_CHUNK => None,
        Ok(None) => Some((0, MAX_CHUNK - 1)),
        Ok(part) => part,
    };
    let (start, end) = part.unwrap_or((0, len.saturating_sub(1)));
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.take(end + 1 - start).read_to_end(&mut bytes)?;
    let response = match part {
        None => response.status(StatusCode::OK),
        Some(_) => response
            .status(StatusCode::PARTIAL_CONTENT)
            .header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}")),
    };
    response.body(bytes).map_err(std::io::Error::other)
}

pub fn handle(
    ctx: UriSchemeContext<'_, Wry>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    let app = ctx.app_handle().clone();
    let id = clip_id(request.uri().path());
    let range = request
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    tauri::async_runtime::spawn(async move {
        let found = match id {
            Some(id) => clip(&app, &id).await,
            None => Err(cleom_core::Error::InvalidInput("not a clip id".into())),
        };
        let response = match found {
            Ok(path) => {
                match tauri::async_runtime::spawn_blocking(move || answer(&path, range.as_deref()))
                    .await
                {
                    Ok(Ok(response)) => Ok(response),
                    Ok(Err(error)) => {
                        tracing::debug!(%error, "the clip could not be read");
                        not_found()
                    }
                    Err(error) => {
                        tracing::warn!(%error, "the clip reader stopped");
                        not_found()
                    }
                }
            }
            Err(error) => {
                tracing::debug!(code = error.code(), "no clip to play");
                not_found()
            }
        };
        match response {
            Ok(response) => responder.respond(response),
            Err(error) => tracing::warn!(%error, "the clip answer could not be built"),
        }
    });
}

fn not_found() -> Result<Response<Vec<u8>>, tauri::http::Error> {
    hardened()
        .status(StatusCode::NOT_FOUND)
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Vec::new())
}

async fn clip(app: &AppHandle, id: &str) -> Result<std::path::PathBuf, cleom_core::Error> {
    let account = app
        .state::<AppState>()
        .account
        .read()
        .await
        .clone()
        .ok_or(cleom_core::Error::NotSignedIn)?;
    account.clip_to_open(id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_http_says() {
        assert_eq!(byte_range(None, 100), Ok(None));
        assert_eq!(byte_range(Some("bytes=0-9"), 100), Ok(Some((0, 9))));
        assert_eq!(byte_range(Some("bytes=90-"), 100), Ok(Some((90, 99))));
        assert_eq!(byte_range(Some("bytes=-10"), 100), Ok(Some((90, 99))));
        assert_eq!(byte_range(Some("bytes=50-500"), 100), Ok(Some((50, 99))));
        assert_eq!(byte_range(Some("bytes=100-"), 100), Err(()));
        // Not understood: the whole file, as HTTP says.
        assert_eq!(byte_range(Some("bytes=0-1,5-6"), 100), Ok(None));
        assert_eq!(byte_range(Some("lines=1-2"), 100), Ok(None));
        assert_eq!(byte_range(Some("bytes=9-2"), 100), Ok(None));
        // One answer never holds more than a chunk.
        let big = 10 * MAX_CHUNK;
        assert_eq!(
            byte_range(Some("bytes=0-"), big),
            Ok(Some((0, MAX_CHUNK - 1)))
        );
    }

    #[test]
    fn a_range_answer_holds_just_those_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clip.mp4");
        let bytes: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        std::fs::write(&path, &bytes).unwrap();

        let whole = answer(&path, None).unwrap();
        assert_eq!(whole.status(), StatusCode::OK);
        assert_eq!(whole.body(), &bytes);
        assert_eq!(whole.headers()[header::CONTENT_TYPE], "video/mp4");
        assert_eq!(whole.headers()[header::ACCEPT_RANGES], "bytes");

        let part = answer(&path, Some("bytes=10-19")).unwrap();
        assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(part.body(), &bytes[10..20]);
        assert_eq!(part.headers()[header::CONTENT_RANGE], "bytes 10-19/1000");

        let outside = answer(&path, Some("bytes=1000-")).unwrap();
        assert_eq!(outside.status(), StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(outside.headers()[header::CONTENT_RANGE], "bytes */1000");
    }

    #[test]
    fn an_id_is_one_segment_decoded_exactly_once() {
        assert_eq!(clip_id("/g1").as_deref(), Some("g1"));
        assert_eq!(clip_id("/a%20fox").as_deref(), Some("a fox"));
        // Once: an encoded percent stays a percent sign, never decoded a second time.
        assert_eq!(clip_id("/g%2541").as_deref(), Some("g%41"));
        for refused in [
            "/", "", "/.", "/..", "/%2e%2e", "/%2E", "/a/b", "/a%2fb", "/a%5cb", "/%00", "/g%0a",
            "/%ff",
        ] {
            assert_eq!(clip_id(refused), None, "{refused}");
        }
    }

    #[test]
    fn every_answer_forbids_sniffing_and_sandboxes_the_clip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clip.mp4");
        std::fs::write(&path, b"not really a clip").unwrap();
        let answers = [
            answer(&path, None).unwrap(),
            answer(&path, Some("bytes=2-5")).unwrap(),
            answer(&path, Some("bytes=900-")).unwrap(),
            not_found().unwrap(),
        ];
        for answer in &answers {
            assert_eq!(answer.headers()["x-content-type-options"], "nosniff");
            let csp = answer.headers()["content-security-policy"]
                .to_str()
                .unwrap();
            assert!(
                csp.contains("sandbox") && csp.contains("default-src 'none'"),
                "{csp}"
            );
        }
    }
}
