// Running an export, shared by the one-click export in Account & Privacy and "Export selected"
// in the Library: `export-progress` events are followed only while this run is under way (the
// event is global: another window part's export never moves this one's progress), and the
// answer becomes one outcome: done, canceled, or failed with the AppError (e.g. `export.busy`).
// Everything here returns plain text (rendered as text).

import { events } from './api';
import { Code, toAppError } from './errors';
import { formatNumber } from './format';
import { fileName } from './privacy';
import type { ExportOptions } from './api';
import type { AppError, ExportProgress, ExportResult } from './generated';

export type ExportOutcome =
  | { kind: 'done'; result: ExportResult }
  | { kind: 'canceled' }
  | { kind: 'failed'; error: AppError };

/** How a run hears about progress (the real one listens to `export-progress`). */
export type ProgressSource = (handler: (progress: ExportProgress) => void) => () => void;

/**
 * Start an export with `start` (e.g. `() => api.exportData(options)`), passing progress to
 * `onprogress` until it answers. Never rejects: the outcome says what happened.
 */
export async function runExport(
  start: () => Promise<ExportResult>,
  onprogress: (progress: ExportProgress) => void,
  source: ProgressSource = events.onExportProgress,
): Promise<ExportOutcome> {
  let running = true;
  // Listening starts before the command is sent, so the first progress event is not missed.
  const stop = source((progress) => {
    if (running) onprogress(progress);
  });
  try {
    return { kind: 'done', result: await start() };
  } catch (e) {
    const error = toAppError(e);
    return error.code === Code.exportCanceled ? { kind: 'canceled' } : { kind: 'failed', error };
  } finally {
    running = false;
    stop();
  }
}

// --- "Export selected" in the Library ---------------------------------------------------------

/** The `export_data` arguments for a Library selection: only those generations. */
export function selectionExportArguments(ids: Iterable<string>): ExportOptions {
  return { ids: [...ids] };
}

/** The button's label: "Export 3 selected". */
export function exportSelectedLabel(count: number): string {
  return `Export ${formatNumber(count)} selected`;
}

/** The status while the selection's export starts: "Exporting 3 generations…". */
export function exportingSelection(count: number): string {
  return `Exporting ${formatNumber(count)} ${count === 1 ? 'generation' : 'generations'}…`;
}

/** The status once the selection was exported: "Exported 3 generations to cleom-export.zip." */
export function selectionExported(result: ExportResult, requested: number): string {
  const count = result.counts?.generations ?? requested;
  const what = `${formatNumber(count)} ${count === 1 ? 'generation' : 'generations'}`;
  const protectedNote = result.encrypted ? ' (password-protected)' : '';
  return `Exported ${what} to ${fileName(result.path)}${protectedNote}.`;
}

/** The status after a canceled export. */
export const EXPORT_CANCELED = 'Export canceled. Nothing was saved.';
