import { describe, expect, it } from 'vitest';
import { modeLabel, settingRows, clipSource } from './detail';
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
    expect(clipSource('abc123')).toBe('clip://localhost/abc123');
    expect(clipSource('../x?y#z')).toBe('clip://localhost/..%2Fx%3Fy%23z');
  });
});
