// Pure logic for the header's sync indicator, the outbox panel and the online/offline state.

import { Code } from './errors';
import { formatNumber, formatRelative } from './format';
import type { AppError, OutboxEntry, SyncProgress, SyncState } from './generated';

export type SyncDisplay = {
  tone: 'ok' | 'busy' | 'offline' | 'error';
  /** What the indicator says: "Synced 5 min ago", "Syncing…", "Sync failed". */
  label: string;
  /** Extra detail (the last error's message), or null. */
  detail: string | null;
  /** Show a Retry button (calls sync_now). */
  canRetry: boolean;
  /** Actions waiting to be sent. */
  pending: number;
  /** Actions the server refused. */
  refused: number;
  /** Documents from the server the sync could not read, and why the latest could not. */
  unreadable: number;
  unreadableReason: string | null;
};

export function describeSync(sync: SyncState | null, online: boolean, now: number): SyncDisplay {
  const counts = {
    pending: sync?.pending ?? 0,
    refused: sync?.refused ?? 0,
    unreadable: sync?.unreadable ?? 0,
    unreadableReason: sync?.unreadableReason ?? null,
  };
  const last = sync?.lastSyncAt ? `Last synced ${formatRelative(sync.lastSyncAt, now)}` : 'Not synced yet';
  if (sync?.state === 'syncing') {
    return { tone: 'busy', label: 'Syncing…', detail: null, canRetry: false, ...counts };
  }
  if (!online || sync?.state === 'offline') {
    return { tone: 'offline', label: last, detail: null, canRetry: true, ...counts };
  }
  if (sync?.state === 'error') {
    return {
      tone: 'error',
      label: 'Sync failed',
      detail: sync.error?.message ?? null,
      canRetry: true,
      ...counts,
    };
  }
  const label = sync?.lastSyncAt ? `Synced ${formatRelative(sync.lastSyncAt, now)}` : 'Not synced yet';
  return { tone: 'ok', label, detail: null, canRetry: false, ...counts };
}

const PHASE_LABEL: Record<string, string> = {
  sending: 'Sending changes…',
  generations: 'Syncing generations…',
  creditLedger: 'Syncing credit history…',
  purchases: 'Syncing purchases…',
  thumbnails: 'Fetching thumbnails…',
};

/** "Syncing generations… 1,500" (the count left out while it is 0). */
export function describeProgress(progress: SyncProgress): string {
  const label = PHASE_LABEL[progress.phase] ?? 'Syncing…';
  // Sending counts actions done (pages); the other phases count items stored.
  const n = progress.phase === 'sending' ? progress.pages : progress.items;
  return n > 0 ? `${label} ${formatNumber(n)}` : label;
}

/**
 * What the screen reader hears when the sync state changes, or null: failures, going
 * offline, recovering, and newly refused actions — not every routine background sync.
 * `settled` is the last state that was not "syncing" (a recovery passes through it).
 */
export function syncAnnouncement(settled: SyncDisplay | null, next: SyncDisplay): string | null {
  if (next.tone === 'busy') return null;
  const parts: string[] = [];
  if (next.tone === 'error' && (settled?.tone !== 'error' || settled.detail !== next.detail)) {
    parts.push(next.detail ? `Sync failed: ${next.detail}` : 'Sync failed.');
  } else if (next.tone === 'offline' && settled?.tone !== 'offline') {
    parts.push('Offline. Your changes are kept and sent when Cleom is reachable.');
  } else if (next.tone === 'ok' && (settled?.tone === 'error' || settled?.tone === 'offline')) {
    parts.push('Back online. Synced.');
  }
  const newlyRefused = next.refused - (settled?.refused ?? 0);
  if (newlyRefused > 0) {
    parts.push(
      `${formatNumber(newlyRefused)} ${newlyRefused === 1 ? 'change was' : 'changes were'} refused by Cleom. Open the outbox to retry or dismiss.`,
    );
  }
  return parts.length > 0 ? parts.join(' ') : null;
}

/** "3 pending", "1 refused". */
export const countLabel = (n: number, what: 'pending' | 'refused'): string => `${formatNumber(n)} ${what}`;

/** A prompt shortened for a one-line description, quoted. */
export function quote(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const short = flat.length > max ? `${flat.slice(0, max - 1).trimEnd()}…` : flat;
  return `“${short}”`;
}

/**
 * An outbox entry in words: "Delete “A fox…”", "Rename to “Ada”", "Turn analytics on",
 * "Generate “…”". `promptOf` gives the prompt of a known generation.
 */
export function describeAction(entry: OutboxEntry, promptOf: (id: string) => string | undefined): string {
  const action = entry.action;
  switch (action.kind) {
    case 'deleteGeneration': {
      const prompt = promptOf(action.generationId);
      return prompt !== undefined ? `Delete ${quote(prompt)}` : `Delete generation ${action.generationId}`;
    }
    case 'setProfileField':
      if (action.change.field === 'displayName') {
        const name = action.change.value;
        return name === null || name.trim() === '' ? 'Remove the display name' : `Rename to ${quote(name)}`;
      }
      if (action.change.field === 'analyticsOptIn') {
        return action.change.value ? 'Turn analytics on' : 'Turn analytics off';
      }
      return 'Change the profile';
    case 'createGeneration':
      return `Generate ${quote(action.request.prompt)}`;
    default:
      return 'An unknown change';
  }
}

/** The state of an entry in words. */
export function describeEntryState(entry: OutboxEntry): string {
  if (entry.state === 'refused') return 'Refused by Cleom';
  if (entry.attempts > 0) {
    return `Waiting to send (tried ${formatNumber(entry.attempts)} ${entry.attempts === 1 ? 'time' : 'times'})`;
  }
  return 'Waiting to send';
}

/** The entries as the panel lists them: refused ones first (they need the user), then in send order. */
export function orderOutbox(entries: readonly OutboxEntry[]): OutboxEntry[] {
  const refused = entries.filter((e) => e.state === 'refused');
  const pending = entries.filter((e) => e.state !== 'refused');
  const bySeq = (a: OutboxEntry, b: OutboxEntry) => a.seq - b.seq;
  return [...refused.sort(bySeq), ...pending.sort(bySeq)];
}

/**
 * The next online flag after a sync-state report. `offline` means unreachable;
 * a completed sync (idle) proves the backend is reachable; others leave it unchanged.
 */
export function onlineAfterSync(online: boolean, sync: SyncState): boolean {
  if (sync.state === 'offline') return false;
  if (sync.state === 'idle') return true;
  if (sync.state === 'error' && sync.error?.code === Code.networkUnreachable) return false;
  return online;
}

/** The next online flag after a failed command. */
export function onlineAfterError(online: boolean, error: AppError): boolean {
  return error.code === Code.networkUnreachable ? false : online;
}
