// Pure logic for the Library list: the newest-first order (like the store's: createdAt desc,
// then id desc), placing single items in it by id, thumbnails, and the list's bookkeeping.
// Pages are added and merged by `query` (every view, the default one included, is a query).

import type { GenerationView, LibraryCursor, Status } from './generated';

export const PAGE_SIZE = 50;

export type LibraryList = { items: GenerationView[]; next: LibraryCursor | null };

/** What places a generation in the newest-first order. */
export type CreationKey = Pick<GenerationView, 'createdAt' | 'id'>;

export const emptyList = (): LibraryList => ({ items: [], next: null });

function timeOf(iso: string): number {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
}

/** Negative when `a` is newer than `b` (so it sorts first). */
export function compareNewestFirst(a: CreationKey, b: CreationKey): number {
  const byTime = timeOf(b.createdAt) - timeOf(a.createdAt);
  if (byTime !== 0) return byTime;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** Items from `incoming` replace those with the same id; the result is sorted newest first. */
export function mergeItems(
  current: readonly GenerationView[],
  incoming: readonly GenerationView[],
): GenerationView[] {
  const byId = new Map<string, GenerationView>();
  for (const item of current) byId.set(item.id, item);
  for (const item of incoming) byId.set(item.id, item);
  return [...byId.values()].sort(compareNewestFirst);
}

/** Index of the first item of a newest-first list that is older than `boundary` (binary search). */
export function firstOlderIndex(items: readonly CreationKey[], boundary: CreationKey): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareNewestFirst(items[mid]!, boundary) > 0) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Insert or replace one item (e.g. the result of Generate). The list stays sorted; only the
 * changed part is touched, so this stays cheap with 100,000 items loaded.
 */
export function upsertItem(list: LibraryList, item: GenerationView): LibraryList {
  const items = list.items.filter((existing) => existing.id !== item.id);
  items.splice(firstOlderIndex(items, item), 0, item);
  return { items, next: list.next };
}

export function isActive(status: Status): boolean {
  return status === 'queued' || status === 'running';
}

export const STATUS_LABEL: Record<Status, string> = {
  queued: 'Queued',
  running: 'Generating',
  succeeded: 'Ready',
  failed: 'Failed',
  canceled: 'Canceled',
};

/**
 * Ids whose thumbnail should be fetched: the item has one, it is not loaded, and it was
 * not already requested for this version of the item (`attempted`: id → updatedAt), so a
 * missing thumbnail is retried only after the item changes.
 */
export function missingThumbnails(
  items: readonly GenerationView[],
  loaded: { has(id: string): boolean },
  attempted: ReadonlyMap<string, string>,
): string[] {
  return items
    .filter(
      (item) => item.hasThumbnail && !loaded.has(item.id) && attempted.get(item.id) !== item.updatedAt,
    )
    .map((item) => item.id);
}

/** Only image data URLs are used as <img src>; anything else is ignored. */
export function isImageDataUrl(value: unknown): value is string {
  return typeof value === 'string' && /^data:image\/(png|jpeg|webp|gif);base64,/.test(value);
}

/**
 * Run `task` at most once at a time; triggers that arrive while it runs collapse into one
 * more run afterwards. Keeps bursts of `library-changed` events cheap.
 */
export function coalesce(task: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let again = false;
  const run = async (): Promise<void> => {
    do {
      again = false;
      try {
        await task();
      } catch {
        // The task reports its own errors; keep the loop alive.
      }
    } while (again);
    running = null;
  };
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = run();
    return running;
  };
}

/**
 * Which generations just finished: `watched` holds the status of every item last seen queued
 * or running; items now succeeded or failed are returned (and forgotten), items now active
 * are remembered. Used for the screen-reader announcement.
 */
export function finishedSince(watched: Map<string, Status>, items: readonly GenerationView[]): GenerationView[] {
  const finished: GenerationView[] = [];
  for (const item of items) {
    if (isActive(item.status)) {
      watched.set(item.id, item.status);
    } else if (watched.has(item.id)) {
      watched.delete(item.id);
      if (item.status === 'succeeded' || item.status === 'failed') finished.push(item);
    }
  }
  return finished;
}
