// The main screen's connection and sync state without a component: what the sync reports,
// Retry and its failures, and commands that find Cleom unreachable.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { SyncStatus } from './syncStatus.svelte';
import * as tauri from '../test/fakeTauri';
import type { SyncState } from './generated';

vi.mock('@tauri-apps/api/core', () => import('../test/fakeTauri').then((m) => m.core));
vi.mock('@tauri-apps/api/event', () => import('../test/fakeTauri').then((m) => m.event));

const state = (s: Partial<SyncState>): SyncState => ({ state: 'idle', lastSyncAt: null, error: null, pending: 0, refused: 0, unreadable: 0, unreadableReason: null, ...s });
const unreachable = { code: 'network.unreachable', message: 'Cannot reach Cleom.' };

describe('SyncStatus', () => {
  beforeEach(() => tauri.reset());

  it('follows the sync: its state, its progress until it ends, and back online', async () => {
    const status = new SyncStatus(false);
    const stop = status.start();
    tauri.emit('sync-state', state({ state: 'syncing' }));
    expect(status.phase).toBe('syncing');
    tauri.emit('sync-progress', { phase: 'generations', pages: 1, items: 50 });
    expect(status.progress).not.toBeNull();
    tauri.emit('sync-state', state({ lastSyncAt: new Date().toISOString() }));
    expect(status.phase).toBe('idle');
    expect(status.progress).toBeNull();
    expect(status.online).toBe(true);
    stop();
    await new Promise((resolve) => setTimeout(resolve, 0));
    tauri.emit('sync-state', state({ state: 'error' }));
    expect(status.phase).toBe('idle');
  });

  it('shows a requested sync as syncing, and its failure as the state', async () => {
    let fail: (e: unknown) => void = () => {};
    tauri.handle('sync_now', () => new Promise((_, reject) => (fail = reject)));
    const status = new SyncStatus(true);
    const retried = status.retry();
    expect(status.syncing).toBe(true);
    expect(status.phase).toBe('syncing');
    await vi.waitFor(() => expect(tauri.callsOf('sync_now')).toHaveLength(1));
    fail(unreachable);
    await retried;
    expect(status.syncing).toBe(false);
    expect(status.phase).toBe('offline');
    expect(status.online).toBe(false);
    expect(status.sync?.error?.code).toBe('network.unreachable');

    tauri.handle('sync_now', () => {
      throw { code: 'sync.failed', message: 'Server error' };
    });
    await status.retry();
    expect(status.phase).toBe('error');
  });

  it('goes offline when a command finds Cleom unreachable, and only then', () => {
    const status = new SyncStatus(true);
    status.noteError({ code: 'credits.insufficient', message: 'Not enough credits.' });
    expect(status.online).toBe(true);
    status.noteError(unreachable);
    expect(status.online).toBe(false);
  });
});
