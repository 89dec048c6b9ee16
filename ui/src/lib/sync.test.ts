import { describe, expect, it } from 'vitest';
import {
  countLabel,
  describeAction,
  describeEntryState,
  describeProgress,
  describeSync,
  onlineAfterError,
  onlineAfterSync,
  orderOutbox,
  quote,
  syncAnnouncement,
  type SyncDisplay,
} from './sync';
import type { OutboxAction, OutboxEntry, SyncState } from './generated';
import { buildSettings } from './studio';

const now = Date.parse('2025-01-01T12:00:00Z');
const state = (s: Partial<SyncState>): SyncState => ({ state: 'idle', lastSyncAt: null, error: null, pending: 0, refused: 0, unreadable: 0, unreadableReason: null, ...s });
const entry = (action: OutboxAction, over: Partial<OutboxEntry> = {}): OutboxEntry => ({
  seq: 1,
  id: 'c1',
  action,
  createdAt: '2025-01-01T11:00:00Z',
  state: 'pending',
  attempts: 0,
  refusal: null,
  ...over,
});

describe('describeSync', () => {
  it('shows the last sync time when idle', () => {
    expect(describeSync(state({ lastSyncAt: '2025-01-01T11:55:00Z' }), true, now)).toMatchObject({
      tone: 'ok',
      label: 'Synced 5 min ago',
      canRetry: false,
    });
  });

  it('shows syncing and the pending and refused counts', () => {
    expect(describeSync(state({ state: 'syncing', pending: 3, refused: 1 }), true, now)).toMatchObject({
      label: 'Syncing…',
      pending: 3,
      refused: 1,
    });
  });

  it('offers Retry when offline or failed', () => {
    expect(describeSync(state({ state: 'offline', lastSyncAt: '2025-01-01T09:00:00Z' }), true, now)).toMatchObject({
      tone: 'offline',
      canRetry: true,
      label: 'Last synced 3 h ago',
    });
    expect(describeSync(null, false, now)).toMatchObject({ tone: 'offline', canRetry: true, label: 'Not synced yet' });
    expect(
      describeSync(state({ state: 'error', error: { code: 'sync.failed', message: 'Server said no' } }), true, now),
    ).toMatchObject({ tone: 'error', label: 'Sync failed', detail: 'Server said no', canRetry: true });
  });
});

describe('progress and counts', () => {
  it('names the phase and counts what is done', () => {
    expect(describeProgress({ phase: 'generations', pages: 3, items: 1500 })).toBe('Syncing generations… 1,500');
    expect(describeProgress({ phase: 'sending', pages: 2, items: 0 })).toBe('Sending changes… 2');
    expect(describeProgress({ phase: 'creditLedger', pages: 0, items: 0 })).toBe('Syncing credit history…');
    expect(describeProgress({ phase: 'thumbnails', pages: 1, items: 12 })).toBe('Fetching thumbnails… 12');
    expect(countLabel(1204, 'pending')).toBe('1,204 pending');
  });
});

describe('outbox in words', () => {
  const prompts = new Map([['g1', 'A fox   in the snow']]);
  const promptOf = (id: string) => prompts.get(id);

  it('describes each kind of action', () => {
    expect(describeAction(entry({ kind: 'deleteGeneration', generationId: 'g1' }), promptOf)).toBe('Delete “A fox in the snow”');
    expect(describeAction(entry({ kind: 'deleteGeneration', generationId: 'zz9' }), promptOf)).toBe('Delete generation zz9');
    expect(
      describeAction(entry({ kind: 'setProfileField', change: { field: 'displayName', value: 'Ada' } }), promptOf),
    ).toBe('Rename to “Ada”');
    expect(
      describeAction(entry({ kind: 'setProfileField', change: { field: 'displayName', value: null } }), promptOf),
    ).toBe('Remove the display name');
    expect(
      describeAction(entry({ kind: 'setProfileField', change: { field: 'analyticsOptIn', value: true } }), promptOf),
    ).toBe('Turn analytics on');
    expect(
      describeAction(entry({ kind: 'setProfileField', change: { field: 'analyticsOptIn', value: false } }), promptOf),
    ).toBe('Turn analytics off');
    expect(
      describeAction(
        entry({ kind: 'createGeneration', request: { id: 'g9', prompt: '<b>x</b>', settings: buildSettings(5, '1080p'), references: [] } }),
        promptOf,
      ),
    ).toBe('Generate “<b>x</b>”');
  });

  it('shortens long prompts', () => {
    expect(quote('a'.repeat(100), 10)).toBe(`“${'a'.repeat(9)}…”`);
  });

  it('says the state and lists refused entries first', () => {
    const del = { kind: 'deleteGeneration', generationId: 'g1' } as const;
    expect(describeEntryState(entry(del))).toBe('Waiting to send');
    expect(describeEntryState(entry(del, { attempts: 2 }))).toBe('Waiting to send (tried 2 times)');
    expect(describeEntryState(entry(del, { state: 'refused' }))).toBe('Refused by Cleom');
    const list = [entry(del, { seq: 1 }), entry(del, { seq: 3, state: 'refused' }), entry(del, { seq: 2, state: 'refused' })];
    expect(orderOutbox(list).map((e) => e.seq)).toEqual([2, 3, 1]);
  });
});

describe('syncAnnouncement', () => {
  const d = (tone: SyncDisplay['tone'], over: Partial<SyncDisplay> = {}): SyncDisplay => ({
    tone,
    label: '',
    detail: null,
    canRetry: false,
    pending: 0,
    refused: 0,
    unreadable: 0,
    unreadableReason: null,
    ...over,
  });

  it('announces failures, going offline and recovering, not routine syncs', () => {
    expect(syncAnnouncement(d('ok'), d('busy'))).toBeNull();
    expect(syncAnnouncement(d('ok'), d('ok'))).toBeNull();
    expect(syncAnnouncement(d('ok'), d('error', { detail: 'Server said no' }))).toBe('Sync failed: Server said no');
    expect(syncAnnouncement(d('error', { detail: 'Server said no' }), d('error', { detail: 'Server said no' }))).toBeNull();
    expect(syncAnnouncement(d('ok'), d('offline'))).toContain('Offline.');
    expect(syncAnnouncement(d('offline'), d('offline'))).toBeNull();
    expect(syncAnnouncement(d('offline'), d('ok'))).toBe('Back online. Synced.');
    expect(syncAnnouncement(null, d('ok'))).toBeNull();
  });

  it('announces newly refused actions', () => {
    expect(syncAnnouncement(d('ok', { refused: 1 }), d('ok', { refused: 3 }))).toBe(
      '2 changes were refused by Cleom. Open the outbox to retry or dismiss.',
    );
    expect(syncAnnouncement(d('ok', { refused: 3 }), d('ok', { refused: 2 }))).toBeNull();
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
