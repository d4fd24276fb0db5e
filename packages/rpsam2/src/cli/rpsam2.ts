#!/usr/bin/env node
/**
 * The `rpsam2` binary (see run.ts for the commands). The first Ctrl-C asks the running command
 * to stop cleanly (it saves and exits with 130); a second one quits at once — every file is
 * written atomically, so nothing on disk is left half-written.
 */
import { runMain, type CliIO } from '@rpsam2/sam2/cli';
import { runCli } from './run.js';

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
// Wrappers (pnpm's runners among them) escalate a second Ctrl-C to SIGTERM: after a first
// interrupt, that is the second one, so it too exits 130.
process.on('SIGTERM', () => {
  if (interrupts > 0) process.stderr.write('\ninterrupted\n');
  process.exit(interrupts > 0 ? 130 : 143);
});
const io: CliIO = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (l) => process.stderr.write(l + '\n'),
  progress: process.stderr,
  onInterruptible: (stop) => {
    stopper = stop;
  },
};
runMain('rpsam2', () => runCli(process.argv.slice(2), io));
