import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { f16BitsToF32, f32ToF16Bits, SafetensorsFile, serializeSafetensors, TorchCheckpoint, type SafetensorsTensorData } from '@rpsam2/tensor';
import { fileSource } from '@rpsam2/tensor/node';
import { convertToSafetensors } from '../src/weights/convert.js';
import { convertWeightsFile, verifyConversion } from '../src/weights/convert-file.js';
import { loadSam2 } from '../src/weights/load.js';
import { isVideoOnlyKey } from '../src/model/sam2-model.js';
import { editedSource, fixtureConfig, fixtureDir, sameBits } from './support.js';

const dir = fixtureDir('tiny256');
const pt = dir + 'weights.pt';
const cfg = fixtureConfig('tiny256');
const work = mkdtempSync(join(tmpdir(), 'sam2-convert-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('convert .pt → safetensors', () => {
  it('produces the same bytes as serializeSafetensors for the same tensors', async () => {
    const ckpt = await TorchCheckpoint.open(fileSource(pt));
    const ours = await convertToSafetensors(ckpt, { metadata: { note: 'x' } });
    const tensors: Record<string, SafetensorsTensorData> = {};
    for (const k of ckpt.keys()) tensors[k] = { dtype: 'F32', shape: ckpt.entry(k).shape, data: await ckpt.readF32(k) };
    const ref = serializeSafetensors(tensors, { format: 'pt', note: 'x' });
    expect(ours.byteLength).toBe(ref.byteLength);
    expect(Buffer.from(ours).equals(Buffer.from(ref))).toBe(true);
  });

  it('f32: the converted file loads with bit-identical parameters and verifies', async () => {
    const out = join(work, 'tiny-f32.safetensors');
    const r = await convertWeightsFile(pt, out);
    expect(r.inputFormat).toBe('pt');
    expect(r.bytes).toBe(readFileSync(out).byteLength);
    const v = await verifyConversion(pt, out);
    expect(v.differing).toEqual([]);
    const a = await loadSam2({ config: cfg, weights: pt });
    const b = await loadSam2({ config: cfg, weights: out });
    try {
      expect(b.report.format).toBe('safetensors');
      for (const [name, slot] of a.model.namedParams()) {
        const other = b.model.namedParams().find(([n]) => n === name)![1];
        expect(sameBits(await slot.get().data(), await other.get().data()), name).toBe(true);
      }
    } finally {
      a.model.dispose();
      b.model.dispose();
    }
  });

  it('f16 (+ image only): F16 tensors equal to the rounded source; loads and matches', async () => {
    const out = join(work, 'tiny-f16.safetensors');
    const r = await convertWeightsFile(pt, out, { dtype: 'f16', imageOnly: true });
    const st = await SafetensorsFile.open(fileSource(out));
    const ckpt = await TorchCheckpoint.open(fileSource(pt));
    expect(st.keys().every((k) => st.entry(k).dtype === 'F16')).toBe(true);
    expect(st.keys().some(isVideoOnlyKey)).toBe(false);
    expect(r.tensors).toBe(ckpt.keys().filter((k) => !isVideoOnlyKey(k)).length);
    expect(st.metadata.format).toBe('pt');
    expect(st.metadata.source_format).toBe('pt');
    expect((await verifyConversion(pt, out, { dtype: 'f16', imageOnly: true })).differing).toEqual([]);
    const key = 'image_encoder.trunk.blocks.0.attn.qkv.weight';
    const src = await ckpt.readF32(key);
    const got = await st.readF32(key);
    expect(sameBits(got, Float32Array.from(src, (v) => f16BitsToF32(f32ToF16Bits(v))))).toBe(true);
    // The f16 file loads; with dtype f16 the GPU copy of an f16-capable weight is those same halves.
    const { model, report } = await loadSam2({ config: cfg, weights: out, dtype: 'f16' });
    try {
      expect(report.skippedVideoKeys).toEqual([]);
      const slot = model.imageEncoder.trunk.blocks[0].attn.qkv.weight;
      expect(slot.get().dtype).toBe('f16');
      expect(sameBits(await slot.get().data(), got)).toBe(true);
    } finally {
      model.dispose();
    }
  });

  it('is atomic: a failing conversion leaves an existing output untouched and no temp file', async () => {
    const out = join(work, 'existing.safetensors');
    writeFileSync(out, 'OLD CONTENT');
    const ckpt = await TorchCheckpoint.open(fileSource(pt));
    let reads = 0;
    const failing = {
      ...editedSource(ckpt, {}),
      readF32: async (k: string) => {
        if (++reads === 20) throw new Error('disk on fire');
        return ckpt.readF32(k);
      },
    };
    await expect(convertWeightsFile(failing, out)).rejects.toThrow(/existing\.safetensors: not written.*disk on fire/);
    expect(readFileSync(out, 'utf8')).toBe('OLD CONTENT');
    expect(readdirSync(work).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // A successful run replaces it whole.
    await convertWeightsFile(pt, out);
    expect((await SafetensorsFile.open(fileSource(out))).keys().length).toBe(ckpt.keys().length);
  });

  it('refuses to overwrite its input and reports unwritable outputs', async () => {
    const copy = join(work, 'copy.safetensors');
    await convertWeightsFile(pt, copy);
    await expect(convertWeightsFile(copy, copy)).rejects.toThrow(/is the input file/);
    await expect(convertWeightsFile(pt, join(work, 'no-such-dir', 'x.safetensors'))).rejects.toThrow(/x\.safetensors: not written \(ENOENT/);
  });
});
