import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bytesSource, SafetensorsFile, TorchCheckpoint } from '@rpsam2/tensor';
import { fileSource } from '@rpsam2/tensor/node';
import { presetConfig } from '../src/config.js';
import { Sam2Model } from '../src/model/sam2-model.js';
import { checkWeights, loadSam2, Sam2WeightsError } from '../src/weights/load.js';
import { detectPrefix, inferSize, openWeights } from '../src/weights/source.js';
import { editedSource, fixtureConfig, fixtureDir, FIXTURES, sameBits, shapesOnlySource } from './support.js';

const dir = fixtureDir('tiny256');
const cfg = fixtureConfig('tiny256');

async function paramData(model: Sam2Model): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, slot] of model.namedParams()) out.set(name, await slot.get(name).data());
  return out;
}

describe('loadSam2: .pt and safetensors', () => {
  it('tiny256 weights.pt loads bit-identical parameters to weights.safetensors', async () => {
    const a = await loadSam2({ config: cfg, weights: dir + 'weights.pt' });
    const b = await loadSam2({ config: cfg, weights: dir + 'weights.safetensors' });
    try {
      expect(a.report.format).toBe('pt');
      expect(b.report.format).toBe('safetensors');
      expect(a.report.prefix).toBe('');
      expect(a.report.loaded).toBe(a.model.namedParams().length);
      // Official checkpoints carry the video path; it is recognised and skipped, not an error.
      expect(a.report.skippedVideoKeys.length).toBeGreaterThan(0);
      expect(a.report.skippedVideoKeys.some((k) => k.startsWith('memory_attention.'))).toBe(true);
      expect(a.report.unexpected).toEqual([]);
      expect([...a.report.skippedVideoKeys].sort()).toEqual([...b.report.skippedVideoKeys].sort());
      const pa = await paramData(a.model);
      const pb = await paramData(b.model);
      expect([...pa.keys()]).toEqual([...pb.keys()]);
      const differing = [...pa.keys()].filter((k) => !sameBits(pa.get(k)!, pb.get(k)!));
      expect(differing).toEqual([]);
      // And both equal the file's values, read independently.
      const st = await SafetensorsFile.open(fileSource(dir + 'weights.safetensors'));
      for (const k of ['image_encoder.trunk.pos_embed', 'sam_mask_decoder.iou_token.weight', 'image_encoder.neck.convs.0.conv.weight']) {
        expect(sameBits(pa.get(k)!, await st.readF32(k))).toBe(true);
      }
    } finally {
      a.model.dispose();
      b.model.dispose();
    }
  });

  it('reads a ByteSource (sniffed by content, not name) and an open reader', async () => {
    const bytes = new Uint8Array(readFileSync(dir + 'weights.pt'));
    const opened = await openWeights(bytesSource(bytes, 'weights.bin'));
    expect(opened.format).toBe('pt');
    expect(opened.source).toBeInstanceOf(TorchCheckpoint);
    const reader = await SafetensorsFile.open(fileSource(dir + 'weights.safetensors'));
    const r = await loadSam2({ config: cfg, weights: reader });
    expect(r.report.format).toBe('safetensors');
    r.model.dispose();
  });

  it('finds a key prefix and infers the official size from shapes', () => {
    const manifest = JSON.parse(readFileSync(FIXTURES + 'manifest-sam2.1.json', 'utf8'));
    for (const [size, name] of [['t', 'sam2.1_hiera_t'], ['s', 'sam2.1_hiera_s'], ['b+', 'sam2.1_hiera_b+'], ['l', 'sam2.1_hiera_l']]) {
      const src = shapesOnlySource(manifest[name].tensors, name);
      expect(detectPrefix(src.keys())).toBe('');
      expect(inferSize(src, '')).toBe(size);
      const check = checkWeights(new Sam2Model(presetConfig(size)), src, '');
      expect(check.missing).toEqual([]);
      expect(check.mismatched).toEqual([]);
      expect(check.unexpected).toEqual([]);
      expect(check.video.length).toBeGreaterThan(0);
      const prefixed = editedSource(src, { rename: (k) => `model.${k}` });
      expect(detectPrefix(prefixed.keys())).toBe('model.');
      expect(inferSize(prefixed, 'model.')).toBe(size);
    }
    // The fixture's tiny trunk is no official size.
    expect(inferSize(shapesOnlySource({ 'image_encoder.trunk.patch_embed.proj.weight': [16, 3, 7, 7] }), '')).toBeNull();
  });

  it('loads prefixed keys (e.g. an export under "sam2.")', async () => {
    const base = await SafetensorsFile.open(fileSource(dir + 'weights.safetensors'));
    const src = editedSource(base, { rename: (k) => `sam2.${k}` });
    const { model, report } = await loadSam2({ config: cfg, weights: src });
    expect(report.prefix).toBe('sam2.');
    expect(report.format).toBe('reader');
    model.dispose();
  });

  it('a corrupted key set is an error that names every offending key, and nothing leaks', async () => {
    const base = await SafetensorsFile.open(fileSource(dir + 'weights.safetensors'));
    const src = editedSource(base, {
      rename: (k) => (k === 'sam_mask_decoder.iou_token.weight' ? null : k === 'no_mem_embed' ? 'no_mem_embedding' : k),
      add: { 'image_encoder.trunk.extra_scale': [16] },
      shape: { 'image_encoder.neck.convs.0.conv.bias': [31] },
    });
    const err = await loadSam2({ config: cfg, weights: src }).then(
      () => null,
      (e) => e,
    );
    expect(err).toBeInstanceOf(Sam2WeightsError);
    const e = err as Sam2WeightsError;
    expect(e.missing.sort()).toEqual(['no_mem_embed', 'sam_mask_decoder.iou_token.weight']);
    expect(e.unexpected.sort()).toEqual(['image_encoder.trunk.extra_scale', 'no_mem_embedding']);
    expect(e.mismatched).toEqual(['image_encoder.neck.convs.0.conv.bias: file has [31], model expects [32]']);
    for (const k of ['no_mem_embed', 'sam_mask_decoder.iou_token.weight', 'no_mem_embedding', 'image_encoder.trunk.extra_scale', 'image_encoder.neck.convs.0.conv.bias']) {
      expect(e.message).toContain(k);
    }
    expect(e.message).toMatch(/missing keys \(2\)/);
  });

  it('strict: false reports unknown keys instead of failing; a wrong size names the likely one', async () => {
    const base = await SafetensorsFile.open(fileSource(dir + 'weights.safetensors'));
    const src = editedSource(base, { add: { 'some_adapter.weight': [4] } });
    const { model, report } = await loadSam2({ config: cfg, weights: src, strict: false });
    expect(report.unexpected).toEqual(['some_adapter.weight']);
    model.dispose();
    const manifest = JSON.parse(readFileSync(FIXTURES + 'manifest-sam2.1.json', 'utf8'));
    const tShapes = shapesOnlySource(manifest['sam2.1_hiera_t'].tensors, 'hiera_t');
    await expect(loadSam2({ size: 's', weights: tShapes })).rejects.toThrow(/looks like size 't'[\s\S]*missing keys/);
  });

  it('rejects bad options and non-weight files clearly', async () => {
    await expect(loadSam2({ config: cfg, weights: dir + 'weights.pt', dtype: 'bf16' as 'f16' })).rejects.toThrow(/dtype must be 'f32' or 'f16'/);
    await expect(loadSam2({ weights: dir + 'weights.pt' })).rejects.toThrow(/does not match an official size/);
    await expect(loadSam2({ config: cfg, weights: dir + 'meta.json' })).rejects.toThrow(/meta\.json/);
    await expect(loadSam2({ config: cfg, weights: dir + 'no-such-file.pt' })).rejects.toThrow(/no-such-file\.pt.*ENOENT/);
  });
});
