// The window's CSP (tauri.conf.json) and the clip URLs the UI builds must agree on every OS:
// a clip URL the CSP does not allow is a player that stays black, and a source the CSP allows
// that no OS uses is a hole.
import { describe, expect, it } from 'vitest';
import conf from '../../../tauri.conf.json';
import { PLATFORMS, clipSource } from './detail';

const csp: Record<string, string> = conf.app.security.csp;

/** The sources of a directive besides the page itself and `data:` URLs. */
function clipSources(directive: string): string[] {
  return csp[directive].split(/\s+/).filter((s) => s !== "'self'" && s !== 'data:');
}

/** Whether a CSP source expression allows `url`: a scheme (`clip:`) or an origin. */
function allows(source: string, url: string): boolean {
  return source.endsWith(':') ? url.startsWith(source) : url.startsWith(`${source}/`);
}

describe('the CSP and the clip URLs', () => {
  for (const directive of ['img-src', 'media-src']) {
    it(`${directive} allows the clip URL of every OS`, () => {
      for (const platform of PLATFORMS) {
        const url = clipSource('g1', platform);
        expect(
          clipSources(directive).some((s) => allows(s, url)),
          `${platform}: ${url} against ${csp[directive]}`,
        ).toBe(true);
      }
    });

    it(`${directive} allows nothing else`, () => {
      for (const source of clipSources(directive)) {
        expect(
          PLATFORMS.some((p) => allows(source, clipSource('g1', p))),
          `${source} is used by no OS`,
        ).toBe(true);
      }
    });
  }

  it('Windows serves the scheme over http, as the Windows URL says', () => {
    // With `useHttpsScheme` Tauri would serve it at https://clip.localhost instead.
    for (const window of conf.app.windows) expect('useHttpsScheme' in window && window.useHttpsScheme).toBe(false);
  });
});
