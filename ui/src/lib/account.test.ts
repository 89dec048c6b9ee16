import { describe, expect, it } from 'vitest';
import { formatMoney, formatSigned, ledgerTotals, newestFirst, parseDisplayName, reasonLabel } from './account';
import type { LedgerEntry } from './generated';

const entry = (amount: number, createdAt: string, reason = 'generation'): LedgerEntry => ({
  id: createdAt,
  amount,
  reason,
  generationId: null,
  balanceAfter: 0,
  createdAt,
  updatedAt: createdAt,
});

describe('account view logic', () => {
  it('parses a display name', () => {
    expect(parseDisplayName('  Ada  ')).toEqual({ name: 'Ada', error: null });
    expect(parseDisplayName('   ')).toEqual({ name: null, error: null });
    expect(parseDisplayName('x'.repeat(101)).error).toContain('at most 100');
    expect(parseDisplayName('é'.repeat(100)).error).toBeNull();
  });

  it('says ledger reasons in words', () => {
    expect(reasonLabel('signup_grant')).toBe('Welcome credits');
    expect(reasonLabel('generation')).toBe('Generation');
    expect(reasonLabel('refund')).toBe('Refund for a failed generation');
    expect(reasonLabel('promo_bonus')).toBe('Promo bonus');
    expect(reasonLabel('')).toBe('Other');
  });

  it('formats signed amounts and prices', () => {
    expect(formatSigned(2000)).toBe('+2,000');
    expect(formatSigned(-700)).toBe('−700');
    expect(formatSigned(0)).toBe('0');
    expect(formatMoney(999, 'USD')).toBe('$9.99');
    expect(formatMoney(500, 'JPY')).toBe('¥500');
    expect(formatMoney(1234, 'XX')).toBe('12.34 XX');
  });

  it('orders newest first and totals', () => {
    const list = [entry(2000, '2025-01-01T00:00:00Z', 'signup_grant'), entry(-700, '2025-01-02T00:00:00Z'), entry(700, '2025-01-02T00:00:00Z', 'refund')];
    expect(newestFirst(list).map((e) => e.amount)).toEqual([700, -700, 2000]);
    expect(ledgerTotals(list)).toEqual({ received: 2700, spent: 700 });
  });
});
