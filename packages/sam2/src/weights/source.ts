/**
 * Opening SAM 2 weights from a path, a byte source or an already-open reader: PyTorch `.pt`
 * (zip) and safetensors are told apart by their first bytes, not the file name. Also finds the
 * key prefix (official checkpoints keep the state dict under `model`, which the checkpoint reader
 * strips; exports such as `sam2.` or `model.` prefixes are found by an anchor key) and infers the
 * preset size from the trunk's shapes, and HQ-SAM2's decoder from its keys.
 */
import { openTensorFile, SafetensorsFile, TorchCheckpoint, type ByteSource } from '@rpsam2/tensor';
import type { WeightSource } from './load-weights.js';
import { SAM2_PRESETS, type Sam2Size } from '../config.js';
import { importNode } from './node-import.js';

/** Anything `loadSam2` and `convert` read weights from. */
export type WeightsInput = string | ByteSource | WeightSource;

/** An opened weights file and what was recognised about it. */
export interface OpenedWeights {
  source: WeightSource;
  /** 'pt' (PyTorch zip checkpoint), 'safetensors', or 'reader' for a caller-provided WeightSource. */
  format: 'pt' | 'safetensors' | 'reader';
  label: string;
}

function isWeightSource(x: unknown): x is WeightSource {
  const o = x as WeightSource;
  return typeof o?.keys === 'function' && typeof o.entry === 'function' && typeof o.readF32 === 'function';
}

function isByteSource(x: unknown): x is ByteSource {
  const o = x as ByteSource;
  return typeof o?.read === 'function' && typeof o.size === 'function';
}

/**
 * Opens weights: a path (Node only), a ByteSource (sniffed: zip → `.pt`, else safetensors) or a
 * ready WeightSource. Reads only the headers; tensors are read later, one at a time.
 */
export async function openWeights(input: WeightsInput, label?: string): Promise<OpenedWeights> {
  if (typeof input === 'string') {
    const { fileSource } = await importNode<{ fileSource: (p: string) => ByteSource }>('@rpsam2/tensor/node');
    return openWeights(fileSource(input), label ?? input);
  }
  if (isWeightSource(input)) {
    const format = input instanceof TorchCheckpoint ? 'pt' : input instanceof SafetensorsFile ? 'safetensors' : 'reader';
    return { source: input, format, label: label ?? input.label };
  }
  if (!isByteSource(input)) throw new TypeError('SAM 2 weights: expected a path, a ByteSource or a WeightSource');
  const name = label ?? input.label ?? 'weights';
  const reader = await openTensorFile(input, name);
  return { source: reader, format: reader instanceof TorchCheckpoint ? 'pt' : 'safetensors', label: name };
}

/** A key every SAM 2 state dict has; its position gives the prefix. */
export const ANCHOR_KEY = 'image_encoder.trunk.patch_embed.proj.weight';

/**
 * The prefix in front of the model's keys ('' for official checkpoints), found from
 * {@link ANCHOR_KEY}; null when no key ends with it (not a SAM 2 state dict, or a broken one).
 */
export function detectPrefix(keys: readonly string[]): string | null {
  if (keys.includes(ANCHOR_KEY)) return '';
  const hits = keys.filter((k) => k.endsWith('.' + ANCHOR_KEY)).map((k) => k.slice(0, k.length - ANCHOR_KEY.length));
  return hits.length === 1 ? hits[0] : null;
}

/** A key only HQ-SAM2 checkpoints have (its HQ output token). */
export const HQ_ANCHOR_KEY = 'sam_mask_decoder.hf_token.weight';

/** Whether the weights hold HQ-SAM2's mask decoder (they have {@link HQ_ANCHOR_KEY} after the prefix). */
export function hasHqDecoder(source: WeightSource, prefix = ''): boolean {
  return source.keys().includes(prefix + HQ_ANCHOR_KEY);
}

/**
 * The official size whose trunk matches the weights (embed dim, block count and global blocks'
 * existence), or null. Reads only shapes.
 */
export function inferSize(source: WeightSource, prefix = ''): Sam2Size | null {
  const key = prefix + ANCHOR_KEY;
  if (!source.keys().includes(key)) return null;
  const embedDim = source.entry(key).shape[0];
  const blockRe = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}image_encoder\\.trunk\\.blocks\\.(\\d+)\\.`);
  let blocks = 0;
  for (const k of source.keys()) {
    const m = blockRe.exec(k);
    if (m) blocks = Math.max(blocks, Number(m[1]) + 1);
  }
  for (const [size, cfg] of Object.entries(SAM2_PRESETS) as [Sam2Size, (typeof SAM2_PRESETS)[Sam2Size]][]) {
    const depth = cfg.trunk.stages.reduce((a, b) => a + b, 0);
    if (cfg.trunk.embedDim === embedDim && depth === blocks) return size;
  }
  return null;
}
