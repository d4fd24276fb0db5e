/**
 * `bench ablate-loss [flags]` and `bench ablate-clicks [flags]`: train one RP-SAM2 per variant
 * (loss components; clicks per object during training) on the same training cache, evaluate all
 * of them and SAM 2 with the Table 1 protocol on the same clicks, and write the table and plots.
 * Flags are Table 1's (without --shift-block); without --data they run on a generated synthetic
 * set with the brief training schedule, like the default run.
 */
import type { CommandArgs } from '../args.js';
import { validateExperimentConfig } from '../runs/experiment-config.js';
import { asUsageError, parseRunArgs, type RunArgs } from '../runs/run-args.js';
import { runFromCli } from '../runs/run-command.js';
import { writeAblationReport } from './ablation-report.js';
import { ablationVariants, CLICK_VARIANTS, LOSS_VARIANTS } from './variants.js';

export const ABLATE_LOSS_USAGE = `ablate-loss [flags]   (variants: ${LOSS_VARIANTS.map((v) => v.label).join('; ')}; same flags as table1 except --shift-block)`;
export const ABLATE_CLICKS_USAGE = `ablate-clicks [flags]   (variants: ${CLICK_VARIANTS.map((v) => v.x).join(', ')} clicks per object; same flags as table1 except --shift-block)`;

function withVariants(args: RunArgs, which: 'loss' | 'clicks'): RunArgs {
  const config = args.config;
  if (config) {
    config.rpsam2.variants = ablationVariants(which);
    asUsageError(() => validateExperimentConfig(config));
  }
  return args;
}

/** Parses `ablate-loss`'s flags. */
export function parseAblateLossArgs(argv: string[]): CommandArgs {
  return withVariants(parseRunArgs(argv, 'ablate-loss'), 'loss');
}

/** Parses `ablate-clicks`'s flags. */
export function parseAblateClicksArgs(argv: string[]): CommandArgs {
  return withVariants(parseRunArgs(argv, 'ablate-clicks'), 'clicks');
}

/** Runs `bench ablate-loss`. */
export function ablateLossCommand(args: CommandArgs): Promise<number> {
  return runFromCli(args as RunArgs, (ctx) => writeAblationReport(ctx, 'loss'));
}

/** Runs `bench ablate-clicks`. */
export function ablateClicksCommand(args: CommandArgs): Promise<number> {
  return runFromCli(args as RunArgs, (ctx) => writeAblationReport(ctx, 'clicks'));
}
