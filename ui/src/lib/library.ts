// Pure logic for the Library list: ordering (newest first, like the backend's keyset
// pages: createdAt desc, then id desc) and merging pages and single items by id.

import type { GenerationView, LibraryCursor, LibraryPage, Status } from './types';

export const PAGE_SIZE = 50;

export type LibraryList = { items: GenerationView[]; next: LibraryCursor | null };

export const emptyList = (): LibraryList => ({ items: [], next: null });

function timeOf(iso: string): number {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
}

/** Negative when `a` is newer than `b` (so it sorts first). */
export function compareNewestFirst(a: LibraryCursor, b: LibraryCursor): number {
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

/** Insert or replace one item (e.g. the result of Generate). */
export function upsertItem(list: LibraryList, item: GenerationView): LibraryList {
  return { items: mergeItems(list.items, [item]), next: list.next };
}

/** Add an older page fetched with the `next` cursor ("Load more"). */
export function appendPage(list: LibraryList, page: LibraryPage): LibraryList {
  return { items: mergeItems(list.items, page.items), next: page.next };
}

/**
 * Merge a freshly reloaded first page. The page is authoritative for the range it covers
 * (so items deleted or changed there are dropped or replaced); items the user had already
 * loaded beyond that range are kept, together with the cursor that follows them.
 */
export function mergeFirstPage(list: LibraryList, page: LibraryPage): LibraryList {
  if (page.next === null) return { items: [...page.items].sort(compareNewestFirst), next: null };
  const boundary = page.next;
  const pageIds = new Set(page.items.map((item) => item.id));
  const older = list.items.filter(
    (item) => !pageIds.has(item.id) && compareNewestFirst(item, boundary) > 0,
  );
  return {
    items: mergeItems(older, page.items),
    next: older.length > 0 ? list.next : page.next,
  };
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
