/**
 * The GPU report: one JSON document and one markdown page made from the outputs of the commands
 * that `scripts/gpu-report.sh run` runs (adapter, op vectors, kernels, SAM 2, training step).
 *
 * Each command is a *part*. For part `<name>` the script leaves in one folder:
 * - `<name>.status`: JSON {@link PartStatus} (kind, command line, exit code, seconds, time limit,
 *   or why it was skipped);
 * - `<name>.json`: the command's stdout (its `--json` output);
 * - `<name>.log`: its stderr (progress lines, errors).
 * Beside them `system.txt` holds `key: value` lines about the machine (GPU, driver, Vulkan setup).
 *
 * Everything here is pure (no GPU, no files) so it is unit-tested; `command.ts` reads the folder.
 */
import type { OpVectorsRun } from '@rpsam2/tensor';
import type { KernelResult } from '../kernels/command.js';
import type { Sam2BenchResult } from '../sam2-bench.js';
import type { TrainStepBenchResult } from '../train-step-bench.js';
import type { AdapterReport } from './adapter.js';

export const GPU_REPORT_SCHEMA = 'rpsam2-gpu-report/1';

export const PART_KINDS = ['adapter', 'ops', 'kernels', 'sam2', 'train-step'] as const;
export type PartKind = (typeof PART_KINDS)[number];

/** A part's `.status` file, written by the script. */
export interface PartStatus {
  /** Run order. */
  index: number;
  kind: PartKind;
  /** The command line, for the reader. */
  command: string;
  /** Exit code (124 or 137: killed by `timeout`). Absent when skipped. */
  exit?: number;
  seconds?: number;
  /** The time limit it ran under. */
  timeoutS?: number;
  /** Why it did not run (time budget spent, software adapter). */
  skipped?: string;
}

/** One part as read from the folder. */
export interface PartInput {
  name: string;
  status: PartStatus;
  /** The command's stdout ('' when absent). */
  stdout: string;
  /** The command's stderr ('' when absent). */
  log: string;
}

/**
 * - ok: ran, exit 0, output parsed;
 * - errors: output parsed but the exit code says something failed (e.g. a failing op vector, a
 *   size that threw): the rows say what;
 * - failed: no usable output;
 * - timed-out: killed at its time limit;
 * - skipped: not run.
 */
export type PartOutcome = 'ok' | 'errors' | 'failed' | 'timed-out' | 'skipped';

export interface ReportPart {
  name: string;
  kind: PartKind;
  command: string;
  outcome: PartOutcome;
  exit?: number;
  seconds?: number;
  timeoutS?: number;
  /** One line on what went wrong (or why it was skipped). */
  note?: string;
  /** The end of the part's log, for parts that did not end ok. */
  logTail?: string[];
}

/** The report (`gpu-report.json`). */
export interface GpuReport {
  schema: typeof GPU_REPORT_SCHEMA;
  createdAt: string;
  /** The script's `system.txt` (GPU, driver, node, Vulkan loader and ICD used). */
  system: Record<string, string>;
  adapter: AdapterReport | null;
  parts: ReportPart[];
  /** Op vectors of every `ops` part (usually one). */
  opVectors: OpVectorsRun[];
  kernels: KernelResult[];
  sam2: Sam2BenchResult[];
  trainStep: TrainStepBenchResult[];
}

/** Exit codes of a command stopped by `timeout` (TERM, then KILL with `-k`). */
const TIMEOUT_EXITS = new Set([124, 137]);
const LOG_TAIL_LINES = 20;
/** Dawn prints this once per process; it is noise in a log tail. */
const DAWN_NOISE = /^Warning: maxDynamic/;

/** Parses a part's `.status` file; the error names the file and what is wrong. */
export function parsePartStatus(text: string, label: string): PartStatus {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${label}: not JSON (${(e as Error).message})`);
  }
  const s = v as Partial<PartStatus>;
  if (typeof s !== 'object' || s === null) throw new Error(`${label}: expected a JSON object`);
  if (!PART_KINDS.includes(s.kind as PartKind)) throw new Error(`${label}: "kind" must be one of ${PART_KINDS.join(', ')}, got ${JSON.stringify(s.kind)}`);
  if (typeof s.index !== 'number') throw new Error(`${label}: "index" must be a number`);
  if (typeof s.command !== 'string') throw new Error(`${label}: "command" must be a string`);
  if (s.skipped === undefined && typeof s.exit !== 'number') throw new Error(`${label}: needs "exit" (a number) or "skipped"`);
  return s as PartStatus;
}

/** Parses `key: value` lines (blank lines and lines without ': ' are ignored). */
export function parseSystemText(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(': ');
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 2).trim();
  }
  return out;
}

/**
 * The JSON value in a command's stdout. The commands print only JSON there, but a native library
 * may write a line of its own first, so when the whole text does not parse, parsing starts at the
 * first line that opens an array or object.
 */
export function extractJson(stdout: string): unknown {
  const text = stdout.trim();
  if (!text) throw new Error('no output on stdout');
  try {
    return JSON.parse(text);
  } catch (first) {
    const m = /^[[{]/m.exec(text);
    if (m && m.index > 0) return JSON.parse(text.slice(m.index));
    throw first;
  }
}

function requireArrayOfRows(v: unknown, what: string): { id: string }[] {
  if (!Array.isArray(v) || v.some((r) => typeof r?.id !== 'string')) throw new Error(`expected ${what}: a JSON array of objects with an "id"`);
  return v;
}

/** Checks a part's parsed output has its kind's shape; throws saying what was expected. */
function validate(kind: PartKind, v: unknown): unknown {
  switch (kind) {
    case 'adapter': {
      const a = v as AdapterReport;
      if (typeof a?.info?.description !== 'string' || typeof a.limits !== 'object') throw new Error('expected `bench adapter --json` output: an object with "info" and "limits"');
      return a;
    }
    case 'ops': {
      const o = v as OpVectorsRun;
      if (!Array.isArray(o?.cases) || typeof o.passed !== 'number' || typeof o.failed !== 'number') throw new Error('expected `check-ops --json` output: an object with "cases", "passed", "failed"');
      return o;
    }
    case 'kernels':
      return requireArrayOfRows(v, '`bench kernels --json` output');
    case 'sam2':
      return requireArrayOfRows(v, '`bench sam2 --json` output');
    case 'train-step':
      return requireArrayOfRows(v, '`bench train-step --json` output');
  }
}

function logTail(log: string): string[] {
  return log
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l && !DAWN_NOISE.test(l))
    .slice(-LOG_TAIL_LINES);
}

/** The last log line that reads like an error, or the last line. */
function lastError(tail: string[]): string | undefined {
  return [...tail].reverse().find((l) => /error|failed|cannot|not found|no webgpu/i.test(l)) ?? tail[tail.length - 1];
}

/** A log line short enough for a table cell. */
function clip(line: string, max = 200): string {
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** Builds the report from the parts (in any order; sorted by their index) and the system lines. */
export function buildGpuReport(parts: readonly PartInput[], system: Record<string, string>, createdAt = new Date().toISOString()): GpuReport {
  const report: GpuReport = { schema: GPU_REPORT_SCHEMA, createdAt, system, adapter: null, parts: [], opVectors: [], kernels: [], sam2: [], trainStep: [] };
  for (const p of [...parts].sort((a, b) => a.status.index - b.status.index)) {
    const s = p.status;
    const part: ReportPart = { name: p.name, kind: s.kind, command: s.command, outcome: 'ok' };
    if (s.exit !== undefined) part.exit = s.exit;
    if (s.seconds !== undefined) part.seconds = s.seconds;
    if (s.timeoutS !== undefined) part.timeoutS = s.timeoutS;
    report.parts.push(part);
    if (s.skipped !== undefined) {
      part.outcome = 'skipped';
      part.note = s.skipped;
      continue;
    }
    const tail = logTail(p.log);
    if (TIMEOUT_EXITS.has(s.exit!)) {
      part.outcome = 'timed-out';
      part.note = `stopped at its ${s.timeoutS ?? '?'} s limit`;
      part.logTail = tail;
      continue;
    }
    let value: unknown;
    try {
      value = validate(s.kind, extractJson(p.stdout));
    } catch (e) {
      part.outcome = 'failed';
      const why = lastError(tail);
      part.note = `exit ${s.exit}; ${(e as Error).message}${why ? `; log: ${clip(why)}` : ''}`;
      part.logTail = tail;
      continue;
    }
    if (s.exit !== 0) {
      part.outcome = 'errors';
      const why = lastError(tail);
      part.note = `exit ${s.exit}${why ? `: ${clip(why)}` : ''}`;
      part.logTail = tail;
    }
    switch (s.kind) {
      case 'adapter':
        report.adapter = value as AdapterReport;
        break;
      case 'ops':
        report.opVectors.push(value as OpVectorsRun);
        break;
      case 'kernels':
        report.kernels.push(...(value as KernelResult[]));
        break;
      case 'sam2':
        report.sam2.push(...(value as Sam2BenchResult[]));
        break;
      case 'train-step':
        report.trainStep.push(...(value as TrainStepBenchResult[]));
        break;
    }
  }
  return report;
}

// ---------------------------------------------------------------------------------------------
// Markdown

/** A markdown table; `|` in cells is escaped. */
export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A number with `digits` decimals, or '–' when absent. */
function num(x: number | undefined, digits = 1): string {
  return x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
}

function mib(bytes: number | undefined): string {
  return bytes === undefined ? '–' : (bytes / 2 ** 20).toFixed(0);
}

function adapterName(a: AdapterReport['info']): string {
  return a.description || a.device || a.vendor || 'unknown adapter';
}

const LIMITS_SHOWN = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupsPerDimension', 'maxStorageBuffersPerShaderStage'];

/** The report as a markdown page: machine, adapter, parts, op vectors, then one table per bench. */
export function formatGpuReportMarkdown(r: GpuReport): string {
  const out: string[] = ['# GPU report', ''];
  const a = r.adapter;
  out.push(`Made ${r.createdAt}${a ? ` on **${adapterName(a.info)}**` : ''}.`, '');
  if (a?.software) out.push('> **Software adapter**: this is a CPU implementation of Vulkan, not a GPU; its timings say nothing about GPU speed.', '');

  const sys = Object.entries(r.system);
  if (sys.length) out.push('## Machine', '', ...sys.map(([k, v]) => `- ${k}: ${v}`), '');

  out.push('## Adapter', '');
  if (!a) out.push('No adapter information (the adapter part did not end ok; see Parts).', '');
  else {
    out.push(
      `- ${adapterName(a.info)}: vendor \`${a.info.vendor}\`, architecture \`${a.info.architecture}\`, device \`${a.info.device}\`${a.info.isFallbackAdapter ? ', fallback adapter' : ''}`,
      `- node ${a.node}${a.dawn ? `, Dawn (webgpu) ${a.dawn}` : ''}; matmul kernel ${a.matmul.kernel} ${JSON.stringify(a.matmul.tile)}`,
      `- device features used: shader-f16 ${a.device.features.shaderF16 ? 'yes' : 'no'}, subgroups ${a.device.features.subgroups ? 'yes' : 'no'}, timestamp-query ${a.device.features.timestampQuery ? 'yes' : 'no'}`,
      `- limits: ${LIMITS_SHOWN.filter((k) => a.limits[k] !== undefined).map((k) => `${k} ${a.limits[k]}`).join(', ')}`,
      '',
    );
  }

  out.push('## Parts', '');
  out.push(
    markdownTable(
      ['part', 'outcome', 'seconds', 'limit s', 'command', 'note'],
      r.parts.map((p) => [p.name, p.outcome, p.seconds === undefined ? '–' : String(p.seconds), p.timeoutS === undefined ? '–' : String(p.timeoutS), `\`${p.command}\``, p.note ?? '']),
    ),
    '',
  );

  if (r.opVectors.length) {
    out.push('## Op vectors', '');
    for (const o of r.opVectors) {
      out.push(`${o.passed} passed, ${o.failed} failed (${o.cases.length} cases${o.filter ? `, filter \`${o.filter}\`` : ''}; GPU bytes left live: ${o.liveBytes}).`, '');
      const bad = o.cases.filter((c) => !c.passed);
      if (bad.length) {
        out.push(
          markdownTable(
            ['case', 'op', 'forward err (scale)', 'grad errs', 'error'],
            bad.map((c) => [`${c.key} ${c.name}`, c.op, c.forward ? `${c.forward.err.toExponential(2)} (${c.forward.scale.toPrecision(3)})` : '–', c.grads.map((g) => `${g.input}: ${g.err.toExponential(2)}`).join(', ') || '–', c.error ?? '']),
          ),
          '',
        );
      }
    }
  }

  if (r.kernels.length) {
    out.push('## Kernels (`bench kernels`)', '');
    const rows = r.kernels.filter((k) => k.ratio === undefined);
    out.push(
      markdownTable(
        ['id', 'shape', 'median ms', 'min ms', 'rate', 'runs', 'first ms', 'note'],
        rows.map((k) => [
          k.id,
          k.shape,
          num(k.ms, 3),
          num(k.minMs, 3),
          k.gflops !== undefined ? `${num(k.gflops)} GFLOP/s` : k.gbps !== undefined ? `${num(k.gbps)} GB/s` : '–',
          k.runs === undefined ? '–' : String(k.runs),
          num(k.firstMs, 0),
          k.skipped ?? '',
        ]),
      ),
      '',
    );
    for (const k of r.kernels.filter((k) => k.ratio !== undefined)) out.push(`${k.name}: **${k.ratio}×** (fastest runs: ${k.ratioMin}×).`, '');
  }

  if (r.sam2.length) {
    out.push('## SAM 2 image path (`bench sam2`)', '');
    out.push(
      markdownTable(
        ['size', 'dtype', 'image px', 'params (M)', 'load ms', 'encoder ms / image', 'first pass ms', 'decoder ms / prompt', 'predict ms', 'peak MiB', 'note'],
        r.sam2.map((s) => [
          s.size,
          s.dtype,
          s.imageSize ? String(s.imageSize) : '–',
          s.parameters === undefined ? '–' : (s.parameters / 1e6).toFixed(1),
          num(s.loadMs, 0),
          `${num(s.encoderMs)}${s.encoderRuns !== undefined ? ` (${s.encoderSingleRun ? 'single run' : `median of ${s.encoderRuns}`})` : ''}`,
          num(s.encoderFirstMs, 0),
          num(s.decoderMs, 2),
          num(s.predictMs, 1),
          mib(s.peakBytes),
          s.skipped ?? '',
        ]),
      ),
      '',
    );
  }

  if (r.trainStep.length) {
    out.push('## RP-SAM2 training step (`bench train-step`)', '');
    out.push(
      markdownTable(
        ['size', 'SAM 2', 'loss', 'step ms', 'clicks/s', 'shift fwd', 'shift bwd', 'decoder fwd', 'decoder bwd', 'Adam', 'first step ms', 'note'],
        r.trainStep.map((t) => [
          t.size,
          t.sam2 ? `${t.sam2} (${t.imageSize} px)` : '–',
          t.loss || '–',
          num(t.stepMs),
          num(t.clicksPerSec),
          num(t.shiftFwdMs),
          num(t.shiftBwdMs),
          num(t.decoderFwdMs),
          num(t.decoderBwdMs),
          num(t.optimizerMs),
          num(t.firstStepMs, 0),
          t.skipped ?? '',
        ]),
      ),
      '',
    );
  }

  const troubled = r.parts.filter((p) => p.logTail?.length);
  if (troubled.length) {
    out.push('## Logs of parts that did not end ok', '');
    for (const p of troubled) out.push(`### ${p.name} (${p.outcome})`, '', '```', ...p.logTail!, '```', '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
