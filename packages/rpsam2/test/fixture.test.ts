import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Adam, SafetensorsFile, backward, noGrad, tensor, tidy, type Tensor } from '@rpsam2/tensor';
import { fileSource } from '@rpsam2/tensor/node';
import { Sam2ImagePredictor, Sam2Model, isVideoOnlyKey, loadWeights, parseOfficialConfig } from '@rpsam2/sam2';
import { verifyRpsam2Fixture, type CheckResult } from '../src/verify/fixture-verifier.js';
import { computeCandidates } from '../src/candidates/candidates.js';
import { RpSam2, targetLowRes } from '../src/pipeline/rpsam2.js';
import { ShiftBlock, shiftBlockConfigFromSpec } from '../src/shift-block/shift-block.js';

const fixtures = new URL('../../../../shared/fixtures/', import.meta.url).pathname;
const rpDir = `${fixtures}rpsam2/tiny256/`;
const spec = JSON.parse(readFileSync(rpDir + 'spec.json', 'utf8'));
const sam2Dir = `${fixtures}sam2/${spec.sam2_fixture}/`;
const open = (path: string) => SafetensorsFile.open(fileSource(path));

describe('RP-SAM2 vs the PyTorch goldens (rpsam2/tiny256 on sam2/tiny256)', () => {
  it('every golden tensor matches: candidates, clicks, shift block, SAM 2 on the refined clicks, loss terms, all gradients', async () => {
    const results: CheckResult[] = [];
    const t0 = performance.now();
    const golden = await open(rpDir + 'golden.safetensors');
    await verifyRpsam2Fixture(
      {
        spec,
        shiftWeights: await open(rpDir + 'shift_block.safetensors'),
        golden,
        sam2: {
          meta: JSON.parse(readFileSync(sam2Dir + 'meta.json', 'utf8')),
          weights: await open(sam2Dir + 'weights.safetensors'),
          golden: await open(sam2Dir + 'golden.safetensors'),
        },
      },
      (r) => results.push(r),
    );
    console.log(
      results.map((r) => `${r.passed ? 'PASS' : 'FAIL'} ${r.name} ${r.kind} ${r.err.toExponential(2)}${r.note ? ` ${r.note}` : ''}`).join('\n') +
        `\n${results.filter((r) => r.passed).length} passed, ${results.filter((r) => !r.passed).length} failed; time ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const failed = results.filter((r) => !r.passed).map((r) => `${r.name}: ${r.err} ${r.note ?? ''}`);
    expect(failed).toEqual([]);
    // Every golden tensor but the input clicks_px is a check; all 113 parameter gradients among them.
    expect(results.length).toBe(golden.keys().length - 1);
    expect(results.filter((r) => r.kind === 'grad').length).toBe(golden.keys().filter((k) => k.startsWith('grad.')).length);
    expect(results.filter((r) => r.kind === 'grad').length).toBe(6 * 18 + 5);
  }, 600_000);
});

describe('RP-SAM2 pipeline on the tiny256 SAM 2', () => {
  let model: Sam2Model;
  let predictor: Sam2ImagePredictor;
  let mask: Uint8Array;
  let h0: number;
  let w0: number;

  beforeAll(async () => {
    const meta = JSON.parse(readFileSync(sam2Dir + 'meta.json', 'utf8'));
    [h0, w0] = meta.orig_hw;
    model = new Sam2Model(parseOfficialConfig({ ...meta.model_config, image_size: meta.image_size }, 'tiny256'));
    await loadWeights(model, await open(sam2Dir + 'weights.safetensors'), { ignore: isVideoOnlyKey });
    await model.promptEncoder.prepare();
    const golden = await open(sam2Dir + 'golden.safetensors');
    const pixels = tensor(await golden.readF32('input.pixels'), golden.entry('input.pixels').shape);
    const features = noGrad(() => tidy(() => model.forwardImage(pixels)));
    pixels.dispose();
    predictor = new Sam2ImagePredictor(model);
    predictor.setFeatures(features, [h0, w0]);
    mask = await golden.readBytes('input.target_mask');
  }, 120_000);

  afterAll(() => {
    predictor?.dispose();
    model?.dispose();
  });

  it('candidate Dice values do not depend on how the clicks are batched', async () => {
    const timed = async (batchSize: number) => {
      const t0 = performance.now();
      const c = await computeCandidates(predictor, mask, { batchSize });
      return { c, ms: performance.now() - t0 };
    };
    // 73 grid clicks: one batch of 73 vs batches of 24, 24, 24 and 1.
    const runs = [await timed(128), await timed(24)];
    const big = runs[0].c;
    const small = runs[1].c;
    console.log(`candidates: ${big.gridCount} grid clicks, ${big.count} candidates; ms with batch 128: ${runs[0].ms.toFixed(0)}, batch 24: ${runs[1].ms.toFixed(0)}`);
    expect(small.gridPx).toEqual(big.gridPx);
    expect(small.isCandidate).toEqual(big.isCandidate);
    for (let i = 0; i < big.gridCount; i++) expect(Math.abs(small.dice[i] - big.dice[i])).toBeLessThan(1e-6);
  });

  it('RpSam2.forward reproduces the golden loss, and Adam steps on the shift block lower it', async () => {
    const block = new ShiftBlock(shiftBlockConfigFromSpec(spec.shift_block));
    await loadWeights(block, await open(rpDir + 'shift_block.safetensors'));
    block.setTrainable(true);
    const rp = new RpSam2(predictor, block);
    const golden = await open(rpDir + 'golden.safetensors');
    const owned: Tensor[] = [];
    const own = (t: Tensor) => (owned.push(t), t);
    const clicks = own(tensor(await golden.readF32('clicks_norm'), golden.entry('clicks_norm').shape));
    const gt = own(tensor(Float32Array.from(mask), [1, 1, h0, w0]));
    const targets = {
      gt,
      targetLowRes: own(targetLowRes(gt, model.gridSize * 4)),
      candidates: own(tensor(await golden.readF32('candidates.norm'), golden.entry('candidates.norm').shape)),
    };
    const opt = new Adam(block.parameters(), { lr: 1e-5 });
    try {
      const losses: number[] = [];
      const times: number[] = [];
      for (let step = 0; step < 4; step++) {
        const t0 = performance.now();
        opt.zeroGrad();
        const loss = tidy(() => rp.forward(clicks, targets).loss!.total);
        losses.push(await loss.item());
        backward(loss);
        loss.dispose();
        opt.step();
        await block.parameters()[0].data();
        times.push(performance.now() - t0);
      }
      console.log(`training steps (B = 10 clicks, tiny256): losses ${losses.map((l) => l.toFixed(4)).join(' → ')}; ms/step ${times.map((t) => t.toFixed(0)).join(', ')}`);
      expect(losses[0]).toBeCloseTo((await golden.readF32('loss.total'))[0], 3);
      expect(losses[3]).toBeLessThan(losses[0]);
    } finally {
      opt.zeroGrad();
      opt.dispose();
      for (const t of owned) t.dispose();
      block.dispose();
    }
  }, 300_000);
});
