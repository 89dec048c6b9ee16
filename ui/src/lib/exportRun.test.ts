import { describe, expect, it, vi } from 'vitest';
import {
  EXPORT_CANCELED,
  exportSelectedLabel,
  exportingSelection,
  runExport,
  selectionExportArguments,
  selectionExported,
  type ProgressSource,
} from './exportRun';
import { exportResult } from '../test/fixtures';
import type { ExportProgress, ExportResult } from './generated';

vi.mock('@tauri-apps/api/core', () => import('../test/fakeTauri').then((m) => m.core));
vi.mock('@tauri-apps/api/event', () => import('../test/fakeTauri').then((m) => m.event));

const progress = (itemsDone: number): ExportProgress => ({
  step: 'generations',
  itemsDone,
  itemsTotal: 3,
  bytesDownloaded: 0,
  bytesWritten: 10,
});
const result = exportResult();

/** A progress source the test drives, recording whether anyone listens. */
function fakeSource() {
  let handler: ((p: ExportProgress) => void) | null = null;
  const source: ProgressSource = (h) => {
    handler = h;
    return () => (handler = null);
  };
  return { source, emit: (p: ExportProgress) => handler?.(p), listening: () => handler !== null };
}

describe('runExport', () => {
  it('listens before starting, passes progress while running, stops listening when done', async () => {
    const { source, emit, listening } = fakeSource();
    const seen: number[] = [];
    let finish: (r: ExportResult) => void = () => {};
    const started = vi.fn(() => {
      expect(listening()).toBe(true);
      return new Promise<ExportResult>((resolve) => (finish = resolve));
    });
    const run = runExport(started, (p) => seen.push(p.itemsDone), source);
    emit(progress(1));
    emit(progress(2));
    finish(result);
    expect(await run).toEqual({ kind: 'done', result });
    expect(listening()).toBe(false);
    emit(progress(3));
    expect(seen).toEqual([1, 2]);
    expect(started).toHaveBeenCalledTimes(1);
  });

  it('tells a cancel from a failure, normalising the error; never rejects', async () => {
    const { source, listening } = fakeSource();
    expect(await runExport(() => Promise.reject({ code: 'export.canceled', message: 'Canceled.' }), () => {}, source)).toEqual({
      kind: 'canceled',
    });
    expect(await runExport(() => Promise.reject({ code: 'export.busy', message: 'An export is already running.' }), () => {}, source)).toEqual({
      kind: 'failed',
      error: { code: 'export.busy', message: 'An export is already running.' },
    });
    expect(await runExport(() => Promise.reject(new Error('disk full')), () => {}, source)).toEqual({
      kind: 'failed',
      error: { code: 'ui.unexpected', message: 'disk full' },
    });
    expect(listening()).toBe(false);
  });
});

describe('export selected: words and arguments', () => {
  it('sends the ids, and only them', () => {
    expect(selectionExportArguments(new Set(['g4', 'g2']))).toEqual({ ids: ['g4', 'g2'] });
    expect(selectionExportArguments([])).toEqual({ ids: [] });
  });

  it('labels the button and the statuses with counts and the file name', () => {
    expect(exportSelectedLabel(3)).toBe('Export 3 selected');
    expect(exportSelectedLabel(1200)).toBe('Export 1,200 selected');
    expect(exportingSelection(1)).toBe('Exporting 1 generation…');
    expect(exportingSelection(2)).toBe('Exporting 2 generations…');
    expect(selectionExported(result, 2)).toBe('Exported 2 generations to cleom-export-2.zip.');
    expect(
      selectionExported({ ...result, encrypted: true, counts: { generations: 1, creditLedgerEntries: 0, purchases: 0, thumbnails: 0, videos: 0, mediaFiles: 0 } }, 2),
    ).toBe('Exported 1 generation to cleom-export-2.zip (password-protected).');
    expect(selectionExported({ ...result, path: 'C:\\Users\\ada\\cleom.zip', counts: { ...result.counts, generations: 1 } }, 1)).toBe('Exported 1 generation to cleom.zip.');
    expect(EXPORT_CANCELED).toBe('Export canceled. Nothing was saved.');
  });
});
