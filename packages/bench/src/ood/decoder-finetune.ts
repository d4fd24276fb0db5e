/**
 * SAM2-FT: SAM 2's mask decoder fine-tuned on a labelled set — the hand-labelled share's ground
 * truth and the pseudo masks of the rest — with `@rpsam2/sam2`'s trainer (its losses, AdamW,
 * schedule and exact resumption) and the image encoder and prompt encoder frozen
 * (`freezeEncoder`, `freezePromptEncoder`). The encoder never runs: each step's features come from
 * the run's training feature cache through a {@link FrozenEncoder}.
 *
 * Frame order: epoch e visits the frames in a permutation seeded by (seed, e); a frame none of
 * whose masks has a pixel (a frame without instruments, or a labeller that gave nothing) is
 * skipped for the next one of the permutation. So step s always trains on the same frame.
 *
 * The result is a plain SAM 2 weights file (official key names, `weights.safetensors`) that
 * `loadSam2` reads like any SAM 2 checkpoint; `done.json` marks a finished fine-tune.
 */
import { join } from 'node:path';
import type { FeatureCache } from '@rpsam2/rpsam2';
import { mixSeed, permutation, saveTensors, type Tensor } from '@rpsam2/tensor';
import { writeFileAtomic } from '@rpsam2/tensor/node';
import { Sam2Trainer, type Sam2Model, type Sam2TrainConfig, type TrainLogEntry, type TrainSample, type TrainSource } from '@rpsam2/sam2';
import { FrozenEncoder } from '../sam2-training/frozen-encoder.js';
import { pathExists, writeJson } from '../runs/run-dir.js';
import { readPseudoMasks } from './pseudo-masks.js';

/** A training frame: its cache id, and where its masks come from (null: the ground truth in the cache). */
export interface FinetuneFrame {
  id: string;
  pseudoDir: string | null;
}

/** What {@link finetuneDecoder} needs. */
export interface DecoderFinetunePlan {
  /** The SAM 2 to fine-tune in place (f32 weights; the caller owns it). */
  model: Sam2Model;
  /** Features and ground truth of the frames. */
  cache: FeatureCache;
  frames: readonly FinetuneFrame[];
  /** The trainer's settings (`step.freezeEncoder` and `step.freezePromptEncoder` are forced on). */
  config: Sam2TrainConfig;
  /** The fine-tune's folder (trainer checkpoint, train.jsonl, weights.safetensors, done.json). */
  dir: string;
  /** Names the training data (checked when resuming). */
  description: string;
  shouldStop?: () => boolean;
  onTrainer?: (t: Sam2Trainer | null) => void;
  onStep?: (entry: Extract<TrainLogEntry, { type: 'step' }>, total: number) => void;
}

/** The outcome: the exported weights, or a stop. */
export interface DecoderFinetuneResult {
  stopped: boolean;
  steps: number;
  /** `weights.safetensors` (when not stopped). */
  weights: string;
  loaded: boolean;
}

/** The exported weights of a fine-tune folder. */
export function finetunedWeightsPath(dir: string): string {
  return join(dir, 'weights.safetensors');
}

/** Fine-tunes the decoder (or finds it done); see the module comment. */
export async function finetuneDecoder(plan: DecoderFinetunePlan): Promise<DecoderFinetuneResult> {
  const weights = finetunedWeightsPath(plan.dir);
  const donePath = join(plan.dir, 'done.json');
  if ((await pathExists(donePath)) && (await pathExists(weights))) return { stopped: false, steps: plan.config.steps, weights, loaded: true };
  const config: Sam2TrainConfig = { ...plan.config, step: { ...plan.config.step, freezeEncoder: true, freezePromptEncoder: true } };
  const encoder = new FrozenEncoder(plan.model, [], { external: true });
  const source = new FinetuneSource(plan.cache, plan.frames, config.seed, config.imagesPerStep, encoder, plan.description);
  let trainer: Sam2Trainer | null = null;
  try {
    trainer = await Sam2Trainer.open(plan.model, source, config, plan.dir);
    plan.onTrainer?.(trainer);
    if (plan.shouldStop?.()) trainer.requestStop();
    const r = await trainer.run({ onStep: plan.onStep });
    if (r.stopped) return { stopped: true, steps: r.steps, weights, loaded: false };
    const tensors: Record<string, Tensor> = {};
    for (const [n, s] of plan.model.namedParams()) tensors[n] = s.get(n);
    await writeFileAtomic(weights, await saveTensors(tensors, { name: 'SAM2-FT', data: plan.description, steps: String(r.steps) }));
    await writeJson(donePath, { finishedAt: new Date().toISOString(), steps: r.steps, description: plan.description });
    return { stopped: false, steps: r.steps, weights, loaded: false };
  } finally {
    plan.onTrainer?.(null);
    trainer?.dispose();
    encoder.release();
  }
}

/** The frames as a trainer source: features held by the frozen encoder, masks from the cache or a pseudo set. */
class FinetuneSource implements TrainSource {
  private readonly blank = new Map<string, Uint8Array>();

  constructor(
    private readonly cache: FeatureCache,
    private readonly frames: readonly FinetuneFrame[],
    private readonly seed: number,
    private readonly imagesPerStep: number,
    private readonly encoder: FrozenEncoder,
    readonly description: string,
  ) {
    if (frames.length === 0) throw new Error(`SAM2-FT: no training frames (${description})`);
    if (imagesPerStep !== 1) throw new Error('SAM2-FT: cached features serve one frame per step (imagesPerStep 1)');
  }

  async sample(index: number): Promise<TrainSample> {
    const n = this.frames.length;
    const epoch = Math.floor(index / n);
    const perm = permutation(n, mixSeed(this.seed, epoch));
    for (let t = 0; t < n; t++) {
      const f = this.frames[perm[(index + t) % n]];
      const entry = this.cache.entries.find((e) => e.id === f.id);
      if (!entry) throw new Error(`SAM2-FT: feature cache ${this.cache.dir} has no frame '${f.id}'`);
      let masks: Uint8Array[] | null = null;
      if (f.pseudoDir) {
        const p = await readPseudoMasks(f.pseudoDir, f.id);
        if (p.areas.some((a) => a > 0)) masks = p.masks;
      } else if (entry.objects.length > 0) masks = [];
      if (!masks) continue;
      const img = await this.cache.load(f.id);
      if (!f.pseudoDir) masks = img.objects.map((o) => o.mask);
      this.encoder.hold(img.features);
      const [h, w] = img.origHW;
      return {
        // The encoder does not run (cached features); the trainer only needs the frame's size.
        image: { width: w, height: h, channels: 3, data: this.blankOf(w, h) },
        objects: masks.map((mask, k) => ({ mask, kind: 'instrument' as const, classKey: img.objects[k]?.className })),
      };
    }
    throw new Error(`SAM2-FT: no frame with a non-empty mask (${this.description})`);
  }

  private blankOf(w: number, h: number): Uint8Array {
    const key = `${w}x${h}`;
    let b = this.blank.get(key);
    if (!b) this.blank.set(key, (b = new Uint8Array(w * h * 3)));
    return b;
  }
}
