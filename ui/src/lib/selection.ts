// Pure logic behind deleting from the Library: the multi-selection (toggle, Shift ranges,
// select all shown), the confirmation's words, collecting every id a query matches page by
// page, and sending deletes in chunks. A small memory of prompts lets the outbox panel say
// which generation a queued delete is about once it has left the Library.

import { formatNumber } from './format';
import type { LibraryPage } from './generated';

export type Selection = {
  readonly ids: ReadonlySet<string>;
  /** Where a Shift range starts: the last item toggled. */
  readonly anchor: string | null;
};

export const emptySelection = (): Selection => ({ ids: new Set(), anchor: null });

/** Select `id`, or unselect it if it was selected; it becomes the anchor. */
export function toggleOne(selection: Selection, id: string): Selection {
  const ids = new Set(selection.ids);
  if (ids.has(id)) ids.delete(id);
  else ids.add(id);
  return { ids, anchor: id };
}

/**
 * Select every item from the anchor to `id` (in the order of `order`, either direction),
 * keeping what was selected. Without a usable anchor this selects `id` alone.
 */
export function selectRange(selection: Selection, order: readonly string[], id: string): Selection {
  const to = order.indexOf(id);
  const from = selection.anchor === null ? -1 : order.indexOf(selection.anchor);
  if (to < 0) return selection;
  if (from < 0) return { ids: new Set(selection.ids).add(id), anchor: id };
  const ids = new Set(selection.ids);
  const [lo, hi] = from <= to ? [from, to] : [to, from];
  for (let i = lo; i <= hi; i += 1) ids.add(order[i]!);
  return { ids, anchor: selection.anchor };
}

/** Add every id of `order` (the items shown). */
export function selectAll(selection: Selection, order: readonly string[]): Selection {
  const ids = new Set(selection.ids);
  for (const id of order) ids.add(id);
  return { ids, anchor: selection.anchor };
}

/** Keep only ids still present (e.g. after a reload); the same object when nothing went. */
export function prune(selection: Selection, present: (id: string) => boolean): Selection {
  let gone = false;
  for (const id of selection.ids) if (!present(id)) gone = true;
  if (!gone) return selection;
  const ids = new Set([...selection.ids].filter(present));
  return { ids, anchor: selection.anchor !== null && present(selection.anchor) ? selection.anchor : null };
}

// --- the confirmation -------------------------------------------------------------------------

/** "Delete 3 generations?" / "Delete 1 generation?" */
export function deleteQuestion(count: number): string {
  return `Delete ${formatNumber(count)} ${count === 1 ? 'generation' : 'generations'}?`;
}

/** What happens, exactly. */
export function deleteConsequence(count: number): string {
  return `${count === 1 ? 'It is' : 'They are'} removed from this device now and from Cleom when it is reachable. This cannot be undone.`;
}

/** The whole confirmation sentence. */
export const deleteMessage = (count: number): string => `${deleteQuestion(count)} ${deleteConsequence(count)}`;

/** After a delete: "3 generations deleted." */
export function deletedMessage(count: number): string {
  return `${formatNumber(count)} ${count === 1 ? 'generation' : 'generations'} deleted.`;
}

// --- collecting and sending --------------------------------------------------------------------

/** One page of the query: `after` is the previous page's `next`. */
export type PageFetcher = (after: string | null) => Promise<LibraryPage>;

export type Collected = { ids: string[]; prompts: Map<string, string> };

/**
 * Every id the query matches, page by page (ids are kept once even if an item moves between
 * pages). `onprogress` gets the number found so far; `cancelled` is asked between pages
 * (then null is returned).
 */
export async function collectMatching(
  fetch: PageFetcher,
  onprogress: (found: number) => void = () => {},
  cancelled: () => boolean = () => false,
  keepPrompts = 5,
): Promise<Collected | null> {
  const seen = new Set<string>();
  const ids: string[] = [];
  const prompts = new Map<string, string>();
  let after: string | null = null;
  do {
    const page: LibraryPage = await fetch(after);
    if (cancelled()) return null;
    for (const item of page.items) {
      if (seen.has(item.id)) continue;
      seen.add(item.id);
      ids.push(item.id);
      if (prompts.size < keepPrompts) prompts.set(item.id, item.prompt);
      rememberPrompt(item.id, item.prompt);
    }
    onprogress(ids.length);
    after = page.next;
  } while (after !== null);
  return { ids, prompts };
}

/** `ids` in chunks of `size`. */
export function chunked<T>(ids: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < ids.length; i += size) out.push(ids.slice(i, i + size));
  return out;
}

/**
 * Send `ids` to `remove` in chunks, reporting how many were handled; returns how many the
 * backend queued. Stops at the first failure (the error propagates; earlier chunks stay done).
 */
export async function deleteInChunks(
  ids: readonly string[],
  remove: (chunk: string[]) => Promise<number>,
  onprogress: (done: number) => void = () => {},
  size = 1000,
): Promise<number> {
  let queued = 0;
  let done = 0;
  for (const chunk of chunked(ids, size)) {
    queued += await remove(chunk);
    done += chunk.length;
    onprogress(done);
  }
  return queued;
}

// --- prompts of generations that left the Library ------------------------------------------

const MAX_REMEMBERED = 5000;
const remembered = new Map<string, string>();

/** Keep `prompt` for `id` (in memory only, this session; the oldest go past a few thousand). */
export function rememberPrompt(id: string, prompt: string): void {
  remembered.delete(id);
  remembered.set(id, prompt);
  if (remembered.size > MAX_REMEMBERED) {
    const oldest = remembered.keys().next().value;
    if (oldest !== undefined) remembered.delete(oldest);
  }
}

export const rememberedPrompt = (id: string): string | undefined => remembered.get(id);

export function forgetPrompts(): void {
  remembered.clear();
}
