/** The page's elements by id, and its storage. */

/** The element with this id (index.html has them all); throws naming it when missing. */
export function $(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page element #${id} is missing`);
  return e;
}

/** The page's localStorage, or null where it is blocked (some private modes throw on access). */
export function safeStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}
