/** Helpers that write small datasets in the real layouts for the loader tests. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { crc32 } from '@rpsam2/tensor';
import { encodePng } from '../../src/datasets/png.js';

/** A fresh temporary folder; `cleanup()` removes it. */
export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `rpsam2-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A temporary folder for the tests of the current file or describe block: made before them
 * (beforeAll, so hooks registered after this call can fill it) and removed after them. Read
 * `dir` inside tests and hooks, not while the file is collected.
 */
export function useTempDir(prefix: string): { readonly dir: string } {
  let tmp: { dir: string; cleanup: () => Promise<void> } | undefined;
  beforeAll(async () => {
    tmp = await tempDir(prefix);
  });
  afterAll(async () => {
    await tmp?.cleanup();
  });
  return {
    get dir(): string {
      if (!tmp) throw new Error(`useTempDir('${prefix}'): the folder is made in beforeAll; read dir inside tests and hooks`);
      return tmp.dir;
    },
  };
}

/** Writes a file, creating its folder. */
export async function put(path: string, content: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
}

/** A w × h RGB PNG with a gradient (content does not matter to the loaders). */
export function rgbPng(w: number, h: number, seed = 0): Uint8Array {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    data[3 * i] = (i * 7 + seed) & 255;
    data[3 * i + 1] = (i * 3 + 40) & 255;
    data[3 * i + 2] = (seed * 11) & 255;
  }
  return encodePng({ width: w, height: h, channels: 3, data });
}

/** A w × h 8-bit grey PNG of the given values. */
export function greyPng(w: number, h: number, values: Uint8Array): Uint8Array {
  return encodePng({ width: w, height: h, channels: 1, data: values });
}

/**
 * A palette PNG (colour type 3, 8-bit indices) of the given indices with the given palette
 * (RGB triples), built from the grey encoding by rewriting the header and adding PLTE.
 */
export function palettePng(w: number, h: number, indices: Uint8Array, palette: Uint8Array): Uint8Array {
  const grey = greyPng(w, h, indices);
  // Signature (8) + IHDR chunk (8 + 13 + 4) = 33 bytes; the rest is IDAT + IEND.
  const head = grey.slice(0, 33);
  head[8 + 8 + 9] = 3; // colour type: palette
  const dv = new DataView(head.buffer);
  dv.setUint32(29, crc32(head.subarray(12, 29)) >>> 0);
  const plte = new Uint8Array(12 + palette.length);
  const pv = new DataView(plte.buffer);
  pv.setUint32(0, palette.length);
  plte.set([0x50, 0x4c, 0x54, 0x45], 4);
  plte.set(palette, 8);
  pv.setUint32(8 + palette.length, crc32(plte.subarray(4, 8 + palette.length)) >>> 0);
  const out = new Uint8Array(head.length + plte.length + grey.length - 33);
  out.set(head, 0);
  out.set(plte, head.length);
  out.set(grey.subarray(33), head.length + plte.length);
  return out;
}

/** A Supervisely polygon object. */
export function svObject(classTitle: string, exterior: number[][], interior: number[][][] = [], id = 1): Record<string, unknown> {
  return { id, classId: 1, description: '', geometryType: 'polygon', tags: [], classTitle, points: { exterior, interior } };
}

/** A Supervisely annotation file's text. */
export function svAnnotation(w: number, h: number, objects: unknown[]): string {
  return JSON.stringify({ description: '', tags: [], size: { height: h, width: w }, objects });
}

/** pycocotools' compressed RLE string of run lengths (the inverse of its decoder). */
export function compressCounts(counts: number[]): string {
  let s = '';
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i];
    if (i > 2) x -= counts[i - 2];
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x >>= 5;
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      s += String.fromCharCode(c + 48);
    }
  }
  return s;
}

/**
 * The tiny256 fixture's model in the layout of the official sam2.1 YAML (image part only), at
 * `imageSize` (256 is the fixture's own; 512 is how MedSAM2 ships its tiny config).
 */
export function tinyModelYaml(imageSize: number): string {
  return `# @package _global_
model:
  _target_: sam2.modeling.sam2_base.SAM2Base
  image_encoder:
    _target_: sam2.modeling.backbones.image_encoder.ImageEncoder
    scalp: 1
    trunk:
      _target_: sam2.modeling.backbones.hieradet.Hiera
      embed_dim: 16
      num_heads: 1
      stages: [1, 2, 3, 1]
      global_att_blocks: [4]
      window_pos_embed_bkg_spatial_size: [7, 7]
      window_spec: [8, 4, 14, 7]
    neck:
      _target_: sam2.modeling.backbones.image_encoder.FpnNeck
      d_model: 32
      backbone_channel_list: [128, 64, 32, 16]
      fpn_top_down_levels: [2, 3]  # levels 0 and 1 use the backbone features directly
      fpn_interp_model: nearest
  image_size: ${imageSize}
  directly_add_no_mem_embed: true
  use_high_res_features_in_sam: true
  iou_prediction_use_sigmoid: True
  pred_obj_scores: true
  pred_obj_scores_mlp: true
  sam_mask_decoder_extra_args:
    dynamic_multimask_via_stability: true
    dynamic_multimask_stability_delta: 0.05
    dynamic_multimask_stability_thresh: 0.98
  compile_image_encoder: False
`;
}
