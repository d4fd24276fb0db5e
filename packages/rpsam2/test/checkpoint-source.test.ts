/**
 * Opening checkpoints from bytes (`openCheckpointSource`, what a browser does with a picked
 * File): a training checkpoint and a plain shift-block file read from bytes give the same
 * config, metadata, weights and optimizer state as from their paths (and as what was saved);
 * files that are not checkpoints fail with a CheckpointFileError naming the label.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Adam, blobSource, bytesSource, serializeSafetensors, tensor, type ByteSource } from '@rpsam2/tensor';
import { parseOfficialConfig } from '@rpsam2/sam2';
import {
  CheckpointFileError,
  loadShiftBlockFrom,
  openCheckpoint,
  openCheckpointSource,
  restoreOptimizer,
  saveCheckpoint,
  type OpenedCheckpoint,
} from '../src/checkpoint/checkpoint.js';
import { ShiftBlock, type ShiftBlockConfig } from '../src/shift-block/shift-block.js';
import { RpSam2Predictor } from '../src/predictor/rp-sam2-predictor.js';
import { RP_DIR, SAM2_META, SAM2_WEIGHTS, TINY_SHIFT, open } from './helpers/tiny-sam2.js';

/** A small block (2 layers) so the checkpoint round trip stays fast on lavapipe. */
const SMALL: ShiftBlockConfig = { dModel: 8, heads: 2, ffn: 16, layers: 2, tokens: 2, imageTokens: 16, scaleInit: 0.2 };
const FIXTURE = RP_DIR + 'shift_block.safetensors';
const STATE = { epoch: 3, stepInEpoch: 1, globalStep: 7, rngState: 12345, bestValDice: 0.5, bestEpoch: 2 };

/**
 * A file's bytes as a plain Uint8Array, as a browser has them. (Not a Node Buffer: @rpsam2/tensor's
 * toF32 copies F32 data with `bytes.slice().buffer`, and Buffer#slice is a view, so a Buffer's
 * tensors would be read from the wrong offset: a tensor-library bug, reported.)
 */
const fileBytes = (path: string) => new Uint8Array(readFileSync(path));

/** Every parameter of a block, read back from the GPU, by name. */
async function weightsOf(block: ShiftBlock): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, slot] of block.namedParams()) out.set(name, await slot.get(name).data());
  return out;
}

/** Loads the block of `ck` and returns its weights (the block is freed). */
async function loadedWeights(ck: OpenedCheckpoint): Promise<Map<string, Float32Array>> {
  const block = await loadShiftBlockFrom(ck);
  try {
    return await weightsOf(block);
  } finally {
    block.dispose();
  }
}

/** The optimizer state an Adam over a fresh `config` block gets from `ck`, as plain arrays. */
async function restoredState(ck: OpenedCheckpoint, config: ShiftBlockConfig) {
  const block = new ShiftBlock(config).init(0);
  const opt = new Adam(block.namedParams().map(([n, s]) => s.get(n)));
  try {
    await restoreOptimizer(opt, ck);
    return await stateArrays(opt);
  } finally {
    opt.dispose();
    block.dispose();
  }
}

async function stateArrays(opt: Adam): Promise<{ tensors: Record<string, Float32Array>; scalars: Record<string, number> }> {
  const sd = opt.stateDict();
  const tensors: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(sd.tensors)) {
    tensors[k] = await t.data();
    t.dispose();
  }
  return { tensors, scalars: sd.scalars };
}

/** Rejection of `p`, checked to be a CheckpointFileError; returns its message. */
async function fileError(p: Promise<unknown>, label: string): Promise<string> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CheckpointFileError);
  expect((e as CheckpointFileError).label).toBe(label);
  expect((e as Error).message.startsWith(`${label}: `)).toBe(true);
  return (e as Error).message;
}

describe('openCheckpointSource', () => {
  const root = mkdtempSync(join(tmpdir(), 'rpsam2-cksrc-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('a saved training checkpoint from bytes equals the same file by path and what was saved', async () => {
    const block = new ShiftBlock(SMALL).init(5);
    const params = block.namedParams().map(([n, s]) => s.get(n));
    const opt = new Adam(params, { lr: 0.01 });
    let saved: Map<string, Float32Array>;
    let savedState: Awaited<ReturnType<typeof stateArrays>>;
    const path = join(root, 'run', 'checkpoints', 'best.safetensors');
    try {
      // One step with known gradients so the optimizer has state (moments and step counts) to save.
      params.forEach((p, i) => (p.grad = tensor(Float32Array.from({ length: p.size }, (_, j) => Math.sin(i + 0.37 * j)), p.shape)));
      opt.step();
      for (const p of params) {
        p.grad!.dispose();
        p.grad = null;
      }
      await saveCheckpoint(path, { block, optimizer: opt, state: STATE, config: { lr: 0.01 }, kind: 'best', metrics: { dice: 0.5 } });
      saved = await weightsOf(block);
      savedState = await stateArrays(opt);
    } finally {
      opt.dispose();
      block.dispose();
    }
    // The optimizer did take its step: moments for every parameter, step counts of 1.
    expect(Object.keys(savedState.tensors)).toHaveLength(2 * params.length);
    expect(savedState.scalars['state.0.step']).toBe(1);
    const bytes = fileBytes(path);
    const byPath = await openCheckpoint(join(root, 'run'));
    for (const source of [bytesSource(bytes, 'best.safetensors'), blobSource(new Blob([bytes]), 'best.safetensors')]) {
      const ck = await openCheckpointSource(source);
      expect(ck.path).toBe('best.safetensors');
      expect(ck.prefix).toBe('shift_block.');
      expect(ck.shiftBlock).toEqual({ ...SMALL, eps: 1e-5 });
      expect(ck.shiftBlock).toEqual(byPath.shiftBlock);
      expect(ck.meta).toEqual(byPath.meta);
      expect(ck.meta!.kind).toBe('best');
      expect(ck.meta!.state).toEqual(STATE);
      expect(ck.meta!.optimizer!.name).toBe('Adam');
      const w = await loadedWeights(ck);
      expect([...w.keys()].sort()).toEqual([...saved.keys()].sort());
      for (const [name, v] of saved) expect(Array.from(w.get(name)!), name).toEqual(Array.from(v));
      const st = await restoredState(ck, SMALL);
      expect(st.scalars).toEqual(savedState.scalars);
      expect(Object.keys(st.tensors).sort()).toEqual(Object.keys(savedState.tensors).sort());
      for (const [k, v] of Object.entries(savedState.tensors)) expect(Array.from(st.tensors[k]), k).toEqual(Array.from(v));
    }
    // The path variant names the file it resolved to.
    expect(byPath.path).toBe(path);
    const wPath = await loadedWeights(byPath);
    for (const [name, v] of saved) expect(Array.from(wPath.get(name)!), name).toEqual(Array.from(v));
  });

  it('a plain shift-block file from bytes: config from the shapes, the file’s weights, no training state', async () => {
    const bytes = fileBytes(FIXTURE);
    const ck = await openCheckpointSource(bytesSource(bytes, 'shift_block.safetensors'));
    const byPath = await openCheckpoint(FIXTURE);
    expect(ck.meta).toBeNull();
    expect(ck.prefix).toBe('');
    expect(ck.shiftBlock).toEqual(byPath.shiftBlock);
    const { scaleInit: _a, ...inferred } = ck.shiftBlock;
    const { scaleInit: _b, eps: _c, ...want } = TINY_SHIFT;
    expect(inferred).toEqual(want);
    // Weights: exactly the file's tensors (read raw as the reference).
    const raw = await open(FIXTURE);
    const w = await loadedWeights(ck);
    expect([...w.keys()].sort()).toEqual(raw.keys().sort());
    for (const name of raw.keys()) expect(Array.from(w.get(name)!), name).toEqual(Array.from(await raw.readF32(name)));
    // `heads` is not in the shapes: the option sets it.
    expect((await openCheckpointSource(bytesSource(bytes, 'x'), { heads: 4 })).shiftBlock.heads).toBe(4);
    // No training state to resume from; the message names the label.
    const opt = new Adam([tensor(new Float32Array(1), [1])]);
    try {
      await expect(restoreOptimizer(opt, ck)).rejects.toThrow(/^shift_block\.safetensors: holds no optimizer state/);
    } finally {
      opt.params[0].dispose();
      opt.dispose();
    }
  });

  it('a plain file of a pointer-head block loads as one (the head is read from the keys), weights intact', async () => {
    const block = new ShiftBlock({ ...SMALL, head: 'pointer' }).init(6);
    try {
      const want = await weightsOf(block);
      const tensors: Parameters<typeof serializeSafetensors>[0] = {};
      for (const [k, v] of want) tensors[k] = { dtype: 'F32', shape: [...block.namedParams().find(([n]) => n === k)![1].shape], data: v };
      const ck = await openCheckpointSource(bytesSource(serializeSafetensors(tensors), 'pointer.safetensors'));
      expect(ck.shiftBlock).toEqual({ ...SMALL, scaleInit: 0.1, heads: 8, head: 'pointer' });
      const got = await loadedWeights({ ...ck, shiftBlock: { ...ck.shiftBlock, heads: SMALL.heads } });
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [k, v] of want) expect(Array.from(got.get(k)!), k).toEqual(Array.from(v));
    } finally {
      block.dispose();
    }
  });

  it('a plain file with the block under a prefix (a whole-model export) finds the prefix', async () => {
    const raw = await open(FIXTURE);
    const tensors: Parameters<typeof serializeSafetensors>[0] = { 'sam2.image_encoder.x': { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } };
    for (const k of raw.keys()) tensors[`model.shift_block.${k}`] = { dtype: 'F32', shape: raw.entry(k).shape, data: await raw.readF32(k) };
    const ck = await openCheckpointSource(bytesSource(serializeSafetensors(tensors), 'export.safetensors'));
    expect(ck.prefix).toBe('model.shift_block.');
    expect(ck.shiftBlock).toEqual((await openCheckpoint(FIXTURE)).shiftBlock);
    const w = await loadedWeights(ck);
    for (const k of ['p_pos', 'layers.5.linear2.bias', 'scale']) expect(Array.from(w.get(k)!), k).toEqual(Array.from(await raw.readF32(k)));
  });

  it('RpSam2Predictor.load takes the shift block as bytes or as an opened checkpoint', async () => {
    const sam2Config = parseOfficialConfig({ ...SAM2_META.model_config, image_size: SAM2_META.image_size }, 'tiny256');
    const raw = await open(FIXTURE);
    const inputs: (ByteSource | OpenedCheckpoint)[] = [bytesSource(fileBytes(FIXTURE), 'picked.safetensors'), await openCheckpoint(FIXTURE)];
    for (const shiftBlock of inputs) {
      const p = await RpSam2Predictor.load({ sam2Weights: SAM2_WEIGHTS, sam2Config, shiftBlock });
      try {
        expect(p.shiftBlock.config.layers).toBe(TINY_SHIFT.layers);
        const w = await weightsOf(p.shiftBlock);
        for (const k of ['i_pos', 'head.weight']) expect(Array.from(w.get(k)!), k).toEqual(Array.from(await raw.readF32(k)));
      } finally {
        p.dispose();
      }
    }
  });

  it('files that are no checkpoint fail with a CheckpointFileError naming the label', async () => {
    // Not safetensors at all (too short, then a header length past the end).
    let m = await fileError(openCheckpointSource(bytesSource(new TextEncoder().encode('hello'), 'notes.txt')), 'notes.txt');
    expect(m).toMatch(/not a safetensors file/);
    m = await fileError(openCheckpointSource(blobSource(new Blob([new TextEncoder().encode('just some text, no header')]), 'notes2.txt')), 'notes2.txt');
    expect(m).toMatch(/not a safetensors file or truncated/);
    // A truncated file (the data cut short).
    const full = fileBytes(FIXTURE);
    m = await fileError(openCheckpointSource(bytesSource(full.subarray(0, full.length - 100), 'cut.safetensors')), 'cut.safetensors');
    expect(m).toMatch(/truncated/);
    // Safetensors, but no shift block in it (a SAM 2 file).
    const sam = serializeSafetensors({ 'image_encoder.x': { dtype: 'F32', shape: [1], data: new Float32Array(1) } });
    m = await fileError(openCheckpointSource(bytesSource(sam, 'sam.safetensors')), 'sam.safetensors');
    expect(m).toMatch(/^sam\.safetensors: not a shift block file \(no 'p_pos'\)/);
    // p_pos but not the rest.
    const half = serializeSafetensors({ p_pos: { dtype: 'F32', shape: [1, 2, 4], data: new Float32Array(8) } });
    m = await fileError(openCheckpointSource(bytesSource(half, 'half.safetensors')), 'half.safetensors');
    expect(m).toBe("half.safetensors: not a shift block file (no 'i_pos')");
    // Two blocks: which one is meant is not guessed.
    const two = serializeSafetensors({ 'a.p_pos': { dtype: 'F32', shape: [1], data: new Float32Array(1) }, 'b.p_pos': { dtype: 'F32', shape: [1], data: new Float32Array(1) } });
    m = await fileError(openCheckpointSource(bytesSource(two, 'two.safetensors')), 'two.safetensors');
    expect(m).toMatch(/holds 2 shift blocks \('a\.p_pos', 'b\.p_pos'\)/);
    // Checkpoint metadata that is broken, from another version, or without a usable config.
    const pPos = { 'shift_block.p_pos': { dtype: 'F32' as const, shape: [1, 2, 8], data: new Float32Array(16) } };
    const withMeta = (meta: string) => serializeSafetensors(pPos, { format: 'rpsam2-checkpoint', version: '1', meta });
    m = await fileError(openCheckpointSource(bytesSource(withMeta('{oops'), 'bad.safetensors')), 'bad.safetensors');
    expect(m).toMatch(/^bad\.safetensors: checkpoint metadata is not valid JSON/);
    m = await fileError(openCheckpointSource(bytesSource(withMeta(JSON.stringify({ version: 2 })), 'v2.safetensors')), 'v2.safetensors');
    expect(m).toBe('v2.safetensors: checkpoint version 2, this build reads version 1');
    m = await fileError(openCheckpointSource(bytesSource(withMeta(JSON.stringify({ version: 1, shiftBlock: { ...SMALL, ffn: 'x', layers: undefined } })), 'cfg.safetensors')), 'cfg.safetensors');
    expect(m).toMatch(/^cfg\.safetensors: checkpoint metadata's shiftBlock config has no valid ffn, layers/);
    const noBlock = serializeSafetensors({ 'optimizer.x': { dtype: 'F32', shape: [1], data: new Float32Array(1) } }, { format: 'rpsam2-checkpoint', version: '1', meta: JSON.stringify({ version: 1, shiftBlock: SMALL }) });
    m = await fileError(openCheckpointSource(bytesSource(noBlock, 'empty.safetensors')), 'empty.safetensors');
    expect(m).toBe("empty.safetensors: checkpoint holds no shift block (no 'shift_block.p_pos' tensor)");
    // A label given explicitly wins over the source's; the path variant names the path.
    await fileError(openCheckpointSource(bytesSource(sam, 'x'), { label: 'my block' }), 'my block');
    const badPath = join(root, 'notes.safetensors');
    writeFileSync(badPath, 'hello');
    m = await fileError(openCheckpoint(badPath), badPath);
    expect(m).toMatch(/not a safetensors file/);
  });
});

describe('the byte reader stays platform-neutral', () => {
  it('reaches neither node-io.ts nor a node: module through its imports (browsers bundle it)', () => {
    const src = new URL('../src/', import.meta.url).pathname;
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)) {
        const spec = m[1];
        expect(spec.startsWith('node:'), `${file} imports ${spec}`).toBe(false);
        if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      }
    };
    visit(join(src, 'checkpoint/checkpoint-source.ts'));
    expect(seen.has(join(src, 'checkpoint/format.ts'))).toBe(true);
    expect(seen.has(join(src, 'checkpoint/node-io.ts'))).toBe(false);
    // The check does find the Node side when it is reached.
    visit(join(src, 'checkpoint/checkpoint.ts'));
    expect(seen.has(join(src, 'checkpoint/node-io.ts'))).toBe(true);
  });
});
