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
};

export type AppStatus = {
  keychain: KeychainState;
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
};

export type LibraryCursor = { createdAt: string; id: string };

export type LibraryPage = { items: GenerationView[]; next: LibraryCursor | null };

export type SyncState = {
  state: 'idle' | 'syncing' | 'offline' | 'error';
  lastSyncAt: string | null;
  error: AppError | null;
  pending: number;
};

export type ExportResult = { path: string; folder: string; files: number; bytes: number };

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
