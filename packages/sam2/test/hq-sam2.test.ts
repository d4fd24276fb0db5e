/**
 * HQ-SAM2 (SysCV/sam-hq `sam-hq2/`): the module tree against the released Hiera-L checkpoint's
 * names and shapes, the decoder picked by the config's `_target_` or by the checkpoint's keys,
 * and the predictor's `hqTokenOnly` on the hq256 fixture (the whole fixture is verified in
 * fixtures.test.ts).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { maxAbsError, SafetensorsFile } from '@rpsam2/tensor';
import { fileSource } from '@rpsam2/tensor/node';
import { parseOfficialConfig, presetConfig } from '../src/config.js';
import { Sam2Model, isVideoOnlyKey } from '../src/model/sam2-model.js';
import { MaskDecoderHQ } from '../src/model/mask-decoder-hq.js';
import { Sam2ImagePredictor } from '../src/predictor/image-predictor.js';
import { decodeImage } from '../src/image/codec.js';
import { loadSam2, Sam2WeightsError } from '../src/weights/load.js';
import { runSam2 } from '../src/cli/run.js';
import type { PredictSummary } from '../src/cli/predict.js';
import { fixtureConfig, fixtureDir, shapesOnlySource } from './support.js';

const HQ = new URL('../../../../shared/fixtures/hq-sam2/', import.meta.url).pathname;
const hqDir = HQ + 'hq256/';
const hqMeta = JSON.parse(readFileSync(hqDir + 'meta.json', 'utf8'));
const manifest = JSON.parse(readFileSync(HQ + 'manifest-hq-sam2.1.json', 'utf8'))['sam2.1_hq_hiera_l'];
const elements = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** The fixture's config with SAM 2's `_target_` (what a user passing SAM 2's yaml gives). */
function sam2TargetConfig() {
  const mc = { ...hqMeta.model_config, _target_: 'sam2.modeling.sam2_base.SAM2Base', image_size: hqMeta.image_size };
  return parseOfficialConfig(mc, 'hq256-as-sam2');
}

describe('HQ-SAM2 module tree', () => {
  it('sam2.1_hq_hiera_l: exactly the checkpoint image-path and decoder keys and shapes', () => {
    const model = new Sam2Model({ ...presetConfig('l'), maskDecoder: 'hq' });
    expect(model.maskDecoder).toBeInstanceOf(MaskDecoderHQ);
    const ours = new Map(model.namedParams().map(([n, s]) => [n, [...s.shape]]));
    const official: Record<string, number[]> = manifest.tensors;
    const imagePath = Object.entries(official).filter(([k]) => !isVideoOnlyKey(k));
    expect(imagePath.filter(([k]) => !ours.has(k)).map(([k]) => k), 'checkpoint keys the model lacks').toEqual([]);
    expect([...ours.keys()].filter((k) => !(k in official)), 'model keys absent from the checkpoint').toEqual([]);
    expect(imagePath.filter(([k, s]) => ours.has(k) && ours.get(k)!.join(',') !== s.join(',')).map(([k]) => k), 'shape mismatches').toEqual([]);
    expect(Object.keys(official).filter((k) => !ours.has(k)).every(isVideoOnlyKey)).toBe(true);
    // The manifest's own totals: the whole file and the decoder.
    expect(Object.values(official).reduce((n, s) => n + elements(s), 0)).toBe(manifest.total_elements);
    const decoder = model.namedParams().filter(([n]) => n.startsWith('sam_mask_decoder.'));
    expect(decoder.reduce((n, [, s]) => n + elements(s.shape), 0)).toBe(manifest.elements_by_module.sam_mask_decoder);
    expect(model.paramCount()).toBe(imagePath.reduce((n, [, s]) => n + elements(s), 0));
    // SAM 2's Hiera-L plus the HQ token, its MLP and the mask-feature convs (d = 256).
    const hqOnly = decoder.filter(([n]) => /\.(hf_token|hf_mlp|embedding_maskfeature)\./.test(n));
    expect(hqOnly.reduce((n, [, s]) => n + elements(s.shape), 0)).toBe(model.paramCount() - new Sam2Model(presetConfig('l')).paramCount());
    expect((model.maskDecoder as MaskDecoderHQ).hqParamCount()).toBe(177_152);
    expect(manifest.total_elements - 224_446_898).toBe(177_152); // SAM 2.1 Hiera-L's checkpoint total
  });

  it("the config's _target_ selects the decoder", () => {
    expect(parseOfficialConfig({ ...hqMeta.model_config, image_size: 256 }).maskDecoder).toBe('hq');
    expect(sam2TargetConfig().maskDecoder).toBe('sam2');
    expect(fixtureConfig('tiny256').maskDecoder).toBe('sam2');
    expect(presetConfig('l').maskDecoder).toBe('sam2');
    expect(() => parseOfficialConfig({ ...hqMeta.model_config, pred_obj_scores: false })).toThrow(/HQ mask decoder needs pred_obj_scores/);
  });
});

describe('HQ-SAM2 weights', () => {
  it("the checkpoint's keys select the HQ decoder, also under SAM 2's config or with no config", async () => {
    const { model, report } = await loadSam2({ config: sam2TargetConfig(), weights: hqDir + 'weights.safetensors' });
    try {
      expect(report.maskDecoder).toBe('hq');
      expect(model.maskDecoder).toBeInstanceOf(MaskDecoderHQ);
      expect(report.skippedVideoKeys.every((k) => isVideoOnlyKey(k))).toBe(true);
    } finally {
      model.dispose();
    }
    // The released Hiera-L layout passes the key check with no config (size and decoder inferred);
    // the shapes-only source then fails at the first data read, after the check.
    const err = await loadSam2({ weights: shapesOnlySource(manifest.tensors, 'hq-l') }).catch((e) => e);
    expect(err).not.toBeInstanceOf(Sam2WeightsError);
    expect(String(err)).toMatch(/hq-l: no data/);
    // SAM 2 weights under an HQ config: the HQ keys are missing, by name.
    const e2 = await loadSam2({ config: { ...fixtureConfig('tiny256'), maskDecoder: 'hq' }, weights: fixtureDir('tiny256') + 'weights.safetensors' }).catch((e) => e);
    expect(e2).toBeInstanceOf(Sam2WeightsError);
    expect((e2 as Sam2WeightsError).missing).toContain('sam_mask_decoder.hf_token.weight');
  });
});

describe('HQ-SAM2 predictor', () => {
  it('hqTokenOnly: the HQ mask alone (one mask, scored by the best IoU); default adds SAM 2 masks', async () => {
    const { model } = await loadSam2({ weights: hqDir + 'weights.pt', config: parseOfficialConfig({ ...hqMeta.model_config, image_size: 256 }) });
    const predictor = new Sam2ImagePredictor(model);
    try {
      await predictor.setImage(decodeImage(readFileSync(hqDir + 'image.png')));
      const golden = await SafetensorsFile.open(fileSource(hqDir + 'golden.safetensors'));
      const c = hqMeta.cases.h1_point_multimask_hq_only;
      const hq = await predictor.predict({ points: c.points, labels: c.labels, multimaskOutput: true, hqTokenOnly: true });
      expect(hq.shape.masks).toBe(1);
      expect(hq.iou.length).toBe(3);
      expect(hq.best.score).toBe(Math.max(...hq.iou));
      expect(maxAbsError(hq.lowResLogits, await golden.readF32('h1_point_multimask_hq_only.low_res')).err).toBeLessThan(1e-4);
      const both = await predictor.predict({ points: c.points, labels: c.labels, multimaskOutput: true });
      expect(both.shape.masks).toBe(3);
      expect(maxAbsError(both.lowResLogits, await golden.readF32('p1_point_multimask.low_res')).err).toBeLessThan(1e-4);
    } finally {
      predictor.dispose();
      model.dispose();
    }
  });

  it('hqTokenOnly on a SAM 2 model is an error', async () => {
    const { model } = await loadSam2({ config: fixtureConfig('tiny256'), weights: fixtureDir('tiny256') + 'weights.safetensors' });
    const predictor = new Sam2ImagePredictor(model);
    try {
      await predictor.setImage({ width: 64, height: 48, channels: 3, data: new Uint8Array(64 * 48 * 3).fill(90) });
      await expect(predictor.predict({ points: [[10, 10]], labels: [1], hqTokenOnly: true })).rejects.toThrow(/hqTokenOnly needs an HQ-SAM2 model/);
    } finally {
      predictor.dispose();
      model.dispose();
    }
  });
});

describe('sam2 predict with HQ-SAM2 weights', () => {
  it('loads them (decoder from the keys) and honours --hq-token-only; SAM 2 weights refuse it', async () => {
    const work = mkdtempSync(join(tmpdir(), 'sam2-hq-cli-'));
    try {
      const [x, y] = hqMeta.cases.h1_point_multimask_hq_only.points[0];
      const err: string[] = [];
      const io = { out: () => {}, err: (l: string) => err.push(l) };
      const args = ['predict', '--image', hqDir + 'image.png', '--weights', hqDir + 'weights.pt', '--config', hqDir + 'meta.json', '--point', `${x},${y}`, '--multimask'];
      expect(await runSam2([...args, '--hq-token-only', '--out', join(work, 'hq')], io)).toBe(0);
      expect(err.join('\n')).toMatch(/HQ-SAM2 mask decoder/);
      const s: PredictSummary = JSON.parse(readFileSync(join(work, 'hq', 'scores.json'), 'utf8'));
      expect(s.hqTokenOnly).toBe(true);
      expect(readdirSync(join(work, 'hq')).filter((f) => f.endsWith('.png'))).toEqual(['mask_0.png']);
      expect(await runSam2([...args, '--out', join(work, 'both')], io)).toBe(0);
      expect(readdirSync(join(work, 'both')).filter((f) => f.endsWith('.png'))).toHaveLength(3);
      const tiny = fixtureDir('tiny256');
      const code = await runSam2(['predict', '--image', tiny + 'image.png', '--weights', tiny + 'weights.pt', '--config', tiny + 'meta.json', '--point', '10,10', '--hq-token-only', '--out', join(work, 'sam2')], io);
      expect(code).toBe(2);
      expect(err.at(-1)).toMatch(/--hq-token-only needs HQ-SAM2 weights/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
