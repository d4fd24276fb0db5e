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
import { candidatesCommand, CANDIDATES_USAGE } from './candidates-command.js';
import { predictCommand, PREDICT_USAGE } from './predict-command.js';
import { trainCommand, TRAIN_USAGE } from './train-command.js';
import { debugRequested, errorText, withoutDebugFlag } from '@rpsam2/tensor/node';
import { UsageError, type CliIO } from './common.js';

const COMMANDS: Record<string, { run: (args: string[], io: CliIO) => Promise<number>; usage: string }> = {
  train: { run: trainCommand, usage: TRAIN_USAGE },
  predict: { run: predictCommand, usage: PREDICT_USAGE },
  candidates: { run: candidatesCommand, usage: CANDIDATES_USAGE },
};

export const USAGE = `usage: rpsam2 <command> [options]   (rpsam2 <command> --help for details)

  train        train the shift block (config file + --set overrides; --resume)
  predict      image + click(s) → refined click(s) and mask(s)
  candidates   precompute the frozen-feature cache (SAM 2 features + candidate sets)`;

/** Runs one command line (without `node rpsam2`); returns the exit status. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const debug = debugRequested(argv);
  const [name, ...rest] = withoutDebugFlag(argv);
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? io.out : io.err)(USAGE);
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    io.err(`rpsam2: unknown command '${name}'\n${USAGE}`);
    return 2;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    const err = e as Error & { code?: string };
    // node:util parseArgs errors, an unusable output folder (ensureOutputDir) and one locked by another process count too.
    if (e instanceof UsageError || (typeof err.code === 'string' && (err.code.startsWith('ERR_PARSE_ARGS') || err.code === 'ERR_OUTPUT_DIR' || err.code === 'ERR_FOLDER_LOCKED'))) {
      io.err(`rpsam2 ${name}: ${err.message}`);
      return 2;
    }
    io.err(`rpsam2 ${name}: ${errorText(e, debug)}`);
    return 1;
  }
}
