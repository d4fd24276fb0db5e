/**
 * The `sam2` command line as a function: `runSam2(args, io)` dispatches a subcommand and returns
 * its exit status (0 ok, 1 failure: bad file contents, weights that do not match, a failed
 * check; 2 usage error: bad options, unreadable input paths, an unusable output folder; the
 * convention every CLI follows, see the README), so tests call it directly.
 */
import { consoleIO, dispatchCommand, type CliIO, type Command } from './shared.js';
import { predictCommand } from './predict.js';
import { convertCommand } from './convert.js';
import { infoCommand } from './info.js';

export const USAGE = `usage: sam2 <command> [options]

commands:
  predict   masks for clicks/boxes on an image (mask PNGs + scores.json)
  convert   .pt checkpoint → safetensors (f32 or f16), written atomically
  info      config, parameter counts, memory estimate, weights check, --measure

'sam2 <command> --help' shows a command's options.`;

const COMMANDS: Record<string, Command> = {
  predict: predictCommand,
  convert: convertCommand,
  info: infoCommand,
};

/** Runs `sam2 <args>`; errors are printed to `io.err`, never thrown. */
export function runSam2(args: string[], io: CliIO = consoleIO): Promise<number> {
  return dispatchCommand('sam2', USAGE, COMMANDS, args, io);
}
