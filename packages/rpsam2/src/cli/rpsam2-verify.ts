#!/usr/bin/env node
/**
 * `pnpm rpsam2-verify <rpsam2-dir> [<sam2-dir>]`: recomputes every golden tensor of an RP-SAM2
 * fixture folder (spec.json, shift_block.safetensors, golden.safetensors) on its SAM 2 fixture
 * folder (meta.json, weights.safetensors, golden.safetensors; default: ../../sam2/<spec.sam2_fixture>
 * next to the RP-SAM2 folder's parent, as in the shared fixtures) and compares; one line per
 * tensor, then `N passed, M failed`; exit 1 on failure, 2 on bad input.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SafetensorsFile } from '@rpsam2/tensor';
import { fileSource } from '@rpsam2/tensor/node';
import { runFixtureVerify, runMain } from '@rpsam2/sam2/cli';
import { verifyRpsam2Fixture, type Rpsam2FixtureInputs } from '../verify/fixture-verifier.js';

const USAGE = `usage: rpsam2-verify <rpsam2-dir> [<sam2-dir>]
  <rpsam2-dir> holds spec.json, shift_block.safetensors, golden.safetensors
  <sam2-dir>   holds meta.json, weights.safetensors, golden.safetensors
               (default: <rpsam2-dir>/../../sam2/<spec.sam2_fixture>)`;

async function loadInputs(dir: string, sam2Arg: string | undefined): Promise<Rpsam2FixtureInputs & { sam2Dir: string }> {
  const spec = JSON.parse(await readFile(join(dir, 'spec.json'), 'utf8'));
  const sam2Dir = sam2Arg ?? resolve(dir, '..', '..', 'sam2', String(spec.sam2_fixture ?? ''));
  return {
    spec,
    shiftWeights: await SafetensorsFile.open(fileSource(join(dir, 'shift_block.safetensors'))),
    golden: await SafetensorsFile.open(fileSource(join(dir, 'golden.safetensors'))),
    sam2: {
      meta: JSON.parse(await readFile(join(sam2Dir, 'meta.json'), 'utf8')),
      weights: await SafetensorsFile.open(fileSource(join(sam2Dir, 'weights.safetensors'))),
      golden: await SafetensorsFile.open(fileSource(join(sam2Dir, 'golden.safetensors'))),
    },
    sam2Dir,
  };
}

runMain(
  'rpsam2-verify',
  () =>
    runFixtureVerify(
      {
        program: 'rpsam2-verify',
        usage: USAGE,
        maxFolders: 2,
        load: ([dir, sam2Dir]) => loadInputs(dir, sam2Dir).then((inputs) => ({ ...inputs, dir })),
        describe: (f) => `fixture ${f.dir} on SAM 2 fixture ${f.sam2Dir}`,
        verify: (f, add) => verifyRpsam2Fixture(f, add),
      },
      process.argv.slice(2),
    ),
  2,
);
