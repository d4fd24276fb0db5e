/**
 * Flag parsing shared by the queue commands (`bench embed`, `label`, `worker`,
 * `queue-throughput`): Node's `util.parseArgs` with `--help`/`-h` added and its errors turned into
 * {@link UsageError}s (exit status 2, the message naming the flag), and the checks every queue
 * command makes the same way.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../runs/run-args.js';

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

/** A queue name BullMQ and Redis keys take as they are: letters, digits, '_', '-' and '.'. */
export function checkQueueName(name: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new UsageError(`--queue-name '${name}': letters, digits, '_', '-' and '.' only`);
  return name;
}
