// Pure logic for the Studio's references: which files can be attached, and the mode they
// imply. Mirrors cleom-core's `Mode::detect` (the server checks again).

import { formatBytes, formatNumber } from './format';
import type { Mode, Reference, ReferenceKind } from './generated';

export const MAX_IMAGES = 5;
export const MAX_VIDEO_BYTES = 50 * 1024 * 1024;

/** What the file picker offers. */
export const ACCEPT = 'image/png,image/jpeg,image/webp,image/gif,video/mp4,video/quicktime,video/webm';

const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp', 'gif'];
const VIDEO_EXTENSIONS = ['mp4', 'mov', 'm4v', 'webm'];

/** The part of a `File` this module needs (so tests need no real files). */
export type FileLike = { name: string; type: string; size: number };

function extension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
}

/** A file's kind from its MIME type, else its extension; null when it is neither. */
export function kindOf(file: FileLike): ReferenceKind | null {
  if (file.type.startsWith('image/')) return 'image';
  if (file.type.startsWith('video/')) return 'video';
  const ext = extension(file.name);
  if (IMAGE_EXTENSIONS.includes(ext)) return 'image';
  if (VIDEO_EXTENSIONS.includes(ext)) return 'video';
  return null;
}

export type ModeResult = { ok: true; mode: Mode } | { ok: false; problem: string };

/** The mode the references imply, or why they cannot be sent together. */
export function detectMode(references: readonly Reference[]): ModeResult {
  const images = references.filter((r) => r.kind === 'image').length;
  const videos = references.filter((r) => r.kind === 'video').length;
  if (images === 0 && videos === 0) return { ok: true, mode: 'text_to_video' };
  if (videos === 0) {
    return images <= MAX_IMAGES
      ? { ok: true, mode: 'image_to_video' }
      : { ok: false, problem: `At most ${MAX_IMAGES} reference images can be attached.` };
  }
  if (images > 0) return { ok: false, problem: 'Attach either images or one video, not both.' };
  if (videos > 1) return { ok: false, problem: 'Only one source video can be attached.' };
  const video = references.find((r) => r.kind === 'video');
  if (video && video.sizeBytes > MAX_VIDEO_BYTES) {
    return { ok: false, problem: `A source video can be at most 50 MB; ${video.name} is ${formatBytes(video.sizeBytes)}.` };
  }
  return { ok: true, mode: 'video_to_video' };
}

export const MODE_LABEL: Record<Mode, string> = {
  text_to_video: 'Text to video',
  image_to_video: 'Image to video',
  video_to_video: 'Video to video',
};

/** One line under the drop zone saying what the attached references make. */
export function describeReferences(references: readonly Reference[]): string {
  const images = references.filter((r) => r.kind === 'image').length;
  if (references.length === 0) return 'No references: the clip is made from the prompt alone.';
  if (images === references.length) {
    return `${formatNumber(images)} of ${MAX_IMAGES} images`;
  }
  return 'One source video';
}

export type AddResult = {
  /** The references after adding every acceptable file. */
  references: Reference[];
  /** Why some files were not added, one sentence each. */
  rejected: string[];
};

/**
 * Add picked or dropped files. A file that is not an image or a video, a video over 50 MB,
 * a sixth image, a second video, or a mix of images and video is refused with a clear
 * sentence; everything else is added (a file with the same name and size is not added twice).
 */
export function addFiles(current: readonly Reference[], files: readonly FileLike[]): AddResult {
  const references = [...current];
  const rejected: string[] = [];
  for (const file of files) {
    const kind = kindOf(file);
    if (kind === null) {
      rejected.push(`${file.name} is not an image or a video.`);
      continue;
    }
    if (references.some((r) => r.name === file.name && r.sizeBytes === file.size)) continue;
    if (kind === 'video' && file.size > MAX_VIDEO_BYTES) {
      rejected.push(`${file.name} is ${formatBytes(file.size)}; a source video can be at most 50 MB.`);
      continue;
    }
    const images = references.filter((r) => r.kind === 'image').length;
    const videos = references.length - images;
    if (kind === 'image' && videos > 0) {
      rejected.push(`${file.name} was not added: remove the video first (images and a video can't be combined).`);
      continue;
    }
    if (kind === 'video' && images > 0) {
      rejected.push(`${file.name} was not added: remove the images first (images and a video can't be combined).`);
      continue;
    }
    if (kind === 'video' && videos > 0) {
      rejected.push(`${file.name} was not added: only one source video can be attached.`);
      continue;
    }
    if (kind === 'image' && images >= MAX_IMAGES) {
      rejected.push(`${file.name} was not added: at most ${MAX_IMAGES} images can be attached.`);
      continue;
    }
    references.push({ name: file.name, kind, sizeBytes: file.size });
  }
  return { references, rejected };
}

/** Keep only well-formed references (e.g. from a saved draft). */
export function sanitizeReferences(value: unknown): Reference[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter(
      (r): r is Reference =>
        typeof r === 'object' &&
        r !== null &&
        typeof (r as Reference).name === 'string' &&
        ((r as Reference).kind === 'image' || (r as Reference).kind === 'video') &&
        Number.isFinite((r as Reference).sizeBytes) &&
        (r as Reference).sizeBytes >= 0,
    )
    .slice(0, 16)
    .map((r) => ({ name: r.name.slice(0, 255), kind: r.kind, sizeBytes: Math.floor(r.sizeBytes) }));
}
