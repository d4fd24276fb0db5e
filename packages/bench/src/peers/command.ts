/**
 * `bench peers [--json] [--quick] [--repeat N] [--only <id>]`: our kernels and models against
 * onnxruntime-node (CPU, 2 intra-op threads) on exactly the same work, in one process,
 * round-robin (ours, peer, ours, peer, …) so that machine load affects both alike. Reports the
 * median and min of each and the ratio of medians, ours ÷ onnxruntime (above 1: ours slower).
 * Our runs end when their outputs are read back, as onnxruntime's end with its outputs on the
 * host. After timing, the last outputs of both sides are compared (see `cases.ts`).
 *
 * With `--json` only a JSON array of {@link PeerResult} goes to stdout; progress goes to stderr.
 */
import { shutdown } from '@rpsam2/tensor';
import { initNode } from '@rpsam2/tensor/node';
import { existsSync } from 'node:fs';
import { parseArgs, type CommandArgs } from '../args.js';
import { asyncRun, gpuRun, timeInterleaved, type TimedRun, type Timing } from '../timing.js';
import { peerCases, type PeerCase, type PeerCheck } from './cases.js';
import { loadOnnxRuntime, ORT_SESSION_OPTIONS, ortVersion, PeerUnavailableError, type OrtModule, type OrtTensor } from './onnxruntime.js';
import { sharedFixtureDir } from '../shared-fixtures.js';

export const PEERS_USAGE = 'peers [--json] [--quick] [--repeat N] [--only <id>]';

/** One case's result (the JSON output is an array of these). */
export interface PeerResult {
  id: string;
  name: string;
  shape: string;
  /** Median of our runs, ms (null when the case did not run). */
  oursMs: number | null;
  /** Median of onnxruntime's runs, ms. */
  peerMs: number | null;
  /** oursMs ÷ peerMs: above 1, ours is slower. */
  ratio: number | null;
  oursMinMs?: number;
  peerMinMs?: number;
  /** oursMinMs ÷ peerMinMs. */
  ratioMin?: number;
  /** First (warm-up) runs, ms: ours includes shader compilation. */
  oursFirstMs?: number;
  peerFirstMs?: number;
  /** Measured runs of each side. */
  runs?: number;
  /** Our adapter. */
  adapter: string;
  /** The peer runtime and its settings. */
  peer: string;
  /** Whether our outputs agree with onnxruntime's (and the golden values where the fixture has them). */
  checkOk?: boolean;
  /** Worst relative L2 error of our outputs against onnxruntime's. */
  relL2?: number;
  check?: string;
  skipped?: string;
}

/** The common flags; positional arguments are refused. */
export function parsePeersArgs(argv: readonly string[]): CommandArgs {
  const args = parseArgs(argv);
  if (args.rest.length) throw new Error(`bench peers takes no arguments, got '${args.rest.join(' ')}'`);
  return args;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** A case's result from the two sides' timings (round-robin, the same number of runs). */
export function peerResult(c: Pick<PeerCase, 'id' | 'name' | 'shape'>, ours: Timing, peer: Timing, meta: { adapter: string; peer: string }): PeerResult {
  return {
    id: c.id,
    name: c.name,
    shape: c.shape,
    oursMs: round(ours.medianMs),
    peerMs: round(peer.medianMs),
    ratio: round(ours.medianMs / peer.medianMs),
    oursMinMs: round(ours.minMs),
    peerMinMs: round(peer.minMs),
    ratioMin: round(ours.minMs / peer.minMs),
    oursFirstMs: round(ours.firstMs),
    peerFirstMs: round(peer.firstMs),
    runs: Math.min(ours.runsMs.length, peer.runsMs.length),
    ...meta,
  };
}

/**
 * onnxruntime's intra-op threads spin for a while after each run (its default,
 * `session.intra_op.allow_spinning`); on a 2-core machine that takes the CPU from whatever starts
 * next, i.e. our run in the round-robin (matmul-1024: ours 105–117 ms right after the peer's run,
 * 71 ms in `bench kernels`). Our runs therefore start after this untimed pause. The peer's runs
 * still start right after ours: a pause before them made onnxruntime slower (its threads fall
 * asleep; 2026-12-07: tiny1024 142 → 199 ms), and lavapipe's threads do not spin.
 */
const PEER_SPIN_PAUSE_MS = 100;

/** `run`, started after an untimed pause of `ms`. */
function afterPause(ms: number, run: TimedRun): TimedRun {
  return async () => {
    await new Promise((r) => setTimeout(r, ms));
    return run();
  };
}

/** The human-readable table: one line per case, then the check of each. */
export function formatPeersTable(results: readonly PeerResult[]): string {
  const ms = (m: number | null | undefined, min: number | undefined) => (m === null || m === undefined ? '—' : `${m.toFixed(1)} (${min?.toFixed(1)})`);
  const rows = results.map((r) => [
    r.id,
    ms(r.oursMs, r.oursMinMs),
    ms(r.peerMs, r.peerMinMs),
    r.ratio === null ? '—' : `${r.ratio.toFixed(2)}× (${r.ratioMin?.toFixed(2)}×)`,
    r.skipped ? 'skipped' : String(r.runs ?? ''),
  ]);
  const head = ['case', 'ours ms (min)', 'onnxruntime ms (min)', 'ratio (of mins)', 'runs'];
  const widths = head.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (cells: string[]) => cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ');
  const checks = results.map((r) => `  ${r.id}: ${r.skipped ? r.skipped : `${r.checkOk ? 'ok' : 'CHECK FAILED'} — ${r.check}`}`);
  return [line(head), ...rows.map(line), 'checks:', ...checks].join('\n');
}

/** Where the ONNX exports are: `../shared/fixtures/peers` next to the repository, or $PEER_FIXTURES. */
export function peersFixtureDir(): string {
  return sharedFixtureDir('peers', 'PEER_FIXTURES');
}

/** What the command can be given instead of the real thing (tests). */
export interface PeersDeps {
  /** Loads the peer runtime (default: imports onnxruntime-node). */
  loadPeer?: () => Promise<OrtModule>;
  /** Where error lines go (default: stderr). */
  error?: (line: string) => void;
}

/** Runs `bench peers`. */
export async function peersCommand(args: CommandArgs, deps: PeersDeps = {}): Promise<number> {
  const log = (s: string) => (args.json ? process.stderr : process.stdout).write(`${s}\n`);
  const error = deps.error ?? ((s: string) => process.stderr.write(`${s}\n`));
  // The peer first: without it there is nothing to compare, so no GPU start-up either.
  let ort: OrtModule;
  try {
    ort = await (deps.loadPeer ?? loadOnnxRuntime)();
  } catch (e) {
    if (!(e instanceof PeerUnavailableError)) throw e;
    error(`bench peers: ${e.message}`);
    return 1;
  }
  const dir = peersFixtureDir();
  let cases = peerCases();
  if (args.only) cases = cases.filter((c) => c.id.includes(args.only!) || c.name.includes(args.only!));
  // 11 runs by default: medians of 5 moved by up to ±15 % between invocations on this shared
  // 2-core host (decoder-d256, 2026-12-07), medians of 15 by ~2 %.
  const repeats = args.repeat ?? (args.quick ? 2 : 11);
  // As `bench kernels`: an explicit --repeat is honoured; otherwise a slow case stops after ~15 s per side (4 s with --quick).
  const budgetMs = args.repeat !== undefined ? undefined : args.quick ? 4000 : 15000;

  const backend = await initNode();
  const a = backend.info.adapter;
  const adapter = a.description || a.device || a.vendor || 'unknown adapter';
  const o = ORT_SESSION_OPTIONS;
  const peer = `onnxruntime-node ${ortVersion(ort)} (${o.executionProviders.join(',')}, ${o.intraOpNumThreads} intra-op threads, ${o.interOpNumThreads} inter-op, graph optimisation ${o.graphOptimizationLevel})`;
  log(`adapter: ${adapter}; peer: ${peer}; fixtures ${dir}`);
  log(`round-robin ours/peer, ${repeats} repeats after 1 warm-up each; ratio = ours ÷ onnxruntime (above 1: ours slower)`);

  const results: PeerResult[] = [];
  for (const c of cases) {
    const meta = { adapter, peer };
    const failed = (why: string): PeerResult => ({ id: c.id, name: c.name, shape: c.shape, oursMs: null, peerMs: null, ratio: null, ...meta, skipped: why });
    const path = dir + c.onnx;
    if (!existsSync(path)) {
      log(`skip ${c.id}: ${path} not found (set PEER_FIXTURES to the folder of the ONNX exports)`);
      results.push(failed(`missing ${path}`));
      continue;
    }
    log(`${c.id}: loading …`);
    const session = await ort.InferenceSession.create(path, ORT_SESSION_OPTIONS);
    let ready: Awaited<ReturnType<PeerCase['setup']>> | undefined;
    try {
      ready = await c.setup(ort, session);
      let lastOurs: Float32Array[] = [];
      let lastPeer: Record<string, OrtTensor> = {};
      log(`${c.id}: timing …`);
      const [ours, theirs] = await timeInterleaved(
        [
          afterPause(PEER_SPIN_PAUSE_MS, gpuRun(ready.ours, (d) => (lastOurs = d))),
          asyncRun(async () => (lastPeer = await ready!.peer())),
        ],
        { repeats, warmup: 1, budgetMs },
      );
      const check: PeerCheck = ready.check(lastOurs, lastPeer);
      const relL2 = check.relL2 === undefined ? undefined : Number(check.relL2.toPrecision(3));
      const r = { ...peerResult(c, ours, theirs, meta), checkOk: check.ok, relL2, check: check.note };
      results.push(r);
      log(`${c.id}: ours ${r.oursMs!.toFixed(1)} ms, onnxruntime ${r.peerMs!.toFixed(1)} ms → ${r.ratio!.toFixed(2)}× (${r.runs} run${r.runs === 1 ? '' : 's'} each); ${check.ok ? 'check ok' : 'CHECK FAILED'}: ${check.note}`);
    } catch (e) {
      const msg = (e as Error).message.split('\n')[0];
      log(`failed ${c.id}: ${msg}`);
      results.push(failed(`failed: ${msg}`));
    } finally {
      ready?.dispose();
      await session.release();
    }
  }
  if (args.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else log(`\n${formatPeersTable(results)}`);
  shutdown();
  // A skipped case or a failed check fails the run: a fast but wrong kernel must not pass.
  return results.every((r) => !r.skipped && r.checkOk) ? 0 : 1;
}
