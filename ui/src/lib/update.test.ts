import { describe, expect, it } from 'vitest';
import { canRetryInstall, describeUpdateProgress, updateFraction, updateHint } from './update';

describe('update panel words', () => {
  it('says how far the download is, with or without a known size', () => {
    expect(describeUpdateProgress({ phase: 'downloading', downloaded: 512, total: 2048 })).toBe(
      'Downloading… 512 B of 2.0 KB',
    );
    expect(describeUpdateProgress({ phase: 'downloading', downloaded: 3 * 1024 * 1024, total: null })).toBe(
      'Downloading… 3.0 MB',
    );
    expect(describeUpdateProgress({ phase: 'verifying', downloaded: 0, total: null })).toBe('Checking the signature…');
    expect(describeUpdateProgress({ phase: 'restarting', downloaded: 0, total: null })).toMatch(/Restarting/);
  });

  it('fills the bar by the bytes downloaded, and not at all when the size is unknown', () => {
    expect(updateFraction({ phase: 'downloading', downloaded: 50, total: 200 })).toBe(0.25);
    expect(updateFraction({ phase: 'downloading', downloaded: 300, total: 200 })).toBe(1);
    expect(updateFraction({ phase: 'downloading', downloaded: 50, total: null })).toBeNull();
    expect(updateFraction({ phase: 'verifying', downloaded: 0, total: null })).toBe(1);
    expect(updateFraction({ phase: 'installing', downloaded: 0, total: null })).toBeNull();
  });

  it('explains a bad signature and never offers to retry an install this copy cannot do', () => {
    expect(updateHint({ code: 'update.bad_signature', message: 'x' })).toMatch(/never installed/);
    expect(updateHint({ code: 'update.unreachable', message: 'x' })).toMatch(/Nothing was downloaded/);
    expect(updateHint({ code: 'something.else', message: 'x' })).toBeNull();
    expect(canRetryInstall({ code: 'update.not_installed', message: 'x' })).toBe(false);
    expect(canRetryInstall({ code: 'update.bad_signature', message: 'x' })).toBe(true);
  });
});
