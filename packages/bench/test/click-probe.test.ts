/** `bench probe-sam2-clicks`: flags, both modes end to end at a small input, the frozen-encoder swap. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_TRAIN_CONFIG, Sam2Model, Sam2Trainer, defaultModelPaths, initTrainingWeights, parseDefaultModelConfig, type ImageFeatures } from '@rpsam2/sam2';
import { tensor } from '@rpsam2/tensor';
import { FrozenEncoder, parseProbeSam2ClicksArgs, probeSam2ClicksCommand, type ProbeEval } from '../src/sam2-training/click-probe.js';

const dir = mkdtempSync(join(tmpdir(), 'click-probe-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the command with --json and returns its parsed summary. */
async function runProbe(argv: string[]): Promise<{ mode: string; frames: number; steps: number; prompts: Record<string, number>; evals: ProbeEval[] }> {
  let out = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    expect(await probeSam2ClicksCommand(parseProbeSam2ClicksArgs([...argv, '--json']))).toBe(0);
  } finally {
    write.mockRestore();
    err.mockRestore();
  }
  return JSON.parse(out);
}

describe('probe-sam2-clicks flags', () => {
  it('has defaults and refuses bad values by name', () => {
    expect(parseProbeSam2ClicksArgs([])).toMatchObject({ frames: 1, steps: 160, evalEvery: 80, size: 256, encoder: undefined, boxes: 0, corrections: 0, multimask: 0.5, anatomy: 0 });
    expect(parseProbeSam2ClicksArgs(['--boxes', '0.35', '--corrections', '1', '--multimask', '0', '--anatomy', '2'])).toMatchObject({ boxes: 0.35, corrections: 1, multimask: 0, anatomy: 2 });
    expect(() => parseProbeSam2ClicksArgs(['--boxes', '1.5'])).toThrow(/--boxes needs a probability in \[0, 1\], got '1.5'/);
    expect(() => parseProbeSam2ClicksArgs(['--multimask', ''])).toThrow(/--multimask needs a probability/);
    expect(() => parseProbeSam2ClicksArgs(['--anatomy', '1.5'])).toThrow(/--anatomy needs a non-negative integer, got '1.5'/);
    expect(() => parseProbeSam2ClicksArgs(['--size', '100'])).toThrow(/--size must be a multiple of 16/);
    expect(() => parseProbeSam2ClicksArgs(['--steps', '0'])).toThrow(/--steps/);
    expect(() => parseProbeSam2ClicksArgs(['--frames', 'x'])).toThrow(/--frames/);
  });
});

describe('probe-sam2-clicks runs', () => {
  it('from scratch on one frame: evaluations at the requested steps, Dice and spread in range', async () => {
    const r = await runProbe(['--size', '128', '--steps', '2', '--eval-every', '1', '--boxes', '0.5', '--corrections', '1']);
    expect(r.mode).toBe('frames');
    expect(r.prompts).toEqual({ boxes: 0.5, corrections: 1, multimask: 0.5, anatomy: 0 });
    expect(r.evals.map((e) => e.step)).toEqual([1, 2]);
    for (const e of r.evals) {
      expect(e.instrumentDice).toBeGreaterThanOrEqual(0);
      expect(e.instrumentDice).toBeLessThanOrEqual(1);
      expect(e.clickSpread).toBeGreaterThanOrEqual(0);
    }
  });

  it('decoder only on a checkpoint, and a clear error for a missing one', async () => {
    const config = parseDefaultModelConfig(readFileSync((await defaultModelPaths()).config, 'utf8'));
    const m = new Sam2Model({ ...config, imageSize: 128 });
    initTrainingWeights(m, 1);
    await m.promptEncoder.prepare();
    const run = join(dir, 'run');
    const trainer = await Sam2Trainer.open(m, { description: 'none', sample: () => Promise.reject(new Error('unused')) }, DEFAULT_TRAIN_CONFIG, run);
    await trainer.save();
    trainer.dispose();
    m.dispose();
    const r = await runProbe(['--size', '128', '--steps', '1', '--eval-every', '1', '--frames', '2', '--encoder', join(run, 'checkpoint.safetensors')]);
    expect(r).toMatchObject({ mode: 'decoder-only', frames: 2, steps: 1 });
    expect(r.evals).toHaveLength(1);
    await expect(probeSam2ClicksCommand(parseProbeSam2ClicksArgs(['--size', '128', '--encoder', join(dir, 'missing.safetensors')]))).rejects.toThrow(/missing\.safetensors/);
  });
});

describe('FrozenEncoder', () => {
  it('hands out copies of the selected frame\'s cached features and restores the encoder inside live()', async () => {
    const config = parseDefaultModelConfig(readFileSync((await defaultModelPaths()).config, 'utf8'));
    const m = new Sam2Model({ ...config, imageSize: 128 });
    const features = (v: number): ImageFeatures => ({ imageEmbed: tensor([v], [1]), highRes: [tensor([v + 0.5], [1]), tensor([v + 0.25], [1])] });
    const cache = [features(1), features(2)];
    const px = tensor([0], [1]);
    try {
      const enc = new FrozenEncoder(m, cache);
      const sample = { image: { width: 1, height: 1, channels: 3 as const, data: new Uint8Array(3) }, objects: [] };
      expect(enc.select(1, sample)).toBe(sample);
      const f = m.forwardImage(px);
      expect([...(await f.imageEmbed.data()), ...(await f.highRes[0].data()), ...(await f.highRes[1].data())]).toEqual([2, 2.5, 2.25]);
      f.imageEmbed.dispose();
      f.highRes.forEach((t) => t.dispose());
      // The copies were disposed, the cache still holds its values.
      expect(await cache[1].imageEmbed.data()).toEqual(new Float32Array([2]));
      // live(): the real encoder, which validates its input.
      await expect(enc.live(async () => m.forwardImage(px))).rejects.toThrow(/expected pixels \[B, 3, 128, 128\]/);
      const again = m.forwardImage(px);
      expect(await again.imageEmbed.data()).toEqual(new Float32Array([2]));
      [again.imageEmbed, ...again.highRes].forEach((t) => t.dispose());
    } finally {
      px.dispose();
      cache.forEach((c) => [c.imageEmbed, ...c.highRes].forEach((t) => t.dispose()));
      m.dispose();
    }
  });
});
