#!/usr/bin/env node
/**
 * `pnpm check-ops <dir> [--filter <op|key|substring>] [--json]`: runs every case of an op-vector
 * folder (ops.json + ops.safetensors) forward and backward, prints one line per case and
 * `N passed, M failed`; exits 1 if any case fails, 2 on bad usage or unreadable input. With
 * `--json` the lines go to stderr and stdout gets one JSON object (`OpVectorsRun`), for the
 * GPU report.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initNode, fileSource } from '../node.js';
import { SafetensorsFile } from '../io/safetensors.js';
import { parseOpCases, runOpCase, formatCaseResult, type CaseResult, type OpVectorsRun } from '../testing/op-vectors.js';
import { getBackend, shutdown } from '../runtime.js';

async function main(argv: string[]): Promise<number> {
  const args = argv.slice(2);
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
    cases = parseOpCases(JSON.parse(await readFile(join(dir, 'ops.json'), 'utf8')), join(dir, 'ops.json'));
    file = await SafetensorsFile.open(fileSource(join(dir, 'ops.safetensors')));
  } catch (e) {
    console.error(`check-ops: ${(e as Error).message}`);
    return 2;
  }
  if (filter) cases = cases.filter((c) => c.op === filter || c.key === filter || c.name.includes(filter!));
  const backend = await initNode();
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
    console.error(`check-ops: ${(e as Error).stack ?? e}`);
    process.exit(2);
  });
