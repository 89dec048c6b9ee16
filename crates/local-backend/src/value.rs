//! Firestore's typed values, as its REST API spells them in JSON (`{"stringValue": "…"}`,
//! `{"integerValue": "42"}`, …), and the total order Firestore sorts them in.
//!
//! Documents are stored as this same JSON, so what a client wrote is what it reads back, and the
//! query engine compares parsed [`Value`]s. Timestamps are kept as integer microseconds (the
//! precision Firestore stores) so that cursors compare instants, never strings.
//!
//! A module of its own, below `db`: the database stores documents as these values and the Auth
//! and Firestore surfaces both build them, so the imports run one way, `firestore` → `auth` →
//! `db` → `value`.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{json, Value as Json};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The fields of a document or of a map value, by name.
pub(crate) type Fields = BTreeMap<String, Value>;

/// An instant, in microseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Timestamp(i64);

/// Firestore accepts timestamps from year 1 to year 9999.
const MIN_TIMESTAMP_MICROS: i64 = -62_135_596_800_000_000;
const MAX_TIMESTAMP_MICROS: i64 = 253_402_300_799_999_999;

impl Timestamp {
    pub(crate) fn now() -> Timestamp {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        Timestamp((nanos.div_euclid(1000)) as i64)
    }

    pub(crate) fn from_micros(micros: i64) -> Timestamp {
        Timestamp(micros)
    }

    pub(crate) fn micros(self) -> i64 {
        self.0
    }

    pub(crate) fn millis(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// Parses RFC 3339 with any offset and up to nine fractional digits; precision beyond
    /// microseconds is truncated, as Firestore does.
    pub(crate) fn parse(text: &str) -> Option<Timestamp> {
        let parsed = OffsetDateTime::parse(text, &Rfc3339).ok()?;
        let micros = parsed.unix_timestamp_nanos().div_euclid(1000);
        let micros = i64::try_from(micros).ok()?;
        (MIN_TIMESTAMP_MICROS..=MAX_TIMESTAMP_MICROS)
            .contains(&micros)
            .then_some(Timestamp(micros))
    }

    /// RFC 3339 in UTC with a `Z`, and 0, 3 or 6 fractional digits: the protobuf JSON mapping
    /// Firestore answers with.
    pub(crate) fn to_rfc3339(self) -> String {
        let seconds = self.0.div_euclid(1_000_000);
        let micros = self.0.rem_euclid(1_000_000);
        let Ok(at) = OffsetDateTime::from_unix_timestamp(seconds) else {
            // Out of range only for values that `parse` never produces.
            return "1970-01-01T00:00:00Z".to_string();
        };
        let fraction = if micros == 0 {
            String::new()
        } else if micros % 1000 == 0 {
            format!(".{:03}", micros / 1000)
        } else {
            format!(".{micros:06}")
        };
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{fraction}Z",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second()
        )
    }
}

/// One Firestore value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Boolean(bool),
    Integer(i64),
    Double(f64),
    Timestamp(Timestamp),
    String(String),
    Bytes(Vec<u8>),
    /// A full document name, `projects/{p}/databases/{d}/documents/…`.
    Reference(String),
    GeoPoint {
        latitude: f64,
        longitude: f64,
    },
    Array(Vec<Value>),
    Map(Fields),
}

/// A value that is not valid Firestore value JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct InvalidValue(pub(crate) String);

fn invalid(message: impl Into<String>) -> InvalidValue {
    InvalidValue(message.into())
}

impl Value {
    /// Parses one typed value, e.g. `{"integerValue": "3"}`.
    pub(crate) fn from_json(json: &Json) -> Result<Value, InvalidValue> {
        let object = json
            .as_object()
            .ok_or_else(|| invalid(format!("a value must be a JSON object, got {json}")))?;
        if object.len() != 1 {
            return Err(invalid(format!(
                "a value must have exactly one type key, got {json}"
            )));
        }
        let Some((kind, inner)) = object.iter().next() else {
            return Err(invalid("empty value"));
        };
        match kind.as_str() {
            "nullValue" => Ok(Value::Null),
            "booleanValue" => inner
                .as_bool()
                .map(Value::Boolean)
                .ok_or_else(|| invalid("booleanValue must be true or false")),
            "integerValue" => parse_integer(inner).map(Value::Integer),
            "doubleValue" => parse_double(inner).map(Value::Double),
            "timestampValue" => inner
                .as_str()
                .and_then(Timestamp::parse)
                .map(Value::Timestamp)
                .ok_or_else(|| invalid(format!("invalid timestampValue {inner}"))),
            "stringValue" => inner
                .as_str()
                .map(|s| Value::String(s.to_string()))
                .ok_or_else(|| invalid("stringValue must be a string")),
            "bytesValue" => {
                let text = inner
                    .as_str()
                    .ok_or_else(|| invalid("bytesValue must be a string"))?;
                decode_base64(text)
                    .map(Value::Bytes)
                    .ok_or_else(|| invalid("bytesValue must be base64"))
            }
            "referenceValue" => inner
                .as_str()
                .filter(|s| s.starts_with("projects/"))
                .map(|s| Value::Reference(s.to_string()))
                .ok_or_else(|| invalid(format!("invalid referenceValue {inner}"))),
            "geoPointValue" => {
                let coordinate = |name: &str| -> Result<f64, InvalidValue> {
                    match inner.get(name) {
                        None => Ok(0.0),
                        Some(v) => v.as_f64().ok_or_else(|| {
                            invalid(format!("geoPointValue.{name} must be a number"))
                        }),
                    }
                };
                Ok(Value::GeoPoint {
                    latitude: coordinate("latitude")?,
                    longitude: coordinate("longitude")?,
                })
            }
            "arrayValue" => {
                let values = match inner.get("values") {
                    None | Some(Json::Null) => return Ok(Value::Array(Vec::new())),
                    Some(Json::Array(values)) => values,
                    Some(_) => return Err(invalid("arrayValue.values must be an array")),
                };
                values
                    .iter()
                    .map(Value::from_json)
                    .collect::<Result<_, _>>()
                    .map(Value::Array)
            }
            "mapValue" => match inner.get("fields") {
                None | Some(Json::Null) => Ok(Value::Map(Fields::new())),
                Some(fields) => fields_from_json(fields).map(Value::Map),
            },
            other => Err(invalid(format!("unknown value type {other:?}"))),
        }
    }

    pub(crate) fn to_json(&self) -> Json {
        match self {
            Value::Null => json!({ "nullValue": null }),
            Value::Boolean(b) => json!({ "booleanValue": b }),
            Value::Integer(i) => json!({ "integerValue": i.to_string() }),
            Value::Double(d) => {
                if d.is_nan() {
                    json!({ "doubleValue": "NaN" })
                } else if d.is_infinite() {
                    json!({ "doubleValue": if *d > 0.0 { "Infinity" } else { "-Infinity" } })
                } else {
                    json!({ "doubleValue": d })
                }
            }
            Value::Timestamp(t) => json!({ "timestampValue": t.to_rfc3339() }),
            Value::String(s) => json!({ "stringValue": s }),
            Value::Bytes(b) => {
                json!({ "bytesValue": base64::engine::general_purpose::STANDARD.encode(b) })
            }
            Value::Reference(r) => json!({ "referenceValue": r }),
            Value::GeoPoint {
                latitude,
                longitude,
            } => {
                json!({ "geoPointValue": { "latitude": latitude, "longitude": longitude } })
            }
            Value::Array(values) if values.is_empty() => json!({ "arrayValue": {} }),
            Value::Array(values) => {
                json!({ "arrayValue": { "values": values.iter().map(Value::to_json).collect::<Vec<_>>() } })
            }
            Value::Map(fields) if fields.is_empty() => json!({ "mapValue": {} }),
            Value::Map(fields) => json!({ "mapValue": { "fields": fields_to_json(fields) } }),
        }
    }

    /// Firestore's type order: null, booleans, numbers, timestamps, strings, bytes, references,
    /// geo points, arrays, maps.
    fn type_rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Boolean(_) => 1,
            Value::Integer(_) | Value::Double(_) => 2,
            Value::Timestamp(_) => 3,
            Value::String(_) => 4,
            Value::Bytes(_) => 5,
            Value::Reference(_) => 6,
            Value::GeoPoint { .. } => 7,
            Value::Array(_) => 8,
            Value::Map(_) => 9,
        }
    }

    /// Whether two values are of the same kind for inequality filters (integers and doubles
    /// are both numbers).
    pub(crate) fn same_kind(&self, other: &Value) -> bool {
        self.type_rank() == other.type_rank()
    }

    pub(crate) fn is_nan(&self) -> bool {
        matches!(self, Value::Double(d) if d.is_nan())
    }

    /// The total order Firestore sorts query results by (NaN sorts before every other number).
    pub(crate) fn firestore_cmp(&self, other: &Value) -> Ordering {
        let by_type = self.type_rank().cmp(&other.type_rank());
        if by_type != Ordering::Equal {
            return by_type;
        }
        match (self, other) {
            (Value::Boolean(a), Value::Boolean(b)) => a.cmp(b),
            (Value::Integer(a), Value::Integer(b)) => a.cmp(b),
            (Value::Integer(a), Value::Double(b)) => compare_integer_double(*a, *b),
            (Value::Double(a), Value::Integer(b)) => compare_integer_double(*b, *a).reverse(),
            (Value::Double(a), Value::Double(b)) => compare_doubles(*a, *b),
            (Value::Timestamp(a), Value::Timestamp(b)) => a.cmp(b),
            (Value::String(a), Value::String(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Value::Bytes(a), Value::Bytes(b)) => a.cmp(b),
            (Value::Reference(a), Value::Reference(b)) => compare_paths(a, b),
            (
                Value::GeoPoint {
                    latitude: la,
                    longitude: lo,
                },
                Value::GeoPoint {
                    latitude: lb,
                    longitude: mb,
                },
            ) => compare_doubles(*la, *lb).then_with(|| compare_doubles(*lo, *mb)),
            (Value::Array(a), Value::Array(b)) => {
                for (x, y) in a.iter().zip(b) {
                    let c = x.firestore_cmp(y);
                    if c != Ordering::Equal {
                        return c;
                    }
                }
                a.len().cmp(&b.len())
            }
            (Value::Map(a), Value::Map(b)) => {
                for ((ka, va), (kb, vb)) in a.iter().zip(b) {
                    let c = ka
                        .as_bytes()
                        .cmp(kb.as_bytes())
                        .then_with(|| va.firestore_cmp(vb));
                    if c != Ordering::Equal {
                        return c;
                    }
                }
                a.len().cmp(&b.len())
            }
            _ => Ordering::Equal,
        }
    }

    /// Equality as Firestore's `EQUAL` filter sees it (`1 == 1.0`, NaN equals nothing).
    pub(crate) fn firestore_eq(&self, other: &Value) -> bool {
        !self.is_nan() && !other.is_nan() && self.firestore_cmp(other) == Ordering::Equal
    }
}

/// Parses a document's `fields` object.
pub(crate) fn fields_from_json(json: &Json) -> Result<Fields, InvalidValue> {
    let object = json
        .as_object()
        .ok_or_else(|| invalid("fields must be a JSON object"))?;
    object
        .iter()
        .map(|(name, value)| {
            if name.is_empty() {
                return Err(invalid("a field name must not be empty"));
            }
            Value::from_json(value)
                .map(|v| (name.clone(), v))
                .map_err(|e| invalid(format!("field {name:?}: {}", e.0)))
        })
        .collect()
}

pub(crate) fn fields_to_json(fields: &Fields) -> Json {
    Json::Object(
        fields
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect(),
    )
}

fn parse_integer(json: &Json) -> Result<i64, InvalidValue> {
    match json {
        Json::String(s) => s
            .parse()
            .map_err(|_| invalid(format!("invalid integerValue {s:?}"))),
        Json::Number(n) => n
            .as_i64()
            .ok_or_else(|| invalid(format!("invalid integerValue {n}"))),
        other => Err(invalid(format!("invalid integerValue {other}"))),
    }
}

fn parse_double(json: &Json) -> Result<f64, InvalidValue> {
    match json {
        Json::Number(n) => n
            .as_f64()
            .ok_or_else(|| invalid(format!("invalid doubleValue {n}"))),
        Json::String(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            other => other
                .parse()
                .map_err(|_| invalid(format!("invalid doubleValue {s:?}"))),
        },
        other => Err(invalid(format!("invalid doubleValue {other}"))),
    }
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE.decode(text))
        .ok()
}

fn compare_doubles(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

fn compare_integer_double(a: i64, b: f64) -> Ordering {
    if b.is_nan() {
        return Ordering::Greater;
    }
    // Compare exactly where the double is integral and in range; otherwise as doubles.
    if b.fract() == 0.0 && b >= i64::MIN as f64 && b < i64::MAX as f64 {
        return a.cmp(&(b as i64));
    }
    compare_doubles(a as f64, b)
}

/// Document names sort segment by segment, not byte by byte (`a/b` before `a-/c`).
pub(crate) fn compare_paths(a: &str, b: &str) -> Ordering {
    let mut left = a.split('/');
    let mut right = b.split('/');
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let c = x.as_bytes().cmp(y.as_bytes());
                if c != Ordering::Equal {
                    return c;
                }
            }
        }
    }
}

/// A dotted field path such as `settings.voiceOver` (segments may be quoted with backticks).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct FieldPath(pub(crate) Vec<String>);

impl FieldPath {
    pub(crate) fn parse(text: &str) -> Result<FieldPath, InvalidValue> {
        let bad = || invalid(format!("invalid field path {text:?}"));
        let mut segments = Vec::new();
        let mut chars = text.chars().peekable();
        loop {
            let mut segment = String::new();
            if chars.peek() == Some(&'`') {
                chars.next();
                loop {
                    match chars.next() {
                        None => return Err(bad()),
                        Some('`') => break,
                        Some('\\') => segment.push(chars.next().ok_or_else(bad)?),
                        Some(c) => segment.push(c),
                    }
                }
                match chars.next() {
                    None => {
                        segments.push(segment);
                        break;
                    }
                    Some('.') => {}
                    Some(_) => return Err(bad()),
                }
            } else {
                let mut ended = true;
                for c in chars.by_ref() {
                    if c == '.' {
                        ended = false;
                        break;
                    }
                    segment.push(c);
                }
                if segment.is_empty() {
                    return Err(bad());
                }
                if ended {
                    segments.push(segment);
                    break;
                }
            }
            if segment.is_empty() {
                return Err(bad());
            }
            segments.push(segment);
        }
        Ok(FieldPath(segments))
    }

    pub(crate) fn is_document_name(&self) -> bool {
        self.0.len() == 1 && self.0[0] == "__name__"
    }

    /// The value at this path, if every map on the way exists.
    pub(crate) fn get<'a>(&self, fields: &'a Fields) -> Option<&'a Value> {
        let (first, rest) = self.0.split_first()?;
        let mut current = fields.get(first)?;
        for segment in rest {
            match current {
                Value::Map(inner) => current = inner.get(segment)?,
                _ => return None,
            }
        }
        Some(current)
    }

    /// Sets the value at this path, creating (or replacing non-map values by) maps on the way.
    pub(crate) fn set(&self, fields: &mut Fields, value: Value) {
        let Some((last, parents)) = self.0.split_last() else {
            return;
        };
        let mut current = fields;
        for segment in parents {
            let entry = current
                .entry(segment.clone())
                .or_insert_with(|| Value::Map(Fields::new()));
            if !matches!(entry, Value::Map(_)) {
                *entry = Value::Map(Fields::new());
            }
            let Value::Map(inner) = entry else { return };
            current = inner;
        }
        current.insert(last.clone(), value);
    }

    pub(crate) fn remove(&self, fields: &mut Fields) {
        let Some((last, parents)) = self.0.split_last() else {
            return;
        };
        let mut current = fields;
        for segment in parents {
            match current.get_mut(segment) {
                Some(Value::Map(inner)) => current = inner,
                _ => return,
            }
        }
        current.remove(last);
    }
}

/// Keeps only the given paths of `fields` (a read mask or a query projection).
pub(crate) fn project(fields: &Fields, paths: &[FieldPath]) -> Fields {
    let mut out = Fields::new();
    for path in paths {
        if let Some(value) = path.get(fields) {
            path.set(&mut out, value.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_with_the_shortest_fraction() {
        let t = Timestamp::parse("2024-05-06T07:08:09.123456789Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-05-06T07:08:09.123456Z");
        assert_eq!(
            Timestamp::parse("2024-05-06T07:08:09.5Z")
                .unwrap()
                .to_rfc3339(),
            "2024-05-06T07:08:09.500Z"
        );
        assert_eq!(
            Timestamp::parse("2024-05-06T07:08:09Z")
                .unwrap()
                .to_rfc3339(),
            "2024-05-06T07:08:09Z"
        );
        // Offsets are normalised to UTC, so instants compare correctly.
        let offset = Timestamp::parse("2024-05-06T09:08:09.000001+02:00").unwrap();
        assert_eq!(offset.to_rfc3339(), "2024-05-06T07:08:09.000001Z");
        assert!(offset > Timestamp::parse("2024-05-06T07:08:09Z").unwrap());
        assert_eq!(Timestamp::parse("not a time"), None);
    }

    #[test]
    fn values_round_trip_through_their_wire_json() {
        let wire = json!({
            "a": {"stringValue": "x"},
            "b": {"integerValue": "-7"},
            "c": {"doubleValue": 0.5},
            "d": {"booleanValue": true},
            "e": {"nullValue": null},
            "f": {"timestampValue": "2020-01-01T00:00:00Z"},
            "g": {"mapValue": {"fields": {"h": {"arrayValue": {"values": [{"bytesValue": "AAE="}]}}}}},
            "i": {"arrayValue": {}},
            "j": {"mapValue": {}}
        });
        let fields = fields_from_json(&wire).unwrap();
        assert_eq!(fields["b"], Value::Integer(-7));
        assert_eq!(fields_to_json(&fields), wire);
    }

    #[test]
    fn malformed_values_are_rejected_not_guessed() {
        assert!(Value::from_json(&json!({"integerValue": "1.5"})).is_err());
        assert!(Value::from_json(&json!({"stringValue": "a", "integerValue": "1"})).is_err());
        assert!(Value::from_json(&json!({"frobValue": 1})).is_err());
        assert!(Value::from_json(&json!("bare")).is_err());
        assert!(Value::from_json(&json!({"timestampValue": "yesterday"})).is_err());
    }

    #[test]
    fn values_sort_in_firestore_type_order() {
        let sorted = [
            Value::Null,
            Value::Boolean(false),
            Value::Double(f64::NAN),
            Value::Integer(-1),
            Value::Double(0.5),
            Value::Integer(1),
            Value::Timestamp(Timestamp::from_micros(0)),
            Value::String("a".into()),
            Value::Bytes(vec![0]),
            Value::Reference("projects/p/databases/(default)/documents/a/b".into()),
            Value::Array(vec![]),
            Value::Map(Fields::new()),
        ];
        for pair in sorted.windows(2) {
            assert_eq!(pair[0].firestore_cmp(&pair[1]), Ordering::Less, "{pair:?}");
        }
        assert!(Value::Integer(1).firestore_eq(&Value::Double(1.0)));
        assert!(!Value::Double(f64::NAN).firestore_eq(&Value::Double(f64::NAN)));
    }

    #[test]
    fn document_names_compare_segment_by_segment() {
        assert_eq!(compare_paths("c/a/x/1", "c/a-/x/1"), Ordering::Less);
        assert_eq!(compare_paths("c/a", "c/a/x/1"), Ordering::Less);
    }

    #[test]
    fn field_paths_parse_dots_and_backticks() {
        assert_eq!(FieldPath::parse("a.b").unwrap().0, vec!["a", "b"]);
        assert_eq!(FieldPath::parse("`a.b`.c").unwrap().0, vec!["a.b", "c"]);
        assert!(FieldPath::parse("a..b").is_err());
        assert!(FieldPath::parse("").is_err());
        assert!(FieldPath::parse("`open").is_err());
        let mut fields = Fields::new();
        let path = FieldPath::parse("settings.music").unwrap();
        path.set(&mut fields, Value::Boolean(true));
        assert_eq!(path.get(&fields), Some(&Value::Boolean(true)));
        path.remove(&mut fields);
        assert_eq!(path.get(&fields), None);
        assert_eq!(fields.get("settings"), Some(&Value::Map(Fields::new())));
    }
}
