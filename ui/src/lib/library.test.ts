import { describe, expect, it } from 'vitest';
import type { Status } from './generated';
import {
  coalesce,
  compareNewestFirst,
  finishedSince,
  firstOlderIndex,
  isImageDataUrl,
  missingThumbnails,
  upsertItem,
  type LibraryList,
} from './library';
import { appendPage, compareFor, mergeFirstPage } from './query';
import { generation } from '../test/fixtures';

// g5 newest … g1 oldest, one minute apart.
const at = (n: number) => `2025-01-01T10:0${n}:00Z`;
const g = (n: number, extra = {}) => generation({ id: `g${n}`, createdAt: at(n), ...extra });
const ids = (list: { id: string }[]) => list.map((item) => item.id);
// The store's cursors are opaque strings; these stand for "after gN".
const cursor = (n: number) => `n.${n}`;
const newestFirst = compareFor('newestFirst');

describe('ordering', () => {
  it('sorts newest first, then by id descending on equal times', () => {
    const same = '2025-01-01T10:00:00Z';
    const items = [g(1), g(3), generation({ id: 'a', createdAt: same }), generation({ id: 'b', createdAt: same })];
    expect(ids(items.sort(compareNewestFirst))).toEqual(['g3', 'g1', 'b', 'a']);
  });

  it('compares instants, not strings', () => {
    expect(compareNewestFirst({ createdAt: '2025-01-01T11:00:00+01:00', id: 'x' }, { createdAt: '2025-01-01T10:30:00Z', id: 'y' })).toBeGreaterThan(0);
  });
});

describe('upsertItem', () => {
  it('replaces items by id and keeps one copy', () => {
    const merged = upsertItem({ items: [g(2), g(1)], next: null }, g(2, { status: 'running', progress: 0.5 })).items;
    expect(ids(merged)).toEqual(['g2', 'g1']);
    expect(merged[0]!.status).toBe('running');
  });

  it('prepends a new generation and keeps the cursor', () => {
    const list: LibraryList = { items: [g(2), g(1)], next: cursor(1) };
    const next = upsertItem(list, g(5, { status: 'queued' }));
    expect(ids(next.items)).toEqual(['g5', 'g2', 'g1']);
    expect(next.next).toEqual(cursor(1));
    expect(list.items).toHaveLength(2); // not mutated
  });
});

describe('appendPage', () => {
  it('adds older items and moves the cursor', () => {
    const list: LibraryList = { items: [g(5), g(4)], next: cursor(4) };
    const next = appendPage(list, { items: [g(3), g(2)], next: cursor(2) });
    expect(ids(next.items)).toEqual(['g5', 'g4', 'g3', 'g2']);
    expect(next.next).toEqual(cursor(2));
  });
});

describe('mergeFirstPage', () => {
  it('takes a complete first page as the whole list (drops deleted items)', () => {
    const list: LibraryList = { items: [g(3), g(2), g(1)], next: null };
    const next = mergeFirstPage(list, { items: [g(4), g(3), g(1)], next: null }, newestFirst);
    expect(ids(next.items)).toEqual(['g4', 'g3', 'g1']);
    expect(next.next).toBeNull();
  });

  it('keeps pages loaded beyond the first and their cursor', () => {
    // Loaded: first page g5,g4 then "Load more" g3,g2; more remain after g2.
    const list: LibraryList = { items: [g(5), g(4), g(3), g(2)], next: cursor(2) };
    // g4 changed; first page now covers g5,g4 only.
    const next = mergeFirstPage(list, { items: [g(5), g(4, { status: 'failed' })], next: cursor(4) }, newestFirst);
    expect(ids(next.items)).toEqual(['g5', 'g4', 'g3', 'g2']);
    expect(next.items[1]!.status).toBe('failed');
    expect(next.next).toEqual(cursor(2));
  });

  it('keeps an item pushed past the page by a newer one, with the old cursor', () => {
    const list: LibraryList = { items: [g(4), g(3)], next: cursor(3) };
    const next = mergeFirstPage(list, { items: [g(5), g(4)], next: cursor(4) }, newestFirst);
    expect(ids(next.items)).toEqual(['g5', 'g4', 'g3']);
    expect(next.next).toEqual(cursor(3));
  });

  it('uses the page cursor when nothing beyond it was loaded', () => {
    const list: LibraryList = { items: [g(4)], next: null };
    const next = mergeFirstPage(list, { items: [g(5), g(4)], next: cursor(4) }, newestFirst);
    expect(ids(next.items)).toEqual(['g5', 'g4']);
    expect(next.next).toEqual(cursor(4));
  });

  it('drops an item deleted from the range the page covers', () => {
    const list: LibraryList = { items: [g(5), g(4), g(3), g(2)], next: cursor(2) };
    const next = mergeFirstPage(list, { items: [g(5), g(3)], next: cursor(3) }, newestFirst);
    expect(ids(next.items)).toEqual(['g5', 'g3', 'g2']);
  });
});

describe('thumbnails', () => {
  it('asks only for missing, not yet attempted thumbnails', () => {
    const items = [g(3, { hasThumbnail: true }), g(2, { hasThumbnail: true }), g(1, { hasThumbnail: false })];
    const loaded = new Set(['g3']);
    expect(missingThumbnails(items, loaded, new Map())).toEqual(['g2']);
    expect(missingThumbnails(items, loaded, new Map([['g2', items[1]!.updatedAt]]))).toEqual([]);
    // The item changed since the last attempt: try again.
    expect(missingThumbnails(items, loaded, new Map([['g2', 'older']]))).toEqual(['g2']);
  });

  it('accepts only image data URLs', () => {
    expect(isImageDataUrl('data:image/png;base64,iVBORw0KGgo=')).toBe(true);
    expect(isImageDataUrl('https://example.com/x.png')).toBe(false);
    expect(isImageDataUrl('javascript:alert(1)')).toBe(false);
    expect(isImageDataUrl('data:text/html;base64,PHNjcmlwdD4=')).toBe(false);
    expect(isImageDataUrl(null)).toBe(false);
  });
});

describe('coalesce', () => {
  it('runs at most once at a time and once more for triggers during a run', async () => {
    let runs = 0;
    let release: () => void = () => {};
    const task = coalesce(async () => {
      runs += 1;
      await new Promise<void>((resolve) => (release = resolve));
    });
    const first = task();
    void task();
    void task();
    expect(runs).toBe(1);
    release();
    await new Promise((r) => setTimeout(r, 0));
    expect(runs).toBe(2);
    release();
    await first;
    expect(runs).toBe(2);
  });

  it('survives a failing task', async () => {
    let runs = 0;
    const task = coalesce(async () => {
      runs += 1;
      throw new Error('nope');
    });
    await task();
    await task();
    expect(runs).toBe(2);
  });
});

describe('with a large library', () => {
  const at = (i: number) =>
    generation({ id: `g${String(i).padStart(6, '0')}`, createdAt: new Date(Date.UTC(2025, 0, 1) - i * 1000).toISOString() });
  const many = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => at(from + k));

  it('appends 100,000 items page by page without re-sorting, in order', () => {
    let list: LibraryList = { items: [], next: null };
    for (let p = 0; p < 500; p += 1) {
      const items = many(p * 200, (p + 1) * 200);
      list = appendPage(list, { items, next: p < 499 ? `n.${items.at(-1)!.id}` : null });
    }
    expect(list.items).toHaveLength(100_000);
    expect(list.items[99_999]!.id).toBe('g099999');

    // A reload of the first page keeps everything loaded beyond it, cheaply.
    const page = many(0, 50).map((g) => (g.id === 'g000003' ? { ...g, status: 'failed' as Status } : g));
    const merged = mergeFirstPage(list, { items: page, next: `n.${page.at(-1)!.id}` }, newestFirst);
    expect(merged.items).toHaveLength(100_000);
    expect(merged.items[3]!.status).toBe('failed');
    expect(merged.next).toBeNull();

    const fresh = generation({ id: 'new', createdAt: '2025-06-01T00:00:00Z' });
    const upserted = upsertItem(merged, fresh);
    expect(upserted.items[0]!.id).toBe('new');
    expect(upserted.items).toHaveLength(100_001);
  });

  it('finds where older items start', () => {
    const items = many(0, 10);
    expect(firstOlderIndex(items, items[4]!)).toBe(5);
    expect(firstOlderIndex(items, { createdAt: '2030-01-01T00:00:00Z', id: 'x' })).toBe(0);
    expect(firstOlderIndex([], items[0]!)).toBe(0);
  });
});

describe('finishedSince', () => {
  it('reports items seen running that are now done, once', () => {
    const watched = new Map<string, Status>();
    expect(finishedSince(watched, [generation({ id: 'a', status: 'running' }), generation({ id: 'b', status: 'succeeded' })])).toEqual([]);
    const done = finishedSince(watched, [generation({ id: 'a', status: 'succeeded' }), generation({ id: 'b', status: 'succeeded' })]);
    expect(done.map((g) => g.id)).toEqual(['a']);
    expect(finishedSince(watched, [generation({ id: 'a', status: 'succeeded' })])).toEqual([]);
  });

  it('reports failures but not cancellations', () => {
    const watched = new Map<string, Status>([['a', 'queued'], ['b', 'running']]);
    const done = finishedSince(watched, [generation({ id: 'a', status: 'failed' }), generation({ id: 'b', status: 'canceled' })]);
    expect(done.map((g) => g.id)).toEqual(['a']);
    expect(watched.size).toBe(0);
  });
});
