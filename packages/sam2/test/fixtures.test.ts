import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SafetensorsFile } from '@rpsam2/tensor';
import { fileSource } from '@rpsam2/tensor/node';
import { verifyFixture, type CheckResult } from '../src/verify/fixture-verifier.js';

const fixture = (name: string) => new URL(`../../../../shared/fixtures/${name.startsWith('hq') ? 'hq-sam2' : 'sam2'}/${name}/`, import.meta.url).pathname;

describe('SAM 2 port vs the official PyTorch goldens', () => {
  // hq256: HQ-SAM2's decoder, with hq_token_only cases and the gradient through the HQ token.
  it.each(['tiny256', 'tiny1024', 'hq256'])('%s: every golden tensor matches', async (name) => {
    const dir = fixture(name);
    const meta = JSON.parse(readFileSync(dir + 'meta.json', 'utf8'));
    const weights = await SafetensorsFile.open(fileSource(dir + 'weights.safetensors'));
    const golden = await SafetensorsFile.open(fileSource(dir + 'golden.safetensors'));
    const results: CheckResult[] = [];
    await verifyFixture({ meta, weights, golden }, (r) => results.push(r));
    const failed = results.filter((r) => !r.passed).map((r) => `${r.name}: ${r.err} ${r.note ?? ''}`);
    console.log(results.map((r) => `${r.passed ? 'PASS' : 'FAIL'} ${r.name} ${r.err.toExponential(2)}`).join('\n'));
    expect(failed).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(55);
    if (name === 'hq256') {
      const names = results.map((r) => r.name);
      for (const n of ['h1_point_multimask_hq_only.masks', 'h3_batched_boxes_hq_only.low_res', 'grad_hq.d_hf_token', 'grad_single.d_hf_token']) expect(names).toContain(n);
    }
  }, 900_000);
});
