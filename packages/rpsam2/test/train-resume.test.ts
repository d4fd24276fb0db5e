import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sam2Model } from '@rpsam2/sam2';
import type { FeatureCache } from '../src/cache/feature-cache.js';
import { openCheckpoint, saveCheckpoint } from '../src/checkpoint/checkpoint.js';
import { ShiftBlock } from '../src/shift-block/shift-block.js';
import { resolveTrainConfig, type TrainConfig } from '../src/train/config.js';
import { MetricsLog, type TrainLogLine } from '../src/train/metrics-log.js';
import { CachedSource } from '../src/train/sources.js';
import { syntheticShapes } from '../src/train/synthetic.js';
import { Trainer, type TrainSummary } from '../src/train/trainer.js';
import { TINY_SHIFT, loadTinySam2, tinyFeatureCache } from './helpers/tiny-sam2.js';

describe('training: checkpoints, exact resume, stop requests', () => {
  let model: Sam2Model;
  let cache: FeatureCache;
  const root = mkdtempSync(join(tmpdir(), 'rpsam2-train-'));

  beforeAll(async () => {
    model = await loadTinySam2();
    cache = await tinyFeatureCache(model, syntheticShapes({ count: 3, height: 48, width: 64, objectsPerImage: [1, 2], seed: 5 }), root);
  });

  afterAll(() => {
    model.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  const config = (out: string, extra: string[] = []): TrainConfig =>
    resolveTrainConfig({ out, sam2: { weights: 'unused' }, epochs: 3, batchSize: 2, clicksPerObject: 3, lr: 1e-3, seed: 7, data: { valFraction: 0 }, val: { clicksPerObject: 2 } }, extra);

  /** Trains with a fresh tiny shift block; `stopAt`: request a stop after that step (as SIGINT does). */
  async function train(out: string, options: { stopAt?: number; resume?: boolean } = {}) {
    const block = new ShiftBlock(TINY_SHIFT).init(0);
    const src = new CachedSource(model, cache, undefined, 8);
    const trainer = new Trainer({
      model,
      block,
      train: src,
      val: src,
      config: config(out),
      out,
      onProgress: (p) => {
        if (p.globalStep === options.stopAt) trainer.requestStop();
      },
    });
    try {
      if (options.resume) await trainer.resumeFrom(await openCheckpoint(join(out, 'checkpoints', 'last.safetensors')));
      const summary: TrainSummary = await trainer.run();
      const weights = new Map<string, Float32Array>();
      for (const [n, s] of block.namedParams()) weights.set(n, await s.get(n).data());
      const adam = new Map<string, Float32Array>();
      const sd = trainer.optimizer.stateDict();
      for (const [k, t] of Object.entries(sd.tensors)) {
        adam.set(k, await t.data());
        t.dispose();
      }
      return { summary, weights, adam, steps: sd.scalars, stepsPerEpoch: trainer.stepsPerEpoch };
    } finally {
      trainer.dispose();
      src.dispose();
      block.dispose();
    }
  }

  const trainLines = async (out: string) => ((await MetricsLog.read(join(out, 'log.jsonl'))).filter((l) => l.type === 'train') as TrainLogLine[]).map(({ step, epoch, loss, dice, dist, out: o }) => ({ step, epoch, loss, dice, dist, out: o }));

  it('N steps in one run = k steps, a stop (as on SIGINT), a resume and N − k steps: identical weights, optimizer state and log', async () => {
    const a = await train(join(root, 'a'));
    expect(a.summary.reason).toBe('done');
    const total = 3 * a.stepsPerEpoch;
    expect(a.summary.state).toMatchObject({ epoch: 3, stepInEpoch: 0, globalStep: total });
    expect(total).toBeGreaterThanOrEqual(4);

    // Stop mid-epoch: the step finishes, `last` is saved, the run returns 'stopped'.
    const k = a.stepsPerEpoch + 1;
    const outB = join(root, 'b');
    const b1 = await train(outB, { stopAt: k });
    expect(b1.summary.reason).toBe('stopped');
    expect(b1.summary.state).toMatchObject({ epoch: 1, stepInEpoch: 1, globalStep: k });
    const ck = await openCheckpoint(join(outB, 'checkpoints', 'last.safetensors'));
    expect(ck.meta!.state).toMatchObject({ epoch: 1, stepInEpoch: 1, globalStep: k });
    expect(JSON.parse(readFileSync(join(outB, 'checkpoints', 'last.json'), 'utf8')).state.globalStep).toBe(k);
    expect((await trainLines(outB)).at(-1)!.step).toBe(k);
    // A later crashed run may have logged steps after the checkpoint (and a torn line): dropped on resume.
    appendFileSync(join(outB, 'log.jsonl'), JSON.stringify({ type: 'train', step: k + 1, epoch: 1, loss: 9 }) + '\n{"type":"tr');

    const b2 = await train(outB, { resume: true });
    expect(b2.summary.reason).toBe('done');
    expect(b2.summary.state.globalStep).toBe(total);
    for (const [n, w] of a.weights) expect(b2.weights.get(n), n).toEqual(w);
    for (const [n, w] of a.adam) expect(b2.adam.get(n), n).toEqual(w);
    expect(b2.steps).toEqual(a.steps);
    expect(await trainLines(outB)).toEqual(await trainLines(join(root, 'a')));
    // Validation ran after every epoch and the best checkpoint carries its Dice.
    const val = (await MetricsLog.read(join(outB, 'log.jsonl'))).filter((l) => l.type === 'val');
    expect(val.map((v) => v.step)).toEqual([a.stepsPerEpoch, 2 * a.stepsPerEpoch, 3 * a.stepsPerEpoch]);
    const best = await openCheckpoint(join(outB, 'checkpoints', 'best.safetensors'));
    expect(best.meta!.kind).toBe('best');
    expect(best.meta!.metrics!.dice).toBe(b2.summary.state.bestValDice);
  });

  it('a failed checkpoint write leaves the previous checkpoint intact', async () => {
    const path = join(root, 'b', 'checkpoints', 'last.safetensors');
    const before = readFileSync(path);
    const beforeJson = readFileSync(join(root, 'b', 'checkpoints', 'last.json'), 'utf8');
    const block = new ShiftBlock(TINY_SHIFT).init(1);
    // A parameter freed under the writer: reading it back fails half-way through the save.
    block.namedParams()[5][1].value!.dispose();
    await expect(saveCheckpoint(path, { block, state: { epoch: 0, stepInEpoch: 0, globalStep: 0, rngState: 0, bestValDice: null, bestEpoch: null }, config: {} })).rejects.toThrow(/used after dispose/);
    block.dispose();
    // A torn temporary file from an interrupted write next to it changes nothing either.
    writeFileSync(join(root, 'b', 'checkpoints', `.last.safetensors.999.x.tmp`), before.subarray(0, 100));
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readFileSync(join(root, 'b', 'checkpoints', 'last.json'), 'utf8')).toBe(beforeJson);
    const ck = await openCheckpoint(join(root, 'b'), { prefer: 'last' });
    expect(ck.path).toBe(path);
    expect(ck.meta!.state.globalStep).toBeGreaterThan(0);
  });

  it('resume checks what it resumes from', async () => {
    const block = new ShiftBlock({ ...TINY_SHIFT, ffn: 32 }).init(0);
    const src = new CachedSource(model, cache);
    const trainer = new Trainer({ model, block, train: src, val: null, config: config(join(root, 'c')), out: null });
    try {
      await expect(trainer.resumeFrom(await openCheckpoint(join(root, 'b', 'checkpoints', 'last.safetensors')))).rejects.toThrow(/shift block .* differs from this run's/);
      // A plain shift-block file has no training state.
      await expect(trainer.resumeFrom(await openCheckpoint(new URL('../../../../shared/fixtures/rpsam2/tiny256/shift_block.safetensors', import.meta.url).pathname))).rejects.toThrow(/plain shift-block file has no training state/);
    } finally {
      trainer.dispose();
      src.dispose();
      block.dispose();
    }
  });
});
