/**
 * The embedded default model: a small SAM 2.1-architecture model (Hiera trunk, FPN neck, prompt
 * encoder, mask decoder — the same code path as Hiera-L, reduced sizes) trained from scratch by
 * this project on synthetic surgical frames. It ships inside this package under
 * `models/synthetic/` (config in the official layout, safetensors weights, model card), so that
 * `predict`, `pnpm bench` and the labeling page segment for real when no weights are given.
 *
 * Node: {@link loadDefaultSam2} finds the files next to the installed package. Browsers: fetch
 * `@rpsam2/sam2/models/synthetic/weights.safetensors` (an `exports` entry; bundlers turn it into
 * a URL) and pass the bytes to `loadSam2` with {@link defaultModelConfig}.
 */
import { bytesSource, type ByteSource } from '@rpsam2/tensor';
import { parseOfficialConfig, type Sam2Config } from '../config.js';
import type { Sam2Model } from '../model/sam2-model.js';
import { loadSam2, type Sam2LoadReport, type WeightDType } from './load.js';
import { importNode, packagedPaths } from './node-import.js';

/** Name of the default model (also its folder under `models/`). */
export const DEFAULT_MODEL_NAME = 'sam2.1-synthetic';

/** Files of the default model, relative to the package root. */
export const DEFAULT_MODEL_FILES = {
  config: 'models/synthetic/config.json',
  weights: 'models/synthetic/weights.safetensors',
  card: 'models/synthetic/MODEL_CARD.md',
} as const;

/** Absolute paths of the default model's files (Node). */
export interface DefaultModelPaths {
  dir: string;
  config: string;
  weights: string;
  card: string;
}

/** Thrown when the default model's files are missing (with the command that rebuilds them). */
export class DefaultModelMissingError extends Error {
  constructor(path: string) {
    super(`the default SAM 2 model is missing (${path}); reinstall @rpsam2/sam2 or retrain it with: pnpm bench train-sam2`);
    this.name = 'DefaultModelMissingError';
  }
}

/** Absolute paths of the default model's files (Node); they need not exist. */
export async function defaultModelPaths(): Promise<DefaultModelPaths> {
  return packagedPaths('@rpsam2/sam2', import.meta.url, 'models/synthetic', DEFAULT_MODEL_FILES);
}

/** The default model's configuration from its `config.json` text (official layout). */
export function parseDefaultModelConfig(json: string): Sam2Config {
  return parseOfficialConfig(JSON.parse(json), DEFAULT_MODEL_NAME);
}

/** Options of {@link loadDefaultSam2}. */
export interface LoadDefaultOptions {
  /** Weight storage on the GPU (default 'f32'). */
  dtype?: WeightDType;
  /** Weights bytes instead of the packaged file (browsers: the fetched file). */
  weights?: ByteSource;
  /** Config JSON text instead of the packaged file (browsers). */
  configJson?: string;
}

/**
 * Loads the embedded default model. In Node with no options it reads the packaged files; a
 * browser passes the fetched `weights` bytes and `configJson`.
 */
export async function loadDefaultSam2(options: LoadDefaultOptions = {}): Promise<{ model: Sam2Model; report: Sam2LoadReport; config: Sam2Config }> {
  let configJson = options.configJson;
  let weights: ByteSource | string | undefined = options.weights;
  if (configJson === undefined || weights === undefined) {
    const fs = await importNode<typeof import('node:fs')>('node:fs');
    const p = await defaultModelPaths();
    for (const f of [p.config, p.weights]) if (!fs.existsSync(f)) throw new DefaultModelMissingError(f);
    configJson ??= fs.readFileSync(p.config, 'utf8');
    weights ??= p.weights;
  }
  const config = parseDefaultModelConfig(configJson);
  const { model, report } = await loadSam2({ config, weights, dtype: options.dtype });
  return { model, report, config };
}

/** Wraps bytes of the default weights (a browser's fetch) as a ByteSource. */
export function defaultWeightsSource(bytes: Uint8Array): ByteSource {
  return bytesSource(bytes, DEFAULT_MODEL_FILES.weights);
}

/** The packaged default model as loader inputs (Node): its weights path and config. */
export async function defaultModelSpec(): Promise<{ weights: string; config: Sam2Config; card: string }> {
  const fs = await importNode<typeof import('node:fs')>('node:fs');
  const p = await defaultModelPaths();
  for (const f of [p.config, p.weights]) if (!fs.existsSync(f)) throw new DefaultModelMissingError(f);
  return { weights: p.weights, config: parseDefaultModelConfig(fs.readFileSync(p.config, 'utf8')), card: p.card };
}

/** The line CLIs print when they fall back to the default model. */
export function defaultModelNotice(card: string): string {
  return `no SAM 2 weights given: using the embedded default model '${DEFAULT_MODEL_NAME}' (a small SAM 2.1-architecture model for synthetic surgical frames; what it is and how well it segments: ${card}). Pass official SAM 2.1 weights for real surgical video.`;
}
