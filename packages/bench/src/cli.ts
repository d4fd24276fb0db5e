#!/usr/bin/env node
/**
 * `bench <command> [flags]` — the project's benchmarks. Commands live in one table so new ones
 * (the SAM 2 forward pass, a training step, the default Table-1 run) are one entry each.
 */
import { parseArgs, type CommandArgs } from './args.js';
import { kernelsCommand } from './kernels/command.js';
import { parseSam2BenchArgs, sam2Command } from './sam2-bench.js';
import { parseTrainStepArgs, trainStepCommand } from './train-step-bench.js';
import { GENERATE_USAGE, generateCommand, parseGenerateArgs } from './synthetic/command.js';

interface Command {
  usage: string;
  summary: string;
  run(args: CommandArgs): Promise<number>;
  /** Parses the command's flags when it has its own (default: the common flags). */
  parse?(argv: string[]): CommandArgs;
}

const COMMANDS: Record<string, Command> = {
  kernels: {
    usage: 'kernels [--json] [--quick] [--repeat N] [--only <id>]',
    summary: 'median time and GFLOP/s of matmul (vs a baseline kernel), attention, conv2d and layer norm at SAM 2 shapes',
    run: kernelsCommand,
  },
  sam2: {
    usage: 'sam2 [--json] [--sizes tiny1024,t,s,b+,l] [--dtype f32|f16] [--quick] [--repeat N]',
    summary: 'SAM 2 image path per size: encoder ms per image, decoder ms per prompt (medians), peak pool bytes (random weights; tiny1024 uses the fixture weights)',
    run: sam2Command,
    parse: parseSam2BenchArgs,
  },
  'train-step': {
    usage: 'train-step [--json] [--sizes tiny256,paper] [--quick] [--repeat N]',
    summary: 'RP-SAM2 training step (4 objects × 10 clicks, cached features): ms per step and its split (shift block fwd/bwd, decoder fwd/bwd, Adam); tiny256 with fixture weights, paper-size shift block on SAM 2.1-t with random weights',
    run: trainStepCommand,
    parse: parseTrainStepArgs,
  },
  generate: {
    usage: GENERATE_USAGE,
    summary: 'write a synthetic dataset in the Cataract-1k layout (PNG frames, Supervisely + COCO polygons, splits.json); deterministic by seed',
    run: generateCommand,
    parse: parseGenerateArgs,
  },
};

function usage(): string {
  const lines = Object.values(COMMANDS).map((c) => `  bench ${c.usage}\n      ${c.summary}`);
  return `usage:\n${lines.join('\n')}\n\nflags:\n  --json        print only a JSON array on stdout (progress on stderr)\n  --quick       fewer repeats\n  --repeat N    measured runs per case (after one warm-up run)\n  --only <id>   only the cases whose id or name contains <id>`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    // The default run (the paper's Table 1) is not implemented yet.
    console.error(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`bench: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  let args: CommandArgs;
  try {
    args = (command.parse ?? parseArgs)(rest);
  } catch (e) {
    console.error(`bench ${name}: ${(e as Error).message}\n${usage()}`);
    return 2;
  }
  return command.run(args);
}

main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((e) => {
    console.error(`bench: ${(e as Error).stack ?? e}`);
    process.exit(1);
  });
