import { describe, expect, it } from 'vitest';
import { buildSettings, clampDuration, generateBlockReason, isValidDuration, type GenerateInputs } from './studio';
import { estimateFor } from '../test/fixtures';

const ready: GenerateInputs = {
  prompt: 'A fox in the snow',
  estimate: estimateFor(10),
  estimateLoading: false,
  balance: 2000,
  pending: false,
};

describe('generateBlockReason', () => {
  it('allows a prompt whose estimate fits the balance', () => {
    expect(generateBlockReason(ready)).toBeNull();
  });

  it('allows spending exactly the balance', () => {
    expect(generateBlockReason({ ...ready, balance: 700 })).toBeNull();
  });

  it('blocks an empty or blank prompt', () => {
    expect(generateBlockReason({ ...ready, prompt: '' })).toMatch(/write a prompt/i);
    expect(generateBlockReason({ ...ready, prompt: '  \n\t ' })).toMatch(/write a prompt/i);
  });

  it('blocks when the estimate exceeds the balance and says by how much', () => {
    const reason = generateBlockReason({ ...ready, estimate: estimateFor(60), balance: 2000 });
    expect(reason).toMatch(/not enough credits/i);
    expect(reason).toContain('4,200');
    expect(reason).toContain('2,200 more');
  });

  it('blocks while pending, before anything else', () => {
    expect(generateBlockReason({ ...ready, pending: true, prompt: '' })).toMatch(/starting/i);
  });

  it('blocks while a fresh estimate is loading', () => {
    expect(generateBlockReason({ ...ready, estimateLoading: true })).toMatch(/calculating/i);
  });

  it('leaves the decision to the backend when no estimate can be had', () => {
    expect(generateBlockReason({ ...ready, estimate: null })).toBeNull();
  });
});

describe('duration', () => {
  it('clamps to whole seconds within 5–60', () => {
    expect(clampDuration(3)).toBe(5);
    expect(clampDuration(61)).toBe(60);
    expect(clampDuration(12.6)).toBe(13);
    expect(clampDuration(Number.NaN, 20)).toBe(20);
  });

  it('accepts only valid values while typing', () => {
    expect(isValidDuration(5)).toBe(true);
    expect(isValidDuration(60)).toBe(true);
    expect(isValidDuration(3)).toBe(false);
    expect(isValidDuration(7.5)).toBe(false);
    expect(isValidDuration(Number.NaN)).toBe(false);
  });
});

describe('buildSettings', () => {
  it('uses the defaults for everything but duration and resolution', () => {
    expect(buildSettings(30, '4k')).toEqual({
      durationSeconds: 30,
      resolution: '4k',
      aspectRatio: '16:9',
      stylePreset: null,
      subject: null,
      pacing: null,
      voiceOver: null,
      music: false,
      subtitles: false,
    });
  });
});
