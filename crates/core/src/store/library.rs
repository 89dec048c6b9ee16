//! The Library's questions to the store: a page of generations for a search, filters and a
//! sort; how many generations each filter value would leave; one generation with its thumbnail.
//!
//! Why it is built this way:
//! - Every sort is keyset-paged (the next page starts after the last row of this one), so a deep
//!   page costs what the first does, and a page never repeats or skips a row when new ones
//!   arrive. A [`LibraryCursor`] is an opaque string: `seq` values exceed what a JavaScript
//!   number holds exactly.
//! - A generation's `seq` is its place in creation order (migration 0002), and the full-text
//!   index points at `seq`. So "newest first" is a walk down the table, a date range is a `seq`
//!   range, and a search sorted by date is answered by FTS5 itself, which hands out matches in
//!   rowid order and stops after one page, whether a word occurs 3 or 30,000 times.
//! - Pages are found first as `seq`s, reading only narrow indexes (filters are checked on
//!   `generations_filters`, a copy of the few filtered columns), and only the rows of the page
//!   are then read whole: a selective filter does not drag every prompt through decryption.
//!   With no search and no filter every row qualifies: the page is then read whole in one walk
//!   down the table. The Library's default view (everything, newest first) is such a query,
//!   paged with the same cursor as any other.
//! - Counts per filter value come from an in-memory copy of the filtered columns merged with the
//!   search's matches (see `facets`), and each dimension is counted under the *other*
//!   dimensions' filters, the way a faceted search shows "how many would I get if I also ticked
//!   this".

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rusqlite::types::Value;
use rusqlite::{params_from_iter, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::facets::{FacetCache, Values};
use super::search::{self, MARK_CLOSE, MARK_OPEN};
use super::{
    read_library_item, seq_floor, time_key, LibraryItem, Result, Store, StoreError, LIBRARY_COLUMNS,
};
use crate::model::{AspectRatio, Mode, Resolution, Status, STYLE_PRESETS};

/// The largest page a query may ask for.
pub const MAX_LIMIT: usize = 500;
/// The page size when a query names none.
pub const DEFAULT_LIMIT: usize = 50;
/// Words of context a snippet shows around the matches.
const SNIPPET_TOKENS: i64 = 24;

/// What the Library shows: optional search text, filters, a sort, and where the page starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(optional_fields))]
#[serde(rename_all = "camelCase", default)]
pub struct LibraryQuery {
    /// Searched in prompts and voice-over scripts as typed (see `search`); blank = no search.
    pub text: Option<String>,
    #[cfg_attr(feature = "ts", ts(as = "Option<Filters>", optional))]
    pub filters: Filters,
    #[cfg_attr(feature = "ts", ts(as = "Option<Sort>", optional))]
    pub sort: Sort,
    /// Page size, 1 to [`MAX_LIMIT`].
    #[cfg_attr(feature = "ts", ts(as = "Option<usize>", optional))]
    pub limit: usize,
    /// The previous page's `next`, to get the page after it.
    pub after: Option<LibraryCursor>,
}

impl Default for LibraryQuery {
    fn default() -> Self {
        LibraryQuery {
            text: None,
            filters: Filters::default(),
            sort: Sort::default(),
            limit: DEFAULT_LIMIT,
            after: None,
        }
    }
}

impl LibraryQuery {
    /// Whether this asks for the Library's default view, whatever the page: everything, newest
    /// first (no search text, no filter, the default sort).
    pub fn is_default_view(&self) -> bool {
        self.text
            .as_deref()
            .is_none_or(|text| text.trim().is_empty())
            && self.filters == Filters::default()
            && self.sort == Sort::default()
    }
}

/// Filters combine with AND; the values inside one filter combine with OR; an empty list does
/// not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(rename = "LibraryFilters", optional_fields)
)]
#[serde(rename_all = "camelCase", default)]
pub struct Filters {
    #[cfg_attr(feature = "ts", ts(as = "Option<Vec<Status>>", optional))]
    pub statuses: Vec<Status>,
    #[cfg_attr(feature = "ts", ts(as = "Option<Vec<Mode>>", optional))]
    pub modes: Vec<Mode>,
    #[cfg_attr(feature = "ts", ts(as = "Option<Vec<Resolution>>", optional))]
    pub resolutions: Vec<Resolution>,
    #[cfg_attr(feature = "ts", ts(as = "Option<Vec<AspectRatio>>", optional))]
    pub aspect_ratios: Vec<AspectRatio>,
    /// Style presets; `null` stands for "no style".
    #[cfg_attr(feature = "ts", ts(as = "Option<Vec<Option<String>>>", optional))]
    pub styles: Vec<Option<String>>,
    /// Created at or after this time (RFC 3339), to the microsecond.
    pub created_from: Option<String>,
    /// Created before this time (RFC 3339), to the microsecond.
    pub created_to: Option<String>,
    /// Only generations whose clip was (`true`) or was not (`false`) saved on this device.
    pub has_download: Option<bool>,
}

/// The orders the Library offers. Ties go to the newer generation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum Sort {
    #[default]
    NewestFirst,
    OldestFirst,
    /// Most credits charged first.
    MostCredits,
    /// Longest clips first.
    LongestFirst,
}

impl Sort {
    fn code(self) -> &'static str {
        match self {
            Sort::NewestFirst => "n",
            Sort::OldestFirst => "o",
            Sort::MostCredits => "c",
            Sort::LongestFirst => "d",
        }
    }

    /// The column sorted on before `seq`, for the sorts that have one.
    fn column(self) -> Option<&'static str> {
        match self {
            Sort::NewestFirst | Sort::OldestFirst => None,
            Sort::MostCredits => Some("credits_charged"),
            Sort::LongestFirst => Some("duration_seconds"),
        }
    }
}

/// Where a page ends, for the page after it. Opaque to the UI: pass back what `next` was.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(transparent)]
pub struct LibraryCursor(String);

impl LibraryCursor {
    fn new(sort: Sort, value: Option<i64>, seq: i64) -> LibraryCursor {
        LibraryCursor(match value {
            Some(value) => format!("{}.{value}.{seq}", sort.code()),
            None => format!("{}.{seq}", sort.code()),
        })
    }

    /// `(sort value, seq)`, checked against the sort it is used with.
    fn parse(&self, sort: Sort) -> Result<(Option<i64>, i64)> {
        let invalid = || {
            StoreError::InvalidInput(
                "this page cursor does not belong to this sort; start again from the first page"
                    .to_string(),
            )
        };
        let mut parts = self.0.split('.');
        if parts.next() != Some(sort.code()) {
            return Err(invalid());
        }
        let mut number = || -> Result<i64> {
            parts
                .next()
                .and_then(|p| p.parse().ok())
                .ok_or_else(invalid)
        };
        let value = match sort.column() {
            Some(_) => Some(number()?),
            None => None,
        };
        let seq = number()?;
        if parts.next().is_some() {
            return Err(invalid());
        }
        Ok((value, seq))
    }
}

/// One page of a query. `next` is `None` on the last page.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryPage {
    pub items: Vec<LibraryItem>,
    pub next: Option<LibraryCursor>,
}

/// Where the user saved a clip on this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Download {
    pub path: String,
    pub saved_at: String,
}

/// A stored thumbnail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Thumbnail {
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// One generation with its thumbnail, for the detail view.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemWithThumbnail {
    #[serde(flatten)]
    pub item: LibraryItem,
    pub thumbnail: Option<Thumbnail>,
}

/// How many generations a filter value would show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct FacetCount<T> {
    pub value: T,
    pub count: u64,
}

/// Counts for the filter panel. `total` matches the whole query; each list counts its values
/// under the search text, the date range and the *other* filters, so ticking a value shows
/// exactly that many more (or, for the first value ticked in a group, that many).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct FacetCounts {
    pub total: u64,
    pub statuses: Vec<FacetCount<Status>>,
    pub modes: Vec<FacetCount<Mode>>,
    pub resolutions: Vec<FacetCount<Resolution>>,
    pub aspect_ratios: Vec<FacetCount<AspectRatio>>,
    /// The 16 presets in the Studio's order, then any other style found, then `null` (none).
    pub styles: Vec<FacetCount<Option<String>>>,
    pub has_download: Vec<FacetCount<bool>>,
}

/// A query's SQL and its parameters, built together so they stay in step.
#[derive(Debug, Default)]
pub(super) struct Sql {
    pub(super) text: String,
    pub(super) params: Vec<Value>,
}

impl Sql {
    fn push(&mut self, sql: &str) -> &mut Sql {
        self.text.push_str(sql);
        self
    }

    fn bind(&mut self, value: impl Into<Value>) -> &mut Sql {
        self.params.push(value.into());
        let _ = write!(self.text, "?{}", self.params.len());
        self
    }

    /// ` AND column IN (?, ...)` unless `values` is empty.
    fn any_of<'v>(&mut self, column: &str, values: impl IntoIterator<Item = &'v str>) {
        let mut values = values.into_iter().peekable();
        if values.peek().is_none() {
            return;
        }
        self.push(" AND ").push(column).push(" IN (");
        for (i, value) in values.enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(value.to_string());
        }
        self.push(")");
    }
}

/// The `seq` range of the date filter: `[from, to)`.
fn seq_range(filters: &Filters) -> Result<(Option<i64>, Option<i64>)> {
    let bound = |time: &Option<String>| -> Result<Option<i64>> {
        time.as_deref()
            .map(|t| {
                time_key(t)
                    .map(seq_floor)
                    .map_err(|e| StoreError::InvalidInput(format!("the date filter: {e}")))
            })
            .transpose()
    };
    Ok((bound(&filters.created_from)?, bound(&filters.created_to)?))
}

/// Appends the filters on `g` (but not the date range, which is a `seq` range).
fn facet_filters(sql: &mut Sql, filters: &Filters) {
    sql.any_of("g.status", filters.statuses.iter().map(|s| s.as_str()));
    sql.any_of("g.mode", filters.modes.iter().map(|m| m.as_str()));
    sql.any_of(
        "g.resolution",
        filters.resolutions.iter().map(|r| r.as_str()),
    );
    sql.any_of(
        "g.aspect_ratio",
        filters.aspect_ratios.iter().map(|a| a.as_str()),
    );
    if !filters.styles.is_empty() {
        let named: Vec<&str> = filters
            .styles
            .iter()
            .flatten()
            .map(String::as_str)
            .collect();
        let none = filters.styles.iter().any(Option::is_none);
        sql.push(" AND (");
        if named.is_empty() {
            sql.push("0");
        } else {
            sql.push("g.style_preset IN (");
            for (i, style) in named.into_iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(style.to_string());
            }
            sql.push(")");
        }
        if none {
            sql.push(" OR g.style_preset IS NULL");
        }
        sql.push(")");
    }
    if let Some(downloaded) = filters.has_download {
        sql.push(" AND g.has_download = ")
            .bind(i64::from(downloaded));
    }
}

fn has_facet_filters(filters: &Filters) -> bool {
    !(filters.statuses.is_empty()
        && filters.modes.is_empty()
        && filters.resolutions.is_empty()
        && filters.aspect_ratios.is_empty()
        && filters.styles.is_empty()
        && filters.has_download.is_none())
}

impl Store {
    /// One page of the Library for `query`. With search text, each item carries a snippet of
    /// the prompt or voice-over script with the matched words highlighted.
    pub fn query(&self, query: &LibraryQuery) -> Result<QueryPage> {
        let PageSql {
            sql,
            matching,
            whole_rows,
        } = query_sql(query)?;
        if whole_rows {
            return self.page_of_whole_rows(query, &sql);
        }
        let mut found: Vec<(i64, Option<i64>, Option<String>)> = {
            let mut stmt = self.conn.prepare_cached(&sql.text)?;
            let rows = stmt.query_map(params_from_iter(&sql.params), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        let next = if found.len() > query.limit {
            found.truncate(query.limit);
            found
                .last()
                .map(|(seq, value, _)| LibraryCursor::new(query.sort, *value, *seq))
        } else {
            None
        };

        let mut items = Vec::with_capacity(found.len());
        let read = format!("SELECT {LIBRARY_COLUMNS} FROM generations WHERE seq = ?1");
        let mut read = self.conn.prepare_cached(&read)?;
        for (seq, _, snippet) in found {
            let Some(mut item) = read
                .query_row([seq], |row| Ok(read_library_item(row)))
                .optional()?
                .transpose()?
            else {
                continue;
            };
            if let Some(fts) = &matching {
                let snippet = match snippet {
                    Some(snippet) => snippet,
                    None => self.snippet(fts, seq)?,
                };
                item.snippet = Some(search::segments(&snippet));
            }
            items.push(item);
        }
        Ok(QueryPage { items, next })
    }

    /// A page whose SQL selects its rows whole (`LIBRARY_COLUMNS`, then `seq`), in page order.
    fn page_of_whole_rows(&self, query: &LibraryQuery, sql: &Sql) -> Result<QueryPage> {
        let mut stmt = self.conn.prepare_cached(&sql.text)?;
        let seq_column = stmt.column_count() - 1;
        let mut rows = stmt.query(params_from_iter(&sql.params))?;
        let mut items = Vec::with_capacity(query.limit);
        let mut last_seq = None;
        while let Some(row) = rows.next()? {
            if items.len() == query.limit {
                // The extra row: there is a next page.
                let next = last_seq.map(|seq| LibraryCursor::new(query.sort, None, seq));
                return Ok(QueryPage { items, next });
            }
            items.push(read_library_item(row)?);
            last_seq = Some(row.get(seq_column)?);
        }
        Ok(QueryPage { items, next: None })
    }

    /// The snippet of one row for a search (the sorts that FTS5 does not order itself).
    fn snippet(&self, fts: &str, seq: i64) -> Result<String> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT snippet(generations_fts, -1, ?1, ?2, '…', ?3) FROM generations_fts
             WHERE generations_fts MATCH ?4 AND rowid = ?5",
        )?;
        Ok(stmt
            .query_row(
                rusqlite::params![
                    MARK_OPEN.to_string(),
                    MARK_CLOSE.to_string(),
                    SNIPPET_TOKENS,
                    fts,
                    seq
                ],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or_default())
    }

    /// How many generations each filter value would show under `query` (its text, date range
    /// and other filters); `limit`, `after` and `sort` do not matter. See `facets`.
    pub fn counts(&self, query: &LibraryQuery) -> Result<FacetCounts> {
        let matching = query.text.as_deref().and_then(search::fts_query);
        let (from, to) = seq_range(&query.filters)?;
        let stamp = FacetCache::stamp(&self.conn)?;
        let mut slot = self.facets.borrow_mut();
        let cache = match slot.take() {
            Some(cache) if cache.is_current(stamp) => slot.insert(cache),
            _ => slot.insert(FacetCache::build(&self.conn)?),
        };
        let groups = match &matching {
            None => cache.tally(from, to, None)?,
            Some(fts) => {
                let mut sql = Sql::default();
                sql.push("SELECT rowid FROM generations_fts WHERE generations_fts MATCH ")
                    .bind(fts.clone());
                seq_bounds(&mut sql, "rowid", from, to, None, true);
                sql.push(" ORDER BY rowid");
                let mut stmt = self.conn.prepare_cached(&sql.text)?;
                let rows = stmt.query_map(params_from_iter(&sql.params), |r| r.get::<_, i64>(0))?;
                let mut matches = rows.map(|seq| seq.map_err(StoreError::from));
                cache.tally(from, to, Some(&mut matches))?
            }
        };
        let mut tally = Tally::new(&query.filters);
        for (packed, count) in groups {
            tally.add(&cache.unpack(packed), count);
        }
        Ok(tally.finish())
    }

    /// One generation as the Library shows it, with its stored thumbnail.
    pub fn item_with_thumbnail(&self, id: &str) -> Result<Option<ItemWithThumbnail>> {
        let sql = format!("SELECT {LIBRARY_COLUMNS} FROM generations WHERE id = ?1");
        let Some(item) = self
            .conn
            .prepare_cached(&sql)?
            .query_row([id], |row| Ok(read_library_item(row)))
            .optional()?
            .transpose()?
        else {
            return Ok(None);
        };
        let thumbnail = if item.has_thumbnail {
            self.thumbnail(id)?
                .map(|(mime, bytes)| Thumbnail { mime, bytes })
        } else {
            None
        };
        Ok(Some(ItemWithThumbnail { item, thumbnail }))
    }
}

/// A query's SQL, with what the store needs to read its answer.
#[derive(Debug)]
pub(super) struct PageSql {
    pub(super) sql: Sql,
    /// The FTS5 query, when the query searches.
    pub(super) matching: Option<String>,
    /// The SQL selects the page's rows whole (`LIBRARY_COLUMNS`, then `seq`) rather than
    /// `(seq, sort value, snippet)` to read them by afterwards.
    pub(super) whole_rows: bool,
}

/// The SQL of one page of `query`: see [`PageSql`].
pub(super) fn query_sql(query: &LibraryQuery) -> Result<PageSql> {
    if !(1..=MAX_LIMIT).contains(&query.limit) {
        return Err(StoreError::InvalidInput(format!(
            "a page holds 1 to {MAX_LIMIT} generations"
        )));
    }
    let matching = query.text.as_deref().and_then(search::fts_query);
    let (from, to) = seq_range(&query.filters)?;
    let bounds = SeqBounds {
        from,
        to,
        after: query
            .after
            .as_ref()
            .map(|c| c.parse(query.sort))
            .transpose()?,
    };
    let mut sql = Sql::default();
    let filtered = has_facet_filters(&query.filters);
    let whole_rows = matching.is_none() && query.sort.column().is_none() && !filtered;
    match (query.sort.column(), &matching) {
        (None, Some(fts)) => search_in_seq_order(&mut sql, query, fts, bounds),
        (None, None) if whole_rows => read_in_seq_order(&mut sql, query.sort, bounds),
        (None, None) => filter_in_seq_order(&mut sql, query, bounds),
        (Some(column), _) => walk_by_column(&mut sql, query, column, matching.as_deref(), bounds),
    }
    // One extra row says whether there is a next page.
    let fetch = i64::try_from(query.limit).unwrap_or(i64::MAX) + 1;
    sql.push(" LIMIT ").bind(fetch);
    Ok(PageSql {
        sql,
        matching,
        whole_rows,
    })
}

/// Where a page's `seq`s may lie: the date filter's `[from, to)` and, past the first page, the
/// cursor's `(sort value, seq)`.
#[derive(Clone, Copy)]
struct SeqBounds {
    from: Option<i64>,
    to: Option<i64>,
    after: Option<(Option<i64>, i64)>,
}

/// `ASC` or `DESC`: the direction of `seq` for the sorts that have no column.
fn seq_order(sort: Sort) -> &'static str {
    if sort == Sort::OldestFirst {
        "ASC"
    } else {
        "DESC"
    }
}

/// A search in creation order: FTS5 yields matches in rowid (= seq) order and stops after the
/// page; filters are checked on the narrow index, joined by seq.
fn search_in_seq_order(sql: &mut Sql, query: &LibraryQuery, fts: &str, bounds: SeqBounds) {
    sql.push("SELECT generations_fts.rowid, NULL, snippet(generations_fts, -1, ")
        .bind(MARK_OPEN.to_string())
        .push(", ")
        .bind(MARK_CLOSE.to_string())
        .push(", '…', ")
        .bind(SNIPPET_TOKENS)
        .push(") FROM generations_fts");
    if has_facet_filters(&query.filters) {
        sql.push(
            " CROSS JOIN generations g INDEXED BY generations_filters
             ON g.seq = generations_fts.rowid",
        );
    }
    sql.push(" WHERE generations_fts MATCH ")
        .bind(fts.to_string());
    let descending = query.sort != Sort::OldestFirst;
    let SeqBounds { from, to, after } = bounds;
    seq_bounds(sql, "generations_fts.rowid", from, to, after, descending);
    facet_filters(sql, &query.filters);
    sql.push(" ORDER BY generations_fts.rowid ")
        .push(seq_order(query.sort));
}

/// Every generation (in the date range) in creation order, read whole in one walk down the
/// table, whose rowid is `seq`: with no search and no filter every row qualifies, so finding
/// the page first would only read it twice. The first page is read from the end of the table,
/// a later one from a rowid search. The Library's default view is such a query.
fn read_in_seq_order(sql: &mut Sql, sort: Sort, bounds: SeqBounds) {
    let _ = write!(
        sql.text,
        "SELECT {LIBRARY_COLUMNS}, seq FROM generations WHERE 1"
    );
    let SeqBounds { from, to, after } = bounds;
    seq_bounds(sql, "seq", from, to, after, sort != Sort::OldestFirst);
    sql.push(" ORDER BY seq ").push(seq_order(sort));
}

/// The generations that pass the filters, in creation order: checked on the narrow index.
fn filter_in_seq_order(sql: &mut Sql, query: &LibraryQuery, bounds: SeqBounds) {
    sql.push("SELECT g.seq, NULL, NULL FROM generations g INDEXED BY generations_filters WHERE 1");
    let descending = query.sort != Sort::OldestFirst;
    let SeqBounds { from, to, after } = bounds;
    seq_bounds(sql, "g.seq", from, to, after, descending);
    facet_filters(sql, &query.filters);
    sql.push(" ORDER BY g.seq ").push(seq_order(query.sort));
}

/// The sorts on a column (most credits, longest), down that column's index; a search is a
/// `seq IN (matches)` check.
fn walk_by_column(
    sql: &mut Sql,
    query: &LibraryQuery,
    column: &str,
    matching: Option<&str>,
    bounds: SeqBounds,
) {
    let index = match query.sort {
        Sort::MostCredits => "generations_most_credits",
        _ => "generations_longest",
    };
    let _ = write!(
        sql.text,
        "SELECT g.seq, g.{column}, NULL FROM generations g INDEXED BY {index} WHERE 1"
    );
    seq_bounds(sql, "g.seq", bounds.from, bounds.to, None, true);
    if let Some((Some(value), seq)) = bounds.after {
        let _ = write!(sql.text, " AND (g.{column}, g.seq) < (");
        sql.bind(value).push(", ").bind(seq).push(")");
    }
    facet_filters(sql, &query.filters);
    if let Some(fts) = matching {
        sql.push(" AND g.seq IN (SELECT rowid FROM generations_fts WHERE generations_fts MATCH ")
            .bind(fts.to_string())
            .push(")");
    }
    let _ = write!(sql.text, " ORDER BY g.{column} DESC, g.seq DESC");
}

/// Appends the date range and the cursor as bounds on `seq_column`.
fn seq_bounds(
    sql: &mut Sql,
    seq_column: &str,
    from: Option<i64>,
    to: Option<i64>,
    cursor: Option<(Option<i64>, i64)>,
    descending: bool,
) {
    if let Some(from) = from {
        sql.push(" AND ").push(seq_column).push(" >= ").bind(from);
    }
    if let Some(to) = to {
        sql.push(" AND ").push(seq_column).push(" < ").bind(to);
    }
    if let Some((_, seq)) = cursor {
        let op = if descending { " < " } else { " > " };
        sql.push(" AND ").push(seq_column).push(op).bind(seq);
    }
}

/// Adds up groups into per-dimension counts, each under the other dimensions' filters.
struct Tally<'f> {
    filters: &'f Filters,
    total: u64,
    /// Indexed like `Status::ALL`, `Mode::ALL`, and so on.
    statuses: [u64; Status::ALL.len()],
    modes: [u64; Mode::ALL.len()],
    resolutions: [u64; Resolution::ALL.len()],
    aspect_ratios: [u64; AspectRatio::ALL.len()],
    styles: BTreeMap<Option<String>, u64>,
    /// `[false, true]`.
    has_download: [u64; 2],
}

impl<'f> Tally<'f> {
    fn new(filters: &'f Filters) -> Tally<'f> {
        Tally {
            filters,
            total: 0,
            statuses: [0; Status::ALL.len()],
            modes: [0; Mode::ALL.len()],
            resolutions: [0; Resolution::ALL.len()],
            aspect_ratios: [0; AspectRatio::ALL.len()],
            styles: BTreeMap::new(),
            has_download: [0; 2],
        }
    }

    fn add(&mut self, g: &Values<'_>, count: u64) {
        fn allows<T: PartialEq>(wanted: &[T], value: &T) -> bool {
            wanted.is_empty() || wanted.contains(value)
        }
        fn slot<T: PartialEq>(all: &[T], value: &T) -> usize {
            all.iter().position(|v| v == value).unwrap_or_default()
        }
        let f = self.filters;
        let pass = [
            allows(&f.statuses, &g.status),
            allows(&f.modes, &g.mode),
            allows(&f.resolutions, &g.resolution),
            allows(&f.aspect_ratios, &g.aspect_ratio),
            allows(&f.styles, g.style),
            f.has_download.is_none_or(|d| d == g.has_download),
        ];
        // Whether the group passes every filter except that of dimension `d`.
        let others = |d: usize| pass.iter().enumerate().all(|(i, ok)| i == d || *ok);
        if pass.iter().all(|ok| *ok) {
            self.total += count;
        }
        if others(0) {
            self.statuses[slot(&Status::ALL, &g.status)] += count;
        }
        if others(1) {
            self.modes[slot(&Mode::ALL, &g.mode)] += count;
        }
        if others(2) {
            self.resolutions[slot(&Resolution::ALL, &g.resolution)] += count;
        }
        if others(3) {
            self.aspect_ratios[slot(&AspectRatio::ALL, &g.aspect_ratio)] += count;
        }
        if others(4) {
            *self.styles.entry(g.style.clone()).or_default() += count;
        }
        if others(5) {
            self.has_download[usize::from(g.has_download)] += count;
        }
    }

    fn finish(mut self) -> FacetCounts {
        fn listed<T: Copy>(all: &[T], counts: &[u64]) -> Vec<FacetCount<T>> {
            all.iter()
                .zip(counts)
                .map(|(value, count)| FacetCount {
                    value: *value,
                    count: *count,
                })
                .collect()
        }
        let mut styles: Vec<FacetCount<Option<String>>> = STYLE_PRESETS
            .iter()
            .map(|preset| {
                let value = Some(preset.to_string());
                let count = self.styles.remove(&value).unwrap_or(0);
                FacetCount { value, count }
            })
            .collect();
        let none = self.styles.remove(&None).unwrap_or(0);
        // Styles the Studio no longer (or not yet) lists, alphabetically.
        styles.extend(
            self.styles
                .into_iter()
                .map(|(value, count)| FacetCount { value, count }),
        );
        styles.push(FacetCount {
            value: None,
            count: none,
        });
        FacetCounts {
            total: self.total,
            statuses: listed(&Status::ALL, &self.statuses),
            modes: listed(&Mode::ALL, &self.modes),
            resolutions: listed(&Resolution::ALL, &self.resolutions),
            aspect_ratios: listed(&AspectRatio::ALL, &self.aspect_ratios),
            styles,
            has_download: vec![
                FacetCount {
                    value: true,
                    count: self.has_download[1],
                },
                FacetCount {
                    value: false,
                    count: self.has_download[0],
                },
            ],
        }
    }
}
