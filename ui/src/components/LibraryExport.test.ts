// "Export selected" in the Library: the selection's ids go to export_data, progress and the
// result are announced, "Show in folder" opens the export's folder, errors go to the alert.
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import Library from './Library.svelte';
import * as tauri from '../test/fakeTauri';
import { exportResult, generation } from '../test/fixtures';
import type { ExportResult, GenerationView } from '../lib/generated';

vi.mock('@tauri-apps/api/core', () => import('../test/fakeTauri').then((m) => m.core));
vi.mock('@tauri-apps/api/event', () => import('../test/fakeTauri').then((m) => m.event));

const $ = (selector: string) => document.querySelector(selector) as HTMLElement | null;
const must = <T extends HTMLElement = HTMLElement>(selector: string) => {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`${selector} not found`);
  return el;
};
const text = (selector: string) => must(selector).textContent?.replace(/\s+/g, ' ').trim();
const rendered = () => [...document.querySelectorAll<HTMLElement>('[data-testid="generation"]')];
const box = (id: string) => must<HTMLInputElement>(`[data-id="${id}"] [data-testid="select-generation"]`);

const XSS = '<img src=x onerror=alert(1)>';
let all: GenerationView[];
const saved = exportResult({
  path: '/home/ada/Downloads/Cleom exports/cleom-export-3.zip',
  folder: '/home/ada/Downloads/Cleom exports',
  files: 6,
  bytes: 4096,
  counts: { generations: 2, creditLedgerEntries: 3, purchases: 1, thumbnails: 2, videos: 0, mediaFiles: 2 },
});

function backend() {
  tauri.handle('library', () => ({ items: all, next: null }));
  tauri.handle('library_counts', () => ({ total: all.length, statuses: [], modes: [], resolutions: [], aspectRatios: [], styles: [], hasDownload: [] }));
  tauri.handle('thumbnail', () => null);
  tauri.handle('show_in_folder', () => null);
}

async function library(onerror = vi.fn()) {
  const result = render(Library, { onerror });
  await waitFor(() => expect(rendered()).toHaveLength(all.length));
  return result;
}

describe('Library: export selected', () => {
  beforeEach(() => {
    tauri.reset();
    localStorage.clear();
    all = [
      generation({ id: 'g3', prompt: XSS, createdAt: '2025-01-03T10:00:00Z' }),
      generation({ id: 'g2', prompt: 'Fox two', createdAt: '2025-01-02T10:00:00Z' }),
      generation({ id: 'g1', prompt: 'Waves', createdAt: '2025-01-01T10:00:00Z' }),
    ];
  });

  it('exports only the selection, shows progress, then the file name and "Show in folder"', async () => {
    backend();
    let finish: (r: ExportResult) => void = () => {};
    tauri.handle('export_data', () => new Promise<ExportResult>((resolve) => (finish = resolve)));
    const { container } = await library();
    expect($('#library-export-selected')).toBeNull();

    await fireEvent.click(box('g3'));
    await fireEvent.click(box('g1'));
    const button = must<HTMLButtonElement>('#library-export-selected');
    expect(button.textContent?.trim()).toBe('Export 2 selected');
    expect(button.tagName).toBe('BUTTON');
    // Next to the delete button, in the selection bar.
    expect(must('#library-delete-selected').nextElementSibling).toBe(button);
    expect(must('#library-export-status').getAttribute('role')).toBe('status');

    button.focus();
    await fireEvent.click(button);
    expect(tauri.callsOf('export_data')).toEqual([{ ids: ['g3', 'g1'] }]);
    await waitFor(() => expect(must<HTMLButtonElement>('#library-export-selected').disabled).toBe(true));
    expect(must('#library-export-selected').getAttribute('aria-busy')).toBe('true');
    expect(text('#library-export-status')).toBe('Exporting 2 generations…');

    tauri.emit('export-progress', { step: 'generations', itemsDone: 1, itemsTotal: 2, bytesDownloaded: 0, bytesWritten: 2048 });
    await waitFor(() => expect(text('#library-export-status')).toBe('Writing generations: 1 of 2 generations · 2.0 KB written'));
    const bar = must<HTMLProgressElement>('#library-export progress');
    expect(bar.max).toBe(2);
    expect(bar.value).toBe(1);
    expect($('#library-export-show')).toBeNull();

    finish(saved);
    await waitFor(() => expect(text('#library-export-status')).toBe('Exported 2 generations to cleom-export-3.zip.'));
    expect(must<HTMLButtonElement>('#library-export-selected').disabled).toBe(false);
    expect($('#library-export progress')).toBeNull();
    // Progress after the export ended is not shown.
    tauri.emit('export-progress', { step: 'generations', itemsDone: 9, itemsTotal: 9, bytesDownloaded: 0, bytesWritten: 1 });
    await Promise.resolve();
    expect(text('#library-export-status')).toBe('Exported 2 generations to cleom-export-3.zip.');

    const show = must('#library-export-show');
    expect(show.textContent).toBe('Show in folder');
    await fireEvent.click(show);
    expect(tauri.callsOf('show_in_folder')).toEqual([{ path: '/home/ada/Downloads/Cleom exports/cleom-export-3.zip' }]);
    expect(container.querySelector('img[src="x"]')).toBeNull();
  });

  it('ignores a second click while one runs, and shows "export.busy" as an error', async () => {
    backend();
    const onerror = vi.fn();
    let finish: (r: ExportResult) => void = () => {};
    tauri.handle('export_data', () => new Promise<ExportResult>((resolve) => (finish = resolve)));
    await library(onerror);
    await fireEvent.click(box('g2'));
    await fireEvent.click(must('#library-export-selected'));
    await fireEvent.click(must('#library-export-selected'));
    expect(tauri.callsOf('export_data')).toHaveLength(1);
    finish({ ...saved, counts: { ...saved.counts, generations: 1 } });
    await waitFor(() => expect(text('#library-export-status')).toBe('Exported 1 generation to cleom-export-3.zip.'));

    tauri.handle('export_data', () => Promise.reject({ code: 'export.busy', message: 'An export is already running.' }));
    await fireEvent.click(must('#library-export-selected'));
    await waitFor(() => expect(text('#library-error')).toBe('An export is already running.'));
    expect(onerror).toHaveBeenCalledWith({ code: 'export.busy', message: 'An export is already running.' });
    expect(text('#library-export-status')).toBe('');
    expect($('#library-export-show')).toBeNull();
    expect(must<HTMLButtonElement>('#library-export-selected').disabled).toBe(false);
  });

  it('reports a "Show in folder" failure in the Library alert', async () => {
    backend();
    tauri.handle('export_data', () => saved);
    tauri.handle('show_in_folder', () => Promise.reject({ code: 'request.invalid', message: 'Only the export folder can be shown.' }));
    await library();
    await fireEvent.click(box('g1'));
    await fireEvent.click(must('#library-export-selected'));
    await waitFor(() => must('#library-export-show'));
    await fireEvent.click(must('#library-export-show'));
    await waitFor(() => expect(text('#library-error')).toBe('Only the export folder can be shown.'));
  });
});
