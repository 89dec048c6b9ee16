// Whether Cleom can be reached and how the background sync stands, as the whole main screen
// shares them: the top bar's indicator draws them, the Studio re-prices when the connection
// comes back, and any failed command that means "unreachable" flips the app to offline. Kept
// here so the screen only wires it to its pieces, and so it can be tested without a window.

import { api, events } from './api';
import { Code, toAppError } from './errors';
import { describeSync, onlineAfterError, onlineAfterSync } from './sync';
import type { AppError, SyncPhase, SyncProgress, SyncState } from './generated';

/** How often the indicator's "Synced 5 min ago" is brought up to date. */
const CLOCK_MS = 30_000;

const emptySync = (): SyncState => ({ state: 'idle', lastSyncAt: null, error: null, pending: 0, refused: 0, unreadable: 0, unreadableReason: null });

export class SyncStatus {
  online = $state(true);
  /** The last state the sync reported, or null before the first. */
  sync = $state.raw<SyncState | null>(null);
  /** A sync the user asked for is running. */
  syncing = $state(false);
  /** What the running sync is doing (cleared when it ends). */
  progress = $state.raw<SyncProgress | null>(null);
  #now = $state(Date.now());

  /** The phase shown (for the indicator's data-state): syncing while a requested sync runs. */
  readonly phase: SyncPhase = $derived(this.syncing ? 'syncing' : (this.sync?.state ?? 'idle'));
  readonly display = $derived(
    describeSync(this.syncing ? { ...(this.sync ?? emptySync()), state: 'syncing' } : this.sync, this.online, this.#now),
  );

  constructor(online: boolean) {
    this.online = online;
  }

  /** Any failed command that means "unreachable" flips the app to offline. */
  readonly noteError = (error: AppError) => {
    this.online = onlineAfterError(this.online, error);
  };

  /** Sync now (Retry, or the shortcut); a failure is shown as the sync's state. */
  readonly retry = async () => {
    this.syncing = true;
    try {
      this.#apply(await api.syncNow());
    } catch (e) {
      const error = toAppError(e);
      this.noteError(error);
      this.#apply({
        ...(this.sync ?? emptySync()),
        state: error.code === Code.networkUnreachable ? 'offline' : 'error',
        error,
      });
    } finally {
      this.syncing = false;
    }
  };

  /** Follow the sync's state and progress, and the clock; returns what stops it. */
  start(): () => void {
    const stops = [
      events.onSyncState((next) => this.#apply(next)),
      events.onSyncProgress((next) => (this.progress = next)),
    ];
    const clock = setInterval(() => (this.#now = Date.now()), CLOCK_MS);
    return () => {
      stops.forEach((stop) => stop());
      clearInterval(clock);
    };
  }

  #apply(next: SyncState) {
    this.sync = next;
    if (next.state !== 'syncing') this.progress = null;
    this.online = onlineAfterSync(this.online, next);
  }
}
