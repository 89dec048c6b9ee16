import { describe, expect, it } from 'vitest';
import {
  activeFilterCount,
  appendPage,
  buildCountsQuery,
  buildQuery,
  clearAll,
  clearFilters,
  compareFor,
  countOf,
  datesReversed,
  dayStart,
  describeResults,
  emptyFilters,
  hasHighlight,
  isDefaultView,
  mergeFirstPage,
  queryKey,
  requestGate,
  snippetParts,
  styleOptions,
  latestOneAtATime,
  toggle,
  type FilterState,
} from './query';
import { formatNumber } from './format';
import { buildSettings } from './studio';
import type { FacetCounts } from './generated';
import { generation } from '../test/fixtures';

const state = (overrides: Partial<FilterState> = {}): FilterState => ({ ...emptyFilters(), ...overrides });
const ids = (items: { id: string }[]) => items.map((i) => i.id);

describe('filter state', () => {
  it('starts as the default view: everything, newest first', () => {
    expect(isDefaultView(emptyFilters())).toBe(true);
    expect(isDefaultView(state({ text: '   ' }))).toBe(true);
    expect(isDefaultView(state({ text: 'fox' }))).toBe(false);
    expect(isDefaultView(state({ sort: 'oldestFirst' }))).toBe(false);
    expect(isDefaultView(state({ statuses: ['failed'] }))).toBe(false);
    expect(isDefaultView(state({ downloaded: 'no' }))).toBe(false);
  });

  it('counts the filters set (not the text or the sort)', () => {
    expect(activeFilterCount(state({ text: 'x', sort: 'mostCredits' }))).toBe(0);
    expect(
      activeFilterCount(
        state({ statuses: ['failed', 'queued'], styles: [null], from: '2025-01-01', downloaded: 'yes' }),
      ),
    ).toBe(5);
  });

  it('toggles values in and out of a list', () => {
    expect(toggle(['a'], 'b')).toEqual(['a', 'b']);
    expect(toggle(['a', 'b'], 'a')).toEqual(['b']);
    expect(toggle<string | null>([], null)).toEqual([null]);
  });

  it('clears filters keeping the search and sort; clears all keeping the sort', () => {
    const s = state({ text: 'fox', sort: 'longestFirst', modes: ['image_to_video'], to: '2025-02-01' });
    expect(clearFilters(s)).toEqual(state({ text: 'fox', sort: 'longestFirst' }));
    expect(clearAll(s)).toEqual(state({ sort: 'longestFirst' }));
  });

  it('lists styles from the counts (others and "no style" included), else the presets', () => {
    const fallback = styleOptions(null);
    expect(fallback).toHaveLength(17);
    expect(fallback.at(-1)).toEqual({ value: null, label: 'No style' });
    const counts = { styles: [{ value: 'Anime', count: 3 }, { value: 'Retro', count: 1 }, { value: null, count: 9 }] } as FacetCounts;
    expect(styleOptions(counts).map((o) => o.label)).toEqual(['Anime', 'Retro', 'No style']);
    expect(countOf(counts.styles, null)).toBe(9);
    expect(countOf(counts.styles, 'VHS')).toBeNull();
    expect(countOf(undefined, 'VHS')).toBeNull();
  });
});

describe('dates', () => {
  it('turns local calendar days into instants; "to" is the start of the next day', () => {
    expect(dayStart('2025-03-04')).toBe(new Date(2025, 2, 4).toISOString());
    expect(dayStart('2025-03-04', true)).toBe(new Date(2025, 2, 5).toISOString());
    expect(dayStart('2024-12-31', true)).toBe(new Date(2025, 0, 1).toISOString());
    expect(dayStart('2025-02-30')).toBeNull();
    expect(dayStart('')).toBeNull();
    expect(dayStart('yesterday')).toBeNull();
  });

  it('notices a reversed range', () => {
    expect(datesReversed(state({ from: '2025-02-01', to: '2025-01-01' }))).toBe(true);
    expect(datesReversed(state({ from: '2025-01-01', to: '2025-01-01' }))).toBe(false);
    expect(datesReversed(state({ from: '2025-02-01' }))).toBe(false);
  });
});

describe('buildQuery', () => {
  it('sends the text as typed, only the filters set, the sort and the page', () => {
    expect(buildQuery(state({ text: ' red fox ' }), 50)).toEqual({
      text: ' red fox ',
      filters: {},
      sort: 'newestFirst',
      limit: 50,
    });
    expect(
      buildQuery(
        state({
          statuses: ['succeeded'],
          modes: ['text_to_video'],
          resolutions: ['4k'],
          aspectRatios: ['9:16'],
          styles: ['Anime', null],
          from: '2025-01-01',
          to: '2025-01-31',
          downloaded: 'no',
          sort: 'mostCredits',
        }),
        200,
        'c.700.42',
      ),
    ).toEqual({
      filters: {
        statuses: ['succeeded'],
        modes: ['text_to_video'],
        resolutions: ['4k'],
        aspectRatios: ['9:16'],
        styles: ['Anime', null],
        createdFrom: new Date(2025, 0, 1).toISOString(),
        createdTo: new Date(2025, 1, 1).toISOString(),
        hasDownload: false,
      },
      sort: 'mostCredits',
      limit: 200,
      after: 'c.700.42',
    });
  });

  it('leaves blank text and malformed days out', () => {
    const q = buildQuery(state({ text: '  ', from: 'nope', downloaded: 'yes' }), 50);
    expect(q).not.toHaveProperty('text');
    expect(q.filters).toEqual({ hasDownload: true });
  });

  it('counts ignore the sort and the page', () => {
    expect(buildCountsQuery(state({ text: 'fox', sort: 'oldestFirst', statuses: ['failed'] }))).toEqual({
      text: 'fox',
      filters: { statuses: ['failed'] },
    });
  });

  it('has a key that changes exactly with the query', () => {
    expect(queryKey(state({ text: 'fox' }))).toBe(queryKey(state({ text: 'fox' })));
    expect(queryKey(state({ text: 'fox' }))).not.toBe(queryKey(state({ text: 'fox', sort: 'oldestFirst' })));
    expect(queryKey(state({ from: '2025-02-31' }))).toBe(queryKey(state()));
  });
});

describe('ordering and paging', () => {
  const a = generation({ id: 'a', createdAt: '2025-01-03T00:00:00Z', creditsCharged: 100, settings: buildSettings(30, '1080p') });
  const b = generation({ id: 'b', createdAt: '2025-01-02T00:00:00Z', creditsCharged: 900, settings: buildSettings(5, '1080p') });
  const c = generation({ id: 'c', createdAt: '2025-01-01T00:00:00Z', creditsCharged: 100, settings: buildSettings(60, '1080p') });
  const sorted = (sort: Parameters<typeof compareFor>[0]) => ids([c, a, b].sort(compareFor(sort)));

  it('orders like each sort, ties to the newer', () => {
    expect(sorted('newestFirst')).toEqual(['a', 'b', 'c']);
    expect(sorted('oldestFirst')).toEqual(['c', 'b', 'a']);
    expect(sorted('mostCredits')).toEqual(['b', 'a', 'c']);
    expect(sorted('longestFirst')).toEqual(['c', 'a', 'b']);
  });

  it('appends the next page once per id', () => {
    const list = appendPage({ items: [a, b], next: 'n.2' }, { items: [b, c], next: null });
    expect(ids(list.items)).toEqual(['a', 'b', 'c']);
    expect(list.next).toBeNull();
  });

  it('merges a reloaded first page, keeping what was loaded beyond it', () => {
    const fresh = { ...b, status: 'failed' as const };
    const merged = mergeFirstPage({ items: [b, a, c], next: 'n.3' }, { items: [fresh], next: 'n.1' }, compareFor('mostCredits'));
    expect(ids(merged.items)).toEqual(['b', 'a', 'c']);
    expect(merged.items[0]!.status).toBe('failed');
    expect(merged.next).toBe('n.3');
    // Nothing loaded beyond: the page's own cursor.
    expect(mergeFirstPage({ items: [b], next: 'old' }, { items: [b], next: 'new' }, compareFor('mostCredits')).next).toBe('new');
    // A last page is the whole answer.
    expect(ids(mergeFirstPage({ items: [a, b, c], next: null }, { items: [c], next: null }, compareFor('newestFirst')).items)).toEqual(['c']);
  });
});

describe('snippetParts', () => {
  it('shows the snippet with its highlighted parts, joined and without empty parts', () => {
    const parts = snippetParts({
      prompt: 'A red fox in the snow',
      snippet: [
        { text: '…a ', highlighted: false },
        { text: '', highlighted: true },
        { text: 'red', highlighted: true },
        { text: ' ', highlighted: false },
        { text: 'fox', highlighted: true },
        { text: ' in', highlighted: false },
      ],
    });
    expect(parts).toEqual([
      { text: '…a ', highlighted: false },
      { text: 'red', highlighted: true },
      { text: ' ', highlighted: false },
      { text: 'fox', highlighted: true },
      { text: ' in', highlighted: false },
    ]);
    expect(hasHighlight(parts)).toBe(true);
  });

  it('falls back to the whole prompt, as plain text', () => {
    const prompt = '<img src=x onerror=alert(1)>';
    expect(snippetParts({ prompt, snippet: null })).toEqual([{ text: prompt, highlighted: false }]);
    expect(snippetParts({ prompt, snippet: [{ text: '', highlighted: true }] })).toEqual([{ text: prompt, highlighted: false }]);
  });

  it('keeps markup in a snippet as text', () => {
    const parts = snippetParts({ prompt: 'x', snippet: [{ text: '<img src=x onerror=alert(1)>', highlighted: true }] });
    expect(parts).toEqual([{ text: '<img src=x onerror=alert(1)>', highlighted: true }]);
  });
});

describe('describeResults', () => {
  it('words the number of results', () => {
    expect(describeResults(0, formatNumber)).toBe('No generations match');
    expect(describeResults(1, formatNumber)).toBe('1 result');
    expect(describeResults(1204, formatNumber)).toBe('1,204 results');
  });
});

describe('requestGate', () => {
  it('only the newest request may apply its answer', async () => {
    const gate = requestGate();
    const applied: string[] = [];
    const answer = (text: string, ms: number) =>
      new Promise<string>((resolve) => setTimeout(() => resolve(text), ms));
    const search = async (text: string, ms: number) => {
      const token = gate.begin();
      const result = await answer(text, ms);
      if (gate.isCurrent(token)) applied.push(result);
    };
    // "f" answers last: it must not replace the answer for "fo".
    await Promise.all([search('f', 30), search('fo', 5)]);
    expect(applied).toEqual(['fo']);
    // Work for the current query (a next page) reads the token without starting a request.
    const token = gate.current();
    expect(gate.isCurrent(token)).toBe(true);
    gate.begin();
    expect(gate.isCurrent(token)).toBe(false);
  });
});

describe('latestOneAtATime', () => {
  /** A run that ends when the test says so. */
  function controlled() {
    const calls: string[] = [];
    const ends: (() => void)[] = [];
    const run = (value: string) => {
      calls.push(value);
      return new Promise<void>((resolve) => ends.push(resolve));
    };
    const finish = async () => {
      ends.shift()?.();
      await Promise.resolve();
      await Promise.resolve();
    };
    return { calls, run, finish };
  }

  it('runs at once when idle, and only the latest value after the running one', async () => {
    const c = controlled();
    const q = latestOneAtATime(c.run);
    q.push('f');
    expect(c.calls).toEqual(['f']);
    q.push('fo');
    q.push('fox');
    expect(c.calls).toEqual(['f']);
    await c.finish();
    expect(c.calls).toEqual(['f', 'fox']);
    await c.finish();
    // Idle again: the next value runs at once, without waiting for any interval.
    q.push('foxe');
    expect(c.calls).toEqual(['f', 'fox', 'foxe']);
  });

  it('keeps going after a failed run and can drop what waits', async () => {
    const calls: number[] = [];
    let fail = true;
    const q = latestOneAtATime(async (value: number) => {
      calls.push(value);
      if (fail) {
        fail = false;
        throw new Error('no');
      }
    });
    q.push(1);
    q.push(2);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(calls).toEqual([1, 2]);
    const c = controlled();
    const q2 = latestOneAtATime(c.run);
    q2.push('a');
    q2.push('b');
    q2.cancel();
    await c.finish();
    expect(c.calls).toEqual(['a']);
  });
});
