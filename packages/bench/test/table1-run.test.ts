/**
 * End-to-end Table 1 runs on a tiny generated set with the tiny256 fixture SAM 2 and 2 seeds:
 * with the fixture's shift block (every output file, the report line, a resumed finished run
 * computing nothing), and with RP-SAM2 trained in the run for two steps (training cache,
 * checkpoints, done marker).
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSamples } from '../src/evaluation/samples.js';
import { parseRunArgs } from '../src/runs/run-args.js';
import { executeRun } from '../src/runs/run-command.js';
import { memoryIO } from '../src/runs/run-io.js';
import { StopSignal } from '../src/runs/stop-signal.js';
import { useTempDir } from './helpers/fixtures.js';

const FIX = new URL('../../../../shared/fixtures/', import.meta.url).pathname;
const TINY = ['--weights', join(FIX, 'sam2/tiny256/weights.safetensors'), '--config', join(FIX, 'sam2/tiny256/meta.json')];
const SMALL = ['--cases', '2', '--frames', '1', '--size', '96x72', '--instruments', '2', '--seeds', '2'];

const tmp = useTempDir('table1-run');

describe('bench table1 (tiny)', () => {
  it('evaluates a given shift block and writes every output', async () => {
    const dir = join(tmp.dir, 'given');
    const io = memoryIO();
    const code = await executeRun(parseRunArgs([...TINY, '--shift-block', join(FIX, 'rpsam2/tiny256/shift_block.safetensors'), ...SMALL, '--heatmaps', '1', '--heatmap-clicks', '12', '--out', dir], 'table1'), io, new StopSignal());
    expect(code).toBe(0);
    expect(io.lines.at(-1)).toBe(`report: ${dir}`);
    const files = await readdir(dir);
    for (const f of ['config.json', 'env.json', 'samples.jsonl', 'results.json', 'table1.md', 'table1.csv', 'table1.json', 'timings.json', 'figures']) expect(files).toContain(f);
    const figs = await readdir(join(dir, 'figures'));
    expect(figs.filter((f) => f.endsWith('.png'))).toHaveLength(1);

    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(config.protocol.seeds).toEqual([0, 1]);
    expect(config.rpsam2.shiftBlock).toBe(join(FIX, 'rpsam2/tiny256/shift_block.safetensors'));
    const env = JSON.parse(await readFile(join(dir, 'env.json'), 'utf8'));
    expect(env.packages['@rpsam2/sam2']).toMatch(/^\d+\.\d+\.\d+/);
    expect(env.adapter).not.toBeNull();

    const { records } = await readSamples(join(dir, 'samples.jsonl'));
    const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    const objects = results.dataset.objects;
    expect(records).toHaveLength(objects * 2 * 2);
    expect(Object.keys(results.results)).toEqual(['SAM 2', 'RP-SAM2']);
    const sam2 = results.results['SAM 2'];
    // The Avg. row is the macro average of the class rows, seed by seed.
    const classes = Object.values(sam2.classes) as { perSeed: { mDSC: number }[] }[];
    const seed0 = classes.reduce((a, c) => a + c.perSeed[0].mDSC, 0) / classes.length;
    expect(sam2.average.perSeed[0].mDSC).toBeCloseTo(seed0, 12);
    expect(results.headline.sam2InstrumentMdsc.mean).toBe(sam2.average.mDSC.mean);
    expect(results.tests).toHaveLength(1);
    expect(results.tests[0].a).toBe('RP-SAM2');
    expect(results.tests[0].wilcoxonDice.n + results.tests[0].wilcoxonDice.zeros).toBe(objects);
    expect(results.timings.stages.map((s: { name: string }) => s.name)).toEqual(expect.arrayContaining(['generate data', 'load SAM 2', 'encode evaluated frames', 'evaluate', 'report']));

    const md = await readFile(join(dir, 'table1.md'), 'utf8');
    // The header gives each method's trainable parameters (the shift block's for RP-SAM2).
    expect(md).toMatch(/\| Class \| SAM 2 \(0\) \| RP-SAM2 \(\d[\d.]* M\) \|/);
    expect(md).toContain('| Avg. |');
    expect(md).toContain('| Click spread |');
    const table = JSON.parse(await readFile(join(dir, 'table1.json'), 'utf8'));
    expect(table.rows.at(-1).class).toBe('Avg.');
    expect(table.rows.at(-1).cells['SAM 2'].mDSC.mean).toBe(sam2.average.mDSC.mean);
    expect(io.lines.some((l) => l.startsWith('SAM 2 single-click instrument mDSC: '))).toBe(true);

    // Resuming a finished run recomputes no sample and writes the same table.
    const io2 = memoryIO();
    expect(await executeRun(parseRunArgs(['--resume', dir], 'table1'), io2, new StopSignal())).toBe(0);
    expect(io2.lines.at(-1)).toBe(`report: ${dir}`);
    expect(io2.lines.some((l) => l.includes(`(0 now, ${records.length} earlier)`))).toBe(true);
    expect(await readFile(join(dir, 'table1.md'), 'utf8')).toBe(md);
  });

  it('trains RP-SAM2 in the run (two steps) and evaluates it', async () => {
    const dir = join(tmp.dir, 'trained');
    const io = memoryIO();
    const code = await executeRun(parseRunArgs([...TINY, ...SMALL, '--heatmaps', '0', '--steps', '2', '--set', 'shiftBlock="tiny"', '--grid-step', '24', '--out', dir], 'table1'), io, new StopSignal());
    expect(code).toBe(0);
    const done = JSON.parse(await readFile(join(dir, 'train', 'RP-SAM2', 'done.json'), 'utf8'));
    expect(done.state.globalStep).toBe(2);
    const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    expect(results.methods[1]).toMatchObject({ name: 'RP-SAM2', kind: 'rpsam2', training: { steps: 2 } });
    expect(results.methods[1].checkpoint).toBe(join(dir, 'train', 'RP-SAM2', 'checkpoints', 'last.safetensors'));
    const trainCfg = JSON.parse(await readFile(join(dir, 'train', 'RP-SAM2', 'config.json'), 'utf8'));
    expect(trainCfg).toMatchObject({ maxSteps: 2, shiftBlock: 'tiny', mode: 'cached' });
  });

  it('rejects bad flags with a message that names them', () => {
    expect(() => parseRunArgs(['--seeds', '0'], 'table1')).toThrow(/--seeds needs an integer ≥ 1/);
    expect(() => parseRunArgs(['--bogus', '1'], 'table1')).toThrow(/unknown flag --bogus/);
    expect(() => parseRunArgs(['--resume', 'x', '--seeds', '2'], 'table1')).toThrow(/other flags are not allowed/);
    expect(() => parseRunArgs(['--config', 'l'], 'table1')).toThrow(/--config is the config of --weights/);
    expect(() => parseRunArgs(['--extra', 'SAM 2=/x.pt'], 'table1')).toThrow(/used twice/);
  });
});
