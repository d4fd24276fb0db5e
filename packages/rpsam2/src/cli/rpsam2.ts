#!/usr/bin/env node
/**
 * The `rpsam2` binary (see run.ts for the commands). The first Ctrl-C asks the running command
 * to stop cleanly (it saves and exits with 130); a second one quits at once — every file is
 * written atomically, so nothing on disk is left half-written.
 */
import { shutdown } from '@rpsam2/tensor';
import { runCli } from './run.js';
import type { CliIO } from './common.js';

let interrupts = 0;
let stopper: (() => void) | null = null;
process.on('SIGINT', () => {
  interrupts++;
  if (interrupts === 1 && stopper) stopper();
  else {
    process.stderr.write('\ninterrupted\n');
    process.exit(130);
  }
});
const io: CliIO = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (l) => process.stderr.write(l + '\n'),
  progress: process.stderr,
  onInterruptible: (stop) => {
    stopper = stop;
  },
};
runCli(process.argv.slice(2), io)
  .then((code) => {
    shutdown();
    process.exit(code);
  })
  .catch((e) => {
    process.stderr.write(`rpsam2: ${(e as Error).stack ?? e}\n`);
    shutdown();
    process.exit(1);
  });
