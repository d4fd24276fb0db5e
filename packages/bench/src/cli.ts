#!/usr/bin/env node
/**
 * `bench <command> [flags]` — the project's benchmarks. Commands live in one table so new ones
 * are one entry each. `bench` with no command (`pnpm bench`) is the default Table 1 run.
 */
import { errorText, withoutDebugFlag } from '@rpsam2/tensor/node';
import { parseArgs, type CommandArgs } from './args.js';
import { kernelsCommand } from './kernels/command.js';
import { PEERS_USAGE, parsePeersArgs, peersCommand } from './peers/command.js';
import { parseSam2BenchArgs, sam2Command } from './sam2-bench.js';
import { parseTrainStepArgs, trainStepCommand } from './train-step-bench.js';
import { PROFILE_SAM2_TRAIN_USAGE, parseProfileSam2TrainArgs, profileSam2TrainCommand } from './profile-sam2-train.js';
import { PROBE_SAM2_CLICKS_USAGE, parseProbeSam2ClicksArgs, probeSam2ClicksCommand } from './sam2-training/click-probe.js';
import { GENERATE_USAGE, generateCommand, parseGenerateArgs } from './synthetic/command.js';
import { TRAIN_RPSAM2_USAGE, parseTrainRpsam2Args, trainRpsam2Command } from './rpsam2-training/command.js';
import { TRAIN_SAM2_USAGE, parseTrainSam2Args, trainSam2Command } from './sam2-training/command.js';
import { parseTable1Args, table1Command } from './runs/run-command.js';
import { HEADROOM_USAGE, headroomCommand, parseHeadroomArgs } from './headroom.js';
import { SOAK_USAGE, parseSoakArgs, soakCommand } from './soak.js';
import { RUN_FLAGS, UsageError } from './runs/run-args.js';
import { ADAPTER_USAGE, adapterCommand, parseAdapterArgs } from './gpu-report/adapter.js';
import { GPU_REPORT_USAGE, gpuReportCommand, parseGpuReportArgs } from './gpu-report/command.js';
import { OOD_FLAGS, OOD_USAGE, oodCommand, parseOodArgs } from './ood/command.js';
import { EMBED_USAGE, embedCommand, parseEmbedArgs } from './queue/embed-command.js';
import { WORKER_USAGE, parseWorkerArgs, workerCommand } from './queue/worker-command.js';
import { LABEL_USAGE, labelCommand, parseLabelArgs } from './queue/label-command.js';
import { QUEUE_THROUGHPUT_USAGE, parseThroughputArgs, queueThroughputCommand } from './queue/throughput-command.js';
import { ABLATE_CLICKS_USAGE, ABLATE_LOSS_USAGE, ablateClicksCommand, ablateLossCommand, parseAblateClicksArgs, parseAblateLossArgs } from './ablations/command.js';

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
  peers: {
    usage: PEERS_USAGE,
    summary:
      'ours vs onnxruntime-node (CPU, 2 threads; dev dependency) on the same work, round-robin: tiny1024 encoder (fixture weights), SAM 2.1 prompt encoder + mask decoder (d = 256), 1024³ matmul; medians, mins, ratio ours ÷ onnxruntime, outputs compared',
    run: peersCommand,
    parse: parsePeersArgs,
  },
  sam2: {
    usage: 'sam2 [--json] [--sizes tiny1024,t,s,b+,l,default] [--dtype f32|f16] [--quick] [--repeat N]',
    summary: 'SAM 2 image path per size: encoder ms per image, decoder ms per prompt (medians), peak pool bytes (random weights; tiny1024 uses the fixture weights, default is the embedded model with prompts on a 1024×768 frame)',
    run: sam2Command,
    parse: parseSam2BenchArgs,
  },
  'train-step': {
    usage: 'train-step [--json] [--sizes tiny256,paper] [--quick] [--repeat N]',
    summary: 'RP-SAM2 training step (4 objects × 10 clicks, cached features): ms per step and its split (shift block fwd/bwd, decoder fwd/bwd, Adam); tiny256 with fixture weights, paper-size shift block on SAM 2.1-t with random weights',
    run: trainStepCommand,
    parse: parseTrainStepArgs,
  },
  adapter: {
    usage: ADAPTER_USAGE,
    summary: "what Dawn's requestAdapter returns (vendor, architecture, description, software or not, every limit and feature) and the library's device; --require-gpu exits 3 on a software adapter",
    run: adapterCommand,
    parse: parseAdapterArgs,
  },
  'gpu-report': {
    usage: GPU_REPORT_USAGE,
    summary: 'combine the parts written by `bash scripts/gpu-report.sh run` (adapter, op vectors, kernels, sam2, train-step) into gpu-report.json and gpu-report.md',
    run: gpuReportCommand,
    parse: parseGpuReportArgs,
  },
  headroom: {
    usage: HEADROOM_USAGE,
    summary: "what a better single click could gain on a feature cache's objects, per class: a uniform click's Dice, the best click, the best within the shift bound's reach, and moving towards the centroid (no training)",
    run: headroomCommand,
    parse: parseHeadroomArgs,
  },
  soak: {
    usage: SOAK_USAGE,
    summary:
      'reliability soak (not a test): predictions round-robin over synthetic frames, prompts and both predictors (embedded default SAM 2 + shipped shift block), then a training run with checkpoints; pool live bytes and Node heap over time; exit 1 if either grows past its bound (pool: 0 bytes, heap: 64 MiB) or the pool does not return to its start (--quick: 100 predictions, 10 steps)',
    run: soakCommand,
    parse: parseSoakArgs,
  },
  'profile-sam2-train': {
    usage: PROFILE_SAM2_TRAIN_USAGE,
    summary:
      'per-kernel profile of a step of training the default SAM 2 model from scratch (GPU time per kernel, forward/backward/optimizer split, time outside kernels), next to the plain step time',
    run: profileSam2TrainCommand,
    parse: parseProfileSam2TrainArgs,
  },
  'probe-sam2-clicks': {
    usage: PROBE_SAM2_CLICKS_USAGE,
    summary:
      'minutes-long check that a training setup teaches the default model to follow single clicks: from scratch on the first N frames (N = 1: memorisation), or decoder only on an encoder frozen from a train-sam2 checkpoint; held-out mDSC and click spread',
    run: probeSam2ClicksCommand,
    parse: parseProbeSam2ClicksArgs,
  },
  generate: {
    usage: GENERATE_USAGE,
    summary: 'write a synthetic dataset in the Cataract-1k layout (PNG frames, Supervisely + COCO polygons, splits.json), or with --domain cadis another microscope in the CaDIS layout; deterministic by seed',
    run: generateCommand,
    parse: parseGenerateArgs,
  },
  'train-sam2': {
    usage: TRAIN_SAM2_USAGE,
    summary: 'train the embedded default SAM 2 model from scratch on synthetic surgical frames (resumable; --export writes the weights and the held-out single-click Dice)',
    run: trainSam2Command,
    parse: parseTrainSam2Args,
  },
  'train-rpsam2': {
    usage: TRAIN_RPSAM2_USAGE,
    summary: 'train the default shift block for the embedded default SAM 2 on its own synthetic set (train split; best checkpoint on val; test numbers), resumable; --export writes the block, its config and model card; --ablate loss|clicks runs the Fig. 3b ablations on the same data',
    run: trainRpsam2Command,
    parse: parseTrainRpsam2Args,
  },
  table1: {
    usage: 'table1 [run flags]   (`pnpm bench` with no command runs it with no flags: the default run)',
    summary:
      "the paper's Table 1: SAM 2 vs RP-SAM2 (+ --extra rows), one click per object and seed, mDSC/mHD95 ± std over seeds, Wilcoxon test; trains RP-SAM2 unless --shift-block; writes table1.md/.csv/.json, results.json, figures/ in runs/<timestamp>-<name>/ (default: synthetic data, the embedded default SAM 2, brief training)",
    run: table1Command,
    parse: parseTable1Args,
  },
  ood: {
    usage: OOD_USAGE,
    summary:
      "the paper's Fig. 3a, out-of-distribution data: SAM 2 and RP-SAM2 zero-shot, the shift block fine-tuned on stratified shares of the OOD training split, and SAM2-FT (SAM 2's mask decoder fine-tuned on pseudo masks from one click per instrument, by SAM 2 and by RP-SAM2); results.json, ood.csv, figures/ood-mdsc.png in runs/<timestamp>-<name>/",
    run: oodCommand,
    parse: parseOodArgs,
  },
  embed: {
    usage: EMBED_USAGE,
    summary:
      "SAM 2's image features of video frames into a feature cache (rpsam2's format), in this process or with --queue redis://… by any number of `bench worker` processes (BullMQ; retries, stalled-worker recovery, idempotent); the same files either way",
    run: embedCommand,
    parse: parseEmbedArgs,
  },
  label: {
    usage: LABEL_USAGE,
    summary: 'pseudo-labels of frames from one click per object (RP-SAM2, or SAM 2 alone with --shift-block none), one JSON per frame (COCO RLE masks); features from a `bench embed` cache where it has them; in this process or with --queue by `bench worker` processes, the same bytes either way',
    run: labelCommand,
    parse: parseLabelArgs,
  },
  worker: {
    usage: WORKER_USAGE,
    summary: "a queue worker on this machine's WebGPU device: runs the jobs that `bench embed --queue`, `bench label --queue`, `bench table1 --queue` and `bench ood --queue` add, one at a time, until SIGINT/SIGTERM",
    run: workerCommand,
    parse: parseWorkerArgs,
  },
  'queue-throughput': {
    usage: QUEUE_THROUGHPUT_USAGE,
    summary: 'frames/s of `bench embed --queue` with 1, 2, 4 local `bench worker` processes (warm-up round, then measured; a private redis-server unless --queue)',
    run: queueThroughputCommand,
    parse: parseThroughputArgs,
  },
  'ablate-loss': {
    usage: `${ABLATE_LOSS_USAGE}`,
    summary: 'trains and evaluates RP-SAM2 with each loss combination (Dice; Dice+Dist; Dice+Dist+Out); ablation.md/.csv and bar plots',
    run: ablateLossCommand,
    parse: parseAblateLossArgs,
  },
  'ablate-clicks': {
    usage: `${ABLATE_CLICKS_USAGE}`,
    summary: 'trains and evaluates RP-SAM2 with 6, 8, 10, 12 clicks per object during training; ablation.md/.csv and line plots',
    run: ablateClicksCommand,
    parse: parseAblateClicksArgs,
  },
};

function usage(): string {
  const lines = Object.values(COMMANDS).map((c) => `  bench ${c.usage}\n      ${c.summary}`);
  return `usage:\n${lines.join('\n')}\n\nflags:\n  --json        print only a JSON array on stdout (progress on stderr)\n  --quick       fewer repeats\n  --repeat N    measured runs per case (after one warm-up run)\n  --only <id>   only the cases whose id or name contains <id>\n\nrun flags (table1, ablate-loss, ablate-clicks):\n${RUN_FLAGS}\n\nood flags:\n${OOD_FLAGS}`;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    console.log(usage());
    return 0;
  }
  // No command, or flags only: the Table 1 run (with no flags, the default run).
  const [name, ...rest] = argv.length === 0 || argv[0].startsWith('--') ? ['table1', ...argv] : argv;
  const command = COMMANDS[name];
  if (!command) {
    console.error(`bench: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  let args: CommandArgs;
  try {
    args = (command.parse ?? parseArgs)(rest);
  } catch (e) {
    // Run flags print only the message (their list is long); other commands the usage.
    console.error(e instanceof UsageError ? `bench ${name}: ${e.message} (bench --help lists the flags)` : `bench ${name}: ${(e as Error).message}\n${usage()}`);
    return 2;
  }
  return command.run(args);
}

main(withoutDebugFlag(process.argv.slice(2)))
  .then((code) => process.exit(code))
  .catch((e) => {
    console.error(`bench: ${errorText(e)}`);
    process.exit(1);
  });
