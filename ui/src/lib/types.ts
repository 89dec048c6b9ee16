// The shapes exchanged with the Rust side (see src-tauri commands). Field names are the
// camelCase that Tauri/serde produce. Keep in step with the Rust `*View` types.

/** A failed command rejects with this. Switch on `code`; show `message`. */
export type AppError = { code: string; message: string };

export type KeychainState =
  | { state: 'available' }
  | { state: 'locked' }
  | { state: 'unavailable'; reason: string }
  /** No usable OS keychain: the keys are protected by a passphrase chosen on this device. */
  | { state: 'passphrase'; setUp: boolean; unlocked: boolean; reason: string | null };

export type AccountView = {
  uid: string;
  email: string;
  displayName: string | null;
  creditBalance: number;
  /** Anonymous feature counts may be sent (off unless the user turned it on). */
  analyticsOptIn: boolean;
};

export type AppStatus = {
  /** Null while an account is signed in: only the sign-in screen shows it. */
  keychain: KeychainState | null;
  backend: { kind: 'embedded' | 'remote'; url: string };
  account: AccountView | null;
  online: boolean;
};

export type Resolution = '1080p' | '2k' | '4k';

export type VoiceOver = { language: string; voice: string; script: string | null };

export type AspectRatio = '16:9' | '9:16' | '1:1' | '21:9' | '4:3';
export type Subject = 'Person' | 'Product' | 'Landscape' | 'Abstract';
export type Pacing = 'Slow' | 'Normal' | 'Fast';

export type Settings = {
  durationSeconds: number;
  resolution: Resolution;
  aspectRatio: AspectRatio;
  stylePreset: string | null;
  subject: Subject | null;
  pacing: Pacing | null;
  voiceOver: VoiceOver | null;
  music: boolean;
  subtitles: boolean;
};

export type ReferenceKind = 'image' | 'video';

/** A file attached in the Studio: its metadata (the bytes are not sent in this version). */
export type Reference = { name: string; kind: ReferenceKind; sizeBytes: number };

export type Mode = 'text_to_video' | 'image_to_video' | 'video_to_video';

export type EstimateLine = { label: string; perSecond: number };

export type Estimate = {
  total: number;
  perSecond: number;
  durationSeconds: number;
  lines: EstimateLine[];
};

export type Status = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';

export type GenerationView = {
  id: string;
  prompt: string;
  mode: string;
  settings: Settings;
  status: Status;
  /** 0..1 */
  progress: number;
  creditsCharged: number;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  hasThumbnail: boolean;
  /** What the clip is, to play it from `clipSource(id)`: an animated image, a video, or none yet. */
  clipKind?: 'image' | 'video' | null;
  /** Where the clip was saved on this device (set by the Library commands). */
  download?: Download | null;
  /** The matching passage when the page answered a search (rendered as text, never HTML). */
  snippet?: SnippetPart[] | null;
};

/** One piece of a search snippet: matched words have `highlighted` set. */
export type SnippetPart = { text: string; highlighted: boolean };

export type Download = { path: string; savedAt: string };

export type LibraryCursor = { createdAt: string; id: string };

export type LibraryPage = { items: GenerationView[]; next: LibraryCursor | null };

/** The Library's orders (ties go to the newer generation). */
export type Sort = 'newestFirst' | 'oldestFirst' | 'mostCredits' | 'longestFirst';

/** Filters AND together; the values inside one list OR; an empty list does not filter. */
export type LibraryFilters = {
  statuses?: Status[];
  modes?: Mode[];
  resolutions?: Resolution[];
  aspectRatios?: AspectRatio[];
  /** Style presets; null = no style. */
  styles?: (string | null)[];
  /** RFC 3339, inclusive. */
  createdFrom?: string;
  /** RFC 3339, exclusive. */
  createdTo?: string;
  /** Only clips saved on this device (true) or not (false). */
  hasDownload?: boolean;
};

/** The `query` argument of the `library` and `library_counts` commands. */
export type LibraryQuery = {
  text?: string;
  filters?: LibraryFilters;
  sort?: Sort;
  /** 1–500, default 50. */
  limit?: number;
  /** The previous page's `next` (opaque; same sort only). */
  after?: string;
};

/** A page of a query: `next` is opaque, null on the last page. */
export type QueryPage = { items: GenerationView[]; next: string | null };

export type FacetCount<T> = { value: T; count: number };

/**
 * How many generations each filter value would show (every value listed, zeros included);
 * `total` matches the whole query.
 */
export type FacetCounts = {
  total: number;
  statuses: FacetCount<Status>[];
  modes: FacetCount<Mode>[];
  resolutions: FacetCount<Resolution>[];
  aspectRatios: FacetCount<AspectRatio>[];
  /** The presets in the Studio's order, other styles found, then null (no style). */
  styles: FacetCount<string | null>[];
  hasDownload: FacetCount<boolean>[];
};

/** One generation with its poster (a `data:` URL), for the detail view. */
export type LibraryItemView = GenerationView & { thumbnail: string | null };

export type SyncState = {
  state: 'idle' | 'syncing' | 'offline' | 'error';
  /** The last successful sync. */
  lastSyncAt: string | null;
  error: AppError | null;
  /** Actions done on this device that wait to be sent. */
  pending: number;
  /** Actions the server refused (kept until retried or dismissed). */
  failed?: number;
};

/** What a running sync is doing (the `sync-progress` event). */
export type SyncPhase = 'sending' | 'generations' | 'creditLedger' | 'purchases' | 'thumbnails';
export type SyncProgress = { phase: SyncPhase; pages: number; items: number };

/** A profile field change as queued in the outbox. */
export type ProfileChange =
  | { field: 'displayName'; value: string | null }
  | { field: 'analyticsOptIn'; value: boolean };

/** A request for a generation composed while Cleom could not be reached. */
export type GenerationRequest = { id: string; prompt: string; settings: Settings; references?: Reference[] };

export type OutboxAction =
  | { kind: 'deleteGeneration'; generationId: string }
  | { kind: 'setProfileField'; change: ProfileChange }
  | { kind: 'createGeneration'; request: GenerationRequest };

/** Why the server refused an action. */
export type Refusal = { code: string; message: string };

/** An action waiting for Cleom (`pending`) or refused by it (`failed`). */
export type OutboxEntry = {
  /** The order actions are sent in. */
  seq: number;
  id: string;
  action: OutboxAction;
  createdAt: string;
  state: 'pending' | 'failed';
  attempts: number;
  refusal: Refusal | null;
};

/** One movement of credits: positive received, negative spent. */
export type LedgerEntry = {
  id: string;
  amount: number;
  /** e.g. `signup_grant`, `generation`, `refund`, `purchase`. */
  reason: string;
  generationId: string | null;
  balanceAfter: number;
  createdAt: string;
  updatedAt: string;
};

/** A purchase of credits; `amountCents` in the currency's smallest unit. */
export type Purchase = {
  id: string;
  credits: number;
  amountCents: number;
  currency: string;
  createdAt: string;
  updatedAt: string;
};

/** What an export holds (`manifest.json` records the same). */
export type ExportCounts = {
  generations: number;
  creditLedgerEntries: number;
  purchases: number;
  thumbnails: number;
  videos: number;
  mediaFiles: number;
};

export type ExportResult = {
  path: string;
  folder: string;
  files: number;
  bytes: number;
  counts?: ExportCounts;
  encrypted?: boolean;
};

/** What an export is doing: `items` are clips (downloading, videos) or generations. */
export type ExportStep = 'downloading' | 'generations' | 'videos' | 'finishing';

/** The `export-progress` event: items of the current step, bytes of the whole export. */
export type ExportProgress = {
  step: ExportStep;
  itemsDone: number;
  itemsTotal: number;
  bytesDownloaded: number;
  bytesWritten: number;
};

/**
 * `export_data`'s optional arguments. `password` (not empty) makes an AES-256 zip whose file
 * names carry no prompts; the UI asks for at least 8 characters, typed twice. `ids` (a Library
 * selection) exports only those generations, with the profile, credit history and purchases.
 */
export type ExportOptions = { includeVideos?: boolean; password?: string; ids?: string[] };

/** Where `save_clip` / `open_clip` put a clip; `folder` is for "Show in folder". */
export type SavedClipLocation = { path: string; folder: string };

/** The account's profile document (as synced, or as the server holds it now). */
export type Profile = {
  uid: string;
  email: string;
  displayName: string | null;
  creditBalance: number;
  analyticsOptIn: boolean;
  createdAt: string;
  updatedAt: string;
};

/** A clip saved on this device, and where. */
export type SavedClip = { generationId: string; path: string };

/** How much of the account's data a place holds. */
export type Holdings = {
  generations: number;
  thumbnails: number;
  thumbnailBytes: number;
  ledgerEntries: number;
  purchases: number;
  savedClips: SavedClip[];
};

/** A keychain entry by name: what it is for and whether it is there — never its value. */
export type KeychainEntry = { name: string; purpose: string; present: boolean };

/** "Everything we store about you" (`access_report`). */
export type AccessReport = {
  uid: string;
  email: string;
  /** The profile as last synced. */
  profile: Profile | null;
  onThisDevice: Holdings & {
    databasePath: string;
    databaseBytes: number;
    keychainLocation: string;
    keychainEntries: KeychainEntry[];
    pendingActions: number;
    refusedActions: number;
  };
  onTheServer: {
    /** The profile as the server holds it now; null when it could not be asked (`error`). */
    profile: Profile | null;
    error: string | null;
    asOfLastSync: Holdings;
  };
};

export type DeletionReceipt = {
  email: string;
  deletedAt: string;
  removed: {
    generations: number;
    ledgerEntries: number;
    purchases: number;
    mediaFiles: number;
    localFiles: number;
    keychainEntries: number;
  };
};

export type SignedOutPayload = { reason: string };

/** A link from Cleom's emails that arrived and is not done yet (its code stays in Rust). */
export type LinkView = { action: 'resetPassword' | 'verifyEmail' };

/** A newer version the update server offers (`check_for_update`, `update-available`). */
export type UpdateOffer = {
  version: string;
  currentVersion: string;
  /** Release notes, plain text. */
  notes: string | null;
  /** When it was published (RFC 3339). */
  date: string | null;
};

/** What the update panel shows when it opens (`update_status`). */
export type UpdateStatus = {
  currentVersion: string;
  /** The update found by the last check (the start-up one included). */
  offer: UpdateOffer | null;
  /** Why this build does not look for updates (`update.not_configured`, `config.*`). */
  unavailable: AppError | null;
};

export type UpdatePhase = 'downloading' | 'verifying' | 'installing' | 'restarting';

/** An update under way (`update-progress`). `total` is null when the server sent no length. */
export type UpdateProgress = {
  phase: UpdatePhase;
  downloaded: number;
  total: number | null;
};
