/**
 * A `label` job: pseudo-labels for one frame from one positive click per object — RP-SAM2 (the
 * click refined by a shift block, then SAM 2) or SAM 2 alone — written as
 * `<outDir>/<frame id>.json` (format below) atomically (temporary file + rename). The single
 * process `bench label` runs this same function for each frame, so both ways write the same
 * bytes. The frame's features come from a feature cache (`bench embed`) when it holds them for
 * this SAM 2 (f32 features give exactly the encoder's numbers), otherwise the frame is encoded.
 * Idempotent: a file with the same inputs' digest (`key`) is left as it is.
 *
 *   { "format": "rpsam2-pseudo-labels", "version": 1, "id", "width", "height",
 *     "method": "rpsam2" | "sam2", "sam2": "<weights label>", "shiftBlock": "<path>" | "default" | null,
 *     "key": "<digest of model, shift block, frame id and clicks>",
 *     "objects": [ { "click": [x, y], "refined": [x, y] | null, "score", "maskIndex", "area",
 *                    "rle": { "size": [h, w], "counts": [...] } } ] }     (COCO's uncompressed RLE)
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UnrecoverableError } from 'bullmq';
import { RpSam2Predictor } from '@rpsam2/rpsam2';
import { Sam2ImagePredictor, type ImageFeatures, type MaskView } from '@rpsam2/sam2';
import { noGrad, SafetensorsFile, tensor, tidy } from '@rpsam2/tensor';
import { fileSource, writeFileAtomic } from '@rpsam2/tensor/node';
import { describeEntryFile, entryFile } from './cache-entry.js';
import { frameItem } from './frames.js';
import { labelKey, type LabelJobData, type LabelJobResult } from './jobs.js';
import type { ModelPool } from './model-pool.js';

/** The `format` field of a labels file. */
export const LABELS_FORMAT = 'rpsam2-pseudo-labels';

/** One labelled object of the file. */
export interface LabelledObject {
  click: [number, number];
  /** The refined click (RP-SAM2), null for SAM 2 alone. */
  refined: [number, number] | null;
  /** SAM 2's predicted IoU of the chosen mask. */
  score: number;
  /** Which of the three masks was chosen (highest predicted IoU). */
  maskIndex: number;
  area: number;
  rle: { size: [number, number]; counts: number[] };
}

/** The output file of a frame. */
export function labelFile(outDir: string, id: string): string {
  return join(outDir, `${id}.json`);
}

/** The frame's features from the cache when it holds them for `weightsLabel` (null otherwise). */
async function cachedFeatures(cacheDir: string, id: string, weightsLabel: string): Promise<{ features: ImageFeatures; origHW: [number, number] } | null> {
  const path = entryFile(cacheDir, id);
  const d = await describeEntryFile(path);
  if (!d || d.settings.sam2.weights !== weightsLabel) return null;
  const st = await SafetensorsFile.open(fileSource(path));
  const read = async (name: string) => ({ data: await st.readF32(name), shape: st.entry(name).shape });
  const [embed, s0, s1] = await Promise.all([read('image_embed'), read('high_res_0'), read('high_res_1')]);
  const features = noGrad(() =>
    tidy(() => ({ imageEmbed: tensor(embed.data, embed.shape), highRes: [tensor(s0.data, s0.shape), tensor(s1.data, s1.shape)] as ImageFeatures['highRes'] })),
  );
  return { features, origHW: [d.entry.height, d.entry.width] };
}

const objectOf = (click: [number, number], refined: [number, number] | null, best: MaskView): LabelledObject => ({
  click,
  refined,
  score: best.score,
  maskIndex: best.index,
  area: best.area,
  rle: best.toRle() as LabelledObject['rle'],
});

/** Runs a `label` job (see the module comment). */
export async function labelFrameJob(d: LabelJobData, pool: ModelPool, worker: string, onStage?: (stage: string) => void): Promise<LabelJobResult> {
  const t0 = performance.now();
  const file = labelFile(d.outDir, d.frame.id);
  const key = labelKey(d);
  try {
    const old = JSON.parse(await readFile(file, 'utf8')) as { format?: string; key?: string; objects?: unknown[] };
    if (old.format === LABELS_FORMAT && old.key === key) return { file, objects: old.objects?.length ?? 0, outcome: 'cached', features: 'none', worker, ms: performance.now() - t0 };
  } catch {
    // No file (or an unreadable one): label the frame.
  }
  onStage?.('model');
  const { loaded } = await pool.get(d.model);
  const block = d.shiftBlock === 'none' ? null : await pool.shiftBlock(d.shiftBlock);
  const sam2 = new Sam2ImagePredictor(loaded.model);
  let rp: RpSam2Predictor | null = null;
  try {
    onStage?.('features');
    let features: LabelJobResult['features'] = 'encoded';
    const cached = d.cacheDir ? await cachedFeatures(d.cacheDir, d.frame.id, loaded.label) : null;
    let hw: [number, number];
    if (cached) {
      sam2.setFeatures(cached.features, cached.origHW);
      features = 'cache';
      hw = cached.origHW;
    } else {
      let item;
      try {
        item = await frameItem(d.frame);
      } catch (e) {
        throw new UnrecoverableError((e as Error).message);
      }
      await sam2.setImage(item.image);
      hw = [item.image.height, item.image.width];
    }
    const [h, w] = hw;
    d.clicks.forEach(([x, y], k) => {
      if (!(x >= 0 && x <= w && y >= 0 && y <= h)) throw new UnrecoverableError(`${d.frame.id}: click ${k} (${x}, ${y}) is outside the ${w}×${h} frame`);
    });
    onStage?.('decode');
    let objects: LabelledObject[];
    if (block) {
      try {
        rp = new RpSam2Predictor(sam2, block.block);
      } catch (e) {
        throw new UnrecoverableError((e as Error).message);
      }
      const preds = await rp.predict(d.clicks);
      objects = preds.map((p, k) => objectOf(d.clicks[k], [p.refined[0], p.refined[1]], p.best));
    } else {
      const p = await sam2.predict({ points: d.clicks.map((c) => [c]), labels: d.clicks.map(() => [1]), multimaskOutput: true });
      objects = p.objects.map((o, k) => objectOf(d.clicks[k], null, o.best));
    }
    const out = {
      format: LABELS_FORMAT,
      version: 1,
      id: d.frame.id,
      width: w,
      height: h,
      method: block ? 'rpsam2' : 'sam2',
      sam2: loaded.label,
      shiftBlock: block ? d.shiftBlock || 'default' : null,
      key,
      objects,
    };
    onStage?.('write');
    await mkdir(d.outDir, { recursive: true });
    await writeFileAtomic(file, new TextEncoder().encode(JSON.stringify(out) + '\n'));
    return { file, objects: objects.length, outcome: 'computed', features, worker, ms: performance.now() - t0 };
  } finally {
    // The RP-SAM2 predictor frees the SAM 2 predictor (image features) but not the pooled model or block.
    if (rp) rp.dispose();
    else sam2.dispose();
  }
}
