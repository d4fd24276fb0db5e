/**
 * The clicks of `bench label`: a JSON object from frame id to that frame's clicks, one positive
 * click `[x, y]` (pixels of the original frame, x = column, y = row) per object to label:
 *
 *   { "frame_0001": [[412, 300], [120, 88]], "frame_0002": [[400, 310]] }
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../runs/run-args.js';

/** A click [x, y] in pixels. */
export type PixelClick = [number, number];

/** Parses a clicks file's text; throws a {@link UsageError} naming the file and the bad entry. */
export function parseClicks(text: string, label: string): Map<string, PixelClick[]> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${label}: not valid JSON (${(e as Error).message})`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new UsageError(`${label}: expected an object { "<frame id>": [[x, y], …] }`);
  const out = new Map<string, PixelClick[]>();
  for (const [id, clicks] of Object.entries(json as Record<string, unknown>)) {
    if (!Array.isArray(clicks) || clicks.length === 0) throw new UsageError(`${label}: "${id}" must be a non-empty list of clicks [[x, y], …]`);
    out.set(
      id,
      clicks.map((c, k) => {
        if (!Array.isArray(c) || c.length !== 2 || !c.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
          throw new UsageError(`${label}: "${id}" click ${k} must be [x, y] with finite numbers ≥ 0 (pixels), got ${JSON.stringify(c)}`);
        }
        return [c[0], c[1]] as PixelClick;
      }),
    );
  }
  return out;
}

/** Reads a clicks file (see the module comment). */
export async function readClicksFile(path: string): Promise<Map<string, PixelClick[]>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--clicks ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseClicks(text, path);
}
