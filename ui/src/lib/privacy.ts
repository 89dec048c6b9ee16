// Pure logic for the privacy flows: the access report in words, export progress, the
// change-email / change-password checks, what "remove this device's copy" removes and sets aside, and the
// file name of a saved clip. Everything here returns plain text (rendered as text).

import { formatBytes, formatDateTime, formatNumber } from './format';
import type { Field as ErrorField } from './errors';
import type { ExportOptions } from './api';
import type { ExportProgress, ExportStep, Holdings, SetAsideCopy } from './generated';

/** Firebase's minimum password length (the server may ask for more: `auth.weak_password`). */
export const MIN_PASSWORD = 6;

/** A form problem found before asking Rust: the message and the fields to mark. */
export type FormProblem = { message: string; fields: ErrorField[] };

/** The last part of a path, with either separator: "/a/b/fox.mp4" → "fox.mp4". */
export function fileName(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, '');
  const parts = trimmed.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/** A deliberately loose check (the server has the last word): one @, something each side, a dot after it. */
export function looksLikeEmail(value: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value);
}

/** Why a change-email request cannot be sent yet, or null. */
export function checkEmailChange(password: string, newEmail: string, currentEmail: string): FormProblem | null {
  const email = newEmail.trim();
  if (email === '') return { message: 'Enter the new email address.', fields: ['email'] };
  if (!looksLikeEmail(email)) return { message: 'That does not look like an email address.', fields: ['email'] };
  if (email.toLowerCase() === currentEmail.trim().toLowerCase())
    return { message: 'That is already your email address.', fields: ['email'] };
  if (password === '') return { message: 'Enter your current password to confirm.', fields: ['password'] };
  return null;
}

/** What the app says once the verification link is on its way. */
export function emailChangeSent(newEmail: string): string {
  return `We sent a link to ${newEmail.trim()}. Your email changes when you follow it; you will then sign in again.`;
}

/** Why a password change cannot be sent yet, or null. */
export function checkPasswordChange(current: string, next: string, confirm: string): FormProblem | null {
  if (current === '') return { message: 'Enter your current password.', fields: ['password'] };
  if ([...next].length < MIN_PASSWORD)
    return { message: `The new password needs at least ${MIN_PASSWORD} characters.`, fields: ['newPassword'] };
  if (next !== confirm) return { message: 'The new passwords do not match.', fields: ['newPassword'] };
  if (next === current) return { message: 'The new password is the same as the current one.', fields: ['newPassword'] };
  return null;
}

const STEP_LABEL: Record<ExportStep, string> = {
  downloading: 'Downloading clips',
  generations: 'Writing generations',
  videos: 'Adding clips',
  finishing: 'Finishing',
};

const STEP_NOUN: Record<ExportStep, [string, string]> = {
  downloading: ['clip', 'clips'],
  generations: ['generation', 'generations'],
  videos: ['clip', 'clips'],
  finishing: ['file', 'files'],
};

export type ExportProgressView = {
  step: string;
  /** For <progress>: `max` 0 means indeterminate. */
  value: number;
  max: number;
  /** "1,234 of 5,000 generations" */
  items: string;
  /** "12.3 MB written" (and "· 1.0 GB downloaded" when clips were downloaded). */
  bytes: string;
};

/** The export's progress in words and numbers. */
export function describeExportProgress(progress: ExportProgress): ExportProgressView {
  const total = Math.max(0, progress.itemsTotal);
  const done = Math.min(Math.max(0, progress.itemsDone), total);
  const [one, many] = STEP_NOUN[progress.step] ?? ['item', 'items'];
  const bytes = [`${formatBytes(progress.bytesWritten)} written`];
  if (progress.bytesDownloaded > 0) bytes.push(`${formatBytes(progress.bytesDownloaded)} downloaded`);
  return {
    step: STEP_LABEL[progress.step] ?? 'Exporting',
    value: done,
    max: total,
    items: `${formatNumber(done)} of ${formatNumber(total)} ${total === 1 ? one : many}`,
    bytes: bytes.join(' · '),
  };
}

export type CountRow = { key: string; label: string; value: string };

const plural = (n: number, one: string, many: string) => `${formatNumber(n)} ${n === 1 ? one : many}`;

/** The counts a place holds, as rows (keys are stable for element ids). */
export function holdingsRows(holdings: Holdings): CountRow[] {
  return [
    { key: 'generations', label: 'Generations', value: formatNumber(holdings.generations) },
    {
      key: 'thumbnails',
      label: 'Thumbnails',
      value: `${plural(holdings.thumbnails, 'image', 'images')} (${formatBytes(holdings.thumbnailBytes)})`,
    },
    { key: 'ledger', label: 'Credit history entries', value: formatNumber(holdings.ledgerEntries) },
    { key: 'purchases', label: 'Purchases', value: formatNumber(holdings.purchases) },
    { key: 'saved-clips', label: 'Clips saved on this device', value: formatNumber(holdings.savedClips.length) },
  ];
}

/** What "remove this device's copy" removes, in words; `pending` is null when unknown. */
export function removeCopyItems(pending: number | null): string[] {
  const items = ['the Studio draft and the clips opened from the app'];
  if (pending === null) items.push('any change made here that Cleom has not received yet');
  else if (pending > 0)
    items.push(`${plural(pending, 'change', 'changes')} made here that Cleom has not received yet (they will not be sent)`);
  return items;
}

/** How long a copy set aside by "remove this device's copy" is kept (Rust's `recovery::KEPT_FOR`). */
export const SET_ASIDE_DAYS = 30;

/**
 * What "remove this device's copy" sets aside rather than deletes: a copy that would not open may
 * still hold something Cleom does not, so it is kept to send for recovery.
 */
export const REMOVE_COPY_SETS_ASIDE =
  "This device's encrypted copy of your history (every generation's prompt and settings, thumbnails, credit history " +
  `and purchases) and the key in your system keychain that unlocks it are set aside for ${SET_ASIDE_DAYS} days, not ` +
  'deleted, so they can be sent to Cleom for recovery. After that the app removes them. “Everything we store about ' +
  'you” shows where they are.';

/** One copy set aside by a reset, in words: when it was set aside and when the app removes it. */
export function setAsideWhen(copy: SetAsideCopy): string {
  return `Set aside ${formatDateTime(copy.setAsideAt)}; removed after ${formatDateTime(copy.removedAfter)}.`;
}

/** What stays after "remove this device's copy". */
export const REMOVE_COPY_KEEPS = [
  'your Cleom account, and everything Cleom keeps on its servers',
  'your sign-in on this device (you stay signed in)',
  'clips you downloaded and exports you made (they are in your Downloads or export folder)',
];

/** Field names a form marks aria-invalid for a problem. */
export function hasField(problem: { fields: readonly ErrorField[] } | null, field: ErrorField): boolean {
  return problem?.fields.includes(field) ?? false;
}

// --- password-protected export ---------------------------------------------------------------

/** The shortest export password the app accepts (it cannot be recovered, so no short ones). */
export const MIN_EXPORT_PASSWORD = 8;

/** Which export-password input a problem is about. */
export type ExportPasswordField = 'password' | 'confirm';
export type ExportPasswordProblem = { message: string; field: ExportPasswordField };

/** Why a protected export cannot start yet, or null (always null when not protected). */
export function checkExportPassword(protect: boolean, password: string, confirm: string): ExportPasswordProblem | null {
  if (!protect) return null;
  if (password === '') return { message: 'Enter a password for the export.', field: 'password' };
  if ([...password].length < MIN_EXPORT_PASSWORD)
    return { message: `The export password needs at least ${MIN_EXPORT_PASSWORD} characters.`, field: 'password' };
  if (password !== confirm) return { message: 'The two export passwords do not match.', field: 'confirm' };
  return null;
}

/** The `export_data` arguments: only what was chosen (`{}` is the plain one-click export). */
export function exportArguments(includeVideos: boolean, protect: boolean, password: string): ExportOptions {
  const options: ExportOptions = {};
  if (includeVideos) options.includeVideos = true;
  if (protect && password !== '') options.password = password;
  return options;
}

// --- delete all history ----------------------------------------------------------------------

/** The confirmation's question; `count` null when the Library's count is unknown. */
export function deleteAllQuestion(count: number | null): string {
  if (count === null || count === 0) return 'Delete all your generations?';
  if (count === 1) return 'Delete your 1 generation?';
  return `Delete all ${formatNumber(count)} generations?`;
}

/** Exactly what goes and what stays. */
export const DELETE_ALL_CONSEQUENCE =
  'They are removed from this device now and from Cleom when it is reachable; your account, credits and credit history stay. This cannot be undone.';

/** The status once `delete_all_history` answered how many went. */
export function deleteAllDone(deleted: number): string {
  if (deleted === 0) return 'No generations to delete: your history was already empty.';
  return deleted === 1 ? '1 generation deleted.' : `${formatNumber(deleted)} generations deleted.`;
}

// --- deletion receipt ------------------------------------------------------------------------

/** The status once `save_receipt` saved the receipt at `path`. */
export function receiptSaved(path: string): string {
  return `Receipt saved to ${path}`;
}

/** A platform as the list of signed-in devices names it. */
export function platformName(platform: string): string {
  switch (platform) {
    case 'linux':
      return 'Linux';
    case 'macos':
      return 'macOS';
    case 'windows':
      return 'Windows';
    default:
      return 'another system';
  }
}

/** What "Sign out everywhere else" did. */
export function signedOutElsewhere(ended: number): string {
  if (ended === 0) return 'No other device was signed in. This one stays signed in.';
  const devices = ended === 1 ? '1 other device was' : `${ended} other devices were`;
  return `${devices} signed out. This one stays signed in.`;
}
