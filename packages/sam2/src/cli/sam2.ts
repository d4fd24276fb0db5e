#!/usr/bin/env node
/**
 * `sam2` (`pnpm sam2 …`): predict, convert, info. See `sam2 --help`.
 */
import { shutdown } from '@rpsam2/tensor';
import { errorText } from '@rpsam2/tensor/node';
import { runSam2 } from './run.js';

runSam2(process.argv.slice(2))
  .then((code) => {
    shutdown();
    process.exit(code);
  })
  .catch((e) => {
    console.error(`sam2: ${errorText(e)}`);
    shutdown();
    process.exit(1);
  });
