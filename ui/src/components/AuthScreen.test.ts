import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import AuthScreen from './AuthScreen.svelte';
import * as tauri from '../test/fakeTauri';
import { account } from '../test/fixtures';

vi.mock('@tauri-apps/api/core', () => import('../test/fakeTauri').then((m) => m.core));
vi.mock('@tauri-apps/api/event', () => import('../test/fakeTauri').then((m) => m.event));

const $ = (selector: string) => document.querySelector(selector) as HTMLElement;

async function fill(email: string, password: string) {
  await fireEvent.input($('#auth-email'), { target: { value: email } });
  await fireEvent.input($('#auth-password'), { target: { value: password } });
}

describe('AuthScreen', () => {
  beforeEach(() => tauri.reset());

  it('signs in with the typed credentials', async () => {
    const onsignedin = vi.fn();
    tauri.handle('sign_in', () => account);
    render(AuthScreen, { keychain: { state: 'available' }, notice: null, onsignedin });
    await fill('ada@example.com', 'correct horse');
    await fireEvent.click($('#auth-submit'));
    await waitFor(() => expect(onsignedin).toHaveBeenCalledWith(account));
    expect(tauri.callsOf('sign_in')).toEqual([{ email: 'ada@example.com', password: 'correct horse' }]);
  });

  it('shows invalid credentials in the alert and marks the fields', async () => {
    tauri.handle('sign_in', () => {
      throw { code: 'auth.invalid_credentials', message: 'Wrong email or password.' };
    });
    render(AuthScreen, { keychain: { state: 'available' }, notice: null, onsignedin: vi.fn() });
    await fill('ada@example.com', 'nope');
    await fireEvent.click($('#auth-submit'));
    await waitFor(() => expect($('#auth-error').textContent).toContain('Wrong email or password.'));
    expect($('#auth-error').getAttribute('role')).toBe('alert');
    expect($('#auth-email').getAttribute('aria-invalid')).toBe('true');
    expect($('#auth-password').getAttribute('aria-invalid')).toBe('true');
  });

  it('disables submit while pending', async () => {
    let resolve: (value: unknown) => void = () => {};
    tauri.handle('sign_in', () => new Promise((r) => (resolve = r)));
    render(AuthScreen, { keychain: { state: 'available' }, notice: null, onsignedin: vi.fn() });
    await fill('ada@example.com', 'pw');
    await fireEvent.click($('#auth-submit'));
    await waitFor(() => expect(($('#auth-submit') as HTMLButtonElement).disabled).toBe(true));
    resolve(account);
    await waitFor(() => expect(($('#auth-submit') as HTMLButtonElement).disabled).toBe(false));
  });

  it('toggles to Create account and calls sign_up; weak password marks the password', async () => {
    tauri.handle('sign_up', () => {
      throw { code: 'auth.weak_password', message: 'Password should be at least 6 characters.' };
    });
    render(AuthScreen, { keychain: { state: 'available' }, notice: null, onsignedin: vi.fn() });
    const toggle = $('#auth-mode-toggle');
    expect(toggle.textContent?.trim()).toBe('Create account');
    await fireEvent.click(toggle);
    expect(toggle.textContent?.trim()).toBe('Sign in');
    expect($('#auth-submit').textContent?.trim()).toBe('Create account');
    await fill('new@example.com', '123');
    await fireEvent.click($('#auth-submit'));
    await waitFor(() => expect($('#auth-error').textContent).toContain('at least 6 characters'));
    expect(tauri.callsOf('sign_up')).toHaveLength(1);
    expect($('#auth-password').getAttribute('aria-invalid')).toBe('true');
    expect($('#auth-email').getAttribute('aria-invalid')).toBe('false');
  });

  it('explains a locked keychain, from the status and from an error', async () => {
    tauri.handle('sign_in', () => {
      throw { code: 'keychain.locked', message: 'The keychain is locked.' };
    });
    render(AuthScreen, { keychain: { state: 'locked' }, notice: null, onsignedin: vi.fn() });
    expect($('#keychain-status').textContent).toMatch(/locked/i);
    await fill('ada@example.com', 'pw');
    await fireEvent.click($('#auth-submit'));
    await waitFor(() => expect($('#auth-error').textContent).toContain('The keychain is locked.'));
    expect($('#auth-error').textContent).toMatch(/unlock it/i);
  });

  it('does not call the backend with empty fields', async () => {
    render(AuthScreen, { keychain: { state: 'available' }, notice: null, onsignedin: vi.fn() });
    await fireEvent.click($('#auth-submit'));
    expect($('#auth-error').textContent).toMatch(/enter your email and password/i);
    expect(tauri.calls).toHaveLength(0);
  });

  it('shows why the user was signed out', () => {
    render(AuthScreen, {
      keychain: { state: 'available' },
      notice: { kind: 'signed-out', reason: 'Your session expired.' },
      onsignedin: vi.fn(),
    });
    expect(screen.getByText(/Your session expired\./)).toBeTruthy();
  });

  it('shows the receipt of a deleted account above the form', () => {
    render(AuthScreen, {
      keychain: { state: 'available' },
      notice: {
        kind: 'deleted',
        receipt: {
          email: 'ada@example.com',
          deletedAt: '2025-01-05T10:00:00Z',
          removed: { generations: 3, ledgerEntries: 2, purchases: 1, mediaFiles: 4, localFiles: 7, keychainEntries: 2 },
        },
      },
      onsignedin: vi.fn(),
    });
    expect($('#deletion-receipt').textContent).toContain('Your account ada@example.com was deleted');
    expect($('#deletion-receipt').querySelector('#save-receipt')).not.toBeNull();
  });
});

describe('Forgot password?', () => {
  beforeEach(() => tauri.reset());

  it('sends the reset link to the typed address and says so', async () => {
    tauri.handle('send_password_reset', () => null);
    render(AuthScreen, { keychain: { state: 'available' }, notice: null, onsignedin: vi.fn() });
    await fireEvent.input($('#auth-email'), { target: { value: ' ada@example.com ' } });
    const forgot = $('#forgot-password') as HTMLButtonElement;
    expect(forgot.type).toBe('button');
    forgot.focus();
    await fireEvent.click(forgot);
    await waitFor(() => expect($('#reset-status').textContent).toContain('If an account uses ada@example.com'));
    expect($('#reset-status').getAttribute('role')).toBe('status');
    expect(tauri.callsOf('send_password_reset')).toEqual([{ email: 'ada@example.com' }]);
    expect(tauri.callsOf('sign_in')).toHaveLength(0);
  });

  it('asks for the email first, and shows a refusal in the alert', async () => {
    tauri.handle('send_password_reset', () => {
      throw { code: 'auth.invalid_email', message: 'This email address is not valid.' };
    });
    render(AuthScreen, { keychain: { state: 'available' }, notice: null, onsignedin: vi.fn() });
    await fireEvent.click($('#forgot-password'));
    expect($('#auth-error').textContent).toMatch(/enter your email/i);
    expect($('#auth-email').getAttribute('aria-invalid')).toBe('true');
    expect(tauri.calls).toHaveLength(0);
    await fireEvent.input($('#auth-email'), { target: { value: 'not-an-address' } });
    await fireEvent.click($('#forgot-password'));
    await waitFor(() => expect($('#auth-error').textContent).toContain('This email address is not valid.'));
    expect($('#reset-status').textContent).toBe('');
  });

  it('is offered only when signing in', async () => {
    render(AuthScreen, { keychain: { state: 'available' }, notice: null, onsignedin: vi.fn() });
    await fireEvent.click($('#auth-mode-toggle'));
    expect(document.querySelector('#forgot-password')).toBeNull();
  });
});
