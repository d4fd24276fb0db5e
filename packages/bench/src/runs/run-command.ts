/**
 * `bench table1 [flags]` and `pnpm bench` with no command (the default run): creates the run
 * directory (or reopens one with --resume), writes config.json, runs the experiment, and ends
 * with `report: <run directory>`. Ctrl-C stops cleanly after the current unit of work (exit 130,
 * with the command that resumes); a second Ctrl-C quits at once.
 */
import { join, resolve } from 'node:path';
import type { CommandArgs } from '../args.js';
import { validateExperimentConfig, type ExperimentConfig } from './experiment-config.js';
import { runExperiment, type ReportContext } from './experiment.js';
import { parseRunArgs, UsageError, type RunArgs } from './run-args.js';
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
    dir = resolve(args.resume);
    const path = join(dir, 'config.json');
    if (!(await pathExists(path))) throw new UsageError(`--resume ${args.resume}: no config.json there (not a run directory)`);
    config = await readJson<ExperimentConfig>(path);
    try {
      validateExperimentConfig(config);
    } catch (e) {
      throw new UsageError(`--resume ${args.resume}: ${(e as Error).message}`);
    }
    if (config.kind !== args.kind) throw new UsageError(`--resume ${args.resume}: that is a ${config.kind} run; continue it with \`bench ${commandOf(config)} --resume ${args.resume}\``);
  } else {
    config = args.config!;
    // A missing dataset folder is a usage error (exit 2), found before a run folder is made.
    if (!config.data.generate && !(await pathExists(config.data.root))) throw new UsageError(`--data ${config.data.root}: not found (give the dataset's root folder)`);
    dir = await createRunDir({ parent: args.runsDir, name: config.name, exact: args.out });
    await writeJson(join(dir, 'config.json'), config);
  }
  let outcome;
  try {
    outcome = await runExperiment(config, dir, { io, stop, resumed: Boolean(args.resume), report });
  } catch (e) {
    io.err(`the run failed; ${dir} keeps what was done. After fixing the cause, continue with: pnpm bench ${commandOf(config)} --resume ${dir}`);
    throw e;
  }
  if (outcome.status === 'interrupted') {
    io.out(`interrupted during '${outcome.stoppedIn}'; everything written is kept. Continue with: pnpm bench ${commandOf(config)} --resume ${dir}`);
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

/** Parses `table1`'s flags. */
export function parseTable1Args(argv: string[]): CommandArgs {
  return parseRunArgs(argv, 'table1');
}

/** Runs `bench table1` (or the default run) from parsed flags. */
export async function table1Command(args: CommandArgs): Promise<number> {
  return runFromCli(args as RunArgs);
}

/** Runs parsed run flags with the process's streams and Ctrl-C handling (shared with the ablations). */
export async function runFromCli(args: RunArgs, report?: (ctx: ReportContext) => Promise<string[]>): Promise<number> {
  const stop = new StopSignal();
  const off = handleInterrupts(stop, processIO);
  try {
    return await executeRun(args, processIO, stop, report);
  } catch (e) {
    // An unusable --out (ensureOutputDir's ERR_OUTPUT_DIR) is a usage error too.
    if (e instanceof UsageError || (e as { code?: string }).code === 'ERR_OUTPUT_DIR') {
      processIO.err(`bench: ${(e as Error).message}`);
      return 2;
    }
    throw e;
  } finally {
    off();
  }
}
