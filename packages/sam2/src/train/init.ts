/**
 * Initial weights for training SAM 2 from scratch (the official models start from a pretrained
 * Hiera, so their code has no from-scratch recipe; this follows PyTorch's layer defaults where a
 * layer has one and ViT practice elsewhere):
 * - Linear weights of the trunk: truncated normal, std 0.02 (ViT/Hiera style, keeps the residual
 *   stream small at the start);
 * - every other Linear / Conv / ConvTranspose weight: PyTorch's default U(±1/√fan_in) (fan_in of a
 *   transposed conv is out·k·k, as PyTorch computes it from dim 1);
 * - biases 0, norm scales 1;
 * - embeddings (point labels, tokens, no-mask): N(0, 1) as `nn.Embedding`;
 * - the prompt encoder's Gaussian matrix: N(0, 1) (a fixed buffer, never trained);
 * - positional embeddings and `no_mem_embed`: truncated normal, std 0.02.
 */
import { SeededRandom, tensor } from '@rpsam2/tensor';
import type { Module } from '../nn/module.js';

/** Names of parameters drawn from N(0, 1) (nn.Embedding and the Gaussian PE matrix). */
const UNIT_NORMAL = /(point_embeddings\.\d+|not_a_point_embed|no_mask_embed|iou_token|mask_tokens|obj_score_token)\.weight$|positional_encoding_gaussian_matrix$/;
/** Parameters with a small truncated-normal start. */
const SMALL_NORMAL = /(^|\.)(pos_embed|pos_embed_window|no_mem_embed)$/;

/** How one parameter is initialised (exported for tests). */
export function initRule(name: string, shape: readonly number[]): { kind: 'zeros' | 'ones' | 'normal' | 'trunc' | 'uniform'; scale: number } {
  const leaf = name.slice(name.lastIndexOf('.') + 1);
  if (UNIT_NORMAL.test(name)) return { kind: 'normal', scale: 1 };
  if (SMALL_NORMAL.test(name)) return { kind: 'trunc', scale: 0.02 };
  if (shape.length === 1) return leaf === 'weight' ? { kind: 'ones', scale: 1 } : { kind: 'zeros', scale: 0 };
  if (leaf === 'bias') return { kind: 'zeros', scale: 0 };
  if (shape.length === 2 && name.includes('.trunk.')) return { kind: 'trunc', scale: 0.02 };
  // Conv weights [out, in, k, k]; transposed conv weights [in, out, k, k] (PyTorch's fan_in uses dim 1 either way).
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  const fanIn = shape[1] * receptive;
  return { kind: 'uniform', scale: 1 / Math.sqrt(fanIn) };
}

/**
 * Replaces every parameter of `module` with a fresh from-scratch initialisation (f32), seeded.
 * Names must be the official state-dict names (as {@link Module.namedParams} gives them).
 */
export function initTrainingWeights(module: Module, seed = 0): void {
  // Separate normal and uniform streams with these exact seeds: trained runs depend on the values.
  const normals = new SeededRandom(seed);
  const uniforms = new SeededRandom(seed + 0x5bd1e995);
  for (const [name, slot] of module.namedParams()) {
    const n = slot.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const rule = initRule(name, slot.shape);
    for (let i = 0; i < n; i++) {
      switch (rule.kind) {
        case 'ones':
          data[i] = 1;
          break;
        case 'normal':
          data[i] = normals.normal() * rule.scale;
          break;
        case 'trunc': {
          let x = normals.normal();
          while (Math.abs(x) > 2) x = normals.normal();
          data[i] = x * rule.scale;
          break;
        }
        case 'uniform':
          data[i] = (2 * uniforms.next() - 1) * rule.scale;
          break;
        default:
          break;
      }
    }
    slot.value?.dispose();
    slot.value = tensor(data, slot.shape, { name });
  }
}
