/**
 * The JSONL log of a training run: one JSON object per line, each with the step it was written
 * at. Appending creates the run directory when needed; on resume, {@link JsonlLog.truncateAfter}
 * drops the lines written after the checkpoint's step (by a run that crashed later), so the log
 * matches the resumed run exactly. A null path writes nothing. Node only (files).
 */
import { importNode } from '../../weights/node-import.js';
import { parentDir, writeFileAtomically } from './atomic-file.js';

type Fs = typeof import('node:fs/promises');

/** A line of a training log: any JSON object that carries its step. */
export interface JsonlLogLine {
  step: number;
}

/**
 * A training run's JSONL log: one JSON object per line, each with its step; a null path writes
 * nothing. Node only.
 */
export class JsonlLog<L extends JsonlLogLine> {
  constructor(readonly path: string | null) {}

  /** Appends one line (creating the folder first). */
  async append(line: L): Promise<void> {
    if (!this.path) return;
    const fs = await importNode<Fs>('node:fs/promises');
    await fs.mkdir(parentDir(this.path), { recursive: true });
    await fs.appendFile(this.path, JSON.stringify(line) + '\n');
  }

  /**
   * Drops lines whose step is after `step` (and a torn last line), rewriting the file atomically;
   * returns how many were dropped. A missing file: nothing.
   */
  async truncateAfter(step: number): Promise<number> {
    if (!this.path) return 0;
    const fs = await importNode<Fs>('node:fs/promises');
    let text: string;
    try {
      text = await fs.readFile(this.path, 'utf8');
    } catch {
      return 0;
    }
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    const kept = lines.filter((l) => {
      try {
        return (JSON.parse(l) as JsonlLogLine).step <= step;
      } catch {
        return false; // a torn last line
      }
    });
    if (kept.length !== lines.length) await writeFileAtomically(this.path, kept.map((l) => l + '\n').join(''));
    return lines.length - kept.length;
  }

  /** All lines of the log at `path` (for tests and tools). */
  static async read<L extends JsonlLogLine = JsonlLogLine>(path: string): Promise<L[]> {
    const fs = await importNode<Fs>('node:fs/promises');
    const text = await fs.readFile(path, 'utf8');
    return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as L);
  }
}
