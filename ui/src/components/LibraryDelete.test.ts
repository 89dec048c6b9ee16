// Selecting and deleting in the Library: checkboxes, Ctrl/Shift-click, Space, select all,
// the confirmation's words, "Delete all matching" paging through the query, the detail view.
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import Library from './Library.svelte';
import * as tauri from '../test/fakeTauri';
import { generation } from '../test/fixtures';
import { rememberedPrompt } from '../lib/selection';
import type { GenerationView, LibraryQuery } from '../lib/generated';

vi.mock('@tauri-apps/api/core', () => import('../test/fakeTauri').then((m) => m.core));
vi.mock('@tauri-apps/api/event', () => import('../test/fakeTauri').then((m) => m.event));

const XSS = '<img src=x onerror=alert(1)>';
const $ = (selector: string) => document.querySelector(selector) as HTMLElement | null;
const must = <T extends HTMLElement = HTMLElement>(selector: string) => {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`${selector} not found`);
  return el;
};
const rendered = () => [...document.querySelectorAll<HTMLElement>('[data-testid="generation"]')];
const renderedIds = () => rendered().map((el) => el.dataset.id);
const selectedIds = () => rendered().filter((el) => el.dataset.selected === 'true').map((el) => el.dataset.id);

let all: GenerationView[];

function backend() {
  tauri.handle('library', (args) => {
    const query = args.query as LibraryQuery;
    const text = query.text?.trim().toLowerCase() ?? '';
    const items = all.filter((g) => g.prompt.toLowerCase().includes(text));
    const start = query.after ? Number(query.after) : 0;
    const limit = query.limit ?? 50;
    return { items: items.slice(start, start + limit), next: start + limit < items.length ? String(start + limit) : null };
  });
  tauri.handle('library_counts', (args) => {
    const text = (args.query as LibraryQuery).text?.toLowerCase() ?? '';
    const total = all.filter((g) => g.prompt.toLowerCase().includes(text)).length;
    return { total, statuses: [], modes: [], resolutions: [], aspectRatios: [], styles: [], hasDownload: [] };
  });
  tauri.handle('library_item', (args) => {
    const found = all.find((g) => g.id === args.id);
    return found ? { ...found, thumbnail: null } : null;
  });
  tauri.handle('thumbnail', () => null);
  tauri.handle('delete_generations', (args) => {
    const ids = args.ids as string[];
    all = all.filter((g) => !ids.includes(g.id));
    return ids.length;
  });
}

async function library() {
  const result = render(Library, { onerror: vi.fn() });
  await waitFor(() => expect(rendered()).toHaveLength(all.length));
  return result;
}

const box = (id: string) => must<HTMLInputElement>(`[data-id="${id}"] [data-testid="select-generation"]`);

describe('Library deletes', () => {
  beforeEach(() => {
    tauri.reset();
    localStorage.clear();
    all = [
      generation({ id: 'g4', prompt: 'Fox one', createdAt: '2025-01-04T10:00:00Z' }),
      generation({ id: 'g3', prompt: XSS, createdAt: '2025-01-03T10:00:00Z' }),
      generation({ id: 'g2', prompt: 'Fox two', createdAt: '2025-01-02T10:00:00Z' }),
      generation({ id: 'g1', prompt: 'Waves', createdAt: '2025-01-01T10:00:00Z' }),
    ];
  });

  it('selects with checkboxes, Shift+click and Ctrl+click, then deletes after an exact confirmation', async () => {
    backend();
    const { container } = await library();
    expect(box('g4').getAttribute('aria-label')).toBe('Select: Fox one');
    await fireEvent.click(box('g4'));
    expect(selectedIds()).toEqual(['g4']);
    expect(must('#library-selected-count').textContent?.trim()).toBe('1 selected');
    // Shift+click selects the range from the last toggled item; the detail view does not open.
    await fireEvent.click(must('[data-id="g2"]'), { shiftKey: true });
    expect(selectedIds()).toEqual(['g4', 'g3', 'g2']);
    await fireEvent.click(must('[data-id="g3"]'), { ctrlKey: true });
    expect(selectedIds()).toEqual(['g4', 'g2']);
    expect($('#generation-detail')).toBeNull();
    expect(box('g3').checked).toBe(false);
    expect(box('g2').checked).toBe(true);

    await fireEvent.click(must('#library-delete-selected'));
    const dialog = await waitFor(() => must('#delete-generations-dialog'));
    expect(must('#delete-generations-title').textContent).toBe('Delete 2 generations?');
    expect(must('#delete-generations-what').textContent).toContain(
      'They are removed from this device now and from Cleom when it is reachable. This cannot be undone.',
    );
    expect([...dialog.querySelectorAll('li')].map((li) => li.textContent)).toEqual(['“Fox one”', '“Fox two”']);
    expect(tauri.callsOf('delete_generations')).toEqual([]);

    await fireEvent.click(must('#confirm-delete-generations'));
    await waitFor(() => expect(renderedIds()).toEqual(['g3', 'g1']));
    expect(tauri.callsOf('delete_generations')).toEqual([{ ids: ['g4', 'g2'] }]);
    expect(must('#library-delete-status').textContent).toBe('2 generations deleted.');
    expect($('#library-selected-count')).toBeNull();
    expect(rememberedPrompt('g4')).toBe('Fox one');
    expect(container.querySelector('img[src="x"]')).toBeNull();
  });

  it('cancels without deleting, and selects all shown / clears with the buttons and Space', async () => {
    backend();
    await library();
    await fireEvent.click(must('#library-select-all'));
    expect(selectedIds()).toEqual(['g4', 'g3', 'g2', 'g1']);
    await fireEvent.click(must('#library-delete-selected'));
    await waitFor(() => must('#delete-generations-dialog'));
    expect(must('#delete-generations-what').textContent).not.toContain('more');
    await fireEvent.click(must('#cancel-delete-generations'));
    await waitFor(() => expect($('#delete-generations-dialog')).toBeNull());
    expect(tauri.callsOf('delete_generations')).toEqual([]);
    await fireEvent.click(must('#library-clear-selection'));
    expect(selectedIds()).toEqual([]);

    const item = must('[data-id="g3"]');
    item.focus();
    await fireEvent.keyDown(item, { key: ' ' });
    expect(selectedIds()).toEqual(['g3']);
    await fireEvent.keyDown(must('[data-id="g1"]'), { key: ' ', shiftKey: true });
    expect(selectedIds()).toEqual(['g3', 'g2', 'g1']);
    expect($('#generation-detail')).toBeNull();
  });

  it('deletes everything a search matches, paging through the query', async () => {
    all = Array.from({ length: 1200 }, (_, i) =>
      generation({ id: `m${String(i).padStart(4, '0')}`, prompt: i % 2 ? `Fox ${i}` : `Cat ${i}`, createdAt: new Date(Date.UTC(2025, 0, 1) - i * 1000).toISOString() }),
    );
    backend();
    render(Library, { onerror: vi.fn() });
    await waitFor(() => expect(rendered().length).toBeGreaterThan(0));
    expect($('#library-delete-matching')).toBeNull();
    await fireEvent.input(must('#library-search'), { target: { value: 'fox' } });
    await waitFor(() => must('#library-delete-matching'));
    await fireEvent.click(must('#library-delete-matching'));
    await waitFor(() => must('#delete-generations-dialog'));
    expect(must('#delete-generations-title').textContent).toBe('Delete 600 generations?');
    expect(must('#delete-generations-what').textContent).toContain('…and 595 more.');
    const pages = tauri.callsOf('library').map((a) => a.query as LibraryQuery | undefined).filter((q) => q?.limit === 500);
    expect(pages.map((q) => q!.after ?? null)).toEqual([null, '500']);
    expect(pages[0]).toMatchObject({ text: 'fox' });
    await fireEvent.click(must('#confirm-delete-generations'));
    await waitFor(() => expect(must('#library-delete-status').textContent).toBe('600 generations deleted.'));
    expect(tauri.callsOf('delete_generations')).toHaveLength(1);
    expect((tauri.callsOf('delete_generations')[0]!.ids as string[]).every((id) => Number(id.slice(1)) % 2 === 1)).toBe(true);
  });

  it('deletes from the detail view with the button or the Delete key', async () => {
    backend();
    await library();
    await fireEvent.click(must('[data-id="g2"]'));
    await waitFor(() => must('#generation-detail'));
    await fireEvent.keyDown(must('#generation-detail'), { key: 'Delete' });
    await waitFor(() => must('#delete-generations-dialog'));
    expect(must('#delete-generations-title').textContent).toBe('Delete 1 generation?');
    expect(must('#delete-generations-what').textContent).toContain('It is removed from this device now');
    expect(must('#delete-generations-what').textContent).toContain('“Fox two”');
    await fireEvent.click(must('#cancel-delete-generations'));
    await waitFor(() => expect($('#delete-generations-dialog')).toBeNull());
    expect($('#generation-detail')).not.toBeNull();

    await fireEvent.click(must('#detail-delete'));
    await waitFor(() => must('#delete-generations-dialog'));
    await fireEvent.click(must('#confirm-delete-generations'));
    await waitFor(() => expect($('#generation-detail')).toBeNull());
    expect(tauri.callsOf('delete_generations')).toEqual([{ ids: ['g2'] }]);
    expect(renderedIds()).toEqual(['g4', 'g3', 'g1']);
  });

  it('keeps the list when a delete fails and says why', async () => {
    backend();
    tauri.handle('delete_generations', () => {
      throw { code: 'store.failed', message: 'The store is busy.' };
    });
    await library();
    await fireEvent.click(box('g1'));
    await fireEvent.click(must('#library-delete-selected'));
    await waitFor(() => must('#confirm-delete-generations'));
    await fireEvent.click(must('#confirm-delete-generations'));
    await waitFor(() => expect(must('#library-error').textContent).toBe('The store is busy.'));
    expect(renderedIds()).toEqual(['g4', 'g3', 'g2', 'g1']);
  });
});
