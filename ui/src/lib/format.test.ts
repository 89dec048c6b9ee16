import { describe, expect, it } from 'vitest';
import { formatBytes, formatCredits, formatEstimate, formatPercent, formatRelative } from './format';

describe('formatCredits', () => {
  it('groups thousands and pluralises', () => {
    expect(formatCredits(2000)).toBe('2,000 credits');
    expect(formatCredits(1234567)).toBe('1,234,567 credits');
    expect(formatCredits(1)).toBe('1 credit');
    expect(formatCredits(0)).toBe('0 credits');
  });

  it('does not print NaN', () => {
    expect(formatCredits(Number.NaN)).toBe('— credits');
  });
});

describe('formatEstimate', () => {
  it('shows total and rate', () => {
    expect(formatEstimate(700, 70)).toBe('700 credits · 70/s');
    expect(formatEstimate(4200, 70)).toBe('4,200 credits · 70/s');
  });
});

describe('formatBytes', () => {
  it('uses binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MB');
    expect(formatBytes(-1)).toBe('—');
  });
});

describe('formatRelative', () => {
  const now = Date.parse('2025-01-01T12:00:00Z');
  it('reads naturally', () => {
    expect(formatRelative('2025-01-01T11:59:50Z', now)).toBe('just now');
    expect(formatRelative('2025-01-01T11:55:00Z', now)).toBe('5 min ago');
    expect(formatRelative('2025-01-01T09:00:00Z', now)).toBe('3 h ago');
    expect(formatRelative('not a date', now)).toBe('not a date');
  });

  it('treats a clock slightly ahead as just now', () => {
    expect(formatRelative('2025-01-01T12:00:05Z', now)).toBe('just now');
  });
});

describe('formatPercent', () => {
  it('clamps', () => {
    expect(formatPercent(0.421)).toBe('42%');
    expect(formatPercent(2)).toBe('100%');
    expect(formatPercent(-1)).toBe('0%');
    expect(formatPercent(Number.NaN)).toBe('0%');
  });
});
