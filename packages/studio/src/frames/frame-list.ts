/**
 * The session's frame list: which dropped files are frames, their order (natural order of the
 * path, so frame_2 comes before frame_10), their ids (the relative path, unique), and the
 * Cataract-1k case each belongs to in exports: the folder's own name when it is a case folder
 * (`case_5013`), else a new `case_NNNN` per folder, never reusing a name in the session.
 */

/** A file as it arrived (from a drop, a file picker or a folder picker). */
export interface IncomingFile {
  file: File;
  /** Path relative to what was dropped ('case_5013/img/frame_01.png' or 'frame_01.png'). */
  path: string;
}

/** One frame of the session. */
export interface FrameEntry {
  /** Unique id: the relative path. */
  id: string;
  path: string;
  /** File name without folders. */
  name: string;
  file: File;
  /** Case folder in exports. */
  caseName: string;
}

/** Image file extensions the page tries to decode (others are reported as skipped). */
export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp', 'bmp', 'gif', 'avif'];

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** Natural order ("frame_2" < "frame_10"), case-insensitive, ties broken by plain order. */
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** Whether a path names an image by its extension. */
export function isImagePath(path: string): boolean {
  const dot = path.lastIndexOf('.');
  return dot >= 0 && IMAGE_EXTENSIONS.includes(path.slice(dot + 1).toLowerCase());
}

/** A Cataract-1k case folder name. */
export const CASE_PATTERN = /^case_?\d+$/i;

/** The case folder for a frame path: the nearest enclosing case folder's name, else null. */
export function caseFolderOf(path: string): string | null {
  const parts = path.split('/').slice(0, -1);
  for (let i = parts.length - 1; i >= 0; i--) if (CASE_PATTERN.test(parts[i])) return parts[i];
  return null;
}

/**
 * Adds incoming files to the list: images only (others listed in `skipped`), paths already in the
 * list ignored (listed in `duplicates`), the result in natural path order, each new frame with its
 * case (see the module documentation).
 */
export function addFrames(existing: readonly FrameEntry[], incoming: readonly IncomingFile[]): { frames: FrameEntry[]; added: FrameEntry[]; skipped: string[]; duplicates: string[] } {
  const byId = new Set(existing.map((f) => f.id));
  const usedCases = new Set(existing.map((f) => f.caseName.toLowerCase()));
  // Folders that already have an invented case keep it.
  const folderCase = new Map<string, string>();
  for (const f of existing) folderCase.set(folderOf(f.path), f.caseName);
  const skipped: string[] = [];
  const duplicates: string[] = [];
  const added: FrameEntry[] = [];
  const incomingSorted = [...incoming].sort((a, b) => naturalCompare(a.path, b.path));
  // Real case folders first, so that invented names never take theirs.
  for (const f of incomingSorted) {
    const c = caseFolderOf(f.path);
    if (c) usedCases.add(c.toLowerCase());
  }
  let next = 1;
  const invent = (): string => {
    for (;;) {
      const name = `case_${String(next++).padStart(4, '0')}`;
      if (!usedCases.has(name)) {
        usedCases.add(name);
        return name;
      }
    }
  };
  for (const f of incomingSorted) {
    const path = f.path.replace(/\\/g, '/').replace(/^\/+/, '');
    if (!isImagePath(path)) {
      skipped.push(path);
      continue;
    }
    if (byId.has(path)) {
      duplicates.push(path);
      continue;
    }
    byId.add(path);
    const folder = folderOf(path);
    let caseName = caseFolderOf(path);
    if (!caseName) {
      caseName = folderCase.get(folder) ?? invent();
      folderCase.set(folder, caseName);
    }
    added.push({ id: path, path, name: path.slice(path.lastIndexOf('/') + 1), file: f.file, caseName });
  }
  const frames = [...existing, ...added].sort((a, b) => naturalCompare(a.path, b.path));
  return { frames, added, skipped, duplicates };
}

function folderOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}
