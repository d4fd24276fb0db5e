import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SeededRandom, mixSeed, permutation } from '@rpsam2/tensor';
import { encodeGreyPng } from '@rpsam2/sam2';
import { candidatesFromDice, normaliseGrid, reachableCandidates } from '../src/candidates/candidates.js';
import { DEFAULT_TRAIN_CONFIG, newShiftBlockFor, parseOverride, resolveTrainConfig, shiftBlockConfigFor } from '../src/train/config.js';
import { InMemoryDataset, maskArea, subset } from '../src/train/dataset.js';
import { openDataset } from '../src/train/open-dataset.js';
import { syntheticShapes } from '../src/train/synthetic.js';
import { augment, drawAugmentation } from '../src/train/sources.js';
import { ProgressLine, formatDuration } from '../src/train/progress.js';
import { centroidTargets, chunkObjects, inCandidateRegion, objectClicks } from '../src/train/step.js';
import { maskCentroid } from '../src/candidates/clicks.js';
import { PAPER_SHIFT_BLOCK, ShiftBlock, shiftBlockParamCount } from '../src/shift-block/shift-block.js';
import { splitImages } from '../src/cli/train-command.js';

const root = mkdtempSync(join(tmpdir(), 'rpsam2-units-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('training config', () => {
  it('defaults are the paper’s settings', () => {
    const c = resolveTrainConfig({});
    expect(c).toMatchObject({ batchSize: 4, clicksPerObject: 10, lr: 1e-4, epochs: 1500, shiftBlock: 'paper', mode: 'cached' });
    expect(c.loss).toEqual({ useDice: true, useDist: true, useOut: true, alpha: 1, beta: 0.1, gamma: 1, theta: 15 });
    expect(c).not.toBe(DEFAULT_TRAIN_CONFIG);
  });

  it('file keys, then --set overrides (dotted, JSON or string values)', () => {
    expect(parseOverride('loss.useDist=false')).toEqual({ loss: { useDist: false } });
    expect(parseOverride('out=runs/a=b')).toEqual({ out: 'runs/a=b' });
    expect(parseOverride('shiftBlock={"layers":2}')).toEqual({ shiftBlock: { layers: 2 } });
    const c = resolveTrainConfig({ epochs: 20, loss: { useOut: false } }, ['loss.useDist=false', 'clicksPerObject=3', 'sam2.weights=w.pt', 'shiftBlock=tiny']);
    expect(c.epochs).toBe(20);
    expect(c.loss).toMatchObject({ useDice: true, useDist: false, useOut: false });
    expect(c.clicksPerObject).toBe(3);
    expect(c.sam2).toEqual({ weights: 'w.pt', config: '', dtype: 'f32' });
    expect(c.shiftBlock).toBe('tiny');
  });

  it('names the key of every mistake', () => {
    expect(() => resolveTrainConfig({ epoch: 3 })).toThrow(/unknown key 'epoch'/);
    expect(() => resolveTrainConfig({ loss: { beta: '0.1' } })).toThrow(/loss\.beta must be a number/);
    expect(() => resolveTrainConfig({}, ['batchSize=0'])).toThrow(/batchSize must be an integer ≥ 1, got 0/);
    expect(() => resolveTrainConfig({}, ['nokey'])).toThrow(/expected key=value/);
    expect(() => resolveTrainConfig({ loss: { useDice: false, useDist: false, useOut: false } })).toThrow(/every loss term is switched off/);
    expect(() => resolveTrainConfig({ mode: 'live' })).toThrow(/mode must be 'cached' or 'on-the-fly'/);
    expect(() => resolveTrainConfig({ shiftBlock: { depth: 3 } })).toThrow(/unknown key shiftBlock\.depth/);
    expect(() => resolveTrainConfig({ data: { valFraction: 1 } })).toThrow(/valFraction must be in \[0, 1\)/);
  });

  it('shift block sizes follow SAM 2 (paper: 10,522,628 parameters at 1024)', () => {
    const paper = shiftBlockConfigFor('paper', 256, 64);
    expect(paper).toEqual({ ...PAPER_SHIFT_BLOCK });
    expect(shiftBlockParamCount(paper)).toBe(10_522_628);
    const tiny = shiftBlockConfigFor('tiny', 32, 16);
    expect(tiny).toMatchObject({ dModel: 32, heads: 8, ffn: 64, layers: 6, tokens: 2, imageTokens: 256 });
    expect(new ShiftBlock(tiny).paramCount()).toBe(shiftBlockParamCount(tiny));
    expect(shiftBlockConfigFor({ layers: 2, ffn: 128 }, 32, 16)).toMatchObject({ layers: 2, ffn: 128, dModel: 32 });
  });

  it('newShiftBlockFor: the sizes, seed and identity start a training config asks for', async () => {
    const spec = { layers: 1, ffn: 16 };
    const made = newShiftBlockFor({ shiftBlock: spec, initSeed: 4, zeroInitHead: true }, 16, 2);
    const want = new ShiftBlock(shiftBlockConfigFor(spec, 16, 2)).init(4, { zeroHead: true });
    try {
      expect(made.config).toEqual(want.config);
      for (const [name, slot] of made.namedParams()) {
        expect(await slot.get().data(), name).toEqual(await want.namedParams().find(([n]) => n === name)![1].get().data());
      }
      expect([...(await made.head!.weight.get().data())].every((v) => v === 0)).toBe(true);
    } finally {
      made.dispose();
      want.dispose();
    }
  });

  it('newShiftBlockFor: SAM 2 token positions and the tied cross-attention when asked for', async () => {
    const spec = { layers: 2, ffn: 16 };
    const d = 16;
    const positions = Float32Array.from({ length: 4 * d }, (_, i) => Math.sin(i));
    const made = newShiftBlockFor({ shiftBlock: spec, initSeed: 4, zeroInitHead: true, positionInit: 'sam2', tieCrossAttention: 2 }, d, 2, positions);
    const plain = newShiftBlockFor({ shiftBlock: spec, initSeed: 4, zeroInitHead: true }, d, 2);
    try {
      expect(await made.iPos.get('i_pos').data()).toEqual(positions);
      for (const k of [0, 1]) {
        const w = await made.layers[k].multiheadAttn.namedParams().find(([n]) => n === 'in_proj_weight')![1].get().data();
        const w0 = await plain.layers[k].multiheadAttn.namedParams().find(([n]) => n === 'in_proj_weight')![1].get().data();
        for (let i = 0; i < d * d; i++) {
          expect(w[i]).toBeCloseTo(2 * w0[i], 6); // W_q scaled
          expect(w[d * d + i]).toBe(w[i]); // W_k = W_q
          expect(w[2 * d * d + i]).toBe(w0[2 * d * d + i]); // W_v as drawn
        }
        // Self-attention is left as drawn.
        const s1 = await made.layers[k].selfAttn.namedParams().find(([n]) => n === 'in_proj_weight')![1].get().data();
        const s0 = await plain.layers[k].selfAttn.namedParams().find(([n]) => n === 'in_proj_weight')![1].get().data();
        expect(s1).toEqual(s0);
      }
    } finally {
      made.dispose();
      plain.dispose();
    }
    expect(() => newShiftBlockFor({ shiftBlock: spec, initSeed: 0, zeroInitHead: false, positionInit: 'sam2' }, d, 2)).toThrow(/positionInit 'sam2' needs SAM 2's token positions/);
    expect(() => newShiftBlockFor({ shiftBlock: spec, initSeed: 0, zeroInitHead: false, positionInit: 'sam2' }, d, 2, new Float32Array(3))).toThrow(/positions hold 3 values, expected 4·16/);
    expect(() => resolveTrainConfig({ positionInit: 'fourier' })).toThrow(/positionInit must be 'random' or 'sam2'/);
    expect(() => resolveTrainConfig({ tieCrossAttention: -1 })).toThrow(/tieCrossAttention must be ≥ 0/);
    expect(() => resolveTrainConfig({ clipGradNorm: -1 })).toThrow(/clipGradNorm must be ≥ 0/);
    expect(() => resolveTrainConfig({ candidateEpsilon: 1 })).toThrow(/candidateEpsilon must be in \[0, 1\)/);
  });

  it('candidatesFromDice: the grid points within ε of the best cached Dice, normalised', () => {
    const gridPx = Float32Array.from([10, 20, 30, 40, 50, 60, 70, 80]);
    const dice = Float32Array.from([0.9, 0.7, 0.88, 0.895]);
    const tight = candidatesFromDice({ gridPx, dice }, [100, 200], 0.005);
    expect(Array.from(tight.isCandidate)).toEqual([1, 0, 0, 1]);
    expect(Array.from(tight.candidates)).toEqual([10 / 200, 20 / 100, 70 / 200, 80 / 100].map(Math.fround));
    const wide = candidatesFromDice({ gridPx, dice }, [100, 200], 0.05);
    expect(Array.from(wide.isCandidate)).toEqual([1, 0, 1, 1]);
    expect(wide.candidates.length).toBe(6);
  });

  it('reachableCandidates: the best grid points within the reach box, within ε of the best in reach', () => {
    // Normalised grid: the global best (0.95) is far from the click; in reach 0.8 and 0.797 tie within ε.
    const grid = { norm: Float32Array.from([0.5, 0.5, 0.55, 0.45, 0.58, 0.5, 0.9, 0.9, 0.5, 0.62]), dice: Float32Array.from([0.7, 0.8, 0.797, 0.95, 0.99]) };
    const c = reachableCandidates(grid, [0.5, 0.5], 0.1, 0.005)!;
    expect(Array.from(c)).toEqual([0.55, 0.45, 0.58, 0.5].map(Math.fround));
    // The box is per axis (|dx| ≤ r and |dy| ≤ r): (0.5, 0.62) is 0.12 away in y: in reach at 0.13.
    expect(Array.from(reachableCandidates(grid, [0.5, 0.5], 0.13, 0.005)!)).toEqual([0.5, 0.62].map(Math.fround));
    // A reach that covers the grid gives the paper's (global) candidates.
    expect(Array.from(reachableCandidates(grid, [0.5, 0.5], 1, 0.005)!)).toEqual(Array.from(candidatesFromDice({ gridPx: grid.norm, dice: grid.dice }, [1, 1], 0.005).candidates));
    expect(reachableCandidates(grid, [0.1, 0.1], 0.1, 0.005)).toBeNull();
    expect(Array.from(normaliseGrid(Float32Array.from([10, 20, 30, 40]), [100, 200]))).toEqual([0.05, 0.2, 0.15, 0.4].map(Math.fround));
    expect(() => resolveTrainConfig({ candidateReach: 1.5 })).toThrow(/candidateReach must be in \[0, 1\]/);
  });

  it('centroid target: the step of at most the reach per axis towards the mask centroid', () => {
    // A 4×8 mask filled in columns 4..7 of rows 1..2: centroid (5.5/8, 1.5/4).
    const mask = new Uint8Array(32);
    for (const y of [1, 2]) for (let x = 4; x < 8; x++) mask[y * 8 + x] = 1;
    expect(maskCentroid(mask, 4, 8)).toEqual([5.5 / 8, 1.5 / 4]);
    expect(maskCentroid(new Uint8Array(32), 4, 8)).toEqual([0.5, 0.5]);
    // Far in x (clamped to 0.1), near in y (reaches the centroid); a click on it stays.
    const t = centroidTargets(Float32Array.from([0.1, 0.4, 5.5 / 8, 1.5 / 4]), [5.5 / 8, 1.5 / 4], 0.1);
    expect(Array.from(t)).toEqual([0.1 + 0.1, 1.5 / 4, 5.5 / 8, 1.5 / 4].map(Math.fround));
    expect(() => resolveTrainConfig({ distTarget: 'centroid' })).toThrow(/needs candidateReach > 0/);
    expect(() => resolveTrainConfig({ distTarget: 'middle' as never })).toThrow(/distTarget must be 'candidates' or 'centroid'/);
    expect(resolveTrainConfig({ distTarget: 'centroid', candidateReach: 0.1 }).distTarget).toBe('centroid');
  });

  it('splits images into training and validation by seed', () => {
    const s = splitImages(10, 0.2, 3);
    expect(s.val.length).toBe(2);
    expect([...s.train, ...s.val].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(splitImages(10, 0.2, 3)).toEqual(s);
    expect(splitImages(1, 0.5, 0)).toEqual({ train: [0], val: [] });
    expect(splitImages(4, 0, 0).val).toEqual([]);
  });
});

describe('random streams', () => {
  it('the training stream resumes from its state; permutations are seeded', () => {
    const a = new SeededRandom(42);
    a.next();
    a.next();
    const b = new SeededRandom(0);
    b.state = a.state;
    expect(Array.from({ length: 5 }, () => a.nextU32())).toEqual(Array.from({ length: 5 }, () => b.nextU32()));
    expect(() => (b.state = -1)).toThrow(/unsigned 32-bit/);
    const p = permutation(20, 5);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(permutation(20, 5)).toEqual(p);
    expect(permutation(20, 6)).not.toEqual(p);
    expect(mixSeed(1, 2)).not.toBe(mixSeed(2, 1));
  });

  it('objectClicks: k clicks on the mask, normalised; pixels repeat when the mask is smaller than k', () => {
    const h = 5;
    const w = 8;
    const mask = new Uint8Array(h * w);
    mask[2 * w + 3] = 1;
    mask[4 * w + 7] = 1;
    const c = objectClicks(mask, h, w, 5, 1);
    expect(c.length).toBe(10);
    const pts = new Set<string>();
    for (let i = 0; i < 5; i++) pts.add(`${Math.round(c[2 * i] * w)},${Math.round(c[2 * i + 1] * h)}`);
    expect([...pts].sort()).toEqual(['3,2', '7,4']);
    expect(objectClicks(mask, h, w, 5, 1)).toEqual(c);
    expect(() => objectClicks(new Uint8Array(h * w), h, w, 2, 0)).toThrow(/empty/);
  });

  it('augmentation: three draws per image, flips move image and masks together', () => {
    const rng = new SeededRandom(9);
    const s0 = rng.state;
    const aug = drawAugmentation(rng, { hflip: true, vflip: true, brightness: 0.2 });
    const r2 = new SeededRandom(0);
    r2.state = s0;
    r2.next();
    r2.next();
    r2.next();
    expect(rng.state).toBe(r2.state);
    expect(aug.brightness).toBeGreaterThanOrEqual(0.8);
    expect(aug.brightness).toBeLessThan(1.2);
    expect(drawAugmentation(new SeededRandom(1), { hflip: false, vflip: false, brightness: 0 })).toEqual({ hflip: false, vflip: false, brightness: 1 });
    const img = { width: 3, height: 2, channels: 3 as const, data: Uint8Array.from({ length: 18 }, (_, i) => i * 10) };
    const mask = Uint8Array.from([1, 0, 0, 0, 0, 0]);
    const out = augment(img, [mask], { hflip: true, vflip: true, brightness: 1 });
    expect(Array.from(out.masks[0])).toEqual([0, 0, 0, 0, 0, 1]);
    expect(Array.from(out.image.data.slice(15, 18))).toEqual([0, 10, 20]);
    const bright = augment(img, [mask], { hflip: false, vflip: false, brightness: 1.5 });
    expect(Array.from(bright.image.data.slice(0, 3))).toEqual([0, 15, 30]);
    expect(bright.image.data[17]).toBe(255);
  });
});

describe('batching and metrics helpers', () => {
  it('chunks whole objects by the click budget', () => {
    expect(chunkObjects(4, 10, 25)).toEqual([[0, 2], [2, 4]]);
    expect(chunkObjects(3, 10, 5)).toEqual([[0, 1], [1, 2], [2, 3]]);
    expect(chunkObjects(4, 10, 1000)).toEqual([[0, 4]]);
  });

  it('a click is in the candidate region when within half a grid step of a candidate', () => {
    const grid = Float32Array.from([4, 4, 12, 4, 4, 12]);
    const flags = Uint8Array.from([0, 1, 0]);
    expect(inCandidateRegion(12, 4, grid, flags, 8)).toBe(true);
    expect(inCandidateRegion(15.9, 7.9, grid, flags, 8)).toBe(true);
    expect(inCandidateRegion(16.1, 4, grid, flags, 8)).toBe(false);
    expect(inCandidateRegion(4, 4, grid, flags, 8)).toBe(false);
  });

  it('progress: one redrawn line on a terminal, plain throttled lines elsewhere', () => {
    const tty: string[] = [];
    const p = new ProgressLine({ write: (s) => tty.push(s), isTTY: true, columns: 20 }, {});
    p.update('step 1 of a long status line', true);
    p.log('message');
    p.done();
    expect(tty[0]).toBe('\r\x1b[2Kstep 1 of a long s…');
    expect(tty).toContain('message\n');
    expect(tty.at(-1)).toBe('\n');
    const pipe: string[] = [];
    const q = new ProgressLine({ write: (s) => pipe.push(s) }, { intervalMs: 60_000 });
    q.update('a');
    q.update('b');
    q.update('c');
    q.done();
    expect(pipe).toEqual(['a\n', 'c\n']);
    expect(formatDuration(75_000)).toBe('1m15s');
    expect(formatDuration(4_000_000)).toBe('1h06m');
  });
});

describe('datasets', () => {
  it('synthetic shapes: seeded, masks match the image, objects non-empty', async () => {
    const a = syntheticShapes({ count: 3, seed: 2 });
    const b = syntheticShapes({ count: 3, seed: 2 });
    for (let i = 0; i < 3; i++) {
      const x = await a.get(i);
      expect(x.image.data).toEqual((await b.get(i)).image.data);
      expect(x.image.width * x.image.height).toBe(96 * 128);
      for (const o of x.objects) {
        expect(maskArea(o.mask)).toBeGreaterThanOrEqual(30);
        expect(['ellipse', 'bar']).toContain(o.className);
      }
    }
    expect((await syntheticShapes({ count: 1, seed: 3 }).get(0)).image.data).not.toEqual((await a.get(0)).image.data);
    expect(subset(a, [2]).length).toBe(1);
    expect(() => new InMemoryDataset([{ id: 'bad id', image: { width: 1, height: 1, channels: 3, data: new Uint8Array(3) }, objects: [] }])).toThrow(/id "bad id"/);
    expect(() => new InMemoryDataset([{ id: 'a', image: { width: 2, height: 1, channels: 3, data: new Uint8Array(6) }, objects: [{ mask: new Uint8Array(3), className: 'x' }] }])).toThrow(/object 0 mask has 3 values, the image is 1×2/);
  });

  it('manifest datasets: images and mask PNGs relative to the manifest', async () => {
    mkdirSync(join(root, 'ds', 'm'), { recursive: true });
    const w = 6;
    const h = 4;
    writeFileSync(join(root, 'ds', 'img.png'), encodeGreyPng(Uint8Array.from({ length: w * h }, (_, i) => i * 10), w, h));
    writeFileSync(join(root, 'ds', 'm', 'a.png'), encodeGreyPng(Uint8Array.from({ length: w * h }, (_, i) => (i % 5 === 0 ? 255 : 0)), w, h));
    writeFileSync(join(root, 'ds', 'm', 'small.png'), encodeGreyPng(new Uint8Array(4), 2, 2));
    writeFileSync(join(root, 'ds', 'set.json'), JSON.stringify({ name: 'tiny', items: [{ id: 'f1', image: 'img.png', objects: [{ mask: 'm/a.png', class: 'grasper' }] }, { id: 'f2', image: 'img.png', objects: [{ mask: 'm/small.png' }] }] }));
    const ds = await openDataset(join(root, 'ds', 'set.json'));
    expect(ds.name).toBe('tiny');
    expect(ds.length).toBe(2);
    const it0 = await ds.get(0);
    expect(it0.image).toMatchObject({ width: 6, height: 4, channels: 3 });
    expect(it0.image.data.slice(3, 6)).toEqual(Uint8Array.from([10, 10, 10]));
    expect(it0.objects[0].className).toBe('grasper');
    expect(maskArea(it0.objects[0].mask)).toBe(5);
    await expect(ds.get(1)).rejects.toThrow(/object 0 mask is 2×2, the image 6×4/);
    await expect(openDataset('synthetic:2:1')).resolves.toMatchObject({ length: 2 });
    await expect(openDataset('weird:1')).rejects.toThrow(/unknown kind 'weird'/);
  });
});
