/**
 * `bench kernels [--json] [--quick] [--repeat N] [--only <id>]`: times the library's main
 * kernels at SAM 2 shapes, plus a baseline matmul, and reports median ms and GFLOP/s (GB/s for
 * memory-bound ops). With `--json` only a JSON array goes to stdout; progress goes to stderr.
 */
import { matmulKernelKind, matmulTile, shutdown } from '@rpsam2/tensor';
import { initNode } from '@rpsam2/tensor/node';
import { kernelCases } from './cases.js';
import { timeGpu } from '../timing.js';
import type { CommandArgs } from '../args.js';

/** One line of the report (the JSON output is an array of these). */
export interface KernelResult {
  id: string;
  name: string;
  shape: string;
  adapter: string;
  /** Median over the measured runs, ms (absent when skipped). */
  ms?: number;
  minMs?: number;
  /** First warm-up run, ms (includes shader compilation). */
  firstMs?: number;
  runs?: number;
  gflops?: number;
  gbps?: number;
  /** For the ratio line: library time / baseline time inverted (speed-up of the library). */
  ratio?: number;
  skipped?: string;
  note?: string;
}

export async function kernelsCommand(args: CommandArgs): Promise<number> {
  const log = (s: string) => (args.json ? process.stderr : process.stdout).write(`${s}\n`);
  const backend = await initNode();
  const a = backend.info.adapter;
  const adapter = a.description || a.device || a.vendor || 'unknown adapter';
  const repeats = args.repeat ?? (args.quick ? 2 : 5);
  // An explicit --repeat is honoured; otherwise a slow case stops after ~15 s (4 s with --quick).
  const budgetMs = args.repeat !== undefined ? undefined : args.quick ? 4000 : 15000;
  const tile = matmulTile();
  const matmulNote = `matmul kernel: ${matmulKernelKind()} tile ${JSON.stringify(tile)}`;
  log(`adapter: ${adapter}; ${repeats} repeats after 1 warm-up; ${matmulNote}`);

  const results: KernelResult[] = [];
  let cases = kernelCases();
  if (args.only) cases = cases.filter((c) => c.id.includes(args.only!) || c.name.includes(args.only!));
  for (const c of cases) {
    const base: KernelResult = { id: c.id, name: c.name, shape: c.shape, adapter };
    const s = c.setup();
    if ('skip' in s) {
      log(`skip ${c.id}: ${s.skip}`);
      results.push({ ...base, skipped: s.skip });
      continue;
    }
    // A progress hint while a slow case runs (overwritten by its result line on a terminal).
    const tty = !args.json && process.stdout.isTTY;
    try {
      if (tty) process.stdout.write(`${c.id} …`);
      else if (args.json) log(`${c.id} …`);
      const t = await timeGpu(s.run, { repeats, warmup: 1, budgetMs });
      const r: KernelResult = { ...base, ms: round(t.medianMs), minMs: round(t.minMs), firstMs: round(t.firstMs), runs: t.runsMs.length };
      if ('flops' in c.work) r.gflops = round(c.work.flops / (t.medianMs * 1e6));
      else r.gbps = round(c.work.bytes / (t.medianMs * 1e6));
      if (c.id.startsWith('matmul')) r.note = matmulNote;
      results.push(r);
      if (tty) process.stdout.write('\r\x1b[K');
      log(formatLine(r));
    } catch (e) {
      const msg = (e as Error).message.split('\n')[0];
      if (tty) process.stdout.write('\r\x1b[K');
      log(`failed ${c.id}: ${msg}`);
      results.push({ ...base, skipped: `failed: ${msg}` });
    } finally {
      s.dispose();
    }
  }
  const lib = results.find((r) => r.id === 'matmul-1024');
  const baseline = results.find((r) => r.id === 'baseline-matmul-1024');
  if (lib?.ms && baseline?.ms) {
    const ratio: KernelResult = {
      id: 'matmul-1024-vs-baseline',
      name: 'library / baseline speed at 1024³ (baseline ms ÷ library ms)',
      shape: 'M=1024 K=1024 N=1024',
      adapter,
      ratio: round(baseline.ms / lib.ms),
    };
    results.push(ratio);
    log(`${ratio.name}: ${ratio.ratio}×`);
  }
  if (args.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  shutdown();
  return 0;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function formatLine(r: KernelResult): string {
  const rate = r.gflops !== undefined ? `${r.gflops.toFixed(2).padStart(8)} GFLOP/s` : `${(r.gbps ?? 0).toFixed(2).padStart(8)} GB/s   `;
  return `${r.id.padEnd(24)} ${r.ms!.toFixed(1).padStart(9)} ms  ${rate}  ${r.name}: ${r.shape}  [${r.runs} runs, first ${r.firstMs!.toFixed(0)} ms]`;
}
