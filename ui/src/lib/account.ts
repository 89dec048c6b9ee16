// Pure logic for the Account & Privacy view: the display name as typed, the ledger's reasons
// in words, signed amounts and prices.

import { formatNumber } from './format';
import type { LedgerEntry } from './generated';

/** The server's limit (cleom-core: MAX_DISPLAY_NAME). */
export const MAX_DISPLAY_NAME = 100;

/** What to send for a typed name: trimmed, blank = none; or why it cannot be saved. */
export function parseDisplayName(input: string): { name: string | null; error: string | null } {
  const name = input.trim();
  if (name === '') return { name: null, error: null };
  if ([...name].length > MAX_DISPLAY_NAME) {
    return { name: null, error: `A display name can have at most ${MAX_DISPLAY_NAME} characters.` };
  }
  return { name, error: null };
}

const REASONS: Record<string, string> = {
  signup_grant: 'Welcome credits',
  generation: 'Generation',
  refund: 'Refund for a failed generation',
  purchase: 'Credit purchase',
  grant: 'Credits granted',
  adjustment: 'Adjustment',
};

/** A ledger reason in words; an unknown one is made readable ("promo_bonus" → "Promo bonus"). */
export function reasonLabel(reason: string): string {
  const known = REASONS[reason];
  if (known) return known;
  const words = reason.replace(/[_-]+/g, ' ').trim();
  return words === '' ? 'Other' : words.charAt(0).toUpperCase() + words.slice(1);
}

/** +2,000 / −700 / 0 (a real minus sign). */
export function formatSigned(amount: number): string {
  if (amount > 0) return `+${formatNumber(amount)}`;
  if (amount < 0) return `−${formatNumber(-amount)}`;
  return '0';
}

/** A price from the currency's smallest unit: 999 USD → "$9.99". An unknown code is shown as is. */
export function formatMoney(amountCents: number, currency: string): string {
  try {
    const format = new Intl.NumberFormat('en-US', { style: 'currency', currency });
    const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    return format.format(amountCents / 10 ** digits);
  } catch {
    return `${(amountCents / 100).toFixed(2)} ${currency}`;
  }
}

/** Newest first (the commands answer oldest first); ties keep their order reversed. */
export function newestFirst<T extends { createdAt: string }>(entries: readonly T[]): T[] {
  return entries
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => (a.entry.createdAt < b.entry.createdAt ? 1 : a.entry.createdAt > b.entry.createdAt ? -1 : b.index - a.index))
    .map(({ entry }) => entry);
}

/** Totals for the ledger's summary line. */
export function ledgerTotals(entries: readonly LedgerEntry[]): { received: number; spent: number } {
  let received = 0;
  let spent = 0;
  for (const e of entries) {
    if (e.amount > 0) received += e.amount;
    else spent -= e.amount;
  }
  return { received, spent };
}
