// First run: until someone has signed in on this computer, the sign-in screen explains where
// Cleom keeps the history's key and lets the user see the keychain's state first.
// Only this flag is kept in localStorage: nothing private ever goes there.

import type { KeychainState } from './types';

const KEY = 'cleom.welcomed';

export function isFirstRun(storage: Pick<Storage, 'getItem'> | null = safeStorage()): boolean {
  try {
    return storage?.getItem(KEY) !== '1';
  } catch {
    return true;
  }
}

export function markWelcomed(storage: Pick<Storage, 'setItem'> | null = safeStorage()): void {
  try {
    storage?.setItem(KEY, '1');
  } catch {
    // not remembered: the explanation shows again next time, which is harmless
  }
}

function safeStorage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

export type ProtectionOption = {
  id: 'keychain' | 'passphrase';
  title: string;
  /** Short state shown as a badge. */
  badge: string;
  tone: 'ok' | 'warn' | 'muted';
  explanation: string;
  /** This option is what Cleom will use. */
  chosen: boolean;
};

/**
 * The two ways to protect the history's key, as the first-run screen explains them. The
 * passphrase mode has no command in this version, so it is described, never offered as a
 * working choice.
 */
export function protectionOptions(keychain: KeychainState | null, passphraseSupported = false): ProtectionOption[] {
  const state = keychain?.state ?? 'checking';
  const keychainOption: ProtectionOption = {
    id: 'keychain',
    title: 'System keychain (recommended)',
    badge: { available: 'Available', locked: 'Locked', unavailable: 'Not available', checking: 'Checking…' }[state],
    tone: state === 'available' ? 'ok' : state === 'checking' ? 'muted' : 'warn',
    explanation:
      state === 'unavailable'
        ? `Cleom found no system keychain (${keychain?.state === 'unavailable' ? keychain.reason : ''}). It never falls back to storing keys in plain files.`
        : state === 'locked'
          ? 'Your keychain is locked. Unlock it (log in to your desktop session again), then sign in.'
          : 'A random 256-bit key encrypts your history on this computer; it and your sign-in stay in the keychain, never in a file.',
    chosen: state === 'available',
  };
  const passphraseOption: ProtectionOption = {
    id: 'passphrase',
    title: 'Passphrase',
    badge: passphraseSupported ? 'Available' : 'Not in this version',
    tone: passphraseSupported ? 'ok' : 'muted',
    explanation: passphraseSupported
      ? 'For computers without a keychain: you type a passphrase each time Cleom starts; the key is derived from it.'
      : 'For computers without a keychain, Cleom will offer a passphrase that you type at each start. This version needs a system keychain.',
    chosen: false,
  };
  return [keychainOption, passphraseOption];
}
