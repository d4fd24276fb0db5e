/**
 * Model configs for extra rows and --weights: the YAML subset reader, and a SAM 2 config in the
 * official Hydra YAML layout read into the same config as the built-in preset.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presetConfig } from '@rpsam2/sam2';
import { resolveSam2ConfigArg } from '../src/evaluation/sam2-config-file.js';
import { parseYaml } from '../src/evaluation/yaml-lite.js';
import { parseExtra } from '../src/runs/run-args.js';
import { tempDir } from './helpers/fixtures.js';

/** SAM 2.1 Hiera-T in the layout of the official `configs/sam2.1/sam2.1_hiera_t.yaml`. */
const HIERA_T_YAML = `# @package _global_

# Model
model:
  _target_: sam2.modeling.sam2_base.SAM2Base
  image_encoder:
    _target_: sam2.modeling.backbones.image_encoder.ImageEncoder
    scalp: 1
    trunk:
      _target_: sam2.modeling.backbones.hieradet.Hiera
      embed_dim: 96
      num_heads: 1
      stages: [1, 2, 7, 2]
      global_att_blocks: [5, 7, 9]
      window_pos_embed_bkg_spatial_size: [7, 7]
    neck:
      _target_: sam2.modeling.backbones.image_encoder.FpnNeck
      position_encoding:
        _target_: sam2.modeling.position_encoding.PositionEmbeddingSine
        num_pos_feats: 256
        normalize: true
        scale: null
        temperature: 10000
      d_model: 256
      backbone_channel_list: [768, 384, 192, 96]
      fpn_top_down_levels: [2, 3]  # output level 0 and 1 directly use the backbone features
      fpn_interp_model: nearest

  memory_attention:
    _target_: sam2.modeling.memory_attention.MemoryAttention
    d_model: 256
    pos_enc_at_input: true
    layer:
      _target_: sam2.modeling.memory_attention.MemoryAttentionLayer
      activation: relu
      dim_feedforward: 2048
      dropout: 0.1
      self_attention:
        _target_: sam2.modeling.sam.transformer.RoPEAttention
        rope_theta: 10000.0
        feat_sizes: [64, 64]
        embedding_dim: 256
    num_layers: 4

  num_maskmem: 7
  image_size: 1024
  sigmoid_scale_for_mem_enc: 20.0
  sigmoid_bias_for_mem_enc: -10.0
  use_mask_input_as_output_without_sam: true
  directly_add_no_mem_embed: true
  no_obj_embed_spatial: true
  use_high_res_features_in_sam: true
  multimask_output_in_sam: true
  iou_prediction_use_sigmoid: True
  use_obj_ptrs_in_encoder: true
  pred_obj_scores: true
  pred_obj_scores_mlp: true
  sam_mask_decoder_extra_args:
    dynamic_multimask_via_stability: true
    dynamic_multimask_stability_delta: 0.05
    dynamic_multimask_stability_thresh: 0.98
  compile_image_encoder: False
`;

let tmp: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  tmp = await tempDir('model-config');
});
afterAll(async () => {
  await tmp?.cleanup();
});

describe('YAML subset reader', () => {
  it('reads block mappings, flow lists, scalars and comments', () => {
    const v = parseYaml(HIERA_T_YAML) as Record<string, any>;
    const trunk = v.model.image_encoder.trunk;
    expect(trunk).toEqual({
      _target_: 'sam2.modeling.backbones.hieradet.Hiera',
      embed_dim: 96,
      num_heads: 1,
      stages: [1, 2, 7, 2],
      global_att_blocks: [5, 7, 9],
      window_pos_embed_bkg_spatial_size: [7, 7],
    });
    expect(v.model.image_encoder.neck.fpn_top_down_levels).toEqual([2, 3]);
    expect(v.model.image_encoder.neck.position_encoding.scale).toBeNull();
    expect(v.model.iou_prediction_use_sigmoid).toBe(true);
    expect(v.model.compile_image_encoder).toBe(false);
    expect(v.model.sigmoid_bias_for_mem_enc).toBe(-10);
    expect(v.model.memory_attention.layer.self_attention.rope_theta).toBe(10000);
  });

  it('reads sequences, quoted strings and flow mappings', () => {
    expect(
      parseYaml(`a:\n  - 1\n  - 'it''s'\n  - "x\\ty"\n  - k: v\n    n: 2\nb: {x: 1, y: [true, ~]}\nc: \${..image_size}\nd: 1e-4\ne: .inf\n`),
    ).toEqual({ a: [1, "it's", 'x\ty', { k: 'v', n: 2 }], b: { x: 1, y: [true, null] }, c: '${..image_size}', d: 1e-4, e: Infinity });
  });

  it('names the line of what it cannot read', () => {
    expect(() => parseYaml('a: 1\n  b: 2\n', 'cfg.yaml')).toThrow(/cfg\.yaml:2: unexpected indentation/);
    expect(() => parseYaml('a: &anchor 1\n', 'cfg.yaml')).toThrow(/cfg\.yaml:1: unsupported YAML construct/);
    expect(() => parseYaml('a: 1\na: 2\n', 'cfg.yaml')).toThrow(/cfg\.yaml:2: duplicate key 'a'/);
    expect(() => parseYaml('a: [1, 2\n', 'cfg.yaml')).toThrow(/cfg\.yaml:1/);
  });
});

describe('SAM 2 config files', () => {
  it('an official-layout YAML gives the preset config', async () => {
    const path = join(tmp.dir, 'sam2.1_hiera_t.yaml');
    await writeFile(path, HIERA_T_YAML);
    const cfg = await resolveSam2ConfigArg(path);
    expect({ ...cfg, name: '' }).toEqual({ ...presetConfig('t'), name: '' });
    expect(cfg.name).toBe('sam2.1_hiera_t');
  });

  it('a size name, and errors that name the file', async () => {
    expect((await resolveSam2ConfigArg('l')).name).toBe('sam2.1_hiera_l');
    await expect(resolveSam2ConfigArg(join(tmp.dir, 'missing.yaml'))).rejects.toThrow(/missing\.yaml: cannot read/);
    const bad = join(tmp.dir, 'bad.json');
    await writeFile(bad, '{"model": {"image_encoder": {}}}');
    await expect(resolveSam2ConfigArg(bad)).rejects.toThrow(/bad\.json: .*trunk/);
  });

  it('parses --extra name=path[:config]', () => {
    expect(parseExtra('MedSAM2=/m/MedSAM2_latest.pt:/m/sam2.1_hiera_t512.yaml')).toEqual({ name: 'MedSAM2', weights: '/m/MedSAM2_latest.pt', config: '/m/sam2.1_hiera_t512.yaml' });
    expect(parseExtra('SurgSAM2=ckpt/sam2_s.pt:s')).toEqual({ name: 'SurgSAM2', weights: 'ckpt/sam2_s.pt', config: 's' });
    expect(parseExtra('X=C:/w/x.pt')).toEqual({ name: 'X', weights: 'C:/w/x.pt', config: '' });
    expect(() => parseExtra('no-name')).toThrow(/name=path/);
  });
});
