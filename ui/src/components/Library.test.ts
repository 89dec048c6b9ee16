// The virtualised Library: 100,000 generations, only a screenful in the DOM, pages loaded
// as the end comes near, and the keyboard moving between items.
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import Library from './Library.svelte';
import * as tauri from '../test/fakeTauri';
import { generation } from '../test/fixtures';
import type { GenerationView, LibraryQuery } from '../lib/generated';

vi.mock('@tauri-apps/api/core', () => import('../test/fakeTauri').then((m) => m.core));
vi.mock('@tauri-apps/api/event', () => import('../test/fakeTauri').then((m) => m.event));

const TOTAL = 100_000;
const item = (i: number): GenerationView =>
  generation({
    id: `g${String(i).padStart(6, '0')}`,
    prompt: `Clip number ${i}`,
    createdAt: new Date(Date.UTC(2025, 0, 1) - i * 1000).toISOString(),
  });

function backend() {
  // The default view, newest first; the cursor names the last item's place.
  tauri.handle('library', (args) => {
    const query = args.query as LibraryQuery;
    const start = query.after ? Number(query.after.slice(2)) + 1 : 0;
    const end = Math.min(TOTAL, start + query.limit!);
    const items = Array.from({ length: end - start }, (_, k) => item(start + k));
    return { items, next: end < TOTAL ? `n.${end - 1}` : null };
  });
  tauri.handle('thumbnail', () => null);
}

const rendered = () => [...document.querySelectorAll<HTMLElement>('[data-testid="generation"]')];

describe('Library', () => {
  beforeEach(() => {
    tauri.reset();
    localStorage.clear();
  });

  it('keeps the DOM small and loads the next page as the end comes near', async () => {
    backend();
    render(Library, { onerror: vi.fn() });
    await waitFor(() => expect(rendered().length).toBeGreaterThan(0));
    expect(tauri.callsOf('library')).toEqual([{ query: { filters: {}, sort: 'newestFirst', limit: 50 } }]);
    expect(rendered().length).toBeLessThan(20);
    // Going to the end of what is loaded brings the next page (200 at a time), and so on.
    for (const count of ['250', '450']) {
      const focused = rendered()[0]!;
      focused.focus();
      await fireEvent.keyDown(focused, { key: 'End' });
      await waitFor(() => expect(document.querySelector('[data-testid="library-scroller"]')?.getAttribute('data-count')).toBe(count));
      expect(rendered().length).toBeLessThan(20);
    }
    expect(tauri.callsOf('library')[1]).toEqual({ query: { filters: {}, sort: 'newestFirst', limit: 200, after: 'n.49' } });
    const shown = rendered()[0]!;
    expect(shown.getAttribute('aria-posinset')).toBe(String(Number(shown.dataset.index) + 1));
    expect(shown.getAttribute('aria-setsize')).toBe('-1');
    expect(document.querySelector('[role="feed"]')?.getAttribute('aria-label')).toBe('Your generations');
  });

  it('moves the focus with the keyboard, rendering items as it goes', async () => {
    backend();
    render(Library, { onerror: vi.fn() });
    await waitFor(() => expect(rendered().length).toBeGreaterThan(0));
    const first = rendered()[0]!;
    expect(first.tabIndex).toBe(0);
    expect(rendered()[1]!.tabIndex).toBe(-1);
    first.focus();
    await fireEvent.keyDown(first, { key: 'ArrowDown' });
    await waitFor(() => expect((document.activeElement as HTMLElement).dataset.index).toBe('1'));
    await fireEvent.keyDown(document.activeElement!, { key: 'End' });
    await waitFor(() => expect(Number((document.activeElement as HTMLElement).dataset.index)).toBeGreaterThan(40));
    await fireEvent.keyDown(document.activeElement!, { key: 'Home' });
    await waitFor(() => expect((document.activeElement as HTMLElement).dataset.index).toBe('0'));
  });

  it('switches between list and grid and remembers the choice', async () => {
    backend();
    render(Library, { onerror: vi.fn() });
    await waitFor(() => expect(rendered().length).toBeGreaterThan(0));
    expect(rendered()[0]!.classList.contains('list')).toBe(true);
    await fireEvent.click(document.querySelector('#view-grid')!);
    expect(rendered()[0]!.classList.contains('grid')).toBe(true);
    expect(document.querySelector('#view-grid')?.getAttribute('aria-pressed')).toBe('true');
    expect(localStorage.getItem('cleom.libraryView')).toBe('grid');
  });

  it('reports once that its first page is painted (the start-up time is logged from there)', async () => {
    // Animation frames the earlier tests' (unmounted) Libraries asked for still report; let
    // them run first.
    await new Promise((resolve) => setTimeout(resolve, 100));
    tauri.reset();
    backend();
    tauri.handle('library_shown', () => null);
    const before = tauri.callsOf('library_shown').length;
    render(Library, { onerror: vi.fn() });
    await waitFor(() => expect(tauri.callsOf('library_shown')).toHaveLength(before + 1));
    tauri.emit('library-changed', null);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(tauri.callsOf('library_shown')).toHaveLength(before + 1);
  });

  it('announces finished generations to screen readers', async () => {
    let status: 'running' | 'succeeded' = 'running';
    tauri.handle('library', () => ({ items: [generation({ id: 'r1', status, progress: 0.5 })], next: null }));
    tauri.handle('thumbnail', () => null);
    render(Library, { onerror: vi.fn() });
    await waitFor(() => expect(rendered()[0]?.dataset.status).toBe('running'));
    status = 'succeeded';
    tauri.emit('library-changed', null);
    await waitFor(() => expect(document.querySelector('#library-announcement')?.textContent).toBe('1 clip is ready.'));
  });
});
