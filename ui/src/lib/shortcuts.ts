// The app's keyboard shortcuts: one table drives both the key handling and the help sheet,
// so what the sheet lists is exactly what works.

export type Action = 'new-generation' | 'search' | 'go-library' | 'go-studio' | 'help' | 'account' | 'sync' | 'delete';

export type Shortcut = {
  action: Action;
  /** Shown in the help sheet, e.g. "Ctrl+N". */
  keys: string;
  description: string;
  /** Matches a keydown event. */
  matches: (e: KeyLike) => boolean;
  /** Also works while typing in a text field. */
  whileTyping: boolean;
};

export type KeyLike = {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
};

const ctrl = (e: KeyLike) => (e.ctrlKey || e.metaKey) && !e.altKey;
const plain = (e: KeyLike) => !e.ctrlKey && !e.metaKey && !e.altKey;

export const SHORTCUTS: Shortcut[] = [
  {
    action: 'new-generation',
    keys: 'Ctrl+N',
    description: 'New generation: go to the prompt',
    matches: (e) => ctrl(e) && !e.shiftKey && e.key.toLowerCase() === 'n',
    whileTyping: true,
  },
  {
    action: 'search',
    keys: 'Ctrl+F or /',
    description: 'Search the Library',
    matches: (e) => (ctrl(e) && !e.shiftKey && e.key.toLowerCase() === 'f') || (plain(e) && e.key === '/'),
    whileTyping: false,
  },
  {
    action: 'go-library',
    keys: 'Ctrl+L',
    description: 'Go to the Library (then arrows, Page Up/Down, Home/End move between clips)',
    matches: (e) => ctrl(e) && !e.shiftKey && e.key.toLowerCase() === 'l',
    whileTyping: true,
  },
  {
    action: 'go-studio',
    keys: 'Ctrl+E',
    description: 'Go to the Studio',
    matches: (e) => ctrl(e) && !e.shiftKey && e.key.toLowerCase() === 'e',
    whileTyping: true,
  },
  {
    action: 'delete',
    keys: 'Delete',
    description: 'Delete the selected generations, or the focused or open one (asks first)',
    matches: (e) => plain(e) && e.key === 'Delete',
    whileTyping: false,
  },
  {
    action: 'sync',
    keys: 'Ctrl+R',
    description: 'Sync now',
    matches: (e) => ctrl(e) && !e.shiftKey && e.key.toLowerCase() === 'r',
    whileTyping: true,
  },
  {
    action: 'account',
    keys: 'Ctrl+,',
    description: 'Account and privacy',
    matches: (e) => ctrl(e) && e.key === ',',
    whileTyping: true,
  },
  {
    action: 'help',
    keys: '? or F1',
    description: 'Show these shortcuts',
    matches: (e) => (plain(e) && e.key === '?') || (e.key === 'F1' && !e.ctrlKey && !e.metaKey && !e.altKey),
    whileTyping: false,
  },
];

/** Ctrl+Enter (generate) works inside the prompt; it is handled there and listed here. */
export const FIXED_KEYS: { keys: string; description: string }[] = [
  { keys: 'Ctrl+Enter', description: 'Generate (in the prompt)' },
  { keys: 'Enter', description: 'Open the details of the focused clip' },
  { keys: 'Space', description: 'Select or unselect the focused clip (Shift+Space: select up to it)' },
  { keys: 'Ctrl+click / Shift+click', description: 'Select a clip / select a range of clips' },
  { keys: 'Down arrow', description: 'From the search field: go to the results' },
  { keys: 'Esc', description: 'Close a dialog, or clear the search' },
  { keys: 'Tab / Shift+Tab', description: 'Move between controls' },
];

/** True when keys typed now go into a text field (so plain-key shortcuts stay out of the way). */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) {
    return !['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'file', 'color'].includes(target.type);
  }
  return false;
}

/**
 * The action for a keydown, or null. `available` says which actions the app can perform now
 * (e.g. no search field yet): unavailable ones do not swallow their keys.
 */
export function actionFor(e: KeyLike, typing: boolean, available: (action: Action) => boolean): Action | null {
  for (const shortcut of SHORTCUTS) {
    if (typing && !shortcut.whileTyping) continue;
    if (shortcut.matches(e) && available(shortcut.action)) return shortcut.action;
  }
  return null;
}
