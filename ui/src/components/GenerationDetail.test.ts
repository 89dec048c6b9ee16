// The detail view's Download / Open / Show in folder against a fake backend.
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import GenerationDetail from './GenerationDetail.svelte';
import * as tauri from '../test/fakeTauri';
import { generation } from '../test/fixtures';
import type { AppError, GenerationView } from '../lib/generated';

vi.mock('@tauri-apps/api/core', () => import('../test/fakeTauri').then((m) => m.core));
vi.mock('@tauri-apps/api/event', () => import('../test/fakeTauri').then((m) => m.event));

const XSS = '<img src=x onerror=alert(1)>';
const $ = (selector: string) => document.querySelector(selector) as HTMLElement | null;
const must = <T extends HTMLElement = HTMLElement>(selector: string) => {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`${selector} not found`);
  return el;
};
const text = (selector: string) => must(selector).textContent?.replace(/\s+/g, ' ').trim();

let item: GenerationView;
let errors: AppError[];

function show(g: GenerationView) {
  item = g;
  tauri.handle('library_item', () => ({ ...item, thumbnail: null }));
  render(GenerationDetail, { item: g, onclose: () => {}, onreuse: () => {}, onerror: (e: AppError) => errors.push(e) });
}

describe('GenerationDetail clip actions', () => {
  beforeEach(() => {
    tauri.reset();
    errors = [];
  });

  it('downloads the clip, names the file and shows it in its folder', async () => {
    show(generation({ id: 'g1', prompt: XSS }));
    const folder = '/home/ada/Downloads';
    const path = `${folder}/${XSS}-g1.mp4`;
    let release: () => void = () => {};
    tauri.handle('save_clip', () => new Promise((resolve) => (release = () => resolve({ path, folder }))));
    const download = must<HTMLButtonElement>('#detail-download');
    expect(download.textContent?.trim()).toBe('Download');
    expect(must('#detail-clip-status').getAttribute('role')).toBe('status');
    await fireEvent.click(download);
    await waitFor(() => expect(download.getAttribute('aria-busy')).toBe('true'));
    expect(download.disabled).toBe(true);
    expect(must<HTMLButtonElement>('#detail-open').disabled).toBe(true);
    expect(text('#detail-clip-status')).toBe('Downloading the clip…');
    item = { ...item, download: { path, savedAt: '2025-01-02T10:00:00Z' } };
    release();
    await waitFor(() => expect(text('#detail-clip-file')).toBe(`${XSS}-g1.mp4`));
    expect(text('#detail-clip-status')).toContain(`Saved ${XSS}-g1.mp4 in ${folder}`);
    expect(document.querySelector('img[src="x"]')).toBeNull();
    expect(tauri.callsOf('save_clip')).toEqual([{ id: 'g1' }]);
    expect(download.disabled).toBe(false);

    tauri.handle('show_in_folder', () => null);
    await fireEvent.click(must('#detail-show-in-folder'));
    await waitFor(() => expect(tauri.callsOf('show_in_folder')).toEqual([{ path }]));
  });

  it('downloads to a folder the user picks, and does nothing when the picker is cancelled', async () => {
    show(generation({ id: 'g1' }));
    let picked: { path: string; folder: string } | null = null;
    tauri.handle('save_clip_to', () => picked);
    const downloadTo = must<HTMLButtonElement>('#detail-download-to');
    expect(downloadTo.textContent?.trim()).toBe('Download to…');
    await fireEvent.click(downloadTo);
    await waitFor(() => expect(tauri.callsOf('save_clip_to')).toEqual([{ id: 'g1' }]));
    await waitFor(() => expect(downloadTo.disabled).toBe(false));
    expect(text('#detail-clip-status')).toBe('');
    expect(text('#detail-clip-error')).toBe('');

    picked = { path: '/media/clips/fox-g1.mp4', folder: '/media/clips' };
    await fireEvent.click(downloadTo);
    await waitFor(() => expect(text('#detail-clip-status')).toContain('Saved fox-g1.mp4 in /media/clips'));
    expect(tauri.callsOf('save_clip')).toEqual([]);
  });

  it('opens the clip in the default app', async () => {
    show(generation({ id: 'g1' }));
    tauri.handle('open_clip', () => ({ path: '/data/clips/fox-g1.mp4', folder: '/data/clips' }));
    await fireEvent.click(must('#detail-open'));
    await waitFor(() => expect(text('#detail-clip-status')).toBe('Opened “fox-g1.mp4” in your default app.'));
    expect(tauri.callsOf('open_clip')).toEqual([{ id: 'g1' }]);
    // The private folder is not the export folder: no Show in folder.
    expect($('#detail-show-in-folder')).toBeNull();
  });

  it('says clearly why a clip could not be saved', async () => {
    show(generation({ id: 'g1' }));
    tauri.handle('save_clip', () => {
      throw { code: 'network.unreachable', message: 'Cleom cannot be reached.' };
    });
    await fireEvent.click(must('#detail-download'));
    await waitFor(() => expect(text('#detail-clip-error')).toBe('Cleom cannot be reached. This needs a connection to Cleom. Try again when you are back online.'));
    expect(must('#detail-clip-error').getAttribute('role')).toBe('alert');
    expect(errors.map((e) => e.code)).toEqual(['network.unreachable']);
    expect(text('#detail-clip-status')).toBe('');
  });

  it('offers Download and Open only for a clip that succeeded', async () => {
    show(generation({ id: 'g2', status: 'failed', error: 'No.' }));
    await waitFor(() => expect(tauri.callsOf('library_item')).toHaveLength(1));
    expect($('#detail-download')).toBeNull();
    expect($('#detail-open')).toBeNull();
  });
});

describe('GenerationDetail player', () => {
  beforeEach(() => {
    tauri.reset();
    errors = [];
  });

  it('plays the clip from the app scheme and falls back to the poster when it cannot load', async () => {
    show(generation({ id: 'g1', clipKind: 'image' }));
    const play = must<HTMLButtonElement>('#detail-play');
    expect(play.getAttribute('aria-pressed')).toBe('false');
    await fireEvent.click(play);
    const player = must<HTMLImageElement>('#detail-player');
    expect(player.getAttribute('src')).toBe('clip://localhost/g1');
    expect(play.getAttribute('aria-pressed')).toBe('true');
    await fireEvent.error(player);
    await waitFor(() => expect($('#detail-player')).toBeNull());
    expect(text('#detail-play-error')).toContain("can't be played right now");
  });

  it('plays a video with controls, and offers nothing while there is no clip', async () => {
    show(generation({ id: 'v1', clipKind: 'video' }));
    await fireEvent.click(must('#detail-play'));
    const video = must<HTMLVideoElement>('video#detail-player');
    expect(video.hasAttribute('controls')).toBe(true);
    document.body.innerHTML = '';
    show(generation({ id: 'q1', status: 'running', clipKind: null }));
    expect($('#detail-play')).toBeNull();
  });
});

describe('GenerationDetail dialog', () => {
  beforeEach(() => {
    tauri.reset();
    errors = [];
  });

  function open(g: GenerationView, more: { ondelete?: (item: GenerationView) => void } = {}) {
    item = g;
    tauri.handle('library_item', () => ({ ...item, thumbnail: null }));
    const onclose = vi.fn();
    const onreuse = vi.fn();
    const result = render(GenerationDetail, {
      item: g,
      onclose,
      onreuse,
      onerror: (e: AppError) => errors.push(e),
      ...more,
    });
    return { ...result, onclose, onreuse, dialog: must<HTMLDialogElement>('dialog#generation-detail') };
  }

  it('is an open modal named by its heading, described by the prompt, 40rem wide', async () => {
    const { dialog } = open(generation({ id: 'g1', prompt: 'A fox' }));
    expect(dialog.hasAttribute('open')).toBe(true);
    expect(dialog.dataset.id).toBe('g1');
    expect(dialog.getAttribute('aria-labelledby')).toBe('detail-title');
    expect(text('#detail-title')).toBe('Generation details');
    expect(dialog.getAttribute('aria-describedby')).toBe('detail-prompt');
    expect(dialog.getAttribute('aria-busy')).toBe('true');
    await waitFor(() => expect(dialog.getAttribute('aria-busy')).toBe('false'));
    expect(dialog.classList.contains('w40')).toBe(true);
    const close = must<HTMLButtonElement>('#detail-close');
    expect(close.getAttribute('aria-label')).toBe('Close details');
    expect([...dialog.querySelectorAll('footer button')].map((b) => b.id)).toEqual(['detail-copy-prompt', 'detail-reuse']);
  });

  it('closes with Escape and with ×', async () => {
    const first = open(generation({ id: 'g1' }));
    await fireEvent.keyDown(first.dialog, { key: 'Escape' });
    expect(first.onclose).toHaveBeenCalledTimes(1);
    expect(first.onreuse).not.toHaveBeenCalled();
    first.unmount();

    const second = open(generation({ id: 'g2' }));
    await fireEvent.click(must('#detail-close'));
    expect(second.onclose).toHaveBeenCalledTimes(1);
  });

  it('asks to delete with the Delete key or button, but not with a modifier or a held key', async () => {
    const ondelete = vi.fn();
    const { dialog } = open(generation({ id: 'g1' }), { ondelete });
    expect([...dialog.querySelectorAll('footer button')].map((b) => b.id)).toEqual([
      'detail-delete',
      'detail-copy-prompt',
      'detail-reuse',
    ]);
    await fireEvent.keyDown(dialog, { key: 'Delete', shiftKey: true });
    await fireEvent.keyDown(dialog, { key: 'Delete', repeat: true });
    expect(ondelete).not.toHaveBeenCalled();
    await fireEvent.keyDown(dialog, { key: 'Delete' });
    expect(ondelete).toHaveBeenCalledTimes(1);
    expect(ondelete.mock.calls[0][0].id).toBe('g1');
    await fireEvent.click(must('#detail-delete'));
    expect(ondelete).toHaveBeenCalledTimes(2);
    expect(dialog.hasAttribute('open')).toBe(true);
  });

  it('closes before handing the generation to Reuse', async () => {
    const { dialog, onclose, onreuse } = open(generation({ id: 'g1' }));
    await fireEvent.click(must('#detail-reuse'));
    expect(dialog.hasAttribute('open')).toBe(false);
    expect(onclose).toHaveBeenCalledTimes(1);
    expect(onreuse).toHaveBeenCalledTimes(1);
    expect(onreuse.mock.calls[0][0].id).toBe('g1');
    expect(onclose.mock.invocationCallOrder[0]).toBeLessThan(onreuse.mock.invocationCallOrder[0]);
  });
});
