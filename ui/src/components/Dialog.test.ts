// The modal dialog shell: its name, Escape, the × and Done buttons, the focus given back.
import { fireEvent, render } from '@testing-library/svelte';
import { createRawSnippet } from 'svelte';
import { describe, expect, it, vi } from 'vitest';
import Dialog from './Dialog.svelte';

const XSS = '<img src=x onerror=alert(1)>';
const body = createRawSnippet(() => ({ render: () => '<p id="dialog-body">What the dialog says.</p>' }));
const $ = (selector: string) => document.querySelector<HTMLElement>(selector);

function open(props: Record<string, unknown> = {}) {
  const onclose = vi.fn();
  const result = render(Dialog, {
    props: { id: 'test-dialog', title: 'Outbox', titleId: 'test-title', onclose, children: body, ...props },
  });
  const dialog = $('#test-dialog') as HTMLDialogElement;
  return { ...result, dialog, onclose };
}

describe('Dialog', () => {
  it('is open, named by its heading, and shows the title as text', () => {
    const { dialog } = open({ title: XSS, describedby: 'dialog-body' });
    expect(dialog.tagName).toBe('DIALOG');
    expect(dialog.hasAttribute('open')).toBe(true);
    expect(dialog.getAttribute('aria-labelledby')).toBe('test-title');
    expect(dialog.getAttribute('aria-describedby')).toBe('dialog-body');
    expect($('#test-title')?.textContent).toBe(XSS);
    expect(dialog.querySelector('img')).toBeNull();
    expect($('#dialog-body')?.textContent).toBe('What the dialog says.');
  });

  it('closes on Escape', async () => {
    const { dialog, onclose } = open();
    const escape = new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, cancelable: true });
    dialog.dispatchEvent(escape);
    expect(escape.defaultPrevented).toBe(true);
    expect(onclose).toHaveBeenCalledTimes(1);
    expect(dialog.hasAttribute('open')).toBe(false);
  });

  it('stays open on Escape while something is under way', async () => {
    const { dialog, onclose } = open({ keepOpen: true });
    await fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(onclose).not.toHaveBeenCalled();
    expect(dialog.hasAttribute('open')).toBe(true);
    // The native cancel (Escape where the browser handles it) is refused too.
    const cancel = new Event('cancel', { cancelable: true });
    dialog.dispatchEvent(cancel);
    expect(cancel.defaultPrevented).toBe(true);
  });

  it('leaves an Escape already handled (by a dialog inside it) alone', async () => {
    const { dialog, onclose } = open();
    const escape = new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, cancelable: true });
    escape.preventDefault();
    dialog.dispatchEvent(escape);
    expect(onclose).not.toHaveBeenCalled();
  });

  it('has a named × button and a Done button that close it', async () => {
    const first = open({ closeLabel: 'Close outbox', closeId: 'test-close', done: true });
    const close = $('#test-close') as HTMLButtonElement;
    expect(close.getAttribute('aria-label')).toBe('Close outbox');
    expect(close.type).toBe('button');
    await fireEvent.click(close);
    expect(first.onclose).toHaveBeenCalledTimes(1);
    first.unmount();

    const second = open({ done: true });
    const buttons = [...second.dialog.querySelectorAll('button')];
    expect(buttons.map((b) => b.textContent?.trim())).toEqual(['Done']);
    await fireEvent.click(buttons[0]);
    expect(second.onclose).toHaveBeenCalledTimes(1);
  });

  it('gives the focus back to what opened it', async () => {
    const opener = document.createElement('button');
    opener.textContent = 'Open';
    document.body.append(opener);
    opener.focus();
    const { unmount } = open();
    unmount();
    await Promise.resolve();
    expect(document.activeElement).toBe(opener);
    opener.remove();
  });

  it('passes data attributes and the role on, and aria-busy while loading', () => {
    const { dialog } = open({ role: 'alertdialog', busy: true, 'data-count': 3 });
    expect(dialog.getAttribute('role')).toBe('alertdialog');
    expect(dialog.getAttribute('aria-busy')).toBe('true');
    expect(dialog.getAttribute('data-count')).toBe('3');
  });

  it('gives its own keys to onkeydown first, and keeps an Escape that handler took', async () => {
    const keys: string[] = [];
    const onkeydown = vi.fn((event: KeyboardEvent) => {
      keys.push(event.key);
      if (event.key === 'Escape') event.preventDefault();
    });
    const { dialog, onclose } = open({ onkeydown });
    await fireEvent.keyDown(dialog, { key: 'Delete' });
    await fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(keys).toEqual(['Delete', 'Escape']);
    expect(onclose).not.toHaveBeenCalled();
    expect(dialog.hasAttribute('open')).toBe(true);
  });

  it('still closes on Escape with an onkeydown that leaves it alone', async () => {
    const onkeydown = vi.fn();
    const { dialog, onclose } = open({ onkeydown });
    await fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(onkeydown).toHaveBeenCalledTimes(1);
    expect(onclose).toHaveBeenCalledTimes(1);
  });

  it('takes a width of 40rem', () => {
    const { dialog } = open({ width: 40 });
    expect(dialog.classList.contains('w40')).toBe(true);
    expect(dialog.classList.contains('w44')).toBe(false);
  });
});
