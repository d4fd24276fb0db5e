/**
 * The instrument class list of a labeling session: the 10 Cataract-1k instrument classes (the
 * table of `@rpsam2/data` that the bench's loaders use, in the paper's Table 1 order, with its
 * abbreviations) by default, editable (rename, add, remove). Each class keeps a stable numeric id
 * (objects refer to it) and a colour. Keys 1–9 and 0 pick the first ten classes.
 */
import { CATARACT1K_INSTRUMENTS, resolveCataract1kClass } from '@rpsam2/data';

/** One class of the session. */
export interface LabelClass {
  /** Stable id (1, 2, …): objects refer to it; the label PNGs use it as the pixel value. */
  id: number;
  /** Short name, the paper's abbreviation for the Cataract-1k classes ('CC', 'PhT', …). */
  key: string;
  /** The class title written into exports (Supervisely `classTitle`, COCO category name). */
  name: string;
  /** Overlay colour, '#rrggbb'. */
  color: string;
}

/** Distinct, saturated colours that read well over tissue (red-dominated) frames. */
export const CLASS_PALETTE: readonly string[] = [
  '#ffd400', '#00d4ff', '#7cff4d', '#ff4dd2', '#4d7cff', '#ff8a00', '#00ffa6', '#b84dff', '#ffffff', '#ff3b3b',
  '#a6ff00', '#00a6ff', '#ff00a6', '#c8c800', '#00c8c8', '#c800c8',
];

/** The default list: the 10 Cataract-1k instrument classes. */
export function defaultClasses(): LabelClass[] {
  return CATARACT1K_INSTRUMENTS.map((c, i) => ({ id: i + 1, key: c.key, name: c.name, color: CLASS_PALETTE[i % CLASS_PALETTE.length] }));
}

/** Why a class list is unusable, or null: ids unique positive integers, keys and names non-empty and unique, colours #rrggbb. */
export function classListProblem(list: readonly LabelClass[]): string | null {
  if (list.length === 0) return 'the class list is empty';
  const ids = new Set<number>();
  const keys = new Set<string>();
  const names = new Set<string>();
  for (const c of list) {
    if (!Number.isInteger(c.id) || c.id < 1 || c.id > 255) return `class '${c.name}': id ${c.id} must be an integer 1–255 (it is a label-PNG value)`;
    if (ids.has(c.id)) return `two classes have id ${c.id}`;
    if (!c.key.trim()) return `class '${c.name}' has an empty abbreviation`;
    if (!c.name.trim()) return `class '${c.key}' has an empty name`;
    if (keys.has(c.key.trim().toLowerCase())) return `two classes are abbreviated '${c.key}'`;
    if (names.has(c.name.trim().toLowerCase())) return `two classes are named '${c.name}'`;
    if (!/^#[0-9a-f]{6}$/i.test(c.color)) return `class '${c.name}': colour '${c.color}' is not #rrggbb`;
    ids.add(c.id);
    keys.add(c.key.trim().toLowerCase());
    names.add(c.name.trim().toLowerCase());
  }
  return null;
}

/** A new class for the list: the next free id and an unused palette colour. */
export function newClass(list: readonly LabelClass[], key: string, name: string): LabelClass {
  const id = Math.max(0, ...list.map((c) => c.id)) + 1;
  const used = new Set(list.map((c) => c.color));
  const color = CLASS_PALETTE.find((p) => !used.has(p)) ?? CLASS_PALETTE[id % CLASS_PALETTE.length];
  return { id, key, name, color };
}

/** Whether the bench's Cataract-1k loaders will recognise this class title (else they report it as unknown). */
export function isCataract1kTitle(name: string): boolean {
  const c = resolveCataract1kClass(name);
  return !!c && c.kind === 'instrument';
}

/** The shortcut digit of the class at list position i ('1'…'9', '0' for the tenth), or ''. */
export function classShortcut(index: number): string {
  return index < 9 ? String(index + 1) : index === 9 ? '0' : '';
}

const STORAGE_KEY = 'rpsam2-studio.classes.v1';

/** The saved list (localStorage), or the default when none or invalid. */
export function loadClasses(storage: Pick<Storage, 'getItem'> | null): LabelClass[] {
  try {
    const text = storage?.getItem(STORAGE_KEY);
    if (text) {
      const list = JSON.parse(text) as LabelClass[];
      if (Array.isArray(list) && classListProblem(list) === null) return list;
    }
  } catch {
    // Fall through to the default list.
  }
  return defaultClasses();
}

/** Saves the list (localStorage). */
export function saveClasses(storage: Pick<Storage, 'setItem'> | null, list: readonly LabelClass[]): void {
  try {
    storage?.setItem(STORAGE_KEY, JSON.stringify(list));
  } catch {
    // Private mode or a full quota: the list just does not persist.
  }
}
