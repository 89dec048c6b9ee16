import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineConfig } from 'vitest/config';

// The app's CSP forbids inline scripts and styles, so component CSS is always
// emitted as a separate file (`css: 'external'`) and nothing is inlined.
export default defineConfig({
  plugins: [svelte({ compilerOptions: { css: 'external' } }), svelteTesting()],
  clearScreen: false,
  server: { strictPort: true, port: 1420 },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Keep assets as files: `data:` is allowed for images only, not fonts or scripts.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    // The contrast test reads the theme tokens from app.css (`?raw`).
    css: { include: [/app\.css/] },
    restoreMocks: true,
  },
});
