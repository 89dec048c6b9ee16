import { fireEvent, render } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import PromptField from './PromptField.svelte';
import { formatNumber } from '../../lib/format';
import { MAX_PROMPT_CHARS } from '../../lib/studio';

const must = <T extends HTMLElement = HTMLElement>(selector: string) => {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`${selector} not found`);
  return el;
};

describe('PromptField', () => {
  it('counts the characters only near the limit, and marks a prompt over it', async () => {
    render(PromptField, { prompt: '' });
    expect(must('#prompt-hint').textContent?.trim()).toBe('Ctrl+Enter to generate.');
    await fireEvent.input(must('#prompt'), { target: { value: 'x'.repeat(MAX_PROMPT_CHARS) } });
    expect(must('#prompt-hint').textContent).toContain(`${formatNumber(MAX_PROMPT_CHARS)} / ${formatNumber(MAX_PROMPT_CHARS)}`);
    expect(must('#prompt').getAttribute('aria-invalid')).toBe('false');
    expect(document.querySelector('#prompt-hint .over')).toBeNull();
    await fireEvent.input(must('#prompt'), { target: { value: 'x'.repeat(MAX_PROMPT_CHARS + 1) } });
    expect(must('#prompt').getAttribute('aria-invalid')).toBe('true');
    expect(must('#prompt-hint .over')).toBeTruthy();
  });

  it('puts the cursor in the prompt with its text selected', () => {
    const { component } = render(PromptField, { prompt: 'A heron' });
    component.focus();
    const input = must<HTMLTextAreaElement>('#prompt');
    expect(document.activeElement).toBe(input);
    expect([input.selectionStart, input.selectionEnd]).toEqual([0, 7]);
  });
});
