//! Firestore over REST v1: typed values, documents, reads, writes and queries.
//!
//! Firestore's JSON wraps every value in its type (`{"integerValue": "5"}`), so a field can be
//! told apart from a look-alike of another type; [`Value`] keeps that typing in Rust, and its
//! decoder is strict: anything that is not a well-formed Firestore value is a
//! `server.malformed_response` error, never a panic and never a silently wrong default. The
//! same client serves the app (with a user's ID token, under the security rules) and the local
//! backend's Cleom API (with the emulators' admin `owner` token).

use std::collections::BTreeMap;

use base64::Engine as _;
use reqwest::{Method, Url};
use serde::{Deserialize, Serialize};

use super::http::{Http, Replay};
use super::{Endpoints, RemoteError};
use crate::secret::SecretString;

/// The field path that orders or filters by document name.
pub const DOCUMENT_NAME_FIELD: &str = "__name__";

/// The most writes one commit may carry.
pub const MAX_COMMIT_WRITES: usize = 500;

/// Deeper nesting than this is rejected (Firestore itself allows 20 levels of maps).
const MAX_DEPTH: usize = 64;

/// One typed Firestore value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Boolean(bool),
    /// Encoded as a decimal string, as 64-bit integers are in Google's JSON.
    Integer(i64),
    /// Non-finite values are encoded as `"NaN"`, `"Infinity"`, `"-Infinity"`.
    Double(f64),
    /// RFC 3339, as the server sent it (checked to parse).
    Timestamp(String),
    String(String),
    /// Encoded as standard base64.
    Bytes(Vec<u8>),
    Array(Vec<Value>),
    Map(BTreeMap<String, Value>),
    /// A full document name, `projects/{p}/databases/(default)/documents/...`.
    Reference(String),
}

impl Value {
    /// Firestore's JSON for this value.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Value::Null => json!({ "nullValue": null }),
            Value::Boolean(b) => json!({ "booleanValue": b }),
            Value::Integer(i) => json!({ "integerValue": i.to_string() }),
            Value::Double(d) => match serde_json::Number::from_f64(*d) {
                Some(n) => json!({ "doubleValue": n }),
                None if d.is_nan() => json!({ "doubleValue": "NaN" }),
                None if *d > 0.0 => json!({ "doubleValue": "Infinity" }),
                None => json!({ "doubleValue": "-Infinity" }),
            },
            Value::Timestamp(t) => json!({ "timestampValue": t }),
            Value::String(s) => json!({ "stringValue": s }),
            Value::Bytes(b) => {
                json!({ "bytesValue": base64::engine::general_purpose::STANDARD.encode(b) })
            }
            Value::Array(values) => {
                json!({ "arrayValue": { "values": values.iter().map(Value::to_json).collect::<Vec<_>>() } })
            }
            Value::Map(fields) => json!({ "mapValue": { "fields": fields_to_json(fields) } }),
            Value::Reference(r) => json!({ "referenceValue": r }),
        }
    }

    /// Decodes Firestore's JSON for one value, strictly.
    pub fn from_json(json: &serde_json::Value) -> Result<Value, RemoteError> {
        decode_value(json, 0).map_err(|e| e.into_remote("value"))
    }
}

impl Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = serde_json::Value::deserialize(deserializer)?;
        decode_value(&json, 0).map_err(serde::de::Error::custom)
    }
}

/// Where in a value decoding failed, and why. Never quotes the offending value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DecodeError {
    path: Vec<String>,
    problem: &'static str,
}

impl DecodeError {
    fn new(problem: &'static str) -> DecodeError {
        DecodeError {
            path: Vec::new(),
            problem,
        }
    }

    fn at(mut self, segment: impl Into<String>) -> DecodeError {
        self.path.push(segment.into());
        self
    }

    fn into_remote(self, what: &str) -> RemoteError {
        RemoteError::MalformedResponse(format!("{what}: {self}"))
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.problem)
        } else {
            let path: Vec<&str> = self.path.iter().rev().map(String::as_str).collect();
            write!(f, "{}: {}", path.join("."), self.problem)
        }
    }
}

fn decode_value(json: &serde_json::Value, depth: usize) -> Result<Value, DecodeError> {
    use serde_json::Value as J;
    if depth > MAX_DEPTH {
        return Err(DecodeError::new("nested too deeply"));
    }
    let object = json
        .as_object()
        .ok_or_else(|| DecodeError::new("a value must be an object"))?;
    let mut entries = object.iter();
    let (Some((kind, inner)), None) = (entries.next(), entries.next()) else {
        return Err(DecodeError::new("a value must have exactly one type key"));
    };
    let wrong = |problem| DecodeError::new(problem).at(kind.as_str());
    Ok(match (kind.as_str(), inner) {
        ("nullValue", J::Null) => Value::Null,
        ("nullValue", J::String(s)) if s == "NULL_VALUE" => Value::Null,
        ("booleanValue", J::Bool(b)) => Value::Boolean(*b),
        // Google's JSON writes int64 as a string; proto3 parsers accept a number too.
        ("integerValue", J::String(s)) => {
            Value::Integer(s.parse().map_err(|_| wrong("not a 64-bit integer"))?)
        }
        ("integerValue", J::Number(n)) => {
            Value::Integer(n.as_i64().ok_or_else(|| wrong("not a 64-bit integer"))?)
        }
        ("doubleValue", J::Number(n)) => {
            Value::Double(n.as_f64().ok_or_else(|| wrong("not a number"))?)
        }
        ("doubleValue", J::String(s)) => Value::Double(match s.as_str() {
            "NaN" => f64::NAN,
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            _ => return Err(wrong("not a number")),
        }),
        ("timestampValue", J::String(s)) => {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .map_err(|_| wrong("not an RFC 3339 time"))?;
            Value::Timestamp(s.clone())
        }
        ("stringValue", J::String(s)) => Value::String(s.clone()),
        ("bytesValue", J::String(s)) => {
            Value::Bytes(decode_base64(s).ok_or_else(|| wrong("not base64"))?)
        }
        ("referenceValue", J::String(s)) => Value::Reference(s.clone()),
        ("arrayValue", J::Object(array)) => {
            let values: &[J] = match (array.get("values"), array.len()) {
                (None, 0) => &[],
                (Some(J::Array(values)), 1) => values,
                _ => return Err(wrong("an array must be {\"values\": [...]}")),
            };
            let decoded: Result<Vec<Value>, DecodeError> = values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    decode_value(v, depth + 1).map_err(|e| e.at(i.to_string()).at(kind.as_str()))
                })
                .collect();
            Value::Array(decoded?)
        }
        ("mapValue", J::Object(map)) => match (map.get("fields"), map.len()) {
            (None, 0) => Value::Map(BTreeMap::new()),
            (Some(fields), 1) => {
                Value::Map(decode_fields(fields, depth + 1).map_err(|e| e.at(kind.as_str()))?)
            }
            _ => return Err(wrong("a map must be {\"fields\": {...}}")),
        },
        (
            "nullValue" | "booleanValue" | "integerValue" | "doubleValue" | "timestampValue"
            | "stringValue" | "bytesValue" | "referenceValue" | "arrayValue" | "mapValue",
            _,
        ) => return Err(wrong("has the wrong JSON type")),
        _ => return Err(DecodeError::new("unknown or unsupported value type")),
    })
}

/// Standard base64 as Google writes it; the URL-safe and unpadded forms proto3 also allows.
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(s).ok())
}

fn decode_fields(
    json: &serde_json::Value,
    depth: usize,
) -> Result<BTreeMap<String, Value>, DecodeError> {
    let object = json
        .as_object()
        .ok_or_else(|| DecodeError::new("fields must be an object"))?;
    object
        .iter()
        .map(|(name, v)| {
            Ok((
                name.clone(),
                decode_value(v, depth).map_err(|e| e.at(name.as_str()))?,
            ))
        })
        .collect()
}

fn fields_to_json(fields: &BTreeMap<String, Value>) -> serde_json::Value {
    serde_json::Value::Object(
        fields
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect(),
    )
}

/// One Firestore document as the REST API returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The full name, `projects/{p}/databases/(default)/documents/users/{uid}/...`.
    pub name: String,
    pub fields: BTreeMap<String, Value>,
    pub create_time: Option<String>,
    pub update_time: Option<String>,
}

impl Document {
    /// The document id: the last segment of its name.
    pub fn id(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or_default()
    }

    pub fn to_json(&self) -> serde_json::Value {
        let mut json =
            serde_json::json!({ "name": self.name, "fields": fields_to_json(&self.fields) });
        if let Some(t) = &self.create_time {
            json["createTime"] = t.clone().into();
        }
        if let Some(t) = &self.update_time {
            json["updateTime"] = t.clone().into();
        }
        json
    }

    /// Decodes a document: `name` is required, `fields` may be absent (an empty document),
    /// every value must decode; unknown top-level keys are ignored.
    pub fn from_json(json: &serde_json::Value) -> Result<Document, RemoteError> {
        decode_document(json).map_err(|e| e.into_remote("document"))
    }
}

impl Serialize for Document {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = serde_json::Value::deserialize(deserializer)?;
        decode_document(&json).map_err(serde::de::Error::custom)
    }
}

fn decode_document(json: &serde_json::Value) -> Result<Document, DecodeError> {
    let object = json
        .as_object()
        .ok_or_else(|| DecodeError::new("a document must be an object"))?;
    let name = match object.get("name") {
        Some(serde_json::Value::String(name)) if !name.is_empty() => name.clone(),
        _ => return Err(DecodeError::new("a document needs a name").at("name")),
    };
    let fields = match object.get("fields") {
        None => BTreeMap::new(),
        Some(fields) => decode_fields(fields, 0).map_err(|e| e.at("fields"))?,
    };
    let time = |key: &'static str| -> Result<Option<String>, DecodeError> {
        match object.get(key) {
            None => Ok(None),
            Some(serde_json::Value::String(t))
                if time::OffsetDateTime::parse(
                    t,
                    &time::format_description::well_known::Rfc3339,
                )
                .is_ok() =>
            {
                Ok(Some(t.clone()))
            }
            Some(_) => Err(DecodeError::new("not an RFC 3339 time").at(key)),
        }
    };
    Ok(Document {
        name,
        fields,
        create_time: time("createTime")?,
        update_time: time("updateTime")?,
    })
}

/// A condition the stored document must meet for a write to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    Exists(bool),
    /// The document was last updated at exactly this time.
    UpdateTime(String),
}

impl Precondition {
    fn to_json(&self) -> serde_json::Value {
        match self {
            Precondition::Exists(e) => serde_json::json!({ "exists": e }),
            Precondition::UpdateTime(t) => serde_json::json!({ "updateTime": t }),
        }
    }
}

/// One write of a [`FirestoreClient::commit`]. Paths may be relative to the database
/// (`users/u1`) or full document names.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    operation: Operation,
    update_mask: Option<Vec<String>>,
    server_time_fields: Vec<String>,
    precondition: Option<Precondition>,
}

#[derive(Debug, Clone, PartialEq)]
enum Operation {
    Update {
        path: String,
        fields: BTreeMap<String, Value>,
    },
    Delete {
        path: String,
    },
}

impl Write {
    /// Sets `fields` on the document (all of them replace the document unless a mask is set).
    pub fn update(path: impl Into<String>, fields: BTreeMap<String, Value>) -> Write {
        Write::new(Operation::Update {
            path: path.into(),
            fields,
        })
    }

    pub fn delete(path: impl Into<String>) -> Write {
        Write::new(Operation::Delete { path: path.into() })
    }

    fn new(operation: Operation) -> Write {
        Write {
            operation,
            update_mask: None,
            server_time_fields: Vec::new(),
            precondition: None,
        }
    }

    /// Only these field paths are written (others are kept; masked fields absent from the
    /// update are removed).
    pub fn mask<S: Into<String>>(mut self, field_paths: impl IntoIterator<Item = S>) -> Write {
        self.update_mask = Some(field_paths.into_iter().map(Into::into).collect());
        self
    }

    /// Sets `field_path` to the server's time of the request (`REQUEST_TIME`).
    pub fn server_time(mut self, field_path: impl Into<String>) -> Write {
        self.server_time_fields.push(field_path.into());
        self
    }

    pub fn precondition(mut self, precondition: Precondition) -> Write {
        self.precondition = Some(precondition);
        self
    }

    /// The document this write changes, as given (relative, or a full document name).
    pub fn path(&self) -> &str {
        match &self.operation {
            Operation::Update { path, .. } | Operation::Delete { path } => path,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOp {
    Equal,
    GreaterThan,
    GreaterThanOrEqual,
    LessThan,
    LessThanOrEqual,
}

impl FieldOp {
    fn as_str(self) -> &'static str {
        match self {
            FieldOp::Equal => "EQUAL",
            FieldOp::GreaterThan => "GREATER_THAN",
            FieldOp::GreaterThanOrEqual => "GREATER_THAN_OR_EQUAL",
            FieldOp::LessThan => "LESS_THAN",
            FieldOp::LessThanOrEqual => "LESS_THAN_OR_EQUAL",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ascending,
    Descending,
}

/// The subset of a `structuredQuery` the app uses: one collection, AND-ed field filters,
/// ordering, a start cursor and a limit. Built with chained calls:
/// `StructuredQuery::from("generations").filter("updatedAt", FieldOp::GreaterThanOrEqual, t)
/// .order_by("updatedAt", Direction::Ascending).limit(500)`.
#[derive(Debug, Clone, PartialEq)]
pub struct StructuredQuery {
    collection_id: String,
    filters: Vec<(String, FieldOp, Value)>,
    order_by: Vec<(String, Direction)>,
    start_at: Option<(Vec<Value>, bool)>,
    limit: Option<u32>,
}

impl StructuredQuery {
    pub fn from(collection_id: impl Into<String>) -> StructuredQuery {
        StructuredQuery {
            collection_id: collection_id.into(),
            filters: Vec::new(),
            order_by: Vec::new(),
            start_at: None,
            limit: None,
        }
    }

    /// Adds a field filter; several are combined with AND.
    pub fn filter(
        mut self,
        field_path: impl Into<String>,
        op: FieldOp,
        value: Value,
    ) -> StructuredQuery {
        self.filters.push((field_path.into(), op, value));
        self
    }

    pub fn order_by(
        mut self,
        field_path: impl Into<String>,
        direction: Direction,
    ) -> StructuredQuery {
        self.order_by.push((field_path.into(), direction));
        self
    }

    /// Starts at the position given by one value per `order_by` field (a `__name__` value is a
    /// [`Value::Reference`]); `before` includes that position, `false` starts just after it.
    pub fn start_at(mut self, values: Vec<Value>, before: bool) -> StructuredQuery {
        self.start_at = Some((values, before));
        self
    }

    pub fn limit(mut self, limit: u32) -> StructuredQuery {
        self.limit = Some(limit);
        self
    }

    /// The `structuredQuery` JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let field_filter = |(field, op, value): &(String, FieldOp, Value)| json!({ "fieldFilter": { "field": { "fieldPath": field }, "op": op.as_str(), "value": value.to_json() } });
        let mut query = json!({ "from": [{ "collectionId": self.collection_id }] });
        match self.filters.as_slice() {
            [] => {}
            [one] => query["where"] = field_filter(one),
            many => {
                query["where"] = json!({ "compositeFilter": { "op": "AND", "filters": many.iter().map(field_filter).collect::<Vec<_>>() } })
            }
        }
        if !self.order_by.is_empty() {
            let order: Vec<serde_json::Value> = self
                .order_by
                .iter()
                .map(|(field, direction)| {
                    let direction = match direction {
                        Direction::Ascending => "ASCENDING",
                        Direction::Descending => "DESCENDING",
                    };
                    json!({ "field": { "fieldPath": field }, "direction": direction })
                })
                .collect();
            query["orderBy"] = order.into();
        }
        if let Some((values, before)) = &self.start_at {
            query["startAt"] = json!({ "values": values.iter().map(Value::to_json).collect::<Vec<_>>(), "before": before });
        }
        if let Some(limit) = self.limit {
            query["limit"] = limit.into();
        }
        query
    }
}

/// What a commit reports: the server's commit time and, per write, its resulting update time
/// (absent for deletes) and the values its transforms wrote (`REQUEST_TIME` → the request's
/// timestamp, which is not necessarily the commit time).
#[derive(Debug, Clone, PartialEq)]
pub struct CommitResult {
    pub commit_time: String,
    pub update_times: Vec<Option<String>>,
    /// One list per write, in the order of its `server_time` fields.
    pub transform_results: Vec<Vec<Value>>,
}

/// One page of [`FirestoreClient::list`].
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    pub documents: Vec<Document>,
    /// Pass to the next call; `None` on the last page.
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone)]
pub struct FirestoreClient {
    http: Http,
    base: String,
    project_id: String,
}

impl FirestoreClient {
    pub(crate) fn new(http: Http, endpoints: &Endpoints) -> FirestoreClient {
        FirestoreClient {
            http,
            base: endpoints.firestore.clone(),
            project_id: endpoints.project_id.clone(),
        }
    }

    /// `projects/{p}/databases/(default)/documents`: the prefix of every document name.
    pub fn documents_root(&self) -> String {
        format!("projects/{}/databases/(default)/documents", self.project_id)
    }

    /// The full name of the document at `path` (relative, or already a full name).
    pub fn document_name(&self, path: &str) -> String {
        let relative = self.relative(path);
        if relative.is_empty() {
            self.documents_root()
        } else {
            format!("{}/{relative}", self.documents_root())
        }
    }

    /// The document at `path`, or `None` if there is none.
    pub async fn get(
        &self,
        path: &str,
        token: &SecretString,
    ) -> Result<Option<Document>, RemoteError> {
        let url = self.url(path, None, false)?;
        let request = self.http.client().get(url).bearer_auth(token.expose());
        let response = self.http.send_raw(request, Replay::Safe).await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(super::http::error_from(response).await);
        }
        let body = super::http::read_body(response, MAX_DOCUMENT_ANSWER_BYTES).await?;
        Ok(Some(parse_document(&body)?))
    }

    /// Writes `fields`. With `update_mask`, only those field paths change; without, the
    /// document is replaced. Creates the document unless `precondition` says otherwise.
    pub async fn patch(
        &self,
        path: &str,
        fields: &BTreeMap<String, Value>,
        update_mask: Option<&[&str]>,
        precondition: Option<Precondition>,
        token: &SecretString,
    ) -> Result<Document, RemoteError> {
        let mut url = self.url(path, None, false)?;
        {
            let mut query = url.query_pairs_mut();
            for field in update_mask.unwrap_or_default() {
                query.append_pair("updateMask.fieldPaths", field);
            }
            match &precondition {
                Some(Precondition::Exists(e)) => {
                    query.append_pair("currentDocument.exists", if *e { "true" } else { "false" });
                }
                Some(Precondition::UpdateTime(t)) => {
                    query.append_pair("currentDocument.updateTime", t);
                }
                None => {}
            }
        }
        let body = serde_json::json!({ "fields": fields_to_json(fields) });
        let request = self
            .http
            .client()
            .request(Method::PATCH, url)
            .bearer_auth(token.expose())
            .json(&body);
        // A precondition may fail on the replay of a write that went through.
        let replay = if precondition.is_none() {
            Replay::Safe
        } else {
            Replay::OnlyIfUnprocessed
        };
        let body = self.http.send_bytes(request, replay).await?;
        parse_document(&body)
    }

    /// Deletes the document (succeeds if it is already gone).
    pub async fn delete(&self, path: &str, token: &SecretString) -> Result<(), RemoteError> {
        let url = self.url(path, None, false)?;
        let request = self.http.client().delete(url).bearer_auth(token.expose());
        self.http.send_bytes(request, Replay::Safe).await?;
        Ok(())
    }

    /// Applies up to [`MAX_COMMIT_WRITES`] writes atomically (`documents:commit`, which, unlike
    /// `batchWrite`, accepts end-user tokens).
    pub async fn commit(
        &self,
        writes: Vec<Write>,
        token: &SecretString,
    ) -> Result<CommitResult, RemoteError> {
        if writes.len() > MAX_COMMIT_WRITES {
            return Err(RemoteError::InvalidRequest(format!(
                "at most {MAX_COMMIT_WRITES} writes fit in one commit"
            )));
        }
        let replay = if writes.iter().all(|w| w.precondition.is_none()) {
            Replay::Safe
        } else {
            Replay::OnlyIfUnprocessed
        };
        let mut encoded = Vec::with_capacity(writes.len());
        for write in &writes {
            encoded.push(self.write_to_json(write)?);
        }
        let url = self.url("", Some("commit"), true)?;
        let body = serde_json::json!({ "writes": encoded });
        let request = self
            .http
            .client()
            .post(url)
            .bearer_auth(token.expose())
            .json(&body);
        let answer: CommitAnswer = self
            .http
            .send_json(request, replay, "commit answer")
            .await?;
        let mut update_times = Vec::with_capacity(answer.write_results.len());
        let mut transform_results = Vec::with_capacity(answer.write_results.len());
        for result in answer.write_results {
            update_times.push(result.update_time);
            transform_results.push(result.transform_results);
        }
        Ok(CommitResult {
            commit_time: answer.commit_time,
            update_times,
            transform_results,
        })
    }

    /// Runs `query` over the collection under `parent_path` (`""` for top-level collections,
    /// `users/{uid}` for a user's). Items without a document (the lone `{readTime}` of an
    /// empty result) are skipped.
    pub async fn run_query(
        &self,
        parent_path: &str,
        query: &StructuredQuery,
        token: &SecretString,
    ) -> Result<Vec<Document>, RemoteError> {
        let url = self.url(parent_path, Some("runQuery"), true)?;
        let body = serde_json::json!({ "structuredQuery": query.to_json() });
        let request = self
            .http
            .client()
            .post(url)
            .bearer_auth(token.expose())
            .json(&body);
        let items: Vec<serde_json::Value> = self
            .http
            .send_json(request, Replay::Safe, "query answer")
            .await?;
        let mut documents = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let object = item.as_object().ok_or_else(|| {
                RemoteError::MalformedResponse(format!("query answer: item {i} is not an object"))
            })?;
            if let Some(document) = object.get("document") {
                documents.push(Document::from_json(document)?);
            }
        }
        Ok(documents)
    }

    /// One page of the documents of the collection at `collection_path`.
    pub async fn list(
        &self,
        collection_path: &str,
        page_size: u32,
        page_token: Option<&str>,
        token: &SecretString,
    ) -> Result<ListPage, RemoteError> {
        let mut url = self.url(collection_path, None, false)?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("pageSize", &page_size.to_string());
            if let Some(page_token) = page_token {
                query.append_pair("pageToken", page_token);
            }
        }
        let request = self.http.client().get(url).bearer_auth(token.expose());
        let answer: ListAnswer = self
            .http
            .send_json(request, Replay::Safe, "list answer")
            .await?;
        Ok(ListPage {
            documents: answer.documents,
            next_page_token: answer.next_page_token.filter(|t| !t.is_empty()),
        })
    }

    fn write_to_json(&self, write: &Write) -> Result<serde_json::Value, RemoteError> {
        let mut json = match &write.operation {
            Operation::Update { path, fields } => {
                self.segments(path, false)?;
                serde_json::json!({ "update": { "name": self.document_name(path), "fields": fields_to_json(fields) } })
            }
            Operation::Delete { path } => {
                self.segments(path, false)?;
                serde_json::json!({ "delete": self.document_name(path) })
            }
        };
        if let Some(mask) = &write.update_mask {
            json["updateMask"] = serde_json::json!({ "fieldPaths": mask });
        }
        if !write.server_time_fields.is_empty() {
            let transforms: Vec<serde_json::Value> = write
                .server_time_fields
                .iter()
                .map(|f| serde_json::json!({ "fieldPath": f, "setToServerValue": "REQUEST_TIME" }))
                .collect();
            json["updateTransforms"] = transforms.into();
        }
        if let Some(precondition) = &write.precondition {
            json["currentDocument"] = precondition.to_json();
        }
        Ok(json)
    }

    fn relative<'a>(&self, path: &'a str) -> &'a str {
        let root = self.documents_root();
        let path = path.trim_matches('/');
        match path.strip_prefix(root.as_str()) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => rest.trim_start_matches('/'),
            _ => path,
        }
    }

    fn segments<'a>(&self, path: &'a str, allow_root: bool) -> Result<Vec<&'a str>, RemoteError> {
        let relative = self.relative(path);
        if relative.is_empty() {
            return if allow_root {
                Ok(Vec::new())
            } else {
                Err(RemoteError::InvalidRequest("empty document path".into()))
            };
        }
        let segments: Vec<&str> = relative.split('/').collect();
        if segments
            .iter()
            .any(|s| s.is_empty() || *s == "." || *s == "..")
        {
            return Err(RemoteError::InvalidRequest("invalid document path".into()));
        }
        Ok(segments)
    }

    /// `{base}/v1/projects/{p}/databases/(default)/documents/{path}[:{method}]`.
    fn url(&self, path: &str, method: Option<&str>, allow_root: bool) -> Result<Url, RemoteError> {
        let segments = self.segments(path, allow_root)?;
        let mut url = Url::parse(&self.base).map_err(|_| RemoteError::InvalidUrl)?;
        {
            let mut out = url
                .path_segments_mut()
                .map_err(|_| RemoteError::InvalidUrl)?;
            out.pop_if_empty().extend([
                "v1",
                "projects",
                &self.project_id,
                "databases",
                "(default)",
            ]);
            let mut all = vec!["documents"];
            all.extend(segments);
            let last = all.pop().unwrap_or("documents");
            out.extend(all);
            match method {
                Some(method) => out.push(&format!("{last}:{method}")),
                None => out.push(last),
            };
        }
        Ok(url)
    }
}

/// A document answer (one document of at most 1 MiB, plus JSON overhead).
const MAX_DOCUMENT_ANSWER_BYTES: u64 = 8 * 1024 * 1024;

fn parse_document(body: &[u8]) -> Result<Document, RemoteError> {
    let json: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| RemoteError::bad_json("document", &e))?;
    Document::from_json(&json)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CommitAnswer {
    #[serde(default)]
    write_results: Vec<WriteResultAnswer>,
    commit_time: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WriteResultAnswer {
    #[serde(default)]
    update_time: Option<String>,
    #[serde(default)]
    transform_results: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListAnswer {
    #[serde(default)]
    documents: Vec<Document>,
    #[serde(default)]
    next_page_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::test_server::{fast_http, Canned, TestServer};
    use crate::secret::Secret;
    use proptest::prelude::*;
    use serde_json::json;

    fn decode(json: serde_json::Value) -> Result<Value, RemoteError> {
        Value::from_json(&json)
    }

    #[test]
    fn every_type_encodes_as_firestore_json() {
        let cases = [
            (Value::Null, json!({"nullValue": null})),
            (Value::Boolean(true), json!({"booleanValue": true})),
            (Value::Integer(-5), json!({"integerValue": "-5"})),
            (
                Value::Integer(i64::MAX),
                json!({"integerValue": "9223372036854775807"}),
            ),
            (Value::Double(0.5), json!({"doubleValue": 0.5})),
            (
                Value::Double(f64::INFINITY),
                json!({"doubleValue": "Infinity"}),
            ),
            (
                Value::Double(f64::NEG_INFINITY),
                json!({"doubleValue": "-Infinity"}),
            ),
            (
                Value::Timestamp("2024-05-01T10:00:00.123456Z".into()),
                json!({"timestampValue": "2024-05-01T10:00:00.123456Z"}),
            ),
            (Value::String("fox".into()), json!({"stringValue": "fox"})),
            (Value::Bytes(b"hi!".to_vec()), json!({"bytesValue": "aGkh"})),
            (
                Value::Reference("projects/p/databases/(default)/documents/users/u".into()),
                json!({"referenceValue": "projects/p/databases/(default)/documents/users/u"}),
            ),
            (
                Value::Array(vec![Value::Integer(1)]),
                json!({"arrayValue": {"values": [{"integerValue": "1"}]}}),
            ),
            (
                Value::Map([("a".to_string(), Value::Boolean(false))].into()),
                json!({"mapValue": {"fields": {"a": {"booleanValue": false}}}}),
            ),
        ];
        for (value, encoded) in cases {
            assert_eq!(value.to_json(), encoded);
            assert_eq!(decode(encoded).unwrap(), value);
        }
        assert_eq!(
            Value::Double(f64::NAN).to_json(),
            json!({"doubleValue": "NaN"})
        );
        assert!(
            matches!(decode(json!({"doubleValue": "NaN"})), Ok(Value::Double(d)) if d.is_nan())
        );
    }

    #[test]
    fn lenient_forms_google_also_writes_are_accepted() {
        assert_eq!(
            decode(json!({"integerValue": 7})).unwrap(),
            Value::Integer(7)
        );
        assert_eq!(
            decode(json!({"doubleValue": 1})).unwrap(),
            Value::Double(1.0)
        );
        assert_eq!(
            decode(json!({"nullValue": "NULL_VALUE"})).unwrap(),
            Value::Null
        );
        assert_eq!(
            decode(json!({"arrayValue": {}})).unwrap(),
            Value::Array(vec![])
        );
        assert_eq!(
            decode(json!({"mapValue": {}})).unwrap(),
            Value::Map(BTreeMap::new())
        );
        assert_eq!(
            decode(json!({"bytesValue": "-_8"})).unwrap(),
            Value::Bytes(vec![0xfb, 0xff])
        );
        assert_eq!(
            decode(json!({"timestampValue": "2024-05-01T12:00:00+02:00"}))
                .unwrap()
                .to_json()["timestampValue"],
            "2024-05-01T12:00:00+02:00"
        );
    }

    #[test]
    fn malformed_values_are_typed_errors() {
        let bad = [
            json!(5),
            json!("stringValue"),
            json!({}),
            json!({"stringValue": "a", "integerValue": "1"}),
            json!({"integerValue": "five"}),
            json!({"integerValue": "9223372036854775808"}),
            json!({"integerValue": 1.5}),
            json!({"integerValue": true}),
            json!({"doubleValue": "1.5"}),
            json!({"booleanValue": "true"}),
            json!({"nullValue": 0}),
            json!({"timestampValue": "yesterday"}),
            json!({"bytesValue": "***"}),
            json!({"arrayValue": []}),
            json!({"arrayValue": {"values": {}}}),
            json!({"arrayValue": {"values": [], "extra": 1}}),
            json!({"arrayValue": {"values": [{"integerValue": "x"}]}}),
            json!({"mapValue": {"fields": []}}),
            json!({"mapValue": {"fields": {"a": 1}}}),
            json!({"geoPointValue": {"latitude": 1, "longitude": 2}}),
            json!({"somethingValue": 1}),
        ];
        for json in bad {
            let e = decode(json.clone()).unwrap_err();
            assert_eq!(e.code(), "server.malformed_response", "{json}");
        }
    }

    #[test]
    fn errors_name_the_path_but_not_the_value() {
        let json = json!({"mapValue": {"fields": {"settings": {"arrayValue": {"values": [{"integerValue": "secret-ish"}]}}}}});
        let message = decode(json).unwrap_err().to_string();
        assert!(
            message.contains("mapValue.settings.arrayValue.0.integerValue"),
            "{message}"
        );
        assert!(!message.contains("secret-ish"), "{message}");
    }

    #[test]
    fn absurd_nesting_is_rejected_not_a_stack_overflow() {
        let mut json = json!({"nullValue": null});
        for _ in 0..100 {
            json = json!({"arrayValue": {"values": [json]}});
        }
        assert_eq!(
            decode(json).unwrap_err().code(),
            "server.malformed_response"
        );
    }

    #[test]
    fn documents_decode_with_optional_fields_and_times() {
        let doc = Document::from_json(&json!({
            "name": "projects/demo-cleom/databases/(default)/documents/users/u1/generations/g1",
            "fields": {"prompt": {"stringValue": "a fox"}},
            "createTime": "2024-05-01T10:00:00.000001Z",
            "updateTime": "2024-05-01T10:00:01Z"
        }))
        .unwrap();
        assert_eq!(doc.id(), "g1");
        assert_eq!(doc.fields["prompt"], Value::String("a fox".into()));
        assert_eq!(Document::from_json(&doc.to_json()).unwrap(), doc);
        let empty =
            Document::from_json(&json!({"name": "projects/p/databases/(default)/documents/c/d"}))
                .unwrap();
        assert!(empty.fields.is_empty() && empty.create_time.is_none());
        for bad in [
            json!({}),
            json!({"name": 5}),
            json!({"name": "n", "fields": []}),
            json!({"name": "n", "updateTime": "soon"}),
        ] {
            assert!(Document::from_json(&bad).is_err(), "{bad}");
        }
    }

    fn timestamp() -> impl Strategy<Value = String> {
        (0i64..4_102_444_800, 0u32..1_000_000).prop_map(|(secs, micros)| {
            let t = time::OffsetDateTime::from_unix_timestamp(secs).unwrap()
                + time::Duration::microseconds(micros.into());
            t.format(&time::format_description::well_known::Rfc3339)
                .unwrap()
        })
    }

    /// Every value, with doubles drawn from `double`.
    fn value(double: BoxedStrategy<f64>) -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Boolean),
            any::<i64>().prop_map(Value::Integer),
            double.prop_map(Value::Double),
            timestamp().prop_map(Value::Timestamp),
            ".*".prop_map(Value::String),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
            "[a-z]{1,8}(/[a-z0-9]{1,8}){0,3}".prop_map(Value::Reference),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::btree_map(".{0,12}", inner, 0..6).prop_map(Value::Map),
            ]
        })
    }

    /// Arbitrary JSON, for feeding the decoder garbage.
    fn any_json() -> impl Strategy<Value = serde_json::Value> {
        let keys = prop_oneof![
            Just("nullValue".to_string()),
            Just("integerValue".to_string()),
            Just("doubleValue".to_string()),
            Just("timestampValue".to_string()),
            Just("bytesValue".to_string()),
            Just("arrayValue".to_string()),
            Just("mapValue".to_string()),
            Just("values".to_string()),
            Just("fields".to_string()),
            Just("name".to_string()),
            ".{0,6}",
        ];
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            ".{0,12}".prop_map(serde_json::Value::from),
            Just(serde_json::Value::from("NaN")),
            Just(serde_json::Value::from("2024-01-01T00:00:00Z")),
        ];
        leaf.prop_recursive(5, 64, 5, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::Array),
                proptest::collection::btree_map(keys.clone(), inner, 0..4)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn values_round_trip_through_json(v in value(any::<f64>().boxed())) {
            let json = v.to_json();
            let back = Value::from_json(&json).unwrap();
            // Compared as JSON, where NaN equals NaN.
            prop_assert_eq!(back.to_json(), json);
        }

        #[test]
        fn values_round_trip_through_text(v in value((-1_000_000i64..1_000_000).prop_map(|n| n as f64 / 1024.0).boxed())) {
            let text = serde_json::to_string(&v).unwrap();
            let back: Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(back, v);
        }

        #[test]
        fn the_decoder_never_panics_on_arbitrary_json(json in any_json()) {
            let _ = Value::from_json(&json);
            let _ = Document::from_json(&json);
            let wrapped = serde_json::json!({"name": "n", "fields": {"f": json}});
            let _ = Document::from_json(&wrapped);
        }

        #[test]
        fn the_decoder_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = serde_json::from_slice::<Value>(&bytes);
            let _ = serde_json::from_slice::<Document>(&bytes);
        }

        #[test]
        fn a_type_key_with_a_random_payload_never_panics(key in "[a-z]{0,8}Value", payload in any_json()) {
            let _ = Value::from_json(&serde_json::json!({ key: payload }));
        }
    }

    fn token() -> SecretString {
        Secret::new("owner".to_string())
    }

    async fn client(answers: Vec<Canned>) -> (FirestoreClient, TestServer) {
        let server = TestServer::start(answers).await;
        let endpoints = Endpoints::local(server.base()).unwrap();
        (FirestoreClient::new(fast_http(), &endpoints), server)
    }

    const ROOT: &str = "/v1/projects/demo-cleom/databases/(default)/documents";

    fn doc_json(path: &str) -> String {
        json!({
            "name": format!("projects/demo-cleom/databases/(default)/documents/{path}"),
            "fields": {"email": {"stringValue": "ada@example.com"}},
            "createTime": "2024-05-01T10:00:00Z", "updateTime": "2024-05-01T10:00:00Z"
        })
        .to_string()
    }

    #[tokio::test]
    async fn get_returns_the_document_or_none() {
        let (fs, server) = client(vec![
            Canned::json(200, &doc_json("users/u1")),
            Canned::json(404, r#"{"error":{"code":404,"message":"no entity","status":"NOT_FOUND"}}"#),
            Canned::json(403, r#"{"error":{"code":403,"message":"Missing or insufficient permissions.","status":"PERMISSION_DENIED"}}"#),
        ])
        .await;
        let doc = fs.get("users/u1", &token()).await.unwrap().unwrap();
        assert_eq!(doc.id(), "u1");
        assert_eq!(fs.get("users/u2", &token()).await.unwrap(), None);
        assert_eq!(
            fs.get("users/u3", &token()).await.unwrap_err().code(),
            "permission.denied"
        );
        let requests = server.requests();
        assert_eq!(requests[0].target, format!("{ROOT}/users/u1"));
        assert_eq!(requests[0].header("authorization"), Some("Bearer owner"));
    }

    #[tokio::test]
    async fn patch_sends_mask_and_precondition_as_query_parameters() {
        let (fs, server) = client(vec![Canned::json(200, &doc_json("users/u1"))]).await;
        let fields = [("displayName".to_string(), Value::String("Ada".into()))].into();
        fs.patch(
            "users/u1",
            &fields,
            Some(&["displayName", "analyticsOptIn"]),
            Some(Precondition::Exists(true)),
            &token(),
        )
        .await
        .unwrap();
        let request = &server.requests()[0];
        assert_eq!(request.method, "PATCH");
        assert_eq!(
            request.target,
            format!("{ROOT}/users/u1?updateMask.fieldPaths=displayName&updateMask.fieldPaths=analyticsOptIn&currentDocument.exists=true")
        );
        assert_eq!(
            request.json(),
            json!({"fields": {"displayName": {"stringValue": "Ada"}}})
        );
    }

    #[tokio::test]
    async fn commit_encodes_updates_deletes_transforms_and_preconditions() {
        let answer = r#"{"writeResults":[{"updateTime":"2024-05-01T10:00:00Z","transformResults":[{"timestampValue":"2024-05-01T10:00:00Z"}]},{}],"commitTime":"2024-05-01T10:00:00Z"}"#;
        let (fs, server) = client(vec![Canned::json(200, answer)]).await;
        let fields = [("deleted".to_string(), Value::Boolean(true))].into();
        let writes = vec![
            Write::update("users/u1/generations/g1", fields)
                .mask(["deleted"])
                .server_time("updatedAt")
                .server_time("deletedAt")
                .precondition(Precondition::Exists(true)),
            Write::delete(
                "projects/demo-cleom/databases/(default)/documents/users/u1/purchases/p1",
            ),
        ];
        let result = fs.commit(writes, &token()).await.unwrap();
        assert_eq!(result.commit_time, "2024-05-01T10:00:00Z");
        assert_eq!(
            result.update_times,
            vec![Some("2024-05-01T10:00:00Z".to_string()), None]
        );
        assert_eq!(
            result.transform_results,
            vec![
                vec![Value::Timestamp("2024-05-01T10:00:00Z".into())],
                Vec::new()
            ]
        );
        let request = &server.requests()[0];
        assert_eq!(request.target, format!("{ROOT}:commit"));
        let name = "projects/demo-cleom/databases/(default)/documents/users/u1";
        assert_eq!(
            request.json(),
            json!({"writes": [
                {
                    "update": {"name": format!("{name}/generations/g1"), "fields": {"deleted": {"booleanValue": true}}},
                    "updateMask": {"fieldPaths": ["deleted"]},
                    "updateTransforms": [
                        {"fieldPath": "updatedAt", "setToServerValue": "REQUEST_TIME"},
                        {"fieldPath": "deletedAt", "setToServerValue": "REQUEST_TIME"}
                    ],
                    "currentDocument": {"exists": true}
                },
                {"delete": format!("{name}/purchases/p1")}
            ]})
        );
    }

    #[tokio::test]
    async fn commit_refuses_too_many_writes_and_bad_paths_before_sending() {
        let (fs, server) = client(vec![]).await;
        let writes = (0..=MAX_COMMIT_WRITES)
            .map(|i| Write::delete(format!("c/{i}")))
            .collect();
        assert_eq!(
            fs.commit(writes, &token()).await.unwrap_err().code(),
            "request.invalid"
        );
        assert_eq!(
            fs.commit(vec![Write::delete("users//x")], &token())
                .await
                .unwrap_err()
                .code(),
            "request.invalid"
        );
        assert_eq!(
            fs.get("users/../admin", &token()).await.unwrap_err().code(),
            "request.invalid"
        );
        assert_eq!(
            fs.delete("", &token()).await.unwrap_err().code(),
            "request.invalid"
        );
        assert!(server.requests().is_empty());
    }

    #[test]
    fn queries_build_the_structured_query_json() {
        let cursor = Value::Timestamp("2024-05-01T10:00:00Z".into());
        let name = Value::Reference(
            "projects/demo-cleom/databases/(default)/documents/users/u1/generations/g9".into(),
        );
        let query = StructuredQuery::from("generations")
            .filter("updatedAt", FieldOp::GreaterThanOrEqual, cursor.clone())
            .filter("deleted", FieldOp::Equal, Value::Boolean(false))
            .order_by("updatedAt", Direction::Ascending)
            .order_by(DOCUMENT_NAME_FIELD, Direction::Ascending)
            .start_at(vec![cursor, name], false)
            .limit(500);
        assert_eq!(
            query.to_json(),
            json!({
                "from": [{"collectionId": "generations"}],
                "where": {"compositeFilter": {"op": "AND", "filters": [
                    {"fieldFilter": {"field": {"fieldPath": "updatedAt"}, "op": "GREATER_THAN_OR_EQUAL", "value": {"timestampValue": "2024-05-01T10:00:00Z"}}},
                    {"fieldFilter": {"field": {"fieldPath": "deleted"}, "op": "EQUAL", "value": {"booleanValue": false}}}
                ]}},
                "orderBy": [
                    {"field": {"fieldPath": "updatedAt"}, "direction": "ASCENDING"},
                    {"field": {"fieldPath": "__name__"}, "direction": "ASCENDING"}
                ],
                "startAt": {"values": [
                    {"timestampValue": "2024-05-01T10:00:00Z"},
                    {"referenceValue": "projects/demo-cleom/databases/(default)/documents/users/u1/generations/g9"}
                ], "before": false},
                "limit": 500
            })
        );
        let single = StructuredQuery::from("creditLedger").filter(
            "amount",
            FieldOp::LessThan,
            Value::Integer(0),
        );
        assert_eq!(
            single.to_json()["where"],
            json!({"fieldFilter": {"field": {"fieldPath": "amount"}, "op": "LESS_THAN", "value": {"integerValue": "0"}}})
        );
        assert_eq!(
            StructuredQuery::from("x")
                .order_by("a", Direction::Descending)
                .to_json()["orderBy"][0]["direction"],
            "DESCENDING"
        );
    }

    #[tokio::test]
    async fn run_query_skips_items_without_a_document() {
        let items = format!(
            r#"[{{"document":{},"readTime":"2024-05-01T10:00:00Z"}},{{"document":{},"readTime":"2024-05-01T10:00:00Z"}}]"#,
            doc_json("users/u1/generations/a"),
            doc_json("users/u1/generations/b")
        );
        let (fs, server) = client(vec![
            Canned::json(200, &items),
            Canned::json(200, r#"[{"readTime":"2024-05-01T10:00:00Z"}]"#),
            Canned::json(200, r#"[5]"#),
            Canned::json(200, r#"{"not":"an array"}"#),
        ])
        .await;
        let query = StructuredQuery::from("generations").limit(2);
        let docs = fs.run_query("users/u1", &query, &token()).await.unwrap();
        assert_eq!(
            docs.iter().map(Document::id).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(fs
            .run_query("users/u1", &query, &token())
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            fs.run_query("users/u1", &query, &token())
                .await
                .unwrap_err()
                .code(),
            "server.malformed_response"
        );
        assert_eq!(
            fs.run_query("", &query, &token()).await.unwrap_err().code(),
            "server.malformed_response"
        );
        let requests = server.requests();
        assert_eq!(requests[0].target, format!("{ROOT}/users/u1:runQuery"));
        assert_eq!(requests[0].json()["structuredQuery"]["limit"], 2);
        assert_eq!(requests[3].target, format!("{ROOT}:runQuery"));
    }

    #[tokio::test]
    async fn list_pages_through_a_collection() {
        let page = format!(
            r#"{{"documents":[{}],"nextPageToken":"next-1"}}"#,
            doc_json("users/u1/purchases/p1")
        );
        let (fs, server) = client(vec![Canned::json(200, &page), Canned::json(200, "{}")]).await;
        let first = fs
            .list("users/u1/purchases", 1, None, &token())
            .await
            .unwrap();
        assert_eq!(first.documents.len(), 1);
        assert_eq!(first.next_page_token.as_deref(), Some("next-1"));
        let last = fs
            .list(
                "users/u1/purchases",
                1,
                first.next_page_token.as_deref(),
                &token(),
            )
            .await
            .unwrap();
        assert_eq!(
            last,
            ListPage {
                documents: vec![],
                next_page_token: None
            }
        );
        let requests = server.requests();
        assert_eq!(
            requests[0].target,
            format!("{ROOT}/users/u1/purchases?pageSize=1")
        );
        assert_eq!(
            requests[1].target,
            format!("{ROOT}/users/u1/purchases?pageSize=1&pageToken=next-1")
        );
    }

    #[tokio::test]
    async fn delete_sends_a_delete() {
        let (fs, server) = client(vec![Canned::json(200, "{}")]).await;
        fs.delete("users/u1/generations/g 1", &token())
            .await
            .unwrap();
        let request = &server.requests()[0];
        assert_eq!(request.method, "DELETE");
        assert_eq!(request.target, format!("{ROOT}/users/u1/generations/g%201"));
    }

    #[test]
    fn document_names_accept_relative_and_full_paths() {
        let endpoints = Endpoints::local("http://127.0.0.1:1").unwrap();
        let fs = FirestoreClient::new(fast_http(), &endpoints);
        let full = "projects/demo-cleom/databases/(default)/documents/users/u1";
        assert_eq!(fs.document_name("users/u1"), full);
        assert_eq!(fs.document_name(full), full);
        assert_eq!(fs.document_name("/users/u1/"), full);
        assert_eq!(
            fs.documents_root(),
            "projects/demo-cleom/databases/(default)/documents"
        );
    }
}
