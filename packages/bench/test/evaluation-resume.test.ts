/**
 * The evaluation loop on a tiny generated set with the tiny256 fixture SAM 2 and the fixture's
 * shift block (2 seeds): the records are the protocol's (same click for every method, inside the
 * mask, metrics of the masks), an interrupted run resumed gives the same samples.jsonl as an
 * uninterrupted one, and a torn last line is cut off on resume.
 */
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadShiftBlockFrom, openCheckpoint, type ShiftBlock } from '@rpsam2/rpsam2';
import { loadSam2, parseOfficialConfig, Sam2ImagePredictor, type Sam2Model } from '@rpsam2/sam2';
import { openCataract1k } from '../src/datasets/cataract1k.js';
import type { SegmentationDataset } from '../src/datasets/types.js';
import { evaluate, type EvalGroup } from '../src/evaluation/evaluate.js';
import { rpsam2Method, sam2Method } from '../src/evaluation/methods.js';
import { protocolClick } from '../src/evaluation/protocol-clicks.js';
import { readSamples, SampleLog } from '../src/evaluation/samples.js';
import { segmentWithSam2 } from '../src/evaluation/segment.js';
import { maskMetrics } from '../src/metrics/mask-metrics.js';
import { generateSyntheticDataset } from '../src/synthetic/dataset.js';
import { tempDir } from './helpers/fixtures.js';

const FIX = new URL('../../../../shared/fixtures/', import.meta.url).pathname;
const SEEDS = [0, 1];

let tmp: { dir: string; cleanup: () => Promise<void> };
let ds: SegmentationDataset;
let model: Sam2Model;
let block: ShiftBlock;

beforeAll(async () => {
  tmp = await tempDir('eval-resume');
  // Two cases of one 96×72 frame: case 1 train, case 2 test (1–2 instruments).
  await generateSyntheticDataset(join(tmp.dir, 'data'), { seed: 3, cases: 2, framesPerCase: 1, width: 96, height: 72, minInstruments: 2, maxInstruments: 2, coco: false });
  ds = await openCataract1k(join(tmp.dir, 'data'));
  const meta = JSON.parse(await readFile(join(FIX, 'sam2/tiny256/meta.json'), 'utf8'));
  model = (await loadSam2({ config: parseOfficialConfig({ ...meta.model_config, image_size: meta.image_size }, 'tiny256'), weights: join(FIX, 'sam2/tiny256/weights.safetensors') })).model;
  block = await loadShiftBlockFrom(await openCheckpoint(join(FIX, 'rpsam2/tiny256/shift_block.safetensors')));
});

afterAll(async () => {
  block?.dispose();
  model?.dispose();
  await tmp?.cleanup();
});

/** Runs the evaluation into `path`; `stopAfter` samples written in this call stops it. */
async function run(path: string, stopAfter: number | null): Promise<{ stopped: boolean; computed: number }> {
  const predictor = new Sam2ImagePredictor(model);
  const group: EvalGroup = {
    name: 'tiny256',
    methods: [sam2Method('SAM 2', predictor), rpsam2Method('RP-SAM2', predictor, block)],
    setImage: async (f) => predictor.setImage(await ds.loadImage(f)),
    releaseImage: () => predictor.resetImage(),
  };
  const { log } = await SampleLog.open(path, { resume: true });
  const start = log.size;
  try {
    const r = await evaluate({ dataset: ds, frames: ds.framesIn('test'), groups: [group], seeds: SEEDS, clickOffset: 0, log, shouldStop: () => stopAfter !== null && log.size - start >= stopAfter });
    return { stopped: r.stopped, computed: r.computed };
  } finally {
    await log.close();
    predictor.dispose();
  }
}

describe('evaluation loop', () => {
  it('records the protocol: one click per seed inside the mask, the same for every method, metrics of the masks', async () => {
    const path = join(tmp.dir, 'check.jsonl');
    const r = await run(path, null);
    const { records } = await readSamples(path);
    const frames = ds.framesIn('test');
    const objects = (await Promise.all(frames.map((f) => ds.loadObjects(f)))).flat();
    expect(objects.length).toBeGreaterThan(0);
    expect(r.computed).toBe(objects.length * SEEDS.length * 2);
    expect(records).toHaveLength(r.computed);
    // File order: frame, object, method, seed.
    expect(records.slice(0, 4).map((x) => [x.method, x.seed])).toEqual([
      ['SAM 2', 0],
      ['SAM 2', 1],
      ['RP-SAM2', 0],
      ['RP-SAM2', 1],
    ]);
    const frame = frames[0];
    const obj = (await ds.loadObjects(frame))[0];
    for (const seed of SEEDS) {
      const c = protocolClick(obj.mask, seed, frame.id, obj.index);
      expect(obj.mask.data[c.y * obj.mask.width + c.x]).toBe(1);
      const both = records.filter((x) => x.image === frame.id && x.object === obj.index && x.seed === seed);
      expect(both.map((x) => x.method)).toEqual(['SAM 2', 'RP-SAM2']);
      for (const x of both) expect(x.click).toEqual([c.x, c.y]);
      expect(both[0].refined).toBeNull();
      expect(both[1].refined).toHaveLength(2);
    }
    // The SAM 2 records equal the metrics of an independent prediction of the same clicks.
    const predictor = new Sam2ImagePredictor(model);
    try {
      await predictor.setImage(await ds.loadImage(frame));
      const clicks = SEEDS.map((s) => protocolClick(obj.mask, s, frame.id, obj.index));
      const masks = await segmentWithSam2(predictor, clicks.map((c) => [c.x, c.y]));
      // Cross-check the mask choice against predict(): the highest predicted IoU of its three masks.
      const full = await predictor.predict({ points: clicks.map((c) => [[c.x, c.y]]), labels: clicks.map(() => [1]), multimaskOutput: true });
      const n = obj.mask.width * obj.mask.height;
      SEEDS.forEach((seed, i) => {
        const iou = Array.from(full.iou.slice(3 * i, 3 * i + 3));
        const best = iou.indexOf(Math.max(...iou));
        expect(masks[i].maskIndex).toBe(best);
        const ref = Uint8Array.from(full.masks.subarray((3 * i + best) * n, (3 * i + best + 1) * n), (v) => (v > 0.5 ? 1 : 0));
        expect(Array.from(masks[i].mask)).toEqual(Array.from(ref));
        const m = maskMetrics({ width: obj.mask.width, height: obj.mask.height, data: ref }, obj.mask);
        const rec = records.find((x) => x.method === 'SAM 2' && x.image === frame.id && x.object === obj.index && x.seed === seed)!;
        expect(rec.dice).toBe(m.dice);
        expect(rec.hd95).toBe(m.hd95);
        expect(rec.maskIndex).toBe(best);
      });
    } finally {
      predictor.dispose();
    }
  });

  it('an interrupted run, resumed, writes the same samples.jsonl as an uninterrupted one', async () => {
    const whole = join(tmp.dir, 'whole.jsonl');
    const parts = join(tmp.dir, 'parts.jsonl');
    await run(whole, null);
    const first = await run(parts, 3);
    expect(first).toEqual({ stopped: true, computed: 3 });
    expect((await readSamples(parts)).records).toHaveLength(3);
    // A torn write (a crash mid-line) is cut off when the run resumes.
    await appendFile(parts, '{"method":"SAM 2","se');
    const second = await run(parts, null);
    expect(second.stopped).toBe(false);
    expect(await readFile(parts, 'utf8')).toBe(await readFile(whole, 'utf8'));
    // A finished run resumed computes nothing.
    expect((await run(parts, null)).computed).toBe(0);
  });

  it('refuses to append to a samples file without resume', async () => {
    const path = join(tmp.dir, 'whole.jsonl');
    await expect(SampleLog.open(path, { resume: false })).rejects.toThrow(/already holds .* samples/);
  });
});
