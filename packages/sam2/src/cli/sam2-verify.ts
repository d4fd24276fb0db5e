#!/usr/bin/env node
/**
 * `pnpm sam2-verify <dir>`: recomputes every golden tensor of a SAM 2 fixture folder
 * (meta.json, weights.safetensors, golden.safetensors) and compares; one line per tensor, then
 * `N passed, M failed`; exit 1 on failure, 2 on bad input.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SafetensorsFile } from '@rpsam2/tensor';
import { fileSource } from '@rpsam2/tensor/node';
import { verifyFixture } from '../verify/fixture-verifier.js';
import { runFixtureVerify, runMain } from './shared.js';

const USAGE = 'usage: sam2-verify <dir>   (dir holds meta.json, weights.safetensors, golden.safetensors)';

runMain(
  'sam2-verify',
  () =>
    runFixtureVerify(
      {
        program: 'sam2-verify',
        usage: USAGE,
        maxFolders: 1,
        load: async ([dir]) => ({
          dir,
          meta: JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')),
          weights: await SafetensorsFile.open(fileSource(join(dir, 'weights.safetensors'))),
          golden: await SafetensorsFile.open(fileSource(join(dir, 'golden.safetensors'))),
        }),
        describe: (f) => `fixture ${f.dir}`,
        verify: (f, add) => verifyFixture(f, add),
      },
      process.argv.slice(2),
    ),
  2,
);
