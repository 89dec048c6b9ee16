import { describe, expect, it } from 'vitest';
import { SHORTCUTS, actionFor, isTyping, type KeyLike } from './shortcuts';

const key = (k: string, mods: Partial<KeyLike> = {}): KeyLike => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  shiftKey: false,
  ...mods,
});
const all = () => true;

describe('shortcuts', () => {
  it('maps keys to actions', () => {
    expect(actionFor(key('n', { ctrlKey: true }), false, all)).toBe('new-generation');
    expect(actionFor(key('N', { metaKey: true }), false, all)).toBe('new-generation');
    expect(actionFor(key('/'), false, all)).toBe('search');
    expect(actionFor(key('f', { ctrlKey: true }), false, all)).toBe('search');
    expect(actionFor(key('l', { ctrlKey: true }), false, all)).toBe('go-library');
    expect(actionFor(key('?', { shiftKey: true }), false, all)).toBe('help');
    expect(actionFor(key('F1'), false, all)).toBe('help');
    expect(actionFor(key('Delete'), false, all)).toBe('delete');
    expect(actionFor(key('x'), false, all)).toBeNull();
  });

  it('leaves plain keys to text fields but keeps Ctrl shortcuts', () => {
    expect(actionFor(key('/'), true, all)).toBeNull();
    expect(actionFor(key('?'), true, all)).toBeNull();
    expect(actionFor(key('Delete'), true, all)).toBeNull();
    expect(actionFor(key('n', { ctrlKey: true }), true, all)).toBe('new-generation');
  });

  it('does not swallow the keys of an action the app cannot perform now', () => {
    expect(actionFor(key('f', { ctrlKey: true }), false, (a) => a !== 'search')).toBeNull();
  });

  it('knows when keys go into a text field', () => {
    const text = document.createElement('input');
    const box = document.createElement('input');
    box.type = 'checkbox';
    expect(isTyping(text)).toBe(true);
    expect(isTyping(document.createElement('textarea'))).toBe(true);
    expect(isTyping(box)).toBe(false);
    expect(isTyping(document.createElement('button'))).toBe(false);
    expect(isTyping(null)).toBe(false);
  });

  it('lists every shortcut with keys and a description', () => {
    for (const s of SHORTCUTS) {
      expect(s.keys).not.toBe('');
      expect(s.description).not.toBe('');
    }
  });
});
