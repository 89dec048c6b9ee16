//! `runQuery`: a `structuredQuery` parsed, then evaluated in Rust over the documents of one
//! collection, with Firestore's semantics where they matter for sync — documents missing an
//! ordered field are left out, inequality filters match only values of the same kind, ordering
//! always ends with `__name__` (in the last ordering's direction), and cursors position by the
//! ordered values.
//!
//! Incremental sync (`where updatedAt >= cursor order by updatedAt, __name__ limit n`) is the hot
//! query, so when a query has a lower bound on a timestamp `updatedAt` and is ordered by it, the
//! scan reads documents in `updatedAt` order from the index and stops once the page is full.

use std::cmp::Ordering;
use std::ops::ControlFlow;

use rusqlite::Connection;
use serde::Deserialize;
use serde_json::Value as Json;

use crate::db::{scan_collection, Scan, StoredDoc};
use crate::error::StoreError;
use crate::value::{FieldPath, Timestamp, Value};

/// A query that is not valid (→ 400 INVALID_ARGUMENT).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct InvalidQuery(pub(crate) String);

fn invalid(message: impl Into<String>) -> InvalidQuery {
    InvalidQuery(message.into())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireQuery {
    #[serde(default)]
    select: Option<WireProjection>,
    #[serde(default)]
    from: Vec<WireCollection>,
    #[serde(default, rename = "where")]
    filter: Option<WireFilter>,
    #[serde(default)]
    order_by: Vec<WireOrder>,
    #[serde(default)]
    start_at: Option<WireCursor>,
    #[serde(default)]
    end_at: Option<WireCursor>,
    #[serde(default)]
    offset: Option<i64>,
    #[serde(default)]
    limit: Option<WireLimit>,
}

#[derive(Deserialize)]
struct WireProjection {
    #[serde(default)]
    fields: Vec<WireFieldRef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireFieldRef {
    field_path: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireCollection {
    collection_id: String,
    #[serde(default)]
    all_descendants: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireFilter {
    #[serde(default)]
    composite_filter: Option<WireComposite>,
    #[serde(default)]
    field_filter: Option<WireFieldFilter>,
    #[serde(default)]
    unary_filter: Option<WireUnary>,
}

#[derive(Deserialize)]
struct WireComposite {
    op: String,
    #[serde(default)]
    filters: Vec<WireFilter>,
}

#[derive(Deserialize)]
struct WireFieldFilter {
    field: WireFieldRef,
    op: String,
    value: Json,
}

#[derive(Deserialize)]
struct WireUnary {
    op: String,
    field: WireFieldRef,
}

#[derive(Deserialize)]
struct WireOrder {
    field: WireFieldRef,
    #[serde(default)]
    direction: Option<String>,
}

#[derive(Deserialize)]
struct WireCursor {
    #[serde(default)]
    values: Vec<Json>,
    #[serde(default)]
    before: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum WireLimit {
    Number(i64),
    Wrapped { value: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CompareOp {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Equal,
    NotEqual,
    ArrayContains,
    In,
    NotIn,
    ArrayContainsAny,
}

impl CompareOp {
    fn parse(text: &str) -> Result<CompareOp, InvalidQuery> {
        Ok(match text {
            "LESS_THAN" => CompareOp::Less,
            "LESS_THAN_OR_EQUAL" => CompareOp::LessOrEqual,
            "GREATER_THAN" => CompareOp::Greater,
            "GREATER_THAN_OR_EQUAL" => CompareOp::GreaterOrEqual,
            "EQUAL" => CompareOp::Equal,
            "NOT_EQUAL" => CompareOp::NotEqual,
            "ARRAY_CONTAINS" => CompareOp::ArrayContains,
            "IN" => CompareOp::In,
            "NOT_IN" => CompareOp::NotIn,
            "ARRAY_CONTAINS_ANY" => CompareOp::ArrayContainsAny,
            other => {
                return Err(invalid(format!(
                    "unsupported field filter operator {other:?}"
                )))
            }
        })
    }

    /// Inequalities order results by their field implicitly.
    fn is_inequality(self) -> bool {
        matches!(
            self,
            CompareOp::Less
                | CompareOp::LessOrEqual
                | CompareOp::Greater
                | CompareOp::GreaterOrEqual
                | CompareOp::NotEqual
                | CompareOp::NotIn
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// `IS_NAN`, `IS_NULL`, `IS_NOT_NAN`, `IS_NOT_NULL`.
enum UnaryOp {
    Nan,
    Null,
    NotNan,
    NotNull,
}

#[derive(Debug, Clone)]
enum Filter {
    Compare {
        path: FieldPath,
        op: CompareOp,
        value: Value,
    },
    Unary {
        path: FieldPath,
        op: UnaryOp,
    },
    And(Vec<Filter>),
    Or(Vec<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
struct Order {
    path: FieldPath,
    descending: bool,
}

#[derive(Debug, Clone)]
struct Cursor {
    values: Vec<Value>,
    before: bool,
}

/// A parsed `structuredQuery`.
#[derive(Debug, Clone)]
pub(crate) struct Query {
    pub(crate) collection_id: String,
    filter: Option<Filter>,
    /// Explicit orderings, then the implicit ones, always ending with `__name__`.
    orders: Vec<Order>,
    start: Option<Cursor>,
    end: Option<Cursor>,
    offset: usize,
    limit: Option<usize>,
    /// `select`: the fields to return (None = all).
    pub(crate) projection: Option<Vec<FieldPath>>,
}

fn parse_field(field: &WireFieldRef) -> Result<FieldPath, InvalidQuery> {
    FieldPath::parse(&field.field_path).map_err(|e| invalid(e.0))
}

fn parse_value(json: &Json) -> Result<Value, InvalidQuery> {
    Value::from_json(json).map_err(|e| invalid(e.0))
}

fn parse_filter(wire: &WireFilter) -> Result<Filter, InvalidQuery> {
    match (
        &wire.composite_filter,
        &wire.field_filter,
        &wire.unary_filter,
    ) {
        (Some(composite), None, None) => {
            let filters = composite
                .filters
                .iter()
                .map(parse_filter)
                .collect::<Result<Vec<_>, _>>()?;
            match composite.op.as_str() {
                "AND" => Ok(Filter::And(filters)),
                "OR" => Ok(Filter::Or(filters)),
                other => Err(invalid(format!(
                    "unsupported composite filter operator {other:?}"
                ))),
            }
        }
        (None, Some(field), None) => {
            let op = CompareOp::parse(&field.op)?;
            let value = parse_value(&field.value)?;
            if matches!(
                op,
                CompareOp::In | CompareOp::NotIn | CompareOp::ArrayContainsAny
            ) && !matches!(value, Value::Array(_))
            {
                return Err(invalid(format!("{} needs an arrayValue", field.op)));
            }
            Ok(Filter::Compare {
                path: parse_field(&field.field)?,
                op,
                value,
            })
        }
        (None, None, Some(unary)) => {
            let op = match unary.op.as_str() {
                "IS_NAN" => UnaryOp::Nan,
                "IS_NULL" => UnaryOp::Null,
                "IS_NOT_NAN" => UnaryOp::NotNan,
                "IS_NOT_NULL" => UnaryOp::NotNull,
                other => {
                    return Err(invalid(format!(
                        "unsupported unary filter operator {other:?}"
                    )))
                }
            };
            Ok(Filter::Unary {
                path: parse_field(&unary.field)?,
                op,
            })
        }
        _ => Err(invalid(
            "a filter must be exactly one of compositeFilter, fieldFilter, unaryFilter",
        )),
    }
}

fn collect_inequality_fields(filter: &Filter, out: &mut Vec<FieldPath>) {
    match filter {
        Filter::Compare { path, op, .. } if op.is_inequality() && !out.contains(path) => {
            out.push(path.clone());
        }
        Filter::And(filters) | Filter::Or(filters) => {
            for f in filters {
                collect_inequality_fields(f, out);
            }
        }
        _ => {}
    }
}

fn parse_cursor(wire: &WireCursor, orders: usize) -> Result<Cursor, InvalidQuery> {
    if wire.values.len() > orders {
        return Err(invalid(
            "a cursor has more values than the query has orderings",
        ));
    }
    let values = wire
        .values
        .iter()
        .map(parse_value)
        .collect::<Result<_, _>>()?;
    Ok(Cursor {
        values,
        before: wire.before,
    })
}

/// The one collection a query reads, by id.
fn parse_collection(from: &[WireCollection]) -> Result<String, InvalidQuery> {
    let [collection] = from else {
        return Err(invalid(
            "a query must select exactly one collection in `from`",
        ));
    };
    if collection.all_descendants {
        return Err(invalid(
            "collection group queries (allDescendants) are not supported",
        ));
    }
    if collection.collection_id.is_empty() || collection.collection_id.contains('/') {
        return Err(invalid("invalid collectionId"));
    }
    Ok(collection.collection_id.clone())
}

fn parse_order(order: &WireOrder) -> Result<Order, InvalidQuery> {
    let descending = match order.direction.as_deref() {
        None | Some("ASCENDING") | Some("DIRECTION_UNSPECIFIED") => false,
        Some("DESCENDING") => true,
        Some(other) => return Err(invalid(format!("unknown order direction {other:?}"))),
    };
    Ok(Order {
        path: parse_field(&order.field)?,
        descending,
    })
}

/// The orderings Firestore adds after the query's own: each inequality-filtered field not
/// ordered yet (by name), then `__name__`, all in the last ordering's direction.
fn add_implicit_orders(orders: &mut Vec<Order>, filter: Option<&Filter>) {
    let mut inequality_fields = Vec::new();
    if let Some(filter) = filter {
        collect_inequality_fields(filter, &mut inequality_fields);
    }
    inequality_fields.sort();
    let last_descending = orders.last().is_some_and(|o| o.descending);
    for path in inequality_fields {
        if !orders.iter().any(|o| o.path == path) {
            orders.push(Order {
                path,
                descending: last_descending,
            });
        }
    }
    if !orders.iter().any(|o| o.path.is_document_name()) {
        orders.push(Order {
            path: FieldPath(vec!["__name__".into()]),
            descending: last_descending,
        });
    }
}

fn parse_offset(offset: Option<i64>) -> Result<usize, InvalidQuery> {
    match offset {
        None => Ok(0),
        Some(n) => usize::try_from(n).map_err(|_| invalid("offset must not be negative")),
    }
}

fn parse_limit(limit: Option<&WireLimit>) -> Result<Option<usize>, InvalidQuery> {
    match limit {
        None => Ok(None),
        Some(WireLimit::Number(n) | WireLimit::Wrapped { value: n }) => Ok(Some(
            usize::try_from(*n).map_err(|_| invalid("limit must not be negative"))?,
        )),
    }
}

/// The fields a `select` keeps; `__name__` is dropped, as every result carries its name.
fn parse_projection(
    select: Option<&WireProjection>,
) -> Result<Option<Vec<FieldPath>>, InvalidQuery> {
    let Some(select) = select else {
        return Ok(None);
    };
    let fields = select
        .fields
        .iter()
        .map(parse_field)
        .filter(|p| !matches!(p, Ok(path) if path.is_document_name()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(fields))
}

impl Query {
    /// Parses the `structuredQuery` object of a `runQuery` request.
    pub(crate) fn parse(json: &Json) -> Result<Query, InvalidQuery> {
        let wire: WireQuery = serde_json::from_value(json.clone())
            .map_err(|e| invalid(format!("invalid structuredQuery: {e}")))?;
        let collection_id = parse_collection(&wire.from)?;
        let filter = wire.filter.as_ref().map(parse_filter).transpose()?;
        let mut orders = wire
            .order_by
            .iter()
            .map(parse_order)
            .collect::<Result<Vec<_>, _>>()?;
        add_implicit_orders(&mut orders, filter.as_ref());
        let start = wire
            .start_at
            .as_ref()
            .map(|c| parse_cursor(c, orders.len()))
            .transpose()?;
        let end = wire
            .end_at
            .as_ref()
            .map(|c| parse_cursor(c, orders.len()))
            .transpose()?;
        Ok(Query {
            collection_id,
            filter,
            orders,
            start,
            end,
            offset: parse_offset(wire.offset)?,
            limit: parse_limit(wire.limit.as_ref())?,
            projection: parse_projection(wire.select.as_ref())?,
        })
    }

    /// Runs the query over the documents directly under `parent` (a relative document path, or
    /// "" for the root). `name_prefix` turns relative paths into document names
    /// (`projects/p/databases/(default)/documents/`), which `__name__` compares.
    pub(crate) fn execute(
        &self,
        conn: &Connection,
        parent: &str,
        name_prefix: &str,
    ) -> Result<Vec<StoredDoc>, StoreError> {
        let scan = self.scan_plan();
        let wanted = self.limit.map(|limit| self.offset.saturating_add(limit));
        let mut rows: Vec<Row> = Vec::new();
        let mut tie: Option<Value> = None;
        scan_collection(conn, parent, &self.collection_id, scan, |doc| {
            if let Some(tie) = &tie {
                // Reading in updatedAt order: once past the page's last updatedAt, nothing
                // later can sort into the page.
                if doc.fields.get("updatedAt") != Some(tie) {
                    return ControlFlow::Break(());
                }
            }
            let row = Row {
                name: Value::Reference(format!("{name_prefix}{}", doc.path)),
                doc,
            };
            if self.admits(&row) {
                if scan.ordered_by_updated_at
                    && tie.is_none()
                    && wanted.is_some_and(|n| rows.len() + 1 >= n)
                {
                    tie = row.doc.fields.get("updatedAt").cloned();
                }
                rows.push(row);
            }
            ControlFlow::Continue(())
        })?;
        rows.sort_by(|a, b| self.compare_rows(a, b));
        let page = rows.into_iter().skip(self.offset);
        let page: Vec<StoredDoc> = match self.limit {
            Some(limit) => page.take(limit).map(|r| r.doc).collect(),
            None => page.map(|r| r.doc).collect(),
        };
        Ok(page)
    }

    /// How to read the collection: by the `updatedAt` index when the query allows it.
    fn scan_plan(&self) -> Scan {
        let updated_at = FieldPath(vec!["updatedAt".into()]);
        let mut bound: Option<Timestamp> = None;
        let mut consider = |filter: &Filter| {
            if let Filter::Compare {
                path,
                op: CompareOp::Greater | CompareOp::GreaterOrEqual | CompareOp::Equal,
                value: Value::Timestamp(t),
            } = filter
            {
                if *path == updated_at {
                    bound = Some(bound.map_or(*t, |b| b.max(*t)));
                }
            }
        };
        match &self.filter {
            Some(Filter::And(filters)) => filters.iter().for_each(&mut consider),
            Some(filter) => consider(filter),
            None => {}
        }
        // Only a filter guarantees every match has a timestamp `updatedAt`; with one, an
        // ascending start cursor on it tightens the bound.
        let first_is_updated_at = self
            .orders
            .first()
            .is_some_and(|o| o.path == updated_at && !o.descending);
        if let (Some(b), true, Some(cursor)) = (bound, first_is_updated_at, &self.start) {
            if let Some(Value::Timestamp(t)) = cursor.values.first() {
                bound = Some(b.max(*t));
            }
        }
        Scan {
            min_updated_at: bound,
            ordered_by_updated_at: bound.is_some() && first_is_updated_at,
        }
    }

    /// Does the row pass the filter, have every ordered field, and lie between the cursors?
    fn admits(&self, row: &Row) -> bool {
        if let Some(filter) = &self.filter {
            if !matches_filter(filter, row) {
                return false;
            }
        }
        if self.orders.iter().any(|o| row.value(&o.path).is_none()) {
            return false;
        }
        if let Some(start) = &self.start {
            let c = self.compare_to_cursor(row, start);
            let keep = if start.before {
                c != Ordering::Less
            } else {
                c == Ordering::Greater
            };
            if !keep {
                return false;
            }
        }
        if let Some(end) = &self.end {
            let c = self.compare_to_cursor(row, end);
            let keep = if end.before {
                c == Ordering::Less
            } else {
                c != Ordering::Greater
            };
            if !keep {
                return false;
            }
        }
        true
    }

    fn compare_to_cursor(&self, row: &Row, cursor: &Cursor) -> Ordering {
        for (order, bound) in self.orders.iter().zip(&cursor.values) {
            let Some(value) = row.value(&order.path) else {
                return Ordering::Less;
            };
            let c = value.firestore_cmp(bound);
            let c = if order.descending { c.reverse() } else { c };
            if c != Ordering::Equal {
                return c;
            }
        }
        Ordering::Equal
    }

    fn compare_rows(&self, a: &Row, b: &Row) -> Ordering {
        for order in &self.orders {
            let c = match (a.value(&order.path), b.value(&order.path)) {
                (Some(x), Some(y)) => x.firestore_cmp(y),
                (x, y) => x.is_some().cmp(&y.is_some()),
            };
            let c = if order.descending { c.reverse() } else { c };
            if c != Ordering::Equal {
                return c;
            }
        }
        Ordering::Equal
    }
}

/// A document being queried, with its name as a reference value for `__name__`.
struct Row {
    name: Value,
    doc: StoredDoc,
}

impl Row {
    fn value(&self, path: &FieldPath) -> Option<&Value> {
        if path.is_document_name() {
            Some(&self.name)
        } else {
            path.get(&self.doc.fields)
        }
    }
}

fn matches_filter(filter: &Filter, row: &Row) -> bool {
    match filter {
        Filter::And(filters) => filters.iter().all(|f| matches_filter(f, row)),
        Filter::Or(filters) => filters.iter().any(|f| matches_filter(f, row)),
        Filter::Unary { path, op } => {
            let value = row.value(path);
            match op {
                UnaryOp::Nan => value.is_some_and(Value::is_nan),
                UnaryOp::Null => value == Some(&Value::Null),
                UnaryOp::NotNan => value.is_some_and(|v| !v.is_nan() && *v != Value::Null),
                UnaryOp::NotNull => value.is_some_and(|v| *v != Value::Null),
            }
        }
        Filter::Compare {
            path,
            op,
            value: bound,
        } => {
            let Some(value) = row.value(path) else {
                return false;
            };
            let ordered = |accept: fn(Ordering) -> bool| {
                value.same_kind(bound)
                    && !value.is_nan()
                    && !bound.is_nan()
                    && accept(value.firestore_cmp(bound))
            };
            let list = match bound {
                Value::Array(items) => items.as_slice(),
                _ => &[],
            };
            match op {
                CompareOp::Less => ordered(|c| c == Ordering::Less),
                CompareOp::LessOrEqual => ordered(|c| c != Ordering::Greater),
                CompareOp::Greater => ordered(|c| c == Ordering::Greater),
                CompareOp::GreaterOrEqual => ordered(|c| c != Ordering::Less),
                CompareOp::Equal => value.firestore_eq(bound),
                CompareOp::NotEqual => *value != Value::Null && !value.firestore_eq(bound),
                CompareOp::ArrayContains => {
                    matches!(value, Value::Array(items) if items.iter().any(|i| i.firestore_eq(bound)))
                }
                CompareOp::In => list.iter().any(|i| value.firestore_eq(i)),
                CompareOp::NotIn => {
                    *value != Value::Null && !list.iter().any(|i| value.firestore_eq(i))
                }
                CompareOp::ArrayContainsAny => {
                    matches!(value, Value::Array(items) if items.iter().any(|i| list.iter().any(|l| i.firestore_eq(l))))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ordering_always_ends_with_name_in_the_last_direction() {
        let q = Query::parse(&json!({
            "from": [{"collectionId": "generations"}],
            "orderBy": [{"field": {"fieldPath": "updatedAt"}, "direction": "DESCENDING"}]
        }))
        .unwrap();
        assert_eq!(q.orders.len(), 2);
        assert!(q.orders[1].path.is_document_name() && q.orders[1].descending);
    }

    #[test]
    fn inequality_fields_are_ordered_implicitly() {
        let q = Query::parse(&json!({
            "from": [{"collectionId": "generations"}],
            "where": {"fieldFilter": {"field": {"fieldPath": "updatedAt"}, "op": "GREATER_THAN_OR_EQUAL",
                       "value": {"timestampValue": "2024-01-01T00:00:00Z"}}}
        }))
        .unwrap();
        assert_eq!(q.orders[0].path.0, vec!["updatedAt"]);
        let plan = q.scan_plan();
        assert!(plan.ordered_by_updated_at);
        assert!(plan.min_updated_at.is_some());
    }

    #[test]
    fn malformed_queries_are_invalid_arguments() {
        for bad in [
            json!({"from": []}),
            json!({"from": [{"collectionId": "g", "allDescendants": true}]}),
            json!({"from": [{"collectionId": "g"}], "where": {"fieldFilter": {"field": {"fieldPath": "a"}, "op": "LIKE", "value": {"nullValue": null}}}}),
            json!({"from": [{"collectionId": "g"}], "startAt": {"values": [{"nullValue": null}, {"nullValue": null}]}}),
            json!({"from": [{"collectionId": "g"}], "limit": -1}),
            json!({"from": "g"}),
        ] {
            assert!(Query::parse(&bad).is_err(), "{bad}");
        }
        assert!(
            Query::parse(&json!({"from": [{"collectionId": "g"}], "limit": {"value": 3}})).is_ok()
        );
    }
}
