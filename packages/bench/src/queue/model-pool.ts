/**
 * The models a worker keeps loaded between jobs: one SAM 2 and, for `label` jobs, one shift
 * block. Jobs name their models; consecutive jobs of the same models (the usual case) reuse them,
 * and a job for another model frees the current one first, so a worker holds one SAM 2 and one
 * shift block on its device at a time.
 */
import { defaultShiftBlockSpec, loadShiftBlockFrom, openCheckpoint, type ShiftBlock } from '@rpsam2/rpsam2';
import { Sam2ImagePredictor } from '@rpsam2/sam2';
import { loadSam2Spec, type LoadedSam2, type Sam2Spec } from '../evaluation/sam2-models.js';

/** A loaded model and a predictor over it (the predictor's current image is the job's business). */
export interface PooledModel {
  loaded: LoadedSam2;
  predictor: Sam2ImagePredictor;
}

/** A loaded shift block and where it came from. */
export interface PooledShiftBlock {
  block: ShiftBlock;
  /** The checkpoint file it was read from. */
  path: string;
}

/** `''` in a job: the default shift block shipped for the embedded default SAM 2. */
export const DEFAULT_SHIFT_BLOCK = '';

/** One loaded SAM 2 and one shift block at a time, by spec (see the module comment). */
export class ModelPool {
  private current: { key: string; model: Promise<PooledModel> } | null = null;
  private shift: { key: string; block: Promise<PooledShiftBlock> } | null = null;

  /** Loads used so far (a second model counts again). */
  loads = 0;

  /** The model of `spec`, loaded on first use. */
  async get(spec: Sam2Spec): Promise<PooledModel> {
    const key = JSON.stringify([spec.weights, spec.config, spec.dtype]);
    if (this.current?.key === key) return this.current.model;
    await this.disposeModel();
    this.loads++;
    const model = loadSam2Spec(spec).then((loaded) => ({ loaded, predictor: new Sam2ImagePredictor(loaded.model) }));
    this.current = { key, model };
    try {
      return await model;
    } catch (e) {
      this.current = null;
      throw e;
    }
  }

  /** The shift block at `path` (a checkpoint file or run folder, best else last; {@link DEFAULT_SHIFT_BLOCK}: the shipped one). */
  async shiftBlock(path: string): Promise<PooledShiftBlock> {
    if (this.shift?.key === path) return this.shift.block;
    await this.disposeShiftBlock();
    const block = (async () => {
      const file = path === DEFAULT_SHIFT_BLOCK ? (await defaultShiftBlockSpec()).weights : path;
      return { block: await loadShiftBlockFrom(await openCheckpoint(file, { prefer: 'best' })), path: file };
    })();
    this.shift = { key: path, block };
    try {
      return await block;
    } catch (e) {
      this.shift = null;
      throw e;
    }
  }

  private async disposeModel(): Promise<void> {
    const c = this.current;
    this.current = null;
    const m = c && (await c.model.catch(() => null));
    if (!m) return;
    m.predictor.dispose();
    m.loaded.model.dispose();
  }

  private async disposeShiftBlock(): Promise<void> {
    const s = this.shift;
    this.shift = null;
    const b = s && (await s.block.catch(() => null));
    b?.block.dispose();
  }

  /** Frees everything loaded (idempotent). */
  async dispose(): Promise<void> {
    await this.disposeModel();
    await this.disposeShiftBlock();
  }
}
