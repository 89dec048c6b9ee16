// Pure formatting helpers. English UI, so numbers use en-US grouping ("2,000").

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Group an integer count: 2000 → "2,000". Non-finite values show as "—". */
export function formatNumber(value: number): string {
  return Number.isFinite(value) ? integer.format(value) : '—';
}

/** 2000 → "2,000 credits", 1 → "1 credit". */
export function formatCredits(value: number): string {
  return `${formatNumber(value)} ${value === 1 ? 'credit' : 'credits'}`;
}

/** An estimate as shown next to Generate: "700 credits · 70/s". */
export function formatEstimate(total: number, perSecond: number): string {
  return `${formatCredits(total)} · ${formatNumber(perSecond)}/s`;
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

/** 1536 → "1.5 KB" (1024-based, one decimal from KB up). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

// Made once: building an Intl formatter costs far more than using one, and the Library
// formats a date for every row it renders while scrolling.
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** Local date and time, e.g. "Mar 4, 2025, 2:05 PM". Unparseable input is returned as is. */
export function formatDateTime(iso: string): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  return dateTime.format(new Date(time));
}

/** "just now", "5 min ago", "3 h ago", then the date. `now` is injected for testing. */
export function formatRelative(iso: string, now: number): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  const seconds = Math.max(0, Math.round((now - time) / 1000));
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  return formatDateTime(iso);
}

/** 0..1 → "42%" (clamped). */
export function formatPercent(fraction: number): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  return `${Math.round(clamped * 100)}%`;
}
