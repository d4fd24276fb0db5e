/**
 * `bench table1 [flags]` and `pnpm bench` with no command (the default run): creates the run
 * directory (or reopens one with --resume), writes config.json, runs the experiment, and ends
 * with `report: <run directory>`. Ctrl-C stops cleanly after the current unit of work (exit 130,
 * with the command that resumes); a second Ctrl-C quits at once.
 */
import { join, resolve } from 'node:path';
import { lockFolder } from '@rpsam2/tensor/node';
import type { CommandArgs } from '../args.js';
import { validateExperimentConfig, type ExperimentConfig } from './experiment-config.js';
import { runExperiment, type ExperimentOutcome, type ReportContext } from './experiment.js';
import { asUsageError, parseRunArgs, UsageError, type RunArgs } from './run-args.js';
import { splitQueueFlags, type EvaluationQueue } from '../queue/table1-shards.js';
import { createRunDir, pathExists, readJson, writeJson } from './run-dir.js';
import { processIO, type RunIO } from './run-io.js';
import { StopSignal } from './stop-signal.js';

/** The command name that resumes a run of this kind. */
function commandOf(c: ExperimentConfig): string {
  return c.kind === 'table1' ? 'table1' : c.kind;
}

/**
 * Runs parsed run arguments: a new run, or `--resume`. Returns the exit status (0 done, 130
 * interrupted); errors are thrown (a UsageError for bad input).
 */
export async function executeRun(args: RunArgs, io: RunIO, stop: StopSignal, report?: (ctx: ReportContext) => Promise<string[]>): Promise<number> {
  let config: ExperimentConfig;
  let dir: string;
  if (args.resume) {
    ({ dir, config } = await readRunConfig<ExperimentConfig>(args.resume, validateExperimentConfig));
    if (config.kind !== args.kind) throw new UsageError(`--resume ${args.resume}: that is a ${config.kind} run; continue it with \`bench ${commandOf(config)} --resume ${args.resume}\``);
  } else {
    config = args.config!;
    // A missing dataset folder is a usage error (exit 2), found before a run folder is made.
    if (!config.data.generate && !(await pathExists(config.data.root))) throw new UsageError(`--data ${config.data.root}: not found (give the dataset's root folder)`);
    dir = await createRunDir({ parent: args.runsDir, name: config.name, exact: args.out });
    await writeJson(join(dir, 'config.json'), config);
  }
  return finishRun(commandOf(config), dir, io, () => runExperiment(config, dir, { io, stop, resumed: Boolean(args.resume), report, queue: args.queue }));
}

/** The config.json of the run directory `--resume` names, validated (a UsageError otherwise). */
export async function readRunConfig<T>(resume: string, validate: (c: T) => void): Promise<{ dir: string; config: T }> {
  const dir = resolve(resume);
  const path = join(dir, 'config.json');
  if (!(await pathExists(path))) throw new UsageError(`--resume ${resume}: no config.json there (not a run directory)`);
  const config = await readJson<T>(path);
  try {
    validate(config);
  } catch (e) {
    throw new UsageError(`--resume ${resume}: ${(e as Error).message}`);
  }
  return { dir, config };
}

/**
 * Runs a run's stages and ends it as every run command does: `report: <dir>` (0), or the stage it
 * was interrupted in and the command that continues it (130); a failure names the same command.
 */
export async function finishRun(command: string, dir: string, io: RunIO, stages: () => Promise<ExperimentOutcome>): Promise<number> {
  // One writer per run directory: a second `--resume` of it (or the same --out) is refused, naming the holder.
  const lock = await lockFolder(dir, `bench ${command}`, (l) => io.err(l));
  let outcome;
  try {
    outcome = await stages();
  } catch (e) {
    io.err(`the run failed; ${dir} keeps what was done. After fixing the cause, continue with: pnpm bench ${command} --resume ${dir}`);
    throw e;
  } finally {
    await lock.release();
  }
  if (outcome.status === 'interrupted') {
    io.out(`interrupted during '${outcome.stoppedIn}'; everything written is kept. Continue with: pnpm bench ${command} --resume ${dir}`);
    return 130;
  }
  io.out(`report: ${dir}`);
  return 0;
}

/** Installs the Ctrl-C handling of a run; returns the uninstaller. */
export function handleInterrupts(stop: StopSignal, io: RunIO): () => void {
  let count = 0;
  const onSigint = () => {
    count++;
    if (count === 1) {
      io.err('stopping after the current step (Ctrl-C again to quit at once) …');
      stop.request();
    } else process.exit(130);
  };
  // Wrappers (pnpm's runners among them) escalate a second Ctrl-C to SIGTERM: after a first one, exit 130 too.
  const onSigterm = () => process.exit(count > 0 ? 130 : 143);
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  return () => {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  };
}

/**
 * Parses a run command's flags: `--queue`/`--queue-name` are taken out first (their errors are
 * usage errors too), the rest goes to `parse`.
 */
export function parseWithQueueFlags<A extends CommandArgs>(argv: string[], parse: (argv: string[]) => A): A & { queue?: EvaluationQueue } {
  const split = asUsageError(() => splitQueueFlags(argv));
  return { ...parse(split.argv), queue: split.queue };
}

/** Parses `table1`'s flags. */
export function parseTable1Args(argv: string[]): CommandArgs {
  const args: RunArgs = parseWithQueueFlags(argv, (rest) => parseRunArgs(rest, 'table1'));
  return args;
}

/** Runs `bench table1` (or the default run) from parsed flags. */
export async function table1Command(args: CommandArgs): Promise<number> {
  return runFromCli(args as RunArgs);
}

/** Runs parsed run flags with the process's streams and Ctrl-C handling (shared with the ablations). */
export async function runFromCli(args: RunArgs, report?: (ctx: ReportContext) => Promise<string[]>): Promise<number> {
  return withCliInterrupts('bench', (stop) => executeRun(args, processIO, stop, report));
}

/**
 * Runs `execute` with the process's Ctrl-C handling; a usage error (or an unusable --out) is
 * printed after `prefix` and gives exit status 2.
 */
export async function withCliInterrupts(prefix: string, execute: (stop: StopSignal) => Promise<number>): Promise<number> {
  const stop = new StopSignal();
  const off = handleInterrupts(stop, processIO);
  try {
    return await execute(stop);
  } catch (e) {
    // An unusable --out (ensureOutputDir's ERR_OUTPUT_DIR) or one another process holds is a usage error too.
    if (e instanceof UsageError || ['ERR_OUTPUT_DIR', 'ERR_FOLDER_LOCKED'].includes((e as { code?: string }).code ?? '')) {
      processIO.err(`${prefix}: ${(e as Error).message}`);
      return 2;
    }
    throw e;
  } finally {
    off();
  }
}
