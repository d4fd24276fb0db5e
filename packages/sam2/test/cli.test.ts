/** The `sam2` CLI, run as a function (`runSam2(args, io)`) on the tiny fixtures. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { maxAbsError, SafetensorsFile } from '@rpsam2/tensor';
import { fileSource } from '@rpsam2/tensor/node';
import { runSam2 } from '../src/cli/run.js';
import { parseBox, parsePoint } from '../src/cli/args.js';
import jpeg from 'jpeg-js';
import { decodeGreyPng, decodeImage, encodeJpeg, JPEG_PIXELS_PER_BYTE } from '../src/image/codec.js';
import type { PredictSummary } from '../src/cli/predict.js';
import type { InfoResult } from '../src/cli/info.js';
import { fixtureDir, fixtureMeta } from './support.js';

const dir = fixtureDir('tiny256');
const meta = fixtureMeta('tiny256');
const work = mkdtempSync(join(tmpdir(), 'sam2-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runSam2(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const base = ['--image', dir + 'image.png', '--weights', dir + 'weights.pt', '--config', dir + 'meta.json'];

describe('sam2 predict', () => {
  it('a click with --multimask: three 0/255 mask PNGs and scores.json matching the goldens', async () => {
    const out = join(work, 'p1');
    const [x, y] = meta.cases.p1_point_multimask.points[0];
    const r = await run('predict', ...base, '--point', `${x},${y}`, '--multimask', '--out', out);
    expect(r.err).toMatch(/loaded fixture-meta|loaded meta/);
    expect(r.code).toBe(0);
    const s: PredictSummary = JSON.parse(readFileSync(join(out, 'scores.json'), 'utf8'));
    expect(s.masks.map((m) => m.file)).toEqual(['mask_0.png', 'mask_1.png', 'mask_2.png']);
    expect([s.width, s.height]).toEqual([400, 300]);
    expect(s.prompts).toEqual({ points: [[x, y]], labels: [1], box: null });
    expect(s.multimask).toBe(true);
    for (const k of ['loadMs', 'encodeMs', 'decodeMs', 'writeMs', 'totalMs'] as const) expect(s.timings[k]).toBeGreaterThan(0);
    const golden = await SafetensorsFile.open(fileSource(dir + 'golden.safetensors'));
    const iou = await golden.readF32('p1_point_multimask.iou');
    expect(maxAbsError(Float32Array.from(s.masks.map((m) => m.iou)), iou).err).toBeLessThan(1e-3);
    expect(s.objectScore).toBeCloseTo((await golden.readF32('p1_point_multimask.obj'))[0], 3);
    expect(s.best).toBe(meta.best_mask_p1);
    const logits = await golden.readF32('p1_point_multimask.masks');
    const plane = 300 * 400;
    for (let i = 0; i < 3; i++) {
      const png = decodeGreyPng(readFileSync(join(out, `mask_${i}.png`)));
      expect([png.width, png.height]).toEqual([400, 300]);
      let area = 0;
      let disagree = 0;
      for (let j = 0; j < plane; j++) {
        const v = png.data[j];
        expect(v === 0 || v === 255).toBe(true);
        if (v) area++;
        // Pixels whose golden logit is ~0 may flip; count the rest.
        const l = logits[i * plane + j];
        if (Math.abs(l) > 1e-3 && (l > 0) !== (v === 255)) disagree++;
      }
      expect(area).toBe(s.masks[i].area);
      expect(disagree).toBe(0);
    }
    expect(r.out).toContain('(best)');
  });

  it('a box and a negative click, single mask, f16 weights', async () => {
    const out = join(work, 'p4');
    const b = meta.cases.p3_box.boxes[0];
    const r = await run('predict', ...base, '--box', b.join(','), '--point', '200,60,0', '--dtype', 'f16', '--out', out);
    expect(r.code, r.err).toBe(0);
    const s: PredictSummary = JSON.parse(readFileSync(join(out, 'scores.json'), 'utf8'));
    expect(s.masks.length).toBe(1);
    expect(s.dtype).toBe('f16');
    expect(s.prompts.box).toEqual(b);
    expect(s.prompts.labels).toEqual([0]);
    expect(existsSync(join(out, 'mask_0.png'))).toBe(true);
    expect(existsSync(join(out, 'mask_1.png'))).toBe(false);
  });

  it('reads a JPEG image', async () => {
    const png = decodeImage(new Uint8Array(readFileSync(dir + 'image.png')));
    const rgba = new Uint8Array(png.width * png.height * 4);
    for (let i = 0; i < png.width * png.height; i++) {
      rgba.set(png.data.subarray(i * 3, i * 3 + 3), i * 4);
      rgba[i * 4 + 3] = 255;
    }
    const jpgPath = join(work, 'frame.jpg');
    writeFileSync(jpgPath, jpeg.encode({ data: rgba, width: png.width, height: png.height }, 95).data);
    const out = join(work, 'jpg');
    const r = await run('predict', '--image', jpgPath, '--weights', dir + 'weights.safetensors', '--config', dir + 'meta.json', '--box', '12,120,232,285', '--out', out);
    expect(r.code, r.err).toBe(0);
    const s: PredictSummary = JSON.parse(readFileSync(join(out, 'scores.json'), 'utf8'));
    expect([s.width, s.height]).toEqual([400, 300]);
    expect(s.masks[0].area).toBeGreaterThan(0);
  });

  it('without --weights: the embedded default model, announced on stderr', async () => {
    const out = join(work, 'default');
    const r = await run('predict', '--image', dir + 'image.png', '--point', '120,202', '--out', out);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/no SAM 2 weights given: using the embedded default model 'sam2\.1-synthetic'/);
    expect(r.err).toMatch(/MODEL_CARD\.md/);
    const s: PredictSummary = JSON.parse(readFileSync(join(out, 'scores.json'), 'utf8'));
    expect(s.config).toBe('sam2.1-synthetic');
    expect(s.weights).toMatch(/models\/synthetic\/weights\.safetensors$/);
    expect([s.width, s.height]).toEqual([400, 300]);
  });

  it('infers the config from official-size weights only; the tiny fixture needs --config', async () => {
    const r = await run('predict', '--image', dir + 'image.png', '--weights', dir + 'weights.pt', '--point', '1,1', '--out', join(work, 'x'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/does not match an official size/);
  });

  it('usage errors: missing files, bad points and boxes, unknown size, no prompt, unknown option', async () => {
    const cases: [string[], RegExp][] = [
      [['predict', '--image', join(work, 'nope.png'), '--weights', dir + 'weights.pt', '--point', '1,2', '--out', work], /--image .*nope\.png: cannot read \(ENOENT\)/],
      [['predict', '--image', dir + 'image.png', '--weights', join(work, 'nope.pt'), '--point', '1,2', '--out', work], /--weights .*nope\.pt: cannot read \(ENOENT\)/],
      [['predict', ...base, '--point', '1;2', '--out', work], /--point '1;2': expected numbers separated by commas/],
      [['predict', ...base, '--point', '1,2,3,4', '--out', work], /--point '1,2,3,4': expected x,y or x,y,label/],
      [['predict', ...base, '--point', '1,2,5', '--out', work], /label must be 1 \(positive\) or 0 \(negative\), got 5/],
      [['predict', ...base, '--box', '10,10,5,20', '--out', work], /needs x0 ≤ x1/],
      [['predict', '--image', dir + 'image.png', '--weights', dir + 'weights.pt', '--config', 'xl', '--point', '1,2', '--out', work], /unknown SAM 2 size 'xl'/],
      [['predict', ...base, '--out', work], /at least one --point or a --box/],
      [['predict', ...base, '--point', '1,2'], /--out is required/],
      [['predict', ...base, '--point', '1,2', '--out', work, '--dtype', 'bf16'], /--dtype 'bf16'/],
      [['predict', ...base, '--pont', '1,2', '--out', work], /Unknown option '--pont'/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ];
    for (const [args, msg] of cases) {
      const r = await run(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(msg);
    }
    // Not an image: a content error (exit 1), naming the file.
    const r = await run('predict', '--image', dir + 'meta.json', '--weights', dir + 'weights.pt', '--config', dir + 'meta.json', '--point', '1,2', '--out', work);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/meta\.json: not a PNG or JPEG/);
  });

  it('parsers', () => {
    expect(parsePoint('10.5, 20')).toEqual({ x: 10.5, y: 20, label: 1 });
    expect(parsePoint('10,20,0')).toEqual({ x: 10, y: 20, label: 0 });
    expect(parseBox('1,2,3,4')).toEqual([1, 2, 3, 4]);
    expect(() => parsePoint('10,')).toThrow(/expected numbers/);
  });
});

describe('sam2 convert', () => {
  it('.pt → f16 safetensors with --verify; info then checks it against the config', async () => {
    const out = join(work, 'tiny-f16.safetensors');
    const r = await run('convert', dir + 'weights.pt', out, '--f16', '--verify');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/verify: all \d+ tensors match \(as rounded to f16\)/);
    const info = await run('info', '--config', dir + 'meta.json', '--weights', out);
    expect(info.code, info.err).toBe(0);
    expect(info.out).toMatch(/matches fixture|matches meta/);
  });

  it('errors: wrong argument count, missing input', async () => {
    let r = await run('convert', dir + 'weights.pt');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/expected an input and an output path/);
    r = await run('convert', join(work, 'missing.pt'), join(work, 'o.safetensors'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/missing\.pt: cannot read \(ENOENT\)/);
  });
});

describe('sam2 info', () => {
  it('--config l: config, per-module parameter counts and a memory estimate', async () => {
    const r = await run('info', '--config', 'l');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/config sam2\.1_hiera_l: image 1024×1024/);
    expect(r.out).toMatch(/parameters \(image path\): 216,\d{3},\d{3}/);
    expect(r.out).toMatch(/image_encoder\.trunk\s+212\.\d\d M/);
    expect(r.out).toMatch(/weights\s+f32 9\d\d MiB, f16 4\d\d MiB/);
    const j = await run('info', '--config', 'l', '--json');
    const res: InfoResult = JSON.parse(j.out);
    expect(res.estimate.parameters).toBe(res.estimate.modules.reduce((a, m) => a + m.parameters, 0));
    expect(res.estimate.weightsF16).toBeLessThan(0.51 * res.estimate.weightsF32);
    expect(res.estimate.peakF16).toBeGreaterThan(res.estimate.weightsF16 + res.estimate.encoderActivations - 1);
  });

  it('--weights that do not match the config list the keys (exit 1)', async () => {
    const r = await run('info', '--config', 't', '--weights', dir + 'weights.pt');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/does NOT match sam2\.1_hiera_t/);
    expect(r.out).toMatch(/missing keys \(\d+\):\n\s+image_encoder\.trunk\.blocks\.7\./);
    expect(r.out).toMatch(/shape mismatches \(\d+\):[\s\S]*image_encoder\.trunk\.pos_embed: file has \[1, 16, 7, 7\], model expects \[1, 96, 7, 7\]/);
  });

  it('--measure: peak pool bytes of one encoder pass with random weights', async () => {
    const r = await run('info', '--config', dir + 'meta.json', '--measure', '--json');
    expect(r.code, r.err).toBe(0);
    const res: InfoResult = JSON.parse(r.out);
    const m = res.measured!;
    expect(m.imageSize).toBe(256);
    expect(m.finite).toBe(true);
    expect(m.shapes).toEqual([[1, 32, 16, 16], [1, 4, 64, 64], [1, 8, 32, 32]]);
    expect(m.peakBytes).toBe(m.weightBytes + m.activationBytes);
    expect(m.activationBytes).toBeGreaterThan(0);
    const text = await run('info', '--config', dir + 'meta.json', '--image-size', '128', '--measure');
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(/peak pool bytes\s+[\d,]+ \(/);
    expect(text.out).toMatch(/\[1,32,8,8\]/);
  });

  it('errors', async () => {
    let r = await run('info');
    expect(r.code).toBe(2);
    r = await run('info', '--config', 'l', '--image-size', '1000');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/multiple of 32/);
    r = await run('info', '--config', join(work, 'cfg.yaml'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--config: SAM 2 config .*cfg\.yaml: cannot read \(ENOENT\)/);
  });
});

/** Issue #22's faults found by hand: each case fails (or hangs, caught by the timeout) on the old code. */
describe('sam2 CLI reliability', () => {
  /** A PNG whose header claims `w` × `h` (with an empty IDAT): the size check must come first. */
  function claimingPng(w: number, h: number): Uint8Array {
    const chunk = (type: string, data: number[]) => {
      const len = [data.length >>> 24, (data.length >>> 16) & 255, (data.length >>> 8) & 255, data.length & 255];
      return [...len, ...[...type].map((c) => c.charCodeAt(0)), ...data, 0, 0, 0, 0];
    };
    const be = (v: number) => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
    return Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...chunk('IHDR', [...be(w), ...be(h), 8, 2, 0, 0, 0]), ...chunk('IDAT', []), ...chunk('IEND', [])]);
  }

  it('--out under /proc fails at once (exit 2, naming the path), before loading; no hang', async () => {
    // The click at (400, 300) is the image's bottom-right edge: accepted, so the --out check is what fails.
    const r = await run('predict', ...base, '--point', '400,300', '--out', '/proc/rpsam2-test/out');
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(/\/proc\/rpsam2-test\/out: cannot use as an output folder \(cannot create \/proc\/rpsam2-test: ENOENT\); choose a folder you can write to/);
    expect(r.err).not.toMatch(/loaded/);
  }, 10_000);

  it('clicks: one rule (x in [0, W], y in [0, H]); outside is a usage error', async () => {
    const r = await run('predict', ...base, '--point', '400.5,10', '--out', join(work, 'never'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--point 400\.5,10: click 400\.5,10 lies outside the 400×300 image \(x must be in \[0, 400\], y in \[0, 300\]\)/);
    expect(existsSync(join(work, 'never'))).toBe(false);
    for (const bad of ['NaN,1', '1,Infinity']) {
      const n = await run('predict', ...base, '--point', bad, '--out', join(work, 'never'));
      expect(n.code).toBe(2);
      expect(n.err).toMatch(/--point '.*': expected numbers separated by commas/);
    }
  });

  it('an image claiming 100000² pixels: "image too large", not a typed-array error', async () => {
    const png = join(work, 'huge.png');
    writeFileSync(png, claimingPng(100_000, 100_000));
    const r = await run('predict', '--image', png, '--point', '1,1', '--out', join(work, 'huge-out'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/huge\.png: image too large \(100000×100000 = 10000 megapixels; limit 100 megapixels\)/);
    expect(() => decodeImage(claimingPng(20_000, 20_000), 'x')).toThrow(/x: image too large \(20000×20000 = 400 megapixels/);
    // Under the limit but with no data to fill it: refused before the decoder allocates 75 MB.
    expect(() => decodeImage(claimingPng(5000, 5000), 'x')).toThrow('x: cannot decode PNG (truncated or corrupt: 0 bytes of image data cannot hold 5000×5000 pixels)');
    const jpg = encodeJpeg({ width: 8, height: 8, channels: 3, data: new Uint8Array(192) });
    let sof = 2;
    while (jpg[sof + 1] !== 0xc0) sof += 2 + ((jpg[sof + 2] << 8) | jpg[sof + 3]);
    jpg.set([9000 >> 8, 9000 & 255, 10000 >> 8, 10000 & 255], sof + 5);
    // Refused at once; it took jpeg-js 10 s and 2.7 GB to fail on such a file.
    expect(() => decodeImage(jpg, 'y')).toThrow(`y: cannot decode JPEG (truncated or corrupt: ${jpg.length} bytes cannot hold 10000×9000 pixels)`);
  });

  it('a JPEG is refused for its size only when it has fewer bytes than its 8×8 blocks have bits', () => {
    // The flattest real JPEG (one grey level, quality 1) still spends more than a bit per block.
    const w = 1024;
    const h = 768;
    const flat = encodeJpeg({ width: w, height: h, channels: 3, data: new Uint8Array(w * h * 3).fill(128) }, 1);
    expect(flat.length * 8).toBeGreaterThan((w * h) / 64);
    expect(decodeImage(flat, 'flat').width).toBe(w);
    // The same bytes claiming more pixels than 512 per byte: refused at once, nothing allocated
    // (a 2.2 KB file claiming 17 megapixels took jpeg-js ~1 s of CPU to fail).
    const small = encodeJpeg({ width: 40, height: 30, channels: 3, data: new Uint8Array(3600).fill(90) }, 80);
    let sof = 2;
    while (small[sof + 1] !== 0xc0) sof += 2 + ((small[sof + 2] << 8) | small[sof + 3]);
    const claim = (cw: number, ch: number) => {
      const b = small.slice();
      b.set([ch >> 8, ch & 255, cw >> 8, cw & 255], sof + 5);
      return b;
    };
    const side = Math.ceil(Math.sqrt(small.length * JPEG_PIXELS_PER_BYTE)) + 1;
    expect(() => decodeImage(claim(side, side), 'z')).toThrow(`z: cannot decode JPEG (truncated or corrupt: ${small.length} bytes cannot hold ${side}×${side} pixels)`);
    // Within the bound the decoder itself reports the missing data.
    expect(() => decodeImage(claim(300, 200), 'z')).toThrow(/^z: cannot decode JPEG \(/);
  });

  it('the same malformed weights file exits 1 from info, predict and convert; a missing one 2', async () => {
    const bad = join(work, 'bad.safetensors');
    writeFileSync(bad, 'garbage');
    for (const args of [['info', '--weights', bad], ['predict', '--image', dir + 'image.png', '--weights', bad, '--config', dir + 'meta.json', '--point', '1,1', '--out', join(work, 'o')], ['convert', bad, join(work, 'o.safetensors')]]) {
      const r = await run(...args);
      expect(r.code, `${args[0]}: ${r.err}`).toBe(1);
      expect(r.err).toMatch(/bad\.safetensors: not a safetensors file/);
    }
    const r = await run('info', '--weights', join(work, 'missing.safetensors'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--weights .*missing\.safetensors: cannot read \(ENOENT\)/);
  });

  it('convert: an unwritable output names the path once, without "ENOENT: ENOENT:"', async () => {
    const r = await run('convert', dir + 'weights.pt', '/proc/rpsam2-test/o.safetensors');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/\/proc\/rpsam2-test: cannot use as an output folder/);
    expect(r.err).not.toMatch(/ENOENT: ENOENT/);
  }, 10_000);

  it('prints the message only; the stack with --debug', async () => {
    const bad = join(work, 'bad2.safetensors');
    writeFileSync(bad, 'garbage');
    const plain = await run('info', '--weights', bad);
    expect(plain.err).not.toMatch(/\n\s+at /);
    const debug = await run('info', '--weights', bad, '--debug');
    expect(debug.code).toBe(1);
    expect(debug.err).toMatch(/\n\s+at /);
  });
});
