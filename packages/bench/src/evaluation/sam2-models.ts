/**
 * Loading the SAM 2 models an evaluation compares: the main model (the embedded default model
 * when no weights are given, else a checkpoint with its config or an inferred official size) and
 * the extra rows (any SAM 2-architecture checkpoint, e.g. MedSAM2's or Surgical SAM 2's, or
 * HQ-SAM2's, whose decoder the loader recognises by its keys). Each
 * gets a label with a content hash of its weights, which names its feature caches and is
 * recorded in env.json, so a cache is never reused for other weights.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import {
  DEFAULT_MODEL_NAME,
  defaultModelPaths,
  isSam2ConfigPath,
  loadDefaultSam2,
  loadSam2,
  readSam2ConfigArg,
  fixtureConfigBeside,
  type Sam2Config,
  type Sam2LoadReport,
  type Sam2Model,
} from '@rpsam2/sam2';

/** Which SAM 2 to load. */
export interface Sam2Spec {
  /** Weights file (.pt or .safetensors); '' = the embedded default model. */
  weights: string;
  /** Size name or config file ('' = the default model's config, or inferred from the weights). */
  config: string;
  dtype: 'f32' | 'f16';
}

/** A loaded SAM 2 model and what it is. */
export interface LoadedSam2 {
  model: Sam2Model;
  config: Sam2Config;
  /** True for the embedded default model. */
  isDefault: boolean;
  /** The weights file. */
  weightsPath: string;
  /** `sha256:<16 hex>` of the weights file. */
  weightsHash: string;
  /** `<file name> <hash>`: identifies the weights in caches. */
  label: string;
  /** A folder-safe name for caches: `<config name>-<8 hex>`. */
  slug: string;
  /** A sentence for the log: which model, from where, how big. */
  description: string;
  report: Sam2LoadReport;
}

/** SHA-256 of a file (streamed), as `sha256:<first 16 hex digits>`. */
export async function fileHash(path: string): Promise<string> {
  const h = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    createReadStream(path)
      .on('data', (b) => h.update(b))
      .on('end', () => resolve())
      .on('error', (e) => reject(new Error(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? e.message})`)));
  });
  return `sha256:${h.digest('hex').slice(0, 16)}`;
}

/** Loads the model of `spec` (see {@link Sam2Spec}). */
export async function loadSam2Spec(spec: Sam2Spec): Promise<LoadedSam2> {
  if (!spec.weights) {
    if (spec.config) throw new Error(`a SAM 2 config (${spec.config}) was given without weights; the default model has its own config (give --weights too)`);
    const paths = await defaultModelPaths();
    const { model, report, config } = await loadDefaultSam2({ dtype: spec.dtype });
    const hash = await fileHash(paths.weights);
    return {
      model,
      config,
      isDefault: true,
      weightsPath: paths.weights,
      weightsHash: hash,
      label: `${DEFAULT_MODEL_NAME} ${hash}`,
      slug: `${DEFAULT_MODEL_NAME}-${hash.slice(7, 15)}`,
      description: `the embedded default model ${DEFAULT_MODEL_NAME} (${paths.dir}; ${config.imageSize} px, ${report.parameters.toLocaleString('en-US')} parameters) — no --weights given`,
      report,
    };
  }
  let config: Sam2Config | undefined;
  let size: string | undefined;
  // No config given: a fixture folder's meta.json beside the weights says the architecture.
  const configArg = spec.config || ((await fixtureConfigBeside(spec.weights)) ?? '');
  if (configArg) {
    if (isSam2ConfigPath(configArg)) config = await readSam2ConfigArg(configArg);
    else size = configArg;
  }
  const hash = await fileHash(spec.weights);
  const { model, report } = await loadSam2({ weights: spec.weights, config, size, dtype: spec.dtype });
  const cfg = model.cfg;
  const how = report.configFrom === 'inferred' ? 'size inferred from the weights' : report.configFrom === 'size' ? `size ${spec.config}` : spec.config ? `config ${spec.config}` : `config ${configArg} beside the weights`;
  return {
    model,
    config: cfg,
    isDefault: false,
    weightsPath: spec.weights,
    weightsHash: hash,
    label: `${basename(spec.weights)} ${hash}`,
    slug: `${cfg.name.replace(/[^A-Za-z0-9_.-]+/g, '_')}-${hash.slice(7, 15)}`,
    description: `${basename(spec.weights)} as ${cfg.name} (${how}; ${report.maskDecoder === 'hq' ? "HQ-SAM2's mask decoder; " : ''}${cfg.imageSize} px, ${report.parameters.toLocaleString('en-US')} parameters, ${report.dtype})`,
    report,
  };
}
