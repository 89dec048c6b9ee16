// The Studio against a fake backend: every setting reaches `estimate` and `generate`,
// references are validated as they are attached, and the draft is restored and saved.
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import Studio from './Studio.svelte';
import * as tauri from '../test/fakeTauri';
import { estimateFor, generation } from '../test/fixtures';
import type { Reference, Settings } from '../lib/generated';

vi.mock('@tauri-apps/api/core', () => import('../test/fakeTauri').then((m) => m.core));
vi.mock('@tauri-apps/api/event', () => import('../test/fakeTauri').then((m) => m.event));

const must = <T extends HTMLElement = HTMLElement>(selector: string) => {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`${selector} not found`);
  return el;
};

const MB = 1024 * 1024;
const file = (name: string, type: string, size: number) => {
  const f = new File(['x'], name, { type });
  Object.defineProperty(f, 'size', { value: size });
  return f;
};

function studio(props: Partial<{ balance: number; draft: string | null }> = {}) {
  tauri.handle('estimate', (args) => {
    const refs = (args.references as Reference[]) ?? [];
    return estimateFor((args.settings as Settings).durationSeconds, refs.length > 0 ? 75 : 70);
  });
  tauri.handle('draft', () => props.draft ?? null);
  tauri.handle('save_draft', () => null);
  const ongenerated = vi.fn();
  const onerror = vi.fn();
  render(Studio, { balance: props.balance ?? 2000, online: true, ongenerated, onerror });
  return { ongenerated, onerror };
}

async function attach(files: File[]) {
  const input = must<HTMLInputElement>('#reference-input');
  Object.defineProperty(input, 'files', { value: files, configurable: true });
  await fireEvent.change(input);
}

describe('Studio', () => {
  beforeEach(() => tauri.reset());

  it('sends every Advanced setting to estimate and generate', async () => {
    const { ongenerated } = studio();
    await waitFor(() => expect(must('#estimate').dataset.value).toBe('700'));
    await fireEvent.input(must('#prompt'), { target: { value: 'A heron takes off' } });
    must<HTMLDetailsElement>('#advanced').open = true;
    await fireEvent.change(must('#aspect-ratio'), { target: { value: '9:16' } });
    await fireEvent.change(must('#style-preset'), { target: { value: 'Film Noir' } });
    await fireEvent.change(must('#subject'), { target: { value: 'Landscape' } });
    await fireEvent.change(must('#pacing'), { target: { value: 'Fast' } });
    await fireEvent.click(must('#voice-over'));
    await waitFor(() => must('#voice-language'));
    await fireEvent.change(must('#voice-language'), { target: { value: 'ja' } });
    await fireEvent.change(must('#voice-type'), { target: { value: 'neutral' } });
    await fireEvent.input(must('#voice-script'), { target: { value: 'Rise.' } });
    await fireEvent.click(must('#music'));
    await fireEvent.click(must('#subtitles'));
    expect(must('#advanced summary').textContent).toContain('7 set');

    const expected: Settings = {
      durationSeconds: 10,
      resolution: '1080p',
      aspectRatio: '9:16',
      stylePreset: 'Film Noir',
      subject: 'Landscape',
      pacing: 'Fast',
      voiceOver: { language: 'ja', voice: 'neutral', script: 'Rise.' },
      music: true,
      subtitles: true,
    };
    await waitFor(() => expect(tauri.callsOf('estimate').at(-1)).toEqual({ settings: expected, references: [] }));
    await waitFor(() => expect(must<HTMLButtonElement>('#generate').disabled).toBe(false));

    tauri.handle('generate', () => generation({ id: 'new' }));
    await fireEvent.click(must('#generate'));
    await waitFor(() => expect(ongenerated).toHaveBeenCalled());
    expect(tauri.callsOf('generate')).toEqual([{ prompt: 'A heron takes off', settings: expected, references: [] }]);
  });

  it('lists the 16 style presets', () => {
    studio();
    const options = [...must<HTMLSelectElement>('#style-preset').options].map((o) => o.value);
    expect(options).toHaveLength(17);
    expect(options[1]).toBe('Cinematic');
    expect(options[16]).toBe('VHS');
  });

  it('attaches images from the picker, shows the mode and prices it', async () => {
    studio();
    expect(must('#reference-mode').dataset.mode).toBe('text_to_video');
    await attach([file('<b>boat</b>.png', 'image/png', 2 * MB), file('sea.jpg', 'image/jpeg', MB)]);
    expect(must('#reference-mode').dataset.mode).toBe('image_to_video');
    expect(must('#reference-mode').textContent).toContain('Image to video');
    expect(must('#reference-mode').textContent).toContain('2 of 5 images');
    const names = [...document.querySelectorAll('[data-testid="reference"] .name')].map((n) => n.textContent);
    expect(names).toEqual(['<b>boat</b>.png', 'sea.jpg']);
    expect(document.querySelector('[data-testid="reference"] b')).toBeNull();
    await waitFor(() =>
      expect(tauri.callsOf('estimate').at(-1)?.references).toEqual([
        { name: '<b>boat</b>.png', kind: 'image', sizeBytes: 2 * MB },
        { name: 'sea.jpg', kind: 'image', sizeBytes: MB },
      ]),
    );
    await waitFor(() => expect(must('#estimate').dataset.value).toBe('750'));

    await fireEvent.click(must('[aria-label="Remove sea.jpg"]'));
    expect(document.querySelectorAll('[data-testid="reference"]')).toHaveLength(1);
  });

  it('refuses a sixth image, a video over 50 MB and a mix, with clear messages', async () => {
    studio();
    await attach(['1', '2', '3', '4', '5', '6'].map((n) => file(`${n}.png`, 'image/png', 10)));
    expect(document.querySelectorAll('[data-testid="reference"]')).toHaveLength(5);
    expect(must('#references-error').textContent).toContain('6.png was not added: at most 5 images');
    await attach([file('clip.mp4', 'video/mp4', 10)]);
    expect(must('#references-error').textContent).toContain("images and a video can't be combined");

    for (const b of document.querySelectorAll<HTMLButtonElement>('[data-testid="reference"] .remove')) await fireEvent.click(b);
    await attach([file('huge.mov', 'video/quicktime', 51 * MB)]);
    expect(must('#references-error').textContent).toContain('huge.mov is 51.0 MB; a source video can be at most 50 MB');
    await attach([file('ok.mp4', 'video/mp4', 50 * MB)]);
    expect(must('#reference-mode').dataset.mode).toBe('video_to_video');
  });

  it('accepts files dropped on the drop zone', async () => {
    studio();
    const files = [file('drop.png', 'image/png', 100)];
    await fireEvent.drop(must('#reference-drop'), { dataTransfer: { files, types: ['Files'] } });
    expect(must('#reference-mode').dataset.mode).toBe('image_to_video');
  });

  it('blocks Generate with the reason when restored references cannot be combined', async () => {
    const draft = JSON.stringify({
      prompt: 'mixed',
      references: [
        { name: 'a.png', kind: 'image', sizeBytes: 1 },
        { name: 'b.mp4', kind: 'video', sizeBytes: 1 },
      ],
    });
    studio({ draft });
    await waitFor(() => expect(must<HTMLTextAreaElement>('#prompt').value).toBe('mixed'));
    expect(must<HTMLButtonElement>('#generate').disabled).toBe(true);
    expect(must('#generate-reason').textContent).toMatch(/not both/);
  });

  it('restores the saved draft and saves changes to it', async () => {
    const draft = JSON.stringify({ prompt: 'Saved <script>alert(1)</script>', durationSeconds: 25, resolution: '2k', advanced: { music: true } });
    studio({ draft });
    await waitFor(() => expect(must<HTMLTextAreaElement>('#prompt').value).toBe('Saved <script>alert(1)</script>'));
    expect(must<HTMLInputElement>('#duration').value).toBe('25');
    expect(must<HTMLSelectElement>('#resolution').value).toBe('2k');
    expect(must<HTMLInputElement>('#music').checked).toBe(true);

    await fireEvent.input(must('#prompt'), { target: { value: 'Edited' } });
    await waitFor(() => expect(tauri.callsOf('save_draft').length).toBeGreaterThan(0), { timeout: 2000 });
    const saved = JSON.parse(tauri.callsOf('save_draft').at(-1)!.draft as string);
    expect(saved).toMatchObject({ prompt: 'Edited', durationSeconds: 25, resolution: '2k' });
  });

  it('generates with Ctrl+Enter in the prompt', async () => {
    const { ongenerated } = studio();
    await waitFor(() => expect(must('#estimate').dataset.value).toBe('700'));
    await fireEvent.input(must('#prompt'), { target: { value: 'A heron lands' } });
    await waitFor(() => expect(must<HTMLButtonElement>('#generate').disabled).toBe(false));
    tauri.handle('generate', () => generation({ id: 'new' }));
    await fireEvent.keyDown(must('#prompt'), { key: 'Enter' });
    expect(tauri.callsOf('generate')).toHaveLength(0);
    await fireEvent.keyDown(must('#prompt'), { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(ongenerated).toHaveBeenCalled());
    expect(tauri.callsOf('generate')).toEqual([expect.objectContaining({ prompt: 'A heron lands' })]);
  });

  it('says why Generate is disabled when credits are short', async () => {
    studio({ balance: 100 });
    await fireEvent.input(must('#prompt'), { target: { value: 'Too dear' } });
    await waitFor(() => expect(must('#generate-reason').textContent).toMatch(/not enough credits: this clip costs 700, 600 more/i));
    expect(must<HTMLButtonElement>('#generate').disabled).toBe(true);
    expect(must('#studio-balance').textContent).toBe('100 credits');
  });
});
