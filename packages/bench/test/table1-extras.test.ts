/**
 * Table 1 with the paper's other columns on tiny models: an HQ-SAM2 row (the hq256 fixture's
 * weights, HQ decoder picked by the checkpoint's keys) and a MedSAM2-like row (a SAM 2-architecture
 * model with its own official-layout YAML at 512 px), next to SAM 2 and RP-SAM2. The header gives
 * each method's trainable parameters.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SafetensorsFile } from '@rpsam2/tensor';
import { fileSource } from '@rpsam2/tensor/node';
import { parseRunArgs } from '../src/runs/run-args.js';
import { executeRun } from '../src/runs/run-command.js';
import { memoryIO } from '../src/runs/run-io.js';
import { StopSignal } from '../src/runs/stop-signal.js';
import { paramsText } from '../src/runs/table-writers.js';
import { tinyModelYaml, useTempDir } from './helpers/fixtures.js';

const FIX = new URL('../../../../shared/fixtures/', import.meta.url).pathname;
const TINY = join(FIX, 'sam2/tiny256/');
const HQ = join(FIX, 'hq-sam2/hq256/');
const SHIFT = join(FIX, 'rpsam2/tiny256/shift_block.safetensors');
const SMALL = ['--cases', '2', '--frames', '1', '--size', '96x72', '--instruments', '2', '--seeds', '2', '--heatmaps', '0'];

/** Elements of the tensors of a safetensors file whose names pass `keep`. */
async function elementsOf(path: string, keep: (k: string) => boolean): Promise<number> {
  const f = await SafetensorsFile.open(fileSource(path));
  return f
    .keys()
    .filter(keep)
    .reduce((n, k) => n + f.entry(k).shape.reduce((a, b) => a * b, 1), 0);
}

const tmp = useTempDir('table1-extras');

describe('bench table1 --extra (HQ-SAM2, a 512-px SAM 2-architecture model)', () => {
  it('writes a table with both rows and the trainable parameters in the header', async () => {
    const medYaml = join(tmp.dir, 'med_hiera_t512.yaml');
    await writeFile(medYaml, tinyModelYaml(512));
    const dir = join(tmp.dir, 'run');
    const io = memoryIO();
    const args = [
      ...['--weights', TINY + 'weights.safetensors', '--config', TINY + 'meta.json', '--shift-block', SHIFT],
      // HQ-SAM2 without a config: the fixture folder's meta.json beside the weights gives it.
      ...['--extra', `HQ-SAM2=${HQ}weights.safetensors`, '--extra', `Med=${TINY}weights.safetensors:${medYaml}`],
      ...SMALL,
      ...['--out', dir],
    ];
    expect(await executeRun(parseRunArgs(args, 'table1'), io, new StopSignal())).toBe(0);
    expect(io.lines.some((l) => /^HQ-SAM2: .*config .*meta\.json beside the weights; HQ-SAM2's mask decoder/.test(l))).toBe(true);
    expect(io.lines.some((l) => /^Med: .* as med_hiera_t512 \(config .*; 512 px/.test(l))).toBe(true);

    const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    expect(Object.keys(results.results)).toEqual(['SAM 2', 'RP-SAM2', 'HQ-SAM2', 'Med']);
    const models = Object.fromEntries(results.models.map((m: { name: string }) => [m.name, m]));
    expect(models.Med.imageSize).toBe(512);
    expect(models['HQ-SAM2'].imageSize).toBe(256);

    // Trainable: SAM 2 none; RP-SAM2 its shift block; HQ-SAM2 the modules it adds to the decoder;
    // a SAM 2-architecture fine-tune its whole image path.
    const hq = await elementsOf(HQ + 'weights.safetensors', (k) => /^sam_mask_decoder\.(hf_token|hf_mlp|embedding_maskfeature)\./.test(k));
    const block = await elementsOf(SHIFT, () => true);
    expect(hq).toBe(2880);
    const table = JSON.parse(await readFile(join(dir, 'table1.json'), 'utf8'));
    expect(table.columns).toEqual(['SAM 2', 'RP-SAM2', 'HQ-SAM2', 'Med']);
    expect(table.trainableParams).toEqual({ 'SAM 2': 0, 'RP-SAM2': block, 'HQ-SAM2': hq, Med: models.Med.parameters });
    const md = await readFile(join(dir, 'table1.md'), 'utf8');
    const header = `| Class | SAM 2 (0) | RP-SAM2 (${paramsText(block)}) | HQ-SAM2 (${paramsText(hq)}) | Med (${paramsText(models.Med.parameters)}) |`;
    expect(md).toContain(header);
    expect(md).toMatch(/\n\| Avg\. \| [^\n]*\|[^\n]*\|[^\n]*\|[^\n]*\|\n/);
    const avg = table.rows.at(-1);
    for (const m of ['HQ-SAM2', 'Med']) expect(avg.cells[m].mDSC.mean).toBeGreaterThanOrEqual(0);
  });
});
