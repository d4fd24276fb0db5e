/**
 * Where a run writes: `out` for results and stage messages (stdout in the CLI; its last line is
 * `report: <run directory>`), `err` for warnings, and a progress stream for redrawn status lines
 * (stderr in the CLI). Tests pass collectors instead.
 */
import type { ProgressStream } from '@rpsam2/rpsam2';

export interface RunIO {
  out(line: string): void;
  err(line: string): void;
  progress: ProgressStream;
}

/** The process's streams. */
export const processIO: RunIO = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  progress: process.stderr,
};

/** An IO that records lines (tests). */
export function memoryIO(): RunIO & { lines: string[]; errors: string[]; progressText: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  const progressText: string[] = [];
  return {
    lines,
    errors,
    progressText,
    out: (l) => lines.push(l),
    err: (l) => errors.push(l),
    progress: { write: (s: string) => progressText.push(s), isTTY: false },
  };
}
