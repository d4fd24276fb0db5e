/**
 * SAM 2 configs from text and from the command line: the official Hydra YAML
 * (`sam2/configs/sam2.1/*.yaml`, as shipped with SAM 2 and with SAM 2-architecture checkpoints
 * such as MedSAM2 or Surgical SAM 2), the same layout as JSON, or a fixture's meta.json
 * (`model_config` plus a top-level `image_size`). Only the `model:` section matters; Hydra
 * interpolations (`${..x}`) stay strings, as none of the fields read here uses them.
 *
 * The text parser is platform-neutral; {@link readSam2ConfigArg} reads files and so works in Node
 * only (the file module is imported lazily, keeping the package browser-safe).
 */
import { parse as parseYaml } from 'yaml';
import { parseOfficialConfig, presetConfig, type Sam2Config } from './config.js';
import { importNode } from './weights/node-import.js';

/** Options of {@link parseSam2ConfigText}. */
export interface Sam2ConfigTextOptions {
  /** The config's name (`Sam2Config.name`); default: the source's file name without extension, else 'custom'. */
  name?: string;
  /** How to read the text; 'auto' (default): JSON when it starts with `{`, else YAML. */
  format?: 'json' | 'yaml' | 'auto';
  /** Where the text came from (a path), for error messages; default: the name, else 'text'. */
  source?: string;
}

/** The file name without directory and config extension. */
function stem(path: string): string {
  return path.replace(/^.*[/\\]/, '').replace(/\.(json|ya?ml)$/i, '');
}

/** `line L, column C` of a 0-based offset in `text` (1-based, as editors count). */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    // Node 20's messages give only a character position; editors want the line.
    const pos = /at position (\d+)/.exec(msg);
    throw new Error(`not valid JSON (${msg}${pos && !/line \d+/.test(msg) ? `, ${lineColumn(text, Number(pos[1]))}` : ''})`);
  }
}

function parseYamlText(text: string): unknown {
  try {
    // YAML 1.2 core schema (true/True/TRUE are booleans, `yes`/`on` stay strings — caught by the
    // type check below). Duplicate keys are errors, as in OmegaConf. Warnings (e.g. an unknown
    // `!!python/…` tag) are not printed: the value still parses, and none of our fields is tagged.
    return parseYaml(text, { logLevel: 'error' });
  } catch (e) {
    // yaml's message says "… at line L, column C:" followed by the offending line and a caret.
    throw new Error(`not valid YAML: ${(e as Error).message.trimEnd()}`);
  }
}

const isMapping = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

const show = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'string' ? `'${v}'` : typeof v === 'object' ? 'a mapping' : String(v));

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * The official parser copies values as they are; text from a user may hold a string where a
 * number or boolean belongs (`embed_dim: "96"`, or YAML 1.1's `use_high_res_features_in_sam: yes`,
 * a string under YAML 1.2), which would run with wrong semantics. Checks every field against the
 * type it has in a preset.
 */
function checkFieldTypes(cfg: Sam2Config): void {
  const walk = (value: unknown, template: unknown, path: string[]): void => {
    const field = path.map(snake).join('.');
    const fail = (expected: string) => {
      throw new Error(`${field} must be ${expected} (got ${show(value)})`);
    };
    if (Array.isArray(template)) {
      if (!Array.isArray(value) || value.some((x) => !Number.isInteger(x))) fail('a list of integers');
    } else if (typeof template === 'number') {
      if (typeof value !== 'number' || !Number.isFinite(value)) fail('a number');
    } else if (typeof template === 'boolean') {
      if (typeof value !== 'boolean') fail('true or false');
    } else if (typeof template === 'string') {
      if (typeof value !== 'string') fail('a string');
    } else if (isMapping(template)) {
      for (const k of Object.keys(template)) walk((value as Record<string, unknown>)[k], template[k], [...path, k]);
    }
  };
  walk(cfg, presetConfig('t'), []);
}

/**
 * Reads a SAM 2 model config from JSON or YAML text in the official layout: the whole Hydra
 * YAML (its `model:` section is used), the `model:` section itself, or a fixture's meta.json
 * (`model_config`, whose top-level `image_size` wins). Errors start with `SAM 2 config <source>:`
 * and name the problem: the JSON / YAML error with its line and column, a missing field, a
 * field of the wrong type, or a violated invariant (`validateConfig`).
 */
export function parseSam2ConfigText(text: string, options: Sam2ConfigTextOptions = {}): Sam2Config {
  const source = options.source ?? options.name ?? 'text';
  const name = options.name ?? (options.source ? stem(options.source) : 'custom');
  const body = text.replace(/^\uFEFF/, '');
  const format = options.format && options.format !== 'auto' ? options.format : body.trimStart().startsWith('{') ? 'json' : 'yaml';
  try {
    const doc = format === 'json' ? parseJsonText(body) : parseYamlText(body);
    if (!isMapping(doc)) throw new Error(`expected a mapping with a 'model' section, got ${doc === null || doc === undefined ? 'an empty document' : show(doc)}`);
    const model = doc.model_config ?? doc.model ?? doc;
    if (!isMapping(model)) throw new Error(`'${doc.model_config !== undefined ? 'model_config' : 'model'}' must be a mapping, got ${show(model)}`);
    // A fixture's meta.json keeps the image size it was exported at beside model_config.
    const withSize = doc.model_config !== undefined && typeof doc.image_size === 'number' ? { ...model, image_size: doc.image_size } : model;
    const cfg = parseOfficialConfig(withSize, name);
    checkFieldTypes(cfg);
    return cfg;
  } catch (e) {
    // config.ts prefixes its own messages with "SAM 2 config[ 'name']:"; say it once, with the source.
    const msg = (e as Error).message.replace(/^SAM 2 config(?: '[^']*')?: /, '');
    throw new Error(`SAM 2 config ${source}: ${msg}`, { cause: e });
  }
}

/**
 * The config of a fixture folder (Node only): `meta.json` beside the weights file when it holds a
 * `model_config` (the layout of the official-code exports that `sam2-verify` reads), else null.
 * Lets a folder's weights load without `--config` where the shapes alone cannot say the
 * architecture (window sizes, global-attention blocks and heads are not in the shapes).
 */
export async function fixtureConfigBeside(weightsPath: string): Promise<string | null> {
  const fs = await importNode<typeof import('node:fs/promises')>('node:fs/promises');
  const path = await importNode<typeof import('node:path')>('node:path');
  const meta = path.join(path.dirname(weightsPath), 'meta.json');
  let doc: unknown;
  try {
    doc = JSON.parse(await fs.readFile(meta, 'utf8'));
  } catch {
    return null;
  }
  return doc !== null && typeof doc === 'object' && 'model_config' in doc ? meta : null;
}

/**
 * Whether a config argument names a file rather than an official size: it has a directory part
 * or a .json / .yaml / .yml extension.
 */
export function isSam2ConfigPath(arg: string): boolean {
  return /[/\\]|\.(json|ya?ml)$/i.test(arg);
}

/**
 * A SAM 2 config from a command-line argument (Node only): an official size name (t, s, b+, l,
 * tiny, small, base_plus, large) or a path to a config file read by {@link parseSam2ConfigText}
 * (.json as JSON, .yaml / .yml as YAML, anything else by its first character). Errors name the
 * argument and the reason (unknown size, `cannot read (ENOENT)`, the parse problem).
 */
export async function readSam2ConfigArg(arg: string): Promise<Sam2Config> {
  if (!isSam2ConfigPath(arg)) {
    try {
      return presetConfig(arg);
    } catch (e) {
      throw new Error(`SAM 2 config '${arg}': ${(e as Error).message}; or give a path to a .yaml or .json config (with a directory part, e.g. ./${arg})`);
    }
  }
  const fs = await importNode<typeof import('node:fs/promises')>('node:fs/promises');
  let text: string;
  try {
    text = await fs.readFile(arg, 'utf8');
  } catch (e) {
    throw new Error(`SAM 2 config ${arg}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const format = /\.json$/i.test(arg) ? 'json' : /\.ya?ml$/i.test(arg) ? 'yaml' : 'auto';
  return parseSam2ConfigText(text, { source: arg, format });
}
