// Enough contrast in both themes: every text colour the UI uses against the backgrounds it is
// used on meets WCAG AA (4.5:1 for text, 3:1 for the focus ring), read from app.css itself.
import { describe, expect, it } from 'vitest';
import css from '../app.css?raw';

function tokens(block: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of block.matchAll(/--([a-z0-9-]+):\s*(#[0-9a-f]{6})\s*;/gi)) out[m[1]!] = m[2]!;
  return out;
}

const light = tokens(css.slice(css.indexOf(':root'), css.indexOf('@media (prefers-color-scheme: dark)')));
const dark = { ...light, ...tokens(css.slice(css.indexOf('@media (prefers-color-scheme: dark)'))) };

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) =>
    c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4,
  );
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

function ratio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

const TEXT_PAIRS: [string, string][] = [
  ['text', 'bg'],
  ['text', 'surface'],
  ['text', 'surface-2'],
  ['text', 'info-bg'],
  ['text', 'mark-bg'],
  ['muted', 'bg'],
  ['muted', 'surface'],
  ['muted', 'surface-2'],
  ['accent', 'surface'],
  ['accent', 'surface-2'],
  ['on-accent', 'accent'],
  ['on-danger', 'danger'],
  ['danger', 'danger-bg'],
  ['danger', 'surface'],
  ['warn', 'warn-bg'],
  ['warn', 'surface'],
  ['ok', 'surface'],
];

describe.each([
  ['light', light],
  ['dark', dark],
])('the %s theme', (_, theme) => {
  it.each(TEXT_PAIRS)('%s on %s reads at 4.5:1 or more', (fg, bg) => {
    expect(theme[fg], fg).toBeDefined();
    expect(theme[bg], bg).toBeDefined();
    expect(ratio(theme[fg]!, theme[bg]!)).toBeGreaterThanOrEqual(4.5);
  });

  it('shows the focus ring at 3:1 or more against every background', () => {
    for (const bg of ['bg', 'surface', 'surface-2']) expect(ratio(theme.focus!, theme[bg]!)).toBeGreaterThanOrEqual(3);
  });
});
