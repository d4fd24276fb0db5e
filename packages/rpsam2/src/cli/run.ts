/**
 * The `rpsam2` command dispatcher, as a function (the `rpsam2` binary and tests call it).
 *
 *   rpsam2 train --config cfg.json [--set key=value …] [--resume]
 *   rpsam2 predict --image f --point x,y --sam2-weights f --shift-block ckpt --out dir
 *   rpsam2 candidates --data … --out cache --sam2-weights f
 *
 * Exit status (the README's convention): 0 success, 1 failure (a lost GPU device the command could
 * not recover from too), 2 bad invocation, missing input, an unusable output folder or one locked
 * by another process, 130 interrupted (after
 * saving). The first Ctrl-C asks the running command to stop cleanly; a second one quits at once
 * (files are written atomically, so nothing on disk is left half-written).
 */
import { dispatchCommand, type CliIO, type Command } from '@rpsam2/sam2/cli';
import { candidatesCommand } from './candidates-command.js';
import { predictCommand } from './predict-command.js';
import { trainCommand } from './train-command.js';

const COMMANDS: Record<string, Command> = {
  train: trainCommand,
  predict: predictCommand,
  candidates: candidatesCommand,
};

export const USAGE = `usage: rpsam2 <command> [options]   (rpsam2 <command> --help for details)

  train        train the shift block (config file + --set overrides; --resume)
  predict      image + click(s) → refined click(s) and mask(s)
  candidates   precompute the frozen-feature cache (SAM 2 features + candidate sets)`;

/** Runs one command line (without `node rpsam2`); returns the exit status. */
export function runCli(argv: string[], io: CliIO): Promise<number> {
  return dispatchCommand('rpsam2', USAGE, COMMANDS, argv, io);
}
