// The confirmation before something that cannot be undone: busy while it runs, a failure shown
// in the dialog as text, and Cancel.
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { createRawSnippet } from 'svelte';
import { describe, expect, it, vi } from 'vitest';
import ConfirmDialog from './ConfirmDialog.svelte';

const XSS = '<img src=x onerror=alert(1)>';
const what = createRawSnippet(() => ({ render: () => '<p>Every generation goes.</p>' }));
const must = <T extends HTMLElement = HTMLElement>(selector: string) => {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`${selector} not found`);
  return el;
};

function open(props: Record<string, unknown>) {
  const handlers = { onclose: vi.fn(), onerror: vi.fn() };
  render(ConfirmDialog, {
    props: {
      name: 'wipe',
      title: 'Delete everything?',
      confirmLabel: 'Delete everything',
      busyLabel: 'Deleting…',
      errorContext: 'delete',
      onconfirm: () => {},
      children: what,
      ...handlers,
      ...props,
    },
  });
  return handlers;
}

/** A promise the test settles. */
function pending() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

describe('ConfirmDialog', () => {
  it('names the dialog by its question and describes it by what it does', () => {
    open({ role: 'alertdialog' });
    const dialog = must('#wipe-dialog');
    expect(dialog.getAttribute('role')).toBe('alertdialog');
    expect(dialog.getAttribute('aria-labelledby')).toBe('wipe-title');
    expect(must('#wipe-title').textContent).toBe('Delete everything?');
    expect(dialog.getAttribute('aria-describedby')).toBe('wipe-what');
    expect(must('#wipe-what').textContent?.trim()).toBe('Every generation goes.');
    expect(must('#cancel-wipe').textContent?.trim()).toBe('Cancel');
    expect(must('#confirm-wipe').textContent?.trim()).toBe('Delete everything');
    // The error region is there for screen readers, empty (and hidden) until something fails.
    expect(must('#wipe-error').getAttribute('role')).toBe('alert');
    expect(must('#wipe-error').textContent?.trim()).toBe('');
  });

  it('disables both buttons and ignores Escape while the action runs', async () => {
    const run = pending();
    const onconfirm = vi.fn(() => run.promise);
    const { onclose } = open({ onconfirm });
    await fireEvent.click(must('#confirm-wipe'));
    const confirm = must<HTMLButtonElement>('#confirm-wipe');
    expect(confirm.disabled).toBe(true);
    expect(confirm.getAttribute('aria-busy')).toBe('true');
    expect(confirm.textContent?.trim()).toBe('Deleting…');
    expect(must<HTMLButtonElement>('#cancel-wipe').disabled).toBe(true);

    await fireEvent.keyDown(must('#wipe-dialog'), { key: 'Escape' });
    expect(onclose).not.toHaveBeenCalled();
    // A second click while busy does not run it again.
    await fireEvent.submit(confirm.form!);
    expect(onconfirm).toHaveBeenCalledTimes(1);
    run.resolve();
  });

  it('shows a failure as text, reports it, and lets the user try again', async () => {
    const run = pending();
    const onfailed = vi.fn();
    const { onerror } = open({ onconfirm: () => run.promise, onfailed });
    await fireEvent.click(must('#confirm-wipe'));
    run.reject({ code: 'store.io', message: XSS });
    await waitFor(() => expect(must('#wipe-error').textContent?.trim()).toBe(XSS));
    expect(must('#wipe-error').querySelector('img')).toBeNull();
    expect(onerror).toHaveBeenCalledWith({ code: 'store.io', message: XSS });
    expect(onfailed).toHaveBeenCalledTimes(1);
    const confirm = must<HTMLButtonElement>('#confirm-wipe');
    expect(confirm.disabled).toBe(false);
    expect(confirm.getAttribute('aria-busy')).toBe('false');
    expect(confirm.textContent?.trim()).toBe('Delete everything');
    expect(must<HTMLButtonElement>('#cancel-wipe').disabled).toBe(false);
  });

  it('cannot be confirmed while it is not ready (e.g. no password yet)', async () => {
    const onconfirm = vi.fn();
    open({ onconfirm, disabled: true });
    const confirm = must<HTMLButtonElement>('#confirm-wipe');
    expect(confirm.disabled).toBe(true);
    await fireEvent.submit(confirm.form!);
    expect(onconfirm).not.toHaveBeenCalled();
  });

  it('closes on Cancel without confirming', async () => {
    const onconfirm = vi.fn();
    const { onclose } = open({ onconfirm });
    await fireEvent.click(must('#cancel-wipe'));
    expect(onclose).toHaveBeenCalledTimes(1);
    expect(onconfirm).not.toHaveBeenCalled();
  });
});
