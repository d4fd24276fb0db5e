import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { presetConfig } from '../src/config.js';
import { Sam2Model, isVideoOnlyKey } from '../src/model/sam2-model.js';

const manifest = JSON.parse(readFileSync(new URL('../../../../shared/fixtures/sam2/manifest-sam2.1.json', import.meta.url), 'utf8'));

describe('module tree matches the official checkpoints', () => {
  for (const [size, name] of [['t', 'sam2.1_hiera_t'], ['s', 'sam2.1_hiera_s'], ['b+', 'sam2.1_hiera_b+'], ['l', 'sam2.1_hiera_l']]) {
    it(`${name}: image-path names and shapes, video keys recognised`, () => {
      const model = new Sam2Model(presetConfig(size));
      const ours = new Map(model.namedParams().map(([n, s]) => [n, [...s.shape]]));
      const official: Record<string, number[]> = manifest[name].tensors;
      const imagePath = Object.entries(official).filter(([k]) => !isVideoOnlyKey(k));
      const missing = imagePath.filter(([k]) => !ours.has(k)).map(([k]) => k);
      const extra = [...ours.keys()].filter((k) => !(k in official));
      const wrong = imagePath.filter(([k, s]) => ours.has(k) && ours.get(k)!.join(',') !== s.join(',')).map(([k]) => k);
      expect(missing, 'keys in the checkpoint that the model lacks').toEqual([]);
      expect(extra, 'model keys absent from the checkpoint').toEqual([]);
      expect(wrong, 'shape mismatches').toEqual([]);
      // Every skipped key belongs to the video path.
      const skipped = Object.keys(official).filter((k) => !ours.has(k));
      expect(skipped.every(isVideoOnlyKey)).toBe(true);
      const imageElements = imagePath.reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
      expect(model.paramCount()).toBe(imageElements);
      if (size === 'l') expect(Math.round(imageElements / 1e5) / 10).toBeCloseTo(216.9, 1);
    });
  }
});
