import { render } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
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
});
