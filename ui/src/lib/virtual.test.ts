import { describe, expect, it } from 'vitest';
import { FALLBACK_VIEWPORT, GRID_PITCH, LIST_PITCH, columnsFor, geometry, navigate, needsMore, scrollToShow, visibleRange } from './virtual';

const list = geometry('list', 800);
const grid = geometry('grid', 3 * 220 + 2 * 12);

describe('columnsFor', () => {
  it('is one for the list and as many cards as fit for the grid', () => {
    expect(columnsFor('list', 2000)).toBe(1);
    expect(columnsFor('grid', 219)).toBe(1);
    expect(columnsFor('grid', 3 * 220 + 2 * 12)).toBe(3);
    expect(columnsFor('grid', 0)).toBe(1);
  });
});

describe('visibleRange', () => {
  it('renders only what is on screen plus a few rows, whatever the count', () => {
    const r = visibleRange(50_000 * LIST_PITCH, 744, 100_000, list);
    expect(r.total).toBe(100_000 * LIST_PITCH);
    expect(r.end - r.start).toBeLessThan(20);
    expect(r.start).toBe(50_000 - 3);
    expect(r.offset).toBe(r.start * LIST_PITCH);
  });

  it('starts at the top and assumes a viewport before layout', () => {
    const r = visibleRange(0, 0, 100, list);
    expect(r.start).toBe(0);
    expect(r.end).toBe(Math.ceil(FALLBACK_VIEWPORT / LIST_PITCH) + 3);
  });

  it('lays the grid out in rows of columns', () => {
    const r = visibleRange(10 * GRID_PITCH, 600, 1000, grid);
    expect(r.start % 3).toBe(0);
    expect(r.offset).toBe((r.start / 3) * GRID_PITCH);
    expect(r.total).toBe(Math.ceil(1000 / 3) * GRID_PITCH);
  });

  it('clamps a scroll position past the end', () => {
    const r = visibleRange(1e9, 600, 10, list);
    expect(r.end).toBe(10);
  });
});

describe('navigation', () => {
  it('moves by item, row, page and to the ends', () => {
    expect(navigate('ArrowDown', 0, 100, list, 620)).toBe(1);
    expect(navigate('ArrowRight', 0, 100, list, 620)).toBeNull();
    expect(navigate('ArrowDown', 1, 100, grid, 620)).toBe(4);
    expect(navigate('ArrowLeft', 0, 100, grid, 620)).toBe(0);
    expect(navigate('PageDown', 0, 100, list, 620)).toBe(5);
    expect(navigate('End', 3, 100, list, 620)).toBe(99);
    expect(navigate('Home', 50, 100, list, 620)).toBe(0);
    expect(navigate('ArrowUp', 0, 100, list, 620)).toBe(0);
    expect(navigate('a', 0, 100, list, 620)).toBeNull();
    expect(navigate('ArrowDown', 0, 0, list, 620)).toBeNull();
  });

  it('scrolls just enough to show an item', () => {
    expect(scrollToShow(0, 500, 600, list)).toBe(0);
    expect(scrollToShow(10, 0, 600, list)).toBe(11 * LIST_PITCH - 600);
    expect(scrollToShow(2, 0, 600, list)).toBe(0);
  });

  it('asks for more when the end is near', () => {
    expect(needsMore(visibleRange(0, 600, 200, list), 200, list)).toBe(false);
    expect(needsMore(visibleRange(195 * LIST_PITCH, 600, 200, list), 200, list)).toBe(true);
  });
});
