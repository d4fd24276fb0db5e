/**
 * `bench worker --queue redis://…`: one queue worker on this machine's WebGPU device (see
 * `queue-worker.ts`). Run one per GPU, on as many machines as you like; each needs the frames,
 * the weights and the cache folder at the same paths as the producer (a shared folder). The first
 * SIGINT/SIGTERM stops it after the current job (exit 0); a second quits at once (130).
 */
import { commandArgs, type CommandArgs } from '../args.js';
import { int, UsageError } from '../runs/run-args.js';
import { checkQueueName, helpArgs, parseFlags } from './flags.js';
import { processIO, type RunIO } from '../runs/run-io.js';
import { DEFAULT_QUEUE_NAME } from './jobs.js';
import { startQueueWorker } from './queue-worker.js';
import { parseRedisUrl, type RedisTarget } from './redis-connection.js';

/** The usage line of `bench worker` (in `bench --help`). */
export const WORKER_USAGE = 'worker --queue redis://host:port [--queue-name rpsam2] [--name <worker name>] [--stall-timeout 30] [--job-timeout 900]';

/** `bench worker --help`. */
export const WORKER_HELP = `usage: bench ${WORKER_USAGE}

  --queue          the Redis of the queue (the producer's --queue URL)
  --queue-name     the BullMQ queue (default ${DEFAULT_QUEUE_NAME})
  --name           recorded on the jobs it runs (default <host>-<pid>)
  --stall-timeout  seconds without a lock renewal after which a job of a dead worker goes back to the queue (default 30)
  --job-timeout    seconds after which a running job fails (retried elsewhere) and this worker stops (default 900)
  One job at a time on this machine's WebGPU device; Ctrl-C or SIGTERM stops after the current job.`;

/** Parsed `bench worker` flags. */
export interface WorkerArgs extends CommandArgs {
  help?: boolean;
  target: RedisTarget;
  queueName: string;
  name?: string;
  stallTimeoutMs: number;
  jobTimeoutMs: number;
}

/** Parses `bench worker`'s flags (a {@link UsageError} naming the flag on bad input). */
export function parseWorkerArgs(argv: string[]): CommandArgs {
  const { values } = parseFlags(
    argv,
    {
      queue: { type: 'string' },
      'queue-name': { type: 'string', default: DEFAULT_QUEUE_NAME },
      name: { type: 'string' },
      'stall-timeout': { type: 'string', default: '30' },
      'job-timeout': { type: 'string', default: '900' },
    },
    false,
  );
  if (values.help) return helpArgs();
  if (!values.queue) throw new UsageError(`--queue redis://host:port is required`);
  checkQueueName(values['queue-name']!);
  const args: WorkerArgs = {
    ...commandArgs(),
    target: parseRedisUrl(values.queue),
    queueName: values['queue-name']!,
    name: values.name,
    stallTimeoutMs: int('--stall-timeout', values['stall-timeout'], 1) * 1000,
    jobTimeoutMs: int('--job-timeout', values['job-timeout'], 1) * 1000,
  };
  return args;
}

/** Runs a worker until SIGINT/SIGTERM (or a job timeout); exit status 0 after a clean stop. */
export async function runWorkerCommand(args: WorkerArgs, io: RunIO = processIO): Promise<number> {
  if (args.help) {
    io.out(WORKER_HELP);
    return 0;
  }
  const w = await startQueueWorker({ target: args.target, queueName: args.queueName, name: args.name, stallTimeoutMs: args.stallTimeoutMs, jobTimeoutMs: args.jobTimeoutMs, io });
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      io.err(`worker ${w.name}: ${sig}: stopping after the current job (again to quit at once)`);
      w.stop();
    } else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const r = await w.done;
    if (r.liveBytes > 0) io.err(`worker ${w.name}: ${r.liveBytes} bytes still live in the GPU pool after freeing everything (a leak)`);
    return r.reason === 'signal' && r.liveBytes === 0 ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** `bench worker` from the command line. */
export async function workerCommand(args: CommandArgs): Promise<number> {
  return runWorkerCommand(args as WorkerArgs);
}
