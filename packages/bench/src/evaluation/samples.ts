/**
 * Per-sample records of an evaluation, one JSON object per line (`samples.jsonl`), appended as
 * they are computed so that an interrupted run loses at most the line being written. Reopening
 * the file for a resumed run reads every complete record (a torn last line is cut off), and the
 * evaluation skips the samples it already has: the file of an interrupted-then-resumed run is
 * the file an uninterrupted run writes.
 *
 * Records hold no timings (they would differ between runs); stage timings go to results.json.
 */
import { open, readFile, truncate, type FileHandle } from 'node:fs/promises';
import type { EmptyCase } from '../metrics/mask-metrics.js';

/** One evaluated sample: a method, a click seed, an object of an image. */
export interface SampleRecord {
  method: string;
  seed: number;
  /** The frame's id (`<case or video>/<file>`). */
  image: string;
  /** The object's index in the frame's annotation. */
  object: number;
  /** Class key (the paper's abbreviation). */
  class: string;
  /** The drawn click, pixel (column, row). */
  click: [number, number];
  /** The point SAM 2 was prompted with after refinement (pixels, continuous); null for plain SAM 2. */
  refined: [number, number] | null;
  dice: number;
  /** MONAI HD95 in pixels. */
  hd95: number;
  /** medpy (pooled) HD95 in pixels. */
  hd95Pooled: number;
  /** Which mask was empty ('none' normally; the empty-mask policy gave the values otherwise). */
  empty: EmptyCase;
  /** SAM 2's predicted IoU of the chosen mask. */
  score: number;
  /** Which of the three multimask outputs was chosen (0–2). */
  maskIndex: number;
}

/** The identity of a sample (method, image, object, seed). */
export function sampleKey(r: Pick<SampleRecord, 'method' | 'image' | 'object' | 'seed'>): string {
  return `${r.method}\t${r.image}\t${r.object}\t${r.seed}`;
}

const FIELDS: (keyof SampleRecord)[] = ['method', 'seed', 'image', 'object', 'class', 'click', 'refined', 'dice', 'hd95', 'hd95Pooled', 'empty', 'score', 'maskIndex'];

/** Throws, naming the line, unless `v` is a well-formed record. */
function checkRecord(v: unknown, where: string): SampleRecord {
  const r = v as SampleRecord;
  const bad = (what: string) => new Error(`${where}: ${what}`);
  if (!r || typeof r !== 'object') throw bad('not a JSON object');
  for (const f of FIELDS) if (!(f in r)) throw bad(`missing field '${f}'`);
  if (typeof r.method !== 'string' || typeof r.image !== 'string' || typeof r.class !== 'string') throw bad('method, image and class must be strings');
  if (!Number.isInteger(r.seed) || !Number.isInteger(r.object)) throw bad('seed and object must be integers');
  if (!Array.isArray(r.click) || r.click.length !== 2) throw bad('click must be [x, y]');
  if (typeof r.dice !== 'number' || typeof r.hd95 !== 'number') throw bad('dice and hd95 must be numbers');
  return r;
}

/** The complete records of a samples file ([] when it does not exist); a torn last line is reported, not parsed. */
export async function readSamples(path: string): Promise<{ records: SampleRecord[]; validBytes: number; tornBytes: number }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], validBytes: 0, tornBytes: 0 };
    throw new Error(`${path}: cannot read (${(e as Error).message})`);
  }
  const end = text.lastIndexOf('\n') + 1; // everything after the last newline is a torn write
  const records: SampleRecord[] = [];
  const lines = text.slice(0, end).split('\n');
  lines.pop();
  lines.forEach((line, i) => {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new Error(`${path}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
    records.push(checkRecord(v, `${path}:${i + 1}`));
  });
  return { records, validBytes: Buffer.byteLength(text.slice(0, end)), tornBytes: Buffer.byteLength(text.slice(end)) };
}

/** An append-only samples file; `has` tells which samples are done. */
export class SampleLog {
  private readonly done = new Map<string, SampleRecord>();
  private readonly order: SampleRecord[] = [];

  private constructor(
    readonly path: string,
    private handle: FileHandle | null,
  ) {}

  /**
   * Opens `path` for appending. With `resume`, the complete records already there are kept (a torn
   * last line is cut off); without, an existing non-empty file is an error (no silent mixing).
   */
  static async open(path: string, options: { resume: boolean }): Promise<{ log: SampleLog; resumed: number; tornBytes: number }> {
    const { records, validBytes, tornBytes } = await readSamples(path);
    if (!options.resume && validBytes + tornBytes > 0) throw new Error(`${path} already holds ${records.length} samples: resume the run (--resume) or use another output folder`);
    if (tornBytes > 0) await truncate(path, validBytes);
    const log = new SampleLog(path, await open(path, 'a'));
    for (const r of records) {
      const k = sampleKey(r);
      if (log.done.has(k)) throw new Error(`${path}: sample ${k.replace(/\t/g, ' / ')} appears twice`);
      log.done.set(k, r);
      log.order.push(r);
    }
    return { log, resumed: records.length, tornBytes };
  }

  /** Whether the sample is already recorded. */
  has(key: string): boolean {
    return this.done.has(key);
  }

  /** The recorded sample, if any. */
  get(key: string): SampleRecord | undefined {
    return this.done.get(key);
  }

  /** Every record, in file order. */
  get records(): readonly SampleRecord[] {
    return this.order;
  }

  get size(): number {
    return this.order.length;
  }

  /** Appends one record (one write of one line). */
  async append(r: SampleRecord): Promise<void> {
    if (!this.handle) throw new Error(`${this.path}: the samples log is closed`);
    const k = sampleKey(r);
    if (this.done.has(k)) throw new Error(`${this.path}: sample ${k.replace(/\t/g, ' / ')} is already recorded`);
    const line = JSON.stringify(r, FIELDS as string[]) + '\n';
    await this.handle.write(line);
    this.done.set(k, r);
    this.order.push(r);
  }

  /** Flushes to disk and closes. */
  async close(): Promise<void> {
    if (!this.handle) return;
    await this.handle.sync().catch(() => undefined);
    await this.handle.close();
    this.handle = null;
  }
}
