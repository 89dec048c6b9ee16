//! The Firestore REST v1 subset the app uses, at Firestore's own paths
//! (`/v1/projects/{p}/databases/(default)/documents/…`) and in its JSON shapes, so the same
//! client code runs against this backend, Google's emulator and production.
//!
//! Every write — a `PATCH`, a `DELETE` or a `:commit` of several — is applied in one SQLite
//! transaction with one request time, after the security rules in [`rules`] have approved each
//! document change.

pub(crate) mod query;
pub(crate) mod rules;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json as JsonResponse;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value as Json};

use self::query::Query;
use self::rules::Caller;
use crate::auth::{self, BearerError, Principal};
use crate::db::{StoredDoc, Tx};
use crate::error::StoreError;
use crate::value::{
    fields_from_json, fields_to_json, project, FieldPath, Fields, Timestamp, Value,
};
use crate::AppState;

/// An error in Firestore's shape: `{"error": {"code": 403, "message": …, "status": …}}`.
#[derive(Debug)]
pub(crate) struct FirestoreError {
    http: StatusCode,
    status: &'static str,
    message: String,
}

impl FirestoreError {
    fn new(http: StatusCode, status: &'static str, message: impl Into<String>) -> FirestoreError {
        FirestoreError {
            http,
            status,
            message: message.into(),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> FirestoreError {
        FirestoreError::new(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message)
    }

    fn denied() -> FirestoreError {
        FirestoreError::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "Missing or insufficient permissions.",
        )
    }

    fn not_found(message: impl Into<String>) -> FirestoreError {
        FirestoreError::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }

    fn unauthenticated(message: impl Into<String>) -> FirestoreError {
        FirestoreError::new(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message)
    }
}

impl From<StoreError> for FirestoreError {
    fn from(error: StoreError) -> FirestoreError {
        tracing::error!(%error, "firestore request failed");
        FirestoreError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "internal error",
        )
    }
}

impl IntoResponse for FirestoreError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.http.as_u16(), "message": self.message, "status": self.status } });
        (self.http, JsonResponse(body)).into_response()
    }
}

/// The request's caller, from its `Authorization` header. No header means an anonymous caller
/// (whom the rules deny everything); a bad or expired token is a 401.
async fn caller(app: &AppState, headers: &HeaderMap) -> Result<Caller, FirestoreError> {
    match auth::principal(&app.store, &app.admin_tokens, headers).await {
        Ok(None) => Ok(Caller::Anonymous),
        Ok(Some(Principal::Admin)) => Ok(Caller::Admin),
        Ok(Some(Principal::User(uid))) => Ok(Caller::User(uid)),
        Err(BearerError::Expired) => {
            Err(FirestoreError::unauthenticated("The ID token has expired."))
        }
        Err(BearerError::Invalid) => Err(FirestoreError::unauthenticated(
            "Request had invalid authentication credentials. Expected a valid ID token.",
        )),
        Err(BearerError::Store(e)) => Err(e.into()),
    }
}

/// Parsed query-string parameters Firestore's REST API uses.
#[derive(Default)]
struct Params {
    update_mask: Option<Vec<FieldPath>>,
    read_mask: Option<Vec<FieldPath>>,
    precondition: Precondition,
}

fn parse_params(raw: Option<&str>) -> Result<Params, FirestoreError> {
    let mut params = Params::default();
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let path = || FieldPath::parse(&value).map_err(|e| FirestoreError::invalid(e.0));
        match key.as_ref() {
            "updateMask.fieldPaths" => params
                .update_mask
                .get_or_insert_with(Vec::new)
                .push(path()?),
            "mask.fieldPaths" => params.read_mask.get_or_insert_with(Vec::new).push(path()?),
            "currentDocument.exists" => {
                params.precondition.exists = Some(match value.as_ref() {
                    "true" => true,
                    "false" => false,
                    other => {
                        return Err(FirestoreError::invalid(format!(
                            "invalid currentDocument.exists {other:?}"
                        )))
                    }
                })
            }
            "currentDocument.updateTime" => {
                params.precondition.update_time =
                    Some(Timestamp::parse(&value).ok_or_else(|| {
                        FirestoreError::invalid("invalid currentDocument.updateTime")
                    })?)
            }
            _ => {} // `key` (the API key) and anything else is ignored.
        }
    }
    Ok(params)
}

/// A relative document path (`users/u`, `users/u/generations/g`) must have an even number of
/// non-empty segments.
fn check_document_path(path: &str) -> Result<(), FirestoreError> {
    let segments: Vec<&str> = path.split('/').collect();
    let well_formed = segments.len().is_multiple_of(2)
        && segments
            .iter()
            .all(|s| !s.is_empty() && *s != "." && *s != "..")
        && segments.len() <= 200;
    if well_formed {
        Ok(())
    } else {
        Err(FirestoreError::invalid(format!(
            "{path:?} is not a valid document path"
        )))
    }
}

/// A relative collection path (`users`, `users/u/generations`): an odd number of non-empty
/// segments.
fn check_collection_path(path: &str) -> Result<(), FirestoreError> {
    match path.rsplit_once('/') {
        None => check_collection_id(path),
        Some((parent, collection_id)) => {
            check_document_path(parent)?;
            check_collection_id(collection_id)
        }
    }
}

fn check_collection_id(id: &str) -> Result<(), FirestoreError> {
    if id.is_empty() || id == "." || id == ".." {
        Err(FirestoreError::invalid(format!(
            "{id:?} is not a valid collection id"
        )))
    } else {
        Ok(())
    }
}

/// Page size of a list request without one.
const DEFAULT_PAGE_SIZE: usize = 100;
/// The largest page a list request gets.
const MAX_PAGE_SIZE: usize = 1000;

/// `pageSize` and `pageToken` of a list request.
struct Page {
    size: usize,
    /// The path of the last document of the previous page.
    after: Option<String>,
}

fn parse_page(raw: Option<&str>) -> Result<Page, FirestoreError> {
    let mut page = Page {
        size: DEFAULT_PAGE_SIZE,
        after: None,
    };
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        match key.as_ref() {
            "pageSize" => {
                let size: usize = value
                    .parse()
                    .map_err(|_| FirestoreError::invalid("pageSize must be a number"))?;
                page.size = if size == 0 {
                    DEFAULT_PAGE_SIZE
                } else {
                    size.min(MAX_PAGE_SIZE)
                };
            }
            "pageToken" if !value.is_empty() => {
                let after = URL_SAFE_NO_PAD
                    .decode(value.as_bytes())
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .ok_or_else(|| FirestoreError::invalid("invalid pageToken"))?;
                page.after = Some(after);
            }
            _ => {}
        }
    }
    Ok(page)
}

/// `GET …/documents/{collection path}`: a page of the collection's documents in name order,
/// with a `nextPageToken` while there are more.
async fn list_documents(
    app: &AppState,
    caller: Caller,
    prefix: String,
    collection_path: String,
    page: Page,
    mask: Option<Vec<FieldPath>>,
) -> Result<Json, FirestoreError> {
    if !rules::can_read(&caller, &collection_path) {
        return Err(FirestoreError::denied());
    }
    let (parent, collection_id) = match collection_path.rsplit_once('/') {
        Some((parent, id)) => (parent.to_string(), id.to_string()),
        None => (String::new(), collection_path.clone()),
    };
    if page
        .after
        .as_deref()
        .is_some_and(|after| !after.starts_with(&format!("{collection_path}/")))
    {
        return Err(FirestoreError::invalid(
            "the pageToken is from another list",
        ));
    }
    app.store
        .run(move |db| {
            let mut docs = crate::db::list_collection(
                db.conn(),
                &parent,
                &collection_id,
                page.after.as_deref(),
                page.size + 1,
            )?;
            let more = docs.len() > page.size;
            docs.truncate(page.size);
            let mut out = json!({});
            if !docs.is_empty() {
                out["documents"] = Json::Array(
                    docs.iter()
                        .map(|doc| document_json(&prefix, doc, mask.as_deref()))
                        .collect(),
                );
            }
            if let (true, Some(last)) = (more, docs.last()) {
                out["nextPageToken"] = Json::String(URL_SAFE_NO_PAD.encode(last.path.as_bytes()));
            }
            Ok(out)
        })
        .await
}

fn document_json(prefix: &str, doc: &StoredDoc, mask: Option<&[FieldPath]>) -> Json {
    let fields = match mask {
        Some(paths) => project(&doc.fields, paths),
        None => doc.fields.clone(),
    };
    let mut out = json!({
        "name": format!("{prefix}{}", doc.path),
        "createTime": doc.create_time.to_rfc3339(),
        "updateTime": doc.update_time.to_rfc3339(),
    });
    if !fields.is_empty() {
        out["fields"] = fields_to_json(&fields);
    }
    out
}

fn parse_body(body: &Bytes) -> Result<Json, FirestoreError> {
    let json: Json = serde_json::from_slice(body)
        .map_err(|e| FirestoreError::invalid(format!("Invalid JSON payload received. {e}")))?;
    if json.is_object() {
        Ok(json)
    } else {
        Err(FirestoreError::invalid(
            "Invalid JSON payload received. Expected an object.",
        ))
    }
}

/// Every `/v1/projects/{project}/databases/{database}/…` request.
pub(crate) async fn handle(
    State(app): State<AppState>,
    Path((project, database, rest)): Path<(String, String, String)>,
    method: Method,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match route(
        app,
        &project,
        &database,
        &rest,
        method,
        raw_query.as_deref(),
        &headers,
        body,
    )
    .await
    {
        Ok(json) => JsonResponse(json).into_response(),
        Err(error) => error.into_response(),
    }
}

#[allow(clippy::too_many_arguments)]
async fn route(
    app: AppState,
    project: &str,
    database: &str,
    rest: &str,
    method: Method,
    raw_query: Option<&str>,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Json, FirestoreError> {
    if database != "(default)" {
        return Err(FirestoreError::not_found(format!(
            "The database {database} does not exist."
        )));
    }
    let prefix = format!("projects/{project}/databases/{database}/documents/");
    let caller = caller(&app, headers).await?;
    let params = parse_params(raw_query)?;
    if method == Method::POST {
        return route_post(&app, caller, prefix, rest, &body).await;
    }
    let Some(path) = rest.strip_prefix("documents/") else {
        return Err(FirestoreError::not_found("Unknown method."));
    };
    if method == Method::GET && check_collection_path(path).is_ok() {
        let page = parse_page(raw_query)?;
        return list_documents(
            &app,
            caller,
            prefix,
            path.to_string(),
            page,
            params.read_mask,
        )
        .await;
    }
    check_document_path(path)?;
    let path = path.to_string();
    match method {
        Method::GET => get_document(&app, caller, prefix, path, params.read_mask).await,
        Method::PATCH => {
            let document = parse_body(&body)?;
            patch_document(&app, caller, prefix, path, params, document).await
        }
        Method::DELETE => delete_document(&app, caller, prefix, path, params.precondition).await,
        _ => Err(FirestoreError::not_found("Unknown method.")),
    }
}

/// `POST …/documents:commit` and `POST …/documents[/{document path}]:runQuery`.
async fn route_post(
    app: &AppState,
    caller: Caller,
    prefix: String,
    rest: &str,
    body: &Bytes,
) -> Result<Json, FirestoreError> {
    if rest == "documents:commit" {
        return commit(app, caller, prefix, parse_body(body)?).await;
    }
    let Some(parent) = rest.strip_suffix(":runQuery") else {
        return Err(FirestoreError::not_found("Unknown method."));
    };
    let parent = query_parent(parent)?;
    run_query(app, caller, prefix, parent, parse_body(body)?).await
}

/// The relative path of the document a `:runQuery` runs under: "" for `documents` (the root),
/// `{path}` for `documents/{path}`.
fn query_parent(parent: &str) -> Result<String, FirestoreError> {
    match parent {
        "documents" => Ok(String::new()),
        other => match other.strip_prefix("documents/") {
            Some(path) => {
                check_document_path(path)?;
                Ok(path.to_string())
            }
            None => Err(FirestoreError::not_found("Unknown method.")),
        },
    }
}

/// `PATCH …/documents/{path}`: sets the document (or the fields in `updateMask`) and answers it
/// as written (or the fields in `mask`).
async fn patch_document(
    app: &AppState,
    caller: Caller,
    prefix: String,
    path: String,
    params: Params,
    document: Json,
) -> Result<Json, FirestoreError> {
    let write = Write {
        path: path.clone(),
        kind: WriteKind::Update {
            fields: parse_fields(document.get("fields"))?,
            mask: params.update_mask,
        },
        transforms: Vec::new(),
        precondition: params.precondition,
    };
    let read_mask = params.read_mask;
    app.store
        .run(move |db| {
            db.write(|tx| {
                apply_writes(tx, &caller, &prefix, vec![write])?;
                let doc = tx
                    .get(&path)?
                    .ok_or_else(|| FirestoreError::not_found("document vanished"))?;
                Ok(document_json(&prefix, &doc, read_mask.as_deref()))
            })
        })
        .await
}

/// `DELETE …/documents/{path}`.
async fn delete_document(
    app: &AppState,
    caller: Caller,
    prefix: String,
    path: String,
    precondition: Precondition,
) -> Result<Json, FirestoreError> {
    let write = Write {
        path,
        kind: WriteKind::Delete,
        transforms: Vec::new(),
        precondition,
    };
    app.store
        .run(move |db| db.write(|tx| apply_writes(tx, &caller, &prefix, vec![write])))
        .await?;
    Ok(json!({}))
}

async fn get_document(
    app: &AppState,
    caller: Caller,
    prefix: String,
    path: String,
    mask: Option<Vec<FieldPath>>,
) -> Result<Json, FirestoreError> {
    if !rules::can_read(&caller, &path) {
        return Err(FirestoreError::denied());
    }
    app.store
        .run(move |db| {
            let doc = crate::db::get_doc(db.conn(), &path)?.ok_or_else(|| {
                FirestoreError::not_found(format!("Document \"{prefix}{path}\" not found."))
            })?;
            Ok(document_json(&prefix, &doc, mask.as_deref()))
        })
        .await
}

async fn run_query(
    app: &AppState,
    caller: Caller,
    prefix: String,
    parent: String,
    body: Json,
) -> Result<Json, FirestoreError> {
    let structured = body
        .get("structuredQuery")
        .ok_or_else(|| FirestoreError::invalid("runQuery needs a structuredQuery"))?;
    let query = Query::parse(structured).map_err(|e| FirestoreError::invalid(e.0))?;
    let collection_path = if parent.is_empty() {
        query.collection_id.clone()
    } else {
        format!("{parent}/{}", query.collection_id)
    };
    if !rules::can_read(&caller, &collection_path) {
        return Err(FirestoreError::denied());
    }
    app.store
        .run(move |db| {
            let docs = query.execute(db.conn(), &parent, &prefix)?;
            let read_time = Timestamp::now().to_rfc3339();
            if docs.is_empty() {
                return Ok(json!([{ "readTime": read_time }]));
            }
            let items: Vec<Json> = docs
                .iter()
                .map(|doc| {
                    json!({
                        "document": document_json(&prefix, doc, query.projection.as_deref()),
                        "readTime": read_time,
                    })
                })
                .collect();
            Ok(Json::Array(items))
        })
        .await
}

async fn commit(
    app: &AppState,
    caller: Caller,
    prefix: String,
    body: Json,
) -> Result<Json, FirestoreError> {
    let writes = match body.get("writes") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(items)) => items
            .iter()
            .map(|w| parse_write(w, &prefix))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(FirestoreError::invalid("writes must be an array")),
    };
    if writes.len() > 500 {
        return Err(FirestoreError::invalid(
            "A commit can contain at most 500 writes.",
        ));
    }
    app.store
        .run(move |db| {
            db.write(|tx| {
                let results = apply_writes(tx, &caller, &prefix, writes)?;
                Ok(json!({ "writeResults": results, "commitTime": tx.now.to_rfc3339() }))
            })
        })
        .await
}

#[derive(Debug, Default, Clone)]
struct Precondition {
    exists: Option<bool>,
    update_time: Option<Timestamp>,
}

#[derive(Debug)]
enum WriteKind {
    /// Set the document (`mask: None`) or only the masked fields.
    Update {
        fields: Fields,
        mask: Option<Vec<FieldPath>>,
    },
    Delete,
    /// Only field transforms (the older `transform` write).
    Transform,
}

#[derive(Debug)]
enum TransformOp {
    RequestTime,
    Increment(Value),
}

#[derive(Debug)]
struct Write {
    path: String,
    kind: WriteKind,
    transforms: Vec<(FieldPath, TransformOp)>,
    precondition: Precondition,
}

fn relative_path(name: &str, prefix: &str) -> Result<String, FirestoreError> {
    let path = name.strip_prefix(prefix).ok_or_else(|| {
        FirestoreError::invalid(format!("{name:?} is not a document of this database"))
    })?;
    check_document_path(path)?;
    Ok(path.to_string())
}

fn parse_transforms(json: Option<&Json>) -> Result<Vec<(FieldPath, TransformOp)>, FirestoreError> {
    let items = match json {
        None | Some(Json::Null) => return Ok(Vec::new()),
        Some(Json::Array(items)) => items,
        Some(_) => return Err(FirestoreError::invalid("field transforms must be an array")),
    };
    items
        .iter()
        .map(|item| {
            let path = item
                .get("fieldPath")
                .and_then(Json::as_str)
                .ok_or_else(|| FirestoreError::invalid("a field transform needs a fieldPath"))?;
            let path = FieldPath::parse(path).map_err(|e| FirestoreError::invalid(e.0))?;
            let op = if let Some(server_value) = item.get("setToServerValue") {
                if server_value != "REQUEST_TIME" {
                    return Err(FirestoreError::invalid(format!(
                        "unsupported server value {server_value}"
                    )));
                }
                TransformOp::RequestTime
            } else if let Some(operand) = item.get("increment") {
                let operand =
                    Value::from_json(operand).map_err(|e| FirestoreError::invalid(e.0))?;
                if !matches!(operand, Value::Integer(_) | Value::Double(_)) {
                    return Err(FirestoreError::invalid("increment needs a number"));
                }
                TransformOp::Increment(operand)
            } else {
                return Err(FirestoreError::invalid("unsupported field transform"));
            };
            Ok((path, op))
        })
        .collect()
}

/// A document's `fields`; absent or null means none.
fn parse_fields(json: Option<&Json>) -> Result<Fields, FirestoreError> {
    match json {
        None | Some(Json::Null) => Ok(Fields::new()),
        Some(fields) => fields_from_json(fields).map_err(|e| FirestoreError::invalid(e.0)),
    }
}

/// A write's `currentDocument`.
fn parse_precondition(json: Option<&Json>) -> Result<Precondition, FirestoreError> {
    let current = match json {
        None | Some(Json::Null) => return Ok(Precondition::default()),
        Some(current) => current,
    };
    Ok(Precondition {
        exists: match current.get("exists") {
            None => None,
            Some(Json::Bool(b)) => Some(*b),
            Some(_) => {
                return Err(FirestoreError::invalid(
                    "currentDocument.exists must be a boolean",
                ))
            }
        },
        update_time: match current.get("updateTime") {
            None => None,
            Some(t) => Some(
                t.as_str()
                    .and_then(Timestamp::parse)
                    .ok_or_else(|| FirestoreError::invalid("invalid currentDocument.updateTime"))?,
            ),
        },
    })
}

/// An update's `updateMask`: `None` sets the whole document.
fn parse_update_mask(json: Option<&Json>) -> Result<Option<Vec<FieldPath>>, FirestoreError> {
    let mask = match json {
        None | Some(Json::Null) => return Ok(None),
        Some(mask) => mask,
    };
    let paths = match mask.get("fieldPaths") {
        None => Vec::new(),
        Some(Json::Array(paths)) => paths.clone(),
        Some(_) => {
            return Err(FirestoreError::invalid(
                "updateMask.fieldPaths must be an array",
            ))
        }
    };
    let paths = paths
        .iter()
        .map(|p| {
            p.as_str()
                .ok_or_else(|| FirestoreError::invalid("a field path must be a string"))
                .and_then(|p| FieldPath::parse(p).map_err(|e| FirestoreError::invalid(e.0)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(paths))
}

fn parse_write(json: &Json, prefix: &str) -> Result<Write, FirestoreError> {
    let precondition = parse_precondition(json.get("currentDocument"))?;
    if let Some(update) = json.get("update") {
        let name = update
            .get("name")
            .and_then(Json::as_str)
            .ok_or_else(|| FirestoreError::invalid("an update needs the document name"))?;
        let fields = parse_fields(update.get("fields"))?;
        let mask = parse_update_mask(json.get("updateMask"))?;
        return Ok(Write {
            path: relative_path(name, prefix)?,
            kind: WriteKind::Update { fields, mask },
            transforms: parse_transforms(json.get("updateTransforms"))?,
            precondition,
        });
    }
    if let Some(name) = json.get("delete") {
        let name = name
            .as_str()
            .ok_or_else(|| FirestoreError::invalid("delete needs a document name"))?;
        return Ok(Write {
            path: relative_path(name, prefix)?,
            kind: WriteKind::Delete,
            transforms: Vec::new(),
            precondition,
        });
    }
    if let Some(transform) = json.get("transform") {
        let name = transform
            .get("document")
            .and_then(Json::as_str)
            .ok_or_else(|| FirestoreError::invalid("a transform needs a document name"))?;
        return Ok(Write {
            path: relative_path(name, prefix)?,
            kind: WriteKind::Transform,
            transforms: parse_transforms(transform.get("fieldTransforms"))?,
            precondition,
        });
    }
    Err(FirestoreError::invalid(
        "a write must be an update, a delete or a transform",
    ))
}

fn apply_increment(current: Option<&Value>, operand: &Value) -> Value {
    match (current, operand) {
        (Some(Value::Integer(a)), Value::Integer(b)) => Value::Integer(a.saturating_add(*b)),
        (Some(Value::Integer(a)), Value::Double(b)) => Value::Double(*a as f64 + b),
        (Some(Value::Double(a)), Value::Integer(b)) => Value::Double(a + *b as f64),
        (Some(Value::Double(a)), Value::Double(b)) => Value::Double(a + b),
        (_, operand) => operand.clone(),
    }
}

/// Applies writes in order inside `tx`, checking each one's precondition and the rules;
/// answers the `writeResults`. Any failure fails them all (the transaction rolls back).
fn apply_writes(
    tx: &Tx<'_>,
    caller: &Caller,
    prefix: &str,
    writes: Vec<Write>,
) -> Result<Vec<Json>, FirestoreError> {
    // The `email` claim of the caller's ID token, which the rules compare a profile email with.
    let auth_email = match caller {
        Caller::User(uid) => auth::email_of(tx.conn, uid)?,
        Caller::Admin | Caller::Anonymous => None,
    };
    writes
        .into_iter()
        .map(|write| apply_write(tx, caller, prefix, auth_email.as_deref(), write))
        .collect()
}

/// Applies one write inside `tx` if its precondition holds and the rules allow it; answers its
/// write result.
fn apply_write(
    tx: &Tx<'_>,
    caller: &Caller,
    prefix: &str,
    auth_email: Option<&str>,
    write: Write,
) -> Result<Json, FirestoreError> {
    if !rules::may_write_path(caller, &write.path) {
        return Err(FirestoreError::denied());
    }
    let name = format!("{prefix}{}", write.path);
    let before = tx.get(&write.path)?;
    check_precondition(&write.precondition, before.as_ref(), &name)?;
    let before_fields = before.as_ref().map(|d| &d.fields);
    let mut after = fields_after(write.kind, before_fields);
    let transform_results = match after.as_mut() {
        Some(fields) => apply_transforms(fields, &write.transforms, tx.now),
        None => Vec::new(),
    };
    if !rules::can_write(
        caller,
        &write.path,
        before_fields,
        after.as_ref(),
        tx.now,
        auth_email,
    ) {
        return Err(FirestoreError::denied());
    }
    match after {
        Some(fields) => {
            tx.set(&write.path, &fields)?;
            let mut result = json!({ "updateTime": tx.now.to_rfc3339() });
            if !transform_results.is_empty() {
                result["transformResults"] = Json::Array(transform_results);
            }
            Ok(result)
        }
        None => {
            tx.delete(&write.path)?;
            Ok(json!({}))
        }
    }
}

/// Whether the document named `name`, as it is now (`before`), meets a write's precondition.
fn check_precondition(
    precondition: &Precondition,
    before: Option<&StoredDoc>,
    name: &str,
) -> Result<(), FirestoreError> {
    if let Some(must_exist) = precondition.exists {
        match (must_exist, before) {
            (true, None) => {
                return Err(FirestoreError::not_found(format!(
                    "No document to update: {name}"
                )))
            }
            (false, Some(_)) => {
                return Err(FirestoreError::new(
                    StatusCode::CONFLICT,
                    "ALREADY_EXISTS",
                    format!("Document already exists: {name}"),
                ))
            }
            _ => {}
        }
    }
    if let Some(required) = precondition.update_time {
        if before.map(|d| d.update_time) != Some(required) {
            return Err(FirestoreError::new(
                StatusCode::BAD_REQUEST,
                "FAILED_PRECONDITION",
                format!(
                    "The document {name} was updated since {}.",
                    required.to_rfc3339()
                ),
            ));
        }
    }
    Ok(())
}

/// A document's fields after a write of `kind`, before its field transforms, given its fields
/// `before` (`None`: it does not exist). `None`: the write deletes it.
fn fields_after(kind: WriteKind, before: Option<&Fields>) -> Option<Fields> {
    match kind {
        WriteKind::Delete => None,
        WriteKind::Update { fields, mask: None } => Some(fields),
        WriteKind::Update {
            fields,
            mask: Some(mask),
        } => {
            let mut merged = before.cloned().unwrap_or_default();
            for path in &mask {
                match path.get(&fields) {
                    Some(value) => path.set(&mut merged, value.clone()),
                    None => path.remove(&mut merged),
                }
            }
            Some(merged)
        }
        WriteKind::Transform => Some(before.cloned().unwrap_or_default()),
    }
}

/// Applies field transforms in order, `now` being the request time; answers their
/// `transformResults`.
fn apply_transforms(
    fields: &mut Fields,
    transforms: &[(FieldPath, TransformOp)],
    now: Timestamp,
) -> Vec<Json> {
    let mut results = Vec::with_capacity(transforms.len());
    for (path, op) in transforms {
        let value = match op {
            TransformOp::RequestTime => Value::Timestamp(now),
            TransformOp::Increment(operand) => apply_increment(path.get(fields), operand),
        };
        results.push(value.to_json());
        path.set(fields, value);
    }
    results
}
