/**
 * The JSONL log of a training run (`<out>/log.jsonl`): one JSON object per line, `type` 'train'
 * (per step: losses, time, throughput) or 'val' (per validation: Dice, in-candidate rates), each
 * with the global step it was written at. On resume the lines written after the checkpoint's step
 * (by a run that crashed later) are dropped, so the log matches the resumed run exactly. The log
 * itself (append, truncate, read back) is @rpsam2/sam2's `JsonlLog`, the trainer skeleton's log
 * that SAM 2's trainer writes too; this file names the lines.
 */
import { JsonlLog, type JsonlLogLine } from '@rpsam2/sam2';

/**
 * A training line, one per step: the total loss and its terms (null for a term switched off), the
 * step's time in ms, clicks per second and the learning rate.
 */
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

/** Validation results (means over clicks). */
export interface ValMetrics {
  epoch: number;
  dice: number;
  rawDice: number;
  /** Fraction of refined clicks in the candidate region. */
  inCandidate: number;
  rawInCandidate: number;
  objects: number;
  clicks: number;
  ms: number;
}

/** A validation line: the trainer's {@link ValMetrics} (ms rounded), the step, and whether it was the best so far. */
export interface ValLogLine extends ValMetrics {
  type: 'val';
  step: number;
  best: boolean;
}

/**
 * A line of the log: a training step, a validation, or an event (e.g. why the run ended) with its
 * step and extra fields.
 */
export type LogLine = TrainLogLine | ValLogLine | { type: 'event'; step: number; event: string; [k: string]: unknown };

/**
 * The JSONL log of an RP-SAM2 training run (`<out>/log.jsonl`), with {@link LogLine} lines; a null
 * path writes nothing. Node only.
 */
export class MetricsLog extends JsonlLog<LogLine> {
  /** All lines (for tests and tools); typed as this log's lines. */
  static override read<L extends JsonlLogLine = LogLine>(path: string): Promise<L[]> {
    return JsonlLog.read<L>(path);
  }
}
