// A Svelte action that sets CSS custom properties through the CSSOM. The app's CSP forbids
// inline style attributes (and Svelte's `style:` may write one); `style.setProperty` is not
// an inline style attribute, so it is allowed. Values are numbers (px) or plain strings the
// app computed itself, never user text.

export type CssVars = Record<`--${string}`, string | number>;

function apply(node: HTMLElement, vars: CssVars, previous: CssVars | null) {
  for (const [name, value] of Object.entries(vars)) {
    const text = typeof value === 'number' ? `${value}px` : value;
    if (!previous || previous[name as keyof CssVars] !== value) node.style.setProperty(name, text);
  }
}

export function cssVars(node: HTMLElement, vars: CssVars) {
  let current = vars;
  apply(node, vars, null);
  return {
    update(next: CssVars) {
      apply(node, next, current);
      current = next;
    },
  };
}
