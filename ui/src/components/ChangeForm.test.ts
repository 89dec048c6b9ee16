// A small change form and its labelled fields: busy while sending, the failure and the outcome
// announced, the fields named by their labels.
import { fireEvent, render, screen } from '@testing-library/svelte';
import { createRawSnippet } from 'svelte';
import { describe, expect, it, vi } from 'vitest';
import ChangeForm from './ChangeForm.svelte';
import TextField from './TextField.svelte';

const fields = createRawSnippet(() => ({ render: () => '<p>The fields.</p>' }));
const must = <T extends HTMLElement = HTMLElement>(selector: string) => {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`${selector} not found`);
  return el;
};

function form(props: Record<string, unknown>) {
  const onsubmit = vi.fn((event: SubmitEvent) => event.preventDefault());
  render(ChangeForm, {
    props: {
      name: 'change-email',
      title: 'Change email',
      submitLabel: 'Send the link',
      busyLabel: 'Sending…',
      busy: false,
      error: null,
      status: '',
      onsubmit,
      children: fields,
      ...props,
    },
  });
  return onsubmit;
}

describe('ChangeForm', () => {
  it('is named by its title and sends on submit', async () => {
    const onsubmit = form({});
    const element = must<HTMLFormElement>('#change-email-form');
    expect(element.getAttribute('aria-labelledby')).toBe('change-email-title');
    expect(must('#change-email-title').textContent).toBe('Change email');
    expect(element.noValidate).toBe(true);
    await fireEvent.click(must('#change-email-submit'));
    expect(onsubmit).toHaveBeenCalledTimes(1);
  });

  it('says it is sending, and cannot be sent twice meanwhile', () => {
    form({ busy: true });
    const submit = must<HTMLButtonElement>('#change-email-submit');
    expect(submit.disabled).toBe(true);
    expect(submit.getAttribute('aria-busy')).toBe('true');
    expect(submit.textContent?.trim()).toBe('Sending…');
  });

  it('shows the failure in an alert and the outcome in a status, as text', () => {
    form({ error: { message: 'Wrong password.', hint: null }, status: '<b>Sent</b>' });
    expect(must('#change-email-error').getAttribute('role')).toBe('alert');
    expect(must('#change-email-error').textContent?.trim()).toBe('Wrong password.');
    expect(must('#change-email-status').getAttribute('role')).toBe('status');
    expect(must('#change-email-status').textContent).toBe('<b>Sent</b>');
    expect(document.querySelector('b')).toBeNull();
  });
});

describe('TextField', () => {
  it('is named by its label and marks an invalid value', () => {
    render(TextField, {
      props: {
        id: 'new-email',
        label: 'New email',
        type: 'email',
        autocomplete: 'email',
        invalid: true,
        describedby: 'email-error',
      },
    });
    const input = screen.getByLabelText('New email') as HTMLInputElement;
    expect(input.id).toBe('new-email');
    expect(input.type).toBe('email');
    expect(input.getAttribute('autocomplete')).toBe('email');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(input.getAttribute('aria-describedby')).toBe('email-error');
  });

  it('is disabled while its form is busy', () => {
    render(TextField, { props: { id: 'pw', label: 'Password', type: 'password', disabled: true } });
    const input = screen.getByLabelText('Password') as HTMLInputElement;
    expect(input.disabled).toBe(true);
    expect(input.getAttribute('aria-invalid')).toBe('false');
  });
});
