import { afterEach, describe, expect, it, vi } from 'vitest';
import { debounced, draftFromGeneration, emptyDraft, parseDraft, serializeDraft, type StudioDraft } from './draft';
import { buildSettings, defaultAdvanced } from './studio';

describe('draft', () => {
  it('round-trips every setting', () => {
    const draft: StudioDraft = {
      prompt: 'A lighthouse <b>at dusk</b>',
      durationSeconds: 42,
      resolution: '4k',
      advanced: {
        ...defaultAdvanced(),
        aspectRatio: '9:16',
        stylePreset: 'VHS',
        subject: 'Landscape',
        pacing: 'Slow',
        voiceOver: true,
        voiceLanguage: 'fr',
        voiceType: 'male',
        voiceScript: 'Bonsoir.',
        music: true,
        subtitles: true,
      },
      references: [{ name: 'a.png', kind: 'image', sizeBytes: 12 }],
    };
    expect(parseDraft(serializeDraft(draft))).toEqual(draft);
  });

  it('falls back to defaults for missing, unknown or damaged fields', () => {
    expect(parseDraft(null)).toEqual(emptyDraft());
    expect(parseDraft('{not json')).toEqual(emptyDraft());
    expect(parseDraft('"a string"')).toEqual(emptyDraft());
    const parsed = parseDraft(
      JSON.stringify({ prompt: 7, durationSeconds: 600, resolution: '8k', advanced: { stylePreset: 'Baroque', subject: 'Cat', music: 'yes' } }),
    );
    expect(parsed).toEqual({ ...emptyDraft(), durationSeconds: 60 });
  });
});

describe('debounced', () => {
  afterEach(() => vi.useRealTimers());

  it('saves the last value once after a quiet period, or at once on flush', () => {
    vi.useFakeTimers();
    const save = vi.fn();
    const d = debounced(save, 400);
    d.push('a');
    d.push('b');
    vi.advanceTimersByTime(399);
    expect(save).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(save).toHaveBeenCalledExactlyOnceWith('b');
    d.push('c');
    d.flush();
    expect(save).toHaveBeenLastCalledWith('c');
    d.flush();
    expect(save).toHaveBeenCalledTimes(2);
  });
});

describe('draftFromGeneration', () => {
  it('puts a generation prompt and every setting into the draft, keeping the references', () => {
    const advanced = {
      ...defaultAdvanced(),
      aspectRatio: '21:9' as const,
      stylePreset: 'Anime',
      subject: 'Product' as const,
      pacing: 'Normal' as const,
      voiceOver: true,
      voiceLanguage: 'ja',
      voiceType: 'neutral',
      voiceScript: 'Konnichiwa',
      music: true,
      subtitles: false,
    };
    const refs = [{ name: 'a.png', kind: 'image' as const, sizeBytes: 10 }];
    const draft = draftFromGeneration('A fox', buildSettings(33, '2k', advanced), refs);
    expect(draft).toEqual({ prompt: 'A fox', durationSeconds: 33, resolution: '2k', advanced, references: refs });
  });

  it('falls back to defaults for values the Studio does not know', () => {
    const settings = { ...buildSettings(90, '1080p'), stylePreset: 'Unknown', voiceOver: null };
    const draft = draftFromGeneration('x', settings);
    expect(draft.durationSeconds).toBe(60);
    expect(draft.advanced.stylePreset).toBeNull();
    expect(draft.advanced.voiceOver).toBe(false);
    expect(draft.references).toEqual([]);
  });
});
