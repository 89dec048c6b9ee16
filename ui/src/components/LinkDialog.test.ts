import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import LinkDialog from './LinkDialog.svelte';
import * as tauri from '../test/fakeTauri';
import { account } from '../test/fixtures';

vi.mock('@tauri-apps/api/core', () => import('../test/fakeTauri').then((m) => m.core));
vi.mock('@tauri-apps/api/event', () => import('../test/fakeTauri').then((m) => m.event));

const $ = (selector: string) => document.querySelector(selector) as HTMLElement;

describe('LinkDialog', () => {
  beforeEach(() => tauri.reset());

  it('shows nothing without a link', async () => {
    tauri.handle('pending_link', () => null);
    render(LinkDialog, { onsignedin: vi.fn() });
    await waitFor(() => expect(tauri.callsOf('pending_link')).toHaveLength(1));
    expect(document.querySelector('dialog')).toBeNull();
  });

  it('a reset link asks for the new password, then signs in with it', async () => {
    tauri.handle('pending_link', () => ({ action: 'resetPassword' }));
    let attempts = 0;
    tauri.handle('reset_password', () => {
      attempts += 1;
      if (attempts === 1) throw { code: 'auth.weak_password', message: 'This password is too weak.' };
      return account;
    });
    const onsignedin = vi.fn();
    render(LinkDialog, { onsignedin });
    await waitFor(() => expect($('#reset-password-dialog')).toBeTruthy());
    expect($('#reset-password-dialog').getAttribute('aria-labelledby')).toBe('reset-password-title');
    expect(document.activeElement?.id).toBe('reset-new-password');

    await fireEvent.input($('#reset-new-password'), { target: { value: '123' } });
    await fireEvent.submit($('#reset-submit').closest('form')!);
    await waitFor(() => expect($('#reset-error').textContent).toContain('too weak'));
    expect($('#reset-new-password').getAttribute('aria-invalid')).toBe('true');
    expect(onsignedin).not.toHaveBeenCalled();

    await fireEvent.input($('#reset-new-password'), { target: { value: 'a new horse' } });
    await fireEvent.submit($('#reset-submit').closest('form')!);
    await waitFor(() => expect(onsignedin).toHaveBeenCalledWith(account));
    expect(tauri.callsOf('reset_password')).toEqual([{ newPassword: '123' }, { newPassword: 'a new horse' }]);
    expect(document.querySelector('#reset-password-dialog')).toBeNull();
  });

  it('a used reset link says so and offers only closing', async () => {
    tauri.handle('pending_link', () => ({ action: 'resetPassword' }));
    tauri.handle('reset_password', () => {
      throw { code: 'auth.invalid_action_code', message: 'This link is not valid or has already been used.' };
    });
    render(LinkDialog, { onsignedin: vi.fn() });
    await waitFor(() => expect($('#reset-password-dialog')).toBeTruthy());
    await fireEvent.input($('#reset-new-password'), { target: { value: 'a new horse' } });
    await fireEvent.submit($('#reset-submit').closest('form')!);
    await waitFor(() => expect($('#reset-error').textContent).toContain('already been used'));
    expect($('#reset-error').textContent).toContain('Forgot password?');
    expect(($('#reset-submit') as HTMLButtonElement).disabled).toBe(true);
  });

  it('closing a reset link dismisses it', async () => {
    tauri.handle('pending_link', () => ({ action: 'resetPassword' }));
    tauri.handle('dismiss_link', () => null);
    render(LinkDialog, { onsignedin: vi.fn() });
    await waitFor(() => expect($('#reset-password-dialog')).toBeTruthy());
    await fireEvent.click($('#reset-close'));
    await waitFor(() => expect(tauri.callsOf('dismiss_link')).toHaveLength(1));
    expect(document.querySelector('#reset-password-dialog')).toBeNull();
  });

  it('a verification link is applied and shows the new address, as text', async () => {
    tauri.handle('pending_link', () => ({ action: 'verifyEmail' }));
    tauri.handle('verify_email_change', () => '<b>new</b>@example.com');
    render(LinkDialog, { onsignedin: vi.fn() });
    await waitFor(() => expect($('#verified-email')?.textContent).toBe('<b>new</b>@example.com'));
    expect($('#link-dialog').dataset.state).toBe('verified');
    expect($('#link-dialog-title').textContent).toBe('Your new sign-in email');
    expect(document.querySelector('#verified-email b')).toBeNull();
  });

  it('a link that cannot be opened shows its message and does nothing else', async () => {
    tauri.handle('pending_link', () => {
      throw { code: 'link.missing_code', message: 'This link is incomplete: its code is missing.' };
    });
    render(LinkDialog, { onsignedin: vi.fn() });
    await waitFor(() => expect($('#link-error')).toBeTruthy());
    expect($('#link-error').dataset.code).toBe('link.missing_code');
    expect($('#link-error').textContent).toContain('its code is missing');
    expect($('#link-error').getAttribute('role')).toBe('alert');
    expect(tauri.calls.map((c) => c.command)).toEqual(['pending_link']);
  });

  it('a link arriving later opens the dialog', async () => {
    let link: unknown = null;
    tauri.handle('pending_link', () => link);
    render(LinkDialog, { onsignedin: vi.fn() });
    await waitFor(() => expect(tauri.callsOf('pending_link')).toHaveLength(1));
    link = { action: 'resetPassword' };
    tauri.emit('link-opened', null);
    await waitFor(() => expect($('#reset-password-dialog')).toBeTruthy());
  });
});
