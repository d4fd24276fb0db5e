/**
 * The SAM 2 image model: Hiera trunk + FPN neck (the image encoder), prompt encoder and mask
 * decoder, with the official state-dict names. The video-only modules (memory attention, memory
 * encoder, object pointers, …) are recognised in checkpoints and skipped.
 */
import { add, Module, reshape, type ParamSlot, type Tensor } from '@rpsam2/tensor';
import type { Sam2Config } from '../config.js';
import { Hiera } from './hiera.js';
import { FpnNeck } from './fpn-neck.js';
import { PromptEncoder } from './prompt-encoder.js';
import { MaskDecoder } from './mask-decoder.js';
import { MaskDecoderHQ } from './mask-decoder-hq.js';

/** State-dict key prefixes of the video path (present in official checkpoints, unused here). */
export const VIDEO_ONLY_PREFIXES = [
  'memory_attention.',
  'memory_encoder.',
  'maskmem_tpos_enc',
  'no_mem_pos_enc',
  'no_obj_ptr',
  'no_obj_embed_spatial',
  'mask_downsample.',
  'obj_ptr_proj.',
  'obj_ptr_tpos_proj.',
];

/** Whether a state-dict key belongs to the video path (starts with one of {@link VIDEO_ONLY_PREFIXES}). */
export function isVideoOnlyKey(key: string): boolean {
  return VIDEO_ONLY_PREFIXES.some((p) => key.startsWith(p));
}

export class ImageEncoder extends Module {
  readonly trunk: Hiera;
  readonly neck: FpnNeck;
  constructor(cfg: Sam2Config) {
    super();
    this.trunk = this.child('trunk', new Hiera(cfg.trunk));
    this.neck = this.child('neck', new FpnNeck(cfg.neck));
  }
}

/** Image features the decoder needs, computed once per image. */
export interface ImageFeatures {
  /** [B, C, g, g], lowest level + no_mem_embed. */
  imageEmbed: Tensor;
  /** [[B, C/8, 4g, 4g], [B, C/4, 2g, 2g]] after conv_s0/conv_s1. */
  highRes: [Tensor, Tensor];
}

/** Intermediate values exposed for verification. */
export interface EncoderTaps {
  /** Receives the patch embedding, [B, S/4, S/4, C] (channels last). */
  patchEmbed?: (t: Tensor) => void;
  /** Receives the positional embedding added to it, [1, S/4, S/4, C]. */
  posEmbed?: (t: Tensor) => void;
  /** Receives the trunk's output of each stage, finest first, NCHW. */
  stages?: (ts: Tensor[]) => void;
  /**
   * Receives the three levels the decoder uses, finest first, NCHW: the two high-resolution maps
   * (through the decoder's 1×1 convs when it has them) and the lowest-resolution map, before the
   * no-memory embedding is added.
   */
  fpn?: (ts: Tensor[]) => void;
}

/**
 * The SAM 2.1 image model (Hiera trunk + FPN neck, prompt encoder, mask decoder) with the
 * official state-dict names; with `cfg.maskDecoder` 'hq', HQ-SAM2's ({@link MaskDecoderHQ}). Build it with `loadSam2` (official `.pt` / safetensors weights, or
 * random ones) or `loadDefaultSam2` (the embedded default model); use it through
 * {@link Sam2ImagePredictor}, or at tensor level (`forwardImage`, then the prompt encoder and mask
 * decoder). `dispose()` frees its weights.
 */
export class Sam2Model extends Module {
  readonly imageEncoder: ImageEncoder;
  readonly noMemEmbed: ParamSlot;
  readonly promptEncoder: PromptEncoder;
  readonly maskDecoder: MaskDecoder;
  /** Transformer width (the neck's d_model). */
  readonly dim: number;
  /** Side of the image embedding grid (image size / 16). */
  readonly gridSize: number;

  constructor(readonly cfg: Sam2Config) {
    super();
    this.dim = cfg.neck.dModel;
    this.gridSize = cfg.imageSize / 16;
    this.imageEncoder = this.child('image_encoder', new ImageEncoder(cfg));
    this.noMemEmbed = this.param('no_mem_embed', [1, 1, this.dim]);
    this.promptEncoder = this.child('sam_prompt_encoder', new PromptEncoder(this.dim, this.gridSize, cfg.imageSize));
    // HQ-SAM2 differs from SAM 2 only in its mask decoder (upstream's SAM2HQBase).
    this.maskDecoder = this.child('sam_mask_decoder', cfg.maskDecoder === 'hq' ? new MaskDecoderHQ(this.dim, cfg) : new MaskDecoder(this.dim, cfg));
  }

  /** Normalised pixels [B, 3, S, S] → image features (call under noGrad for inference). */
  forwardImage(pixels: Tensor, taps: EncoderTaps = {}): ImageFeatures {
    const s = this.cfg.imageSize;
    if (pixels.rank !== 4 || pixels.shape[1] !== 3 || pixels.shape[2] !== s || pixels.shape[3] !== s) {
      throw new Error(`SAM 2 image encoder: expected pixels [B, 3, ${s}, ${s}], got [${pixels.shape}]`);
    }
    const stages = this.imageEncoder.trunk.forward(pixels, taps);
    taps.stages?.(stages);
    // scalp = 1: the lowest-resolution level is dropped after the neck.
    const fpn = this.imageEncoder.neck.forward(stages).slice(0, stages.length - this.cfg.scalp);
    const dec = this.maskDecoder;
    const s0 = dec.convS0 ? dec.convS0.forward(fpn[0]) : fpn[0];
    const s1 = dec.convS1 ? dec.convS1.forward(fpn[1]) : fpn[1];
    const last = fpn[fpn.length - 1];
    taps.fpn?.([s0, s1, last]);
    const embed = this.cfg.directlyAddNoMemEmbed ? add(last, reshape(this.noMemEmbed.get(), [1, this.dim, 1, 1])) : last;
    return { imageEmbed: embed, highRes: [s0, s1] };
  }
}
