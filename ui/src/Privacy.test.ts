// Account & Privacy: "Everything we store about you", change email / password, export progress
// and cancel, and "remove this device's copy", against a fake backend.
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import App from './App.svelte';
import * as tauri from './test/fakeTauri';
import { account, estimateFor, generation } from './test/fixtures';
import type { AccessReport, AppStatus, GenerationView, OutboxEntry, Settings } from './lib/generated';

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

function backend() {
  const status: AppStatus = { keychain: { state: 'available' }, backend: { kind: 'embedded', url: 'http://127.0.0.1:1' }, account, online: true };
  tauri.handle('app_status', () => status);
  tauri.handle('pending_link', () => null);
  tauri.handle('estimate', (args) => estimateFor((args.settings as Settings).durationSeconds));
  tauri.handle('library', () => ({ items, next: null }));
  tauri.handle('thumbnail', () => null);
  tauri.handle('outbox', () => outbox);
  tauri.handle('ledger', () => []);
  tauri.handle('purchases', () => []);
}

async function openAccount() {
  backend();
  render(App);
  await waitFor(() => must('#open-account'));
  await fireEvent.click(must('#open-account'));
  await waitFor(() => must('#account-dialog'));
}

const profile = {
  uid: 'u1',
  email: 'ada@example.com',
  displayName: XSS,
  creditBalance: 1300,
  analyticsOptIn: false,
  createdAt: '2025-01-01T10:00:00Z',
  updatedAt: '2025-01-02T10:00:00Z',
};

function accessReport(overrides: Partial<AccessReport['onTheServer']> = {}): AccessReport {
  const holdings = {
    generations: 1234,
    thumbnails: 2,
    thumbnailBytes: 3072,
    ledgerEntries: 3,
    purchases: 1,
    savedClips: [{ generationId: 'g1', path: `/home/ada/Downloads/${XSS}-g1.mp4` }],
  };
  return {
    uid: 'u1',
    email: 'ada@example.com',
    profile,
    onThisDevice: {
      ...holdings,
      databasePath: '/home/ada/.local/share/cleom-desktop/accounts/u1/history.db',
      databaseBytes: 5 * 1024 * 1024,
      keychainLocation: 'Secret Service (service com.cleomai.desktop.debug)',
      keychainEntries: [
        { name: 'database-key:u1', purpose: 'the key that decrypts the history on this device', present: true },
        { name: 'refresh-token:u1', purpose: 'keeps this device signed in', present: false },
      ],
      pendingActions: 2,
      refusedActions: 1,
      files: [
        { path: '/home/ada/.local/share/cleom-desktop/accounts/u1/clips/a-fox-g1.mp4', bytes: 2_621_440 },
        { path: '/home/ada/.local/share/cleom-desktop/accounts/u1/history.db', bytes: 5 * 1024 * 1024 },
      ],
      setAside: [],
    },
    onTheServer: {
      profile: { ...profile, creditBalance: 1500 },
      error: null,
      asOfLastSync: holdings,
      signedInDevices: [
        device('here', 'Ada’s desk', 'linux', true),
        device('there', XSS, 'windows', false),
      ],
      sessionsError: null,
      ...overrides,
    },
  };
}

function device(id: string, deviceName: string, platform: string, thisDevice: boolean) {
  return { id, deviceName, platform, thisDevice, firstSeen: '2026-11-01T09:00:00Z', lastSeen: '2026-12-02T08:00:00Z' };
}

describe('Everything we store about you', () => {
  beforeEach(() => {
    tauri.reset();
    items = [];
    outbox = [];
  });

  it('shows the profile, this device, the keychain by name and the server, and refreshes', async () => {
    await openAccount();
    tauri.handle('access_report', () => accessReport());
    await fireEvent.click(must('#open-access'));
    const dialog = await waitFor(() => must('#access-dialog'));
    expect(dialog.getAttribute('aria-labelledby')).toBe('access-title');
    expect(text('#access-title')).toBe('Everything we store about you');
    await waitFor(() => must('#access-device'));

    expect(text('#access-profile-display-name')).toBe(XSS);
    expect(document.querySelector('img[src="x"]')).toBeNull();
    expect(text('#access-profile-balance')).toBe('1,300 credits');
    expect(text('#access-database-path')).toBe('/home/ada/.local/share/cleom-desktop/accounts/u1/history.db');
    expect(text('#access-database-size')).toBe('(5.0 MB)');
    expect(text('#access-device-generations')).toBe('1,234');
    expect(text('#access-device-thumbnails')).toBe('2 images (3.0 KB)');
    expect(text('#access-device-ledger')).toBe('3');
    expect(text('#access-device-purchases')).toBe('1');
    expect([...document.querySelectorAll('[data-testid="access-saved-clip"]')].map((li) => li.textContent)).toEqual([
      `/home/ada/Downloads/${XSS}-g1.mp4`,
    ]);
    const files = [...document.querySelectorAll<HTMLElement>('[data-testid="access-file"]')];
    expect(files.map((li) => li.querySelector('code')?.textContent)).toEqual([
      '/home/ada/.local/share/cleom-desktop/accounts/u1/clips/a-fox-g1.mp4',
      '/home/ada/.local/share/cleom-desktop/accounts/u1/history.db',
    ]);
    expect(files.map((li) => li.dataset.bytes)).toEqual(['2621440', '5242880']);
    expect(files[0]!.textContent).toContain('(2.5 MB)');
    expect(text('#access-keychain-location')).toBe('Secret Service (service com.cleomai.desktop.debug)');
    const entries = [...document.querySelectorAll<HTMLElement>('[data-testid="keychain-entry"]')];
    expect(entries.map((r) => r.querySelector('.keychain-name')?.textContent)).toEqual(['database-key:u1', 'refresh-token:u1']);
    expect(entries.map((r) => r.dataset.present)).toEqual(['true', 'false']);
    expect(entries[0]!.textContent).toContain('the key that decrypts the history on this device');
    expect(text('#access-pending')).toBe('2');
    expect(text('#access-refused')).toBe('1');
    expect(text('#access-server-profile-balance')).toBe('1,500 credits');
    expect(text('#access-server-generations')).toBe('1,234');
    expect($('#access-server-error')).toBeNull();
    expect(must('#access-status').getAttribute('role')).toBe('status');
    expect(text('#access-status')).toMatch(/^Up to date as of /);

    // Offline: the reason instead of the live profile; the last sync's counts stay.
    tauri.handle('access_report', () => accessReport({ profile: null, error: 'Cleom cannot be reached.' }));
    await fireEvent.click(must('#access-refresh'));
    await waitFor(() => expect(text('#access-server-error')).toContain('Cleom cannot be reached.'));
    expect($('#access-server-profile')).toBeNull();
    expect(text('#access-server-ledger')).toBe('3');
    expect(tauri.callsOf('access_report')).toHaveLength(2);

    tauri.handle('access_report', () => {
      throw { code: 'store.failed', message: 'The history could not be read.' };
    });
    await fireEvent.click(must('#access-refresh'));
    await waitFor(() => expect(text('#access-error')).toBe('The history could not be read.'));
    await fireEvent.click(must('#access-close'));
    await waitFor(() => expect($('#access-dialog')).toBeNull());
    expect($('#account-dialog')).not.toBeNull();
  });
});

describe('signed-in devices', () => {
  beforeEach(() => {
    tauri.reset();
    items = [];
    outbox = [];
  });

  async function openAccess() {
    await openAccount();
    await fireEvent.click(must('#open-access'));
    await waitFor(() => must('#access-devices'));
  }

  it('lists where the account is signed in, this device marked, names as text', async () => {
    tauri.handle('access_report', () => accessReport());
    await openAccess();
    const rows = [...document.querySelectorAll<HTMLElement>('[data-testid="access-device"]')];
    expect(rows.map((r) => [r.dataset.id, r.dataset.thisDevice])).toEqual([
      ['here', 'true'],
      ['there', 'false'],
    ]);
    expect(rows[0]!.textContent).toContain('Ada’s desk');
    expect(rows[0]!.textContent).toContain('(Linux)');
    expect(rows[0]!.textContent).toContain('This device');
    expect(rows[1]!.querySelector('strong')?.textContent).toBe(XSS);
    expect(rows[1]!.textContent).toContain('(Windows)');
    expect(rows[1]!.textContent).not.toContain('This device');
    expect(rows[1]!.textContent).toMatch(/First signed in .+ · last seen .+/);
    expect(document.querySelector('img[src="x"]')).toBeNull();
    expect(text('#sign-out-others-form .hint')).toBe('The other device will have to sign in again. You stay signed in here.');
  });

  it('signs out everywhere else with the password, then shows the shorter list', async () => {
    tauri.handle('access_report', () => accessReport());
    await openAccess();

    // No password: nothing is sent, the field is marked and focused.
    await fireEvent.click(must('#sign-out-others-submit'));
    await waitFor(() => expect(text('#sign-out-others-error')).toBe('Enter your password.'));
    expect(tauri.callsOf('sign_out_everywhere_else')).toHaveLength(0);
    expect(must('#sign-out-others-password').getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement?.id).toBe('sign-out-others-password');

    // A wrong password: the backend's message and what to do; nothing else changes.
    tauri.handle('sign_out_everywhere_else', () => {
      throw { code: 'auth.invalid_credentials', message: 'The email or password is wrong.' };
    });
    await fireEvent.input(must('#sign-out-others-password'), { target: { value: 'nope' } });
    await fireEvent.click(must('#sign-out-others-submit'));
    await waitFor(() => expect(text('#sign-out-others-error')).toContain('The email or password is wrong.'));
    expect(text('#sign-out-others-error')).toContain('Check your current password and try again.');
    expect(document.querySelectorAll('[data-testid="access-device"]')).toHaveLength(2);

    tauri.handle('sign_out_everywhere_else', () => 1);
    tauri.handle('access_report', () => accessReport({ signedInDevices: [device('here', 'Ada’s desk', 'linux', true)] }));
    await fireEvent.input(must('#sign-out-others-password'), { target: { value: 'a long enough password' } });
    await fireEvent.click(must('#sign-out-others-submit'));
    await waitFor(() => expect(document.querySelectorAll('[data-testid="access-device"]')).toHaveLength(1));
    expect(tauri.callsOf('sign_out_everywhere_else').at(-1)).toEqual({ password: 'a long enough password' });
    expect(text('#sign-out-others-status')).toBe('1 other device was signed out. This one stays signed in.');
    expect((must('#sign-out-others-password') as HTMLInputElement).value).toBe('');
    expect(text('#sign-out-others-error') ?? '').toBe('');
  });

  it('says why the list is missing when Cleom cannot be asked', async () => {
    tauri.handle('access_report', () =>
      accessReport({ signedInDevices: [], sessionsError: 'Cleom cannot be reached.' }),
    );
    await openAccount();
    await fireEvent.click(must('#open-access'));
    await waitFor(() => expect(text('#access-devices-error')).toContain('Cleom cannot be reached.'));
    expect($('#access-devices')).toBeNull();
  });
});

describe('change email and password', () => {
  beforeEach(() => {
    tauri.reset();
    items = [];
    outbox = [];
  });

  it('checks the form, sends the link and says what happens next', async () => {
    await openAccount();
    const address = must<HTMLInputElement>('#change-email-new');
    const password = must<HTMLInputElement>('#change-email-password');
    expect(address.labels?.[0]?.textContent).toBe('New email');
    expect(password.labels?.[0]?.textContent).toBe('Current password');
    tauri.handle('request_email_change', () => null);

    await fireEvent.input(address, { target: { value: 'ada@example.com' } });
    await fireEvent.click(must('#change-email-submit'));
    expect(text('#change-email-error')).toBe('That is already your email address.');
    expect(address.getAttribute('aria-invalid')).toBe('true');
    await waitFor(() => expect(document.activeElement).toBe(address));
    expect(tauri.callsOf('request_email_change')).toHaveLength(0);

    tauri.handle('request_email_change', () => {
      throw { code: 'auth.invalid_credentials', message: 'Wrong password.' };
    });
    await fireEvent.input(address, { target: { value: ' new@example.com ' } });
    await fireEvent.input(password, { target: { value: 'wrong' } });
    await fireEvent.click(must('#change-email-submit'));
    await waitFor(() => expect(text('#change-email-error')).toBe('Wrong password. Check your current password and try again.'));
    expect(password.getAttribute('aria-invalid')).toBe('true');
    expect(address.getAttribute('aria-invalid')).toBe('false');

    tauri.handle('request_email_change', () => null);
    await fireEvent.input(password, { target: { value: 'secret1' } });
    await fireEvent.click(must('#change-email-submit'));
    await waitFor(() =>
      expect(text('#change-email-status')).toBe('We sent a link to new@example.com. Your email changes when you follow it; you will then sign in again.'),
    );
    expect(must('#change-email-status').getAttribute('role')).toBe('status');
    expect(tauri.callsOf('request_email_change').at(-1)).toEqual({ password: 'secret1', newEmail: 'new@example.com' });
    expect(text('#change-email-error')).toBe('');
    expect(password.value).toBe('');
    // Nothing changes until the link is followed.
    expect(text('#account-dialog-email')).toBe('ada@example.com');
  });

  it('checks the new password twice and its length before changing it', async () => {
    await openAccount();
    const current = must<HTMLInputElement>('#change-password-current');
    const next = must<HTMLInputElement>('#change-password-new');
    const confirm = must<HTMLInputElement>('#change-password-confirm');
    expect([current, next, confirm].map((i) => i.labels?.[0]?.textContent)).toEqual(['Current password', 'New password', 'New password again']);
    tauri.handle('change_password', () => null);

    await fireEvent.input(current, { target: { value: 'secret1' } });
    await fireEvent.input(next, { target: { value: 'short' } });
    await fireEvent.input(confirm, { target: { value: 'short' } });
    await fireEvent.click(must('#change-password-submit'));
    expect(text('#change-password-error')).toBe('The new password needs at least 6 characters.');
    expect(next.getAttribute('aria-invalid')).toBe('true');

    await fireEvent.input(next, { target: { value: 'longer-one' } });
    await fireEvent.input(confirm, { target: { value: 'longer-two' } });
    await fireEvent.click(must('#change-password-submit'));
    expect(text('#change-password-error')).toBe('The new passwords do not match.');
    expect(tauri.callsOf('change_password')).toHaveLength(0);

    tauri.handle('change_password', () => {
      throw { code: 'auth.weak_password', message: 'Password should be at least 6 characters.' };
    });
    await fireEvent.input(confirm, { target: { value: 'longer-one' } });
    await fireEvent.click(must('#change-password-submit'));
    await waitFor(() => expect(text('#change-password-error')).toBe('Password should be at least 6 characters.'));
    expect(next.getAttribute('aria-invalid')).toBe('true');
    expect(current.getAttribute('aria-invalid')).toBe('false');

    tauri.handle('change_password', () => null);
    await fireEvent.click(must('#change-password-submit'));
    await waitFor(() => expect(text('#change-password-status')).toContain('Your password was changed. You stay signed in here'));
    expect(tauri.callsOf('change_password').at(-1)).toEqual({ currentPassword: 'secret1', newPassword: 'longer-one' });
    expect([current.value, next.value, confirm.value]).toEqual(['', '', '']);
  });
});

describe('export progress', () => {
  beforeEach(() => {
    tauri.reset();
    items = [];
    outbox = [];
  });

  it('shows items and bytes while exporting, cancels, and shows the folder when done', async () => {
    await openAccount();
    let fail: (e: unknown) => void = () => {};
    tauri.handle('export_data', () => new Promise((_, reject) => (fail = reject)));
    tauri.handle('cancel_export', () => {
      fail({ code: 'export.canceled', message: 'The export was canceled.' });
      return true;
    });
    await fireEvent.click(must('#export-include-videos'));
    await fireEvent.click(must('#export'));
    await waitFor(() => must('#export-cancel'));
    expect(tauri.callsOf('export_data')).toEqual([{ includeVideos: true }]);
    tauri.emit('export-progress', { step: 'generations', itemsDone: 500, itemsTotal: 2000, bytesDownloaded: 2048, bytesWritten: 1048576 });
    await waitFor(() => expect(text('#export-progress-items')).toBe('500 of 2,000 generations'));
    const bar = must<HTMLProgressElement>('#export-progress');
    expect([bar.value, bar.max]).toEqual([500, 2000]);
    expect(bar.getAttribute('aria-label')).toBe('Export progress');
    expect(text('#export-progress-step')).toBe('Writing generations');
    expect(text('#export-progress-bytes')).toBe('1.0 MB written · 2.0 KB downloaded');

    await fireEvent.click(must('#export-cancel'));
    await waitFor(() => expect(text('#export-status')).toBe('Export canceled. Nothing was saved.'));
    expect(tauri.callsOf('cancel_export')).toHaveLength(1);
    expect($('#export-progress')).toBeNull();
    expect($('#export-cancel')).toBeNull();
    expect(text('#account-error')).toBe('');

    tauri.handle('export_data', () => ({ path: '/home/ada/Downloads/cleom-export.zip', folder: '/home/ada/Downloads', files: 12, bytes: 4096 }));
    tauri.handle('show_in_folder', () => null);
    await fireEvent.click(must('#export-include-videos'));
    await fireEvent.click(must('#export'));
    await waitFor(() => expect(text('#export-result')).toContain('/home/ada/Downloads/cleom-export.zip'));
    expect(tauri.callsOf('export_data').at(-1)).toEqual({});
    expect(text('#export-status')).toBe('');
    await fireEvent.click(must('#show-in-folder'));
    await waitFor(() => expect(tauri.callsOf('show_in_folder')).toEqual([{ path: '/home/ada/Downloads/cleom-export.zip' }]));
  });
});

describe('copies set aside for recovery', () => {
  const copyPath = '/home/ada/.local/share/cleom-desktop/set-aside/u1/20261202T061500Z/history.db';

  function withCopy(): AccessReport {
    const report = accessReport();
    report.onThisDevice.files.push({ path: copyPath, bytes: 4096 });
    report.onThisDevice.setAside = [
      { databasePath: copyPath, bytes: 4096, setAsideAt: '2026-12-02T06:15:00Z', removedAfter: '2027-01-01T06:15:00Z' },
    ];
    return report;
  }

  beforeEach(() => {
    tauri.reset();
    items = [];
    outbox = [];
  });

  it('are listed with when they go, and shown in their folder to send for recovery', async () => {
    await openAccount();
    tauri.handle('access_report', () => withCopy());
    tauri.handle('show_in_folder', () => null);
    await fireEvent.click(must('#open-access'));
    await waitFor(() => must('#access-set-aside'));
    expect(text('#access-set-aside-intro')).toContain('30 days after it was set aside');
    const rows = [...document.querySelectorAll<HTMLElement>('[data-testid="access-set-aside-copy"]')];
    expect(rows).toHaveLength(1);
    expect(rows[0]!.querySelector('code')?.textContent).toBe(copyPath);
    expect(rows[0]!.dataset.removedAfter).toBe('2027-01-01T06:15:00Z');
    expect(rows[0]!.textContent).toContain('(4.0 KB)');
    expect(rows[0]!.querySelector('.set-aside-when')?.textContent).toMatch(/^Set aside .*2026.*; removed after .*2027/);
    // The set-aside file is among the files the app keeps too.
    const files = [...document.querySelectorAll('[data-testid="access-file"] code')].map((c) => c.textContent);
    expect(files).toContain(copyPath);

    await fireEvent.click(must<HTMLButtonElement>('[data-testid="access-set-aside-copy"] .show-set-aside'));
    await waitFor(() => expect(tauri.callsOf('show_in_folder')).toEqual([{ path: copyPath }]));
    expect(text('#access-error')).toBeFalsy();
  });

  it('say why a copy cannot be shown, in the report', async () => {
    await openAccount();
    tauri.handle('access_report', () => withCopy());
    tauri.handle('show_in_folder', () => {
      throw { code: 'system.no_app', message: 'No app could open the folder.' };
    });
    await fireEvent.click(must('#open-access'));
    await waitFor(() => must('#access-set-aside'));
    await fireEvent.click(must('[data-testid="access-set-aside-copy"] .show-set-aside'));
    await waitFor(() => expect(text('#access-error')).toContain('No app could open the folder.'));
  });

  it('are not mentioned when there are none', async () => {
    await openAccount();
    tauri.handle('access_report', () => accessReport());
    await fireEvent.click(must('#open-access'));
    await waitFor(() => must('#access-device'));
    expect($('#access-set-aside')).toBeNull();
    expect($('#access-set-aside-title')).toBeNull();
  });
});

describe("remove this device's copy", () => {
  beforeEach(() => {
    tauri.reset();
    items = [generation({ id: 'g1' }), generation({ id: 'g2', createdAt: '2024-12-31T10:00:00Z' })];
    outbox = [];
  });

  it('says what goes and what stays, then starts over on the empty history', async () => {
    outbox = [
      { seq: 1, id: 'c1', action: { kind: 'deleteGeneration', generationId: 'g9' }, createdAt: '2025-01-05T10:00:00Z', state: 'pending', attempts: 0, refusal: null },
    ];
    await openAccount();
    await waitFor(() => expect(document.querySelectorAll('[data-testid="generation"]')).toHaveLength(2));
    await fireEvent.click(must('#remove-local-copy'));
    const dialog = await waitFor(() => must('#remove-copy-dialog'));
    expect(dialog.getAttribute('aria-describedby')).toBe('remove-copy-what');
    await waitFor(() => expect(text('#remove-copy-goes')).toContain('1 change made here that Cleom has not received yet (they will not be sent)'));
    // The history and its key are set aside for 30 days, not deleted.
    expect(text('#remove-copy-goes')).not.toContain('the key in your system keychain');
    expect(text('#remove-copy-set-aside')).toContain('set aside for 30 days, not deleted');
    expect(text('#remove-copy-set-aside')).toContain('the key in your system keychain');
    expect(text('#remove-copy-keeps')).toContain('your Cleom account');
    expect(text('#remove-copy-keeps')).toContain('you stay signed in');

    // Cancel keeps everything.
    await fireEvent.click(must('#cancel-remove-copy'));
    await waitFor(() => expect($('#remove-copy-dialog')).toBeNull());
    expect(tauri.callsOf('reset_local_copy')).toHaveLength(0);

    tauri.handle('reset_local_copy', () => {
      items = [];
      return account;
    });
    await fireEvent.click(must('#remove-local-copy'));
    await waitFor(() => must('#confirm-remove-copy'));
    await fireEvent.click(must('#confirm-remove-copy'));
    await waitFor(() => expect(text('#main-notice')).toBe("This device's copy was removed. Your history is downloading again from Cleom."));
    expect(tauri.callsOf('reset_local_copy')).toHaveLength(1);
    expect($('#account-dialog')).toBeNull();
    await waitFor(() => expect(document.querySelectorAll('[data-testid="generation"]')).toHaveLength(0));
    await waitFor(() => expect(document.activeElement).toBe(must('#main-notice')));

    // The sync refills it.
    items = [generation({ id: 'g1' })];
    tauri.emit('library-changed', null);
    await waitFor(() => expect(document.querySelectorAll('[data-testid="generation"]')).toHaveLength(1));
  });

  it('goes to sign-in when the session is gone too, and shows failures in the dialog', async () => {
    await openAccount();
    await fireEvent.click(must('#remove-local-copy'));
    await waitFor(() => must('#confirm-remove-copy'));
    tauri.handle('reset_local_copy', () => {
      throw { code: 'store.io', message: 'The folder could not be removed.' };
    });
    await fireEvent.click(must('#confirm-remove-copy'));
    await waitFor(() => expect(text('#remove-copy-error')).toBe('The folder could not be removed.'));
    expect(must<HTMLButtonElement>('#confirm-remove-copy').disabled).toBe(false);

    tauri.handle('reset_local_copy', () => null);
    await fireEvent.click(must('#confirm-remove-copy'));
    await waitFor(() => expect(text('#signed-out-reason')).toContain("This device's copy was removed. Sign in to download your history again."));
  });
});

describe('delete all history', () => {
  beforeEach(() => {
    tauri.reset();
    items = [generation({ id: 'g1' }), generation({ id: 'g2', createdAt: '2024-12-31T10:00:00Z' })];
    outbox = [];
  });

  it('says exactly what goes with the Library count, deletes, and the Library reloads empty', async () => {
    await openAccount();
    tauri.handle('library_counts', () => ({ total: 1234 }));
    await waitFor(() => expect(document.querySelectorAll('[data-testid="generation"]')).toHaveLength(2));
    const opener = must('#delete-all-history');
    expect(opener.getAttribute('aria-haspopup')).toBe('dialog');
    await fireEvent.click(opener);
    const dialog = await waitFor(() => must('#delete-all-history-dialog'));
    expect(dialog.getAttribute('role')).toBe('alertdialog');
    expect(dialog.getAttribute('aria-describedby')).toBe('delete-all-history-what');
    await waitFor(() => expect(text('#delete-all-history-title')).toBe('Delete all 1,234 generations?'));
    expect(tauri.callsOf('library_counts')).toEqual([{ query: {} }]);
    expect(text('#delete-all-history-what')).toBe(
      'They are removed from this device now and from Cleom when it is reachable; your account, credits and credit history stay. This cannot be undone.',
    );
    expect(text('#confirm-delete-all-history')).toBe('Delete 1,234 generations');

    // Cancel deletes nothing.
    await fireEvent.click(must('#cancel-delete-all-history'));
    await waitFor(() => expect($('#delete-all-history-dialog')).toBeNull());
    expect(tauri.callsOf('delete_all_history')).toHaveLength(0);

    tauri.handle('delete_all_history', () => {
      items = [];
      return 1234;
    });
    await fireEvent.click(must('#delete-all-history'));
    await waitFor(() => must('#confirm-delete-all-history'));
    await fireEvent.click(must('#confirm-delete-all-history'));
    await waitFor(() => expect(text('#delete-all-history-status')).toBe('1,234 generations deleted.'));
    expect(must('#delete-all-history-status').getAttribute('role')).toBe('status');
    expect(tauri.callsOf('delete_all_history')).toEqual([{}]);
    expect($('#delete-all-history-dialog')).toBeNull();
    expect($('#account-dialog')).not.toBeNull();

    // Rust emits library-changed after the delete: the Library reloads, empty.
    tauri.emit('library-changed', null);
    await waitFor(() => expect(document.querySelectorAll('[data-testid="generation"]')).toHaveLength(0));
  });

  it('says "all your generations" without a count, and shows a failure in the dialog', async () => {
    await openAccount();
    tauri.handle('library_counts', () => {
      throw { code: 'store.io', message: 'The store could not be read.' };
    });
    await fireEvent.click(must('#delete-all-history'));
    await waitFor(() => expect(tauri.callsOf('library_counts')).toHaveLength(1));
    expect(text('#delete-all-history-title')).toBe('Delete all your generations?');
    expect(text('#confirm-delete-all-history')).toBe('Delete all history');

    tauri.handle('delete_all_history', () => {
      throw { code: 'store.io', message: 'The history could not be deleted.' };
    });
    await fireEvent.click(must('#confirm-delete-all-history'));
    await waitFor(() => expect(text('#delete-all-history-error')).toBe('The history could not be deleted.'));
    expect(must<HTMLButtonElement>('#confirm-delete-all-history').disabled).toBe(false);
    expect(text('#delete-all-history-status')).toBe('');
  });
});

describe('password-protected export', () => {
  beforeEach(() => {
    tauri.reset();
    items = [];
    outbox = [];
  });

  it('is off by default, reveals the password fields, checks them before exporting, and sends the password', async () => {
    await openAccount();
    tauri.handle('export_data', () => ({
      path: '/home/ada/Downloads/cleom-export-encrypted.zip',
      folder: '/home/ada/Downloads',
      files: 9,
      bytes: 2048,
      encrypted: true,
    }));
    const protect = must<HTMLInputElement>('#export-protect');
    expect(protect.checked).toBe(false);
    expect(document.querySelector('label[for="export-protect"]')?.textContent).toBe('Protect the export with a password (AES-256 zip)');
    expect(text('#export-protect-hint')).toContain('file names inside are not');
    expect(text('#export-protect-hint')).toContain('cannot be recovered');
    expect($('#export-password')).toBeNull();

    await fireEvent.click(protect);
    await waitFor(() => must('#export-password'));
    expect(document.querySelector('label[for="export-password"]')).not.toBeNull();
    expect(document.querySelector('label[for="export-password-confirm"]')).not.toBeNull();
    expect(must('#export-password').getAttribute('type')).toBe('password');

    // Too short: nothing is sent, the field is marked and focused.
    await fireEvent.input(must('#export-password'), { target: { value: 'short' } });
    await fireEvent.input(must('#export-password-confirm'), { target: { value: 'short' } });
    await fireEvent.click(must('#export'));
    await waitFor(() => expect(text('#export-password-error')).toBe('The export password needs at least 8 characters.'));
    expect(must('#export-password').getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement).toBe(must('#export-password'));
    expect(tauri.callsOf('export_data')).toHaveLength(0);

    // Not the same twice.
    await fireEvent.input(must('#export-password'), { target: { value: 'correct horse' } });
    await fireEvent.input(must('#export-password-confirm'), { target: { value: 'correct horsf' } });
    await fireEvent.click(must('#export'));
    await waitFor(() => expect(text('#export-password-error')).toBe('The two export passwords do not match.'));
    expect(must('#export-password-confirm').getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement).toBe(must('#export-password-confirm'));
    expect(tauri.callsOf('export_data')).toHaveLength(0);

    await fireEvent.input(must('#export-password-confirm'), { target: { value: 'correct horse' } });
    await fireEvent.click(must('#export'));
    await waitFor(() => expect(text('#export-result')).toContain('/home/ada/Downloads/cleom-export-encrypted.zip'));
    expect(text('#export-result')).toContain('protected with your password');
    expect(tauri.callsOf('export_data')).toEqual([{ password: 'correct horse' }]);
    expect(text('#export-password-error')).toBe('');
    // The password is not kept in the form afterwards.
    expect(must<HTMLInputElement>('#export-password').value).toBe('');

    // Unticked: a plain export again, whatever was typed.
    await fireEvent.input(must('#export-password'), { target: { value: 'x' } });
    await fireEvent.click(must('#export-protect'));
    await waitFor(() => expect($('#export-password')).toBeNull());
    await fireEvent.click(must('#export'));
    await waitFor(() => expect(tauri.callsOf('export_data')).toHaveLength(2));
    expect(tauri.callsOf('export_data')[1]).toEqual({});
  });
});

describe('dialogs in Account & Privacy', () => {
  beforeEach(() => {
    tauri.reset();
    items = [generation({ id: 'g1' })];
    outbox = [];
  });

  it('Escape closes the confirmation on top only, then Account & Privacy, and the focus goes back', async () => {
    backend();
    render(App);
    const opener = await waitFor(() => must('#open-account'));
    opener.focus();
    await fireEvent.click(opener);
    const account = await waitFor(() => must('#account-dialog'));
    await fireEvent.click(must('#delete-all-history'));
    await waitFor(() => must('#delete-all-history-dialog'));
    await fireEvent.keyDown(must('#cancel-delete-all-history'), { key: 'Escape' });
    await waitFor(() => expect($('#delete-all-history-dialog')).toBeNull());
    expect($('#account-dialog')).toBe(account);
    expect(tauri.callsOf('delete_all_history')).toHaveLength(0);

    await fireEvent.keyDown(account, { key: 'Escape' });
    await waitFor(() => expect($('#account-dialog')).toBeNull());
    await waitFor(() => expect(document.activeElement).toBe(must('#open-account')));
  });

  it('selects a wrong password to type it again', async () => {
    await openAccount();
    await fireEvent.click(must('#delete-account'));
    tauri.handle('delete_account', () => {
      throw { code: 'auth.invalid_credentials', message: 'Wrong password.' };
    });
    await fireEvent.input(must('#delete-password'), { target: { value: 'wrong' } });
    await fireEvent.click(must('#confirm-delete'));
    await waitFor(() => expect(text('#delete-error')).toBe('Wrong password.'));
    const input = must<HTMLInputElement>('#delete-password');
    await waitFor(() => expect(document.activeElement).toBe(input));
    expect(input.disabled).toBe(false);
    expect([input.selectionStart, input.selectionEnd]).toEqual([0, 'wrong'.length]);
  });

  it('does not load the access report again when the library or the account changes', async () => {
    tauri.handle('access_report', () => accessReport());
    await openAccount();
    await fireEvent.click(must('#open-access'));
    const dialog = must('#access-dialog');
    await waitFor(() => expect(text('#access-status')).toMatch(/^Up to date as of /));
    const status = text('#access-status');

    items = [generation({ id: 'g1', updatedAt: '2025-02-01T10:00:00Z' })];
    tauri.emit('library-changed', null);
    tauri.emit('account-changed', { ...account, creditBalance: 1300 });
    await waitFor(() => expect(must('#account-balance').getAttribute('data-value')).toBe('1300'));
    await waitFor(() => expect(tauri.callsOf('library').length).toBeGreaterThan(1));

    expect($('#access-dialog')).toBe(dialog);
    expect(tauri.callsOf('access_report')).toHaveLength(1);
    expect(text('#access-status')).toBe(status);
    expect(text('#access-device-saved-clips')).toBe('1');
  });
});
