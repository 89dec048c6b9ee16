// The Library's feed state and its deletes, without a component: paging, searches that replace
// the list, selection order, and what a delete takes out of the list, the selection and the
// detail view.
import { waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { LibraryDeletion } from './libraryDeletion.svelte';
import { LibraryFeed } from './libraryFeed.svelte';
import { emptyFilters } from './query';
import * as tauri from '../test/fakeTauri';
import { generation } from '../test/fixtures';
import type { GenerationView, LibraryPage, LibraryQuery } from './generated';

vi.mock('@tauri-apps/api/core', () => import('../test/fakeTauri').then((m) => m.core));
vi.mock('@tauri-apps/api/event', () => import('../test/fakeTauri').then((m) => m.event));

const g = (n: number): GenerationView =>
  generation({ id: `g${n}`, prompt: `Clip ${n}`, createdAt: new Date(Date.UTC(2025, 0, 1) - n * 1000).toISOString() });
const all = [g(1), g(2), g(3), g(4)];
const ids = (feed: LibraryFeed) => feed.list.items.map((item) => item.id);

function feedWith(options: { onreplaced?: () => void } = {}) {
  const onerror = vi.fn();
  const feed = new LibraryFeed({ onerror, ...options });
  const stop = feed.start();
  return { feed, onerror, stop };
}

describe('LibraryFeed', () => {
  beforeEach(() => {
    tauri.reset();
    tauri.handle('library', (args) => {
      const query = args.query as LibraryQuery;
      return { items: all.filter((item) => item.prompt.includes(query.text ?? '')), next: null } satisfies LibraryPage;
    });
    tauri.handle('library_counts', () => ({ total: 0, statuses: [], modes: [], resolutions: [], aspectRatios: [], styles: [] }));
    tauri.handle('library_shown', () => null);
    tauri.handle('thumbnail', () => null);
  });

  it('loads the first page on start and reloads it when the store changes', async () => {
    const { feed, stop } = feedWith();
    expect(feed.loading).toBe(true);
    await waitFor(() => expect(feed.loading).toBe(false));
    expect(ids(feed)).toEqual(['g1', 'g2', 'g3', 'g4']);
    expect(feed.querying).toBe(false);
    tauri.handle('library', () => ({ items: [g(0), ...all], next: null }));
    tauri.emit('library-changed', null);
    await waitFor(() => expect(ids(feed)).toEqual(['g0', 'g1', 'g2', 'g3', 'g4']));
    stop();
  });

  it('searches only when the query changes, and a new answer replaces the list and its selection', async () => {
    const onreplaced = vi.fn();
    const { feed, stop } = feedWith({ onreplaced });
    await waitFor(() => expect(feed.loading).toBe(false));
    feed.select(all[0]!, 'toggle');
    expect(feed.selectedCount).toBe(1);

    feed.update({ ...emptyFilters() });
    await new Promise((r) => setTimeout(r, 10));
    // Only the first page: the same query is not asked again.
    expect(tauri.callsOf('library')).toHaveLength(1);

    feed.update({ ...feed.filters, text: 'Clip 3' });
    await waitFor(() => expect(feed.shown.text).toBe('Clip 3'));
    expect(ids(feed)).toEqual(['g3']);
    expect(feed.querying).toBe(true);
    expect(feed.narrowed).toBe(true);
    expect(feed.selectedCount).toBe(0);
    expect(onreplaced).toHaveBeenCalledTimes(1);
    stop();
  });

  it('lists the selection in list order first, then ids no longer loaded', async () => {
    const { feed, stop } = feedWith();
    await waitFor(() => expect(feed.loading).toBe(false));
    feed.select(all[2]!, 'toggle');
    feed.select(all[0]!, 'toggle');
    feed.selection = { ...feed.selection, ids: new Set([...feed.selection.ids, 'gone']) };
    expect(feed.selectedInOrder()).toEqual(['g1', 'g3', 'gone']);
    stop();
  });

  it('takes deleted items out of the list, the selection and the open detail view', async () => {
    const { feed, stop } = feedWith();
    await waitFor(() => expect(feed.loading).toBe(false));
    feed.selectAllShown();
    feed.open(all[1]!);
    expect(feed.detailItem?.id).toBe('g2');
    feed.removeItems(new Set(['g2', 'g3']));
    expect(ids(feed)).toEqual(['g1', 'g4']);
    expect([...feed.selection.ids].sort()).toEqual(['g1', 'g4']);
    expect(feed.detailItem).toBeNull();
    stop();
  });
});

describe('LibraryDeletion', () => {
  beforeEach(() => {
    tauri.reset();
    tauri.handle('library', () => ({ items: all, next: null }));
    tauri.handle('library_shown', () => null);
    tauri.handle('thumbnail', () => null);
  });

  it('asks with the prompts it knows, deletes, and says what it did', async () => {
    const { feed, stop } = feedWith();
    await waitFor(() => expect(feed.loading).toBe(false));
    const deletion = new LibraryDeletion(feed);
    feed.select(all[3]!, 'toggle');
    feed.select(all[1]!, 'toggle');
    deletion.askForSelection();
    expect(deletion.confirming).toEqual({ ids: ['g2', 'g4'], prompts: ['Clip 2', 'Clip 4'] });

    let finish: (n: number) => void = () => {};
    tauri.handle('delete_generations', () => new Promise<number>((resolve) => (finish = resolve)));
    const done = deletion.perform(['g2', 'g4']);
    expect(deletion.deleting).toEqual({ done: 0, total: 2 });
    // Nothing else is asked while a delete is under way.
    deletion.ask(['g1']);
    expect(deletion.confirming?.ids).toEqual(['g2', 'g4']);
    await waitFor(() => expect(tauri.callsOf('delete_generations')).toEqual([{ ids: ['g2', 'g4'] }]));
    finish(2);
    await done;
    expect(deletion.deleting).toBeNull();
    expect(deletion.status).not.toBe('');
    expect(ids(feed)).toEqual(['g1', 'g3']);
    expect(feed.selectedCount).toBe(0);
    stop();
  });

  it('asks for every loaded item when a narrowed list has no further page', async () => {
    const { feed, stop } = feedWith();
    await waitFor(() => expect(feed.loading).toBe(false));
    const deletion = new LibraryDeletion(feed);
    await deletion.askForAllMatching();
    expect(deletion.confirming?.ids).toEqual(['g1', 'g2', 'g3', 'g4']);
    expect(deletion.collecting).toBeNull();
    stop();
  });
});
