// The Studio's price without a component: the first request goes at once, later ones wait for
// a pause, an older answer never replaces a newer one, and references that cannot be combined
// are not priced.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StudioEstimate } from './studioEstimate.svelte';
import { buildSettings, defaultAdvanced } from './studio';
import * as tauri from '../test/fakeTauri';
import { estimateFor } from '../test/fixtures';
import type { Settings } from './generated';

vi.mock('@tauri-apps/api/core', () => import('../test/fakeTauri').then((m) => m.core));
vi.mock('@tauri-apps/api/event', () => import('../test/fakeTauri').then((m) => m.event));

const settings = (seconds: number) => buildSettings(seconds, '1080p', defaultAdvanced());

describe('StudioEstimate', () => {
  beforeEach(() => {
    tauri.reset();
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it('asks at once the first time, then after a pause; only the latest answer counts', async () => {
    const answers: ((value: unknown) => void)[] = [];
    tauri.handle('estimate', () => new Promise((resolve) => answers.push(resolve)));
    const pricing = new StudioEstimate(vi.fn());
    expect(pricing.loading).toBe(true);

    pricing.request(settings(5), [], null);
    await vi.advanceTimersByTimeAsync(0);
    expect(tauri.callsOf('estimate')).toHaveLength(1);

    pricing.request(settings(10), [], null);
    await vi.advanceTimersByTimeAsync(199);
    expect(tauri.callsOf('estimate')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(tauri.callsOf('estimate').map((args) => (args.settings as Settings).durationSeconds)).toEqual([5, 10]);

    answers[1](estimateFor(10));
    await vi.advanceTimersByTimeAsync(0);
    expect(pricing.estimate?.total).toBe(700);
    expect(pricing.loading).toBe(false);
    answers[0](estimateFor(5));
    await vi.advanceTimersByTimeAsync(0);
    expect(pricing.estimate?.total).toBe(700);
  });

  it('cancels a request not yet sent', async () => {
    tauri.handle('estimate', (args) => estimateFor((args.settings as Settings).durationSeconds));
    const pricing = new StudioEstimate(vi.fn());
    pricing.request(settings(5), [], null);
    await vi.advanceTimersByTimeAsync(0);
    const cancel = pricing.request(settings(10), [], null);
    cancel();
    await vi.advanceTimersByTimeAsync(1000);
    expect(tauri.callsOf('estimate')).toHaveLength(1);
  });

  it('does not price references that cannot be combined', async () => {
    tauri.handle('estimate', () => estimateFor(5));
    const pricing = new StudioEstimate(vi.fn());
    pricing.request(settings(5), [], null);
    await vi.advanceTimersByTimeAsync(0);
    expect(pricing.estimate).not.toBeNull();
    pricing.request(settings(5), [], 'Attach images or one video, not both.');
    await vi.advanceTimersByTimeAsync(1000);
    expect(tauri.callsOf('estimate')).toHaveLength(1);
    expect(pricing.estimate).toBeNull();
    expect(pricing.error).toBeNull();
    expect(pricing.loading).toBe(false);
  });

  it('keeps the failure for the Studio and reports it', async () => {
    tauri.handle('estimate', () => {
      throw { code: 'network.unreachable', message: 'Cannot reach Cleom.' };
    });
    const onerror = vi.fn();
    const pricing = new StudioEstimate(onerror);
    pricing.request(settings(5), [], null);
    await vi.advanceTimersByTimeAsync(0);
    expect(pricing.estimate).toBeNull();
    expect(pricing.error?.message).toBe('Cannot reach Cleom.');
    expect(pricing.loading).toBe(false);
    expect(onerror).toHaveBeenCalledWith(expect.objectContaining({ code: 'network.unreachable' }));
  });
});
