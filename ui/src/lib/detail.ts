// Pure logic behind the Library's detail view: every setting of a generation as label/value
// rows (all of it plain text).

import { MODE_LABEL } from './references';
import { ASPECT_RATIOS, RESOLUTIONS, VOICE_LANGUAGES, VOICE_TYPES } from './studio';
import type { Mode, Settings } from './generated';

export type Row = { label: string; value: string };

const labelOf = (options: { value: string; label: string }[], value: string) =>
  options.find((o) => o.value === value)?.label ?? value;

export function modeLabel(mode: string): string {
  return (MODE_LABEL as Record<string, string>)[mode as Mode] ?? mode;
}

const onOff = (value: boolean) => (value ? 'On' : 'Off');

/** Every setting, in the Studio's order. */
export function settingRows(settings: Settings): Row[] {
  const voice = settings.voiceOver;
  const rows: Row[] = [
    { label: 'Duration', value: `${settings.durationSeconds} s` },
    { label: 'Resolution', value: labelOf(RESOLUTIONS, settings.resolution) },
    { label: 'Aspect ratio', value: labelOf(ASPECT_RATIOS, settings.aspectRatio) },
    { label: 'Style', value: settings.stylePreset ?? 'None' },
    { label: 'Subject', value: settings.subject ?? 'Automatic' },
    { label: 'Pacing', value: settings.pacing ?? 'Automatic' },
    {
      label: 'Voice over',
      value: voice ? `${labelOf(VOICE_LANGUAGES, voice.language)}, ${labelOf(VOICE_TYPES, voice.voice)}` : 'Off',
    },
  ];
  if (voice?.script) rows.push({ label: 'Voice-over script', value: voice.script });
  rows.push({ label: 'Music', value: onOff(settings.music) }, { label: 'Subtitles', value: onOff(settings.subtitles) });
  return rows;
}

export type Platform = 'linux' | 'macos' | 'windows';
export const PLATFORMS: readonly Platform[] = ['linux', 'macos', 'windows'];

/**
 * The OS the window runs on, from its webview's user agent: WebView2 says `Windows`, WKWebView
 * `Macintosh`, WebKitGTK `X11; Linux` (the app sets no user agent of its own).
 */
export function platformOf(userAgent: string): Platform {
  if (userAgent.includes('Windows')) return 'windows';
  if (userAgent.includes('Macintosh')) return 'macos';
  return 'linux';
}

/**
 * Where Tauri serves the app's `clip:` scheme: `clip://localhost` on Linux and macOS; WebView2
 * cannot load custom schemes, so on Windows the same handler answers `http://clip.localhost`.
 * The CSP in tauri.conf.json allows exactly these origins (ui/src/lib/csp.test.ts checks it).
 */
export function clipOrigin(platform: Platform): string {
  return platform === 'windows' ? 'http://clip.localhost' : 'clip://localhost';
}

/**
 * Where the detail view plays a clip from: the app's `clip:` scheme, which serves it from this
 * device (the CSP allows media from nowhere else).
 */
export function clipSource(id: string, platform: Platform = platformOf(navigator.userAgent)): string {
  return `${clipOrigin(platform)}/${encodeURIComponent(id)}`;
}
