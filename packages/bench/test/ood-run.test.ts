/**
 * `bench ood` end to end on a tiny generated CaDIS-layout folder (the synthetic second domain)
 * with the tiny256 fixture SAM 2 and shift block, 2 seeds, shares 0 and 50 %, 2 steps per
 * fine-tune: every output and the report line; SAM2-FT's weights load as a SAM 2 model and differ
 * from SAM 2's only in the mask decoder; a run interrupted inside a fine-tune and resumed gives
 * the same results as the uninterrupted one; a malformed folder is refused naming the file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SafetensorsFile } from '@rpsam2/tensor';
import { fileSource } from '@rpsam2/tensor/node';
import { isEncoderParam, loadSam2, readSam2ConfigArg } from '@rpsam2/sam2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCadis } from '../src/datasets/cadis.js';
import { executeOod, parseOodArgs } from '../src/ood/command.js';
import { memoryIO } from '../src/runs/run-io.js';
import { StopSignal } from '../src/runs/stop-signal.js';
import { generateSyntheticDataset } from '../src/synthetic/dataset.js';
import { greyPng, put, rgbPng, tempDir } from './helpers/fixtures.js';

const BENCH = new URL('../dist/cli.js', import.meta.url).pathname;
const FIX = new URL('../../../../shared/fixtures/', import.meta.url).pathname;
const TINY_WEIGHTS = join(FIX, 'sam2/tiny256/weights.safetensors');
const TINY_CONFIG = join(FIX, 'sam2/tiny256/meta.json');
const TINY = ['--weights', TINY_WEIGHTS, '--config', TINY_CONFIG, '--shift-block', join(FIX, 'rpsam2/tiny256/shift_block.safetensors')];
const SMALL = ['--shares', '0,50', '--seeds', '2', '--steps', '2', '--ft-steps', '2', '--grid-step', '24'];

let tmp: { dir: string; cleanup: () => Promise<void> };
let data: string;

beforeAll(async () => {
  tmp = await tempDir('ood-run');
  data = join(tmp.dir, 'cadis');
  // 2 train videos, 1 val, 1 test; 2 frames each, 2 instruments per frame.
  await generateSyntheticDataset(data, { domain: 'cadis', seed: 3, cases: 4, framesPerCase: 2, width: 128, height: 72, minInstruments: 2, maxInstruments: 2, valCases: 1, testCases: 1 });
});

afterAll(async () => {
  await tmp?.cleanup();
});

async function tensorsOf(path: string): Promise<Map<string, Float32Array>> {
  const f = await SafetensorsFile.open(fileSource(path));
  const out = new Map<string, Float32Array>();
  for (const k of f.keys()) out.set(k, await f.readF32(k));
  return out;
}

type Row = { line: string; share: number; mDSC: { mean: number; std: number }; mHD95: { mean: number }; pseudoMaskDice: number | null; perSeed: unknown[] };

describe('bench ood (tiny)', () => {
  let uninterrupted: Row[];

  it('the generated domain opens with the CaDIS loader (official split, CaDIS classes)', async () => {
    const ds = await openCadis(data, { validateLabels: true });
    expect(ds.split.counts).toEqual({ train: 4, val: 2, test: 2, none: 0 });
    const objects = await ds.loadObjects(ds.framesIn('test')[0]);
    expect(objects.length).toBeGreaterThan(0);
    for (const o of objects) expect(ds.instrumentKeys).toContain(o.classKey);
  });

  it('runs on a CaDIS-layout folder and writes every output', async () => {
    const dir = join(tmp.dir, 'run-a');
    const io = memoryIO();
    const code = await executeOod(parseOodArgs(['--dataset', 'cadis', '--data', data, ...TINY, ...SMALL, '--out', dir]), io, new StopSignal());
    expect(code).toBe(0);
    expect(io.lines.at(-1)).toBe(`report: ${dir}`);
    const files = await readdir(dir);
    for (const f of ['config.json', 'env.json', 'subsets.json', 'samples.jsonl', 'results.json', 'ood.csv', 'ood.md', 'timings.json', 'figures']) expect(files).toContain(f);
    expect(await readdir(join(dir, 'figures'))).toContain('ood-mdsc.png');
    const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    const rows = results.rows as Row[];
    expect(rows.map((r) => `${r.line}@${r.share}`)).toEqual(['SAM 2', 'RP-SAM2', 'SAM2-FT (SAM 2 masks)', 'SAM2-FT (RP-SAM2 masks)'].flatMap((l) => [`${l}@0`]).concat(['SAM 2', 'RP-SAM2', 'SAM2-FT (SAM 2 masks)', 'SAM2-FT (RP-SAM2 masks)'].map((l) => `${l}@0.5`)));
    for (const r of rows) {
      expect(r.perSeed).toHaveLength(2);
      expect(r.mDSC.mean).toBeGreaterThanOrEqual(0);
      expect(r.mDSC.mean).toBeLessThanOrEqual(1);
      expect(Number.isFinite(r.mHD95.mean)).toBe(true);
      expect(r.pseudoMaskDice === null).toBe(!r.line.startsWith('SAM2-FT'));
    }
    // SAM 2 is zero-shot at every share: the same numbers.
    expect(rows[4].mDSC).toEqual(rows[0].mDSC);
    expect(results.shares[1].labelledFrames).toBe(2);
    expect(results.shares[1].pseudoFrames).toBe(2);
    const csv = (await readFile(join(dir, 'ood.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('line,method,share,mDSC,mDSC std,mHD95,mHD95 std,wilcoxon p vs SAM 2,pseudo-mask Dice');
    expect(csv).toHaveLength(1 + rows.length);
    uninterrupted = rows;

    // SAM2-FT's checkpoint is a SAM 2 model, and only the mask decoder moved.
    const ft = results.shares[1].sam2ft.rpsam2Masks.weights as string;
    const { model } = await loadSam2({ weights: ft, config: await readSam2ConfigArg(TINY_CONFIG) });
    model.dispose();
    const before = await tensorsOf(TINY_WEIGHTS);
    const after = await tensorsOf(ft);
    let changed = 0;
    for (const [k, v] of after) {
      const b = before.get(k);
      expect(b, k).toBeDefined();
      const same = b!.length === v.length && b!.every((x, i) => x === v[i]);
      if (k.startsWith('sam_mask_decoder.') && !isEncoderParam(k)) changed += same ? 0 : 1;
      else expect(same, `${k} changed`).toBe(true);
    }
    expect(changed).toBeGreaterThan(0);
  });

  it('gives the same results after an interruption inside a fine-tune and --resume', async () => {
    const dir = join(tmp.dir, 'run-b');
    const stop = new StopSignal();
    const io = memoryIO();
    // Stop after SAM2-FT's first step on RP-SAM2's masks at 50 % (the progress line of that step).
    io.progress = { isTTY: true, write: (s: string) => (s.includes('SAM2-FT (RP-SAM2 masks) @50%: step 1/') ? stop.request() : undefined) };
    const code = await executeOod(parseOodArgs(['--dataset', 'cadis', '--data', data, ...TINY, ...SMALL, '--out', dir]), io, stop);
    expect(code).toBe(130);
    expect(io.lines.at(-1)).toMatch(/^interrupted during 'SAM2-FT 50%'.*--resume/);
    const io2 = memoryIO();
    expect(await executeOod(parseOodArgs(['--resume', dir]), io2, new StopSignal())).toBe(0);
    expect(io2.lines.at(-1)).toBe(`report: ${dir}`);
    const rows = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')).rows as Row[];
    expect(rows).toEqual(uninterrupted);
  });

  it('refuses a malformed CaDIS folder, naming the file and the problem', async () => {
    const bad = join(tmp.dir, 'bad');
    const lab = new Uint8Array(8 * 6).fill(5);
    lab[9] = 40;
    await put(join(bad, 'Video01/Images/a.png'), rgbPng(8, 6));
    await put(join(bad, 'Video01/Labels/a.png'), greyPng(8, 6, lab));
    await put(join(bad, 'Video01/Images/b.png'), rgbPng(8, 6));
    const out = join(tmp.dir, 'bad-run');
    const err = await executeOod(parseOodArgs(['--data', bad, '--out', out]), memoryIO(), new StopSignal()).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.name).toBe('UsageError');
    expect(err?.message).toMatch(/Labels\/a\.png: label value 40 at \(1, 1\) is not a CaDIS class id/);
    expect(err?.message).toMatch(/Images\/b\.png: image has no label map/);
    // Refused before anything was written.
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  });

  it.skipIf(!existsSync(BENCH))('the built CLI lists ood in --help and refuses a malformed folder with exit 2', () => {
    const help = spawnSync(process.execPath, [BENCH, '--help'], { encoding: 'utf8', timeout: 60_000 });
    expect(help.stdout).toMatch(/bench ood \[flags\]/);
    expect(help.stdout).toMatch(/ood flags:\n {2}--data <dir> --dataset cadis/);
    const r = spawnSync(process.execPath, [BENCH, 'ood', '--data', join(tmp.dir, 'bad'), '--out', join(tmp.dir, 'bad-cli')], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bench ood: --data .*bad is not a usable CaDIS folder:\ncadis: 2 errors/);
    expect(existsSync(join(tmp.dir, 'bad-cli'))).toBe(false);
  });

  it('rejects bad flags with a message that names them', () => {
    expect(() => parseOodArgs(['--shares', '0,120'])).toThrow(/--shares needs percentages/);
    expect(() => parseOodArgs(['--shares', '50,10'])).toThrow(/ascending/);
    expect(() => parseOodArgs(['--dataset', 'cadis'])).toThrow(/needs --data/);
    expect(() => parseOodArgs(['--weights', TINY_WEIGHTS])).toThrow(/--shift-block/);
    expect(() => parseOodArgs(['--resume', 'x', '--seeds', '2'])).toThrow(/other flags are not allowed/);
    expect(() => parseOodArgs(['--bogus', '1'])).toThrow(/bogus/);
    const d = parseOodArgs([]).config!;
    expect(d.shares).toEqual([0, 0.25, 0.5]);
    expect(d.schedule).toBe('brief');
  });
});
