/**
 * Property-based fuzzing (issue #22) of what `sam2` reads from users: PNG and JPEG images and
 * config files (Hydra YAML and JSON). Seeded and replayable (see the tensor package's
 * test/support/fuzz.js); each input decodes or fails with an error naming it, quickly.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { encode as encodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { decodeImage, encodeGreyPng, encodeJpeg } from '../src/image/codec.js';
import { parseSam2ConfigText } from '../src/config-file.js';
import { expectTypedOutcome, fuzz, mutatedBytes, mutatedText } from '../../tensor/test/support/fuzz.js';
import { HIERA_T_YAML, fixtureDir } from './support.js';

const LABEL = 'fuzz-input';
const W = 12;
const H = 9;
const rgb = Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 29) & 255);

/** Decodes and checks the result is a consistent RGB image. */
const decoded = (b: Uint8Array) =>
  expectTypedOutcome(LABEL, () => decodeImage(b, LABEL), {
    check: (img) => expect(img.data.length).toBe(img.width * img.height * 3),
  });

describe('fuzz: image decoding (PNG, JPEG)', () => {
  const seeds: [string, Uint8Array][] = [
    ['PNG grey', encodeGreyPng(rgb.subarray(0, W * H), W, H)],
    ['PNG RGB', encodePng({ width: W, height: H, data: rgb, channels: 3, depth: 8 })],
    ['PNG RGBA 16-bit', encodePng({ width: 4, height: 3, data: Uint16Array.from({ length: 48 }, (_, i) => i * 1000), channels: 4, depth: 16 })],
    ['JPEG', encodeJpeg({ width: W, height: H, channels: 3, data: rgb }, 80)],
  ];

  it('the seeds decode', () => {
    for (const [, b] of seeds) expect(decodeImage(b, LABEL).width).toBeGreaterThan(0);
  });

  for (const [name, seed] of seeds) {
    it(`${name}, mutated`, async () => {
      await fuzz(`decodeImage (${name}, mutated)`, mutatedBytes(seed, { focus: 64 }), decoded, 2500);
    });
  }

  it('PNG headers claiming any size up to 2³² per side, with little data', async () => {
    const seed = encodeGreyPng(rgb.subarray(0, W * H), W, H);
    const side = fc.oneof(fc.integer({ min: 1, max: 12_000 }), fc.nat());
    const file = fc.tuple(side, side, fc.constantFrom(0, 2, 3, 4, 6), fc.constantFrom(1, 2, 4, 8, 16)).map(([w, h, colour, depth]) => {
      const b = seed.slice();
      const v = new DataView(b.buffer);
      v.setUint32(16, w % 2 ** 32);
      v.setUint32(20, h % 2 ** 32);
      b[24] = depth;
      b[25] = colour;
      return b; // the CRC no longer matches either
    });
    await fuzz('decodeImage (PNG claiming any size)', file, decoded, 800);
  });

  it('a JPEG frame header claiming any size, with little data', async () => {
    const seed = encodeJpeg({ width: W, height: H, channels: 3, data: rgb }, 80);
    let sof = 2;
    while (seed[sof + 1] !== 0xc0) sof += 2 + ((seed[sof + 2] << 8) | seed[sof + 3]);
    const side = fc.oneof(fc.integer({ min: 1, max: 12_000 }), fc.integer({ min: 1, max: 65_535 }));
    const file = fc.tuple(side, side).map(([w, h]) => {
      const b = seed.slice();
      b.set([h >> 8, h & 255, w >> 8, w & 255], sof + 5);
      return b;
    });
    await fuzz('decodeImage (JPEG claiming any size)', file, decoded, 300);
  });

  it('random bytes behind a PNG or JPEG signature', async () => {
    const sig = fc.constantFrom(Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), Uint8Array.of(0xff, 0xd8, 0xff));
    const file = fc.tuple(sig, fc.uint8Array({ maxLength: 200 })).map(([s, r]) => Uint8Array.from([...s, ...r]));
    await fuzz('decodeImage (random after a signature)', file, decoded, 3000);
  });
});

describe('fuzz: SAM 2 config files (YAML, JSON)', () => {
  const parse = (text: string) => expectTypedOutcome(LABEL, () => parseSam2ConfigText(text, { source: LABEL }));

  it('the official Hiera-T YAML, mutated', async () => {
    await fuzz('config (official YAML, mutated)', mutatedText(HIERA_T_YAML), parse, 1000);
  });

  it('the fixture JSON config, mutated', async () => {
    const json = readFileSync(fixtureDir('tiny256') + 'meta.json', 'utf8');
    await fuzz('config (fixture JSON, mutated)', mutatedText(json), parse, 1000);
  });

  it('random JSON and YAML-ish values', async () => {
    await fuzz('config (random JSON)', fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)), parse, 1500);
    const yamlish = fc.array(fc.oneof(fc.constantFrom('model:', '  image_encoder:', '    trunk:', '      embed_dim: ', '&a', '*a', '!!binary', '{', '[', ': ', '- ', '\n', '#', '${x}', '"', "'"), fc.string({ maxLength: 6 })), { maxLength: 30 }).map((p) => p.join(''));
    await fuzz('config (YAML-ish tokens)', yamlish, parse, 1500);
  });
});
