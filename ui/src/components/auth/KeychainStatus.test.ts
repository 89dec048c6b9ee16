import { render } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import KeychainStatus from './KeychainStatus.svelte';

const $ = (selector: string) => document.querySelector(selector) as HTMLElement;

describe('KeychainStatus', () => {
  it('shows the unavailable reason and the available state', () => {
    const { unmount } = render(KeychainStatus, { keychain: { state: 'unavailable', reason: 'no Secret Service on D-Bus' } });
    expect($('#keychain-status').textContent).toContain('no Secret Service on D-Bus');
    unmount();
    render(KeychainStatus, { keychain: { state: 'available' } });
    expect($('#keychain-status').textContent).toBe('Credentials are stored in your system keychain.');
  });
});
