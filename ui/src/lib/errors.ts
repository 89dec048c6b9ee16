// Error codes → where and how the UI shows them. The UI switches on `code` only and
// always shows the backend's `message` (never parses it).

import type { AppError } from './generated';

/** Codes the UI treats specially. Anything else is shown as-is where it happened. */
export const Code = {
  invalidCredentials: 'auth.invalid_credentials',
  emailExists: 'auth.email_exists',
  weakPassword: 'auth.weak_password',
  invalidEmail: 'auth.invalid_email',
  requiresRecentLogin: 'auth.requires_recent_login',
  networkUnreachable: 'network.unreachable',
  keychainUnavailable: 'keychain.unavailable',
  keychainLocked: 'keychain.locked',
  passphraseRequired: 'keychain.passphrase_required',
  wrongPassphrase: 'keychain.wrong_passphrase',
  weakPassphrase: 'keychain.weak_passphrase',
  creditsInsufficient: 'credits.insufficient',
  pricingUnavailable: 'pricing.unavailable',
  tooManyAttempts: 'auth.too_many_attempts',
  notSignedIn: 'auth.not_signed_in',
  requestInvalid: 'request.invalid',
  exportCanceled: 'export.canceled',
  exportBusy: 'export.busy',
  invalidActionCode: 'auth.invalid_action_code',
  expiredActionCode: 'auth.expired_action_code',
  /** Produced by the UI itself for a rejection that is not an AppError. */
  unexpected: 'ui.unexpected',
} as const;

export function isAppError(value: unknown): value is AppError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AppError).code === 'string' &&
    typeof (value as AppError).message === 'string'
  );
}

/** Normalise anything a command may reject with into an AppError. */
export function toAppError(value: unknown): AppError {
  if (isAppError(value)) return { code: value.code, message: value.message };
  if (value instanceof Error) return { code: Code.unexpected, message: value.message };
  if (typeof value === 'string' && value !== '') return { code: Code.unexpected, message: value };
  return { code: Code.unexpected, message: 'Something went wrong.' };
}

/** Where a failed action happened. */
export type ErrorContext =
  | 'auth'
  | 'generate'
  | 'estimate'
  | 'library'
  | 'sync'
  | 'export'
  | 'delete'
  | 'sign-out'
  | 'email-change'
  | 'password-change'
  | 'sign-out-others'
  | 'clip'
  | 'access'
  | 'reset-copy';

/** Which alert region shows the message. */
export type Placement =
  | 'auth-form' // #auth-error on the sign-in screen
  | 'generate' // #generate-error next to the Generate button
  | 'estimate' // under the estimate
  | 'library' // #library-error in the Library panel
  | 'sync' // the sync indicator in the header
  | 'account' // the Account dialog (export / sign out)
  | 'delete-dialog' // #delete-error inside the delete confirmation
  | 'email-form' // #change-email-error in Account & Privacy
  | 'password-form' // #change-password-error in Account & Privacy
  | 'sign-out-others-form' // #sign-out-others-error in "Everything we store about you"
  | 'detail' // #detail-clip-error in the generation's detail view
  | 'access' // #access-error in "Everything we store about you"
  | 'reset-copy-dialog'; // #remove-copy-error inside the "remove this device's copy" confirmation

/** `newPassword`: the new password of a password change (`password` is then the current one). */
export type Field = 'email' | 'password' | 'newPassword';

export type PlacedError = {
  code: string;
  placement: Placement;
  /** The backend's message, shown verbatim. */
  message: string;
  /** An extra sentence the UI adds for some codes (what it means, what to do). */
  hint: string | null;
  /** Form fields to mark aria-invalid. */
  fields: Field[];
  /** The error means Cleom can't be reached: show the offline banner and badge. */
  offline: boolean;
};

const KEYCHAIN_HINT: Record<string, string> = {
  [Code.keychainLocked]:
    'Your system keychain is locked. Unlock it (for example by logging in to your desktop session again) and try once more. Cleom keeps your sign-in only in the keychain.',
  [Code.keychainUnavailable]:
    'Cleom could not find a system keychain on this computer, so it has nowhere safe to keep your sign-in. It never stores credentials in plain files.',
};

const DEFAULT_PLACEMENT: Record<ErrorContext, Placement> = {
  auth: 'auth-form',
  generate: 'generate',
  estimate: 'estimate',
  library: 'library',
  sync: 'sync',
  export: 'account',
  delete: 'delete-dialog',
  'sign-out': 'account',
  'email-change': 'email-form',
  'password-change': 'password-form',
  'sign-out-others': 'sign-out-others-form',
  clip: 'detail',
  access: 'access',
  'reset-copy': 'reset-copy-dialog',
};

/** Decide where an error goes and what extra the UI says about it. Pure. */
export function placeError(error: AppError, context: ErrorContext): PlacedError {
  const placed: PlacedError = {
    code: error.code,
    placement: DEFAULT_PLACEMENT[context],
    message: error.message,
    hint: null,
    fields: [],
    offline: error.code === Code.networkUnreachable,
  };

  switch (error.code) {
    case Code.invalidCredentials:
      placed.fields = context === 'auth' ? ['email', 'password'] : ['password'];
      if (context === 'email-change' || context === 'password-change' || context === 'sign-out-others')
        placed.hint = 'Check your current password and try again.';
      break;
    case Code.emailExists:
      placed.fields = ['email'];
      if (context === 'auth') placed.hint = 'Sign in instead, or use another email.';
      if (context === 'email-change') placed.hint = 'Another Cleom account uses that address.';
      break;
    case Code.invalidEmail:
      placed.fields = ['email'];
      break;
    case Code.requestInvalid:
      if (context === 'email-change') placed.fields = ['email'];
      break;
    case Code.weakPassword:
      placed.fields = context === 'password-change' ? ['newPassword'] : ['password'];
      break;
    case Code.tooManyAttempts:
      placed.hint = 'Wait a few minutes before trying again.';
      break;
    case Code.requiresRecentLogin:
      placed.fields = ['password'];
      placed.hint = 'For your safety, enter your password again to confirm.';
      break;
    case Code.keychainLocked:
    case Code.keychainUnavailable:
      placed.hint = KEYCHAIN_HINT[error.code] ?? null;
      break;
    case Code.creditsInsufficient:
      if (context === 'generate') placed.hint = 'Lower the duration or resolution, or buy more credits.';
      break;
    case Code.networkUnreachable:
      if (context === 'generate')
        placed.hint = 'Cleom is unreachable right now. Try again when you are back online.';
      else if (
        context === 'email-change' ||
        context === 'password-change' ||
        context === 'sign-out-others' ||
        context === 'clip'
      )
        placed.hint = 'This needs a connection to Cleom. Try again when you are back online.';
      break;
  }
  return placed;
}
