//! Firestore documents ⇄ the domain types of `crate::model`.
//!
//! Sync reads generations, the profile and the credit ledger straight from Firestore, so their
//! document layout (docs/backend.md, "Data model") is decoded here, in one place. Decoding is
//! forgiving about absence and strict about types: a missing optional field takes its default
//! (older documents lack newer fields), but a field of the wrong type or an unknown enum value
//! is a `server.malformed_response` error naming the field, because guessing would store wrong
//! data in the user's history. The reverse direction (`generation_to_fields`) lives here too so
//! the local backend writes exactly the layout the app reads.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::firestore::{Document, Value};
use super::RemoteError;
use crate::model::{
    AspectRatio, Generation, LedgerEntry, Mode, Profile, Purchase, Reference, Resolution, Settings,
    Status, VoiceOver,
};

/// A generation from `users/{uid}/generations/{id}`; the id is the document's.
pub fn generation_from_document(document: &Document) -> Result<Generation, RemoteError> {
    let f = Fields::of(document, "generation");
    let settings = settings_from(&f.map("settings")?)?;
    let references = f
        .array("references")?
        .iter()
        .enumerate()
        .map(|(i, value)| reference_from(&f.item("references", i, value)?))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Generation {
        id: document.id().to_string(),
        prompt: f.string("prompt")?,
        mode: f.parse("mode", Mode::parse)?,
        settings,
        references,
        status: f.parse("status", Status::parse)?,
        progress: f.double_or("progress", 0.0)?,
        credits_charged: f.integer_or("creditsCharged", 0)?,
        output_url: f.opt_string("outputUrl")?,
        thumbnail_url: f.opt_string("thumbnailUrl")?,
        error: f.opt_string("error")?,
        created_at: f.timestamp_or("createdAt", document.create_time.as_deref())?,
        updated_at: f.timestamp_or("updatedAt", document.update_time.as_deref())?,
        deleted: f.bool_or("deleted", false)?,
        deleted_at: f.opt_timestamp("deletedAt")?,
    })
}

/// The profile from `users/{uid}`. A balance not yet granted reads as 0.
pub fn profile_from_document(document: &Document) -> Result<Profile, RemoteError> {
    let f = Fields::of(document, "profile");
    Ok(Profile {
        uid: document.id().to_string(),
        email: f.string("email")?,
        display_name: f.opt_string("displayName")?,
        credit_balance: f.integer_or("creditBalance", 0)?,
        analytics_opt_in: f.bool_or("analyticsOptIn", false)?,
        created_at: f.timestamp_or("createdAt", document.create_time.as_deref())?,
        updated_at: f.timestamp_or("updatedAt", document.update_time.as_deref())?,
    })
}

/// One entry of `users/{uid}/creditLedger/{id}`.
pub fn ledger_entry_from_document(document: &Document) -> Result<LedgerEntry, RemoteError> {
    let f = Fields::of(document, "ledger entry");
    Ok(LedgerEntry {
        id: document.id().to_string(),
        amount: f.integer("amount")?,
        reason: f.string("reason")?,
        generation_id: f.opt_string("generationId")?,
        balance_after: f.integer("balanceAfter")?,
        created_at: f.timestamp_or("createdAt", document.create_time.as_deref())?,
        updated_at: f.timestamp_or("updatedAt", document.update_time.as_deref())?,
    })
}

/// One purchase of `users/{uid}/purchases/{id}`.
pub fn purchase_from_document(document: &Document) -> Result<Purchase, RemoteError> {
    let f = Fields::of(document, "purchase");
    Ok(Purchase {
        id: document.id().to_string(),
        credits: f.integer("credits")?,
        amount_cents: f.integer("amountCents")?,
        currency: f.string("currency")?,
        created_at: f.timestamp_or("createdAt", document.create_time.as_deref())?,
        updated_at: f.timestamp_or("updatedAt", document.update_time.as_deref())?,
    })
}

/// A generation's document fields (everything but the id, which is the document's name).
/// Absent optional values are written as explicit nulls, as the data model lists them.
pub fn generation_to_fields(generation: &Generation) -> BTreeMap<String, Value> {
    let g = generation;
    let references = g
        .references
        .iter()
        .map(|r| {
            Value::Map(BTreeMap::from([
                ("name".to_string(), Value::String(r.name.clone())),
                ("kind".to_string(), Value::String(wire_name(&r.kind))),
                (
                    "sizeBytes".to_string(),
                    Value::Integer(i64::try_from(r.size_bytes).unwrap_or(i64::MAX)),
                ),
            ]))
        })
        .collect();
    BTreeMap::from([
        ("prompt".to_string(), Value::String(g.prompt.clone())),
        (
            "mode".to_string(),
            Value::String(g.mode.as_str().to_string()),
        ),
        ("settings".to_string(), settings_to_value(&g.settings)),
        ("references".to_string(), Value::Array(references)),
        (
            "status".to_string(),
            Value::String(g.status.as_str().to_string()),
        ),
        ("progress".to_string(), Value::Double(g.progress)),
        (
            "creditsCharged".to_string(),
            Value::Integer(g.credits_charged),
        ),
        (
            "outputUrl".to_string(),
            nullable(g.output_url.clone(), Value::String),
        ),
        (
            "thumbnailUrl".to_string(),
            nullable(g.thumbnail_url.clone(), Value::String),
        ),
        (
            "error".to_string(),
            nullable(g.error.clone(), Value::String),
        ),
        (
            "createdAt".to_string(),
            Value::Timestamp(g.created_at.clone()),
        ),
        (
            "updatedAt".to_string(),
            Value::Timestamp(g.updated_at.clone()),
        ),
        ("deleted".to_string(), Value::Boolean(g.deleted)),
        (
            "deletedAt".to_string(),
            nullable(g.deleted_at.clone(), Value::Timestamp),
        ),
    ])
}

fn settings_to_value(s: &Settings) -> Value {
    let voice_over = s.voice_over.as_ref().map(|v| {
        Value::Map(BTreeMap::from([
            ("language".to_string(), Value::String(v.language.clone())),
            ("voice".to_string(), Value::String(v.voice.clone())),
            (
                "script".to_string(),
                nullable(v.script.clone(), Value::String),
            ),
        ]))
    });
    Value::Map(BTreeMap::from([
        (
            "durationSeconds".to_string(),
            Value::Integer(s.duration_seconds.into()),
        ),
        (
            "resolution".to_string(),
            Value::String(s.resolution.as_str().to_string()),
        ),
        (
            "aspectRatio".to_string(),
            Value::String(s.aspect_ratio.as_str().to_string()),
        ),
        (
            "stylePreset".to_string(),
            nullable(s.style_preset.clone(), Value::String),
        ),
        (
            "subject".to_string(),
            nullable(s.subject.as_ref().map(wire_name), Value::String),
        ),
        (
            "pacing".to_string(),
            nullable(s.pacing.as_ref().map(wire_name), Value::String),
        ),
        ("voiceOver".to_string(), voice_over.unwrap_or(Value::Null)),
        ("music".to_string(), Value::Boolean(s.music)),
        ("subtitles".to_string(), Value::Boolean(s.subtitles)),
    ]))
}

fn settings_from(f: &Fields<'_>) -> Result<Settings, RemoteError> {
    let duration = f.integer("durationSeconds")?;
    let voice_over = match f.opt_map("voiceOver")? {
        None => None,
        Some(v) => Some(VoiceOver {
            language: v.string("language")?,
            voice: v.string("voice")?,
            script: v.opt_string("script")?,
        }),
    };
    Ok(Settings {
        duration_seconds: u32::try_from(duration)
            .map_err(|_| f.error("durationSeconds", "is out of range"))?,
        resolution: f.parse("resolution", Resolution::parse)?,
        aspect_ratio: f
            .opt_parse("aspectRatio", from_wire::<AspectRatio>)?
            .unwrap_or(AspectRatio::Wide),
        style_preset: f.opt_string("stylePreset")?,
        subject: f.opt_parse("subject", from_wire)?,
        pacing: f.opt_parse("pacing", from_wire)?,
        voice_over,
        music: f.bool_or("music", false)?,
        subtitles: f.bool_or("subtitles", false)?,
    })
}

fn reference_from(f: &Fields<'_>) -> Result<Reference, RemoteError> {
    let size = f.integer("sizeBytes")?;
    Ok(Reference {
        name: f.string("name")?,
        kind: f.parse("kind", from_wire)?,
        size_bytes: u64::try_from(size).map_err(|_| f.error("sizeBytes", "is negative"))?,
    })
}

fn nullable<T>(value: Option<T>, wrap: fn(T) -> Value) -> Value {
    value.map(wrap).unwrap_or(Value::Null)
}

/// The serde (wire) name of a unit enum variant, e.g. `Subject::Person` → `"Person"`.
fn wire_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn from_wire<T: DeserializeOwned>(name: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
}

/// Typed access to a document's fields (or a nested map's), with errors that name the field.
struct Fields<'a> {
    what: &'static str,
    id: &'a str,
    /// Dotted path of the enclosing map, with a trailing dot (empty at the top level).
    prefix: String,
    fields: &'a BTreeMap<String, Value>,
}

impl<'a> Fields<'a> {
    fn of(document: &'a Document, what: &'static str) -> Fields<'a> {
        Fields {
            what,
            id: document.id(),
            prefix: String::new(),
            fields: &document.fields,
        }
    }

    fn error(&self, key: &str, problem: &str) -> RemoteError {
        RemoteError::MalformedResponse(format!(
            "{} {}: field `{}{key}` {problem}",
            self.what, self.id, self.prefix
        ))
    }

    /// The value, or `None` when absent or null.
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.fields.get(key).filter(|v| **v != Value::Null)
    }

    fn required(&self, key: &str) -> Result<&'a Value, RemoteError> {
        self.get(key).ok_or_else(|| self.error(key, "is missing"))
    }

    fn string(&self, key: &str) -> Result<String, RemoteError> {
        self.opt_string(key)?
            .ok_or_else(|| self.error(key, "is missing"))
    }

    fn opt_string(&self, key: &str) -> Result<Option<String>, RemoteError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.error(key, "is not a string")),
        }
    }

    fn integer(&self, key: &str) -> Result<i64, RemoteError> {
        match self.required(key)? {
            Value::Integer(i) => Ok(*i),
            _ => Err(self.error(key, "is not an integer")),
        }
    }

    fn integer_or(&self, key: &str, default: i64) -> Result<i64, RemoteError> {
        if self.get(key).is_none() {
            return Ok(default);
        }
        self.integer(key)
    }

    /// A double; an integer is accepted too (`0` and `1` are often written as integers).
    fn double_or(&self, key: &str, default: f64) -> Result<f64, RemoteError> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Double(d)) if d.is_finite() => Ok(*d),
            Some(Value::Double(_)) => Err(self.error(key, "is not a finite number")),
            Some(Value::Integer(i)) => Ok(*i as f64),
            Some(_) => Err(self.error(key, "is not a number")),
        }
    }

    fn bool_or(&self, key: &str, default: bool) -> Result<bool, RemoteError> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Boolean(b)) => Ok(*b),
            Some(_) => Err(self.error(key, "is not a boolean")),
        }
    }

    fn opt_timestamp(&self, key: &str) -> Result<Option<String>, RemoteError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Timestamp(t)) => Ok(Some(t.clone())),
            Some(_) => Err(self.error(key, "is not a timestamp")),
        }
    }

    /// A timestamp, falling back on the document's own create/update time.
    fn timestamp_or(&self, key: &str, fallback: Option<&str>) -> Result<String, RemoteError> {
        match (self.opt_timestamp(key)?, fallback) {
            (Some(t), _) => Ok(t),
            (None, Some(t)) => Ok(t.to_string()),
            (None, None) => Err(self.error(key, "is missing")),
        }
    }

    fn parse<T>(&self, key: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T, RemoteError> {
        self.opt_parse(key, parse)?
            .ok_or_else(|| self.error(key, "is missing"))
    }

    fn opt_parse<T>(
        &self,
        key: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, RemoteError> {
        match self.opt_string(key)? {
            None => Ok(None),
            Some(s) => parse(&s)
                .map(Some)
                .ok_or_else(|| self.error(key, "has an unknown value")),
        }
    }

    fn map(&self, key: &str) -> Result<Fields<'a>, RemoteError> {
        self.opt_map(key)?
            .ok_or_else(|| self.error(key, "is missing"))
    }

    fn opt_map(&self, key: &str) -> Result<Option<Fields<'a>>, RemoteError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Map(fields)) => Ok(Some(self.nested(key.to_string(), fields))),
            Some(_) => Err(self.error(key, "is not a map")),
        }
    }

    /// An array; absent reads as empty.
    fn array(&self, key: &str) -> Result<&'a [Value], RemoteError> {
        match self.get(key) {
            None => Ok(&[]),
            Some(Value::Array(values)) => Ok(values),
            Some(_) => Err(self.error(key, "is not an array")),
        }
    }

    /// Element `index` of the array at `key`, which must be a map.
    fn item(&self, key: &str, index: usize, value: &'a Value) -> Result<Fields<'a>, RemoteError> {
        match value {
            Value::Map(fields) => Ok(self.nested(format!("{key}.{index}"), fields)),
            _ => Err(self.error(&format!("{key}.{index}"), "is not a map")),
        }
    }

    fn nested(&self, path: String, fields: &'a BTreeMap<String, Value>) -> Fields<'a> {
        Fields {
            what: self.what,
            id: self.id,
            prefix: format!("{}{path}.", self.prefix),
            fields,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Pacing, ReferenceKind, Subject};
    use serde_json::json;

    const NAME: &str = "projects/demo-cleom/databases/(default)/documents/users/u1";

    fn document(json: serde_json::Value) -> Document {
        Document::from_json(&json).unwrap()
    }

    /// A generation as the Firestore emulator returns it.
    fn generation_json() -> serde_json::Value {
        json!({
            "name": format!("{NAME}/generations/gen42"),
            "fields": {
                "prompt": {"stringValue": "a red fox running through snow at dawn"},
                "mode": {"stringValue": "image_to_video"},
                "settings": {"mapValue": {"fields": {
                    "durationSeconds": {"integerValue": "12"},
                    "resolution": {"stringValue": "4k"},
                    "aspectRatio": {"stringValue": "9:16"},
                    "stylePreset": {"stringValue": "Cinematic"},
                    "subject": {"stringValue": "Landscape"},
                    "pacing": {"stringValue": "Slow"},
                    "voiceOver": {"mapValue": {"fields": {
                        "language": {"stringValue": "en"},
                        "voice": {"stringValue": "warm"},
                        "script": {"nullValue": null}
                    }}},
                    "music": {"booleanValue": true},
                    "subtitles": {"booleanValue": false}
                }}},
                "references": {"arrayValue": {"values": [
                    {"mapValue": {"fields": {
                        "name": {"stringValue": "fox.png"},
                        "kind": {"stringValue": "image"},
                        "sizeBytes": {"integerValue": "204800"}
                    }}}
                ]}},
                "status": {"stringValue": "running"},
                "progress": {"doubleValue": 0.4},
                "creditsCharged": {"integerValue": "1560"},
                "outputUrl": {"nullValue": null},
                "thumbnailUrl": {"nullValue": null},
                "error": {"nullValue": null},
                "createdAt": {"timestampValue": "2024-05-01T10:00:00.123456Z"},
                "updatedAt": {"timestampValue": "2024-05-01T10:00:05Z"},
                "deleted": {"booleanValue": false},
                "deletedAt": {"nullValue": null}
            },
            "createTime": "2024-05-01T10:00:00.123456Z",
            "updateTime": "2024-05-01T10:00:05Z"
        })
    }

    #[test]
    fn a_full_generation_document_converts() {
        let g = generation_from_document(&document(generation_json())).unwrap();
        assert_eq!(g.id, "gen42");
        assert_eq!(g.prompt, "a red fox running through snow at dawn");
        assert_eq!(g.mode, Mode::ImageToVideo);
        assert_eq!(g.settings.duration_seconds, 12);
        assert_eq!(g.settings.resolution, Resolution::K4);
        assert_eq!(g.settings.aspect_ratio, AspectRatio::Tall);
        assert_eq!(g.settings.style_preset.as_deref(), Some("Cinematic"));
        assert_eq!(g.settings.subject, Some(Subject::Landscape));
        assert_eq!(g.settings.pacing, Some(Pacing::Slow));
        assert_eq!(
            g.settings.voice_over,
            Some(VoiceOver {
                language: "en".into(),
                voice: "warm".into(),
                script: None
            })
        );
        assert!(g.settings.music && !g.settings.subtitles);
        assert_eq!(
            g.references,
            vec![Reference {
                name: "fox.png".into(),
                kind: ReferenceKind::Image,
                size_bytes: 204800
            }]
        );
        assert_eq!(g.status, Status::Running);
        assert_eq!(g.progress, 0.4);
        assert_eq!(g.credits_charged, 1560);
        assert_eq!(g.output_url, None);
        assert_eq!(g.created_at, "2024-05-01T10:00:00.123456Z");
        assert_eq!(g.updated_at, "2024-05-01T10:00:05Z");
        assert!(!g.deleted);
        assert_eq!(g.deleted_at, None);
    }

    #[test]
    fn a_generation_round_trips_through_its_fields() {
        let mut g = generation_from_document(&document(generation_json())).unwrap();
        g.status = Status::Succeeded;
        g.progress = 1.0;
        g.output_url = Some("http://127.0.0.1:4000/api/v1/media/tok/clip.gif".into());
        g.settings.voice_over = Some(VoiceOver {
            language: "fr".into(),
            voice: "calm".into(),
            script: Some("Bonjour".into()),
        });
        g.deleted = true;
        g.deleted_at = Some("2024-05-02T00:00:00Z".into());
        let doc = Document {
            name: format!("{NAME}/generations/{}", g.id),
            fields: generation_to_fields(&g),
            create_time: None,
            update_time: None,
        };
        // Through JSON too, as it would travel.
        let doc = document(doc.to_json());
        assert_eq!(generation_from_document(&doc).unwrap(), g);
        assert_eq!(
            doc.fields["settings"].to_json()["mapValue"]["fields"]["subject"],
            json!({"stringValue": "Landscape"})
        );
        assert_eq!(
            doc.fields["references"].to_json()["arrayValue"]["values"][0]["mapValue"]["fields"]
                ["kind"],
            json!({"stringValue": "image"})
        );
    }

    #[test]
    fn missing_optional_fields_take_their_defaults() {
        let doc = document(json!({
            "name": format!("{NAME}/generations/g1"),
            "fields": {
                "prompt": {"stringValue": "waves"},
                "mode": {"stringValue": "text_to_video"},
                "settings": {"mapValue": {"fields": {
                    "durationSeconds": {"integerValue": "5"},
                    "resolution": {"stringValue": "1080p"}
                }}},
                "status": {"stringValue": "queued"},
                "progress": {"integerValue": "0"}
            },
            "createTime": "2024-05-01T10:00:00Z",
            "updateTime": "2024-05-01T10:00:01Z"
        }));
        let g = generation_from_document(&doc).unwrap();
        assert_eq!(
            g.settings,
            Settings {
                duration_seconds: 5,
                ..Settings::default()
            }
        );
        assert!(g.references.is_empty());
        assert_eq!((g.progress, g.credits_charged, g.deleted), (0.0, 0, false));
        // Without createdAt/updatedAt fields, the document's own times are used.
        assert_eq!(g.created_at, "2024-05-01T10:00:00Z");
        assert_eq!(g.updated_at, "2024-05-01T10:00:01Z");
    }

    #[test]
    fn wrong_types_and_unknown_values_are_malformed_and_name_the_field() {
        let cases = [
            (
                "/fields/prompt",
                json!({"integerValue": "5"}),
                "`prompt` is not a string",
            ),
            (
                "/fields/mode",
                json!({"stringValue": "audio_to_video"}),
                "`mode` has an unknown value",
            ),
            (
                "/fields/status",
                json!({"nullValue": null}),
                "`status` is missing",
            ),
            (
                "/fields/progress",
                json!({"stringValue": "half"}),
                "`progress` is not a number",
            ),
            (
                "/fields/creditsCharged",
                json!({"doubleValue": 1.5}),
                "`creditsCharged` is not an integer",
            ),
            (
                "/fields/deleted",
                json!({"stringValue": "no"}),
                "`deleted` is not a boolean",
            ),
            (
                "/fields/deletedAt",
                json!({"stringValue": "2024-05-01T10:00:00Z"}),
                "`deletedAt` is not a timestamp",
            ),
            (
                "/fields/settings",
                json!({"arrayValue": {}}),
                "`settings` is not a map",
            ),
            (
                "/fields/references",
                json!({"mapValue": {}}),
                "`references` is not an array",
            ),
            (
                "/fields/settings/mapValue/fields/resolution",
                json!({"stringValue": "8k"}),
                "`settings.resolution` has an unknown value",
            ),
            (
                "/fields/settings/mapValue/fields/durationSeconds",
                json!({"integerValue": "-3"}),
                "`settings.durationSeconds` is out of range",
            ),
            (
                "/fields/settings/mapValue/fields/subject",
                json!({"stringValue": "Robot"}),
                "`settings.subject` has an unknown value",
            ),
            (
                "/fields/settings/mapValue/fields/voiceOver",
                json!({"mapValue": {}}),
                "`settings.voiceOver.language` is missing",
            ),
            (
                "/fields/references/arrayValue/values/0",
                json!({"stringValue": "fox.png"}),
                "`references.0` is not a map",
            ),
            (
                "/fields/references/arrayValue/values/0/mapValue/fields/sizeBytes",
                json!({"integerValue": "-1"}),
                "`references.0.sizeBytes` is negative",
            ),
            (
                "/fields/references/arrayValue/values/0/mapValue/fields/kind",
                json!({"stringValue": "audio"}),
                "`references.0.kind` has an unknown value",
            ),
        ];
        for (pointer, replacement, expected) in cases {
            let mut json = generation_json();
            *json.pointer_mut(pointer).unwrap() = replacement;
            let e = generation_from_document(&document(json)).unwrap_err();
            assert_eq!(e.code(), "server.malformed_response");
            assert!(e.to_string().contains(expected), "{pointer}: {e}");
            assert!(e.to_string().contains("generation gen42"), "{e}");
        }
        let mut json = generation_json();
        json.as_object_mut().unwrap().remove("createTime");
        json["fields"].as_object_mut().unwrap().remove("createdAt");
        assert!(generation_from_document(&document(json))
            .unwrap_err()
            .to_string()
            .contains("`createdAt` is missing"));
    }

    #[test]
    fn a_profile_converts_with_a_zero_balance_until_granted() {
        let doc = document(json!({
            "name": NAME,
            "fields": {
                "email": {"stringValue": "ada@example.com"},
                "displayName": {"stringValue": "Ada"},
                "creditBalance": {"integerValue": "2000"},
                "analyticsOptIn": {"booleanValue": true},
                "createdAt": {"timestampValue": "2024-05-01T10:00:00Z"},
                "updatedAt": {"timestampValue": "2024-05-01T11:00:00Z"}
            }
        }));
        let p = profile_from_document(&doc).unwrap();
        assert_eq!(
            p,
            Profile {
                uid: "u1".into(),
                email: "ada@example.com".into(),
                display_name: Some("Ada".into()),
                credit_balance: 2000,
                analytics_opt_in: true,
                created_at: "2024-05-01T10:00:00Z".into(),
                updated_at: "2024-05-01T11:00:00Z".into(),
            }
        );
        let fresh = document(json!({
            "name": NAME,
            "fields": {"email": {"stringValue": "ada@example.com"}, "displayName": {"nullValue": null}},
            "createTime": "2024-05-01T10:00:00Z", "updateTime": "2024-05-01T10:00:00Z"
        }));
        let p = profile_from_document(&fresh).unwrap();
        assert_eq!(
            (p.credit_balance, p.display_name, p.analytics_opt_in),
            (0, None, false)
        );
        let nameless = document(
            json!({"name": NAME, "fields": {}, "createTime": "2024-05-01T10:00:00Z", "updateTime": "2024-05-01T10:00:00Z"}),
        );
        assert!(profile_from_document(&nameless)
            .unwrap_err()
            .to_string()
            .contains("`email` is missing"));
    }

    #[test]
    fn a_ledger_entry_converts() {
        let doc = document(json!({
            "name": format!("{NAME}/creditLedger/l7"),
            "fields": {
                "amount": {"integerValue": "-700"},
                "reason": {"stringValue": "generation"},
                "generationId": {"stringValue": "gen42"},
                "balanceAfter": {"integerValue": "1300"},
                "createdAt": {"timestampValue": "2024-05-01T10:00:00Z"},
                "updatedAt": {"timestampValue": "2024-05-01T10:00:00Z"}
            }
        }));
        let e = ledger_entry_from_document(&doc).unwrap();
        assert_eq!(e.id, "l7");
        assert_eq!((e.amount, e.balance_after), (-700, 1300));
        assert_eq!(e.reason, "generation");
        assert_eq!(e.generation_id.as_deref(), Some("gen42"));
        let mut bad = doc.clone();
        bad.fields
            .insert("amount".into(), Value::String("-700".into()));
        assert_eq!(
            ledger_entry_from_document(&bad).unwrap_err().code(),
            "server.malformed_response"
        );
        bad.fields.remove("amount");
        assert!(ledger_entry_from_document(&bad)
            .unwrap_err()
            .to_string()
            .contains("`amount` is missing"));
    }
}
