import { fireEvent, render } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import GenerationItem from './GenerationItem.svelte';
import { generation } from '../test/fixtures';

const XSS = '<img src=x onerror=alert(1)>';

describe('GenerationItem', () => {
  it('shows a hostile prompt as text, never as HTML', () => {
    const { container } = render(GenerationItem, { item: generation({ prompt: XSS }), thumbnail: undefined });
    const prompt = container.querySelector('.prompt');
    expect(prompt?.textContent).toBe(XSS);
    expect(prompt?.children).toHaveLength(0);
    expect(container.querySelector('img[src="x"]')).toBeNull();
    expect(container.querySelectorAll('img')).toHaveLength(0);
    expect(container.innerHTML).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('exposes id and status for tests and shows a thumbnail when loaded', () => {
    const png = 'data:image/png;base64,iVBORw0KGgo=';
    const { container } = render(GenerationItem, { item: generation({ id: 'abc' }), thumbnail: png });
    const li = container.querySelector('[data-testid="generation"]');
    expect(li?.getAttribute('data-id')).toBe('abc');
    expect(li?.getAttribute('data-status')).toBe('succeeded');
    expect(container.querySelector('img.thumbnail')?.getAttribute('src')).toBe(png);
    expect(container.querySelector('progress')).toBeNull();
    expect(container.textContent).toContain('700 credits');
  });

  it('shows a progress bar while running and a placeholder without thumbnail', () => {
    const { container } = render(GenerationItem, {
      item: generation({ status: 'running', progress: 0.42 }),
      thumbnail: undefined,
    });
    const progress = container.querySelector('progress');
    expect(progress?.getAttribute('value')).toBe('0.42');
    expect(container.textContent).toContain('42%');
    expect(container.querySelector('.thumbnail-placeholder')).not.toBeNull();
  });

  it('shows an indeterminate progress bar while queued', () => {
    const { container } = render(GenerationItem, { item: generation({ status: 'queued', progress: 0 }), thumbnail: undefined });
    expect(container.querySelector('progress')?.hasAttribute('value')).toBe(false);
  });

  it('shows why a generation failed, as text', () => {
    const { container } = render(GenerationItem, {
      item: generation({ status: 'failed', error: '<b>Render failed</b>' }),
      thumbnail: undefined,
    });
    expect(container.querySelector('.failure')?.textContent).toBe('<b>Render failed</b>');
    expect(container.querySelector('b')).toBeNull();
  });
  it('shows a search snippet with the matches in <mark>, all as text', () => {
    const item = generation({
      prompt: XSS,
      snippet: [
        { text: '<img src=x ', highlighted: false },
        { text: 'onerror', highlighted: true },
        { text: '=alert(1)>', highlighted: false },
      ],
    });
    const { container } = render(GenerationItem, { item, thumbnail: undefined });
    const prompt = container.querySelector('.prompt')!;
    expect(prompt.textContent).toBe(XSS);
    expect([...prompt.querySelectorAll('mark')].map((m) => m.textContent)).toEqual(['onerror']);
    expect(container.querySelectorAll('img')).toHaveLength(0);
  });

  it('opens the detail view with a click, Enter or Space', async () => {
    const onopen = vi.fn();
    const item = generation({ id: 'abc' });
    const { container } = render(GenerationItem, { item, thumbnail: undefined, onopen });
    const article = container.querySelector<HTMLElement>('[data-testid="generation"]')!;
    await fireEvent.click(article);
    await fireEvent.keyDown(article, { key: 'Enter' });
    await fireEvent.keyDown(article, { key: ' ' });
    await fireEvent.keyDown(article, { key: 'Enter', ctrlKey: true });
    await fireEvent.keyDown(article, { key: 'ArrowDown' });
    expect(onopen).toHaveBeenCalledTimes(3);
    expect(onopen.mock.calls[0]![0]).toMatchObject({ id: 'abc' });
  });
});
