import { describe, expect, it } from 'vitest';
import { describeSync, onlineAfterError, onlineAfterSync } from './sync';
import type { SyncState } from './types';

const now = Date.parse('2025-01-01T12:00:00Z');
const state = (s: Partial<SyncState>): SyncState => ({ state: 'idle', lastSyncAt: null, error: null, pending: 0, ...s });

describe('describeSync', () => {
  it('shows the last sync time when idle', () => {
    expect(describeSync(state({ lastSyncAt: '2025-01-01T11:55:00Z' }), true, now)).toMatchObject({
      tone: 'ok',
      label: 'Synced 5 min ago',
      canRetry: false,
    });
  });

  it('shows syncing and pending work', () => {
    expect(describeSync(state({ state: 'syncing', pending: 3 }), true, now).label).toBe('Syncing… · 3 pending');
  });

  it('offers Retry when offline or failed', () => {
    expect(describeSync(state({ state: 'offline' }), true, now)).toMatchObject({ tone: 'offline', canRetry: true });
    expect(describeSync(null, false, now)).toMatchObject({ tone: 'offline', canRetry: true });
    expect(
      describeSync(state({ state: 'error', error: { code: 'sync.failed', message: 'Server said no' } }), true, now),
    ).toMatchObject({ tone: 'error', detail: 'Server said no', canRetry: true });
  });
});

describe('online tracking', () => {
  it('follows sync reports', () => {
    expect(onlineAfterSync(true, state({ state: 'offline' }))).toBe(false);
    expect(onlineAfterSync(false, state({ state: 'idle' }))).toBe(true);
    expect(onlineAfterSync(false, state({ state: 'syncing' }))).toBe(false);
    expect(onlineAfterSync(true, state({ state: 'error', error: { code: 'network.unreachable', message: '' } }))).toBe(false);
  });

  it('goes offline only on network.unreachable', () => {
    expect(onlineAfterError(true, { code: 'network.unreachable', message: '' })).toBe(false);
    expect(onlineAfterError(true, { code: 'credits.insufficient', message: '' })).toBe(true);
  });
});
