/**
 * Keyboard shortcuts: one table maps key presses to actions, and the same table renders the
 * help panel, so the two cannot disagree.
 */

/** What a shortcut does. */
export type Action =
  | { type: 'class'; index: number }
  | { type: 'next-frame' }
  | { type: 'prev-frame' }
  | { type: 'undo' }
  | { type: 'redo' }
  | { type: 'toggle-method' }
  | { type: 'toggle-box' }
  | { type: 'accept' }
  | { type: 'discard' }
  | { type: 'delete-selected' }
  | { type: 'fit' }
  | { type: 'zoom'; factor: number }
  | { type: 'help' };

/** The key data an action is chosen by (a KeyboardEvent has these fields). */
export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

/** The action of a key press, or null. */
export function actionFor(e: KeyPress): Action | null {
  const ctrl = e.ctrlKey || e.metaKey;
  const k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (ctrl) {
    if (k === 'z') return e.shiftKey ? { type: 'redo' } : { type: 'undo' };
    if (k === 'y') return { type: 'redo' };
    return null;
  }
  if (e.altKey) return null;
  if (/^[0-9]$/.test(k)) return { type: 'class', index: k === '0' ? 9 : Number(k) - 1 };
  switch (k) {
    case 'n':
    case 'ArrowRight':
    case 'PageDown':
      return { type: 'next-frame' };
    case 'p':
    case 'ArrowLeft':
    case 'PageUp':
      return { type: 'prev-frame' };
    case 'z':
      return e.shiftKey ? { type: 'redo' } : { type: 'undo' };
    case 'y':
      return { type: 'redo' };
    case 'r':
      return { type: 'toggle-method' };
    case 'b':
      return { type: 'toggle-box' };
    case 'Enter':
      return { type: 'accept' };
    case 'Escape':
      return { type: 'discard' };
    case 'Delete':
    case 'Backspace':
      return { type: 'delete-selected' };
    case 'f':
      return { type: 'fit' };
    case '+':
    case '=':
      return { type: 'zoom', factor: 1.25 };
    case '-':
      return { type: 'zoom', factor: 0.8 };
    case '?':
    case 'h':
      return { type: 'help' };
    default:
      return null;
  }
}

/** The help table: keys and what they do (mouse gestures included). */
export const SHORTCUT_HELP: readonly [string, string][] = [
  ['click', 'new object at the click (the current one is kept)'],
  ['Ctrl/⌘ + click', 'add a positive click to the current object'],
  ['Shift + click', 'add a negative click to the current object'],
  ['Alt + click', 'select the object under the cursor'],
  ['b', 'box mode: drag a box (Ctrl/⌘ + drag: box for the current object)'],
  ['1 … 9, 0', 'instrument class (also re-labels the current or selected object)'],
  ['r', 'toggle RP-SAM2 / SAM 2 (re-segments the current object)'],
  ['Enter', 'accept the current object'],
  ['Esc', 'discard the current object'],
  ['Del', 'delete the selected object'],
  ['z / Ctrl+Z', 'undo'],
  ['Shift+Z / Ctrl+Y', 'redo'],
  ['n / →', 'next frame'],
  ['p / ←', 'previous frame'],
  ['wheel, + / −, f', 'zoom, fit'],
  ['right/middle drag, Space + drag', 'pan'],
];
