/** The GPU report's builder: parsing the parts `scripts/gpu-report.sh run` leaves, outcomes, markdown. No GPU work. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isSoftwareAdapter, parseAdapterArgs, type AdapterReport } from '../src/gpu-report/adapter.js';
import { parseGpuReportArgs, readParts } from '../src/gpu-report/command.js';
import {
  buildGpuReport,
  extractJson,
  formatGpuReportMarkdown,
  markdownTable,
  parsePartStatus,
  parseSystemText,
  type PartInput,
  type PartStatus,
} from '../src/gpu-report/report.js';

const ADAPTER: AdapterReport = {
  info: { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H100 80GB HBM3', isFallbackAdapter: false },
  software: false,
  features: ['shader-f16', 'subgroups', 'timestamp-query'],
  limits: { maxStorageBufferBindingSize: 4294967292, maxBufferSize: 4294967296 },
  device: {
    adapter: { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H100 80GB HBM3' },
    limits: {
      maxStorageBufferBindingSize: 4294967292,
      maxBufferSize: 4294967296,
      maxComputeWorkgroupStorageSize: 49152,
      maxComputeInvocationsPerWorkgroup: 1024,
      maxComputeWorkgroupsPerDimension: 65535,
      maxStorageBuffersPerShaderStage: 16,
      minUniformBufferOffsetAlignment: 256,
    },
    features: { shaderF16: true, subgroups: true, timestampQuery: true },
  },
  matmul: { kernel: 'subgroup', tile: { rows: 16 } },
  node: 'v20.20.2',
  dawn: '0.6.2',
};

const KERNELS = [
  { id: 'matmul-1024', name: 'matmul', shape: 'M=1024 K=1024 N=1024', adapter: 'H100', ms: 0.5, minMs: 0.45, firstMs: 30, runs: 5, gflops: 4294.967 },
  { id: 'layernorm-4096x256', name: 'layer norm', shape: '[4096,256]', adapter: 'H100', ms: 0.02, minMs: 0.02, firstMs: 3, runs: 5, gbps: 419.4 },
  { id: 'matmul-1024-vs-baseline', name: 'library / baseline speed at 1024³ (baseline ms ÷ library ms)', shape: 'M=1024 K=1024 N=1024', adapter: 'H100', ratio: 3.2, ratioMin: 3.1 },
];
const SAM2_T = [
  { id: 'sam2-t', size: 't', config: 'sam2.1-t', imageSize: 1024, weights: 'random', dtype: 'f32', adapter: 'H100', parameters: 38_945_986, loadMs: 900, encoderMs: 41.2, encoderRuns: 1, encoderFirstMs: 2500, encoderSingleRun: false, peakBytes: 800 * 2 ** 20, weightBytes: 1, decoderMs: 3.25, predictMs: 9.1, decoderRuns: 3 },
];
const TRAIN = [
  { id: 'train-step-paper', size: 'paper', sam2: 'sam2.1-t', imageSize: 1024, sam2Weights: 'random', shiftBlockWeights: 'random', shiftBlockParameters: 10_522_628, loss: 'Dice+Dist+Out', objects: 4, clicksPerObject: 10, decodeChunkClicks: 40, adapter: 'H100', stepMs: 85.3, shiftFwdMs: 10, shiftBwdMs: 20, decoderFwdMs: 25, decoderBwdMs: 28, optimizerMs: 2.3, clicksPerSec: 468.9, firstStepMs: 4000, runs: 1 },
];
const OPS = {
  adapter: 'H100',
  dir: '.device/fixtures/ops',
  passed: 1,
  failed: 1,
  liveBytes: 0,
  cases: [
    { key: 'c0', name: 'add broadcast', op: 'add', passed: true, forward: { err: 1e-7, scale: 2 }, grads: [{ input: 0, err: 1e-8 }], ms: 3 },
    { key: 'c1', name: 'conv2d | stride 2', op: 'conv2d', passed: false, forward: { err: 0.5, scale: 1 }, grads: [], ms: 4 },
  ],
};

function part(name: string, status: Omit<PartStatus, 'command'> & { command?: string }, stdout = '', log = ''): PartInput {
  return { name, status: { command: `bench ${name} --json`, ...status } as PartStatus, stdout, log };
}

const json = (v: unknown) => JSON.stringify(v, null, 2);

describe('gpu report: parsing', () => {
  it('reads status files and says what is wrong with a bad one', () => {
    expect(parsePartStatus('{"index":2,"kind":"sam2","command":"bench sam2","exit":0,"seconds":3.5,"timeoutS":180}', 'a.status')).toEqual({
      index: 2,
      kind: 'sam2',
      command: 'bench sam2',
      exit: 0,
      seconds: 3.5,
      timeoutS: 180,
    });
    expect(parsePartStatus('{"index":0,"kind":"ops","command":"check-ops","skipped":"budget"}', 'b').skipped).toBe('budget');
    expect(() => parsePartStatus('{"index":0,"kind":"gpu","command":"x","exit":0}', 'c.status')).toThrow(/c\.status: "kind" must be one of adapter, ops, kernels, sam2, train-step, got "gpu"/);
    expect(() => parsePartStatus('{"index":0,"kind":"ops","command":"x"}', 'd.status')).toThrow(/d\.status: needs "exit" \(a number\) or "skipped"/);
    expect(() => parsePartStatus('{index', 'e.status')).toThrow(/e\.status: not JSON/);
  });

  it('parses system lines at the first ": "', () => {
    expect(parseSystemText('gpu: NVIDIA H100, 550.54, 81559 MiB\nnoise\n\nvulkan icd: /usr/share/x.json: y\n')).toEqual({
      gpu: 'NVIDIA H100, 550.54, 81559 MiB',
      'vulkan icd': '/usr/share/x.json: y',
    });
  });

  it('finds the JSON in stdout after a native library line', () => {
    expect(extractJson(' [1, 2]\n')).toEqual([1, 2]);
    expect(extractJson('Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced\n{"a": [1]}\n')).toEqual({ a: [1] });
    expect(() => extractJson('  \n')).toThrow(/no output on stdout/);
    expect(() => extractJson('not json')).toThrow();
  });
});

describe('gpu report: outcomes and tables', () => {
  const parts = [
    // Given out of order: the report follows the run order (index).
    part('kernels', { index: 2, kind: 'kernels', exit: 0, seconds: 20, timeoutS: 150 }, json(KERNELS)),
    part('adapter', { index: 0, kind: 'adapter', exit: 0, seconds: 1, timeoutS: 60 }, `Warning: maxDynamic…\n${json(ADAPTER)}`),
    part('ops', { index: 1, kind: 'ops', exit: 1, seconds: 12, timeoutS: 120 }, JSON.stringify(OPS), 'adapter: H100; 2 cases\nPASS c0\nFAIL c1\n1 passed, 1 failed\n'),
    part('sam2-t-f32', { index: 3, kind: 'sam2', exit: 0, seconds: 30, timeoutS: 180 }, json(SAM2_T)),
    part('sam2-l-f32', { index: 4, kind: 'sam2', exit: 124, seconds: 180, timeoutS: 180 }, '', 'sam2-l: loaded 224,446,898 parameters\n'),
    part('train-step-paper', { index: 5, kind: 'train-step', exit: 0, seconds: 40, timeoutS: 150 }, json(TRAIN)),
    part('sam2-t-f16', { index: 6, kind: 'sam2', exit: 1, seconds: 2, timeoutS: 180 }, 'oops', 'Error: device lost\n'),
    part('sam2-l-f16', { index: 7, kind: 'sam2', skipped: 'the time budget (GPU_REPORT_BUDGET_S=420) was spent' }),
  ];
  const report = buildGpuReport(parts, { gpu: 'NVIDIA H100 80GB HBM3, 550.54, 81559 MiB' }, '2026-12-06T12:00:00.000Z');

  it('marks each part ok, errors, timed-out, failed or skipped and keeps the results that parsed', () => {
    expect(report.schema).toBe('rpsam2-gpu-report/1');
    expect(report.parts.map((p) => [p.name, p.outcome])).toEqual([
      ['adapter', 'ok'],
      ['ops', 'errors'],
      ['kernels', 'ok'],
      ['sam2-t-f32', 'ok'],
      ['sam2-l-f32', 'timed-out'],
      ['train-step-paper', 'ok'],
      ['sam2-t-f16', 'failed'],
      ['sam2-l-f16', 'skipped'],
    ]);
    const byName = Object.fromEntries(report.parts.map((p) => [p.name, p]));
    expect(byName.ops.note).toBe('exit 1: 1 passed, 1 failed');
    expect(byName['sam2-l-f32'].note).toBe('stopped at its 180 s limit');
    expect(byName['sam2-l-f32'].logTail).toEqual(['sam2-l: loaded 224,446,898 parameters']);
    expect(byName['sam2-t-f16'].note).toMatch(/^exit 1; .*; log: Error: device lost$/);
    expect(byName['sam2-l-f16'].note).toMatch(/time budget/);
    expect(byName.adapter.logTail).toBeUndefined();
    expect(report.adapter?.info.description).toBe('NVIDIA H100 80GB HBM3');
    expect(report.opVectors).toHaveLength(1);
    expect(report.kernels.map((k) => k.id)).toEqual(['matmul-1024', 'layernorm-4096x256', 'matmul-1024-vs-baseline']);
    expect(report.sam2.map((s) => s.id)).toEqual(['sam2-t']);
    expect(report.trainStep[0].stepMs).toBe(85.3);
  });

  it('refuses output of the wrong shape for its kind', () => {
    const r = buildGpuReport([part('kernels', { index: 0, kind: 'kernels', exit: 0 }, '{"id":"x"}'), part('ops', { index: 1, kind: 'ops', exit: 0 }, '[]')], {});
    expect(r.parts.map((p) => p.outcome)).toEqual(['failed', 'failed']);
    expect(r.parts[0].note).toMatch(/expected `bench kernels --json` output: a JSON array/);
    expect(r.parts[1].note).toMatch(/expected `check-ops --json` output/);
    expect(r.kernels).toEqual([]);
  });

  it('writes the markdown: machine, adapter, parts, failing op vectors, one table per bench, logs', () => {
    const md = formatGpuReportMarkdown(report);
    expect(md).toMatch(/^# GPU report\n\nMade 2026-12-06T12:00:00.000Z on \*\*NVIDIA H100 80GB HBM3\*\*\./);
    expect(md).not.toMatch(/Software adapter/);
    expect(md).toContain('- gpu: NVIDIA H100 80GB HBM3, 550.54, 81559 MiB');
    expect(md).toContain('shader-f16 yes');
    expect(md).toContain('| sam2-l-f32 | timed-out | 180 | 180 | `bench sam2-l-f32 --json` | stopped at its 180 s limit |');
    expect(md).toContain('1 passed, 1 failed (2 cases; GPU bytes left live: 0).');
    // The failing case only, its `|` escaped.
    expect(md).toContain('| c1 conv2d \\| stride 2 | conv2d | 5.00e-1 (1.00) | – |  |');
    expect(md).not.toContain('c0 add broadcast');
    expect(md).toContain('| matmul-1024 | M=1024 K=1024 N=1024 | 0.500 | 0.450 | 4295.0 GFLOP/s | 5 | 30 |  |');
    expect(md).toContain('| layernorm-4096x256 | [4096,256] | 0.020 | 0.020 | 419.4 GB/s |');
    expect(md).toContain('library / baseline speed at 1024³ (baseline ms ÷ library ms): **3.2×** (fastest runs: 3.1×).');
    expect(md).toContain('| t | f32 | 1024 | 38.9 | 900 | 41.2 (median of 1) | 2500 | 3.25 | 9.1 | 800 |  |');
    expect(md).toContain('| paper | sam2.1-t (1024 px) | Dice+Dist+Out | 85.3 | 468.9 | 10.0 | 20.0 | 25.0 | 28.0 | 2.3 | 4000 |  |');
    expect(md).toContain('### sam2-l-f32 (timed-out)\n\n```\nsam2-l: loaded 224,446,898 parameters\n```');
    expect(md.endsWith('```\n')).toBe(true);
  });

  it('says so when the adapter is a software one or missing', () => {
    const soft = buildGpuReport([part('adapter', { index: 0, kind: 'adapter', exit: 3 }, json({ ...ADAPTER, software: true }), "bench adapter: 'llvmpipe' is a software (CPU) adapter\n")], {});
    expect(soft.parts[0].outcome).toBe('errors');
    expect(formatGpuReportMarkdown(soft)).toContain('> **Software adapter**');
    const none = buildGpuReport([part('adapter', { index: 0, kind: 'adapter', exit: 2 }, '', 'bench adapter: requestAdapter() returned null\n')], {});
    expect(none.adapter).toBeNull();
    expect(formatGpuReportMarkdown(none)).toContain('No adapter information');
  });

  it('escapes table cells', () => {
    expect(markdownTable(['a', 'b'], [['x|y', 'line\nbreak']])).toBe('| a | b |\n| --- | --- |\n| x\\|y | line break |');
  });
});

describe('gpu report: folder and flags', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('reads <name>.status with its .json and .log, missing ones as empty', () => {
    dir = mkdtempSync(join(tmpdir(), 'gpu-report-'));
    writeFileSync(join(dir, 'kernels.status'), '{"index":1,"kind":"kernels","command":"bench kernels --json","exit":0}');
    writeFileSync(join(dir, 'kernels.json'), json(KERNELS));
    writeFileSync(join(dir, 'ops.status'), '{"index":0,"kind":"ops","command":"check-ops","skipped":"software adapter"}');
    writeFileSync(join(dir, 'system.txt'), 'gpu: none\n');
    const parts = readParts(dir).sort((a, b) => a.name.localeCompare(b.name));
    expect(parts.map((p) => [p.name, p.status.kind, p.stdout.length > 0, p.log])).toEqual([
      ['kernels', 'kernels', true, ''],
      ['ops', 'ops', false, ''],
    ]);
  });

  it('parses its flags', () => {
    expect(parseGpuReportArgs(['parts'])).toMatchObject({ partsDir: 'parts', out: 'parts' });
    expect(parseGpuReportArgs(['parts', '--out', 'o'])).toMatchObject({ partsDir: 'parts', out: 'o' });
    expect(() => parseGpuReportArgs([])).toThrow(/needs exactly one <parts-dir>/);
    expect(() => parseGpuReportArgs(['p', '--quick'])).toThrow(/unknown flag --quick/);
    expect(parseAdapterArgs(['--json', '--require-gpu'])).toMatchObject({ json: true, requireGpu: true });
  });

  it('tells a software adapter from a GPU', () => {
    expect(isSoftwareAdapter(ADAPTER.info)).toBe(false);
    expect(isSoftwareAdapter({ vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15', description: 'llvmpipe: Mesa 25.0.7' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'google', architecture: '', device: '', description: 'SwiftShader Device (Subzero)' })).toBe(true);
    expect(isSoftwareAdapter({ ...ADAPTER.info, isFallbackAdapter: true })).toBe(true);
  });
});
