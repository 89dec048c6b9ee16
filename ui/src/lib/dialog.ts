// A Svelte action for native modal <dialog>s: opens it as a modal when mounted (focus
// trap, Escape, top layer for free) and gives focus back to the opener when removed.

export function modal(node: HTMLDialogElement): { destroy(): void } {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  if (typeof node.showModal === 'function') {
    try {
      node.showModal();
    } catch {
      node.setAttribute('open', '');
    }
  } else {
    // Environments without <dialog> support (e.g. jsdom in unit tests).
    node.setAttribute('open', '');
  }
  return {
    destroy() {
      if (opener && opener.isConnected) queueMicrotask(() => opener.focus());
    },
  };
}

/** Close a dialog, firing its `close` event (also where <dialog> is not supported). */
export function closeDialog(node: HTMLDialogElement | undefined): void {
  if (!node) return;
  if (typeof node.close === 'function') {
    node.close();
  } else if (node.hasAttribute('open')) {
    node.removeAttribute('open');
    node.dispatchEvent(new Event('close'));
  }
}
