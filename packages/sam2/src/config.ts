/**
 * SAM 2.1 model configuration: our typed form, the four official presets, and a parser for
 * configs in the official layout (the `model:` section of `sam2/configs/sam2.1/*.yaml`, as JSON).
 * Sizes of the prompt encoder and mask decoder are fixed in the official code, not the yaml:
 * they derive from the neck's d_model here too.
 */

export interface HieraConfig {
  embedDim: number;
  numHeads: number;
  /** Blocks per stage. */
  stages: number[];
  /** Indices (over all blocks) of the blocks with global attention. */
  globalAttBlocks: number[];
  /** Size of the background positional embedding (interpolated to the patch grid). */
  windowPosEmbedBkgSpatialSize: [number, number];
  /** Window size per stage (0 = global). */
  windowSpec: number[];
  /** Number of stage changes that pool q (from the second stage on). */
  qPool: number;
  qStride: [number, number];
  mlpRatio: number;
  dimMul: number;
  headMul: number;
}

/**
 * The image encoder's FPN neck (the official `image_encoder.neck`): a 1×1 conv per trunk level to
 * `dModel` channels, then top-down fusion (nearest ×2 upsample, added) on `fpnTopDownLevels`.
 */
export interface NeckConfig {
  dModel: number;
  /** Channel counts of the trunk outputs, deepest first (as the official config lists them). */
  backboneChannelList: number[];
  /** Levels that receive the top-down (upsampled) feature. */
  fpnTopDownLevels: number[];
  fpnInterpModel: 'nearest';
}

/**
 * A SAM 2.1 model's architecture: image size, Hiera trunk, FPN neck and the mask-decoder options
 * of the official config (from {@link SAM2_PRESETS} or {@link parseOfficialConfig}).
 */
export interface Sam2Config {
  /** A name for messages and `info` (e.g. "sam2.1_hiera_l"). */
  name: string;
  imageSize: number;
  trunk: HieraConfig;
  neck: NeckConfig;
  /** Number of lowest-resolution levels dropped after the neck (1 in every official config). */
  scalp: number;
  useHighResFeaturesInSam: boolean;
  iouPredictionUseSigmoid: boolean;
  predObjScores: boolean;
  predObjScoresMlp: boolean;
  directlyAddNoMemEmbed: boolean;
  dynamicMultimaskViaStability: boolean;
  dynamicMultimaskStabilityDelta: number;
  dynamicMultimaskStabilityThresh: number;
  /**
   * The mask decoder's kind: 'sam2' (SAM 2's `MaskDecoder`) or 'hq' (HQ-SAM2's `MaskDecoderHQ`,
   * SysCV/sam-hq `sam-hq2/`: an extra HQ output token; `_target_` `…SAM2HQBase` in the config).
   */
  maskDecoder: MaskDecoderKind;
}

/** Which mask decoder a model has (see {@link Sam2Config.maskDecoder}). */
export type MaskDecoderKind = 'sam2' | 'hq';

/** Whether an official config's `_target_` names HQ-SAM2's model class. */
export function isHqTarget(target: unknown): boolean {
  return typeof target === 'string' && /(^|\.)SAM2HQBase$/.test(target);
}

const COMMON = {
  imageSize: 1024,
  scalp: 1,
  useHighResFeaturesInSam: true,
  iouPredictionUseSigmoid: true,
  predObjScores: true,
  predObjScoresMlp: true,
  directlyAddNoMemEmbed: true,
  dynamicMultimaskViaStability: true,
  dynamicMultimaskStabilityDelta: 0.05,
  dynamicMultimaskStabilityThresh: 0.98,
  maskDecoder: 'sam2' as MaskDecoderKind,
};

const HIERA_DEFAULTS = { qPool: 3, qStride: [2, 2] as [number, number], mlpRatio: 4, dimMul: 2, headMul: 2 };

function preset(name: string, embedDim: number, numHeads: number, stages: number[], globalAttBlocks: number[], bkg: number, windowSpec: number[]): Sam2Config {
  return {
    name,
    ...COMMON,
    trunk: { embedDim, numHeads, stages, globalAttBlocks, windowPosEmbedBkgSpatialSize: [bkg, bkg], windowSpec, ...HIERA_DEFAULTS },
    neck: {
      dModel: 256,
      backboneChannelList: [8, 4, 2, 1].map((m) => embedDim * m),
      fpnTopDownLevels: [2, 3],
      fpnInterpModel: 'nearest',
    },
  };
}

/** The official SAM 2.1 sizes. */
export const SAM2_PRESETS = {
  t: preset('sam2.1_hiera_t', 96, 1, [1, 2, 7, 2], [5, 7, 9], 7, [8, 4, 14, 7]),
  s: preset('sam2.1_hiera_s', 96, 1, [1, 2, 11, 2], [7, 10, 13], 7, [8, 4, 14, 7]),
  'b+': preset('sam2.1_hiera_b+', 112, 2, [2, 3, 16, 3], [12, 16, 20], 14, [8, 4, 14, 7]),
  l: preset('sam2.1_hiera_l', 144, 2, [2, 6, 36, 4], [23, 33, 43], 7, [8, 4, 16, 8]),
} satisfies Record<string, Sam2Config>;

/** The name of an official size: "t", "s", "b+" or "l" (the keys of {@link SAM2_PRESETS}). */
export type Sam2Size = keyof typeof SAM2_PRESETS;

/** A preset by size name ("t", "s", "b+", "l", also "tiny", "small", "base_plus", "large"). */
export function presetConfig(size: string): Sam2Config {
  const alias: Record<string, Sam2Size> = { tiny: 't', small: 's', base_plus: 'b+', 'base+': 'b+', b: 'b+', large: 'l' };
  const key = (alias[size] ?? size) as Sam2Size;
  const c = SAM2_PRESETS[key];
  if (!c) throw new Error(`unknown SAM 2 size '${size}' (expected one of t, s, b+, l)`);
  return structuredClone(c);
}

/** A parsed JSON/YAML object (the official config's nodes). */
export type Json = Record<string, any>;

function need<T>(obj: Json | undefined, key: string, where: string): T {
  if (!obj || obj[key] === undefined) throw new Error(`SAM 2 config: missing '${where}.${key}'`);
  return obj[key] as T;
}

/**
 * Reads a config in the official layout (`_target_` keys allowed and ignored). Accepts the
 * `model` section itself or an object with a `model` / `model_config` key.
 */
export function parseOfficialConfig(json: Json, name = 'custom'): Sam2Config {
  const model: Json = json.model_config ?? json.model ?? json;
  const enc = need<Json>(model, 'image_encoder', 'model');
  const trunk = need<Json>(enc, 'trunk', 'model.image_encoder');
  const neck = need<Json>(enc, 'neck', 'model.image_encoder');
  const extra: Json = model.sam_mask_decoder_extra_args ?? {};
  const embedDim = need<number>(trunk, 'embed_dim', 'trunk');
  const stages: number[] = trunk.stages ?? [2, 3, 16, 3];
  const cfg: Sam2Config = {
    name,
    imageSize: model.image_size ?? 1024,
    scalp: enc.scalp ?? 0,
    trunk: {
      embedDim,
      numHeads: trunk.num_heads ?? 1,
      stages,
      globalAttBlocks: trunk.global_att_blocks ?? [12, 16, 20],
      windowPosEmbedBkgSpatialSize: trunk.window_pos_embed_bkg_spatial_size ?? [14, 14],
      windowSpec: trunk.window_spec ?? [8, 4, 14, 7],
      qPool: trunk.q_pool ?? 3,
      qStride: trunk.q_stride ?? [2, 2],
      mlpRatio: trunk.mlp_ratio ?? 4,
      dimMul: trunk.dim_mul ?? 2,
      headMul: trunk.head_mul ?? 2,
    },
    neck: {
      dModel: need<number>(neck, 'd_model', 'neck'),
      backboneChannelList: need<number[]>(neck, 'backbone_channel_list', 'neck'),
      fpnTopDownLevels: neck.fpn_top_down_levels ?? [0, 1, 2, 3],
      fpnInterpModel: neck.fpn_interp_model ?? 'bilinear',
    },
    useHighResFeaturesInSam: model.use_high_res_features_in_sam ?? false,
    iouPredictionUseSigmoid: model.iou_prediction_use_sigmoid ?? false,
    predObjScores: model.pred_obj_scores ?? false,
    predObjScoresMlp: model.pred_obj_scores_mlp ?? false,
    directlyAddNoMemEmbed: model.directly_add_no_mem_embed ?? false,
    // build_sam2(apply_postprocessing=True), the official default, turns these on by override.
    dynamicMultimaskViaStability: extra.dynamic_multimask_via_stability ?? true,
    dynamicMultimaskStabilityDelta: extra.dynamic_multimask_stability_delta ?? 0.05,
    dynamicMultimaskStabilityThresh: extra.dynamic_multimask_stability_thresh ?? 0.98,
    maskDecoder: isHqTarget(model._target_) ? 'hq' : 'sam2',
  };
  validateConfig(cfg);
  return cfg;
}

/** Checks the invariants the model code relies on; errors name the field. */
export function validateConfig(c: Sam2Config): void {
  const t = c.trunk;
  const fail = (m: string) => {
    throw new Error(`SAM 2 config '${c.name}': ${m}`);
  };
  if (t.stages.length !== t.windowSpec.length) fail(`trunk.stages has ${t.stages.length} stages but window_spec has ${t.windowSpec.length}`);
  if (c.neck.backboneChannelList.length !== t.stages.length) fail(`neck.backbone_channel_list needs one entry per trunk stage (${t.stages.length})`);
  const dims = t.stages.map((_, i) => t.embedDim * t.dimMul ** i);
  const expected = [...dims].reverse();
  if (c.neck.backboneChannelList.some((d, i) => d !== expected[i])) {
    fail(`neck.backbone_channel_list [${c.neck.backboneChannelList}] does not match the trunk's stage dims [${expected}]`);
  }
  if (c.neck.fpnInterpModel !== 'nearest') fail(`only fpn_interp_model 'nearest' is supported (got '${c.neck.fpnInterpModel}')`);
  if (c.imageSize % 32 !== 0) fail(`image_size ${c.imageSize} must be a multiple of 32`);
  const nBlocks = t.stages.reduce((a, b) => a + b, 0);
  if (t.globalAttBlocks.some((b) => b < 0 || b >= nBlocks)) fail(`global_att_blocks [${t.globalAttBlocks}] outside 0..${nBlocks - 1}`);
  if (c.maskDecoder !== 'sam2' && c.maskDecoder !== 'hq') fail(`maskDecoder must be 'sam2' or 'hq' (got '${c.maskDecoder}')`);
  if (c.maskDecoder === 'hq' && !c.predObjScores) fail('the HQ mask decoder needs pred_obj_scores (upstream adds the HQ token only beside the object-score token)');
  if (c.scalp !== 1) fail(`scalp ${c.scalp} is not supported (every official config uses 1)`);
}
