import type { AccountView, Estimate, ExportResult, GenerationView } from '../lib/generated';
import { buildSettings } from '../lib/studio';

export const account: AccountView = {
  uid: 'u1',
  email: 'ada@example.com',
  displayName: 'Ada',
  creditBalance: 2000,
  analyticsOptIn: false,
};

export function generation(overrides: Partial<GenerationView> = {}): GenerationView {
  return {
    id: 'g1',
    prompt: 'A fox in the snow',
    mode: 'text_to_video',
    settings: buildSettings(10, '1080p'),
    status: 'succeeded',
    progress: 1,
    creditsCharged: 700,
    error: null,
    createdAt: '2025-01-01T10:00:00Z',
    updatedAt: '2025-01-01T10:00:00Z',
    hasThumbnail: false,
    clipKind: null,
    download: null,
    snippet: null,
    ...overrides,
  };
}

/** A finished export (as `export_data` answers), with `overrides`. */
export function exportResult(overrides: Partial<ExportResult> = {}): ExportResult {
  return {
    path: '/home/ada/Exports/cleom-export-2.zip',
    folder: '/home/ada/Exports',
    files: 5,
    bytes: 900,
    counts: { generations: 2, creditLedgerEntries: 0, purchases: 0, thumbnails: 0, videos: 0, mediaFiles: 0 },
    encrypted: false,
    ...overrides,
  };
}

export function estimateFor(durationSeconds: number, perSecond = 70): Estimate {
  return {
    total: durationSeconds * perSecond,
    perSecond,
    durationSeconds,
    lines: [{ label: 'Base', perSecond }],
  };
}
