// Pure geometry for the Library's virtualised list and grid: which rows are on screen, how
// tall the whole scroll area is, and where keyboard navigation goes. Rows have a fixed
// height, so a list of 100,000 generations costs the same to render as a list of 20.

export type View = 'list' | 'grid';

export type Geometry = {
  /** Pixels from the top of one row to the top of the next (row height + gap). */
  rowPitch: number;
  columns: number;
};

/** List rows and grid cards (keep in step with GenerationItem's CSS heights + gaps). */
export const LIST_PITCH = 124;
export const GRID_PITCH = 252;
export const GRID_MIN_CARD = 220;
export const GRID_GAP = 12;

/** How many cards fit side by side in `width` pixels (at least one). */
export function columnsFor(view: View, width: number): number {
  if (view === 'list' || !Number.isFinite(width) || width <= 0) return 1;
  return Math.max(1, Math.floor((width + GRID_GAP) / (GRID_MIN_CARD + GRID_GAP)));
}

export function geometry(view: View, width: number): Geometry {
  return { rowPitch: view === 'list' ? LIST_PITCH : GRID_PITCH, columns: columnsFor(view, width) };
}

export type Range = {
  /** First item index rendered (inclusive) and last (exclusive). */
  start: number;
  end: number;
  /** Pixels from the top of the scroll area to the first rendered row. */
  offset: number;
  /** Height of the whole scroll area. */
  total: number;
};

/** Without a measured viewport (e.g. before layout, or in tests) this height is assumed. */
export const FALLBACK_VIEWPORT = 720;

export function visibleRange(
  scrollTop: number,
  viewportHeight: number,
  count: number,
  g: Geometry,
  overscanRows = 3,
): Range {
  const rows = Math.ceil(count / g.columns);
  const total = rows * g.rowPitch;
  const height = viewportHeight > 0 ? viewportHeight : FALLBACK_VIEWPORT;
  const top = Math.min(Math.max(0, scrollTop), Math.max(0, total - height));
  const firstRow = Math.max(0, Math.floor(top / g.rowPitch) - overscanRows);
  const lastRow = Math.min(rows, Math.ceil((top + height) / g.rowPitch) + overscanRows);
  return {
    start: Math.min(count, firstRow * g.columns),
    end: Math.min(count, lastRow * g.columns),
    offset: firstRow * g.rowPitch,
    total,
  };
}

/** The scrollTop that brings item `index` fully into view (unchanged if it already is). */
export function scrollToShow(index: number, scrollTop: number, viewportHeight: number, g: Geometry): number {
  const rowTop = Math.floor(index / g.columns) * g.rowPitch;
  const rowBottom = rowTop + g.rowPitch;
  const height = viewportHeight > 0 ? viewportHeight : FALLBACK_VIEWPORT;
  if (rowTop < scrollTop) return rowTop;
  if (rowBottom > scrollTop + height) return Math.max(0, rowBottom - height);
  return scrollTop;
}

/**
 * Where a navigation key moves the focus from `index`, or null for other keys. Arrows move
 * by one item (up/down by a row in the grid), PageUp/PageDown by a screenful, Home/End to the
 * ends of what is loaded.
 */
export function navigate(
  key: string,
  index: number,
  count: number,
  g: Geometry,
  viewportHeight: number,
): number | null {
  if (count === 0) return null;
  const pageRows = Math.max(1, Math.floor((viewportHeight > 0 ? viewportHeight : FALLBACK_VIEWPORT) / g.rowPitch));
  const clamp = (i: number) => Math.min(count - 1, Math.max(0, i));
  switch (key) {
    case 'ArrowDown':
      return clamp(index + g.columns);
    case 'ArrowUp':
      return clamp(index - g.columns);
    case 'ArrowRight':
      return g.columns > 1 ? clamp(index + 1) : null;
    case 'ArrowLeft':
      return g.columns > 1 ? clamp(index - 1) : null;
    case 'PageDown':
      return clamp(index + pageRows * g.columns);
    case 'PageUp':
      return clamp(index - pageRows * g.columns);
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return null;
  }
}

/** Load the next page when the rendered range comes within `rows` rows of the loaded end. */
export function needsMore(range: Range, count: number, g: Geometry, rows = 10): boolean {
  return range.end >= count - rows * g.columns;
}
