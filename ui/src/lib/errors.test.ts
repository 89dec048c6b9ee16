import { describe, expect, it } from 'vitest';
import { Code, placeError, toAppError } from './errors';

const err = (code: string, message = `msg for ${code}`) => ({ code, message });

describe('toAppError', () => {
  it('keeps an AppError and drops extra fields', () => {
    expect(toAppError({ code: 'auth.weak_password', message: 'Too short', extra: 1 })).toEqual({
      code: 'auth.weak_password',
      message: 'Too short',
    });
  });

  it('wraps anything else as ui.unexpected', () => {
    expect(toAppError(new Error('boom'))).toEqual({ code: Code.unexpected, message: 'boom' });
    expect(toAppError('plain')).toEqual({ code: Code.unexpected, message: 'plain' });
    expect(toAppError(undefined).code).toBe(Code.unexpected);
    expect(toAppError({ code: 1 }).code).toBe(Code.unexpected);
  });
});

describe('placeError', () => {
  it('puts auth errors on the sign-in form with the right fields', () => {
    expect(placeError(err('auth.invalid_credentials'), 'auth')).toMatchObject({
      placement: 'auth-form',
      fields: ['email', 'password'],
      offline: false,
    });
    expect(placeError(err('auth.email_exists'), 'auth').fields).toEqual(['email']);
    expect(placeError(err('auth.invalid_email'), 'auth').fields).toEqual(['email']);
    expect(placeError(err('auth.weak_password'), 'auth').fields).toEqual(['password']);
  });

  it('always shows the backend message verbatim', () => {
    const placed = placeError(err('auth.weak_password', 'Use at least 8 characters'), 'auth');
    expect(placed.message).toBe('Use at least 8 characters');
  });

  it('explains keychain problems on the sign-in screen', () => {
    for (const code of ['keychain.locked', 'keychain.unavailable']) {
      const placed = placeError(err(code), 'auth');
      expect(placed.placement).toBe('auth-form');
      expect(placed.hint).toMatch(/keychain/i);
    }
  });

  it('puts credits.insufficient next to Generate', () => {
    const placed = placeError(err('credits.insufficient'), 'generate');
    expect(placed.placement).toBe('generate');
    expect(placed.hint).not.toBeNull();
  });

  it('flags network.unreachable as offline wherever it happens', () => {
    for (const context of ['auth', 'generate', 'library', 'sync', 'estimate', 'delete'] as const) {
      expect(placeError(err('network.unreachable'), context).offline).toBe(true);
    }
    expect(placeError(err('credits.insufficient'), 'generate').offline).toBe(false);
  });

  it('keeps delete-dialog errors in the dialog and marks the password', () => {
    for (const code of ['auth.invalid_credentials', 'auth.requires_recent_login']) {
      const placed = placeError(err(code), 'delete');
      expect(placed.placement).toBe('delete-dialog');
      expect(placed.fields).toEqual(['password']);
    }
    expect(placeError(err('auth.requires_recent_login'), 'delete').hint).toMatch(/password again/i);
  });

  it('places unknown codes where the action happened', () => {
    expect(placeError(err('something.new'), 'export').placement).toBe('account');
    expect(placeError(err('something.new'), 'library').placement).toBe('library');
    expect(placeError(err('something.new'), 'delete').fields).toEqual([]);
  });
});

describe('placeError for the account forms and the detail view', () => {
  it('marks the current password and the address of an email change', () => {
    const wrong = placeError(err('auth.invalid_credentials'), 'email-change');
    expect(wrong).toMatchObject({ placement: 'email-form', fields: ['password'] });
    expect(wrong.hint).toMatch(/current password/);
    expect(placeError(err('auth.email_exists'), 'email-change').fields).toEqual(['email']);
    expect(placeError(err('request.invalid'), 'email-change').fields).toEqual(['email']);
    expect(placeError(err('auth.too_many_attempts'), 'email-change').hint).toMatch(/few minutes/);
  });

  it('tells the current password from the new one in a password change', () => {
    expect(placeError(err('auth.invalid_credentials'), 'password-change')).toMatchObject({ placement: 'password-form', fields: ['password'] });
    expect(placeError(err('auth.weak_password'), 'password-change').fields).toEqual(['newPassword']);
  });

  it('keeps clip errors in the detail view and explains offline', () => {
    const placed = placeError(err('network.unreachable'), 'clip');
    expect(placed).toMatchObject({ placement: 'detail', offline: true });
    expect(placed.hint).toMatch(/back online/);
    expect(placeError(err('x'), 'reset-copy').placement).toBe('reset-copy-dialog');
    expect(placeError(err('x'), 'access').placement).toBe('access');
  });
});
