// Fails the build if dist/index.html would break the app's CSP
// (script-src 'self'; style-src 'self'): no inline <script>, <style> or style="…",
// and nothing loaded from another origin.
import { readFileSync } from 'node:fs';

const html = readFileSync(new URL('../dist/index.html', import.meta.url), 'utf8');
const problems = [];

for (const match of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
  const [, attrs = '', body = ''] = match;
  if (!/\bsrc\s*=/.test(attrs) || body.trim() !== '') problems.push(`inline script: ${match[0].slice(0, 80)}`);
}
if (/<style\b/i.test(html)) problems.push('inline <style> element');
if (/\sstyle\s*=/i.test(html)) problems.push('inline style="…" attribute');
if (/\son[a-z]+\s*=/i.test(html)) problems.push('inline event handler attribute');
for (const match of html.matchAll(/\b(?:src|href)\s*=\s*["']?((?:https?:)?\/\/[^"'\s>]+)/gi)) {
  problems.push(`external resource: ${match[1]}`);
}

if (problems.length > 0) {
  console.error(`dist/index.html violates the CSP:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('dist/index.html: no inline scripts or styles, no external resources');
