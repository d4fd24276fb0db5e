/**
 * The command-line plumbing shared by the `sam2` and `rpsam2` CLIs and their `*-verify`
 * programs, exported as `@rpsam2/sam2/cli` (Node only): output streams, usage errors (exit
 * status 2), option parsing on `node:util`'s `parseArgs` with errors that name the command,
 * typed conversions of option values (errors name the flag), input-file checks, the subcommand
 * dispatcher, the fixture-verify program and the `main` wrapper of a binary.
 *
 * Exit status, the convention every CLI of the project follows (see the README): 0 success,
 * 1 failure (bad file contents, a failed check), 2 usage error (bad options, unreadable input
 * paths, an unusable or locked output folder), 130 interrupted.
 *
 * @packageDocumentation
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CheckTally, getBackend, shutdown, type CheckResult } from '@rpsam2/tensor';
import { debugRequested, errorText, initNode, withoutDebugFlag } from '@rpsam2/tensor/node';

/** Where a command writes: stdout lines (results) and stderr lines (progress, errors). */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
  /** The progress stream (stderr in the CLI; its isTTY decides how progress is drawn). */
  progress?: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  /** Called once a command can be interrupted: `stop` asks it to finish cleanly. */
  onInterruptible?(stop: () => void): void;
}

/** The process streams. */
export const consoleIO: CliIO = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (l) => process.stderr.write(l + '\n'),
};

/** A bad invocation or missing input: printed without a stack, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Whether `e` is the caller's fault (exit status 2): a {@link UsageError}, a `parseArgs` error
 * (`ERR_PARSE_ARGS_*`), an unusable output folder (`ERR_OUTPUT_DIR`) or one locked by another
 * process (`ERR_FOLDER_LOCKED`).
 */
export function isUsageError(e: unknown): boolean {
  if (e instanceof UsageError) return true;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('ERR_PARSE_ARGS') || code === 'ERR_OUTPUT_DIR' || code === 'ERR_FOLDER_LOCKED');
}

/** The exit status for an error a command threw: 2 for {@link isUsageError}, else 1. */
export function exitStatusOf(e: unknown): 1 | 2 {
  return isUsageError(e) ? 2 : 1;
}

/** `parseArgs`'s options table. */
export type OptionsTable = NonNullable<ParseArgsConfig['options']>;

/** `--help`/`-h`, added to every command's options by {@link parseCommandArgs}. */
const HELP_OPTION = { help: { type: 'boolean', short: 'h', default: false } } as const;

/** What {@link parseCommandArgs} parses: one command's options and usage text. */
export interface CommandSpec<O extends OptionsTable> {
  /** The command as typed (`'sam2 predict'`), named in error messages. */
  command: string;
  /** The usage text `--help` prints. */
  usage: string;
  /** The options (`--help`/`-h` is added). */
  options: O;
  /** Whether the command takes positional arguments (default false). */
  allowPositionals?: boolean;
}

/** The `values` and `positionals` of a parsed command line, typed by its options table. */
export type ParsedCommand<O extends OptionsTable> = ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: true }>>;

/**
 * A `parseArgs` error as a {@link UsageError} that points at `<command> --help`; any other
 * error is returned unchanged.
 */
export function usageErrorFromParseArgs(e: unknown, command: string): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS')) return e;
  // "Unknown option '--x'. To specify a positional argument starting with a '-', …": the first
  // sentence is the point; the rest is about positionals, which rarely helps.
  let message = (e as Error).message;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') message = message.replace(/\. To specify a positional argument[\s\S]*$/, '');
  return new UsageError(`${message} (see '${command} --help')`);
}

/**
 * Parses one command's arguments with `node:util`'s `parseArgs` (strict: unknown options and
 * missing values are errors). Returns null after printing `spec.usage` on `io.out` when
 * `--help`/`-h` was given (the command then exits 0); throws a {@link UsageError} naming the
 * command for a malformed command line.
 */
export function parseCommandArgs<const O extends OptionsTable>(spec: CommandSpec<O>, args: string[], io: CliIO): ParsedCommand<O> | null {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...spec.options, ...HELP_OPTION }, strict: true, allowPositionals: spec.allowPositionals ?? false });
  } catch (e) {
    throw usageErrorFromParseArgs(e, spec.command);
  }
  if ((parsed.values as { help?: boolean }).help) {
    io.out(spec.usage);
    return null;
  }
  return parsed as unknown as ParsedCommand<O>;
}

/**
 * A subcommand from its spec and body: parses the arguments with {@link parseCommandArgs} and
 * runs `run` on them; `--help`/`-h` prints the usage and returns 0 without running it. Every
 * command of the CLIs starts this way, so the parse-or-help step is written once.
 */
export function defineCommand<const O extends OptionsTable>(spec: CommandSpec<O>, run: (parsed: ParsedCommand<O>, io: CliIO) => Promise<number>): Command {
  return async (args, io) => {
    const parsed = parseCommandArgs(spec, args, io);
    return parsed ? run(parsed, io) : 0;
  };
}

/** Limits of a numeric option. */
export interface NumberRules {
  /** Whole numbers only (default false). */
  integer?: boolean;
  /** The smallest allowed value (default: none). */
  min?: number;
  /** The largest allowed value (default: none). */
  max?: number;
}

/**
 * The value of `--<name>` as a number within `rules`; `fallback` when the option was not given.
 * Throws a {@link UsageError} naming the flag and the value otherwise (`--grid-step '0':
 * expected an integer ≥ 1`).
 */
export function numberOption(text: string | undefined, name: string, fallback: number, rules?: NumberRules): number;
export function numberOption(text: string | undefined, name: string, fallback?: undefined, rules?: NumberRules): number | undefined;
export function numberOption(text: string | undefined, name: string, fallback?: number, rules: NumberRules = {}): number | undefined {
  if (text === undefined) return fallback;
  const { integer = false, min = -Infinity, max = Infinity } = rules;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    const kind = integer ? 'an integer' : 'a number';
    const range = min > -Infinity && max < Infinity ? ` in [${min}, ${max}]` : min > -Infinity ? ` ≥ ${min}` : max < Infinity ? ` ≤ ${max}` : '';
    throw new UsageError(`--${name} '${text}': expected ${kind}${range}`);
  }
  return v;
}

/** {@link numberOption} for an integer ≥ `min` (default 1). */
export function intOption(text: string | undefined, name: string, fallback: number, min?: number): number;
export function intOption(text: string | undefined, name: string, fallback?: undefined, min?: number): number | undefined;
export function intOption(text: string | undefined, name: string, fallback?: number, min = 1): number | undefined {
  return numberOption(text, name, fallback as number, { integer: true, min });
}

/**
 * The value of `--<name>` if it is one of `choices`; throws a {@link UsageError} naming the flag
 * otherwise (`--dtype 'bf16': expected f32 or f16`).
 */
export function choiceOption<const C extends string>(text: string, name: string, choices: readonly C[]): C {
  if ((choices as readonly string[]).includes(text)) return text as C;
  const list = choices.length > 1 ? `${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}` : choices.join('');
  throw new UsageError(`--${name} '${text}': expected ${list}`);
}

/** `e`'s errno code (ENOENT, …), else its message. */
const reason = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

/**
 * Throws a {@link UsageError} unless `path` is a readable file; `what` names the option (and
 * `hint` says what it should be). Returns `path`.
 */
export async function requireFile(path: string | undefined, what: string, hint = ''): Promise<string> {
  if (!path) throw new UsageError(`${what} is required${hint ? ` (${hint})` : ''}`);
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new UsageError(`${what} ${path}: not a file`);
    await access(path, constants.R_OK);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${what} ${path}: cannot read (${reason(e)})${hint ? ` — ${hint}` : ''}`);
  }
  return path;
}

/** Throws a {@link UsageError} unless `path` exists (file or directory); returns it. */
export async function requirePath(path: string | undefined, what: string, hint = ''): Promise<string> {
  if (!path) throw new UsageError(`${what} is required${hint ? ` (${hint})` : ''}`);
  try {
    await stat(path);
  } catch (e) {
    throw new UsageError(`${what} ${path}: not found (${reason(e)})${hint ? ` — ${hint}` : ''}`);
  }
  return path;
}

/** A subcommand: runs with the arguments after its name and returns the exit status. */
export type Command = (args: string[], io: CliIO) => Promise<number>;

/**
 * Runs `<program> <command> [args]`: no command prints `usage` on stderr (2), `--help`, `-h`
 * or `help` prints it on stdout (0), an unknown one is a usage error (2). Errors a command
 * throws are printed as `<program> <command>: message`, never thrown: usage errors (see
 * {@link isUsageError}) without a stack and with exit status 2, others with exit status 1 and
 * their stack when `--debug` is among the arguments.
 */
export async function dispatchCommand(program: string, usage: string, commands: Readonly<Record<string, Command>>, argv: string[], io: CliIO): Promise<number> {
  const debug = debugRequested(argv);
  const [name, ...rest] = withoutDebugFlag(argv);
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? io.out : io.err)(usage);
    return name ? 0 : 2;
  }
  const run = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!run) {
    io.err(`${program}: unknown command '${name}'\n${usage}`);
    return 2;
  }
  try {
    return await run(rest, io);
  } catch (e) {
    const status = exitStatusOf(e);
    const text = status === 2 ? (e as Error).message : errorText(e, debug);
    // Messages may already name the command ("convert: …").
    io.err(`${program} ${name}: ${text.startsWith(`${name}: `) ? text.slice(name.length + 2) : text}`);
    return status;
  }
}

/**
 * The `main` of a binary: runs `main`, shuts the GPU runtime down and exits with its status; an
 * error that escapes is printed as `<program>: message` and exits with `crashStatus`.
 */
export function runMain(program: string, main: () => Promise<number>, crashStatus = 1): void {
  main()
    .then((code) => {
      shutdown();
      process.exit(code);
    })
    .catch((e) => {
      process.stderr.write(`${program}: ${errorText(e)}\n`);
      shutdown();
      process.exit(crashStatus);
    });
}

/** A fixture-verify program (`sam2-verify`, `rpsam2-verify`): what differs between them. */
export interface FixtureVerifyProgram<I> {
  /** The program's name, in its messages. */
  program: string;
  /** The usage text (printed on stderr for no folder or `--help`, exit status 2). */
  usage: string;
  /** How many folders it takes at most (at least one). */
  maxFolders: number;
  /** Reads the fixture; a failure is bad input (exit status 2). */
  load(folders: string[]): Promise<I>;
  /** What is verified, after `adapter: …; ` in the first line. */
  describe(inputs: I): string;
  /** Recomputes every golden tensor, reporting each check to `add`. */
  verify(inputs: I, add: (r: CheckResult) => void): Promise<void>;
}

/**
 * Runs a fixture-verify program on `args` (after the program name): loads the fixture, prints
 * the adapter, one line per checked tensor, the time and `N passed, M failed`. Returns 0 when
 * every check passed, 1 when one failed, 2 for bad arguments or an unreadable fixture.
 */
export async function runFixtureVerify<I>(p: FixtureVerifyProgram<I>, args: string[], io: CliIO = consoleIO): Promise<number> {
  let folders: string[];
  try {
    const { values, positionals } = parseArgs({ args, options: HELP_OPTION, strict: true, allowPositionals: true });
    if (values.help || !positionals.length) {
      io.err(p.usage);
      return 2;
    }
    if (positionals.length > p.maxFolders) throw new UsageError(`expected at most ${p.maxFolders} folder${p.maxFolders > 1 ? 's' : ''}, got ${positionals.length}`);
    folders = positionals;
  } catch (e) {
    const err = usageErrorFromParseArgs(e, p.program) as Error;
    io.err(`${p.program}: ${err.message}\n${p.usage}`);
    return 2;
  }
  let inputs: I;
  try {
    inputs = await p.load(folders);
  } catch (e) {
    io.err(`${p.program}: ${(e as Error).message}\n${p.usage}`);
    return 2;
  }
  const backend = await initNode();
  io.out(`adapter: ${backend.info.adapter.description || backend.info.adapter.vendor}; ${p.describe(inputs)}`);
  const tally = new CheckTally(io.out);
  const t0 = performance.now();
  await p.verify(inputs, tally.add);
  const live = getBackend().stats().liveBytes;
  if (live) io.out(`warning: ${live} bytes of GPU memory still live`);
  io.out(`time: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  io.out(tally.summary());
  return tally.failed ? 1 : 0;
}
