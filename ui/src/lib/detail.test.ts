import { describe, expect, it } from 'vitest';
import { modeLabel, settingRows, clipSource, platformOf } from './detail';
import { buildSettings, defaultAdvanced } from './studio';

describe('settingRows', () => {
  it('lists every setting with readable values', () => {
    const rows = settingRows(buildSettings(12, '4k'));
    expect(rows).toEqual([
      { label: 'Duration', value: '12 s' },
      { label: 'Resolution', value: '4K' },
      { label: 'Aspect ratio', value: '16:9 landscape' },
      { label: 'Style', value: 'None' },
      { label: 'Subject', value: 'Automatic' },
      { label: 'Pacing', value: 'Automatic' },
      { label: 'Voice over', value: 'Off' },
      { label: 'Music', value: 'Off' },
      { label: 'Subtitles', value: 'Off' },
    ]);
  });

  it('shows the voice over and its script, as text', () => {
    const settings = buildSettings(20, '1080p', {
      ...defaultAdvanced(),
      aspectRatio: '9:16',
      stylePreset: 'Film Noir',
      subject: 'Person',
      pacing: 'Fast',
      voiceOver: true,
      voiceLanguage: 'fr',
      voiceType: 'male',
      voiceScript: '<b>Bonjour</b>',
      music: true,
      subtitles: true,
    });
    const byLabel = Object.fromEntries(settingRows(settings).map((r) => [r.label, r.value]));
    expect(byLabel).toMatchObject({
      'Aspect ratio': '9:16 portrait',
      Style: 'Film Noir',
      Subject: 'Person',
      Pacing: 'Fast',
      'Voice over': 'French, Male',
      'Voice-over script': '<b>Bonjour</b>',
      Music: 'On',
      Subtitles: 'On',
    });
  });

  it('names the modes, and shows an unknown one as it is', () => {
    expect(modeLabel('image_to_video')).toBe('Image to video');
    expect(modeLabel('sound_to_video')).toBe('sound_to_video');
  });
});

describe('clipSource', () => {
  it('names the clip by id on the app scheme, escaped', () => {
    expect(clipSource('abc123', 'linux')).toBe('clip://localhost/abc123');
    expect(clipSource('../x?y#z', 'macos')).toBe('clip://localhost/..%2Fx%3Fy%23z');
  });

  it('uses the http origin Tauri serves the scheme at on Windows', () => {
    expect(clipSource('abc123', 'windows')).toBe('http://clip.localhost/abc123');
    expect(clipSource('../x?y#z', 'windows')).toBe('http://clip.localhost/..%2Fx%3Fy%23z');
  });

  it("tells the OS from each desktop webview's user agent", () => {
    const webView2 =
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0';
    const wkWebView = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)';
    const webKitGtk = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15';
    expect(platformOf(webView2)).toBe('windows');
    expect(platformOf(wkWebView)).toBe('macos');
    expect(platformOf(webKitGtk)).toBe('linux');
    // The test environment (jsdom) is no Windows webview.
    expect(clipSource('g1')).toBe('clip://localhost/g1');
  });
});
