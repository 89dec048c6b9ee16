import { describe, expect, it } from 'vitest';
import { MAX_VIDEO_BYTES, addFiles, describeReferences, detectMode, kindOf, sanitizeReferences } from './references';
import type { Reference } from './generated';

const image = (name: string, size = 1000) => ({ name, type: 'image/png', size });
const video = (name: string, size = 1000) => ({ name, type: 'video/mp4', size });
const ref = (kind: 'image' | 'video', name: string = kind, sizeBytes = 10): Reference => ({ name, kind, sizeBytes });

describe('kindOf', () => {
  it('uses the MIME type, then the extension', () => {
    expect(kindOf({ name: 'a', type: 'image/webp', size: 1 })).toBe('image');
    expect(kindOf({ name: 'clip.MOV', type: '', size: 1 })).toBe('video');
    expect(kindOf({ name: 'notes.pdf', type: 'application/pdf', size: 1 })).toBeNull();
  });
});

describe('detectMode', () => {
  it('follows the attached references like the core does', () => {
    expect(detectMode([])).toEqual({ ok: true, mode: 'text_to_video' });
    expect(detectMode(Array(5).fill(ref('image')))).toEqual({ ok: true, mode: 'image_to_video' });
    expect(detectMode([ref('video', 'v', MAX_VIDEO_BYTES)])).toEqual({ ok: true, mode: 'video_to_video' });
  });

  it('explains what cannot be sent', () => {
    expect(detectMode(Array(6).fill(ref('image')))).toMatchObject({ ok: false, problem: expect.stringMatching(/at most 5/i) });
    expect(detectMode([ref('video'), ref('image')])).toMatchObject({ ok: false, problem: expect.stringMatching(/not both/) });
    expect(detectMode([ref('video'), ref('video', 'w')])).toMatchObject({ ok: false, problem: expect.stringMatching(/one source video/) });
    const big = detectMode([ref('video', 'big.mp4', MAX_VIDEO_BYTES + 1)]);
    expect(big).toMatchObject({ ok: false, problem: expect.stringMatching(/50 MB; big\.mp4 is 50\.0 MB/) });
  });
});

describe('addFiles', () => {
  it('adds up to five images and refuses the sixth with a reason', () => {
    const files = ['1', '2', '3', '4', '5', '6'].map((n) => image(`${n}.png`));
    const { references, rejected } = addFiles([], files);
    expect(references).toHaveLength(5);
    expect(references[0]).toEqual({ name: '1.png', kind: 'image', sizeBytes: 1000 });
    expect(rejected).toEqual(['6.png was not added: at most 5 images can be attached.']);
  });

  it('refuses a video over 50 MB, a second video and mixing', () => {
    expect(addFiles([], [video('huge.mp4', MAX_VIDEO_BYTES + 1)]).rejected[0]).toMatch(/huge\.mp4 is 50\.0 MB; a source video can be at most 50 MB/);
    expect(addFiles([ref('video')], [video('b.mp4')]).rejected[0]).toMatch(/only one source video/);
    expect(addFiles([ref('image')], [video('b.mp4')]).rejected[0]).toMatch(/remove the images first/);
    expect(addFiles([ref('video')], [image('b.png')]).rejected[0]).toMatch(/remove the video first/);
  });

  it('refuses other files and ignores the same file twice', () => {
    const { references, rejected } = addFiles([], [image('a.png'), image('a.png'), { name: 'x.txt', type: 'text/plain', size: 3 }]);
    expect(references).toHaveLength(1);
    expect(rejected).toEqual(['x.txt is not an image or a video.']);
  });

  it('accepts a video of exactly 50 MB', () => {
    expect(addFiles([], [video('ok.mp4', MAX_VIDEO_BYTES)]).references).toHaveLength(1);
  });
});

describe('describeReferences / sanitizeReferences', () => {
  it('says what is attached', () => {
    expect(describeReferences([])).toMatch(/prompt alone/);
    expect(describeReferences([ref('image'), ref('image', 'b')])).toBe('2 of 5 images');
    expect(describeReferences([ref('video')])).toBe('One source video');
  });

  it('keeps only well-formed references', () => {
    expect(sanitizeReferences('nope')).toEqual([]);
    expect(sanitizeReferences([{ name: 'a', kind: 'image', sizeBytes: 3 }, { name: 1, kind: 'image' }, { name: 'b', kind: 'pdf', sizeBytes: 1 }])).toEqual([
      { name: 'a', kind: 'image', sizeBytes: 3 },
    ]);
  });
});
