/**
 * The JSONL log of a training run (`<out>/log.jsonl`): one JSON object per line, `type` 'train'
 * (per step: losses, time, throughput) or 'val' (per validation: Dice, in-candidate rates), each
 * with the global step it was written at. On resume the lines written after the checkpoint's step
 * (by a run that crashed later) are dropped, so the log matches the resumed run exactly.
 */
import { nodeFs, writeAtomic } from '../checkpoint/node-io.js';

export interface TrainLogLine {
  type: 'train';
  step: number;
  epoch: number;
  loss: number;
  dice: number | null;
  dist: number | null;
  out: number | null;
  /** The cover term (weighted), when on. */
  cover?: number;
  ms: number;
  clicksPerSec: number;
  lr: number;
}

export interface ValLogLine {
  type: 'val';
  step: number;
  epoch: number;
  dice: number;
  rawDice: number;
  inCandidate: number;
  rawInCandidate: number;
  objects: number;
  clicks: number;
  best: boolean;
  ms: number;
}

export type LogLine = TrainLogLine | ValLogLine | { type: 'event'; step: number; event: string; [k: string]: unknown };

export class MetricsLog {
  constructor(readonly path: string | null) {}

  async append(line: LogLine): Promise<void> {
    if (!this.path) return;
    const fs = await nodeFs();
    await fs.appendFile(this.path, JSON.stringify(line) + '\n');
  }

  /** Drops lines whose step is after `step` (atomically rewrites the file); missing file: nothing. */
  async truncateAfter(step: number): Promise<number> {
    if (!this.path) return 0;
    const fs = await nodeFs();
    let text: string;
    try {
      text = await fs.readFile(this.path, 'utf8');
    } catch {
      return 0;
    }
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    const kept = lines.filter((l) => {
      try {
        return (JSON.parse(l) as LogLine).step <= step;
      } catch {
        return false; // a torn last line
      }
    });
    if (kept.length !== lines.length) await writeAtomic(this.path, kept.map((l) => l + '\n').join(''));
    return lines.length - kept.length;
  }

  /** All lines (for tests and tools). */
  static async read(path: string): Promise<LogLine[]> {
    const fs = await nodeFs();
    const text = await fs.readFile(path, 'utf8');
    return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as LogLine);
  }
}
