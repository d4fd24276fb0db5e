#!/usr/bin/env node
/**
 * `pnpm sam2-verify <dir>`: recomputes every golden tensor of a SAM 2 fixture folder
 * (meta.json, weights.safetensors, golden.safetensors) and compares; one line per tensor, then
 * `N passed, M failed`; exit 1 on failure, 2 on bad input.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckTally, SafetensorsFile, getBackend, shutdown } from '@rpsam2/tensor';
import { initNode, fileSource, errorText } from '@rpsam2/tensor/node';
import { verifyFixture } from '../verify/fixture-verifier.js';

async function main(argv: string[]): Promise<number> {
  const dir = argv[2];
  if (!dir || dir === '--help' || dir === '-h') {
    console.error('usage: sam2-verify <dir>   (dir holds meta.json, weights.safetensors, golden.safetensors)');
    return 2;
  }
  let meta;
  let weights;
  let golden;
  try {
    meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8'));
    weights = await SafetensorsFile.open(fileSource(join(dir, 'weights.safetensors')));
    golden = await SafetensorsFile.open(fileSource(join(dir, 'golden.safetensors')));
  } catch (e) {
    console.error(`sam2-verify: ${(e as Error).message}`);
    return 2;
  }
  const backend = await initNode();
  console.log(`adapter: ${backend.info.adapter.description || backend.info.adapter.vendor}; fixture ${dir}`);
  const tally = new CheckTally();
  const t0 = performance.now();
  await verifyFixture({ meta, weights, golden }, tally.add);
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
    console.error(`sam2-verify: ${errorText(e)}`);
    process.exit(2);
  });
