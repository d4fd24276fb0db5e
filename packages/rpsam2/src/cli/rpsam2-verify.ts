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
import { CheckTally, SafetensorsFile, getBackend, shutdown } from '@rpsam2/tensor';
import { initNode, fileSource, errorText } from '@rpsam2/tensor/node';
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

async function main(argv: string[]): Promise<number> {
  const [dir, sam2Arg] = argv.slice(2);
  if (!dir || dir === '--help' || dir === '-h') {
    console.error(USAGE);
    return 2;
  }
  let inputs;
  try {
    inputs = await loadInputs(dir, sam2Arg);
  } catch (e) {
    console.error(`rpsam2-verify: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const backend = await initNode();
  console.log(`adapter: ${backend.info.adapter.description || backend.info.adapter.vendor}; fixture ${dir} on SAM 2 fixture ${inputs.sam2Dir}`);
  const tally = new CheckTally();
  const t0 = performance.now();
  await verifyRpsam2Fixture(inputs, tally.add);
  const live = getBackend().stats().liveBytes;
  if (live) console.log(`warning: ${live} bytes of GPU memory still live`);
  console.log(`time: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(tally.summary());
  return tally.failed ? 1 : 0;
}

main(process.argv)
  .then((code) => {
    shutdown();
    process.exit(code);
  })
  .catch((e) => {
    console.error(`rpsam2-verify: ${errorText(e)}`);
    shutdown();
    process.exit(2);
  });
