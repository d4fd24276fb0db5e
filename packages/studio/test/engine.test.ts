/**
 * The worker's engine on Dawn/lavapipe with the tiny256 SAM 2 fixture: its decodes equal the
 * libraries' own predictors, embeddings are cached and evicted, and wrong files are refused
 * with the right error codes. With the shipped default model: the shipped default shift block
 * loads with it, segments, and is dropped for any other model.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesSource, saveTensors, serializeSafetensors, type Tensor } from '@rpsam2/tensor';
import { loadSam2, parseOfficialConfig, Sam2ImagePredictor, type Sam2Model } from '@rpsam2/sam2';
import { DEFAULT_SHIFT_BLOCK_FILES, DEFAULT_SHIFT_BLOCK_SAM2, RpSam2Predictor, ShiftBlock } from '@rpsam2/rpsam2';
import { classifyError, DEFAULT_SHIFT_BLOCK_LABEL, StudioEngine, StudioError } from '../src/worker/engine.js';
import { configJson, DIR, image } from './helpers/tiny-fixture.js';

const have = existsSync(`${DIR}weights.safetensors`);
/** The shipped default model and the shift block shipped for it. */
const DEFAULT_MODEL = new URL('../../sam2/models/synthetic/', import.meta.url).pathname;
const DEFAULT_BLOCK = new URL(`../../rpsam2/${DEFAULT_SHIFT_BLOCK_FILES.weights}`, import.meta.url).pathname;
const haveDefaults = existsSync(`${DEFAULT_MODEL}weights.safetensors`) && existsSync(DEFAULT_BLOCK);

/** Weights bytes of the fixture as a fresh source. */
const weights = (label = 'tiny256.safetensors') => bytesSource(readFileSync(`${DIR}weights.safetensors`), label);

/** The tensors of a module by parameter name (for saveTensors). */
function namedTensors(m: ShiftBlock): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, slot] of m.namedParams()) out[name] = slot.get(name);
  return out;
}

describe.skipIf(!have)('StudioEngine (tiny256 fixture)', () => {
  let model: Sam2Model;
  let block: ShiftBlock;
  let blockBytes: Uint8Array;
  const img = image(64, 48);

  // The reference model and shift block live across the tests (made before the per-test leak
  // check's snapshot); each test's engine is disposed within the test.
  beforeAll(async () => {
    model = (await loadSam2({ weights: weights('ref'), config: parseOfficialConfig(JSON.parse(configJson()), 'ref') })).model;
    block = new ShiftBlock({ dModel: model.dim, heads: 2, ffn: 32, layers: 1, tokens: 2, imageTokens: model.gridSize * model.gridSize, scaleInit: 0.2 }).init(3);
    blockBytes = await saveTensors(namedTensors(block), { heads: '2' });
  });

  afterAll(() => {
    model?.dispose();
    block?.dispose();
  });

  /** An engine with the fixture model and frame 'f1' encoded; disposed after `fn`. */
  async function withEngine(fn: (engine: StudioEngine) => Promise<void>, budget?: number): Promise<void> {
    const engine = new StudioEngine(budget);
    try {
      await engine.init();
      const info = await engine.loadModel({ kind: 'file', weights: weights(), label: 'tiny256.safetensors', configJson: configJson(), configName: 'tiny256.json', size: null });
      expect(info).toMatchObject({ label: 'tiny256.safetensors', imageSize: 256, format: 'safetensors', dtype: 'f32', droppedShiftBlock: null });
      await fn(engine);
    } finally {
      engine.dispose();
    }
  }

  it('encodes once per frame and decodes a click exactly as Sam2ImagePredictor does', () => withEngine(async (engine) => {
    const first = await engine.encode('f1', img);
    expect(first).toMatchObject({ frameId: 'f1', cached: false, evicted: [] });
    expect(first.cacheBytes).toBeGreaterThan(0);
    expect(await engine.encode('f1', img)).toMatchObject({ cached: true, ms: 0 });
    expect(engine.expectedEncodeMs).toBeGreaterThan(0);

    const ref = new Sam2ImagePredictor(model);
    try {
      await ref.setImage(img);
      // One click: multimask, best predicted IoU.
      const got = await engine.decode('f1', { points: [{ x: 30, y: 20, label: 1 }], box: null }, 'sam2');
      const p = await ref.predict({ points: [[30, 20]], labels: [1], multimaskOutput: true });
      const best = [0, 1, 2].reduce((b, k) => (p.iou[k] > p.iou[b] ? k : b), 0);
      expect(got.maskIndex).toBe(best);
      expect(got.iou).toBeCloseTo(p.iou[best], 6);
      expect(Array.from(got.mask)).toEqual(Array.from(p.masks.subarray(best * 64 * 48, (best + 1) * 64 * 48), (v) => (v > 0.5 ? 1 : 0)));
      expect(got.refined).toBeNull();
      // Clicks and a box: single-mask output.
      const many = await engine.decode('f1', { points: [{ x: 30, y: 20, label: 1 }, { x: 5, y: 5, label: 0 }], box: { x0: 10, y0: 4, x1: 50, y1: 40 } }, 'sam2');
      const q = await ref.predict({ points: [[30, 20], [5, 5]], labels: [1, 0], box: [10, 4, 50, 40], multimaskOutput: false });
      expect(many.maskIndex).toBe(0);
      expect(Array.from(many.mask)).toEqual(Array.from(q.masks.subarray(0, 64 * 48), (v) => (v > 0.5 ? 1 : 0)));
    } finally {
      ref.dispose();
    }
  }));

  it('refuses RP-SAM2 without a shift block, then loads one from bytes and matches RpSam2Predictor', () => withEngine(async (engine) => {
    await engine.encode('f1', img);
    await expect(engine.decode('f1', { points: [{ x: 30, y: 20, label: 1 }], box: null }, 'rpsam2')).rejects.toMatchObject({ code: 'no-shift-block' });
    const info = await engine.loadShiftBlock(bytesSource(blockBytes, 'block.safetensors'), 'block.safetensors');
    expect(info).toMatchObject({ label: 'block.safetensors', layers: 1, dModel: model.dim, kind: 'weights', epoch: null, parameters: block.paramCount() });

    const ref = new Sam2ImagePredictor(model);
    try {
      await ref.setImage(img);
      const rp = new RpSam2Predictor(ref, block);
      const got = await engine.decode('f1', { points: [{ x: 30, y: 20, label: 1 }], box: null }, 'rpsam2');
      const want = await rp.predict([30, 20]);
      expect(Array.from(got.mask)).toEqual(Array.from(want.mask));
      expect(got.refined![0][0]).toBeCloseTo(want.refined[0], 4);
      expect(got.refined![0][1]).toBeCloseTo(want.refined[1], 4);
      // Several clicks: positives refined one by one, the negative as given.
      const two = await engine.decode('f1', { points: [{ x: 30, y: 20, label: 1 }, { x: 2, y: 2, label: 0 }, { x: 40, y: 30, label: 1 }], box: null }, 'rpsam2');
      const refined = await rp.refine([[30, 20], [40, 30]]);
      expect(two.refined).toHaveLength(2);
      expect(two.refined![1][0]).toBeCloseTo(refined[1][0], 4);
      const q = await ref.predict({ points: [refined[0], [2, 2], refined[1]], labels: [1, 0, 1], multimaskOutput: false });
      expect(Array.from(two.mask)).toEqual(Array.from(q.masks.subarray(0, 64 * 48), (v) => (v > 0.5 ? 1 : 0)));
    } finally {
      ref.dispose();
    }
  }));

  it('refuses a shift block of another SAM 2 and files that are no shift block', () => withEngine(async (engine) => {
    await engine.loadShiftBlock(bytesSource(blockBytes, 'block.safetensors'), 'block.safetensors');
    const other = new ShiftBlock({ dModel: 32, heads: 2, ffn: 16, layers: 1, tokens: 2, imageTokens: 64, scaleInit: 0.1 }).init(1);
    try {
      const bytes = await saveTensors(namedTensors(other));
      const err = await engine.loadShiftBlock(bytesSource(bytes, 'other.safetensors'), 'other.safetensors').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StudioError);
      expect((err as StudioError).code).toBe('shift-block-mismatch');
      expect((err as Error).message).toMatch(/trained for a SAM 2 with d = 32 and 64 image tokens/);
    } finally {
      other.dispose();
    }
    const notBlock = serializeSafetensors({ 'image_encoder.x': { dtype: 'F32', shape: [1], data: new Float32Array(1) } });
    const e2 = await engine.loadShiftBlock(bytesSource(notBlock, 'sam.safetensors'), 'sam.safetensors').catch((e: unknown) => e);
    expect(classifyError(e2)).toMatchObject({ code: 'bad-file' });
    expect((e2 as Error).message).toMatch(/no 'p_pos' tensor/);
    expect(classifyError(new Error("Failed to execute 'mapAsync' on 'GPUBuffer': A valid external Instance reference no longer exists.")).code).toBe('device-lost');
    expect(classifyError(new Error('Device was lost')).code).toBe('device-lost');
    expect(classifyError(new Error('x')).code).toBe('internal');
    const e3 = await engine.loadShiftBlock(bytesSource(new TextEncoder().encode('hello'), 'x.txt'), 'x.txt').catch((e: unknown) => e);
    expect(classifyError(e3).code).toBe('bad-file');
    expect(engine.shiftBlockInfo?.label).toBe('block.safetensors'); // the loaded one stays
  }));

  it('refuses weights that do not fit, keeping the loaded model', () => withEngine(async (engine) => {
    await engine.encode('f1', img);
    const bad = serializeSafetensors({ 'image_encoder.trunk.patch_embed.proj.weight': { dtype: 'F32', shape: [2, 3, 1, 1], data: new Float32Array(6) } });
    const err = await engine.loadModel({ kind: 'file', weights: bytesSource(bad, 'bad.safetensors'), label: 'bad.safetensors', configJson: configJson(), configName: 'c.json', size: null }).catch((e: unknown) => e);
    expect(classifyError(err)).toMatchObject({ code: 'weights-mismatch' });
    expect((err as Error).message).toMatch(/missing keys/);
    expect((err as Error).message).toMatch(/shape mismatches/);
    const noSize = await engine.loadModel({ kind: 'file', weights: bytesSource(bad, 'bad.safetensors'), label: 'bad.safetensors', configJson: null, configName: null, size: null }).catch((e: unknown) => e);
    expect(classifyError(noSize).code).toBe('weights-mismatch');
    const badConfig = await engine.loadModel({ kind: 'file', weights: bytesSource(bad, 'bad.safetensors'), label: 'bad.safetensors', configJson: '{"x":1}', configName: 'c.json', size: null }).catch((e: unknown) => e);
    expect(classifyError(badConfig)).toMatchObject({ code: 'bad-file' });
    expect(engine.modelInfo?.label).toBe('tiny256.safetensors');
    expect(engine.has('f1')).toBe(true);
  }));

  it('evicts the least recently used embeddings beyond its budget and forgets on request', async () => {
    let one = 0;
    await withEngine(async (engine) => {
      one = (await engine.encode('x', img)).cacheBytes;
    });
    await withEngine(async (small) => {
      await small.encode('a', img);
      await small.encode('b', img);
      await small.encode('a', img); // a is now the most recent
      const c = await small.encode('c', img);
      expect(c.evicted).toEqual(['b']);
      expect(small.cachedFrames()).toEqual(['a', 'c']);
      await expect(small.decode('b', { points: [{ x: 1, y: 1, label: 1 }], box: null }, 'sam2')).rejects.toMatchObject({ code: 'not-encoded' });
      small.forget('a');
      expect(small.cachedFrames()).toEqual(['c']);
      small.forget(null);
      expect(small.cacheBytes).toBe(0);
    }, one * 2);
  });
});

describe.skipIf(!haveDefaults)('StudioEngine with the shipped default model and shift block', () => {
  const defaultWeights = (label = 'default weights.safetensors') => bytesSource(readFileSync(`${DEFAULT_MODEL}weights.safetensors`), label);
  const defaultConfig = () => readFileSync(`${DEFAULT_MODEL}config.json`, 'utf8');
  const defaultBlock = () => bytesSource(readFileSync(DEFAULT_BLOCK), 'default shift block weights.safetensors');
  /** The default model's own weights, loaded as a user's file: the same shapes, yet not "the default model". */
  const sameWeightsAsFile = () => ({ kind: 'file', weights: defaultWeights('my-sam2.safetensors'), label: 'my-sam2.safetensors', configJson: defaultConfig(), configName: 'config.json', size: null }) as const;

  it('loads the default shift block with the default model only, segments with it, and drops it for any other model', async () => {
    const engine = new StudioEngine();
    let mine: ShiftBlock | null = null;
    try {
      await engine.init();
      await engine.loadModel({ kind: 'default', weights: defaultWeights(), configJson: defaultConfig() });
      const info = await engine.loadDefaultShiftBlock(defaultBlock());
      expect(DEFAULT_SHIFT_BLOCK_LABEL).toBe(`default (rpsam2-synthetic, for ${DEFAULT_SHIFT_BLOCK_SAM2})`);
      expect(info).toMatchObject({ label: DEFAULT_SHIFT_BLOCK_LABEL, defaultFor: DEFAULT_SHIFT_BLOCK_SAM2, kind: 'weights', epoch: null, dModel: engine.sam2Model!.dim });
      await engine.encode('f1', image(64, 48));
      const r = await engine.decode('f1', { points: [{ x: 30, y: 20, label: 1 }], box: null }, 'rpsam2');
      expect(r.method).toBe('rpsam2');
      expect(r.refined).toHaveLength(1);
      expect(r.refined![0].every(Number.isFinite)).toBe(true);

      // Another model with the very same shapes still drops it, and refuses it afterwards with the fix.
      const swapped = await engine.loadModel(sameWeightsAsFile());
      expect(swapped.droppedShiftBlock).toBe(DEFAULT_SHIFT_BLOCK_LABEL);
      expect(engine.shiftBlockInfo).toBeNull();
      const err = await engine.loadDefaultShiftBlock(defaultBlock()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StudioError);
      expect((err as StudioError).code).toBe('shift-block-mismatch');
      expect((err as Error).message).toMatch(/fits only the default SAM 2 model \(sam2\.1-synthetic\), not my-sam2\.safetensors/);
      expect((err as Error).message).toContain('pnpm bench table1 --data <dir> --weights <ckpt>');

      // A user's block replaces the default one, and is kept across models of its shapes.
      await engine.loadModel({ kind: 'default', weights: defaultWeights(), configJson: defaultConfig() });
      await engine.loadDefaultShiftBlock(defaultBlock());
      const m = engine.sam2Model!;
      mine = new ShiftBlock({ dModel: m.dim, heads: 2, ffn: 16, layers: 1, tokens: 2, imageTokens: m.gridSize * m.gridSize, scaleInit: 0.1 }).init(5);
      const own = await engine.loadShiftBlock(bytesSource(await saveTensors(namedTensors(mine), { heads: '2' }), 'mine.safetensors'), 'mine.safetensors');
      expect(own).toMatchObject({ label: 'mine.safetensors', defaultFor: null, layers: 1 });
      expect((await engine.loadModel(sameWeightsAsFile())).droppedShiftBlock).toBeNull();
      expect(engine.shiftBlockInfo?.label).toBe('mine.safetensors');
    } finally {
      engine.dispose();
      mine?.dispose();
    }
  });
});

const HQ_DIR = new URL('../../../../shared/fixtures/hq-sam2/hq256/', import.meta.url).pathname;

describe.skipIf(!existsSync(`${HQ_DIR}weights.safetensors`))('StudioEngine with HQ-SAM2 weights (hq256 fixture)', () => {
  it("loads them under SAM 2's config (HQ decoder from the keys) and decodes as HQ-SAM2's predictor", async () => {
    const meta = JSON.parse(readFileSync(`${HQ_DIR}meta.json`, 'utf8'));
    const hqConfig = { ...meta.model_config, image_size: meta.image_size };
    const asSam2 = JSON.stringify({ ...hqConfig, _target_: 'sam2.modeling.sam2_base.SAM2Base' });
    const hqWeights = () => bytesSource(readFileSync(`${HQ_DIR}weights.safetensors`), 'sam2.1_hq_tiny.safetensors');
    const img = image(64, 48);
    const engine = new StudioEngine();
    const ref = (await loadSam2({ weights: hqWeights(), config: parseOfficialConfig(hqConfig, 'ref-hq') })).model;
    const predictor = new Sam2ImagePredictor(ref);
    try {
      expect(ref.cfg.maskDecoder).toBe('hq');
      await engine.init();
      const info = await engine.loadModel({ kind: 'file', weights: hqWeights(), label: 'sam2.1_hq_tiny.safetensors', configJson: asSam2, configName: 'sam2.1_hiera_t.json', size: null });
      expect(info).toMatchObject({ label: 'sam2.1_hq_tiny.safetensors', imageSize: 256, parameters: ref.paramCount() });
      await engine.encode('f1', img);
      await predictor.setImage(img);
      const got = await engine.decode('f1', { points: [{ x: 30, y: 20, label: 1 }], box: null }, 'sam2');
      const p = await predictor.predict({ points: [[30, 20]], labels: [1], multimaskOutput: true });
      const best = [0, 1, 2].reduce((b, k) => (p.iou[k] > p.iou[b] ? k : b), 0);
      expect(got.maskIndex).toBe(best);
      expect(Array.from(got.mask)).toEqual(Array.from(p.masks.subarray(best * 64 * 48, (best + 1) * 64 * 48), (v) => (v > 0.5 ? 1 : 0)));
    } finally {
      engine.dispose();
      predictor.dispose();
      ref.dispose();
    }
  });
});
