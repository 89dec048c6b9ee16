// A delete is asked for from three places (the bulk bar, the detail view, the Delete key) and
// confirmed in a fourth (the dialog), and its progress shows in the bulk bar: the one delete
// under way, and what the Library says about it, live here so all of them see the same one.

import { api } from './api';
import type { LibraryFeed } from './libraryFeed.svelte';
import { buildQuery } from './query';
import { collectMatching, deleteInChunks, deletedMessage, rememberPrompt } from './selection';

/** How many prompts the confirmation quotes. */
const PREVIEW = 5;

export class LibraryDeletion {
  /** The delete waiting for the user's confirmation. */
  confirming = $state.raw<{ ids: string[]; prompts: string[] } | null>(null);
  /** "Delete all matching": ids found so far while paging through the query, or null. */
  collecting = $state<{ found: number; total: number | null } | null>(null);
  /** Deletes being sent: how many done of how many. */
  deleting = $state<{ done: number; total: number } | null>(null);
  /** What the last delete did (announced). */
  status = $state('');

  readonly #feed: LibraryFeed;
  #collectCancelled = false;

  constructor(feed: LibraryFeed) {
    this.#feed = feed;
  }

  /** Ask to confirm deleting `ids` (quoting some of their prompts). */
  ask(ids: string[], prompts = this.#promptsOf(ids)) {
    if (ids.length === 0 || this.deleting) return;
    this.confirming = { ids, prompts };
  }

  askForSelection() {
    this.ask(this.#feed.selectedInOrder());
  }

  /** Page through the whole query to find every id it matches, then ask. */
  async askForAllMatching() {
    if (this.collecting || this.deleting) return;
    const feed = this.#feed;
    const state = feed.shown;
    if (feed.list.next === null) {
      this.ask(feed.list.items.map((g) => g.id));
      return;
    }
    this.#collectCancelled = false;
    this.collecting = { found: 0, total: feed.shownCounts?.total ?? null };
    try {
      const found = await collectMatching(
        (after) => api.library(buildQuery(state, 500, after)),
        (n) => {
          if (this.collecting) this.collecting = { ...this.collecting, found: n };
        },
        () => this.#collectCancelled,
        PREVIEW,
      );
      if (found) this.ask(found.ids, [...found.prompts.values()]);
    } catch (e) {
      feed.fail(e);
    } finally {
      this.collecting = null;
    }
  }

  cancelCollecting() {
    this.#collectCancelled = true;
    this.collecting = null;
  }

  /** The user confirmed: delete here at once (the outbox carries it to Cleom). */
  async perform(ids: string[]) {
    const feed = this.#feed;
    const gone = new Set(ids);
    for (const g of feed.list.items) if (gone.has(g.id)) rememberPrompt(g.id, g.prompt);
    const opened = feed.detailFallback;
    if (opened && gone.has(opened.id)) rememberPrompt(opened.id, opened.prompt);
    this.deleting = { done: 0, total: ids.length };
    this.status = '';
    try {
      await deleteInChunks(ids, (chunk) => api.deleteGenerations(chunk), (done) => {
        this.deleting = { done, total: ids.length };
      });
      feed.removeItems(gone);
      this.status = deletedMessage(ids.length);
    } catch (e) {
      feed.fail(e);
      void feed.reload();
    } finally {
      this.deleting = null;
    }
  }

  #promptsOf(ids: readonly string[]): string[] {
    const byId = new Map(this.#feed.list.items.map((g) => [g.id, g.prompt]));
    const opened = this.#feed.detailFallback;
    if (opened) byId.set(opened.id, opened.prompt);
    return ids
      .slice(0, PREVIEW)
      .map((id) => byId.get(id))
      .filter((p): p is string => p !== undefined);
  }
}
