/** Shared helpers of the sam2 tests: fixture paths and configs, weight sources with edited keys. */
import { readFileSync } from 'node:fs';
import { parseOfficialConfig, type Sam2Config } from '../src/config.js';
import type { WeightSource } from '../src/weights/load-weights.js';

export const FIXTURES = new URL('../../../../shared/fixtures/sam2/', import.meta.url).pathname;
export const fixtureDir = (name: string) => `${FIXTURES}${name}/`;

export function fixtureMeta(name: string): any {
  return JSON.parse(readFileSync(fixtureDir(name) + 'meta.json', 'utf8'));
}

/** The fixture's model config (its top-level image size wins, as in the verifier). */
export function fixtureConfig(name: string): Sam2Config {
  const meta = fixtureMeta(name);
  return parseOfficialConfig({ ...meta.model_config, image_size: meta.image_size ?? meta.model_config.image_size }, `fixture-${name}`);
}

/** A WeightSource over another with keys renamed/dropped/added and shapes overridden (reads pass through). */
export function editedSource(
  base: WeightSource,
  edit: { rename?: (k: string) => string | null; add?: Record<string, number[]>; shape?: Record<string, number[]> },
): WeightSource {
  const map = new Map<string, string | null>();
  for (const k of base.keys()) {
    const n = edit.rename ? edit.rename(k) : k;
    if (n !== null) map.set(n, k);
  }
  for (const k of Object.keys(edit.add ?? {})) map.set(k, null);
  return {
    label: `edited(${base.label})`,
    keys: () => [...map.keys()],
    entry: (name) => {
      const src = map.get(name);
      if (src === undefined) throw new Error(`no tensor '${name}'`);
      if (src === null) return { shape: edit.add![name], dtype: 'F32' };
      const e = base.entry(src);
      return { shape: edit.shape?.[name] ?? e.shape, dtype: e.dtype };
    },
    readF32: async (name) => {
      const src = map.get(name);
      if (src === undefined || src === null) throw new Error(`no data for '${name}'`);
      return base.readF32(src);
    },
  };
}

/** A shapes-only WeightSource (e.g. from the official manifest); reading data throws. */
export function shapesOnlySource(tensors: Record<string, number[]>, label = 'shapes'): WeightSource {
  return {
    label,
    keys: () => Object.keys(tensors),
    entry: (name) => ({ shape: tensors[name], dtype: 'F32' }),
    readF32: async (name) => {
      throw new Error(`${label}: no data for '${name}'`);
    },
  };
}

/** Bitwise equality of two float arrays (NaNs by bits, −0 ≠ +0). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/**
 * SAM 2.1 Hiera-T in the layout of the official `sam2/configs/sam2.1/sam2.1_hiera_t.yaml`:
 * Hydra's package header, `_target_` keys, comments (also after values), flow sequences, mixed
 * boolean spellings, and Hydra interpolations in sections we do not read. The official file has
 * no `sam_mask_decoder_extra_args`: `build_sam2` adds it by a Hydra override (apply_postprocessing);
 * here it is written into the file, as exported configs have it (and removed in one test).
 */
export const HIERA_T_YAML = `# @package _global_

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
      pos_enc_at_attn: false
      self_attention:
        _target_: sam2.modeling.sam.transformer.RoPEAttention
        rope_theta: 10000.0
        feat_sizes: [64, 64]
        embedding_dim: 256
        num_heads: 1
        downsample_rate: 1
        dropout: 0.1
      d_model: 256
      pos_enc_at_cross_attn_keys: true
      pos_enc_at_cross_attn_queries: false
      cross_attention:
        _target_: sam2.modeling.sam.transformer.RoPEAttention
        rope_theta: 10000.0
        feat_sizes: [64, 64]
        rope_k_repeat: True
        embedding_dim: 256
        num_heads: 1
        downsample_rate: 1
        dropout: 0.1
        kv_in_dim: 64
    num_layers: 4

  memory_encoder:
      _target_: sam2.modeling.memory_encoder.MemoryEncoder
      out_dim: 64
      position_encoding:
        _target_: sam2.modeling.position_encoding.PositionEmbeddingSine
        num_pos_feats: 64
        normalize: true
        scale: null
        temperature: 10000
      mask_downsampler:
        _target_: sam2.modeling.memory_encoder.MaskDownSampler
        kernel_size: 3
        stride: 2
        padding: 1
      fuser:
        _target_: sam2.modeling.memory_encoder.Fuser
        layer:
          _target_: sam2.modeling.memory_encoder.CXBlock
          dim: 256
          kernel_size: 7
          padding: 3
          layer_scale_init_value: 1e-6
          use_dwconv: True  # depth-wise convs
        num_layers: 2

  num_maskmem: 7
  image_size: 1024
  # apply scaled sigmoid on mask logits for memory encoder, and directly feed input mask as output mask
  sigmoid_scale_for_mem_enc: 20.0
  sigmoid_bias_for_mem_enc: -10.0
  use_mask_input_as_output_without_sam: true
  # Memory
  directly_add_no_mem_embed: true
  no_obj_embed_spatial: true
  # use high-resolution feature map in the SAM mask decoder
  use_high_res_features_in_sam: true
  # output 3 masks on the first click on initial conditioning frames
  multimask_output_in_sam: true
  # SAM heads
  iou_prediction_use_sigmoid: True
  # cross-attend to object pointers from other frames (based on SAM output tokens) in the encoder
  use_obj_ptrs_in_encoder: true
  add_tpos_enc_to_obj_ptrs: true
  proj_tpos_enc_in_obj_ptrs: true
  use_signed_tpos_enc_to_obj_ptrs: true
  only_obj_ptrs_in_the_past_for_eval: true
  # object occlusion prediction
  pred_obj_scores: true
  pred_obj_scores_mlp: true
  fixed_no_obj_ptr: true
  # multimask tracking settings
  multimask_output_for_tracking: true
  use_multimask_token_for_obj_ptr: true
  multimask_min_pt_num: 0
  multimask_max_pt_num: 1
  use_mlp_for_obj_ptr_proj: true
  # build_sam2's apply_postprocessing overrides, written into the file
  sam_mask_decoder_extra_args:
    dynamic_multimask_via_stability: true
    dynamic_multimask_stability_delta: 0.05
    dynamic_multimask_stability_thresh: 0.98
  # Compilation flag
  # HieraT does not currently support compilation, should always be set to False
  compile_image_encoder: False

scratch:
  resolution: 1024
  train_batch_size: 1

trainer:
  _target_: training.trainer.Trainer
  mode: train_only
  max_epochs: \${times:\${scratch.num_epochs},\${scratch.phases_per_epoch}}
  model:
    image_size: \${scratch.resolution}
`;

/** A mask from rows of '#' (1) and '.' (0): width, height and row-major 0/1 data. */
export function maskOf(rows: string[]): { width: number; height: number; data: Uint8Array } {
  const height = rows.length;
  const width = rows[0].length;
  const data = new Uint8Array(width * height);
  rows.forEach((r, y) => [...r].forEach((c, x) => (data[y * width + x] = c === '#' ? 1 : 0)));
  return { width, height, data };
}

/** A seeded random mask up to `maxW`×`maxH` (at least 1×1) with a random fill density. */
export function randomMask(rng: { next(): number }, maxW: number, maxH: number): { width: number; height: number; data: Uint8Array } {
  const width = 1 + Math.floor(rng.next() * maxW);
  const height = 1 + Math.floor(rng.next() * maxH);
  const density = rng.next();
  return { width, height, data: Uint8Array.from({ length: width * height }, () => (rng.next() < density ? 1 : 0)) };
}
