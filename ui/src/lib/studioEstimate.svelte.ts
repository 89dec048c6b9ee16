// The Studio's price for what is being composed. It is asked again (debounced) whenever the
// settings or the references change and when the connection comes back; an answer to an older
// request never replaces a newer one. References that cannot be combined are not priced: the
// Studio shows why instead. Kept apart from the form so the form only draws it.

import { api } from './api';
import { placeError, toAppError, type PlacedError } from './errors';
import type { AppError, Estimate, Reference, Settings } from './generated';

/** How long after a change the price is asked again (the first request goes at once). */
const REPRICE_DELAY_MS = 200;

export class StudioEstimate {
  estimate = $state.raw<Estimate | null>(null);
  loading = $state(true);
  error = $state.raw<PlacedError | null>(null);

  readonly #onerror: (error: AppError) => void;
  #seq = 0;

  constructor(onerror: (error: AppError) => void) {
    this.#onerror = onerror;
  }

  /**
   * Price `settings` with `references`, or nothing when `problem` says they cannot be
   * combined. Returns what cancels the request if it has not been sent yet.
   */
  request(settings: Settings, references: Reference[], problem: string | null): () => void {
    const seq = ++this.#seq;
    if (problem !== null) {
      this.estimate = null;
      this.error = null;
      this.loading = false;
      return () => {};
    }
    this.loading = true;
    const timer = setTimeout(
      async () => {
        try {
          const next = await api.estimate(settings, references);
          if (seq !== this.#seq) return;
          this.estimate = next;
          this.error = null;
        } catch (e) {
          if (seq !== this.#seq) return;
          const error = toAppError(e);
          this.estimate = null;
          this.error = placeError(error, 'estimate');
          this.#onerror(error);
        } finally {
          if (seq === this.#seq) this.loading = false;
        }
      },
      seq === 1 ? 0 : REPRICE_DELAY_MS,
    );
    return () => clearTimeout(timer);
  }
}
