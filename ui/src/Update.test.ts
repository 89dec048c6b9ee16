// Updates: the start-up offer in a banner, "Check for updates" in Account & Privacy, the offer's
// version and notes, download progress from events, and each refusal shown by its code.
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import App from './App.svelte';
import * as tauri from './test/fakeTauri';
import { account, estimateFor } from './test/fixtures';
import type { AppStatus, Settings, UpdateOffer, UpdateStatus } from './lib/generated';

vi.mock('@tauri-apps/api/core', () => import('./test/fakeTauri').then((m) => m.core));
vi.mock('@tauri-apps/api/event', () => import('./test/fakeTauri').then((m) => m.event));

const $ = (selector: string) => document.querySelector(selector) as HTMLElement | null;
const must = <T extends HTMLElement = HTMLElement>(selector: string) => {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`${selector} not found`);
  return el;
};
const text = (selector: string) => must(selector).textContent?.replace(/\s+/g, ' ').trim();

const OFFER: UpdateOffer = {
  version: '0.2.0',
  currentVersion: '0.1.0',
  notes: 'Faster Library.\n<b>not bold</b>',
  date: '2026-12-01T12:00:00Z',
};

function backend(status: Partial<UpdateStatus> = {}) {
  const app: AppStatus = { keychain: { state: 'available' }, backend: { kind: 'embedded', url: 'http://127.0.0.1:1' }, account, online: true };
  tauri.handle('app_status', () => app);
  tauri.handle('estimate', (args) => estimateFor((args.settings as Settings).durationSeconds));
  tauri.handle('library', () => ({ items: [], next: null }));
  tauri.handle('outbox', () => []);
  tauri.handle('ledger', () => []);
  tauri.handle('purchases', () => []);
  tauri.handle('update_status', () => ({ currentVersion: '0.1.0', offer: null, unavailable: null, ...status }));
}

async function openUpdates() {
  render(App);
  await waitFor(() => must('#open-account'));
  await fireEvent.click(must('#open-account'));
  await waitFor(() => must('[data-testid=update-open]'));
  await fireEvent.click(must('[data-testid=update-open]'));
  await waitFor(() => must('[data-testid=update-dialog]'));
}

beforeEach(() => tauri.reset());

describe('updates', () => {
  it('offers a newer version with its notes as text, and installs only when asked', async () => {
    backend();
    tauri.handle('check_for_update', () => OFFER);
    tauri.handle('install_update', () => {
      tauri.emit('update-progress', { phase: 'downloading', downloaded: 512, total: 2048 });
      return new Promise(() => {});
    });
    await openUpdates();
    await waitFor(() => expect(text('[data-testid=update-version]')).toBe('0.2.0'));
    expect(text('[data-testid=update-current-version]')).toBe('This is Cleom Desktop 0.1.0.');
    expect(must('[data-testid=update-notes]').textContent).toBe(OFFER.notes);
    expect($('[data-testid=update-notes] b')).toBeNull();
    expect(tauri.callsOf('install_update')).toHaveLength(0);

    await fireEvent.click(must('[data-testid=update-install]'));
    await waitFor(() => expect(text('[data-testid=update-progress-text]')).toBe('Downloading… 512 B of 2.0 KB'));
    expect(must('[data-testid=update-dialog]').dataset.downloaded).toBe('512');
    expect(tauri.callsOf('install_update')).toHaveLength(1);
  });

  it('says so when this is the latest version', async () => {
    backend();
    tauri.handle('check_for_update', () => null);
    await openUpdates();
    await waitFor(() => expect(text('[data-testid=update-status]')).toBe('You have the latest version.'));
    expect($('[data-testid=update-install]')).toBeNull();
  });

  it('shows a refused install with its code and keeps the offer for another try', async () => {
    backend();
    tauri.handle('check_for_update', () => OFFER);
    tauri.handle('install_update', () => {
      throw { code: 'update.bad_signature', message: 'The downloaded update is not signed with Cleom’s key.' };
    });
    await openUpdates();
    await waitFor(() => must('[data-testid=update-install]'));
    await fireEvent.click(must('[data-testid=update-install]'));
    await waitFor(() => expect(must('[data-testid=update-error]').dataset.code).toBe('update.bad_signature'));
    expect(text('[data-testid=update-error]')).toContain('never installed');
    expect($('[data-testid=update-install]')).not.toBeNull();
  });

  it('tells a build without an update key that it has no updates, without asking the server', async () => {
    backend({ unavailable: { code: 'update.not_configured', message: 'This build was made without an update key.' } });
    tauri.handle('check_for_update', () => OFFER);
    await openUpdates();
    await waitFor(() => expect(must('[data-testid=update-error]').dataset.code).toBe('update.not_configured'));
    expect(tauri.callsOf('check_for_update')).toHaveLength(0);
  });

  it('announces what the start-up check found in a banner that opens the offer', async () => {
    backend();
    render(App);
    await waitFor(() => must('#open-account'));
    expect($('[data-testid=update-banner]')).toBeNull();
    tauri.emit('update-available', OFFER);
    await waitFor(() => expect(text('[data-testid=update-banner]')).toContain('Cleom Desktop 0.2.0 is available.'));
    tauri.handle('update_status', () => ({ currentVersion: '0.1.0', offer: OFFER, unavailable: null }));
    await fireEvent.click(must('[data-testid=update-banner-open]'));
    await waitFor(() => expect(text('[data-testid=update-version]')).toBe('0.2.0'));
    expect(tauri.callsOf('check_for_update')).toHaveLength(0);
  });
});
