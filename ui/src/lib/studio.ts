// Pure logic behind the Studio composer.

import { formatNumber } from './format';
import type { Estimate, Resolution, Settings } from './types';

export const MIN_DURATION = 5;
export const MAX_DURATION = 60;
export const DEFAULT_DURATION = 10;

export const RESOLUTIONS: { value: Resolution; label: string }[] = [
  { value: '1080p', label: '1080p' },
  { value: '2k', label: '2K' },
  { value: '4k', label: '4K' },
];

/** The settings sent for a generation. Only duration and resolution are editable for now. */
export function buildSettings(durationSeconds: number, resolution: Resolution): Settings {
  return {
    durationSeconds,
    resolution,
    aspectRatio: '16:9',
    stylePreset: null,
    subject: null,
    pacing: null,
    voiceOver: null,
    music: false,
    subtitles: false,
  };
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
  if (inputs.estimateLoading) return 'Calculating the price…';
  if (inputs.estimate !== null && inputs.estimate.total > inputs.balance) {
    const missing = inputs.estimate.total - inputs.balance;
    return `Not enough credits: this clip costs ${formatNumber(inputs.estimate.total)}, ${formatNumber(missing)} more than your balance.`;
  }
  return null;
}
