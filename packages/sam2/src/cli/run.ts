/**
 * The `sam2` command line as a function: `runSam2(args, io)` dispatches a subcommand and returns
 * its exit status (0 ok, 1 failure: bad file contents, weights that do not match, a failed
 * check; 2 usage error: bad options, unreadable input paths, an unusable output folder; the
 * convention every CLI follows, see the README), so tests call it directly.
 */
import { debugRequested, errorText, withoutDebugFlag } from '@rpsam2/tensor/node';
import { consoleIO, UsageError, type CliIO } from './args.js';
import { predictCommand } from './predict.js';
import { convertCommand } from './convert.js';
import { infoCommand } from './info.js';

export const USAGE = `usage: sam2 <command> [options]

commands:
  predict   masks for clicks/boxes on an image (mask PNGs + scores.json)
  convert   .pt checkpoint → safetensors (f32 or f16), written atomically
  info      config, parameter counts, memory estimate, weights check, --measure

'sam2 <command> --help' shows a command's options.`;

const COMMANDS: Record<string, (args: string[], io: CliIO) => Promise<number>> = {
  predict: predictCommand,
  convert: convertCommand,
  info: infoCommand,
};

/** Runs `sam2 <args>`; errors are printed to `io.err`, never thrown. */
export async function runSam2(args: string[], io: CliIO = consoleIO): Promise<number> {
  const debug = debugRequested(args);
  const [cmd, ...rest] = withoutDebugFlag(args);
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    (cmd ? io.out : io.err)(USAGE);
    return cmd ? 0 : 2;
  }
  const run = COMMANDS[cmd];
  if (!run) {
    io.err(`sam2: unknown command '${cmd}'\n${USAGE}`);
    return 2;
  }
  try {
    return await run(rest, io);
  } catch (e) {
    const err = e as Error & { code?: string };
    // Library messages may already name the command ("convert: …").
    const text = errorText(e, debug);
    const message = text.startsWith(`${cmd}: `) ? text.slice(cmd.length + 2) : text;
    io.err(`sam2 ${cmd}: ${message}`);
    // parseArgs reports unknown or malformed options with ERR_PARSE_ARGS_* codes.
    // …and an unusable output folder (ensureOutputDir) with ERR_OUTPUT_DIR.
    return e instanceof UsageError || err.code?.startsWith('ERR_PARSE_ARGS') || err.code === 'ERR_OUTPUT_DIR' ? 2 : 1;
  }
}
