/** Command-line flags shared by the bench subcommands. */
import { parseArgs as parseFlagValues, type ParseArgsConfig } from 'node:util';

export interface CommandArgs {
  /** Print only JSON on stdout (progress and notes go to stderr). */
  json: boolean;
  /** Fewer repeats, for a quick look. */
  quick: boolean;
  /** Measured runs per case (overrides the default and the time budget). */
  repeat?: number;
  /** Run only the cases whose id or name contains this. */
  only?: string;
  /** Positional arguments after the subcommand. */
  rest: string[];
}

/** The value of `--<flag>` as a positive integer; throws naming the flag otherwise. */
export function positiveIntFlag(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} needs a positive integer, got '${v}'`);
  return n;
}

/** A non-negative integer flag's value; the error names the flag. */
export function nonNegativeIntFlag(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${flag} needs a non-negative integer, got '${v}'`);
  return n;
}

/** A probability flag's value (a number in [0, 1]); the error names the flag. */
export function probabilityFlag(flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !(n >= 0 && n <= 1)) throw new Error(`--${flag} needs a probability in [0, 1], got '${v}'`);
  return n;
}

/** The {@link CommandArgs} of a command without --quick: `json` and its positional arguments. */
export function commandArgs(json = false, rest: string[] = []): CommandArgs {
  return { json, quick: false, rest };
}

/** Parses `[--json] [--quick] [--repeat N] [--only S] [rest…]`; throws on a bad flag. */
export function parseArgs(argv: readonly string[]): CommandArgs {
  const out = commandArgs();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') out.json = true;
    else if (a === '--quick') out.quick = true;
    else if (a === '--repeat' || a === '--only') {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      if (a === '--only') out.only = v;
      else out.repeat = positiveIntFlag('repeat', v);
    } else if (a.startsWith('--')) throw new Error(`unknown flag ${a}`);
    else out.rest.push(a);
  }
  return out;
}

/** `util.parseArgs`' options table. */
type FlagOptions = NonNullable<ParseArgsConfig['options']>;

/** The values {@link parseCommandFlags} returns for the options table `O`. */
export type CommandFlagValues<O extends FlagOptions> = ReturnType<typeof parseFlagValues<{ args: string[]; allowPositionals: false; options: O }>>['values'];

/**
 * Parses the flags of a command that has its own (`util.parseArgs`: an unknown flag or a missing
 * value throws; no positional arguments). Returns their values and the common
 * {@link CommandArgs} they give (`json` from the command's `--json` flag, where it has one).
 */
export function parseCommandFlags<const O extends FlagOptions>(argv: string[], options: O): { values: CommandFlagValues<O>; common: CommandArgs } {
  const { values, positionals } = parseFlagValues({ args: argv, allowPositionals: false, options });
  return { values: values as CommandFlagValues<O>, common: commandArgs((values as { json?: boolean }).json ?? false, positionals) };
}
