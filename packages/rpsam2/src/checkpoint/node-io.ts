/**
 * Node-only file access for the platform-neutral package: modules are imported lazily by a
 * run-time specifier (as @rpsam2/sam2 does), so bundlers do not follow them and browsers only
 * fail when a file path is actually used.
 */
import { writeFileAtomically } from '@rpsam2/sam2';
import type { ByteSource } from '@rpsam2/tensor';

type Fs = typeof import('node:fs/promises');

async function importNode<T>(specifier: string): Promise<T> {
  try {
    return (await import(/* @vite-ignore */ specifier)) as T;
  } catch (e) {
    throw new Error(`@rpsam2/rpsam2: '${specifier}' is not available (${(e as Error).message}); file paths work in Node only`, { cause: e });
  }
}

let fsPromise: Promise<Fs> | null = null;

/** node:fs/promises. */
export function nodeFs(): Promise<Fs> {
  fsPromise ??= importNode<Fs>('node:fs/promises');
  return fsPromise;
}

/** A ByteSource over a file (read by range), from @rpsam2/tensor/node. */
export async function fileByteSource(path: string): Promise<ByteSource> {
  const m = await importNode<{ fileSource: (p: string) => ByteSource }>('@rpsam2/tensor/node');
  return m.fileSource(path);
}

/**
 * Writes `bytes` (or a string, as UTF-8) to `path` atomically, creating its parent folder: a
 * temporary file in the same directory, flushed, then renamed over `path`. An interrupted write
 * leaves the old file intact. The trainer skeleton's `writeFileAtomically` of @rpsam2/sam2, under
 * this package's name.
 */
export const writeAtomic: (path: string, bytes: Uint8Array | string) => Promise<void> = writeFileAtomically;

/** Locks a folder for this process: `lockFolder` of @rpsam2/tensor/node (a second writer is refused). */
export async function lockFolder(dir: string, purpose: string, notice?: (line: string) => void): Promise<{ release(): Promise<void> }> {
  const m = await importNode<typeof import('@rpsam2/tensor/node')>('@rpsam2/tensor/node');
  return m.lockFolder(dir, purpose, notice);
}

/** Whether `path` exists (any kind of entry): `pathExists` of @rpsam2/tensor/node. */
export async function exists(path: string): Promise<boolean> {
  const m = await importNode<typeof import('@rpsam2/tensor/node')>('@rpsam2/tensor/node');
  return m.pathExists(path);
}

/** `dir/name` with one separator (paths here are POSIX-style or already joined by the caller). */
export function joinPath(dir: string, ...parts: string[]): string {
  let out = dir.replace(/[/\\]+$/, '');
  for (const p of parts) out = `${out}/${p.replace(/^[/\\]+/, '')}`;
  return out;
}
