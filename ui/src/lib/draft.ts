// The Studio's draft: everything in the composer, kept in the account's encrypted store
// (through the `save_draft` command) so it survives a restart. Never in localStorage: the
// prompt is private text and WebKit keeps localStorage in a plain file.

import { sanitizeReferences } from './references';
import {
  ASPECT_RATIOS,
  DEFAULT_DURATION,
  MAX_SCRIPT_CHARS,
  PACINGS,
  RESOLUTIONS,
  STYLE_PRESETS,
  SUBJECTS,
  VOICE_LANGUAGES,
  VOICE_TYPES,
  clampDuration,
  defaultAdvanced,
  type Advanced,
} from './studio';
import type { Reference, Resolution, Settings } from './generated';

export type StudioDraft = {
  prompt: string;
  durationSeconds: number;
  resolution: Resolution;
  advanced: Advanced;
  references: Reference[];
};

export const emptyDraft = (): StudioDraft => ({
  prompt: '',
  durationSeconds: DEFAULT_DURATION,
  resolution: '1080p',
  advanced: defaultAdvanced(),
  references: [],
});

const DRAFT_VERSION = 1;

export function serializeDraft(draft: StudioDraft): string {
  return JSON.stringify({ version: DRAFT_VERSION, ...draft });
}

function oneOf<T>(value: unknown, allowed: readonly T[], fallback: T): T {
  return allowed.includes(value as T) ? (value as T) : fallback;
}

function text(value: unknown, fallback: string, max: number): string {
  return typeof value === 'string' ? value.slice(0, max) : fallback;
}

/**
 * A saved draft, checked field by field: anything missing, unknown or malformed falls back
 * to the default, so an old or damaged draft never breaks the Studio.
 */
export function parseDraft(json: string | null): StudioDraft {
  const base = emptyDraft();
  if (!json) return base;
  let raw: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(json);
    if (typeof parsed !== 'object' || parsed === null) return base;
    raw = parsed as Record<string, unknown>;
  } catch {
    return base;
  }
  const a = (typeof raw.advanced === 'object' && raw.advanced !== null ? raw.advanced : {}) as Record<string, unknown>;
  const d = base.advanced;
  return {
    prompt: text(raw.prompt, '', 8000),
    durationSeconds: clampDuration(Number(raw.durationSeconds), DEFAULT_DURATION),
    resolution: oneOf(raw.resolution, RESOLUTIONS.map((r) => r.value), base.resolution),
    advanced: {
      aspectRatio: oneOf(a.aspectRatio, ASPECT_RATIOS.map((r) => r.value), d.aspectRatio),
      stylePreset: oneOf<string | null>(a.stylePreset, STYLE_PRESETS, null),
      subject: oneOf(a.subject, [...SUBJECTS, null], null),
      pacing: oneOf(a.pacing, [...PACINGS, null], null),
      voiceOver: a.voiceOver === true,
      voiceLanguage: oneOf(a.voiceLanguage, VOICE_LANGUAGES.map((v) => v.value), d.voiceLanguage),
      voiceType: oneOf(a.voiceType, VOICE_TYPES.map((v) => v.value), d.voiceType),
      voiceScript: text(a.voiceScript, '', MAX_SCRIPT_CHARS),
      music: a.music === true,
      subtitles: a.subtitles === true,
    },
    references: sanitizeReferences(raw.references),
  };
}

/**
 * Run `save` with the latest value at most once per `delayMs` of quiet. `flush` saves a
 * pending value at once (e.g. before the window closes).
 */
export function debounced<T>(save: (value: T) => void, delayMs: number) {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let pending: { value: T } | null = null;
  const flush = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (pending) {
      const { value } = pending;
      pending = null;
      save(value);
    }
  };
  return {
    push(value: T) {
      pending = { value };
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(flush, delayMs);
    },
    flush,
    cancel() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      pending = null;
    },
  };
}

/**
 * The Studio draft that reuses a generation's prompt and settings ("Reuse settings in
 * Studio"). The references attached now are kept (a generation's files are not stored).
 * Passed through the same checks as a saved draft, so an unknown value falls back to the default.
 */
export function draftFromGeneration(
  prompt: string,
  settings: Settings,
  references: Reference[] = [],
): StudioDraft {
  const d = defaultAdvanced();
  const voice = settings.voiceOver;
  const draft: StudioDraft = {
    prompt,
    durationSeconds: settings.durationSeconds,
    resolution: settings.resolution,
    advanced: {
      aspectRatio: settings.aspectRatio,
      stylePreset: settings.stylePreset,
      subject: settings.subject,
      pacing: settings.pacing,
      voiceOver: voice !== null,
      voiceLanguage: voice?.language ?? d.voiceLanguage,
      voiceType: voice?.voice ?? d.voiceType,
      voiceScript: voice?.script ?? '',
      music: settings.music,
      subtitles: settings.subtitles,
    },
    references,
  };
  return parseDraft(serializeDraft(draft));
}
