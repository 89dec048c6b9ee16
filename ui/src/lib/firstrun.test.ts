import { describe, expect, it } from 'vitest';
import { isFirstRun, markWelcomed, protectionOptions } from './firstrun';

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
    expect(passphrase).toMatchObject({ id: 'passphrase', badge: 'Not in this version', chosen: false });

    const [missing] = protectionOptions({ state: 'unavailable', reason: 'no Secret Service' });
    expect(missing).toMatchObject({ badge: 'Not available', tone: 'warn', chosen: false });
    expect(missing!.explanation).toContain('no Secret Service');
    expect(missing!.explanation).toMatch(/never falls back/);

    expect(protectionOptions({ state: 'locked' })[0]!.badge).toBe('Locked');
    expect(protectionOptions(null)[0]!.badge).toBe('Checking…');
    expect(protectionOptions({ state: 'available' }, true)[1]!.badge).toBe('Available');
  });
});
