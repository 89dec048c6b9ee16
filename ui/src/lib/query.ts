// Pure logic behind the Library's search, filters and sorts: the state the controls edit,
// the `query` sent to the `library` / `library_counts` commands (every view is one, the
// default view included), the order each sort gives, the list its pages make, snippets as
// text parts, and a guard against stale responses (a result for an older keystroke never
// replaces a newer one).

import { STATUS_LABEL, compareNewestFirst, type LibraryList } from './library';
import { MODE_LABEL } from './references';
import { ASPECT_RATIOS, RESOLUTIONS, STYLE_PRESETS } from './studio';
import type {
  AspectRatio,
  FacetCount,
  FacetCounts,
  GenerationView,
  LibraryFilters,
  LibraryPage,
  LibraryQuery,
  Mode,
  Resolution,
  SnippetPart,
  Sort,
  Status,
} from './generated';

export type Downloaded = 'any' | 'yes' | 'no';

/** What the search field, the filter panel and the sort select hold. */
export type FilterState = {
  text: string;
  statuses: Status[];
  modes: Mode[];
  resolutions: Resolution[];
  aspectRatios: AspectRatio[];
  /** Style presets; null = no style. */
  styles: (string | null)[];
  /** A local calendar day, "YYYY-MM-DD" (as a date input gives it), or "". Inclusive. */
  from: string;
  /** A local calendar day, or "". Inclusive (the whole day). */
  to: string;
  downloaded: Downloaded;
  sort: Sort;
};

export const emptyFilters = (): FilterState => ({
  text: '',
  statuses: [],
  modes: [],
  resolutions: [],
  aspectRatios: [],
  styles: [],
  from: '',
  to: '',
  downloaded: 'any',
  sort: 'newestFirst',
});

export const SORTS: { value: Sort; label: string }[] = [
  { value: 'newestFirst', label: 'Newest first' },
  { value: 'oldestFirst', label: 'Oldest first' },
  { value: 'mostCredits', label: 'Most credits' },
  { value: 'longestFirst', label: 'Longest first' },
];

export const STATUS_OPTIONS: { value: Status; label: string }[] = (
  ['queued', 'running', 'succeeded', 'failed', 'canceled'] as Status[]
).map((value) => ({ value, label: STATUS_LABEL[value] }));

export const MODE_OPTIONS: { value: Mode; label: string }[] = (
  ['text_to_video', 'image_to_video', 'video_to_video'] as Mode[]
).map((value) => ({ value, label: MODE_LABEL[value] }));

export const RESOLUTION_OPTIONS = RESOLUTIONS;
export const ASPECT_OPTIONS = ASPECT_RATIOS;

/** The style options: what the counts list (presets, others found, then "no style"), else the presets. */
export function styleOptions(counts: FacetCounts | null): { value: string | null; label: string }[] {
  const values: (string | null)[] = counts ? counts.styles.map((s) => s.value) : [...STYLE_PRESETS, null];
  return values.map((value) => ({ value, label: value ?? 'No style' }));
}

/** How many filters are set (the search text and the sort are not filters). */
export function activeFilterCount(state: FilterState): number {
  return (
    state.statuses.length +
    state.modes.length +
    state.resolutions.length +
    state.aspectRatios.length +
    state.styles.length +
    (state.from ? 1 : 0) +
    (state.to ? 1 : 0) +
    (state.downloaded === 'any' ? 0 : 1)
  );
}

export const hasText = (state: FilterState): boolean => state.text.trim() !== '';

/**
 * True when the Library shows everything, newest first (what it opens on): a new generation then
 * belongs at the top, and there is no number of results to count.
 */
export function isDefaultView(state: FilterState): boolean {
  return !hasText(state) && activeFilterCount(state) === 0 && state.sort === 'newestFirst';
}

/** The same search and sort without any filter. */
export function clearFilters(state: FilterState): FilterState {
  return { ...emptyFilters(), text: state.text, sort: state.sort };
}

/** No search text and no filter; the sort is kept. */
export function clearAll(state: FilterState): FilterState {
  return { ...emptyFilters(), sort: state.sort };
}

/** `list` with `value` added, or removed if it was there. */
export function toggle<T>(list: readonly T[], value: T): T[] {
  return list.includes(value) ? list.filter((v) => v !== value) : [...list, value];
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * The instant (RFC 3339, UTC) a local calendar day starts, or the next day starts with
 * `nextDay` (an inclusive "to" day becomes the exclusive bound after it). Null if malformed.
 */
export function dayStart(day: string, nextDay = false): string | null {
  const m = DAY.exec(day);
  if (!m) return null;
  const [year, month, date] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const local = new Date(year, month - 1, date);
  if (local.getFullYear() !== year || local.getMonth() !== month - 1 || local.getDate() !== date) return null;
  if (nextDay) local.setDate(date + 1);
  return local.toISOString();
}

/** True when both days are set and "from" comes after "to" (nothing can match). */
export function datesReversed(state: FilterState): boolean {
  return state.from !== '' && state.to !== '' && state.from > state.to;
}

function filtersOf(state: FilterState): LibraryFilters {
  const filters: LibraryFilters = {};
  if (state.statuses.length) filters.statuses = [...state.statuses];
  if (state.modes.length) filters.modes = [...state.modes];
  if (state.resolutions.length) filters.resolutions = [...state.resolutions];
  if (state.aspectRatios.length) filters.aspectRatios = [...state.aspectRatios];
  if (state.styles.length) filters.styles = [...state.styles];
  const from = dayStart(state.from);
  if (from) filters.createdFrom = from;
  const to = dayStart(state.to, true);
  if (to) filters.createdTo = to;
  if (state.downloaded !== 'any') filters.hasDownload = state.downloaded === 'yes';
  return filters;
}

/** The `query` for one page: text as typed (blank = none), filters, sort, page size, cursor. */
export function buildQuery(state: FilterState, limit: number, after: string | null = null): LibraryQuery {
  const query: LibraryQuery = { filters: filtersOf(state), sort: state.sort, limit };
  if (hasText(state)) query.text = state.text;
  if (after !== null) query.after = after;
  return query;
}

/** The `query` for `library_counts` (the sort and paging do not change counts). */
export function buildCountsQuery(state: FilterState): LibraryQuery {
  const query: LibraryQuery = { filters: filtersOf(state) };
  if (hasText(state)) query.text = state.text;
  return query;
}

/** A key that changes exactly when the results would (not when, say, "a " becomes "a  "). */
export function queryKey(state: FilterState): string {
  return JSON.stringify(buildQuery({ ...state, text: state.text.trim().replace(/\s+/g, ' ') }, 0));
}

/** The count listed for `value`, or null when unknown. */
export function countOf<T>(list: readonly FacetCount<T>[] | undefined, value: T): number | null {
  return list?.find((c) => c.value === value)?.count ?? null;
}

// --- ordering and paging (pages added, a reloaded first page merged into what was loaded) ---

/** Negative when `a` comes before `b` under `sort` (ties go to the newer generation). */
export function compareFor(sort: Sort): (a: GenerationView, b: GenerationView) => number {
  switch (sort) {
    case 'oldestFirst':
      return (a, b) => compareNewestFirst(b, a);
    case 'mostCredits':
      return (a, b) => b.creditsCharged - a.creditsCharged || compareNewestFirst(a, b);
    case 'longestFirst':
      return (a, b) => b.settings.durationSeconds - a.settings.durationSeconds || compareNewestFirst(a, b);
    case 'newestFirst':
    default:
      return compareNewestFirst;
  }
}

/** A query's first page as the list. */
export const listOf = (page: LibraryPage): LibraryList => ({ items: [...page.items], next: page.next });

/**
 * The ids of a list's items, by its items array (never changed once made; a changed list is a
 * new array). Paging hands the set on to the longer array, so adding a page to 100,000 loaded
 * items looks only at the page.
 */
const idsOfItems = new WeakMap<readonly GenerationView[], Set<string>>();

function loadedIds(items: readonly GenerationView[]): Set<string> {
  let ids = idsOfItems.get(items);
  if (ids === undefined) {
    ids = new Set(items.map((item) => item.id));
    idsOfItems.set(items, ids);
  }
  return ids;
}

/** Add the next page of a query; an item already loaded (it moved between pages) is kept once. */
export function appendPage(list: LibraryList, page: LibraryPage): LibraryList {
  const ids = loadedIds(list.items);
  const added = page.items.filter((item) => !ids.has(item.id));
  const items = list.items.concat(added);
  idsOfItems.delete(list.items);
  for (const item of added) ids.add(item.id);
  idsOfItems.set(items, ids);
  return { items, next: page.next };
}

/**
 * Merge a freshly reloaded first page of the same query. The page is authoritative up to its
 * last item (items gone or changed there are dropped or replaced); items loaded beyond it are
 * kept, with the cursor that follows them.
 */
export function mergeFirstPage(
  list: LibraryList,
  page: LibraryPage,
  compare: (a: GenerationView, b: GenerationView) => number,
): LibraryList {
  const last = page.items.at(-1);
  if (page.next === null || last === undefined) return listOf(page);
  const pageIds = new Set(page.items.map((item) => item.id));
  // The list is in the sort's order: what lies beyond the page is a suffix (binary search,
  // so a reload stays cheap with 100,000 items loaded).
  let lo = 0;
  let hi = list.items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(list.items[mid]!, last) > 0) hi = mid;
    else lo = mid + 1;
  }
  const older = list.items.slice(lo).filter((item) => !pageIds.has(item.id));
  return { items: page.items.concat(older), next: older.length > 0 ? list.next : page.next };
}

// --- snippets --------------------------------------------------------------------------------

/**
 * What a result shows as its text: the search snippet's parts (adjacent parts of the same
 * kind joined, empty ones dropped), or the whole prompt as one plain part. Rendered as text.
 */
export function snippetParts(item: Pick<GenerationView, 'prompt' | 'snippet'>): SnippetPart[] {
  const parts: SnippetPart[] = [];
  for (const part of item.snippet ?? []) {
    if (typeof part?.text !== 'string' || part.text === '') continue;
    const highlighted = part.highlighted === true;
    const previous = parts.at(-1);
    if (previous && previous.highlighted === highlighted) previous.text += part.text;
    else parts.push({ text: part.text, highlighted });
  }
  return parts.length > 0 ? parts : [{ text: item.prompt, highlighted: false }];
}

/** True when the snippet has at least one match to show. */
export const hasHighlight = (parts: readonly SnippetPart[]): boolean => parts.some((p) => p.highlighted);

// --- results wording -------------------------------------------------------------------------

/** "No generations match", "1 result", "1,204 results". */
export function describeResults(total: number, format: (n: number) => string): string {
  if (total === 0) return 'No generations match';
  return `${format(total)} ${total === 1 ? 'result' : 'results'}`;
}

// --- request sequencing ----------------------------------------------------------------------

/**
 * Numbers requests so only the newest one's answer is used. `begin` starts a new request
 * (making every earlier one stale); `current` reads the latest number without starting one
 * (for work that belongs to the current query, e.g. the next page); `isCurrent` says whether
 * an answer may still be applied.
 */
export function requestGate() {
  let latest = 0;
  return {
    begin: () => ++latest,
    current: () => latest,
    isCurrent: (token: number) => token === latest,
  };
}

/**
 * Run `run` with the latest value, one run at a time: at once when none is running, otherwise
 * when the running one ends (the values pushed meanwhile collapse into the last). So each
 * keystroke searches as soon as the store is free — no fixed delay — and fast typing never
 * queues up searches that are already out of date.
 */
export function latestOneAtATime<T>(run: (value: T) => Promise<void>) {
  let running = false;
  let pending: { value: T } | null = null;
  const start = async (value: T) => {
    running = true;
    let next: { value: T } | null = { value };
    while (next) {
      try {
        await run(next.value);
      } catch {
        // `run` reports its own errors; the next value still runs.
      }
      next = pending;
      pending = null;
    }
    running = false;
  };
  return {
    push(value: T) {
      if (running) pending = { value };
      else void start(value);
    },
    cancel() {
      pending = null;
    },
  };
}
