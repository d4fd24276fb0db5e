/**
 * f16 weight storage: the tiny256 fixture with its Linear/Conv weights stored as f16 on the GPU
 * (compute in f32) against the PyTorch goldens and against the f32 model.
 *
 * Tolerance: f16 keeps 11 significant bits, so every stored weight moves by up to 2^-11 ≈ 4.9e-4
 * of its value; through the encoder and the decoder these relative errors add up over a few
 * dozen layers. Measured on tiny256: max |f16 − golden| ≤ 7.8e-4 · max(1, max|golden|) (the
 * image embedding: 3.6e-3 at scale 4.6; decoder outputs ≤ 4.5e-4) and relative L2 ≤ 9.2e-4. The
 * test allows 5e-3 · max(1, max|golden|) — 5× the f32 tolerance of 1e-3, ~6× the measured worst —
 * and relative L2 ≤ 5e-3, while the f32 model must still pass the f32 tolerance.
 */
import { describe, expect, it } from 'vitest';
import {
  backward,
  clamp,
  interpolate,
  maxAbsError,
  noGrad,
  relL2Error,
  SafetensorsFile,
  slice,
  softDiceLoss,
  tensor,
  tidy,
  type Tensor,
} from '@rpsam2/tensor';
import { fileSource } from '@rpsam2/tensor/node';
import { Sam2ImagePredictor, type Prompt } from '../src/predictor/image-predictor.js';
import { loadSam2 } from '../src/weights/load.js';
import { fixtureConfig, fixtureDir, fixtureMeta } from './support.js';

const F16_ABS = 5e-3;
const F16_REL_L2 = 5e-3;

const dir = fixtureDir('tiny256');
const meta = fixtureMeta('tiny256');
const cfg = fixtureConfig('tiny256');

function casePrompt(c: any): Prompt {
  const p: Prompt = { multimaskOutput: Boolean(c.multimask) };
  if (c.points) {
    p.points = c.points;
    p.labels = c.labels;
  }
  if (c.boxes) p.box = c.boxes.length === 1 ? c.boxes[0] : c.boxes;
  return p;
}

/** Encoder features and every non-mask-input case's outputs, read back by golden name. */
async function outputs(dtype: 'f32' | 'f16', golden: SafetensorsFile): Promise<{ values: Map<string, Float32Array>; weightBytes: number; f16Parameters: number; parameters: number }> {
  const { model, report } = await loadSam2({ config: cfg, weights: dir + 'weights.safetensors', dtype });
  const predictor = new Sam2ImagePredictor(model);
  const values = new Map<string, Float32Array>();
  try {
    const [h, w] = meta.orig_hw;
    await predictor.setImage({ width: w, height: h, channels: 3, data: await golden.readBytes('input.image') });
    const f = predictor.getFeatures();
    values.set('embed.image_embed', await f.imageEmbed.data());
    values.set('embed.high_res0', await f.highRes[0].data());
    values.set('embed.high_res1', await f.highRes[1].data());
    for (const [name, c] of Object.entries<any>(meta.cases)) {
      if (c.mask_input) continue;
      const out: Record<string, Tensor> = noGrad(() =>
        tidy(() => {
          const r = predictor.decode(casePrompt(c));
          return { low_res: clamp(r.lowRes, -32, 32), iou: r.iou, obj: r.raw.objectScore };
        }),
      );
      for (const [k, t] of Object.entries(out)) {
        values.set(`${name}.${k}`, await t.data());
        t.dispose();
      }
    }
  } finally {
    predictor.dispose();
    model.dispose();
  }
  return { values, weightBytes: report.weightBytes, f16Parameters: report.f16Parameters, parameters: report.parameters };
}

describe('f16 weights', () => {
  it('tiny256 with f16 weights stays close to the goldens and to f32; weights take about half the memory', async () => {
    const golden = await SafetensorsFile.open(fileSource(dir + 'golden.safetensors'));
    const f32 = await outputs('f32', golden);
    const f16 = await outputs('f16', golden);
    // Only the Linear/Conv weights are f16: most of the parameters.
    expect(f16.f16Parameters / f16.parameters).toBeGreaterThan(0.9);
    expect(f16.weightBytes).toBeLessThan(0.56 * f32.weightBytes);
    const rows: string[] = [];
    let worst = 0;
    for (const [name, got] of f16.values) {
      const want = await golden.readF32(name);
      const e16 = maxAbsError(got, want);
      const e32 = maxAbsError(f32.values.get(name)!, want);
      const rel = relL2Error(got, want);
      const vsF32 = maxAbsError(got, f32.values.get(name)!);
      worst = Math.max(worst, e16.err / Math.max(1, e16.scale));
      rows.push(`${name.padEnd(28)} f16 ${e16.err.toExponential(2)} (rel L2 ${rel.toExponential(2)})  f32 ${e32.err.toExponential(2)}  |f16−f32| ${vsF32.err.toExponential(2)}  scale ${e16.scale.toPrecision(3)}`);
      expect(e32.err, `${name} f32`).toBeLessThanOrEqual(1e-3 * Math.max(1, e32.scale));
      expect(e16.err, `${name} f16 max abs`).toBeLessThanOrEqual(F16_ABS * Math.max(1, e16.scale));
      // Relative L2 is meaningless for tensors that are (near) zero.
      if (Math.hypot(...want.slice(0, 4096)) > 1e-3) expect(rel, `${name} f16 rel L2`).toBeLessThanOrEqual(F16_REL_L2);
    }
    console.log(`f16 vs golden (worst ${worst.toExponential(2)} of scale):\n${rows.join('\n')}`);
  }, 300_000);

  it('gradients w.r.t. the click still flow with f16 weights and match the goldens', async () => {
    const golden = await SafetensorsFile.open(fileSource(dir + 'golden.safetensors'));
    const { model } = await loadSam2({ config: cfg, weights: dir + 'weights.safetensors', dtype: 'f16' });
    const predictor = new Sam2ImagePredictor(model);
    const [h, w] = meta.orig_hw;
    const p1 = meta.cases.p1_point_multimask;
    const owned: Tensor[] = [];
    try {
      await predictor.setImage({ width: w, height: h, channels: 3, data: await golden.readBytes('input.image') });
      const mask = await golden.readF32('input.target_mask');
      const target = tidy(() => interpolate(tensor(mask, [1, 1, h, w]), { size: [64, 64], mode: 'bilinear', alignCorners: false }));
      const click = tensor(p1.points.flat(), [1, p1.points.length, 2], { requiresGrad: true });
      owned.push(target, click);
      const loss = tidy(() => {
        const r = predictor.decode({ points: click, labels: [p1.labels], multimaskOutput: false });
        return softDiceLoss(slice(r.raw.masks, [null, { start: 0, end: 1 }]), target, { smooth: 1 });
      });
      owned.push(loss);
      backward(loss);
      const want = await golden.readF32('grad_single.d_point');
      const err = relL2Error(await click.grad!.data(), want);
      console.log(`f16 weights: d loss / d click rel L2 vs golden ${err.toExponential(2)}`);
      expect(err).toBeLessThan(2e-2);
    } finally {
      for (const t of owned) t.dispose();
      predictor.dispose();
      model.dispose();
    }
  }, 300_000);
});
