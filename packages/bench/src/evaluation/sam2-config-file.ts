/**
 * A SAM 2 model config from the command line: an official size name (t, s, b+, l, tiny, small,
 * base_plus, large), or a config file in the official layout — the Hydra YAML as shipped with
 * SAM 2 and with SAM 2-architecture checkpoints (MedSAM2, Surgical SAM 2, …), or the same as JSON
 * (`model:` section, or a fixture's meta.json with `model_config` and a top-level `image_size`).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseOfficialConfig, presetConfig, validateConfig, type Sam2Config } from '@rpsam2/sam2';
import { parseYaml } from './yaml-lite.js';

/** Whether the argument names a file (rather than a size). */
export function isConfigPath(arg: string): boolean {
  return /[/\\]|\.(json|ya?ml)$/i.test(arg);
}

/** The config of a size name or a JSON / YAML file; errors name the argument and the problem. */
export async function resolveSam2ConfigArg(arg: string): Promise<Sam2Config> {
  if (!isConfigPath(arg)) {
    try {
      return presetConfig(arg);
    } catch (e) {
      throw new Error(`SAM 2 config '${arg}': ${(e as Error).message}; or give a path to a .yaml or .json config`);
    }
  }
  let text: string;
  try {
    text = await readFile(arg, 'utf8');
  } catch (e) {
    throw new Error(`SAM 2 config ${arg}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let doc: Record<string, unknown>;
  try {
    const v = /\.ya?ml$/i.test(arg) ? parseYaml(text, arg) : JSON.parse(text);
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('the document is not a mapping');
    doc = v as Record<string, unknown>;
  } catch (e) {
    throw new Error(`SAM 2 config ${arg}: ${(e as Error).message}`);
  }
  const model = (doc.model_config ?? doc.model ?? doc) as Record<string, unknown>;
  const withSize = typeof doc.image_size === 'number' && doc.model_config ? { ...model, image_size: doc.image_size } : model;
  const name = basename(arg).replace(/\.(json|ya?ml)$/i, '');
  try {
    const cfg = parseOfficialConfig(withSize, name);
    validateConfig(cfg);
    return cfg;
  } catch (e) {
    throw new Error(`SAM 2 config ${arg}: ${(e as Error).message}`);
  }
}
