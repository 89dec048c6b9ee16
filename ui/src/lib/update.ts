// The update panel's words: what a check found, what the running update is doing, and what a
// failure means for the user. Pure, so the panel's states are tested without a window.

import { formatBytes } from './format';
import type { AppError, UpdateProgress } from './generated';

/** Update codes the panel says more about. The message from Rust is always shown first. */
export const UpdateCode = {
  notConfigured: 'update.not_configured',
  unreachable: 'update.unreachable',
  malformed: 'update.malformed',
  badSignature: 'update.bad_signature',
  notInstalled: 'update.not_installed',
  needsAdmin: 'update.needs_admin',
} as const;

export const LATEST = 'You have the latest version.';

/** The extra sentence for an update failure, or null. Switches on the code only. */
export function updateHint(error: AppError): string | null {
  switch (error.code) {
    case UpdateCode.notConfigured:
      return 'Install Cleom Desktop from a Cleom release to get updates.';
    case UpdateCode.unreachable:
    case UpdateCode.malformed:
      return 'Nothing was downloaded or installed.';
    case UpdateCode.badSignature:
      return 'A damaged or forged download is never installed. Try again later.';
    default:
      return null;
  }
}

/** Whether the offer may be tried again after this failure (the same download would fail alike). */
export function canRetryInstall(error: AppError): boolean {
  return error.code !== UpdateCode.notInstalled && error.code !== UpdateCode.notConfigured;
}

/** One line for the running update. */
export function describeUpdateProgress(progress: UpdateProgress): string {
  switch (progress.phase) {
    case 'downloading':
      return progress.total
        ? `Downloading… ${formatBytes(progress.downloaded)} of ${formatBytes(progress.total)}`
        : `Downloading… ${formatBytes(progress.downloaded)}`;
    case 'verifying':
      return 'Checking the signature…';
    case 'installing':
      return 'Installing…';
    case 'restarting':
      return 'Installed. Restarting Cleom…';
  }
}

/** The progress bar's fraction (0–1), or null when the size is unknown or nothing downloads. */
export function updateFraction(progress: UpdateProgress): number | null {
  if (progress.phase !== 'downloading') return progress.phase === 'verifying' ? 1 : null;
  if (!progress.total) return null;
  return Math.min(1, progress.downloaded / progress.total);
}
