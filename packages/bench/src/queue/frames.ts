/**
 * The frames of `bench embed`: image files named on the command line, or every PNG/JPEG file of
 * a named folder (sorted by name, not recursive). Each frame's id — its cache key — is its file
 * name without the extension, so a frame gets the same key whether one process or a queue of
 * workers embeds it. Paths are absolute: workers on other machines read them from the same
 * shared folder.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { validateItem, type Dataset, type DatasetItem } from '@rpsam2/rpsam2';
import { decodeImage } from '@rpsam2/sam2';
import { UsageError } from '../runs/run-args.js';

/** One frame to embed. */
export interface FrameFile {
  /** The cache key (file name without extension). */
  id: string;
  /** Absolute path of the PNG or JPEG file. */
  path: string;
}

const IMAGE_EXT = /\.(png|jpe?g)$/i;
const ID_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** The id of a frame file: its name without the extension (must be a valid cache key). */
export function frameId(path: string): string {
  const id = basename(path, extname(path));
  if (!ID_RE.test(id)) throw new UsageError(`${path}: the frame's name '${id}' cannot be a cache key (letters, digits, '_', '-' or '.', not starting with '.' or '-'); rename the file`);
  return id;
}

/**
 * The frames of `args` (files and folders, see the module comment), in order: folders expand to
 * their image files sorted by name. Throws a {@link UsageError} naming the path when one does not
 * exist, a folder holds no image, a named file is no PNG/JPEG, or two frames share an id.
 */
export async function listFrames(args: readonly string[]): Promise<FrameFile[]> {
  if (args.length === 0) throw new UsageError('no frames given: name image files (PNG/JPEG) or folders of them');
  const out: FrameFile[] = [];
  const seen = new Map<string, string>();
  const add = (path: string) => {
    const id = frameId(path);
    const other = seen.get(id);
    if (other) throw new UsageError(`two frames have the id '${id}' (the cache key): ${other} and ${path}; rename one`);
    seen.set(id, path);
    out.push({ id, path });
  };
  for (const arg of args) {
    const path = resolve(arg);
    let st;
    try {
      st = await stat(path);
    } catch (e) {
      throw new UsageError(`${arg}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`}`);
    }
    if (st.isDirectory()) {
      const names = (await readdir(path)).filter((n) => IMAGE_EXT.test(n) && !n.startsWith('.')).sort();
      if (names.length === 0) throw new UsageError(`${arg}: no PNG or JPEG files in this folder`);
      for (const n of names) add(join(path, n));
    } else {
      if (!IMAGE_EXT.test(path)) throw new UsageError(`${arg}: not a .png, .jpg or .jpeg file`);
      add(path);
    }
  }
  return out;
}

/** Reads and decodes one frame as a dataset item without objects (features only). */
export async function frameItem(frame: FrameFile): Promise<DatasetItem> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(frame.path));
  } catch (e) {
    throw new Error(`${frame.path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const item: DatasetItem = { id: frame.id, image: decodeImage(bytes, frame.path), objects: [] };
  validateItem(item, frame.path);
  return item;
}

/** The frames as an rpsam2 dataset (read lazily, one per `get`), named `name` in the cache index. */
export function framesDataset(frames: readonly FrameFile[], name: string): Dataset {
  return {
    name,
    length: frames.length,
    get: async (i: number) => {
      const f = frames[i];
      if (!f) throw new RangeError(`${name}: index ${i} is outside 0…${frames.length - 1}`);
      return frameItem(f);
    },
  };
}
