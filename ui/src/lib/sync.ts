// Pure logic for the header's sync indicator and the online/offline state.

import { Code } from './errors';
import { formatNumber, formatRelative } from './format';
import type { AppError, SyncState } from './types';

export type SyncDisplay = {
  tone: 'ok' | 'busy' | 'offline' | 'error';
  label: string;
  /** Extra detail (the last error's message), or null. */
  detail: string | null;
  /** Show a Retry button (calls sync_now). */
  canRetry: boolean;
};

function pendingSuffix(pending: number): string {
  return pending > 0 ? ` · ${formatNumber(pending)} pending` : '';
}

export function describeSync(sync: SyncState | null, online: boolean, now: number): SyncDisplay {
  const pending = pendingSuffix(sync?.pending ?? 0);
  const last = sync?.lastSyncAt ? `Last synced ${formatRelative(sync.lastSyncAt, now)}` : 'Not synced yet';
  if (sync?.state === 'syncing') {
    return { tone: 'busy', label: `Syncing…${pending}`, detail: null, canRetry: false };
  }
  if (!online || sync?.state === 'offline') {
    return { tone: 'offline', label: `${last}${pending}`, detail: null, canRetry: true };
  }
  if (sync?.state === 'error') {
    return {
      tone: 'error',
      label: `Sync failed${pending}`,
      detail: sync.error?.message ?? null,
      canRetry: true,
    };
  }
  if (sync === null) return { tone: 'ok', label: 'Not synced yet', detail: null, canRetry: false };
  const label = sync.lastSyncAt ? `Synced ${formatRelative(sync.lastSyncAt, now)}` : 'Not synced yet';
  return { tone: 'ok', label: `${label}${pending}`, detail: null, canRetry: false };
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
