import { describe, expect, it, vi } from 'vitest';
import {
  chunked,
  collectMatching,
  deleteInChunks,
  deleteMessage,
  deletedMessage,
  emptySelection,
  prune,
  rememberPrompt,
  rememberedPrompt,
  selectAll,
  selectRange,
  toggleOne,
} from './selection';
import { generation } from '../test/fixtures';
import type { LibraryPage } from './generated';

const order = ['a', 'b', 'c', 'd', 'e'];
const ids = (s: { ids: ReadonlySet<string> }) => [...s.ids].sort();

describe('selection', () => {
  it('toggles one item and makes it the anchor', () => {
    let s = toggleOne(emptySelection(), 'b');
    expect(ids(s)).toEqual(['b']);
    expect(s.anchor).toBe('b');
    s = toggleOne(s, 'b');
    expect(ids(s)).toEqual([]);
  });

  it('selects a range from the anchor in either direction, keeping what was selected', () => {
    let s = toggleOne(emptySelection(), 'b');
    s = selectRange(s, order, 'd');
    expect(ids(s)).toEqual(['b', 'c', 'd']);
    s = toggleOne(s, 'e');
    s = selectRange(s, order, 'a');
    expect(ids(s)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(ids(selectRange(emptySelection(), order, 'c'))).toEqual(['c']);
    expect(selectRange(s, order, 'zz')).toBe(s);
  });

  it('selects all shown and prunes what left', () => {
    const s = selectAll(toggleOne(emptySelection(), 'x'), order);
    expect(s.ids.size).toBe(6);
    const pruned = prune(s, (id) => id !== 'x' && id !== 'c');
    expect(ids(pruned)).toEqual(['a', 'b', 'd', 'e']);
    expect(pruned.anchor).toBeNull();
    expect(prune(pruned, () => true)).toBe(pruned);
  });
});

describe('confirmation words', () => {
  it('says exactly what goes', () => {
    expect(deleteMessage(3)).toBe(
      'Delete 3 generations? They are removed from this device now and from Cleom when it is reachable. This cannot be undone.',
    );
    expect(deleteMessage(1)).toBe(
      'Delete 1 generation? It is removed from this device now and from Cleom when it is reachable. This cannot be undone.',
    );
    expect(deleteMessage(12000)).toContain('Delete 12,000 generations?');
    expect(deletedMessage(1)).toBe('1 generation deleted.');
  });
});

describe('collecting and deleting', () => {
  it('pages through a query, keeping each id once, and reports progress', async () => {
    const pages: Record<string, LibraryPage> = {
      start: { items: [generation({ id: 'a' }), generation({ id: 'b', prompt: 'Bee' })], next: 'p2' },
      p2: { items: [generation({ id: 'b' }), generation({ id: 'c' })], next: null },
    };
    const fetch = vi.fn(async (after: string | null) => pages[after ?? 'start']!);
    const progress = vi.fn();
    const got = await collectMatching(fetch, progress);
    expect(got?.ids).toEqual(['a', 'b', 'c']);
    expect(got?.prompts.get('b')).toBe('Bee');
    expect(fetch.mock.calls.map((c) => c[0])).toEqual([null, 'p2']);
    expect(progress.mock.calls.map((c) => c[0])).toEqual([2, 3]);
    expect(rememberedPrompt('b')).toBe('Bee');
  });

  it('stops when cancelled', async () => {
    const fetch = async () => ({ items: [generation({ id: 'a' })], next: 'more' });
    expect(await collectMatching(fetch, () => {}, () => true)).toBeNull();
  });

  it('sends deletes in chunks', async () => {
    expect(chunked([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    const remove = vi.fn(async (chunk: string[]) => chunk.length);
    const progress = vi.fn();
    const all = Array.from({ length: 2500 }, (_, i) => `g${i}`);
    expect(await deleteInChunks(all, remove, progress)).toBe(2500);
    expect(remove).toHaveBeenCalledTimes(3);
    expect(progress.mock.calls.map((c) => c[0])).toEqual([1000, 2000, 2500]);
  });

  it('remembers prompts for the outbox', () => {
    rememberPrompt('q1', 'Waves');
    expect(rememberedPrompt('q1')).toBe('Waves');
    expect(rememberedPrompt('nope')).toBeUndefined();
  });
});
