// The Library's list outlives any one piece of its markup: the toolbar edits the query, the
// bulk bar acts on the selection, the grid pages and shows thumbnails, and sync refreshes
// arrive in between. Keeping that state and its ordering rules (an older answer never replaces
// a newer one) here lets the components only draw it, and lets it be tested without a window.

import { tick } from 'svelte';
import { SvelteMap } from 'svelte/reactivity';
import { api, events } from './api';
import { Code, toAppError } from './errors';
import { formatNumber } from './format';
import {
  PAGE_SIZE,
  coalesce,
  emptyList,
  finishedSince,
  isImageDataUrl,
  missingThumbnails,
  upsertItem,
  type LibraryList,
} from './library';
import {
  activeFilterCount,
  appendPage,
  buildCountsQuery,
  buildQuery,
  compareFor,
  describeResults,
  emptyFilters,
  hasText,
  isDefaultView,
  latestOneAtATime,
  listOf,
  mergeFirstPage,
  queryKey,
  requestGate,
  type FilterState,
} from './query';
import { emptySelection, prune, selectAll, selectRange, toggleOne, type Selection } from './selection';
import type { Range } from './virtual';
import type { AppError, FacetCounts, GenerationView, Status } from './generated';

/** Counts wait for typing to pause, so they never hold up the results. */
const COUNTS_DELAY_MS = 200;

export type LibraryFeedOptions = {
  onerror: (error: AppError) => void;
  /** The list was replaced by another query's answer (the grid scrolls back to the top). */
  onreplaced?: () => void;
};

export class LibraryFeed {
  list = $state.raw<LibraryList>(emptyList());
  loading = $state(true);
  loadingMore = $state(false);
  error = $state('');
  /** Generations that just finished (announced). */
  announcement = $state('');
  /** Search, filters and sort as the controls hold them. */
  filters = $state.raw<FilterState>(emptyFilters());
  /** The query the list on screen answers (it lags `filters` while a search is under way). */
  shown = $state.raw<FilterState>(emptyFilters());
  searching = $state(false);
  filtersOpen = $state(false);
  /** Counts for `countsKey`'s query. */
  counts = $state.raw<FacetCounts | null>(null);
  countsKey = $state('');
  resultsAnnouncement = $state('');
  /** The multi-selection (ids). */
  selection = $state.raw<Selection>(emptySelection());
  /** The generation whose detail view is open. */
  detailId = $state<string | null>(null);
  /** The opened item as it was, in case it leaves the list while its detail is open. */
  detailFallback: GenerationView | null = null;
  readonly thumbnails = new SvelteMap<string, string>();

  readonly querying = $derived(!isDefaultView(this.shown));
  /** A search or a filter narrows the Library (a sort alone does not). */
  readonly narrowed = $derived(hasText(this.shown) || activeFilterCount(this.shown) > 0);
  readonly selectedCount = $derived(this.selection.ids.size);
  readonly filterCount = $derived(activeFilterCount(this.filters));
  readonly shownCounts = $derived(
    this.counts !== null && this.countsKey === queryKey(this.shown) ? this.counts : null,
  );
  readonly detailItem = $derived(
    this.detailId === null ? null : (this.list.items.find((g) => g.id === this.detailId) ?? this.detailFallback),
  );

  readonly #options: LibraryFeedOptions;
  /** Whether the first painted page was reported (`api.libraryShown`). */
  #shownReported = false;
  /** id → updatedAt of the item when its thumbnail was last requested. */
  readonly #attempted = new Map<string, string>();
  /** Items last seen queued or running, to notice when they finish. */
  readonly #watched = new Map<string, Status>();
  #visible: Range = { start: 0, end: 0, offset: 0, total: 0 };
  /** The query of the latest search started. */
  #requested: FilterState = emptyFilters();
  /** Bumped whenever the list is replaced by another query's answer. */
  #epoch = 0;
  /** Answers for an older query never replace a newer one. */
  readonly #gate = requestGate();
  readonly #countsGate = requestGate();
  #countsTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #searcher = latestOneAtATime((state: FilterState) => this.#search(state));

  constructor(options: LibraryFeedOptions) {
    this.#options = options;
  }

  /** Load the first page and follow changes to the store; returns what stops it. */
  start(): () => void {
    void this.reload();
    const stop = events.onLibraryChanged(() => void this.reload());
    return () => {
      stop();
      this.#searcher.cancel();
      clearTimeout(this.#countsTimer);
    };
  }

  /** Report a failure; offline is shown by the banner, so the saved history stays on screen. */
  fail(e: unknown) {
    const appError = toAppError(e);
    this.#options.onerror(appError);
    this.error = appError.code === Code.networkUnreachable ? '' : appError.message;
  }

  /**
   * Reload the first page of what is shown (cheap) and fetch thumbnails that are missing.
   * Items loaded beyond the first page are kept.
   */
  readonly reload = coalesce(async () => {
    const state = this.#requested;
    const token = this.#gate.current();
    try {
      // The list on screen may still answer an older query (a search is under way): then the
      // page replaces it instead of being merged into it.
      const same = queryKey(state) === queryKey(this.shown);
      const page = await api.library(buildQuery(state, PAGE_SIZE));
      if (!this.#gate.isCurrent(token)) return;
      this.list = same ? mergeFirstPage(this.list, page, compareFor(state.sort)) : listOf(page);
      if (!this.#shownReported) {
        this.#shownReported = true;
        // Read by the start-up benchmark (tests/perf) next to the page's other milestones.
        performance.mark('cleom:first-page');
        // Once the first page is painted: the start-up time is logged from there, and the
        // first sync, which waited for it, begins.
        void tick().then(() => requestAnimationFrame(() => void api.libraryShown().catch(() => null)));
      }
      this.#noticeFinished(page.items);
      if (!same) {
        this.shown = state;
        this.#epoch += 1;
      }
      this.#pruneSelection();
      this.error = '';
    } catch (e) {
      if (this.#gate.isCurrent(token)) this.fail(e);
    } finally {
      this.loading = false;
    }
    void this.#loadThumbnails();
    if (this.#countsWanted()) this.#scheduleCounts();
  });

  /** The controls changed: search again if the results would differ. */
  update(next: FilterState) {
    const changed = queryKey(next) !== queryKey(this.filters);
    this.filters = next;
    if (changed) this.#searcher.push(next);
  }

  toggleFilters() {
    this.filtersOpen = !this.filtersOpen;
    if (this.filtersOpen && this.countsKey !== queryKey(this.shown)) this.#scheduleCounts(0);
  }

  /** The next page of what is shown. */
  async loadMore(size = PAGE_SIZE) {
    const after = this.list.next;
    if (!after || this.loadingMore) return;
    const state = this.shown;
    const token = this.#gate.current();
    const base = this.#epoch;
    // The page continues this list only while no other query's answer replaced it.
    const stale = () => !this.#gate.isCurrent(token) || this.#epoch !== base;
    this.loadingMore = true;
    try {
      const page = await api.library(buildQuery(state, size, after));
      if (stale()) return;
      this.list = appendPage(this.list, page);
      this.#noticeFinished(page.items);
      this.error = '';
      void this.#loadThumbnails();
    } catch (e) {
      if (!stale()) this.fail(e);
    } finally {
      this.loadingMore = false;
    }
  }

  /** The grid scrolled: fetch the thumbnails that came into view. */
  rangeChanged(range: Range) {
    const moved = range.start !== this.#visible.start || range.end !== this.#visible.end;
    this.#visible = range;
    if (moved) void this.#loadThumbnails();
  }

  /** Show a generation the user just started (or any fresher copy of an item). */
  upsert(item: GenerationView) {
    if (!isDefaultView(this.shown)) {
      // Whether it matches the search is the store's to say.
      void this.reload();
      return;
    }
    this.list = upsertItem(this.list, item);
    this.#noticeFinished([item]);
    void this.#loadThumbnails();
  }

  /** Generations deleted here: they leave the list, the selection and the detail view. */
  removeItems(gone: ReadonlySet<string>) {
    this.list = { items: this.list.items.filter((g) => !gone.has(g.id)), next: this.list.next };
    this.selection = prune(this.selection, (id) => !gone.has(id));
    if (this.detailId !== null && gone.has(this.detailId)) this.closeDetail();
    this.error = '';
    if (this.#countsWanted()) this.#scheduleCounts(0);
  }

  // --- selection ----------------------------------------------------------------------------

  select(item: GenerationView, how: 'toggle' | 'range') {
    this.selection =
      how === 'range'
        ? selectRange(this.selection, this.#ids(), item.id)
        : toggleOne(this.selection, item.id);
  }

  selectAllShown() {
    this.selection = selectAll(this.selection, this.#ids());
  }

  clearSelection() {
    this.selection = emptySelection();
  }

  /** The selected ids: those loaded in list order first, then those no longer loaded. */
  selectedInOrder(): string[] {
    const order = this.#ids().filter((id) => this.selection.ids.has(id));
    const inOrder = new Set(order);
    const rest = [...this.selection.ids].filter((id) => !inOrder.has(id));
    return [...order, ...rest];
  }

  // --- detail view --------------------------------------------------------------------------

  open(item: GenerationView) {
    this.detailFallback = item;
    this.detailId = item.id;
  }

  closeDetail() {
    this.detailId = null;
    this.detailFallback = null;
  }

  // --- internals ----------------------------------------------------------------------------

  #ids(): string[] {
    return this.list.items.map((g) => g.id);
  }

  /** Show the first page for the search, filters and sort the controls hold now. */
  async #search(state: FilterState) {
    const token = this.#gate.begin();
    this.#requested = state;
    this.searching = true;
    try {
      const page = await api.library(buildQuery(state, PAGE_SIZE));
      if (!this.#gate.isCurrent(token)) return;
      const next = listOf(page);
      this.list = next;
      this.shown = state;
      this.#epoch += 1;
      // Another search: the selection was made among other results.
      this.selection = emptySelection();
      this.error = '';
      this.#options.onreplaced?.();
      this.#noticeFinished(next.items);
      void this.#loadThumbnails();
      if (isDefaultView(state)) this.resultsAnnouncement = 'Showing all generations.';
      if (this.#countsWanted()) this.#scheduleCounts();
    } catch (e) {
      if (this.#gate.isCurrent(token)) this.fail(e);
    } finally {
      if (this.#gate.isCurrent(token)) {
        this.searching = false;
        this.loading = false;
      }
    }
  }

  /** Drop selected ids that left the list (deleted here, or on another device). */
  #pruneSelection() {
    if (this.selection.ids.size === 0) return;
    const present = new Set(this.#ids());
    this.selection = prune(this.selection, (id) => present.has(id));
  }

  /** Fetch the thumbnails of what is on screen (and a little around it). */
  async #loadThumbnails() {
    const around = this.list.items.slice(Math.max(0, this.#visible.start - 12), this.#visible.end + 12);
    const queue = missingThumbnails(around, this.thumbnails, this.#attempted);
    for (const item of around) if (queue.includes(item.id)) this.#attempted.set(item.id, item.updatedAt);
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        try {
          const url = await api.thumbnail(id);
          if (isImageDataUrl(url)) this.thumbnails.set(id, url);
        } catch {
          // Keep the placeholder; it is retried when the item changes.
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, queue.length) }, worker));
  }

  #noticeFinished(items: readonly GenerationView[]) {
    const finished = finishedSince(this.#watched, items);
    if (finished.length === 0) return;
    const ready = finished.filter((g) => g.status === 'succeeded').length;
    const failed = finished.length - ready;
    this.announcement = [
      ready > 0 ? `${formatNumber(ready)} ${ready === 1 ? 'clip is' : 'clips are'} ready.` : '',
      failed > 0 ? `${formatNumber(failed)} ${failed === 1 ? 'generation' : 'generations'} failed.` : '',
    ].join(' ').trim();
  }

  /** Counts are needed for the filter panel, and for the number of results of a search. */
  #countsWanted(): boolean {
    return this.filtersOpen || !isDefaultView(this.shown);
  }

  #scheduleCounts(delay = COUNTS_DELAY_MS) {
    clearTimeout(this.#countsTimer);
    this.#countsTimer = setTimeout(() => void this.#loadCounts(), delay);
  }

  async #loadCounts() {
    const state = this.shown;
    const key = queryKey(state);
    const token = this.#countsGate.begin();
    try {
      const next = await api.libraryCounts(buildCountsQuery(state));
      if (!this.#countsGate.isCurrent(token) || key !== queryKey(this.shown)) return;
      this.counts = next;
      this.countsKey = key;
      if (!isDefaultView(state)) this.resultsAnnouncement = `${describeResults(next.total, formatNumber)}.`;
    } catch (e) {
      // The filters still work without their counts; an offline store is reported elsewhere.
      if (this.#countsGate.isCurrent(token)) this.#options.onerror(toAppError(e));
    }
  }
}
