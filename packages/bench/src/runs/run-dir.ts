/**
 * Run directories: `runs/<YYYYMMDD-HHMMSS>-<name>/` (the repository's `/runs/` is git-ignored),
 * holding everything a run made — config, environment, data it generated, caches, checkpoints,
 * samples, tables, figures — and JSON files written atomically (a crash never leaves half a file).
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ensureOutputDir, pathExists, writeFileAtomic } from '@rpsam2/tensor/node';

/** The default parent of run directories (relative to the working directory). */
export const DEFAULT_RUNS_DIR = 'runs';

/** `YYYYMMDD-HHMMSS` of a date, local time. */
export function timestamp(d: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** A name made safe for a folder: letters, digits, `.`, `_` and `-`. */
export function slug(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  return s || 'run';
}

/**
 * Creates a fresh run directory `<parent>/<timestamp>-<name>` (a `-2`, `-3`, … suffix when it
 * exists) and returns its absolute path. With `exact`, creates that directory, which must not
 * exist or be empty.
 */
export async function createRunDir(options: { parent?: string; name: string; exact?: string; now?: Date }): Promise<string> {
  if (options.exact) {
    const dir = resolve(options.exact);
    if (await pathExists(join(dir, 'config.json'))) throw new Error(`${dir} already holds a run (config.json): continue it with --resume ${options.exact}, or choose another --out`);
    await ensureOutputDir(dir);
    return dir;
  }
  const parent = resolve(options.parent ?? DEFAULT_RUNS_DIR);
  const base = join(parent, `${timestamp(options.now)}-${slug(options.name)}`);
  for (let k = 1; ; k++) {
    const dir = k === 1 ? base : `${base}-${k}`;
    if (await pathExists(dir)) continue;
    await ensureOutputDir(dir);
    return dir;
  }
}

/** JSON with two-space indentation and a final newline; NaN and ±Infinity become null. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

/** Writes `value` as JSON atomically. */
export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, new TextEncoder().encode(toJson(value)));
}

/** Writes text or bytes atomically. */
export async function writeFileSafe(path: string, data: string | Uint8Array): Promise<void> {
  await writeFileAtomic(path, typeof data === 'string' ? new TextEncoder().encode(data) : data);
}

/** Reads a JSON file; errors name the file. */
export async function readJson<T>(path: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

export { pathExists };
