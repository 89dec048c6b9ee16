// The whole UI against a fake backend: what the contract says each screen does.
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import App from './App.svelte';
import * as tauri from './test/fakeTauri';
import { account, estimateFor, generation } from './test/fixtures';
import type { AppStatus, GenerationView, LibraryQuery, Settings } from './lib/generated';

vi.mock('@tauri-apps/api/core', () => import('./test/fakeTauri').then((m) => m.core));
vi.mock('@tauri-apps/api/event', () => import('./test/fakeTauri').then((m) => m.event));

const $ = (selector: string) => document.querySelector(selector) as HTMLElement | null;
const must = (selector: string) => {
  const el = $(selector);
  if (!el) throw new Error(`${selector} not found`);
  return el;
};
const button = (selector: string) => must(selector) as HTMLButtonElement;

const PNG = 'data:image/png;base64,iVBORw0KGgo=';

function status(overrides: Partial<AppStatus> = {}): AppStatus {
  return {
    keychain: { state: 'available' },
    backend: { kind: 'embedded', url: 'http://127.0.0.1:1' },
    account,
    online: true,
    ...overrides,
  };
}

let libraryItems: GenerationView[];

function backend(overrides: Partial<AppStatus> = {}) {
  tauri.handle('app_status', () => status(overrides));
  tauri.handle('pending_link', () => null);
  tauri.handle('estimate', (args) => estimateFor((args.settings as Settings).durationSeconds));
  tauri.handle('library', () => ({ items: libraryItems, next: null }));
  tauri.handle('thumbnail', () => PNG);
}

async function mainScreen(overrides: Partial<AppStatus> = {}) {
  backend(overrides);
  render(App);
  await waitFor(() => must('#prompt'));
  await waitFor(() => expect(must('#estimate').dataset.value).toBe('700'));
}

describe('App', () => {
  beforeEach(() => {
    tauri.reset();
    libraryItems = [
      generation({ id: 'g2', createdAt: '2025-01-02T10:00:00Z', hasThumbnail: true }),
      generation({ id: 'g1', createdAt: '2025-01-01T10:00:00Z', prompt: '<img src=x onerror=alert(1)>' }),
    ];
  });

  it('resumes a session into the main screen with balance, email and library', async () => {
    await mainScreen();
    expect(must('#account-email').textContent).toBe('ada@example.com');
    expect(must('#balance').textContent).toContain('2,000 credits');
    expect(must('#balance').dataset.value).toBe('2000');
    expect(must('#estimate').textContent).toContain('700 credits · 70/s');
    await waitFor(() => expect(document.querySelectorAll('[data-testid="generation"]')).toHaveLength(2));
    const items = [...document.querySelectorAll<HTMLElement>('[data-testid="generation"]')];
    expect(items.map((el) => el.dataset.id)).toEqual(['g2', 'g1']);
    expect(items[1]!.querySelector('.prompt')?.textContent).toBe('<img src=x onerror=alert(1)>');
    expect(document.querySelector('img[src="x"]')).toBeNull();
    await waitFor(() => expect(items[0]!.querySelector('img.thumbnail')?.getAttribute('src')).toBe(PNG));
    expect(tauri.callsOf('thumbnail')).toEqual([{ id: 'g2' }]);
    expect(tauri.callsOf('library')[0]).toEqual({ query: { filters: {}, sort: 'newestFirst', limit: 50 } });
    expect($('#offline-badge')).toBeNull();
  });

  it('shows the main screen offline for a resumed session, with banner and badge', async () => {
    await mainScreen({ online: false });
    expect(must('#offline-badge').textContent).toBe('Offline');
    expect(must('#offline-banner').textContent).toContain("Can't reach Cleom");
  });

  it('shows the sign-in screen without a session', async () => {
    backend({ account: null, keychain: { state: 'unavailable', reason: 'no keyring daemon' } });
    render(App);
    await waitFor(() => must('#auth-email'));
    expect(must('#keychain-status').textContent).toContain('no keyring daemon');
  });

  it('generates: disabled without prompt, then sends prompt and settings and prepends the result', async () => {
    await mainScreen();
    expect(button('#generate').disabled).toBe(true);
    expect(must('#generate-reason').textContent).toMatch(/write a prompt/i);

    const started = generation({ id: 'g9', createdAt: '2025-02-01T10:00:00Z', status: 'queued', progress: 0, prompt: 'A fox' });
    tauri.handle('generate', () => started);
    await fireEvent.input(must('#prompt'), { target: { value: 'A fox' } });
    expect(button('#generate').disabled).toBe(false);
    await fireEvent.click(button('#generate'));

    await waitFor(() => expect(document.querySelector('[data-testid="generation"]')?.getAttribute('data-id')).toBe('g9'));
    const first = must('[data-testid="generation"]');
    expect(first.dataset.status).toBe('queued');
    expect(first.querySelector('progress')).not.toBeNull();
    expect(tauri.callsOf('generate')).toEqual([
      {
        prompt: 'A fox',
        settings: {
          durationSeconds: 10,
          resolution: '1080p',
          aspectRatio: '16:9',
          stylePreset: null,
          subject: null,
          pacing: null,
          voiceOver: null,
          music: false,
          subtitles: false,
        },
        references: [],
      },
    ]);
  });

  it('re-prices on changes and blocks Generate when the estimate exceeds the balance', async () => {
    await mainScreen();
    await fireEvent.input(must('#prompt'), { target: { value: 'A long fox' } });
    await fireEvent.input(must('#duration'), { target: { value: '40' } });
    await waitFor(() => expect(must('#estimate').dataset.value).toBe('2800'));
    expect(button('#generate').disabled).toBe(true);
    expect(must('#generate-reason').textContent).toMatch(/not enough credits/i);

    await fireEvent.change(must('#resolution'), { target: { value: '4k' } });
    await waitFor(() => expect(tauri.callsOf('estimate').at(-1)).toMatchObject({ settings: { resolution: '4k', durationSeconds: 40 } }));
  });

  it('clamps a typed duration when it is committed', async () => {
    await mainScreen();
    const input = must('#duration') as HTMLInputElement;
    await fireEvent.input(input, { target: { value: '99' } });
    await fireEvent.change(input);
    expect(input.value).toBe('60');
    await waitFor(() => expect(must('#estimate').dataset.value).toBe('4200'));
  });

  it('shows credits.insufficient next to Generate', async () => {
    await mainScreen();
    tauri.handle('generate', () => {
      throw { code: 'credits.insufficient', message: 'You need 700 credits, you have 0.' };
    });
    await fireEvent.input(must('#prompt'), { target: { value: 'A fox' } });
    await fireEvent.click(button('#generate'));
    await waitFor(() => expect(must('#generate-error').textContent).toContain('You need 700 credits, you have 0.'));
  });

  it('goes offline on network.unreachable and back online after a sync', async () => {
    await mainScreen();
    tauri.handle('generate', () => {
      throw { code: 'network.unreachable', message: 'Cleom is unreachable.' };
    });
    await fireEvent.input(must('#prompt'), { target: { value: 'A fox' } });
    await fireEvent.click(button('#generate'));
    await waitFor(() => must('#offline-badge'));
    expect(must('#generate-error').textContent).toContain('Cleom is unreachable.');

    tauri.emit('sync-state', { state: 'idle', lastSyncAt: new Date().toISOString(), error: null, pending: 0 });
    await waitFor(() => expect($('#offline-badge')).toBeNull());
    expect(must('#sync-status').textContent).toContain('Synced just now');
  });

  it('reacts to events: library-changed reloads, account-changed updates the balance', async () => {
    await mainScreen();
    await waitFor(() => expect(document.querySelectorAll('[data-testid="generation"]')).toHaveLength(2));
    libraryItems = [generation({ id: 'g3', createdAt: '2025-01-03T10:00:00Z', status: 'running', progress: 0.5 }), ...libraryItems];
    tauri.emit('library-changed', null);
    await waitFor(() => expect(document.querySelectorAll('[data-testid="generation"]')).toHaveLength(3));
    expect(must('[data-id="g3"]').dataset.status).toBe('running');

    tauri.emit('account-changed', { ...account, creditBalance: 1300 });
    await waitFor(() => expect(must('#balance').dataset.value).toBe('1300'));
  });

  it('shows a sync error with Retry calling sync_now', async () => {
    await mainScreen();
    tauri.emit('sync-state', { state: 'error', lastSyncAt: null, error: { code: 'sync.failed', message: 'Server error' }, pending: 2 });
    await waitFor(() => expect(must('#sync-status').textContent).toContain('Server error'));
    tauri.handle('sync_now', () => ({ state: 'idle', lastSyncAt: new Date().toISOString(), error: null, pending: 0 }));
    await fireEvent.click(button('#sync-retry'));
    await waitFor(() => expect(must('#sync-status').textContent).toContain('Synced just now'));
    expect(tauri.callsOf('sync_now')).toHaveLength(1);
  });

  it('loads the next page with the cursor when the end of the list comes into view', async () => {
    const cursor = 'n.1';
    backend();
    tauri.handle('library', (args) =>
      (args.query as LibraryQuery).after === undefined
        ? { items: libraryItems, next: cursor }
        : { items: [generation({ id: 'g0', createdAt: '2024-12-31T10:00:00Z' })], next: null },
    );
    render(App);
    await waitFor(() => expect(document.querySelectorAll('[data-testid="generation"]')).toHaveLength(3));
    expect(tauri.callsOf('library')[1]).toEqual({ query: { filters: {}, sort: 'newestFirst', limit: 200, after: cursor } });
    expect(must('#library-count').textContent).toContain('3 generations');
    expect($('#load-more')).toBeNull();
  });

  it('returns to sign-in with the reason on signed-out', async () => {
    await mainScreen();
    tauri.emit('signed-out', { reason: 'Your session expired.' });
    await waitFor(() => must('#auth-email'));
    expect(document.body.textContent).toContain('Your session expired.');
  });

  it('exports data and shows the zip in its folder', async () => {
    await mainScreen();
    tauri.handle('export_data', () => ({ path: '/home/ada/Downloads/cleom-export.zip', folder: '/home/ada/Downloads', files: 12, bytes: 4096 }));
    tauri.handle('show_in_folder', () => null);
    await fireEvent.click(button('#open-account'));
    await fireEvent.click(button('#export'));
    await waitFor(() => expect(must('#export-result').textContent).toContain('/home/ada/Downloads/cleom-export.zip'));
    await fireEvent.click(button('#show-in-folder'));
    // The file itself, which the file manager shows selected in its folder.
    expect(tauri.callsOf('show_in_folder')).toEqual([{ path: '/home/ada/Downloads/cleom-export.zip' }]);
  });

  it('signs out from the account dialog', async () => {
    await mainScreen();
    tauri.handle('sign_out', () => null);
    await fireEvent.click(button('#open-account'));
    await fireEvent.click(button('#sign-out'));
    await waitFor(() => must('#auth-email'));
  });

  it('deletes the account: a wrong password stays in the dialog, the right one shows the receipt', async () => {
    await mainScreen();
    await fireEvent.click(button('#open-account'));
    await fireEvent.click(button('#delete-account'));
    expect(must('#delete-what').textContent).toMatch(/every generation/);
    expect(button('#confirm-delete').disabled).toBe(true);

    tauri.handle('delete_account', () => {
      throw { code: 'auth.invalid_credentials', message: 'Wrong password.' };
    });
    await fireEvent.input(must('#delete-password'), { target: { value: 'wrong' } });
    await fireEvent.click(button('#confirm-delete'));
    await waitFor(() => expect(must('#delete-error').textContent).toContain('Wrong password.'));
    expect(must('#delete-password').getAttribute('aria-invalid')).toBe('true');

    tauri.handle('delete_account', () => ({
      email: 'ada@example.com',
      deletedAt: '2025-03-01T10:00:00Z',
      removed: { generations: 2, ledgerEntries: 3, purchases: 1, mediaFiles: 4, localFiles: 5, keychainEntries: 2 },
    }));
    await fireEvent.input(must('#delete-password'), { target: { value: 'right' } });
    await fireEvent.click(button('#confirm-delete'));
    await waitFor(() => must('#auth-email'));
    expect(must('#deletion-receipt').textContent).toContain('ada@example.com was deleted');
    expect(tauri.callsOf('delete_account').at(-1)).toEqual({ password: 'right' });
  });

  it('offers a retry when app_status fails', async () => {
    tauri.handle('app_status', () => {
      throw { code: 'store.corrupt', message: 'The local store cannot be opened.' };
    });
    render(App);
    await waitFor(() => expect(must('#start-error').textContent).toContain('The local store cannot be opened.'));
    backend({ account: null });
    await fireEvent.click(button('#retry-start'));
    await waitFor(() => must('#auth-email'));
  });

  it('opens the shortcut sheet with ? and focuses the prompt with Ctrl+N', async () => {
    await mainScreen();
    await fireEvent.keyDown(document.body, { key: '?', shiftKey: true });
    await waitFor(() => must('#help-sheet'));
    const keys = [...document.querySelectorAll('[data-testid="shortcut"] kbd')].map((k) => k.textContent);
    expect(keys).toContain('Ctrl+N');
    expect(keys).toContain('Ctrl+L');
    // The Library's search field is there, and Delete (for the selection or the focused clip).
    expect(keys).toContain('Ctrl+F or /');
    expect(keys).toContain('Delete');
    expect(keys).toContain('Space');
    await fireEvent.click([...document.querySelectorAll<HTMLButtonElement>('#help-sheet button')].at(-1)!);
    await waitFor(() => expect($('#help-sheet')).toBeNull());

    await fireEvent.keyDown(document.body, { key: 'n', ctrlKey: true });
    expect(document.activeElement?.id).toBe('prompt');
    // Typing "?" in the prompt is just text.
    await fireEvent.keyDown(must('#prompt'), { key: '?' });
    expect($('#help-sheet')).toBeNull();
  });

  it('explains the keychain and the passphrase mode on the first run only', async () => {
    localStorage.clear();
    backend({ account: null });
    tauri.handle('sign_in', () => account);
    render(App);
    await waitFor(() => must('#first-run'));
    const states = [...document.querySelectorAll('[data-testid="protection-state"]')].map((b) => b.textContent);
    expect(states).toEqual(['Available', 'Not needed']);
    await fireEvent.input(must('#auth-email'), { target: { value: 'ada@example.com' } });
    await fireEvent.input(must('#auth-password'), { target: { value: 'pw' } });
    await fireEvent.click(button('#auth-submit'));
    await waitFor(() => must('#prompt'));
    expect(localStorage.getItem('cleom.welcomed')).toBe('1');
  });

  it('without a keychain: chooses a passphrase, then unlocks with it into the last session', async () => {
    let keychain: AppStatus['keychain'] = { state: 'passphrase', setUp: false, unlocked: false, reason: 'no Secret Service' };
    backend({ account: null });
    tauri.handle('app_status', () => status({ account: null, keychain }));
    tauri.handle('set_up_passphrase', (args) => {
      if ((args.passphrase as string).length < 8) throw { code: 'keychain.weak_passphrase', message: 'Too short.' };
      keychain = { ...keychain, setUp: true, unlocked: true } as AppStatus['keychain'];
      return null;
    });
    render(App);
    await waitFor(() => must('#passphrase-form'));
    expect(must('#keychain-status').textContent).toMatch(/passphrase/i);
    await fireEvent.input(must('#passphrase'), { target: { value: 'short' } });
    await fireEvent.click(button('#passphrase-submit'));
    expect(must('#passphrase-error').textContent).toMatch(/at least 8/);
    await fireEvent.input(must('#passphrase'), { target: { value: 'a long passphrase' } });
    await fireEvent.input(must('#passphrase-confirm'), { target: { value: 'a long passphrase' } });
    await fireEvent.click(button('#passphrase-submit'));
    await waitFor(() => expect($('#passphrase-form')).toBeNull());
    expect(tauri.callsOf('set_up_passphrase')).toEqual([{ passphrase: 'a long passphrase' }]);

    // Next start: locked until the passphrase is entered; a wrong one is explained.
    keychain = { state: 'passphrase', setUp: true, unlocked: false, reason: null };
    tauri.handle('unlock_with_passphrase', (args) => {
      if (args.passphrase !== 'a long passphrase') throw { code: 'keychain.wrong_passphrase', message: 'That passphrase is not the right one.' };
      return account;
    });
    document.body.innerHTML = '';
    render(App);
    await waitFor(() => must('#passphrase-form'));
    await fireEvent.input(must('#passphrase'), { target: { value: 'wrong one' } });
    await fireEvent.click(button('#passphrase-submit'));
    await waitFor(() => expect(must('#passphrase-error').textContent).toContain('not the right one'));
    await fireEvent.input(must('#passphrase'), { target: { value: 'a long passphrase' } });
    await fireEvent.click(button('#passphrase-submit'));
    await waitFor(() => must('#prompt'));
  });
  it('focuses the Library search with / and Ctrl+F', async () => {
    await mainScreen();
    await fireEvent.keyDown(document.body, { key: '/' });
    expect(document.activeElement?.id).toBe('library-search');
    must('#prompt').focus();
    await fireEvent.keyDown(must('#prompt'), { key: '/' });
    expect(document.activeElement?.id).toBe('prompt');
    document.body.focus();
    (document.activeElement as HTMLElement | null)?.blur();
    await fireEvent.keyDown(document.body, { key: 'f', ctrlKey: true });
    expect(document.activeElement?.id).toBe('library-search');
  });

  it('reuses a generation\'s prompt and settings in the Studio from the detail view', async () => {
    const settings: Settings = {
      durationSeconds: 25,
      resolution: '4k',
      aspectRatio: '9:16',
      stylePreset: 'Anime',
      subject: null,
      pacing: 'Slow',
      voiceOver: null,
      music: true,
      subtitles: false,
    };
    libraryItems = [generation({ id: 'g9', prompt: 'A paper boat on a river', settings })];
    await mainScreen();
    tauri.handle('library_item', () => ({ ...libraryItems[0]!, thumbnail: null }));
    await waitFor(() => must('[data-id="g9"]'));
    await fireEvent.click(must('[data-id="g9"]'));
    await waitFor(() => must('#generation-detail'));
    await fireEvent.click(must('#detail-reuse'));
    await waitFor(() => expect($('#generation-detail')).toBeNull());
    expect((must('#prompt') as HTMLTextAreaElement).value).toBe('A paper boat on a river');
    expect((must('#duration') as HTMLInputElement).value).toBe('25');
    expect((must('#resolution') as HTMLSelectElement).value).toBe('4k');
    expect((must('#aspect-ratio') as HTMLSelectElement).value).toBe('9:16');
    expect((must('#style-preset') as HTMLSelectElement).value).toBe('Anime');
    expect((must('#music') as HTMLInputElement).checked).toBe(true);
    await waitFor(() => expect(document.activeElement?.id).toBe('prompt'));
  });
});

