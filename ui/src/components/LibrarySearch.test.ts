// The Library's search, filters, sorts and detail view against a fake backend.
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import Library from './Library.svelte';
import * as tauri from '../test/fakeTauri';
import { generation } from '../test/fixtures';
import type { FacetCounts, GenerationView, LibraryPage, LibraryQuery } from '../lib/generated';

vi.mock('@tauri-apps/api/core', () => import('../test/fakeTauri').then((m) => m.core));
vi.mock('@tauri-apps/api/event', () => import('../test/fakeTauri').then((m) => m.event));

const XSS = '<img src=x onerror=alert(1)>';
const PNG = 'data:image/png;base64,iVBORw0KGgo=';

const $ = (selector: string) => document.querySelector(selector) as HTMLElement | null;
const must = <T extends HTMLElement = HTMLElement>(selector: string) => {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`${selector} not found`);
  return el;
};
const rendered = () => [...document.querySelectorAll<HTMLElement>('[data-testid="generation"]')];
const renderedIds = () => rendered().map((el) => el.dataset.id);

const all: GenerationView[] = [
  generation({ id: 'g3', prompt: 'A red fox in the snow', createdAt: '2025-01-03T10:00:00Z' }),
  generation({ id: 'g2', prompt: XSS, createdAt: '2025-01-02T10:00:00Z', status: 'failed', error: 'Out of credits' }),
  generation({ id: 'g1', prompt: 'Waves at dawn', createdAt: '2025-01-01T10:00:00Z' }),
];

function counts(total: number): FacetCounts {
  return {
    total,
    statuses: [
      { value: 'queued', count: 0 },
      { value: 'running', count: 0 },
      { value: 'succeeded', count: 2 },
      { value: 'failed', count: 1 },
      { value: 'canceled', count: 0 },
    ],
    modes: [
      { value: 'text_to_video', count: 3 },
      { value: 'image_to_video', count: 0 },
      { value: 'video_to_video', count: 0 },
    ],
    resolutions: [
      { value: '1080p', count: 3 },
      { value: '2k', count: 0 },
      { value: '4k', count: 0 },
    ],
    aspectRatios: [
      { value: '16:9', count: 3 },
      { value: '9:16', count: 0 },
      { value: '1:1', count: 0 },
      { value: '21:9', count: 0 },
      { value: '4:3', count: 0 },
    ],
    styles: [
      { value: 'Anime', count: 0 },
      { value: null, count: 3 },
    ],
    hasDownload: [
      { value: true, count: 1 },
      { value: false, count: 2 },
    ],
  };
}

/** A tiny query engine over `all`: text = substring, statuses filter, two sorts, pages of `limit`. */
function answer(query: LibraryQuery): LibraryPage {
  const text = query.text?.trim().toLowerCase() ?? '';
  let items = all.filter((g) => g.prompt.toLowerCase().includes(text));
  if (query.filters?.statuses?.length) items = items.filter((g) => query.filters!.statuses!.includes(g.status));
  if (query.sort === 'oldestFirst') items = [...items].reverse();
  const start = query.after ? Number(query.after) : 0;
  const limit = query.limit ?? 50;
  const page = items.slice(start, start + limit).map((g) => {
    if (!text) return g;
    const at = g.prompt.toLowerCase().indexOf(text);
    const snippet = [
      { text: g.prompt.slice(0, at), highlighted: false },
      { text: g.prompt.slice(at, at + text.length), highlighted: true },
      { text: g.prompt.slice(at + text.length), highlighted: false },
    ];
    return { ...g, snippet };
  });
  return { items: page, next: start + limit < items.length ? String(start + limit) : null };
}

function backend() {
  tauri.handle('library', (args) => answer(args.query as LibraryQuery));
  tauri.handle('library_counts', (args) => {
    const q = args.query as LibraryQuery;
    const matching = answer({ ...q, limit: 500 }).items.length;
    return counts(matching);
  });
  tauri.handle('library_item', (args) => {
    const found = all.find((g) => g.id === args.id);
    return found ? { ...found, thumbnail: PNG } : null;
  });
  tauri.handle('thumbnail', () => null);
}

async function library(props: Record<string, unknown> = {}) {
  const result = render(Library, { onerror: vi.fn(), ...props });
  await waitFor(() => expect(rendered()).toHaveLength(3));
  return result;
}

/** The queries sent other than the default view's (everything, newest first). */
const queries = () =>
  tauri
    .callsOf('library')
    .map((args) => args.query as LibraryQuery)
    .filter((q) => q.text !== undefined || Object.keys(q.filters ?? {}).length > 0 || q.sort !== 'newestFirst');

async function type(text: string) {
  await fireEvent.input(must('#library-search'), { target: { value: text } });
}

describe('Library search', () => {
  beforeEach(() => {
    tauri.reset();
    localStorage.clear();
  });

  it('has a labelled search field that searches as you type and highlights the matches as text', async () => {
    backend();
    await library();
    const field = must<HTMLInputElement>('#library-search');
    expect(field.labels?.[0]?.textContent).toBe('Search the Library');
    expect(field.closest('[role="search"]')).not.toBeNull();

    await type('fox');
    await waitFor(() => expect(renderedIds()).toEqual(['g3']));
    expect(must('#library').dataset.resultsFor).toBe('fox');
    expect(queries().at(-1)).toEqual({ text: 'fox', filters: {}, sort: 'newestFirst', limit: 50 });
    const prompt = must('[data-id="g3"] .prompt');
    expect(prompt.textContent).toBe('A red fox in the snow');
    expect([...prompt.querySelectorAll('mark')].map((m) => m.textContent)).toEqual(['fox']);
    // The number of results is announced once the counts arrive.
    await waitFor(() => expect(must('#library-results').textContent).toBe('1 result.'));
    expect(must('#library-count').textContent?.trim()).toBe('1 result');
    expect(must('#library-results').getAttribute('role')).toBe('status');
  });

  it('shows a hostile prompt and its snippet literally', async () => {
    backend();
    const { container } = await library();
    await type('onerror');
    await waitFor(() => expect(renderedIds()).toEqual(['g2']));
    const prompt = must('[data-id="g2"] .prompt');
    expect(prompt.textContent).toBe(XSS);
    expect(prompt.querySelector('mark')?.textContent).toBe('onerror');
    expect(container.querySelector('img[src="x"]')).toBeNull();
  });

  it('sends one search at a time and ends on the latest text, skipping what was typed meanwhile', async () => {
    backend();
    await library();
    const pending: { text: string; resolve: (page: LibraryPage) => void }[] = [];
    tauri.handle('library', (args) => {
      const query = args.query as LibraryQuery;
      return new Promise<LibraryPage>((resolve) => pending.push({ text: query.text ?? '', resolve }));
    });
    await type('w');
    await waitFor(() => expect(pending.map((p) => p.text)).toEqual(['w']));
    await type('wa');
    await type('wav');
    await new Promise((r) => setTimeout(r, 20));
    expect(pending.map((p) => p.text)).toEqual(['w']);
    // The slow "w" answers: then "wav" (not the outdated "wa") is sent.
    pending[0]!.resolve(answer({ text: 'w' }));
    await waitFor(() => expect(pending.map((p) => p.text)).toEqual(['w', 'wav']));
    pending[1]!.resolve(answer({ text: 'wav' }));
    await waitFor(() => expect(must('#library').dataset.resultsFor).toBe('wav'));
    expect(renderedIds()).toEqual(['g1']);
  });

  it('clears the search with Escape and goes to the results with the down arrow', async () => {
    backend();
    await library();
    await type('fox');
    await waitFor(() => expect(renderedIds()).toEqual(['g3']));
    await fireEvent.keyDown(must('#library-search'), { key: 'ArrowDown' });
    await waitFor(() => expect((document.activeElement as HTMLElement).dataset.id).toBe('g3'));
    must('#library-search').focus();
    await fireEvent.keyDown(must('#library-search'), { key: 'Escape' });
    expect(must<HTMLInputElement>('#library-search').value).toBe('');
    await waitFor(() => expect(renderedIds()).toEqual(['g3', 'g2', 'g1']));
    // Back to everything: the default view's query again.
    expect(tauri.callsOf('library').at(-1)).toEqual({ query: { filters: {}, sort: 'newestFirst', limit: 50 } });
    expect(must('#library-count').textContent?.trim()).toBe('3 generations');
  });

  it('filters by status with counts, sorts, and clears the filters', async () => {
    backend();
    await library();
    const toggle = must('#library-filters-toggle');
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    expect($('#library-filters')).toBeNull();
    await fireEvent.click(toggle);
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    expect(toggle.getAttribute('aria-controls')).toBe('library-filters');
    // Every option is labelled and shows its count.
    await waitFor(() => expect(must('label[for="filter-status-failed"]').textContent).toBe('Failed (1)'));
    expect(must('label[for="filter-style-none"]').textContent).toBe('No style (3)');
    expect(must('label[for="filter-aspect-16-9"]').textContent).toBe('16:9 landscape (3)');
    expect(must('#filter-downloaded').textContent).toContain('Downloaded (1)');
    expect(tauri.callsOf('library_counts')[0]).toEqual({ query: { filters: {} } });

    await fireEvent.click(must('#filter-status-failed'));
    await waitFor(() => expect(renderedIds()).toEqual(['g2']));
    expect(queries().at(-1)).toEqual({ filters: { statuses: ['failed'] }, sort: 'newestFirst', limit: 50 });
    expect(toggle.textContent?.trim()).toBe('Filters (1)');
    await waitFor(() => expect(tauri.callsOf('library_counts').at(-1)).toEqual({ query: { filters: { statuses: ['failed'] } } }));

    await fireEvent.click(must('#filter-status-failed'));
    await fireEvent.click(must('#filter-status-succeeded'));
    const sort = must<HTMLSelectElement>('#library-sort');
    expect(sort.labels?.[0]?.textContent).toBe('Sort');
    sort.value = 'oldestFirst';
    await fireEvent.change(sort);
    await waitFor(() => expect(renderedIds()).toEqual(['g1', 'g3']));
    expect(queries().at(-1)).toEqual({ filters: { statuses: ['succeeded'] }, sort: 'oldestFirst', limit: 50 });

    await fireEvent.click(must('#library-clear-filters'));
    await waitFor(() => expect(renderedIds()).toEqual(['g1', 'g2', 'g3']));
    expect(must<HTMLInputElement>('#filter-status-succeeded').checked).toBe(false);
    expect(sort.value).toBe('oldestFirst');
  });

  it('sends the date range and the download filter', async () => {
    backend();
    await library();
    await fireEvent.click(must('#library-filters-toggle'));
    await fireEvent.change(must('#filter-from'), { target: { value: '2025-01-02' } });
    await fireEvent.change(must('#filter-to'), { target: { value: '2025-01-02' } });
    const downloaded = must<HTMLSelectElement>('#filter-downloaded');
    downloaded.value = 'yes';
    await fireEvent.change(downloaded);
    await waitFor(() =>
      expect(queries().at(-1)?.filters).toEqual({
        createdFrom: new Date(2025, 0, 2).toISOString(),
        createdTo: new Date(2025, 0, 3).toISOString(),
        hasDownload: true,
      }),
    );
  });

  it('says when nothing matches and offers to clear', async () => {
    backend();
    await library();
    await type('zebra');
    await waitFor(() => must('#library-empty'));
    expect(must('#library-empty').textContent).toContain('Nothing matches');
    await waitFor(() => expect(must('#library-results').textContent).toBe('No generations match.'));
    await fireEvent.click(must('#library-empty-clear'));
    await waitFor(() => expect(rendered()).toHaveLength(3));
    expect(must<HTMLInputElement>('#library-search').value).toBe('');
  });

  it('pages a search with the opaque cursor as the end comes near', async () => {
    const many = Array.from({ length: 700 }, (_, i) =>
      generation({ id: `m${String(i).padStart(4, '0')}`, prompt: `Clip ${i}`, createdAt: new Date(Date.UTC(2025, 0, 1) - i * 1000).toISOString() }),
    );
    tauri.handle('library', (args) => {
      const query = args.query as LibraryQuery;
      const start = query.after ? Number(query.after.slice(2)) : 0;
      const items = many.slice(start, start + (query.limit ?? 50));
      return { items, next: start + items.length < many.length ? `x.${start + items.length}` : null };
    });
    tauri.handle('library_counts', () => counts(700));
    tauri.handle('thumbnail', () => null);
    render(Library, { onerror: vi.fn() });
    await waitFor(() => expect(rendered().length).toBeGreaterThan(0));
    await type('clip');
    await waitFor(() => expect(queries()).toHaveLength(1));
    await waitFor(() => expect(must('[data-testid="library-scroller"]').dataset.count).toBe('50'));
    const first = rendered()[0]!;
    first.focus();
    await fireEvent.keyDown(first, { key: 'End' });
    await waitFor(() => expect(must('[data-testid="library-scroller"]').dataset.count).toBe('250'));
    expect(queries()[1]).toEqual({ text: 'clip', filters: {}, sort: 'newestFirst', limit: 200, after: 'x.50' });
    expect(rendered().length).toBeLessThan(30);
  });
});

describe('Library detail view', () => {
  beforeEach(() => {
    tauri.reset();
    localStorage.clear();
  });

  it('opens from an item with Enter, shows every setting, and closes with Escape', async () => {
    backend();
    await library();
    const item = must('[data-id="g2"]');
    item.focus();
    await fireEvent.keyDown(item, { key: 'Enter' });
    const dialog = await waitFor(() => must('#generation-detail'));
    expect(dialog.getAttribute('aria-labelledby')).toBe('detail-title');
    expect(tauri.callsOf('library_item')).toEqual([{ id: 'g2' }]);
    await waitFor(() => expect(must('#detail-poster').getAttribute('src')).toBe(PNG));
    expect(must('#detail-prompt').textContent).toBe(XSS);
    expect(dialog.querySelector('img[src="x"]')).toBeNull();
    expect(must('#detail-error').textContent).toBe('Out of credits');
    expect(must('#detail-credits').textContent).toBe('700 credits');
    expect(must('#detail-status-value').dataset.status).toBe('failed');
    const labels = [...must('#detail-settings').querySelectorAll('dt')].map((dt) => dt.textContent);
    expect(labels).toEqual(['Duration', 'Resolution', 'Aspect ratio', 'Style', 'Subject', 'Pacing', 'Voice over', 'Music', 'Subtitles']);
    // Only the actions that exist today.
    expect([...dialog.querySelectorAll('button')].map((b) => b.textContent?.trim())).toEqual([
      '×',
      'Delete',
      'Copy prompt',
      'Reuse settings in Studio',
    ]);

    await fireEvent.keyDown(dialog, { key: 'Escape' });
    await waitFor(() => expect($('#generation-detail')).toBeNull());
    await waitFor(() => expect(document.activeElement).toBe(must('[data-id="g2"]')));
  });

  it('opens with a click, copies the prompt, and hands the settings to the Studio', async () => {
    backend();
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const onreuse = vi.fn();
    await library({ onreuse });
    await fireEvent.click(must('[data-id="g3"]'));
    await waitFor(() => must('#generation-detail'));
    await fireEvent.click(must('#detail-copy-prompt'));
    await waitFor(() => expect(must('#detail-action-status').textContent).toBe('Prompt copied.'));
    expect(writeText).toHaveBeenCalledWith('A red fox in the snow');

    await fireEvent.click(must('#detail-reuse'));
    await waitFor(() => expect($('#generation-detail')).toBeNull());
    expect(onreuse).toHaveBeenCalledTimes(1);
    expect(onreuse.mock.calls[0]![0]).toMatchObject({ id: 'g3', prompt: 'A red fox in the snow', settings: all[0]!.settings });
  });

  it('closes with the close button and follows live changes', async () => {
    backend();
    await library();
    await fireEvent.click(must('[data-id="g1"]'));
    await waitFor(() => must('#detail-poster'));
    tauri.handle('library_item', () => ({ ...all[2]!, status: 'running', progress: 0.25, thumbnail: null }));
    tauri.emit('library-changed', null);
    await waitFor(() => expect(must('#detail-status-value').dataset.status).toBe('running'));
    expect(must('#detail-status-value').textContent).toContain('25%');
    await fireEvent.click(must('#detail-close'));
    await waitFor(() => expect($('#generation-detail')).toBeNull());
  });
});
