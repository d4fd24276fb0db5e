import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SafetensorsFile } from '@rpsam2/tensor';
import { fileSource } from '@rpsam2/tensor/node';
import { verifyRpsam2Fixture, type CheckResult } from '../src/verify/fixture-verifier.js';

const fixtures = new URL('../../../../shared/fixtures/', import.meta.url).pathname;

async function open(dir: string, file: string): Promise<SafetensorsFile> {
  return SafetensorsFile.open(fileSource(dir + file));
}

describe('RP-SAM2 vs the PyTorch goldens (rpsam2/tiny256 on sam2/tiny256)', () => {
  it('every golden tensor matches: candidates, clicks, shift block, SAM 2 on the refined clicks, loss terms, all gradients', async () => {
    const dir = `${fixtures}rpsam2/tiny256/`;
    const spec = JSON.parse(readFileSync(dir + 'spec.json', 'utf8'));
    const sam2Dir = `${fixtures}sam2/${spec.sam2_fixture}/`;
    const results: CheckResult[] = [];
    const t0 = performance.now();
    await verifyRpsam2Fixture(
      {
        spec,
        shiftWeights: await open(dir, 'shift_block.safetensors'),
        golden: await open(dir, 'golden.safetensors'),
        sam2: {
          meta: JSON.parse(readFileSync(sam2Dir + 'meta.json', 'utf8')),
          weights: await open(sam2Dir, 'weights.safetensors'),
          golden: await open(sam2Dir, 'golden.safetensors'),
        },
      },
      (r) => results.push(r),
    );
    console.log(
      results.map((r) => `${r.passed ? 'PASS' : 'FAIL'} ${r.name} ${r.kind} ${r.err.toExponential(2)}${r.note ? ` ${r.note}` : ''}`).join('\n') +
        `\ntime ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const failed = results.filter((r) => !r.passed).map((r) => `${r.name}: ${r.err} ${r.note ?? ''}`);
    expect(failed).toEqual([]);
    // 4 candidate tensors, clicks, sparse, 10 forward/exact tensors of the chain, 4 losses, 117 gradients.
    const golden = await open(dir, 'golden.safetensors');
    expect(results.length).toBe(golden.keys().length - 1); // clicks_px is the input, not a check
    expect(results.filter((r) => r.kind === 'grad').length).toBe(golden.keys().filter((k) => k.startsWith('grad.')).length);
  }, 600_000);
});
