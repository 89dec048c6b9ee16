// First run: until someone has signed in on this computer, the sign-in screen explains where
// Cleom keeps the history's key and lets the user see the keychain's state first.
// Only this flag is kept in localStorage: nothing private ever goes there.

import type { KeychainState } from './generated';

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
 * The two ways to protect the history's key, as the first-run screen explains them. Cleom
 * uses the OS keychain when there is one; the passphrase mode is for computers without.
 */

/** What the passphrase form asks for, or null when the keys need no passphrase now. */
export function passphraseStep(keychain: KeychainState | null): 'choose' | 'unlock' | null {
  if (keychain?.state !== 'passphrase') return null;
  if (!keychain.setUp) return 'choose';
  return keychain.unlocked ? null : 'unlock';
}
export function protectionOptions(keychain: KeychainState | null, passphraseSupported = true): ProtectionOption[] {
  if (keychain?.state === 'passphrase') {
    const why = keychain.reason ? ` (${keychain.reason})` : '';
    return [
      {
        id: 'keychain',
        title: 'System keychain',
        badge: 'Not available',
        tone: 'warn',
        explanation: `Cleom found no usable system keychain on this computer${why}. It never falls back to storing keys in plain files.`,
        chosen: false,
      },
      {
        id: 'passphrase',
        title: 'Passphrase',
        badge: !keychain.setUp ? 'Choose one' : keychain.unlocked ? 'Unlocked' : 'Locked',
        tone: keychain.unlocked ? 'ok' : 'warn',
        explanation:
          'Your keys are encrypted with a passphrase that only you know (Argon2id). You type it each time Cleom starts; if you forget it, this computer\'s copy is reset and downloaded again from Cleom.',
        chosen: true,
      },
    ];
  }
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
    badge: passphraseSupported ? 'Not needed' : 'Not in this version',
    tone: 'muted',
    explanation: passphraseSupported
      ? 'Only for computers without a keychain: you choose a passphrase and type it each time Cleom starts; it protects the keys instead.'
      : 'For computers without a keychain, Cleom will offer a passphrase that you type at each start. This version needs a system keychain.',
    chosen: false,
  };
  return [keychainOption, passphraseOption];
}
