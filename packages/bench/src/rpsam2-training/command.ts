/**
 * `bench train-rpsam2`: trains the default shift block for the embedded default SAM 2 with the
 * recipe of {@link rpsam2TrainingRunConfig} — a Table 1 run on the block's own synthetic set that
 * trains on its train split and on the train splits of the recipe's extra synthetic sets (each
 * generated into `<out>/extra-<seed>/`, cached features only; see runs/extra-train-sets.ts), keeps
 * the checkpoint that validates best on the own set's val split and reports its test split.
 * Seeded and resumable: rerunning the same command continues the run directory (caches, extra sets
 * and training). `--export <dir>` then writes the chosen block, its config and its model card (see
 * export.ts).
 *
 * `--ablate loss|clicks` runs the paper's Fig. 3b ablations on the same data and recipe instead
 * (see {@link rpsam2AblationRunConfig}): one block per variant, each trained for `--max-steps`
 * steps, all tested with SAM 2 on the same clicks; the run writes ablation.md/.csv and the plots.
 */
import { join, resolve } from 'node:path';
import { commandArgs, nonNegativeIntFlag, parseCommandFlags, type CommandArgs } from '../args.js';
import { int, str, UsageError, withOverrides } from '../runs/run-args.js';
import { runFromCli } from '../runs/run-command.js';
import { pathExists, readJson } from '../runs/run-dir.js';
import { processIO } from '../runs/run-io.js';
import { validateExperimentConfig, type ExperimentConfig } from '../runs/experiment-config.js';
import { writeAblationReport } from '../ablations/ablation-report.js';
import { exportShiftBlock } from './export.js';
import { RPSAM2_ABLATION_STEPS, rpsam2AblationRunConfig, rpsam2TrainingRunConfig } from './recipe.js';

export const TRAIN_RPSAM2_USAGE = `train-rpsam2 [--out runs/rpsam2-synthetic] [--epochs N] [--set key=value]... [--cache <dir>] [--export <dir>]
  train-rpsam2 --ablate loss|clicks [--max-steps N (default ${RPSAM2_ABLATION_STEPS})] [--out runs/rpsam2-ablate-<which>] [--set key=value]... [--cache <dir>]`;

/** Which Fig. 3b ablation `--ablate` runs. */
type Ablation = 'loss' | 'clicks';

interface TrainRpsam2Args extends CommandArgs {
  out: string;
  config: ExperimentConfig;
  exportDir?: string;
  ablate?: Ablation;
}

/** Parses the flags of `train-rpsam2` into the run's config (the recipe with the overrides). */
export function parseTrainRpsam2Args(argv: string[]): CommandArgs {
  const { values, common } = parseCommandFlags(argv, {
    out: { type: 'string' },
    epochs: { type: 'string' },
    set: { type: 'string', multiple: true },
    export: { type: 'string' },
    ablate: { type: 'string' },
    'max-steps': { type: 'string' },
    cache: { type: 'string' },
  });
  const ablate = values.ablate;
  if (ablate !== undefined && ablate !== 'loss' && ablate !== 'clicks') throw new UsageError(`--ablate needs 'loss' or 'clicks', got '${ablate}'`);
  if (ablate && values.export !== undefined) throw new UsageError('--export writes the shipped block; an ablation run trains one block per variant and exports none — drop --export or --ablate');
  if (!ablate && values['max-steps'] !== undefined) throw new UsageError('--max-steps sets the schedule of an ablation run; it needs --ablate loss|clicks (the recipe itself trains for --epochs)');
  const maxSteps = values['max-steps'] === undefined ? RPSAM2_ABLATION_STEPS : int('--max-steps', values['max-steps'], 1);
  const config = ablate ? rpsam2AblationRunConfig(ablate, maxSteps) : rpsam2TrainingRunConfig();
  if (values.cache !== undefined) config.cache = { ...config.cache, dir: resolve(str('--cache', values.cache)) };
  if (values.epochs !== undefined) {
    const n = nonNegativeIntFlag('epochs', values.epochs);
    if (n < 1) throw new UsageError('--epochs needs at least 1');
    config.training.base = { ...config.training.base, epochs: n };
  }
  config.training.base = withOverrides(config.training.base, values.set ?? []);
  validateExperimentConfig(config);
  const out = values.out ?? (ablate ? `runs/rpsam2-ablate-${ablate}` : 'runs/rpsam2-synthetic');
  const args: TrainRpsam2Args = { ...common, out, config, exportDir: values.export, ablate };
  return args;
}

/** Runs `bench train-rpsam2`: a new run, or the continuation of the one in --out; then the export. */
export async function trainRpsam2Command(parsed: CommandArgs): Promise<number> {
  const args = parsed as TrainRpsam2Args;
  const dir = resolve(args.out);
  let resume = false;
  if (await pathExists(join(dir, 'config.json'))) {
    const have = await readJson<ExperimentConfig>(join(dir, 'config.json'));
    if (JSON.stringify(have) !== JSON.stringify(args.config)) {
      processIO.err(`bench train-rpsam2: ${args.out} holds a run with other settings (its config.json differs from this command's); continue it with \`bench ${have.kind} --resume ${args.out}\`, or choose another --out`);
      return 2;
    }
    resume = true;
    processIO.out(`continuing the run in ${dir}`);
  }
  const run = { ...commandArgs(), kind: args.config.kind, config: args.config, out: dir, resume: resume ? dir : undefined };
  if (args.ablate) {
    const which = args.ablate;
    return runFromCli(run, (ctx) => writeAblationReport(ctx, which));
  }
  const status = await runFromCli(run);
  if (status !== 0 || !args.exportDir) return status;
  await exportShiftBlock({ runDir: dir, out: resolve(args.exportDir), io: processIO });
  return 0;
}
