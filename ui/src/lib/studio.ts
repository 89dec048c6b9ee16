// Pure logic behind the Studio composer.

import { formatNumber } from './format';
import type { AspectRatio, Estimate, Pacing, Resolution, Settings, Subject } from './generated';

export const MIN_DURATION = 5;
export const MAX_DURATION = 60;
export const DEFAULT_DURATION = 10;

export const RESOLUTIONS: { value: Resolution; label: string }[] = [
  { value: '1080p', label: '1080p' },
  { value: '2k', label: '2K' },
  { value: '4k', label: '4K' },
];

export const ASPECT_RATIOS: { value: AspectRatio; label: string }[] = [
  { value: '16:9', label: '16:9 landscape' },
  { value: '9:16', label: '9:16 portrait' },
  { value: '1:1', label: '1:1 square' },
  { value: '21:9', label: '21:9 cinema' },
  { value: '4:3', label: '4:3 classic' },
];

/** The 16 style presets, in the order the Studio lists them (cleom-core's STYLE_PRESETS). */
export const STYLE_PRESETS = [
  'Cinematic',
  'Documentary',
  'Anime',
  '3D Animation',
  'Claymation',
  'Watercolor',
  'Film Noir',
  'Cyberpunk',
  'Fantasy',
  'Vintage Film',
  'Minimalist',
  'Photorealistic',
  'Comic Book',
  'Pixel Art',
  'Timelapse',
  'VHS',
] as const;

export const SUBJECTS: Subject[] = ['Person', 'Product', 'Landscape', 'Abstract'];
export const PACINGS: Pacing[] = ['Slow', 'Normal', 'Fast'];

export const VOICE_LANGUAGES: { value: string; label: string }[] = [
  { value: 'en', label: 'English' },
  { value: 'es', label: 'Spanish' },
  { value: 'fr', label: 'French' },
  { value: 'de', label: 'German' },
  { value: 'it', label: 'Italian' },
  { value: 'pt', label: 'Portuguese' },
  { value: 'ja', label: 'Japanese' },
  { value: 'ko', label: 'Korean' },
  { value: 'zh', label: 'Chinese' },
  { value: 'hi', label: 'Hindi' },
];

export const VOICE_TYPES: { value: string; label: string }[] = [
  { value: 'female', label: 'Female' },
  { value: 'male', label: 'Male' },
  { value: 'neutral', label: 'Neutral' },
];

export const MAX_PROMPT_CHARS = 4000;
export const MAX_SCRIPT_CHARS = 2000;

/** The Advanced drawer's settings. `voiceOver` off keeps the chosen language and voice. */
export type Advanced = {
  aspectRatio: AspectRatio;
  stylePreset: string | null;
  subject: Subject | null;
  pacing: Pacing | null;
  voiceOver: boolean;
  voiceLanguage: string;
  voiceType: string;
  voiceScript: string;
  music: boolean;
  subtitles: boolean;
};

export const defaultAdvanced = (): Advanced => ({
  aspectRatio: '16:9',
  stylePreset: null,
  subject: null,
  pacing: null,
  voiceOver: false,
  voiceLanguage: 'en',
  voiceType: 'female',
  voiceScript: '',
  music: false,
  subtitles: false,
});

/** The settings sent for a generation. */
export function buildSettings(
  durationSeconds: number,
  resolution: Resolution,
  advanced: Advanced = defaultAdvanced(),
): Settings {
  const script = advanced.voiceScript.trim();
  return {
    durationSeconds,
    resolution,
    aspectRatio: advanced.aspectRatio,
    stylePreset: advanced.stylePreset,
    subject: advanced.subject,
    pacing: advanced.pacing,
    voiceOver: advanced.voiceOver
      ? { language: advanced.voiceLanguage, voice: advanced.voiceType, script: script === '' ? null : script }
      : null,
    music: advanced.music,
    subtitles: advanced.subtitles,
  };
}

/** How many Advanced settings differ from the defaults (shown on the drawer's summary). */
export function changedAdvanced(advanced: Advanced): number {
  const d = defaultAdvanced();
  let n = 0;
  if (advanced.aspectRatio !== d.aspectRatio) n += 1;
  if (advanced.stylePreset !== null) n += 1;
  if (advanced.subject !== null) n += 1;
  if (advanced.pacing !== null) n += 1;
  if (advanced.voiceOver) n += 1;
  if (advanced.music) n += 1;
  if (advanced.subtitles) n += 1;
  return n;
}

/** Whole seconds within 5–60; a non-number keeps `fallback`. */
export function clampDuration(value: number, fallback: number = DEFAULT_DURATION): number {
  if (!Number.isFinite(value)) return fallback;
  return Math.min(MAX_DURATION, Math.max(MIN_DURATION, Math.round(value)));
}

/** True when a typed value is already a valid duration (used while the user types). */
export function isValidDuration(value: number): boolean {
  return Number.isInteger(value) && value >= MIN_DURATION && value <= MAX_DURATION;
}

export type GenerateInputs = {
  prompt: string;
  /** Why the attached references cannot be sent, or null. */
  referenceProblem?: string | null;
  /** The estimate for the current settings, or null while it is loading or unavailable. */
  estimate: Estimate | null;
  /** True while a fresh estimate is being fetched for changed settings. */
  estimateLoading: boolean;
  balance: number;
  pending: boolean;
};

/**
 * Why Generate is disabled, or null when it is enabled. The first reason that applies
 * wins, in the order a user would fix them.
 * When no estimate can be had (e.g. offline with no cached prices) Generate stays
 * enabled: the backend charges and answers with a precise error if needed.
 */
export function generateBlockReason(inputs: GenerateInputs): string | null {
  if (inputs.pending) return 'Starting your generation…';
  if (inputs.prompt.trim() === '') return 'Write a prompt to generate a clip.';
  if ([...inputs.prompt].length > MAX_PROMPT_CHARS) {
    return `The prompt is too long: at most ${formatNumber(MAX_PROMPT_CHARS)} characters.`;
  }
  if (inputs.referenceProblem) return inputs.referenceProblem;
  if (inputs.estimateLoading) return 'Calculating the price…';
  if (inputs.estimate !== null && inputs.estimate.total > inputs.balance) {
    const missing = inputs.estimate.total - inputs.balance;
    return `Not enough credits: this clip costs ${formatNumber(inputs.estimate.total)}, ${formatNumber(missing)} more than your balance.`;
  }
  return null;
}
