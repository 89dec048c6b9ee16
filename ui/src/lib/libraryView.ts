// The Library's list-or-grid choice survives a restart; only that choice is kept in
// localStorage (nothing private ever goes there), and a storage that refuses it is no error.

import type { View } from './virtual';

const VIEW_KEY = 'cleom.libraryView';

export function savedView(): View {
  try {
    return localStorage.getItem(VIEW_KEY) === 'grid' ? 'grid' : 'list';
  } catch {
    return 'list';
  }
}

export function saveView(view: View) {
  try {
    localStorage.setItem(VIEW_KEY, view);
  } catch {
    // the choice is simply not remembered
  }
}
