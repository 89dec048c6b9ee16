// The header's sync indicator and outbox, the Delete key, and the Account & Privacy view,
// against a fake backend.
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import App from './App.svelte';
import * as tauri from './test/fakeTauri';
import { account, estimateFor, generation } from './test/fixtures';
import type { AppStatus, GenerationView, LedgerEntry, OutboxEntry, Purchase, Settings, SyncState } from './lib/generated';

vi.mock('@tauri-apps/api/core', () => import('./test/fakeTauri').then((m) => m.core));
vi.mock('@tauri-apps/api/event', () => import('./test/fakeTauri').then((m) => m.event));

const XSS = '<img src=x onerror=alert(1)>';
const $ = (selector: string) => document.querySelector(selector) as HTMLElement | null;
const must = <T extends HTMLElement = HTMLElement>(selector: string) => {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`${selector} not found`);
  return el;
};
const text = (selector: string) => must(selector).textContent?.replace(/\s+/g, ' ').trim();

let items: GenerationView[];
let outbox: OutboxEntry[];
let ledger: LedgerEntry[];
let purchases: Purchase[];

const sync = (s: Partial<SyncState>): SyncState => ({ state: 'idle', lastSyncAt: null, error: null, pending: 0, refused: 0, unreadable: 0, unreadableReason: null, ...s });

function backend() {
  const status: AppStatus = { keychain: { state: 'available' }, backend: { kind: 'embedded', url: 'http://127.0.0.1:1' }, account, online: true };
  tauri.handle('app_status', () => status);
  tauri.handle('pending_link', () => null);
  tauri.handle('estimate', (args) => estimateFor((args.settings as Settings).durationSeconds));
  tauri.handle('library', () => ({ items, next: null }));
  tauri.handle('library_item', (args) => {
    const found = items.find((g) => g.id === args.id);
    return found ? { ...found, thumbnail: null } : null;
  });
  tauri.handle('thumbnail', () => null);
  tauri.handle('outbox', () => outbox);
  tauri.handle('ledger', () => ledger);
  tauri.handle('purchases', () => purchases);
  tauri.handle('delete_generations', (args) => {
    const ids = args.ids as string[];
    items = items.filter((g) => !ids.includes(g.id));
    return ids.length;
  });
}

async function mainScreen() {
  backend();
  render(App);
  await waitFor(() => must('#prompt'));
  await waitFor(() => expect(document.querySelectorAll('[data-testid="generation"]').length).toBe(items.length));
}

const entry = (seq: number, action: OutboxEntry['action'], over: Partial<OutboxEntry> = {}): OutboxEntry => ({
  seq,
  id: `c${seq}`,
  action,
  createdAt: '2025-01-05T10:00:00Z',
  state: 'pending',
  attempts: 0,
  refusal: null,
  ...over,
});

describe('sync indicator and outbox', () => {
  beforeEach(() => {
    tauri.reset();
    items = [generation({ id: 'g2', prompt: 'A fox in the snow' }), generation({ id: 'g1', prompt: XSS, createdAt: '2024-12-31T10:00:00Z' })];
    outbox = [];
    ledger = [];
    purchases = [];
  });

  it('shows the last sync, the pending and refused counts, progress while syncing, and the last error with Retry', async () => {
    await mainScreen();
    const live = must('#sync-announcer');
    expect(live.getAttribute('role')).toBe('status');
    expect(live.getAttribute('aria-live')).toBe('polite');

    tauri.emit('sync-state', sync({ state: 'syncing', pending: 3, refused: 1 }));
    await waitFor(() => expect(must('#sync-status').dataset.state).toBe('syncing'));
    expect(text('#sync-label')).toBe('Syncing…');
    expect(text('#sync-pending')).toBe('3 pending');
    expect(text('#sync-refused')).toBe('1 refused');
    tauri.emit('sync-progress', { phase: 'generations', pages: 3, items: 1500 });
    await waitFor(() => expect(text('#sync-progress')).toBe('Syncing generations… 1,500'));

    tauri.emit('sync-state', sync({ state: 'error', error: { code: 'sync.failed', message: '<b>Server error</b>' }, pending: 3, refused: 1 }));
    await waitFor(() => expect(text('#sync-error')).toBe(': <b>Server error</b>'));
    expect(live.textContent).toBe('Sync failed: <b>Server error</b> 1 change was refused by Cleom. Open the outbox to retry or dismiss.');
    expect($('#sync-status b')).toBeNull();
    expect($('#sync-progress')).toBeNull();
    tauri.handle('sync_now', () => sync({ lastSyncAt: new Date().toISOString() }));
    await fireEvent.click(must('#sync-retry'));
    await waitFor(() => expect(text('#sync-label')).toBe('Synced just now'));
    expect(live.textContent).toBe('Back online. Synced.');
    expect(tauri.callsOf('sync_now')).toHaveLength(1);
    expect($('#sync-pending')).toBeNull();
    expect($('#sync-refused')).toBeNull();
    expect($('#sync-retry')).toBeNull();
  });

  it('says how many items from Cleom could not be read, and why, as plain text', async () => {
    await mainScreen();
    tauri.emit('sync-state', sync({ lastSyncAt: new Date().toISOString(), unreadable: 2, unreadableReason: '<b>progress</b> is not a number' }));
    await waitFor(() => must('#sync-unreadable'));
    const unreadable = must('#sync-unreadable');
    expect(unreadable.dataset.value).toBe('2');
    expect(unreadable.textContent?.replace(/\s+/g, ' ').trim()).toBe('Could not read 2 items: <b>progress</b> is not a number');
    expect(unreadable.getAttribute('title')).toBe('<b>progress</b> is not a number');
    expect($('#sync-unreadable b')).toBeNull();
    tauri.emit('sync-state', sync({ lastSyncAt: new Date().toISOString() }));
    await waitFor(() => expect($('#sync-unreadable')).toBeNull());
  });

  it('lists the outbox in words and retries or dismisses refused actions', async () => {
    outbox = [
      entry(1, { kind: 'deleteGeneration', generationId: 'g2' }),
      entry(2, { kind: 'deleteGeneration', generationId: 'gone1' }),
      entry(3, { kind: 'setProfileField', change: { field: 'displayName', value: 'Ada L.' } }),
      entry(4, { kind: 'setProfileField', change: { field: 'analyticsOptIn', value: true } }, { attempts: 2 }),
      entry(
        5,
        { kind: 'createGeneration', request: { id: 'g9', prompt: XSS, settings: items[0]!.settings, references: [] } },
        { state: 'refused', refusal: { code: 'credits.insufficient', message: 'Not enough credits: 700 needed, 20 left.' } },
      ),
    ];
    await mainScreen();
    tauri.emit('sync-state', sync({ pending: 4, refused: 1 }));
    await waitFor(() => must('#sync-refused'));
    await fireEvent.click(must('#sync-refused'));
    const dialog = await waitFor(() => must('#outbox'));
    await waitFor(() => expect(dialog.querySelectorAll('[data-testid="outbox-entry"]')).toHaveLength(5));
    const rows = [...dialog.querySelectorAll<HTMLElement>('[data-testid="outbox-entry"]')];
    // Refused first, then in send order.
    expect(rows.map((r) => r.dataset.seq)).toEqual(['5', '1', '2', '3', '4']);
    await waitFor(() => expect(rows.map((r) => r.querySelector('.outbox-what')?.textContent)).toEqual([
      `Generate “${XSS}”`,
      'Delete “A fox in the snow”',
      'Delete generation gone1',
      'Rename to “Ada L.”',
      'Turn analytics on',
    ]));
    expect(rows[4]!.querySelector('.outbox-state')?.textContent).toBe('Waiting to send (tried 2 times)');
    expect(rows[0]!.dataset.state).toBe('refused');
    expect(text('#outbox-refusal-5')).toBe('Not enough credits: 700 needed, 20 left.');
    expect(dialog.querySelector('img[src="x"]')).toBeNull();
    expect(must('#outbox-summary').textContent).toContain('4 waiting to send, 1 refused');
    // Only refused entries offer Retry and Dismiss.
    expect(dialog.querySelectorAll('.outbox-retry')).toHaveLength(1);

    tauri.handle('retry_action', () => {
      outbox = outbox.map((e) => (e.seq === 5 ? { ...e, state: 'pending', refusal: null } : e));
      return true;
    });
    await fireEvent.click(must('#outbox-retry-5'));
    await waitFor(() => expect(text('#outbox-status')).toBe(`Generate “${XSS}”: will be sent again.`));
    expect(tauri.callsOf('retry_action')).toEqual([{ seq: 5 }]);
    await waitFor(() => expect($('#outbox-retry-5')).toBeNull());

    outbox = outbox.map((e) => (e.seq === 5 ? { ...e, state: 'refused', refusal: { code: 'x', message: 'No.' } } : e));
    tauri.handle('dismiss_action', () => {
      outbox = outbox.filter((e) => e.seq !== 5);
      return true;
    });
    tauri.emit('sync-state', sync({ pending: 4, refused: 1 }));
    await waitFor(() => must('#outbox-dismiss-5'));
    await fireEvent.click(must('#outbox-dismiss-5'));
    await waitFor(() => expect(document.querySelectorAll('[data-testid="outbox-entry"]')).toHaveLength(4));
    expect(tauri.callsOf('dismiss_action')).toEqual([{ seq: 5 }]);

    await fireEvent.click(must('#outbox-close'));
    await waitFor(() => expect($('#outbox')).toBeNull());
  });

  it('says when nothing waits', async () => {
    await mainScreen();
    tauri.emit('sync-state', sync({ pending: 1 }));
    await waitFor(() => must('#sync-pending'));
    await fireEvent.click(must('#sync-pending'));
    await waitFor(() => expect(text('#outbox-summary')).toBe('Nothing waiting: every change has reached Cleom.'));
  });

  it('deletes the focused clip with the Delete key, after confirming', async () => {
    await mainScreen();
    const item = must('[data-id="g2"]');
    item.focus();
    await fireEvent.keyDown(item, { key: 'Delete' });
    await waitFor(() => must('#delete-generations-dialog'));
    expect(text('#delete-generations-title')).toBe('Delete 1 generation?');
    await fireEvent.click(must('#confirm-delete-generations'));
    await waitFor(() => expect(document.querySelectorAll('[data-testid="generation"]')).toHaveLength(1));
    expect(tauri.callsOf('delete_generations')).toEqual([{ ids: ['g2'] }]);
    // Nothing focused or selected: Delete does nothing.
    (document.activeElement as HTMLElement | null)?.blur();
    await fireEvent.keyDown(document.body, { key: 'Delete' });
    expect($('#delete-generations-dialog')).toBeNull();
  });
});

describe('an open detail view', () => {
  beforeEach(() => {
    tauri.reset();
    items = [generation({ id: 'g1', prompt: 'A fox in the snow', clipKind: 'image' })];
    outbox = [];
    ledger = [];
    purchases = [];
  });

  it('keeps playing the clip when library-changed and account-changed come in', async () => {
    await mainScreen();
    await fireEvent.click(must('[data-id="g1"]'));
    const dialog = must('#generation-detail');
    await waitFor(() => must('#detail-play'));
    await fireEvent.click(must('#detail-play'));
    const player = must('#detail-player');

    items = [{ ...items[0], updatedAt: '2025-02-01T10:00:00Z' }];
    const loads = tauri.callsOf('library_item').length;
    tauri.emit('library-changed', null);
    tauri.emit('account-changed', { ...account, creditBalance: 1300 });
    await waitFor(() => expect(tauri.callsOf('library_item').length).toBeGreaterThan(loads));
    await waitFor(() => expect(must('#balance').getAttribute('data-value')).toBe('1300'));

    expect($('#generation-detail')).toBe(dialog);
    expect($('#detail-player')).toBe(player);
    expect(must('#detail-play').getAttribute('aria-pressed')).toBe('true');
  });
});

describe('Account & Privacy', () => {
  beforeEach(() => {
    tauri.reset();
    items = [];
    outbox = [];
    ledger = [
      { id: 'l1', amount: 2000, reason: 'signup_grant', generationId: null, balanceAfter: 2000, createdAt: '2025-01-01T10:00:00Z', updatedAt: '2025-01-01T10:00:00Z' },
      { id: 'l2', amount: -700, reason: 'generation', generationId: 'g1', balanceAfter: 1300, createdAt: '2025-01-02T10:00:00Z', updatedAt: '2025-01-02T10:00:00Z' },
      { id: 'l3', amount: 700, reason: 'refund', generationId: 'g1', balanceAfter: 2000, createdAt: '2025-01-03T10:00:00Z', updatedAt: '2025-01-03T10:00:00Z' },
    ];
    purchases = [{ id: 'p1', credits: 1000, amountCents: 999, currency: 'USD', createdAt: '2025-01-04T10:00:00Z', updatedAt: '2025-01-04T10:00:00Z' }];
  });

  async function openAccount() {
    backend();
    render(App);
    await waitFor(() => must('#open-account'));
    await fireEvent.click(must('#open-account'));
    await waitFor(() => must('#account-dialog'));
  }

  it('shows the balance, the ledger and the purchases', async () => {
    await openAccount();
    expect(text('#account-title')).toBe('Account & Privacy');
    expect(text('#account-balance')).toBe('2,000 credits');
    await waitFor(() => must('#ledger-table'));
    const rows = [...document.querySelectorAll('#ledger-table [data-testid="ledger-row"]')].map((r) =>
      [...r.querySelectorAll('td')].slice(1).map((td) => td.textContent),
    );
    expect(rows).toEqual([
      ['Refund for a failed generation', '+700', '2,000'],
      ['Generation', '−700', '1,300'],
      ['Welcome credits', '+2,000', '2,000'],
    ]);
    expect([...document.querySelectorAll('#ledger-table th')].map((th) => th.textContent)).toEqual(['Date', 'What', 'Amount', 'Balance after']);
    const purchase = [...must('#purchases-table').querySelectorAll('tbody td')].map((td) => td.textContent);
    expect(purchase.slice(1)).toEqual(['+1,000', '$9.99']);
  });

  it('saves the display name at once and shows it', async () => {
    await openAccount();
    const field = must<HTMLInputElement>('#display-name');
    expect(field.labels?.[0]?.textContent).toBe('Display name');
    expect(field.value).toBe('Ada');
    tauri.handle('set_display_name', () => null);
    await fireEvent.input(field, { target: { value: '  Ada Lovelace <3 ' } });
    await fireEvent.click(must('#save-display-name'));
    await waitFor(() => expect(text('#account-name')).toBe('Ada Lovelace <3'));
    expect(tauri.callsOf('set_display_name')).toEqual([{ name: 'Ada Lovelace <3' }]);
    expect(text('#display-name-status')).toContain('Saved');

    await fireEvent.input(field, { target: { value: 'x'.repeat(101) } });
    await fireEvent.click(must('#save-display-name'));
    expect(text('#display-name-error')).toContain('at most 100 characters');
    expect(field.getAttribute('aria-invalid')).toBe('true');
    expect(tauri.callsOf('set_display_name')).toHaveLength(1);
  });

  it('has the analytics toggle off by default, labelled and explained', async () => {
    await openAccount();
    const toggle = must<HTMLInputElement>('#analytics-opt-in');
    expect(toggle.checked).toBe(false);
    expect(toggle.labels?.[0]?.textContent).toBe('Share anonymous feature counts');
    expect(must(`#${toggle.getAttribute('aria-describedby')}`).textContent).toContain('never your prompts');
    tauri.handle('set_analytics_opt_in', () => null);
    await fireEvent.click(toggle);
    await waitFor(() => expect(tauri.callsOf('set_analytics_opt_in')).toEqual([{ on: true }]));
    expect(toggle.checked).toBe(true);

    tauri.handle('set_analytics_opt_in', () => {
      throw { code: 'store.failed', message: 'Could not save.' };
    });
    await fireEvent.click(toggle);
    await waitFor(() => expect(text('#analytics-status')).toBe('Could not save.'));
    expect(toggle.checked).toBe(true);
  });
});
