// Read by svelte-check and editors; vite.config.ts passes the same options to the plugin.
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

export default {
  preprocess: vitePreprocess(),
  compilerOptions: { css: 'external' },
};
