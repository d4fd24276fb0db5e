/**
 * Test helpers: the shared tiny256 SAM 2 fixture (weights, golden pixels and target mask), the
 * RP-SAM2 fixture's tiny shift block config, and a feature cache built with that SAM 2.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile, noGrad, tensor, tidy } from '@rpsam2/tensor';
import { fileSource } from '@rpsam2/tensor/node';
import { Sam2ImagePredictor, Sam2Model, isVideoOnlyKey, loadWeights, parseOfficialConfig, type ImageFeatures } from '@rpsam2/sam2';
import { buildFeatureCache, FeatureCache } from '../../src/cache/feature-cache.js';
import { shiftBlockConfigFromSpec, type ShiftBlockConfig } from '../../src/shift-block/shift-block.js';
import type { Dataset } from '../../src/train/dataset.js';

export const FIXTURES = new URL('../../../../../shared/fixtures/', import.meta.url).pathname;
export const RP_DIR = `${FIXTURES}rpsam2/tiny256/`;
export const RP_SPEC = JSON.parse(readFileSync(RP_DIR + 'spec.json', 'utf8'));
export const SAM2_DIR = `${FIXTURES}sam2/${RP_SPEC.sam2_fixture}/`;
export const SAM2_META = JSON.parse(readFileSync(SAM2_DIR + 'meta.json', 'utf8'));
/** The SAM 2 fixture's config as a JSON file path (meta.json works as a config). */
export const SAM2_WEIGHTS = SAM2_DIR + 'weights.safetensors';

export const open = (path: string) => SafetensorsFile.open(fileSource(path));

/** The tiny shift block of the RP-SAM2 fixture (d 32, 8 heads, FFN 64, 6 layers, 256 image tokens). */
export const TINY_SHIFT: ShiftBlockConfig = shiftBlockConfigFromSpec(RP_SPEC.shift_block);

/** The tiny256 SAM 2 with the fixture weights, prepared. */
export async function loadTinySam2(): Promise<Sam2Model> {
  const model = new Sam2Model(parseOfficialConfig({ ...SAM2_META.model_config, image_size: SAM2_META.image_size }, 'tiny256'));
  await loadWeights(model, await open(SAM2_WEIGHTS), { ignore: isVideoOnlyKey });
  await model.promptEncoder.prepare();
  return model;
}

/** The golden image's features, its size and target mask. */
export async function fixtureImage(model: Sam2Model): Promise<{ features: ImageFeatures; hw: [number, number]; mask: Uint8Array }> {
  const golden = await open(SAM2_DIR + 'golden.safetensors');
  const pixels = tensor(await golden.readF32('input.pixels'), golden.entry('input.pixels').shape);
  const features = noGrad(() => tidy(() => model.forwardImage(pixels)));
  pixels.dispose();
  return { features, hw: SAM2_META.orig_hw as [number, number], mask: await golden.readBytes('input.target_mask') };
}

export function disposeFeatures(f: ImageFeatures): void {
  f.imageEmbed.dispose();
  f.highRes[0].dispose();
  f.highRes[1].dispose();
}

/** Builds the feature cache of `dataset` with `model` (the tiny256 SAM 2) in `root/cache`, and opens it. */
export async function tinyFeatureCache(model: Sam2Model, dataset: Dataset, root: string): Promise<FeatureCache> {
  const predictor = new Sam2ImagePredictor(model);
  try {
    await buildFeatureCache({ dataset, predictor, dir: join(root, 'cache'), weightsLabel: 'tiny256' });
  } finally {
    predictor.dispose();
  }
  return FeatureCache.open(join(root, 'cache'));
}
