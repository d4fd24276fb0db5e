/** `bench peers`' pure parts: flags, the result of two timings, the JSON shape, the missing-peer message. No timing. */
import { describe, expect, it } from 'vitest';
import { formatPeersTable, parsePeersArgs, peerResult, peersCommand, type PeerResult } from '../src/peers/command.js';
import { INSTALL_PEER, loadOnnxRuntime, ortVersion, PeerUnavailableError, type OrtModule } from '../src/peers/onnxruntime.js';
import { summarise, timeInterleaved, type TimedRun } from '../src/timing.js';

const meta = { adapter: 'test adapter', peer: 'onnxruntime-node 1.23.2 (cpu)' };
const c = { id: 'matmul-1024', name: 'f32 matmul', shape: '[1024,1024]·[1024,1024]' };

/** A stand-in for onnxruntime-node with just what loadOnnxRuntime looks at. */
const fakeOrt = { InferenceSession: { create: async () => ({}) }, Tensor: class {}, env: { versions: { node: '1.23.2' } } } as unknown as OrtModule;

function moduleNotFound(): Error {
  return Object.assign(new Error("Cannot find package 'onnxruntime-node' imported from /x/cli.js"), { code: 'ERR_MODULE_NOT_FOUND' });
}

describe('bench peers flags', () => {
  it('takes the common flags and refuses arguments', () => {
    expect(parsePeersArgs([])).toMatchObject({ json: false, quick: false, rest: [] });
    expect(parsePeersArgs(['--json', '--quick', '--repeat', '3', '--only', 'decoder'])).toMatchObject({ json: true, quick: true, repeat: 3, only: 'decoder' });
    expect(() => parsePeersArgs(['tiny1024'])).toThrow(/takes no arguments, got 'tiny1024'/);
    expect(() => parsePeersArgs(['--repeat', '0'])).toThrow(/--repeat needs a positive integer/);
    expect(() => parsePeersArgs(['--threads', '4'])).toThrow(/unknown flag --threads/);
  });
});

describe('bench peers results', () => {
  it('reports medians, mins and ratio = ours ÷ onnxruntime of the medians', () => {
    const ours = summarise([30, 10, 20, 40], 500);
    const peer = summarise([4, 6, 5, 100], 9);
    const r = peerResult(c, ours, peer, meta);
    expect(r).toMatchObject({ id: 'matmul-1024', oursMs: 25, peerMs: 5.5, ratio: 4.545, oursMinMs: 10, peerMinMs: 4, ratioMin: 2.5, oursFirstMs: 500, peerFirstMs: 9, runs: 4 });
  });

  it('prints a JSON array of {id, oursMs, peerMs, ratio} (more fields allowed), null numbers for a case that did not run', () => {
    const ran = peerResult(c, summarise([2], 2), summarise([1], 1), meta);
    const skipped: PeerResult = { id: 'decoder-d256', name: 'd', shape: 's', oursMs: null, peerMs: null, ratio: null, ...meta, skipped: 'missing x.onnx' };
    const parsed = JSON.parse(JSON.stringify([ran, skipped]));
    expect(Array.isArray(parsed)).toBe(true);
    for (const e of parsed) expect(Object.keys(e)).toEqual(expect.arrayContaining(['id', 'oursMs', 'peerMs', 'ratio']));
    expect(parsed[0]).toMatchObject({ id: 'matmul-1024', oursMs: 2, peerMs: 1, ratio: 2 });
    expect(parsed[1]).toMatchObject({ oursMs: null, peerMs: null, ratio: null });
  });

  it('formats a table with the ratio and each check', () => {
    const ok = { ...peerResult(c, summarise([30], 30), summarise([10], 10), meta), checkOk: true, check: 'rel L2 vs onnxruntime: c 6.0e-7' };
    const bad = { ...peerResult({ ...c, id: 'tiny1024-encoder' }, summarise([5], 5), summarise([10], 10), meta), checkOk: false, check: 'embed 1.0e+0' };
    const skipped: PeerResult = { id: 'decoder-d256', name: 'd', shape: 's', oursMs: null, peerMs: null, ratio: null, ...meta, skipped: 'failed: boom' };
    const table = formatPeersTable([ok, bad, skipped]);
    expect(table).toMatch(/^case\s+ours ms \(min\)\s+onnxruntime ms \(min\)\s+ratio \(of mins\)\s+runs$/m);
    expect(table).toMatch(/^matmul-1024\s+30\.0 \(30\.0\)\s+10\.0 \(10\.0\)\s+3\.00× \(3\.00×\)\s+1$/m);
    expect(table).toMatch(/^tiny1024-encoder .*0\.50×/m);
    expect(table).toMatch(/^decoder-d256\s+—\s+—\s+—\s+skipped$/m);
    expect(table).toContain('matmul-1024: ok — rel L2 vs onnxruntime: c 6.0e-7');
    expect(table).toContain('tiny1024-encoder: CHECK FAILED — embed 1.0e+0');
    expect(table).toContain('decoder-d256: failed: boom');
  });
});

describe('round-robin timing', () => {
  it('alternates the runs after one warm-up each and summarises each side', async () => {
    const order: string[] = [];
    const run = (name: string, ms: number[]): TimedRun => {
      let i = 0;
      return async () => {
        order.push(name);
        return ms[i++];
      };
    };
    const [a, b] = await timeInterleaved([run('ours', [100, 3, 1, 2]), run('peer', [50, 1, 1, 1])], { repeats: 3, warmup: 1 });
    expect(order).toEqual(['ours', 'peer', 'ours', 'peer', 'ours', 'peer', 'ours', 'peer']);
    expect(a).toMatchObject({ medianMs: 2, minMs: 1, firstMs: 100, runsMs: [3, 1, 2] });
    expect(b).toMatchObject({ medianMs: 1, firstMs: 50 });
  });
});

describe('loading onnxruntime-node', () => {
  it('names the install command when the package is missing', async () => {
    const err = await loadOnnxRuntime(() => Promise.reject(moduleNotFound())).catch((e) => e);
    expect(err).toBeInstanceOf(PeerUnavailableError);
    expect(err.message).toBe(`onnxruntime-node is not installed; install it with: ${INSTALL_PEER}`);
  });

  it('says why when the package is there but does not load', async () => {
    const err = await loadOnnxRuntime(() => Promise.reject(new Error('libonnxruntime.so.1: cannot open shared object file\n    at stack'))).catch((e) => e);
    expect(err).toBeInstanceOf(PeerUnavailableError);
    expect(err.message).toBe(`onnxruntime-node did not load (libonnxruntime.so.1: cannot open shared object file); install it with: ${INSTALL_PEER}`);
  });

  it('accepts the module or its CommonJS default export and reads its version', async () => {
    expect(await loadOnnxRuntime(async () => fakeOrt)).toBe(fakeOrt);
    expect(await loadOnnxRuntime(async () => ({ default: fakeOrt }))).toBe(fakeOrt);
    expect(ortVersion(fakeOrt)).toBe('1.23.2');
    await expect(loadOnnxRuntime(async () => ({}))).rejects.toThrow(/has no InferenceSession/);
  });

  it('the command prints one line and exits non-zero without it, before starting anything', async () => {
    const lines: string[] = [];
    const code = await peersCommand(parsePeersArgs(['--json']), { loadPeer: () => loadOnnxRuntime(() => Promise.reject(moduleNotFound())), error: (l) => lines.push(l) });
    expect(code).toBe(1);
    expect(lines).toEqual([`bench peers: onnxruntime-node is not installed; install it with: ${INSTALL_PEER}`]);
  });
});
