/**
 * The default run (`pnpm bench` with no arguments): its configuration, and the same pipeline in
 * miniature (two 96×72 frames, 2 seeds, one training step) with the embedded default SAM 2 —
 * it names the default model, trains RP-SAM2, prints SAM 2's single-click instrument mDSC and
 * click spread, and ends with the report line. The full-size default run is not run in tests.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_NAME } from '@rpsam2/sam2';
import { BRIEF_TRAINING, DEFAULT_GENERATE, DEFAULT_SHIFT_BLOCK, defaultRunConfig, methodNames } from '../src/runs/experiment-config.js';
import { parseRunArgs } from '../src/runs/run-args.js';
import { executeRun } from '../src/runs/run-command.js';
import { memoryIO } from '../src/runs/run-io.js';
import { StopSignal } from '../src/runs/stop-signal.js';
import { useTempDir } from './helpers/fixtures.js';

const tmp = useTempDir('default-run');

describe('default run', () => {
  it('no flags: generated synthetic data, the default SAM 2 with its shipped shift block, the full protocol', () => {
    const a = parseRunArgs([], 'table1');
    expect(a.resume).toBeUndefined();
    const c = a.config!;
    expect(c).toEqual(defaultRunConfig('table1'));
    expect(c.data.generate).toEqual(DEFAULT_GENERATE);
    expect(c.data.dataset).toBe('synthetic');
    expect(c.sam2.weights).toBe(''); // the embedded default model
    expect(c.rpsam2.shiftBlock).toBe(DEFAULT_SHIFT_BLOCK); // the shipped block, nothing trained
    expect(c.data.generate!.framesPerCase).toBe(30); // ~45 test objects
    expect(c.training.base).toEqual(BRIEF_TRAINING);
    // The brief schedule starts the shift block at the identity (see BRIEF_TRAINING's comment).
    expect(c.training.base).toMatchObject({ maxSteps: 30, lr: 3e-4, zeroInitHead: true });
    expect(c.protocol.seeds).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(methodNames(c)).toEqual(['SAM 2', 'RP-SAM2']);
    // --data switches to the real experiment: the paper's schedule, no generated data.
    const real = parseRunArgs(['--data', '/data/cataract-1k', '--weights', '/w/sam2.1_hiera_l.pt'], 'table1').config!;
    expect(real.data.generate).toBeNull();
    expect(real.data.root).toBe('/data/cataract-1k');
    expect(real.sam2).toEqual({ weights: '/w/sam2.1_hiera_l.pt', config: '', dtype: 'f32' });
    expect(real.training.base.maxSteps).toBeUndefined();
    expect(real.rpsam2.shiftBlock).toBe(''); // trained in the run
    // A training flag, or SAM 2 weights of one's own, train in the run instead of the shipped block.
    expect(parseRunArgs(['--steps', '5'], 'table1').config!.rpsam2.shiftBlock).toBe('');
    expect(parseRunArgs(['--set', 'lr=1e-3'], 'table1').config!.rpsam2.shiftBlock).toBe('');
    expect(parseRunArgs(['--weights', '/w/sam2.1_hiera_t.pt'], 'table1').config!.rpsam2.shiftBlock).toBe('');
    expect(parseRunArgs(['--shift-block', 'default'], 'table1').config!.rpsam2.shiftBlock).toBe(DEFAULT_SHIFT_BLOCK);
    // The shipped block with other SAM 2 weights: refused, naming the fix.
    expect(() => parseRunArgs(['--weights', '/w/sam2.1_hiera_t.pt', '--shift-block', 'default'], 'table1')).toThrow(/fits only the embedded default model.*Train one/);
    // The ablations train their variants.
    expect(defaultRunConfig('ablate-loss').rpsam2.shiftBlock).toBe('');
  });

  it('runs in miniature with the default model and says so', async () => {
    const dir = join(tmp.dir, 'mini');
    const io = memoryIO();
    const args = parseRunArgs(['--cases', '2', '--frames', '1', '--size', '96x72', '--instruments', '2', '--seeds', '2', '--steps', '1', '--grid-step', '48', '--heatmaps', '0', '--out', dir], 'table1');
    expect(await executeRun(args, io, new StopSignal())).toBe(0);
    expect(io.lines.find((l) => l.startsWith('SAM 2: '))).toContain(`the embedded default model ${DEFAULT_MODEL_NAME}`);
    expect(io.lines.find((l) => l.startsWith('SAM 2: '))).toContain('no --weights given');
    expect(io.lines.some((l) => /^SAM 2 single-click instrument mDSC: \d\.\d{3} ± \d\.\d{3} .*click-position spread: \d\.\d{3}/.test(l))).toBe(true);
    expect(io.lines.some((l) => l.startsWith('stages:'))).toBe(true);
    expect(io.lines.at(-1)).toBe(`report: ${dir}`);
    const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    expect(results.models[0].description).toContain('the embedded default model');
    expect(results.methods.map((m: { name: string }) => m.name)).toEqual(['SAM 2', 'RP-SAM2']);
    expect(results.methods[1].training.steps).toBe(1);
    expect(results.headline.sam2ClickSpread).toBe(results.results['SAM 2'].clickSpread.mean);
    const md = await readFile(join(dir, 'table1.md'), 'utf8');
    expect(md).toContain('SAM 2 single-click instrument mDSC: ');
    expect(md).toContain('| Click spread |');
  });
});
