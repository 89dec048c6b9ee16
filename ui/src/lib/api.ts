// The ONLY module that talks to Rust. Every command is a typed wrapper around `invoke`;
// every event a typed wrapper around `listen`. Rejections are normalised to AppError.

import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { toAppError } from './errors';
import type {
  AccessReport,
  AccountView,
  AppStatus,
  DeletionReceipt,
  Estimate,
  ExportProgress,
  ExportResult,
  FacetCounts,
  GenerationView,
  LedgerEntry,
  LibraryItemView,
  LibraryPage,
  LibraryQuery,
  LinkView,
  OutboxEntry,
  Purchase,
  Reference,
  SavedClipLocation,
  Settings,
  SignedOutPayload,
  SyncProgress,
  SyncState,
  UpdateOffer,
  UpdateProgress,
  UpdateStatus,
} from './generated';

// The shapes of this module's own making. The types that cross IPC are generated from the Rust
// types into ./generated (see README, Tests); these only narrow them per call, or name an
// argument object whose Rust side is plain parameters.

/**
 * `export_data`'s optional arguments. `password` (not empty) makes an AES-256 zip whose file
 * names carry no prompts; the UI asks for at least 8 characters, typed twice. `ids` (a Library
 * selection) exports only those generations, with the profile, credit history and purchases.
 */
export type ExportOptions = { includeVideos?: boolean; password?: string; ids?: string[] };

async function call<T>(command: string, args: Record<string, unknown> = {}): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    throw toAppError(error);
  }
}

export const api = {
  appStatus: () => call<AppStatus>('app_status'),
  signUp: (email: string, password: string) => call<AccountView>('sign_up', { email, password }),
  signIn: (email: string, password: string) => call<AccountView>('sign_in', { email, password }),
  signOut: () => call<null>('sign_out'),
  estimate: (settings: Settings, references: Reference[] = []) =>
    call<Estimate>('estimate', { settings, references }),
  generate: (prompt: string, settings: Settings, references: Reference[] = []) =>
    call<GenerationView>('generate', { prompt, settings, references }),
  /** The Studio's saved draft (JSON), kept in the encrypted store. */
  draft: () => call<string | null>('draft'),
  saveDraft: (draft: string) => call<null>('save_draft', { draft }),
  /** Passphrase mode (no OS keychain): choose the passphrase, or enter it after a start. */
  setUpPassphrase: (passphrase: string) => call<null>('set_up_passphrase', { passphrase }),
  /** The account the passphrase unlocked (the last session), or null: then sign in. */
  unlockWithPassphrase: (passphrase: string) =>
    call<AccountView | null>('unlock_with_passphrase', { passphrase }),
  /** The Library painted its first page (logged once, as the start-up time; the first sync waits for it). */
  libraryShown: () => call<null>('library_shown'),
  /**
   * A page of the Library for a search, filters and a sort (the default view, everything newest
   * first, is a query with none of them); page on with `after: page.next`.
   */
  library: (query: LibraryQuery) => call<LibraryPage>('library', { query }),
  /** How many generations each filter value would show under `query`. */
  libraryCounts: (query: LibraryQuery) => call<FacetCounts>('library_counts', { query }),
  /** One generation with its poster, or null when it is gone. */
  libraryItem: (id: string) => call<LibraryItemView | null>('library_item', { id }),
  thumbnail: (id: string) => call<string | null>('thumbnail', { id }),
  syncNow: () => call<SyncState>('sync_now'),
  /**
   * The one-click export; progress arrives as `export-progress` events. `options.ids` exports
   * only those generations (a Library selection). Rejects with `export.busy` while one runs.
   */
  exportData: (options: ExportOptions = {}) => call<ExportResult>('export_data', { ...options }),
  /** Stop the running export (it then rejects with `export.canceled`); false if none ran. */
  cancelExport: () => call<boolean>('cancel_export'),
  /** Reveal a file the app saved (an export, a clip) in Finder, Explorer or the file manager. */
  showInFolder: (path: string) => call<null>('show_in_folder', { path }),
  /** "Everything we store about you": this device, the server, the keychain (names only). */
  accessReport: () => call<AccessReport>('access_report'),
  /** Ends every other session of the account (the password is checked first); → how many. */
  signOutEverywhereElse: (password: string) => call<number>('sign_out_everywhere_else', { password }),
  /** "Download": the clip saved into the export folder (never overwrites; resumes). */
  saveClip: (id: string) => call<SavedClipLocation>('save_clip', { id }),
  /** "Download to…": the system's folder picker, then the clip saved there; null if cancelled. */
  saveClipTo: (id: string) => call<SavedClipLocation | null>('save_clip_to', { id }),
  /** "Open": the clip opened in the system's default app. */
  openClip: (id: string) => call<SavedClipLocation>('open_clip', { id }),
  /** Send a verification link to `newEmail`; the address changes when it is followed. */
  requestEmailChange: (password: string, newEmail: string) =>
    call<null>('request_email_change', { password, newEmail }),
  /** "Forgot password?": a reset link is emailed (the answer is the same for any address). */
  sendPasswordReset: (email: string) => call<null>('send_password_reset', { email }),
  /**
   * The cleom:// link that arrived and is not done, or null. A link that cannot be opened
   * rejects once with its `link.*` code.
   */
  pendingLink: () => call<LinkView | null>('pending_link'),
  dismissLink: () => call<null>('dismiss_link'),
  /** The pending reset link's code sets `newPassword`; then signed in with it. */
  resetPassword: (newPassword: string) => call<AccountView>('reset_password', { newPassword }),
  /** The pending verification link is applied: the new sign-in email (every session ends). */
  verifyEmailChange: () => call<string>('verify_email_change'),
  /** Change the password; this device stays signed in. */
  changePassword: (currentPassword: string, newPassword: string) =>
    call<null>('change_password', { currentPassword, newPassword }),
  /**
   * Remove this device's copy (local history and its key; the account stays): the account
   * with an empty history the sync refills, or null when the session is gone too.
   */
  resetLocalCopy: () => call<AccountView | null>('reset_local_copy'),
  deleteAccount: (password: string) => call<DeletionReceipt>('delete_account', { password }),
  /** "Save the receipt": the last account deletion's receipt as a text file → its path. */
  saveReceipt: () => call<string>('save_receipt'),
  /** Delete generations here at once and queue the deletes for Cleom; how many were queued. */
  deleteGenerations: (ids: string[]) => call<number>('delete_generations', { ids }),
  /**
   * "Delete all history": every generation here at once, queued for Cleom; how many. A
   * `library-changed` event follows. The account, credits and credit history stay.
   */
  deleteAllHistory: () => call<number>('delete_all_history'),
  /** Change the display name (null or blank: none); applied here at once, sent with the next sync. */
  setDisplayName: (name: string | null) => call<null>('set_display_name', { name }),
  setAnalyticsOptIn: (on: boolean) => call<null>('set_analytics_opt_in', { on }),
  /** Every action waiting for Cleom or refused by it, in the order they are sent. */
  outbox: () => call<OutboxEntry[]>('outbox'),
  /** Send a refused action again; false when there is no such refused action. */
  retryAction: (seq: number) => call<boolean>('retry_action', { seq }),
  /** Drop a refused action; false when there is no such refused action. */
  dismissAction: (seq: number) => call<boolean>('dismiss_action', { seq }),
  /** The credit ledger, oldest first. */
  ledger: () => call<LedgerEntry[]>('ledger'),
  /** The purchases, oldest first. */
  purchases: () => call<Purchase[]>('purchases'),
  /** This version, the update found by the last check, or why this build has no updates. */
  updateStatus: () => call<UpdateStatus>('update_status'),
  /** Ask the update server: a newer version, or null when this is the latest. */
  checkForUpdate: () => call<UpdateOffer | null>('check_for_update'),
  /**
   * Download the offered update, check its signature, install it and restart into it; progress
   * arrives as `update-progress` events. Resolves just before the app restarts.
   */
  installUpdate: () => call<null>('install_update'),
};

/**
 * Subscribe to a backend event. Returns a synchronous unsubscribe function (safe to call
 * before `listen` has resolved), which suits Svelte's `onMount`/`$effect` cleanups.
 */
function subscribe<T>(event: string, handler: (payload: T) => void): () => void {
  let unlisten: (() => unknown) | null = null;
  let disposed = false;
  // Tauri's unlisten is async; a failure to unregister is harmless, so it is swallowed.
  const stop = (fn: () => unknown) => Promise.resolve().then(fn).catch(() => {});
  listen<T>(event, (e) => handler(e.payload)).then(
    (fn) => {
      if (disposed) void stop(fn);
      else unlisten = fn;
    },
    (error: unknown) => console.error(`cannot listen to ${event}`, error),
  );
  return () => {
    disposed = true;
    if (unlisten) void stop(unlisten);
    unlisten = null;
  };
}

export const events = {
  /** The local library changed: reload the visible page and missing thumbnails. */
  onLibraryChanged: (handler: () => void) => subscribe<null>('library-changed', () => handler()),
  /** The account changed (e.g. a new credit balance). */
  onAccountChanged: (handler: (account: AccountView) => void) =>
    subscribe<AccountView>('account-changed', handler),
  onSyncState: (handler: (state: SyncState) => void) => subscribe<SyncState>('sync-state', handler),
  /** What a running sync is doing (phase, pages, items). */
  onSyncProgress: (handler: (progress: SyncProgress) => void) =>
    subscribe<SyncProgress>('sync-progress', handler),
  /** What the running export is doing (items of the step, bytes so far). */
  onExportProgress: (handler: (progress: ExportProgress) => void) =>
    subscribe<ExportProgress>('export-progress', handler),
  /** A cleom:// link arrived: ask `api.pendingLink()` what it is. */
  onLinkOpened: (handler: () => void) => subscribe<null>('link-opened', () => handler()),
  /** The session ended outside the UI's control: back to sign-in, showing the reason. */
  onSignedOut: (handler: (payload: SignedOutPayload) => void) =>
    subscribe<SignedOutPayload>('signed-out', handler),
  /** The start-up check found a newer version (failures of that check stay silent). */
  onUpdateAvailable: (handler: (offer: UpdateOffer) => void) => subscribe<UpdateOffer>('update-available', handler),
  /** What the running update is doing: downloading (bytes so far), verifying, installing, restarting. */
  onUpdateProgress: (handler: (progress: UpdateProgress) => void) =>
    subscribe<UpdateProgress>('update-progress', handler),
};
