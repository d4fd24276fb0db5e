/**
 * Issue #22: dataset problems that used to vanish. A zero-area instrument polygon is dropped with
 * a warning that must reach the printed output and results.json's counts; a hole lying outside
 * its exterior (which even-odd filling would turn into a ground-truth object of its own) is
 * reported and the object skipped.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holeProblem, pointInOrOnRing } from '@rpsam2/data';
import { openCataract1k } from '../src/datasets/index.js';
import { parseRunArgs } from '../src/runs/run-args.js';
import { executeRun } from '../src/runs/run-command.js';
import { memoryIO } from '../src/runs/run-io.js';
import { StopSignal } from '../src/runs/stop-signal.js';
import { put, rgbPng, svAnnotation, svObject, tempDir } from './helpers/fixtures.js';

const FIX = new URL('../../../../shared/fixtures/', import.meta.url).pathname;
const SUP = 'Annotations/Images-and-Supervisely-Annotations';
const W = 96;
const H = 72;
const RECT = [[10, 10], [40, 10], [40, 30], [10, 30]];
const LINE = [[50, 5], [60, 15], [70, 25]]; // collinear: zero area
const FAR = [[200, 200], [220, 200], [220, 220], [200, 220]]; // outside the image
const HOLE = [[60, 40], [60, 44], [64, 44], [64, 40]]; // inside the image, outside FAR

let tmp: { dir: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  tmp = await tempDir('dataset-issues');
  await put(join(tmp.dir, SUP, 'meta.json'), '{"classes": []}');
  for (const c of ['case_0001', 'case_0002']) {
    await put(join(tmp.dir, SUP, c, 'img', 'f.png'), rgbPng(W, H, c.length));
    await put(join(tmp.dir, SUP, c, 'ann', 'f.png.json'), svAnnotation(W, H, [svObject('Spatula', RECT, [], 1), svObject('Gauge', LINE, [], 2), svObject('Slit Knife', FAR, [HOLE], 3)]));
  }
  await put(join(tmp.dir, 'splits.json'), JSON.stringify({ train: ['case_0001'], val: [], test: ['case_0002'] }));
});

afterAll(async () => {
  await tmp?.cleanup();
});

describe('dataset issues are reported, never silent', () => {
  it('holes must lie inside their exterior', () => {
    expect(pointInOrOnRing(10, 10, RECT)).toBe(true); // a vertex
    expect(pointInOrOnRing(25, 10, RECT)).toBe(true); // on an edge
    expect(pointInOrOnRing(25, 20, RECT)).toBe(true);
    expect(pointInOrOnRing(5, 20, RECT)).toBe(false);
    expect(holeProblem(RECT, [[12, 12], [12, 14], [14, 14]])).toBeUndefined();
    expect(holeProblem(FAR, HOLE)).toBe('point 0 (60, 40) lies outside the exterior polygon');
  });

  it('the loader skips a hole outside its exterior with a warning (no 1-pixel object), and warns once per zero-area object', async () => {
    const ds = await openCataract1k(tmp.dir);
    const frame = ds.frames.find((f) => f.group === 'case_0002')!;
    expect(frame.objects.map((o) => o.classTitle)).toEqual(['Spatula', 'Gauge']);
    expect(ds.issues.filter((i) => /interior ring 0 \(a hole\): point 0 \(60, 40\) lies outside the exterior polygon; object skipped/.test(i.message))).toHaveLength(2);
    for (let k = 0; k < 2; k++) expect((await ds.loadObjects(frame)).map((o) => o.classKey)).toEqual(['S']);
    expect(ds.issues.filter((i) => i.message === "object 1 ('Gauge') covers no pixel centre; skipped" && i.file === frame.annotationPath)).toHaveLength(1);
  });

  it('a run prints the warnings and counts them in results.json', async () => {
    const dir = join(tmp.dir, 'run');
    const io = memoryIO();
    const args = ['--data', tmp.dir, '--weights', join(FIX, 'sam2/tiny256/weights.safetensors'), '--config', join(FIX, 'sam2/tiny256/meta.json')];
    args.push('--shift-block', join(FIX, 'rpsam2/tiny256/shift_block.safetensors'), '--seeds', '1', '--heatmaps', '0', '--out', dir);
    const code = await executeRun(parseRunArgs(args, 'table1'), io, new StopSignal());
    expect(code, io.errors.join('\n')).toBe(0);
    const printed = io.errors.join('\n');
    expect(printed).toMatch(/cataract1k: 0 errors, 3 warnings/);
    expect(printed).toMatch(/warning: .*case_0002\/ann\/f\.png\.json: object 1 \('Gauge'\) covers no pixel centre; skipped/);
    expect(printed).toMatch(/warning: .*case_0001\/ann\/f\.png\.json: object 2 \('Slit Knife'\): interior ring 0 \(a hole\)/);
    const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    expect(results.dataset.issues).toEqual({ errors: 0, warnings: 3 });
    expect(results.dataset.objects).toBe(1);
  }, 120_000);
});
