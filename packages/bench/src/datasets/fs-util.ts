/** Small file-system helpers shared by the loaders. */
import { open, readdir, stat } from 'node:fs/promises';
import { readPngInfo } from './png.js';

/** True when the path exists and is a directory. */
export async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** True when the path exists and is a file. */
export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Directory entries (names), sorted naturally ('case_2' before 'case_10'); [] when unreadable. */
export async function listDir(path: string): Promise<{ name: string; dir: boolean }[]> {
  try {
    const entries = await readdir(path, { withFileTypes: true });
    return entries.map((e) => ({ name: e.name, dir: e.isDirectory() })).sort((a, b) => naturalCompare(a.name, b.name));
  } catch {
    return [];
  }
}

/** Natural order: digit runs compare as numbers. */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * Width and height from a PNG file's header (reads its first 33 bytes only); undefined for a
 * file that is not a PNG (a JPEG frame is not checked this way). Throws, naming the file, on a
 * PNG whose header is broken.
 */
export async function readPngSize(path: string): Promise<{ width: number; height: number } | undefined> {
  const fh = await open(path, 'r');
  try {
    const buf = new Uint8Array(33);
    const { bytesRead } = await fh.read(buf, 0, 33, 0);
    const head = buf.subarray(0, bytesRead);
    if (bytesRead < 8 || head[0] !== 0x89 || head[1] !== 0x50) return undefined;
    const info = readPngInfo(head, path);
    return { width: info.width, height: info.height };
  } finally {
    await fh.close();
  }
}

/** Runs `fn` over items with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
