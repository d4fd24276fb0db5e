/** A one-click case on a generated frame, for the tests of the shipped default models. */
import { expect } from 'vitest';
import { Rng } from '@rpsam2/data';
import { SyntheticTrainSource } from '../../src/sam2-training/synthetic-source.js';
import { objectMask, type SyntheticFrame } from '../../src/synthetic/index.js';
import { sampleClicks, type Click } from '../../src/protocol/clicks.js';
import type { BinaryMask } from '../../src/metrics/index.js';

/**
 * Frame `index` of the synthetic stream of `seed` (a frame the model was not trained on), its
 * largest instrument's mask `gt`, and one click inside it drawn from the stream named `label`.
 */
export function largestInstrumentClick(seed: number, index: number, label: string): { frame: SyntheticFrame; gt: BinaryMask; click: Click } {
  const frame = new SyntheticTrainSource({ seed }).frame(index);
  const instruments = frame.objects.filter((o) => o.kind === 'instrument').sort((a, b) => b.area - a.area);
  expect(instruments.length).toBeGreaterThan(0);
  const gt = objectMask(frame, instruments[0]);
  const [click] = sampleClicks(gt, 1, Rng.derive(0, label));
  return { frame, gt, click };
}
