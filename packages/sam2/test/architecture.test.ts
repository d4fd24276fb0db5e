/**
 * The layering of the sam2 package (issue #21): `train/` is the training folder, kept apart from
 * the model — the model code (model, nn, predictor, weights, image, memory, verify, cli, …) never
 * imports from it, only the index re-exports it; the trainer skeleton shared with RP-SAM2's
 * trainer (`train/skeleton/`) depends on no model code; and the training code holds generic
 * defaults only (dataset recipes, such as the default model's with its Cataract-1k class focus,
 * live in the bench).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RECIPE, JsonlLog, Sam2Trainer, TrainerSkeleton, writeFileAtomically } from '../src/index.js';

const SRC = new URL('../src/', import.meta.url).pathname;
/** Every .ts file under src/, recursively, as [path relative to src/, text]. */
const allFiles = (dir = SRC): (readonly [string, string])[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return allFiles(p);
    return e.name.endsWith('.ts') ? [[relative(SRC, p), readFileSync(p, 'utf8')] as const] : [];
  });
/** Relative import/export specifiers of `file`, resolved to paths relative to src/. */
const localImports = (file: string, text: string) =>
  [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gms), ...text.matchAll(/import\(\s*'(\.[^']+)'\s*\)/g)].map((m) => relative(SRC, resolve(dirname(join(SRC, file)), m[1])));

describe('train/ is the training folder', () => {
  const sources = allFiles();

  it('no model code imports from train/ (only the index re-exports it)', () => {
    expect(sources.some(([f]) => f.startsWith('train/'))).toBe(true);
    const outside = sources.filter(([f]) => !f.startsWith('train/') && f !== 'index.ts');
    for (const dir of ['model/', 'nn/', 'predictor/', 'weights/', 'image/']) expect(outside.some(([f]) => f.startsWith(dir)), dir).toBe(true);
    for (const [file, text] of outside) {
      for (const to of localImports(file, text)) expect(to.startsWith('train/') || to === 'train', `${file} imports ${to}`).toBe(false);
    }
  });

  it('the trainer skeleton depends on no model code (both trainers build on it)', () => {
    const skeleton = sources.filter(([f]) => f.startsWith('train/skeleton/'));
    expect(skeleton.length).toBeGreaterThan(0);
    for (const [file, text] of skeleton) {
      for (const to of localImports(file, text)) expect(to.startsWith('train/skeleton/') || to === 'weights/node-import.js', `${file} imports ${to}`).toBe(true);
    }
  });

  it('the training code names no dataset classes; the default recipe is generic', () => {
    for (const [file, text] of sources.filter(([f]) => f.startsWith('train/'))) expect(text, file).not.toMatch(/classKey:\s*'/);
    for (const stage of DEFAULT_RECIPE) expect(stage.focus, 'a class focus in DEFAULT_RECIPE').toBeUndefined();
  });

  it('the index exports the skeleton, and the SAM 2 trainer is built on it', () => {
    for (const f of [TrainerSkeleton, JsonlLog, writeFileAtomically]) expect(typeof f).toBe('function');
    expect(Object.getPrototypeOf(Sam2Trainer)).toBe(TrainerSkeleton);
  });
});
