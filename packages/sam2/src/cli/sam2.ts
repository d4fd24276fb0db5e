#!/usr/bin/env node
/**
 * `sam2` (`pnpm sam2 …`): predict, convert, info. See `sam2 --help`.
 */
import { runMain } from './shared.js';
import { runSam2 } from './run.js';

runMain('sam2', () => runSam2(process.argv.slice(2)));
