/**
 * `bench generate <out-dir> [flags]`: writes a synthetic dataset in Cataract-1k's layout, or with
 * `--domain cadis` another microscope's frames in CaDIS's layout (see `synthetic/dataset.ts`),
 * prints one progress line per case and a summary.
 */
import { errorText } from '@rpsam2/tensor/node';
import type { CommandArgs } from '../args.js';
import { generateSyntheticDataset, type SyntheticDatasetOptions } from './dataset.js';

/** The flags of `bench generate`. */
export interface GenerateArgs extends CommandArgs {
  out?: string;
  options: SyntheticDatasetOptions;
}

export const GENERATE_USAGE =
  'generate <out-dir> [--domain cataract1k|cadis] [--seed N] [--cases N] [--frames N] [--size WxH] [--instruments MIN-MAX] [--occlusion P] [--val N] [--test N] [--no-coco] [--force]';

/** The numeric flags of `generate`: the option each sets and whether it takes integers only. */
const NUMBER_FLAGS = new Map<string, { key: 'seed' | 'cases' | 'framesPerCase' | 'valCases' | 'testCases' | 'occlusion'; integer: boolean }>([
  ['--seed', { key: 'seed', integer: true }],
  ['--cases', { key: 'cases', integer: true }],
  ['--frames', { key: 'framesPerCase', integer: true }],
  ['--val', { key: 'valCases', integer: true }],
  ['--test', { key: 'testCases', integer: true }],
  ['--occlusion', { key: 'occlusion', integer: false }],
]);

/** Parses `generate`'s flags; throws on a bad one. */
export function parseGenerateArgs(argv: readonly string[]): GenerateArgs {
  const options: SyntheticDatasetOptions = {};
  const rest: string[] = [];
  let json = false;
  const num = (flag: string, v: string | undefined, integer = true): number => {
    if (v === undefined) throw new Error(`${flag} needs a value`);
    const n = Number(v);
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new Error(`${flag} needs ${integer ? 'an integer' : 'a number'}, got '${v}'`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const numeric = NUMBER_FLAGS.get(a);
    if (numeric) {
      options[numeric.key] = num(a, argv[++i], numeric.integer);
      continue;
    }
    switch (a) {
      case '--domain': {
        const v = argv[++i];
        if (v !== 'cataract1k' && v !== 'cadis') throw new Error(`--domain must be cataract1k or cadis, got '${v}'`);
        options.domain = v;
        break;
      }
      case '--size': {
        const v = argv[++i];
        const m = v === undefined ? null : /^(\d+)x(\d+)$/i.exec(v);
        if (!m) throw new Error(`--size needs WxH (e.g. 1024x768), got '${v}'`);
        options.width = Number(m[1]);
        options.height = Number(m[2]);
        break;
      }
      case '--instruments': {
        const v = argv[++i];
        const m = v === undefined ? null : /^(\d+)(?:-(\d+))?$/.exec(v);
        if (!m) throw new Error(`--instruments needs N or MIN-MAX (e.g. 1-3), got '${v}'`);
        options.minInstruments = Number(m[1]);
        options.maxInstruments = Number(m[2] ?? m[1]);
        break;
      }
      case '--no-coco':
        options.coco = false;
        break;
      case '--force':
        options.overwrite = true;
        break;
      case '--json':
        json = true;
        break;
      default:
        if (a.startsWith('--')) throw new Error(`unknown flag ${a}`);
        rest.push(a);
    }
  }
  if (rest.length > 1) throw new Error(`one output folder expected, got ${rest.join(' ')}`);
  return { json, quick: false, rest, out: rest[0], options };
}

/** Runs `bench generate`. */
export async function generateCommand(commandArgs: CommandArgs): Promise<number> {
  const args = commandArgs as GenerateArgs;
  if (!args.out) {
    console.error(`bench generate: an output folder is needed\nusage: bench ${GENERATE_USAGE}`);
    return 2;
  }
  const log = (s: string) => (args.json ? process.stderr : process.stdout).write(`${s}\n`);
  const perCase = args.options.framesPerCase ?? 10;
  let caseMs = 0;
  let summary;
  try {
    summary = await generateSyntheticDataset(args.out, {
      ...args.options,
      onFrame: ({ index, total, id, ms }) => {
        caseMs += ms;
        if ((index + 1) % perCase === 0 || index + 1 === total) {
          log(`  ${id.split('/')[0]}: ${index + 1}/${total} frames (${(caseMs / ((index % perCase) + 1)).toFixed(0)} ms/frame)`);
          caseMs = 0;
        }
      },
    });
  } catch (e) {
    console.error(`bench generate: ${errorText(e).replace('pass overwrite', 'pass --force')}`);
    return (e as { code?: string }).code === 'ERR_OUTPUT_DIR' ? 2 : 1;
  }
  if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    log(`wrote ${summary.frames} frames in ${summary.cases.length} cases to ${summary.root} in ${summary.seconds.toFixed(1)} s (${summary.msPerFrame.toFixed(0)} ms/frame)`);
    log(`instruments: ${Object.entries(summary.instruments).map(([k, n]) => `${k} ${n}`).join(', ')}; ${summary.occludedInstruments} partly occluded`);
    log(`split: train ${summary.split.train.length}, val ${summary.split.val.length}, test ${summary.split.test.length} cases (${summary.root}/splits.json)`);
  }
  return 0;
}
