/**
 * `bench kernels [--json] [--quick] [--repeat N] [--only <id>]`: times the library's main
 * kernels at SAM 2 shapes, plus a baseline matmul, and reports median ms and GFLOP/s (GB/s for
 * memory-bound ops). With `--json` only a JSON array goes to stdout; progress goes to stderr.
 */
import { matmulKernelKind, matmulTile, shutdown, type Tensor } from '@rpsam2/tensor';
import { initNode } from '@rpsam2/tensor/node';
import { kernelCases, type KernelCase } from './cases.js';
import { timeGpuInterleaved } from '../timing.js';
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
  /** For the ratio line: baseline median ÷ library median (the library's speed-up). */
  ratio?: number;
  /** Baseline min ÷ library min. */
  ratioMin?: number;
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
  // Runs of adjacent cases sharing a group are timed together, round-robin.
  for (let i = 0; i < cases.length; ) {
    let j = i + 1;
    while (cases[i].group !== undefined && j < cases.length && cases[j].group === cases[i].group) j++;
    results.push(...(await runGroup(cases.slice(i, j), { repeats, budgetMs, adapter, matmulNote, json: args.json, log })));
    i = j;
  }
  // Ratio lines: a row's median (and min) over its reference's, both timed in the same group.
  const at1024 = 'M=1024 K=1024 N=1024';
  const ratios: [reference: string, of: string, id: string, name: string, shape: string][] = [
    ['matmul-1024', 'baseline-matmul-1024', 'matmul-1024-vs-baseline', 'library / baseline speed at 1024³ (baseline ms ÷ library ms)', at1024],
    ['matmul-1024', 'matmul-1024-await', 'matmul-1024-nap-vs-await', "napping wait / plain await at 1024³ (plain-await ms ÷ library ms: what Dawn's busy poll costs)", at1024],
    ['image-tokens', 'image-tokens-ops', 'image-tokens-vs-ops', 'imageTokens / add + permute on the decoder input (ops ms ÷ imageTokens ms)', '[1,256,64,64] + [1,256,1,1]'],
  ];
  for (const [reference, of, id, name, shape] of ratios) {
    const lib = results.find((r) => r.id === reference);
    const other = results.find((r) => r.id === of);
    if (!lib?.ms || !other?.ms) continue;
    const ratio: KernelResult = { id, name, shape, adapter, ratio: round(other.ms / lib.ms), ratioMin: round(other.minMs! / lib.minMs!) };
    results.push(ratio);
    log(`${ratio.name}: ${ratio.ratio}× (of the fastest runs: ${ratio.ratioMin}×)`);
  }
  if (args.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  shutdown();
  return 0;
}

interface RunContext {
  repeats: number;
  budgetMs: number | undefined;
  adapter: string;
  matmulNote: string;
  json: boolean;
  log: (s: string) => void;
}

/** Sets up, times (interleaved when several) and reports a group of cases. */
async function runGroup(group: KernelCase[], ctx: RunContext): Promise<KernelResult[]> {
  const results: KernelResult[] = [];
  const ready: { c: KernelCase; run: () => Tensor | Tensor[]; dispose: () => void }[] = [];
  for (const c of group) {
    const s = c.setup();
    if ('skip' in s) {
      ctx.log(`skip ${c.id}: ${s.skip}`);
      results.push({ id: c.id, name: c.name, shape: c.shape, adapter: ctx.adapter, skipped: s.skip });
    } else ready.push({ c, ...s });
  }
  if (!ready.length) return results;
  // A progress hint while slow cases run (overwritten by the result lines on a terminal).
  const tty = !ctx.json && process.stdout.isTTY;
  const ids = ready.map((r) => r.c.id).join(' + ');
  if (tty) process.stdout.write(`${ids} …`);
  else if (ctx.json) ctx.log(`${ids} …`);
  try {
    const timings = await timeGpuInterleaved(
      ready.map((r) => r.run),
      { repeats: ctx.repeats, warmup: 1, budgetMs: ctx.budgetMs },
    );
    if (tty) process.stdout.write('\r\x1b[K');
    ready.forEach(({ c }, k) => {
      const t = timings[k];
      const r: KernelResult = {
        id: c.id,
        name: c.name,
        shape: c.shape,
        adapter: ctx.adapter,
        ms: round(t.medianMs),
        minMs: round(t.minMs),
        firstMs: round(t.firstMs),
        runs: t.runsMs.length,
      };
      if ('flops' in c.work) r.gflops = round(c.work.flops / (t.medianMs * 1e6));
      else r.gbps = round(c.work.bytes / (t.medianMs * 1e6));
      if (c.id.startsWith('matmul')) r.note = ctx.matmulNote;
      if (ready.length > 1) r.note = `${r.note ? `${r.note}; ` : ''}timed round-robin with ${ids}`;
      results.push(r);
      ctx.log(formatLine(r));
    });
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    if (tty) process.stdout.write('\r\x1b[K');
    ctx.log(`failed ${ids}: ${msg}`);
    for (const { c } of ready) results.push({ id: c.id, name: c.name, shape: c.shape, adapter: ctx.adapter, skipped: `failed: ${msg}` });
  } finally {
    for (const r of ready) r.dispose();
  }
  return results;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function formatLine(r: KernelResult): string {
  const rate = r.gflops !== undefined ? `${r.gflops.toFixed(2).padStart(8)} GFLOP/s` : `${(r.gbps ?? 0).toFixed(2).padStart(8)} GB/s   `;
  return `${r.id.padEnd(24)} ${r.ms!.toFixed(1).padStart(9)} ms  ${rate}  ${r.name}: ${r.shape}  [${r.runs} runs, first ${r.firstMs!.toFixed(0)} ms]`;
}
