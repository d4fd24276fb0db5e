/**
 * Property-based fuzzing (issue #22) of the training config: a JSON file merged over the
 * defaults, then `--set key=value` overrides, validated. Generated and mutated inputs; each
 * resolves or fails with a message that names the config or the `--set` override, quickly.
 * Seeded and replayable (see the tensor package's test/support/fuzz.js).
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { resolveTrainConfig } from '../src/train/config.js';
import { expectTypedOutcome, fuzz, mutatedText } from '../../tensor/test/support/fuzz.js';

/** What a typed error names: the config ("config: …", "config.loss…") or the override ("--set …"). */
const NAMED = /config|--set/;
const VALID = JSON.stringify({ out: 'runs/x', sam2: { weights: 'w.safetensors' }, epochs: 3, batchSize: 2, lr: 0.001, loss: { useDice: true, useDist: true }, data: { dataset: 'synthetic:4' } });

/** Parses (as `rpsam2 train` does) and resolves; the outcome must be a config or a "config…" error. */
function resolveText(text: string, sets: string[] = []) {
  return expectTypedOutcome(NAMED, () => resolveTrainConfig(JSON.parse(text), sets));
}

describe('fuzz: rpsam2 training config', () => {
  it('a valid file, mutated (JSON syntax errors are the CLI’s to report; the rest must resolve or name the problem)', async () => {
    await fuzz('train config (mutated)', mutatedText(VALID).filter((t) => {
      try {
        JSON.parse(t);
        return true;
      } catch {
        return false;
      }
    }), (t) => resolveText(t), 800);
  });

  it('generated files and --set overrides with hostile values', async () => {
    const key = fc.constantFrom('out', 'epochs', 'batchSize', 'lr', 'loss.useDice', 'loss.useOut', 'data.dataset', 'sam2.weights', 'clicksPerObject', 'nope', 'loss', '__proto__', 'constructor', 'loss.__proto__.x', '');
    const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)), fc.constantFrom('NaN', '1e999', '-1', '0', 'true', '{', ''), fc.string({ maxLength: 6 }));
    const set = fc.tuple(key, value).map(([k, v]) => `${k}=${v}`);
    const file = fc.dictionary(key, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 });
    await fuzz('train config (generated + --set)', fc.tuple(file, fc.array(fc.oneof(set, fc.string({ maxLength: 8 })), { maxLength: 3 })), ([f, sets]) => expectTypedOutcome(NAMED, () => resolveTrainConfig({ ...JSON.parse(VALID), ...f }, sets)), 2000);
  });
});
