/**
 * Flag parsing shared by the queue commands (`bench embed`, `label`, `worker`,
 * `queue-throughput`): Node's `util.parseArgs` with `--help`/`-h` added and its errors turned into
 * {@link UsageError}s (exit status 2, the message naming the flag), and the checks every queue
 * command makes the same way: the queue flags of the commands that produce jobs (`embed`,
 * `label`) and the SAM 2 of `--weights`/`--config`.
 */
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { commandArgs, type CommandArgs } from '../args.js';
import type { Sam2Spec } from '../evaluation/sam2-models.js';
import { int, UsageError } from '../runs/run-args.js';
import { DEFAULT_JOB_POLICY, DEFAULT_QUEUE_NAME } from './jobs.js';
import { parseRedisUrl, type RedisTarget } from './redis-connection.js';

type Options = NonNullable<ParseArgsConfig['options']>;
const HELP = { help: { type: 'boolean', short: 'h', default: false } } as const;
/** What {@link parseFlags} returns: `util.parseArgs`' result for these options and `--help`. */
export type ParsedFlags<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: boolean; options: O & typeof HELP }>>;

/** `util.parseArgs` over `argv` with `options` and `--help`; a bad flag throws a {@link UsageError}. */
export function parseFlags<O extends Options>(argv: string[], options: O, allowPositionals = true): ParsedFlags<O> {
  try {
    return parseArgs({ args: argv, allowPositionals, options: { ...options, ...HELP } as O & typeof HELP });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** What a queue command's parser returns for `--help` (the command prints its help and exits 0). */
export function helpArgs(): CommandArgs {
  return { ...commandArgs(), help: true } as CommandArgs;
}

/** A queue name BullMQ and Redis keys take as they are: letters, digits, '_', '-' and '.'. */
export function checkQueueName(name: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new UsageError(`--queue-name '${name}': letters, digits, '_', '-' and '.' only`);
  return name;
}

/** The usage of {@link PRODUCER_FLAGS}, for a producing command's usage line. */
export const PRODUCER_USAGE = `[--queue redis://host:port [--queue-name ${DEFAULT_QUEUE_NAME}] [--attempts ${DEFAULT_JOB_POLICY.attempts}]] [--json]`;

/** The help lines of {@link PRODUCER_FLAGS} after the command's own `--queue` line. */
export const PRODUCER_HELP = `  --queue-name    the BullMQ queue (default ${DEFAULT_QUEUE_NAME}); --attempts tries per frame (default ${DEFAULT_JOB_POLICY.attempts})
  --json          one JSON object on stdout at the end`;

/** The flags of a command that runs one job per frame here, or queues them with `--queue` (`bench embed`, `bench label`). */
export const PRODUCER_FLAGS = {
  queue: { type: 'string' },
  'queue-name': { type: 'string', default: DEFAULT_QUEUE_NAME },
  attempts: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

/** The queue part of a producing command's arguments (`queue` null: the jobs run in this process). */
export interface ProducerArgs {
  queue: RedisTarget | null;
  queueName: string;
  attempts: number;
}

/** Checks and reads the values of {@link PRODUCER_FLAGS} (a {@link UsageError} naming the flag on bad input). */
export function producerArgs(values: { queue?: string; 'queue-name'?: string; attempts?: string }): ProducerArgs {
  const queueName = checkQueueName(values['queue-name'] ?? DEFAULT_QUEUE_NAME);
  if (!values.queue && values.attempts !== undefined) throw new UsageError('--attempts needs --queue');
  return {
    queue: values.queue ? parseRedisUrl(values.queue) : null,
    queueName,
    attempts: values.attempts === undefined ? DEFAULT_JOB_POLICY.attempts : int('--attempts', values.attempts, 1),
  };
}

/**
 * The SAM 2 of `--weights` and `--config` ('' for either: the embedded default model's), with
 * absolute paths, so that a worker in another folder loads the same files; a config that is a
 * size name (no '/', '\\' or '.') stays as it is.
 */
export function sam2Flags(weights: string | undefined, config: string | undefined, dtype: Sam2Spec['dtype']): Sam2Spec {
  return { weights: weights ? resolve(weights) : '', config: config ? (/[/\\.]/.test(config) ? resolve(config) : config) : '', dtype };
}
