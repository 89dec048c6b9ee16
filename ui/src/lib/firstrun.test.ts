import { describe, expect, it } from 'vitest';
import { isFirstRun, markWelcomed, passphraseStep, protectionOptions } from './firstrun';

describe('first run', () => {
  it('is remembered with a flag (and only a flag)', () => {
    const data = new Map<string, string>();
    const storage = { getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => void data.set(k, v) };
    expect(isFirstRun(storage)).toBe(true);
    markWelcomed(storage);
    expect(isFirstRun(storage)).toBe(false);
    expect([...data.entries()]).toEqual([['cleom.welcomed', '1']]);
  });

  it('explains the keychain state and the passphrase mode truthfully', () => {
    const [keychain, passphrase] = protectionOptions({ state: 'available' });
    expect(keychain).toMatchObject({ id: 'keychain', badge: 'Available', tone: 'ok', chosen: true });
    expect(passphrase).toMatchObject({ id: 'passphrase', badge: 'Not needed', chosen: false });

    const [missing] = protectionOptions({ state: 'unavailable', reason: 'no Secret Service' });
    expect(missing).toMatchObject({ badge: 'Not available', tone: 'warn', chosen: false });
    expect(missing!.explanation).toContain('no Secret Service');
    expect(missing!.explanation).toMatch(/never falls back/);

    expect(protectionOptions({ state: 'locked' })[0]!.badge).toBe('Locked');
    expect(protectionOptions(null)[0]!.badge).toBe('Checking…');
    expect(protectionOptions({ state: 'available' }, false)[1]!.badge).toBe('Not in this version');
  });

  it('asks for the passphrase when there is no keychain', () => {
    const choose = { state: 'passphrase', setUp: false, unlocked: false, reason: 'no Secret Service' } as const;
    expect(passphraseStep(choose)).toBe('choose');
    expect(passphraseStep({ ...choose, setUp: true })).toBe('unlock');
    expect(passphraseStep({ ...choose, setUp: true, unlocked: true })).toBeNull();
    expect(passphraseStep({ state: 'available' })).toBeNull();
    const [keychain, passphrase] = protectionOptions(choose);
    expect(keychain).toMatchObject({ badge: 'Not available', chosen: false });
    expect(keychain!.explanation).toContain('no Secret Service');
    expect(passphrase).toMatchObject({ badge: 'Choose one', chosen: true });
    expect(protectionOptions({ ...choose, setUp: true })[1]!.badge).toBe('Locked');
  });
});
