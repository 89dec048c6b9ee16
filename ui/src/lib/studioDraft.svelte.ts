// The Studio's draft outlives the window: it is restored once when the Studio opens, then saved
// (debounced) after every change and once more when the window goes away. Nothing is saved
// before the saved draft has been read, so a restart never overwrites it.

import { onMount } from 'svelte';
import { api } from './api';
import { debounced, parseDraft, serializeDraft, type StudioDraft } from './draft';

/** How long the composer has to be left alone before the draft is saved. */
const SAVE_DELAY_MS = 400;

/**
 * Keep the draft of the component being set up: `current` reads what is composed (every
 * change to it is saved), `restore` puts a saved draft back. Call during component setup.
 */
export function keepDraft(current: () => StudioDraft, restore: (draft: StudioDraft) => void) {
  let loaded = $state(false);

  const saver = debounced((json: string) => {
    api.saveDraft(json).catch(() => {
      // Not being able to keep a draft must not get in the way of writing one.
    });
  }, SAVE_DELAY_MS);

  $effect(() => {
    const json = serializeDraft(current());
    if (loaded) saver.push(json);
  });

  onMount(() => {
    let cancelled = false;
    api
      .draft()
      .then((json) => {
        if (cancelled || json === null) return;
        // Anything typed while the draft was loading wins.
        const typed = current();
        if (typed.prompt !== '' || typed.references.length > 0) return;
        restore(parseDraft(json));
      })
      .catch(() => {})
      .finally(() => {
        if (!cancelled) loaded = true;
      });
    const flush = () => saver.flush();
    window.addEventListener('pagehide', flush);
    return () => {
      cancelled = true;
      window.removeEventListener('pagehide', flush);
      saver.flush();
    };
  });
}
