// Label/value facts and the alert region: all plain text, with ids for each value.
import { render } from '@testing-library/svelte';
import { createRawSnippet } from 'svelte';
import { describe, expect, it } from 'vitest';
import ErrorAlert from './ErrorAlert.svelte';
import FactList from './FactList.svelte';

const XSS = '<img src=x onerror=alert(1)>';

describe('FactList', () => {
  it('lists each fact as a term and its value, as text, with ids and raw numbers', () => {
    const { container } = render(FactList, {
      props: {
        id: 'facts',
        labelledby: 'facts-title',
        idPrefix: 'profile',
        facts: [
          { key: 'name', label: 'Display name', value: XSS },
          { key: 'balance', id: 'balance', label: 'Balance', value: '1,300 credits', data: 1300 },
        ],
      },
    });
    const list = container.querySelector('dl#facts')!;
    expect(list.getAttribute('aria-labelledby')).toBe('facts-title');
    expect([...list.querySelectorAll('dt')].map((dt) => dt.textContent)).toEqual(['Display name', 'Balance']);
    expect(container.querySelector('#profile-name')?.textContent).toBe(XSS);
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelector('#balance')?.getAttribute('data-value')).toBe('1300');
    expect(container.querySelector('#profile-name')?.hasAttribute('data-value')).toBe(false);
  });

  it('puts the extra pairs first', () => {
    const children = createRawSnippet(() => ({ render: () => '<dt>Account id</dt>' }));
    const { container } = render(FactList, {
      props: { idPrefix: 'p', facts: [{ key: 'email', label: 'Email', value: 'ada@example.com' }], children },
    });
    expect([...container.querySelectorAll('dt')].map((dt) => dt.textContent)).toEqual(['Account id', 'Email']);
  });
});

describe('ErrorAlert', () => {
  it('is an empty alert region until there is an error', () => {
    const { container } = render(ErrorAlert, { props: { id: 'form-error', error: null } });
    const region = container.querySelector('#form-error')!;
    expect(region.getAttribute('role')).toBe('alert');
    expect(region.textContent?.trim()).toBe('');
    // Empty of anything but comments, so `.alert:empty` hides it.
    expect([...region.childNodes].every((n) => n.nodeType === Node.COMMENT_NODE)).toBe(true);
  });

  it('shows the message and the hint as text', () => {
    const { container } = render(ErrorAlert, {
      props: { id: 'form-error', error: { message: XSS, hint: 'Check your connection.' } },
    });
    expect([...container.querySelectorAll('#form-error p')].map((p) => p.textContent)).toEqual([
      XSS,
      'Check your connection.',
    ]);
    expect(container.querySelector('img')).toBeNull();
  });
});
