/**
 * What the SAM 2 trainer (`Sam2Trainer`, this package) and the RP-SAM2 trainer (`Trainer`,
 * @rpsam2/rpsam2) share: the stop request, the run's JSONL log and the checkpoint cadence.
 *
 * - {@link TrainerSkeleton.requestStop} (e.g. from a Ctrl-C handler) only sets a flag: the loop
 *   checks {@link TrainerSkeleton.stopping} between steps, so the step in progress finishes, the
 *   trainer saves its checkpoint, and `run` returns;
 * - {@link TrainerSkeleton.log}: one JSON line per step (and per evaluation), see jsonl-log.ts;
 * - {@link TrainerSkeleton.checkpointDue}: a checkpoint every `every` steps (0: none on cadence);
 * - checkpoints are written with `writeFileAtomically` (atomic-file.ts).
 *
 * The loops themselves stay in the trainers (steps of a run vs. epochs of batches, one checkpoint
 * vs. last/best), as do their checkpoint formats.
 */
import type { JsonlLog, JsonlLogLine } from './jsonl-log.js';

/**
 * The base of the SAM 2 and RP-SAM2 trainers: the stop request checked between steps, the run's
 * JSONL log and the checkpoint cadence.
 */
export abstract class TrainerSkeleton<L extends JsonlLogLine> {
  private stopRequested = false;

  protected constructor(
    /** The run's JSONL log (a null path writes nothing). */
    readonly log: JsonlLog<L>,
  ) {}

  /** Asks the run to stop after the step in progress (it saves first). */
  requestStop(): void {
    this.stopRequested = true;
  }

  /** Whether a stop was requested. */
  get stopping(): boolean {
    return this.stopRequested;
  }

  /** Whether a checkpoint is due after `step` steps when saving every `every` steps (0 or absent: never). */
  protected checkpointDue(step: number, every: number | undefined): boolean {
    return Boolean(every) && step % every! === 0;
  }
}
