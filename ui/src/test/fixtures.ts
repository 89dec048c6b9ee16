import type { AccountView, Estimate, GenerationView } from '../lib/generated';
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

export function estimateFor(durationSeconds: number, perSecond = 70): Estimate {
  return {
    total: durationSeconds * perSecond,
    perSecond,
    durationSeconds,
    lines: [{ label: 'Base', perSecond }],
  };
}
