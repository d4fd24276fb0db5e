/** sam2TokenPositions: SAM 2's dense positional encoding laid out token-major, as the shift block's i_pos. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sam2Model } from '@rpsam2/sam2';
import { sam2TokenPositions } from '../src/train/config.js';
import { loadTinySam2 } from './helpers/tiny-sam2.js';

describe('sam2TokenPositions', () => {
  let model: Sam2Model;
  beforeAll(async () => {
    model = await loadTinySam2();
  });
  afterAll(() => model.dispose());

  it('is the prompt encoder’s dense encoding [1, d, g, g] transposed to [g·g, d]', async () => {
    const pe = model.promptEncoder.denseEncoding();
    const [, d, g] = pe.shape;
    const src = await pe.data();
    const pos = await sam2TokenPositions(model);
    expect(pos.length).toBe(d * g * g);
    for (const t of [0, 1, g, g * g - 1]) for (const c of [0, 1, d - 1]) expect(pos[t * d + c]).toBe(src[c * g * g + t]);
    // The Fourier encoding: sin²+cos² = 1 per frequency, so every token has |p|² = d/2.
    let n = 0;
    for (let c = 0; c < d; c++) n += pos[5 * d + c] ** 2;
    expect(n).toBeCloseTo(d / 2, 3);
  });
});
