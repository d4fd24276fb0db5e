/**
 * Undo/redo over the whole session: each step records which frame it changed and that frame's
 * labels before and after (immutable values, so a step costs two references). Undo restores the
 * `before` state of the latest step (and tells the page which frame to show); redo replays it.
 * A new step clears the redo stack. The oldest steps are dropped past `limit`.
 */

/** One recorded step. */
export interface Step<S> {
  frameId: string;
  /** What the step did, for the status bar ("click", "accept", …). */
  label: string;
  before: S;
  after: S;
}

export class History<S> {
  private done: Step<S>[] = [];
  private undone: Step<S>[] = [];

  constructor(readonly limit = 1000) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`History: limit must be a positive integer, got ${limit}`);
  }

  get canUndo(): boolean {
    return this.done.length > 0;
  }

  get canRedo(): boolean {
    return this.undone.length > 0;
  }

  /** Steps that can be undone. */
  get depth(): number {
    return this.done.length;
  }

  /** Records a step (no-op when before and after are the same value). */
  record(frameId: string, label: string, before: S, after: S): void {
    if (before === after) return;
    this.done.push({ frameId, label, before, after });
    if (this.done.length > this.limit) this.done.shift();
    this.undone = [];
  }

  /** The step to undo (its `before` is the state to restore), or null. */
  undo(): Step<S> | null {
    const s = this.done.pop();
    if (!s) return null;
    this.undone.push(s);
    return s;
  }

  /** The step to redo (its `after` is the state to restore), or null. */
  redo(): Step<S> | null {
    const s = this.undone.pop();
    if (!s) return null;
    this.done.push(s);
    return s;
  }

  /** Forgets everything. */
  clear(): void {
    this.done = [];
    this.undone = [];
  }
}
