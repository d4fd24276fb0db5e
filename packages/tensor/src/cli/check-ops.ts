#!/usr/bin/env node
/**
 * `pnpm check-ops <dir> [--filter <op|key|substring>] [--json]`: runs every case of an op-vector
 * folder (ops.json + ops.safetensors) forward and backward, prints one line per case and
 * `N passed, M failed`; exits 1 if any case fails or the run fails (e.g. no WebGPU adapter), 2 on
 * bad usage or unreadable input; errors print without a stack unless `--debug` or DEBUG=1. With
 * `--json` the lines go to stderr and stdout gets one JSON object (`OpVectorsRun`), for the
 * GPU report.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initNode, fileSource, errorText, withoutDebugFlag } from '../node.js';
import { SafetensorsFile } from '../io/safetensors.js';
import { parseOpCases, runOpCase, formatCaseResult, type CaseResult, type OpVectorsRun } from '../testing/op-vectors.js';
import { getBackend, shutdown } from '../runtime.js';
import { setGradientOpsCheck } from '../autograd/gradient-ops.js';

async function main(argv: string[]): Promise<number> {
  const args = withoutDebugFlag(argv.slice(2));
  let filter: string | undefined;
  const fi = args.indexOf('--filter');
  if (fi >= 0) {
    filter = args[fi + 1];
    args.splice(fi, 2);
  }
  const ji = args.indexOf('--json');
  const json = ji >= 0;
  if (json) args.splice(ji, 1);
  const dir = args[0];
  if (!dir || args.includes('--help') || args.includes('-h')) {
    console.error('usage: check-ops <dir> [--filter <op|key|substring>] [--json]\n  <dir> holds ops.json and ops.safetensors');
    return 2;
  }
  // With --json, stdout carries only the JSON object.
  const log = (s: string) => (json ? process.stderr : process.stdout).write(`${s}\n`);
  let cases;
  let file;
  try {
    const opsJson = join(dir, 'ops.json');
    const text = await readFile(opsJson, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new Error(`${opsJson}: cannot read (${e.code ?? e.message}); give a folder holding ops.json and ops.safetensors`);
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new Error(`${opsJson}: not valid JSON (${(e as Error).message})`);
    }
    cases = parseOpCases(parsed, opsJson);
    file = await SafetensorsFile.open(fileSource(join(dir, 'ops.safetensors')));
  } catch (e) {
    console.error(`check-ops: ${errorText(e)}`);
    return 2;
  }
  if (filter) cases = cases.filter((c) => c.op === filter || c.key === filter || c.name.includes(filter!));
  const backend = await initNode();
  // Prove key → WGSL source is a function for every kernel the cases run, and that every op
  // recording a gradient is listed in GRADIENT_OPS.
  backend.checkKernelKeys = true;
  setGradientOpsCheck(true);
  const adapter = backend.info.adapter.description || backend.info.adapter.device || backend.info.adapter.vendor || 'unknown';
  log(`adapter: ${adapter}; ${cases.length} cases from ${dir}`);
  const results: CaseResult[] = [];
  for (const c of cases) {
    const r = await runOpCase(c, file);
    log(formatCaseResult(r));
    results.push(r);
  }
  const passed = results.filter((r) => r.passed).length;
  const failed = results.length - passed;
  const live = getBackend().stats().liveBytes;
  if (live !== 0) log(`warning: ${live} bytes of GPU memory still live after the run`);
  log(`${passed} passed, ${failed} failed`);
  if (json) {
    const run: OpVectorsRun = { adapter, dir, ...(filter ? { filter } : {}), passed, failed, liveBytes: live, cases: results };
    process.stdout.write(`${JSON.stringify(run)}\n`);
  }
  return failed ? 1 : 0;
}

main(process.argv)
  .then((code) => {
    shutdown();
    process.exit(code);
  })
  .catch((e) => {
    console.error(`check-ops: ${errorText(e)}`);
    shutdown();
    process.exit(1);
  });
