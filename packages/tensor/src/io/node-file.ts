/** Node implementations of the I/O seam: files read by range, never whole. */
import { mkdir, open, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { ByteSource } from './byte-source.js';

/** A ByteSource over a file; a missing file is reported by path. */
export function fileSource(path: string): ByteSource {
  return {
    label: path,
    size: async () => {
      try {
        return (await stat(path)).size;
      } catch (e) {
        throw new Error(`${path}: cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    },
    read: async (offset, length) => {
      const fh = await open(path, 'r');
      try {
        const buf = new Uint8Array(length);
        let done = 0;
        while (done < length) {
          const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
          if (bytesRead === 0) throw new RangeError(`${path}: read of ${length} bytes at ${offset} is past the end of the file`);
          done += bytesRead;
        }
        return buf;
      } finally {
        await fh.close();
      }
    },
  };
}

/** Whether `path` exists (any kind of entry: file, folder, link target). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * An output folder that cannot be created or written (from {@link ensureOutputDir}). The CLIs
 * treat it as a usage error (exit status 2): the fix is another path. `code` lets them tell it
 * apart without `instanceof`, which a second bundled copy of this module would break.
 */
export class OutputDirError extends Error {
  readonly code = 'ERR_OUTPUT_DIR';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OutputDirError';
  }
}

/**
 * Makes sure `path` is a folder this process can write into, creating it (and missing parents)
 * first; call it before any long work so a bad `--out` fails at once. Folders are created one
 * level at a time because Node 20's `mkdir(…, { recursive: true })` spins forever at full CPU
 * under /proc; a probe file is then written and removed, so a read-only or special file system
 * is caught here rather than after minutes of work. Errors name the path, the reason and the fix.
 * `removeIfEmpty` undoes the creation (folders this call made that are still empty), for a
 * command that fails before writing anything.
 */
export async function ensureOutputDir(path: string): Promise<{
  /** Removes the folders this call created that are still empty. */
  removeIfEmpty(): Promise<void>;
}> {
  const fail = (why: string, e?: unknown): never => {
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    throw new OutputDirError(`${path}: cannot use as an output folder (${why}${code ? `: ${code}` : ''}); choose a folder you can write to`, { cause: e });
  };
  const target = resolve(path);
  // Walk up to the nearest existing ancestor, then create the missing levels top-down.
  const missing: string[] = [];
  for (let dir = target; ; dir = dirname(dir)) {
    let s;
    try {
      s = await stat(dir);
    } catch (e) {
      // ENOTDIR: a file further up; the walk reaches it and says so.
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(dir) === dir) fail(`cannot inspect ${dir}`, e);
      missing.push(dir);
      continue;
    }
    if (!s.isDirectory()) fail(`${dir} is not a folder`);
    break;
  }
  for (const dir of missing.reverse()) {
    try {
      await mkdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') fail(`cannot create ${dir}`, e);
    }
  }
  const probe = join(target, `.write-probe.${process.pid}.${Math.random().toString(36).slice(2, 8)}`);
  try {
    await writeFile(probe, '', { flag: 'wx' });
  } catch (e) {
    fail('cannot write files in it', e);
  }
  await unlink(probe).catch(() => undefined);
  return {
    // Deepest first; rmdir fails (and is ignored) on a folder that is no longer empty.
    removeIfEmpty: async () => {
      for (const dir of [...missing].reverse()) await rmdir(dir).catch(() => undefined);
    },
  };
}

/**
 * Runs `work` with `path` made a usable output folder first ({@link ensureOutputDir}); when
 * `work` fails, the folders this call created are removed again if still empty, so a failed
 * command leaves nothing behind.
 */
export async function withOutputDir<T>(path: string, work: () => Promise<T>): Promise<T> {
  const dir = await ensureOutputDir(path);
  try {
    return await work();
  } catch (e) {
    await dir.removeIfEmpty();
    throw e;
  }
}
