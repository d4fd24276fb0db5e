/**
 * Wall time per stage of a run (generate, load, cache, train, encode, evaluate, report, …),
 * kept in `timings.json` in the run directory so that a resumed run adds its time to the time
 * already spent, and printed as a summary at the end.
 */
import { join } from 'node:path';
import { pathExists, readJson, writeJson } from './run-dir.js';

/** Seconds per stage, in the order the stages first ran. */
export interface StageTimings {
  stages: { name: string; seconds: number; sessions: number }[];
  totalSeconds: number;
}

export class StageTimer {
  private readonly stages: { name: string; seconds: number; sessions: number }[] = [];
  private readonly touched = new Set<string>();

  private constructor(private readonly path: string | null) {}

  /** A timer backed by `<dir>/timings.json` (continued when it exists), or in memory (null). */
  static async open(dir: string | null): Promise<StageTimer> {
    const t = new StageTimer(dir ? join(dir, 'timings.json') : null);
    if (t.path && (await pathExists(t.path))) {
      const prev = await readJson<StageTimings>(t.path);
      for (const s of prev.stages ?? []) t.stages.push({ name: s.name, seconds: s.seconds, sessions: s.sessions ?? 1 });
    }
    return t;
  }

  /** Adds `ms` to a stage (created at the end of the list). */
  async add(name: string, ms: number): Promise<void> {
    let s = this.stages.find((x) => x.name === name);
    if (!s) this.stages.push((s = { name, seconds: 0, sessions: 0 }));
    s.seconds += ms / 1000;
    if (!this.touched.has(name)) {
      this.touched.add(name);
      s.sessions++;
    }
    if (this.path) await writeJson(this.path, this.timings());
  }

  /** Runs `fn` as stage `name` (its time is added even when it throws). */
  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      await this.add(name, performance.now() - t0);
    }
  }

  /** Seconds of a stage (0 when it never ran). */
  seconds(name: string): number {
    return this.stages.find((s) => s.name === name)?.seconds ?? 0;
  }

  timings(): StageTimings {
    return { stages: this.stages.map((s) => ({ ...s })), totalSeconds: this.stages.reduce((a, s) => a + s.seconds, 0) };
  }

  /** Summary lines: one per stage with seconds and share, then the total. */
  summaryLines(): string[] {
    const t = this.timings();
    const w = Math.max(5, ...t.stages.map((s) => s.name.length));
    const fmt = (sec: number) => (sec >= 60 ? `${Math.floor(sec / 60)}m${(sec % 60).toFixed(0).padStart(2, '0')}s` : `${sec.toFixed(1)}s`);
    const lines = t.stages.map((s) => `  ${s.name.padEnd(w)}  ${fmt(s.seconds).padStart(7)}  ${t.totalSeconds > 0 ? ((100 * s.seconds) / t.totalSeconds).toFixed(0).padStart(3) : '  0'}%`);
    lines.push(`  ${'total'.padEnd(w)}  ${fmt(t.totalSeconds).padStart(7)}`);
    return lines;
  }
}
