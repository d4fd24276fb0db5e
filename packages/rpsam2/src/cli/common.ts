/**
 * Shared pieces of the `rpsam2` CLI: output streams (commands run as functions in tests), usage
 * errors (exit status 2, printed without a stack), argument parsers and input checks that fail
 * early with a message naming the file.
 */
import { defaultModelNotice, defaultModelSpec, readSam2ConfigArg, type Sam2Config } from '@rpsam2/sam2';
import { constants } from 'node:fs';
import { nodeFs } from '../checkpoint/node-io.js';

/** Where a command writes: stdout lines (results) and stderr (progress, messages). */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
  /** The progress stream (stderr in the CLI; its isTTY decides how progress is drawn). */
  progress?: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  /** Called once a command can be interrupted: `stop` asks it to finish cleanly. */
  onInterruptible?(stop: () => void): void;
}

/** A bad invocation or missing input: printed without a stack, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A click `x,y` in pixels. */
export function parsePoint(text: string): [number, number] {
  const parts = text.split(',').map((s) => s.trim());
  const v = parts.map(Number);
  if (parts.length !== 2 || parts.some((p) => p === '') || v.some((x) => !Number.isFinite(x))) {
    throw new UsageError(`--point '${text}': expected x,y in pixels, e.g. 120,200`);
  }
  return [v[0], v[1]];
}

/** Throws a UsageError unless `path` is a readable file; `what` names the option. */
export async function requireFile(path: string | undefined, what: string, hint = ''): Promise<string> {
  if (!path) throw new UsageError(`${what} is required${hint ? ` (${hint})` : ''}`);
  const fs = await nodeFs();
  try {
    const st = await fs.stat(path);
    if (!st.isFile()) throw new UsageError(`${what} ${path}: not a file`);
    await fs.access(path, constants.R_OK);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${what} ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})${hint ? ` — ${hint}` : ''}`);
  }
  return path;
}

/** Throws a UsageError unless `path` exists (file or directory). */
export async function requirePath(path: string | undefined, what: string, hint = ''): Promise<string> {
  if (!path) throw new UsageError(`${what} is required${hint ? ` (${hint})` : ''}`);
  const fs = await nodeFs();
  try {
    await fs.stat(path);
  } catch (e) {
    throw new UsageError(`${what} ${path}: not found (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})${hint ? ` — ${hint}` : ''}`);
  }
  return path;
}

/**
 * A SAM 2 config from a size name (t, s, b+, l, …) or a config file in the official layout (the
 * Hydra YAML, the same as JSON, or a fixture's meta.json; see `readSam2ConfigArg`); '' or
 * undefined: infer from the weights (returns undefined). Every problem is a usage error.
 */
export async function resolveSam2Config(arg: string | undefined): Promise<Sam2Config | undefined> {
  if (!arg) return undefined;
  try {
    return await readSam2ConfigArg(arg);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** A file name without its directory. */
export function baseName(p: string): string {
  return p.replace(/^.*[/\\]/, '');
}

/**
 * The SAM 2 weights and config a command runs with: the given file (checked) and config, or —
 * when no weights are given — the embedded default model, announced on stderr.
 */
export async function resolveSam2Source(
  weightsArg: string | undefined,
  configArg: string | undefined,
  flag: string,
  io: CliIO,
): Promise<{ weights: string; config: Sam2Config | undefined; isDefault: boolean }> {
  if (!weightsArg) {
    const d = await defaultModelSpec();
    io.err(defaultModelNotice(d.card));
    return { weights: d.weights, config: configArg ? await resolveSam2Config(configArg) : d.config, isDefault: true };
  }
  const weights = await requireFile(weightsArg, flag, 'the SAM 2 checkpoint (.pt or .safetensors)');
  return { weights, config: await resolveSam2Config(configArg), isDefault: false };
}
