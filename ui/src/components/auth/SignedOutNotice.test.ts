import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import SignedOutNotice from './SignedOutNotice.svelte';
import * as tauri from '../../test/fakeTauri';

vi.mock('@tauri-apps/api/core', () => import('../../test/fakeTauri').then((m) => m.core));
vi.mock('@tauri-apps/api/event', () => import('../../test/fakeTauri').then((m) => m.event));

const $ = (selector: string) => document.querySelector(selector) as HTMLElement;

describe('the deletion receipt', () => {
  beforeEach(() => tauri.reset());

  const receipt = {
    email: 'ada@example.com',
    deletedAt: '2025-01-05T10:00:00Z',
    removed: { generations: 3, ledgerEntries: 2, purchases: 1, mediaFiles: 4, localFiles: 7, keychainEntries: 2 },
  };

  it('saves the receipt and shows where', async () => {
    tauri.handle('save_receipt', () => '/home/ada/Downloads/cleom-deletion-receipt-<b>x</b>.txt');
    render(SignedOutNotice, { notice: { kind: 'deleted', receipt } });
    const button = $('#deletion-receipt').querySelector<HTMLButtonElement>('#save-receipt')!;
    expect(button.textContent?.trim()).toBe('Save the receipt');
    expect($('#save-receipt-status').getAttribute('role')).toBe('status');
    await fireEvent.click(button);
    await waitFor(() =>
      expect($('#save-receipt-status').textContent).toBe('Receipt saved to /home/ada/Downloads/cleom-deletion-receipt-<b>x</b>.txt'),
    );
    expect(document.querySelector('#save-receipt-status b')).toBeNull();
    expect(tauri.callsOf('save_receipt')).toEqual([{}]);
    expect(button.disabled).toBe(false);
  });

  it('shows why the receipt could not be saved', async () => {
    tauri.handle('save_receipt', () => {
      throw { code: 'store.io', message: 'The Downloads folder is not writable.' };
    });
    render(SignedOutNotice, { notice: { kind: 'deleted', receipt } });
    await fireEvent.click($('#save-receipt'));
    await waitFor(() =>
      expect($('#save-receipt-status').textContent).toBe('The receipt could not be saved: The Downloads folder is not writable.'),
    );
  });

  it('is not offered after a plain sign-out', () => {
    render(SignedOutNotice, { notice: { kind: 'signed-out', reason: 'Bye.' } });
    expect(document.querySelector('#save-receipt')).toBeNull();
    expect($('#signed-out-reason').textContent).toBe('You were signed out: Bye.');
  });
});
