/**
 * The RP-SAM2 training loop (SAM 2 frozen, only the shift block trains):
 *
 * - per epoch the training objects are shuffled (a permutation seeded by the run seed and the
 *   epoch) and taken in batches of `batchSize`; each object gets `clicksPerObject` random clicks
 *   on its mask per step, drawn from the run's RNG stream;
 * - Adam on the shift block's parameters; the compound loss with the configured switches;
 * - after every `val.every` epochs, validation: fixed clicks per validation object, refined,
 *   SAM 2's best-IoU mask from the refined click, Dice at the original size (and the raw click's
 *   Dice, and how often each click lies in the candidate region); the best checkpoint is kept by
 *   validation Dice;
 * - checkpoints (last, best) in safetensors with the optimizer state, epoch/step and the RNG
 *   state, so {@link Trainer.resumeFrom} continues exactly: N steps in one run give the same
 *   weights as k steps, a stop, and N − k resumed steps;
 * - {@link Trainer.requestStop} (e.g. on SIGINT) lets the current step finish, saves, and
 *   returns.
 *
 * The stop request, the JSONL log, the checkpoint cadence and the atomic checkpoint writes are the
 * trainer skeleton of @rpsam2/sam2 (`TrainerSkeleton`, `JsonlLog`, `writeFileAtomically`), shared
 * with SAM 2's trainer; the epoch loop, validation and last/best checkpoints are this trainer's.
 */
import { Adam, SeededRandom, clipGradNorm, mixSeed, permutation } from '@rpsam2/tensor';
import { TrainerSkeleton, loadWeights, type Sam2Model } from '@rpsam2/sam2';
import type { ShiftBlock } from '../shift-block/shift-block.js';
import { saveCheckpoint, restoreOptimizer, type OpenedCheckpoint, type TrainState } from '../checkpoint/checkpoint.js';
import { joinPath, nodeFs, writeAtomic } from '../checkpoint/node-io.js';
import type { TrainConfig } from './config.js';
import { MetricsLog, type LogLine, type ValLogLine, type ValMetrics } from './metrics-log.js';

export type { ValMetrics } from './metrics-log.js';
import type { ObjectRef, PreparedObject, TrainingSource } from './sources.js';
import { evaluateClicks, forwardBackward, inCandidateRegion, objectClicks, type StepResult } from './step.js';

/** Progress after each step. */
export interface TrainProgress {
  epoch: number;
  epochs: number;
  stepInEpoch: number;
  stepsPerEpoch: number;
  globalStep: number;
  result: StepResult;
  /** Wall time of the step (data, forward, backward, optimizer), ms. */
  stepMs: number;
  clicksPerSec: number;
  /** Estimated time left for the configured epochs (or maxSteps), ms. */
  etaMs: number;
}

/**
 * What a {@link Trainer} works with: SAM 2 (frozen), the shift block to train, the training and
 * validation sources, the configuration, the output folder and progress callbacks.
 */
export interface TrainerParts {
  model: Sam2Model;
  /** The shift block (initialised or loaded); the trainer makes it trainable. */
  block: ShiftBlock;
  train: TrainingSource;
  /** Validation objects (null: no validation, no best checkpoint). */
  val: TrainingSource | null;
  config: TrainConfig;
  /** Output directory for checkpoints/, log.jsonl and config.json; null writes nothing. */
  out: string | null;
  /** Called after every training step. */
  onProgress?: (p: TrainProgress) => void;
  /** Human-readable messages (validation results, checkpoints). */
  onMessage?: (line: string) => void;
}

/**
 * What {@link Trainer.run} returns: why it ended, the training state then, and the last step's and
 * last validation's results.
 */
export interface TrainSummary {
  /** 'done': all epochs; 'stopped': requestStop; 'maxSteps': the step limit was reached. */
  reason: 'done' | 'stopped' | 'maxSteps';
  state: TrainState;
  lastStep: StepResult | null;
  lastVal: ValMetrics | null;
}

/**
 * The RP-SAM2 training loop: trains the shift block with Adam on the compound loss (SAM 2 frozen),
 * validates, and writes resumable last/best checkpoints and the JSONL log (see the module comment).
 */
export class Trainer extends TrainerSkeleton<LogLine> {
  private adam: Adam;
  /** The run's `log.jsonl` (nothing written without an output directory). */
  declare readonly log: MetricsLog;
  state: TrainState;
  private readonly rng: SeededRandom;
  private rawVal: { dice: number; inCandidate: number } | null = null;
  private stepMsEma = 0;

  constructor(private readonly parts: TrainerParts) {
    super(new MetricsLog(parts.out ? joinPath(parts.out, 'log.jsonl') : null));
    const c = parts.config;
    parts.block.setTrainable(true);
    this.adam = new Adam(parts.block.parameters(), { lr: c.lr });
    this.rng = new SeededRandom(c.seed);
    this.state = { epoch: 0, stepInEpoch: 0, globalStep: 0, rngState: this.rng.state, bestValDice: null, bestEpoch: null };
    if (parts.train.objects.length === 0) throw new Error(`trainer: ${parts.train.name} has no objects to train on`);
  }

  /** The optimizer (Adam on the shift block's parameters). */
  get optimizer(): Adam {
    return this.adam;
  }

  get config(): TrainConfig {
    return this.parts.config;
  }

  /** Steps per epoch: ⌈objects / batchSize⌉. */
  get stepsPerEpoch(): number {
    return Math.ceil(this.parts.train.objects.length / this.config.batchSize);
  }

  /** Path of the `last` / `best` checkpoint (null without an output directory). */
  checkpointPath(kind: 'last' | 'best'): string | null {
    return this.parts.out ? joinPath(this.parts.out, 'checkpoints', `${kind}.safetensors`) : null;
  }

  /**
   * Continues from a checkpoint: shift block weights, optimizer state, epoch/step and RNG
   * state; the log loses lines after the checkpoint's step.
   */
  async resumeFrom(ck: OpenedCheckpoint): Promise<void> {
    if (!ck.meta) throw new Error(`${ck.path}: a plain shift-block file has no training state; cannot resume from it`);
    const want = JSON.stringify(this.parts.block.config);
    const have = JSON.stringify({ ...this.parts.block.config, ...ck.meta.shiftBlock });
    if (want !== have) throw new Error(`${ck.path}: shift block ${JSON.stringify(ck.meta.shiftBlock)} differs from this run's ${want}`);
    await loadWeights(this.parts.block, ck.file, { prefix: ck.prefix });
    // loadWeights replaced the parameter tensors: a new optimizer over them, with the saved state.
    this.parts.block.setTrainable(true);
    this.adam.dispose();
    this.adam = new Adam(this.parts.block.parameters(), { lr: this.config.lr });
    await restoreOptimizer(this.adam, ck);
    this.state = { ...ck.meta.state };
    this.rng.state = this.state.rngState;
    const dropped = await this.log.truncateAfter(this.state.globalStep);
    this.parts.onMessage?.(`resumed from ${ck.path}: epoch ${this.state.epoch + 1}, step ${this.state.stepInEpoch}/${this.stepsPerEpoch}, ${this.state.globalStep} steps done${dropped ? ` (${dropped} log lines after it dropped)` : ''}`);
  }

  private async save(kind: 'last' | 'best', metrics?: Record<string, number | null>): Promise<void> {
    const path = this.checkpointPath(kind);
    if (!path) return;
    this.state.rngState = this.rng.state;
    await saveCheckpoint(path, { block: this.parts.block, optimizer: this.optimizer, state: this.state, config: this.config, kind, metrics });
  }

  /** The clicks of one object for a step (drawn from the run's stream). */
  private drawClicks(o: PreparedObject, k: number): Float32Array {
    const [h, w] = o.target.origHW;
    return objectClicks(o.target.mask, h, w, k, this.rng.seed());
  }

  /** One optimizer step on `refs`. */
  private async step(refs: ObjectRef[]): Promise<StepResult> {
    const c = this.config;
    const batch = await this.parts.train.prepare(refs, c.mode === 'on-the-fly' || c.augment.featureHflip || c.augment.featureVflip ? this.rng : null);
    try {
      const objs = batch.objects.map((o) => ({ target: o.target, clicks: this.drawClicks(o, c.clicksPerObject) }));
      this.optimizer.zeroGrad();
      const r = await forwardBackward(this.parts.model, this.parts.block, objs, {
        loss: c.loss,
        decodeChunkClicks: c.decodeChunkClicks || undefined,
        candidateReach: c.candidateReach,
        distTarget: c.distTarget,
        coverWeight: c.coverWeight,
        reachEpsilon: c.candidateEpsilon || c.candidates.epsilon,
      });
      if (c.clipGradNorm > 0) clipGradNorm(this.parts.block.parameters(), c.clipGradNorm).dispose();
      this.optimizer.step();
      this.optimizer.zeroGrad();
      return r;
    } finally {
      batch.release();
    }
  }

  /** Validation on the validation source (fixed clicks per object, no gradient). */
  async validate(): Promise<ValMetrics | null> {
    const val = this.parts.val;
    if (!val || val.objects.length === 0) return null;
    const t0 = performance.now();
    const c = this.config;
    let dice = 0;
    let inCand = 0;
    let rawDice = 0;
    let rawIn = 0;
    let clicks = 0;
    const needRaw = this.rawVal === null;
    const group = 8;
    for (let s = 0; s < val.objects.length; s += group) {
      const refs = val.objects.slice(s, s + group);
      const batch = await val.prepare(refs, null);
      try {
        const objs = batch.objects.map((o, j) => {
          const [h, w] = o.target.origHW;
          return { target: o.target, clicks: objectClicks(o.target.mask, h, w, c.val.clicksPerObject, mixSeed(c.val.seed, s + j)) };
        });
        const ev = await evaluateClicks(this.parts.model, this.parts.block, objs, { raw: needRaw, groupSize: group });
        batch.objects.forEach((o, j) => {
          const [h, w] = o.target.origHW;
          const ci = o.candidates;
          for (let i = 0; i < c.val.clicksPerObject; i++) {
            dice += ev.refinedDice[j][i];
            if (inCandidateRegion(ev.refined[j][2 * i] * w, ev.refined[j][2 * i + 1] * h, ci.gridPx, ci.isCandidate, ci.gridStep)) inCand++;
            if (needRaw) {
              rawDice += ev.rawDice[j][i];
              if (inCandidateRegion(objs[j].clicks[2 * i] * w, objs[j].clicks[2 * i + 1] * h, ci.gridPx, ci.isCandidate, ci.gridStep)) rawIn++;
            }
            clicks++;
          }
        });
      } finally {
        batch.release();
      }
    }
    if (needRaw) this.rawVal = { dice: rawDice / clicks, inCandidate: rawIn / clicks };
    return {
      epoch: this.state.epoch,
      dice: dice / clicks,
      rawDice: this.rawVal!.dice,
      inCandidate: inCand / clicks,
      rawInCandidate: this.rawVal!.inCandidate,
      objects: val.objects.length,
      clicks,
      ms: performance.now() - t0,
    };
  }

  /** Runs until the configured epochs (or maxSteps) are done or a stop is requested. */
  async run(): Promise<TrainSummary> {
    const c = this.config;
    const out = this.parts.out;
    const say = (s: string) => this.parts.onMessage?.(s);
    if (out) {
      const fs = await nodeFs();
      await fs.mkdir(joinPath(out, 'checkpoints'), { recursive: true });
      await writeAtomic(joinPath(out, 'config.json'), JSON.stringify(c, null, 2) + '\n');
    }
    const n = this.parts.train.objects.length;
    const spe = this.stepsPerEpoch;
    let lastStep: StepResult | null = null;
    let lastVal: ValMetrics | null = null;
    const totalSteps = c.maxSteps ? Math.min(c.maxSteps, c.epochs * spe) : c.epochs * spe;
    const finish = async (reason: TrainSummary['reason']): Promise<TrainSummary> => {
      await this.save('last');
      await this.log.append({ type: 'event', step: this.state.globalStep, event: reason, epoch: this.state.epoch, stepInEpoch: this.state.stepInEpoch });
      return { reason, state: { ...this.state }, lastStep, lastVal };
    };
    while (this.state.epoch < c.epochs) {
      const order = permutation(n, mixSeed(c.seed, this.state.epoch));
      while (this.state.stepInEpoch < spe) {
        if (this.stopping) return finish('stopped');
        if (c.maxSteps && this.state.globalStep >= c.maxSteps) return finish('maxSteps');
        const s = this.state.stepInEpoch;
        const refs = order.slice(s * c.batchSize, (s + 1) * c.batchSize).map((i) => this.parts.train.objects[i]);
        const t0 = performance.now();
        lastStep = await this.step(refs);
        const ms = performance.now() - t0;
        this.state.stepInEpoch++;
        this.state.globalStep++;
        this.state.rngState = this.rng.state;
        this.stepMsEma = this.stepMsEma ? 0.9 * this.stepMsEma + 0.1 * ms : ms;
        const clicksPerSec = (lastStep.clicks * 1000) / ms;
        await this.log.append({
          type: 'train',
          step: this.state.globalStep,
          epoch: this.state.epoch,
          loss: lastStep.total,
          dice: lastStep.dice,
          dist: lastStep.dist,
          out: lastStep.out,
          ...(lastStep.cover !== null ? { cover: lastStep.cover } : {}),
          ms: Math.round(ms * 10) / 10,
          clicksPerSec: Math.round(clicksPerSec * 100) / 100,
          lr: this.optimizer.lr,
        });
        this.parts.onProgress?.({
          epoch: this.state.epoch,
          epochs: c.epochs,
          stepInEpoch: this.state.stepInEpoch,
          stepsPerEpoch: spe,
          globalStep: this.state.globalStep,
          result: lastStep,
          stepMs: ms,
          clicksPerSec,
          etaMs: (totalSteps - this.state.globalStep) * this.stepMsEma,
        });
        if (this.checkpointDue(this.state.globalStep, c.checkpointEvery)) await this.save('last');
      }
      // End of the epoch: validate, keep the best, save.
      this.state.epoch++;
      this.state.stepInEpoch = 0;
      if (this.parts.val && (this.state.epoch % c.val.every === 0 || this.state.epoch === c.epochs)) {
        const v = await this.validate();
        if (v) {
          v.epoch = this.state.epoch;
          lastVal = v;
          const best = this.state.bestValDice === null || v.dice > this.state.bestValDice;
          if (best) {
            this.state.bestValDice = v.dice;
            this.state.bestEpoch = this.state.epoch;
          }
          const line: ValLogLine = { type: 'val', step: this.state.globalStep, ...v, best, ms: Math.round(v.ms) };
          await this.log.append(line);
          say(
            `epoch ${this.state.epoch}/${c.epochs}: val Dice ${v.dice.toFixed(4)} (raw clicks ${v.rawDice.toFixed(4)}), in candidates ${(100 * v.inCandidate).toFixed(1)}% (raw ${(100 * v.rawInCandidate).toFixed(1)}%)${best ? ' — best' : ''}`,
          );
          if (best) await this.save('best', { dice: v.dice, rawDice: v.rawDice, inCandidate: v.inCandidate, rawInCandidate: v.rawInCandidate });
        }
      }
      await this.save('last');
    }
    return finish('done');
  }

  /** Frees the optimizer state (the block, model and sources belong to the caller). */
  dispose(): void {
    this.adam.dispose();
  }
}
