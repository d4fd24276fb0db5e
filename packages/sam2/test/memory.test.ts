/** The memory estimate (from the config) against the measured pool peak of an encoder pass. */
import { describe, expect, it } from 'vitest';
import { getBackend, packedAttentionUsesRegisterKernel } from '@rpsam2/tensor';
import { presetConfig } from '../src/config.js';
import { estimateMemory } from '../src/memory/estimate.js';
import { measureEncoder } from '../src/memory/measure.js';
import { fixtureConfig } from './support.js';

describe('memory estimate vs measurement', () => {
  it.each([
    ['tiny fixture config at 256, f32', fixtureConfig('tiny256'), 'f32'],
    ['Hiera-T at 256, f16', { ...presetConfig('t'), imageSize: 256 }, 'f16'],
  ] as const)('%s: activations within 10%, weights exact', async (_, cfg, dtype) => {
    const m = await measureEncoder(cfg, { dtype });
    // as the device runs attention: no score matrices where it takes the register kernel
    const e = estimateMemory(cfg, cfg.imageSize, getBackend().maxBinding, packedAttentionUsesRegisterKernel);
    expect(m.finite).toBe(true);
    expect(m.weightBytes).toBe(dtype === 'f16' ? e.weightsF16 : e.weightsF32);
    const ratio = e.encoderActivations / m.activationBytes;
    console.log(`${cfg.name}@${cfg.imageSize} ${dtype}: activations estimated ${e.encoderActivations}, measured ${m.activationBytes} (ratio ${ratio.toFixed(3)}); peak ${m.peakBytes}`);
    expect(ratio).toBeGreaterThan(0.9);
    expect(ratio).toBeLessThan(1.1);
  }, 300_000);

  it('Hiera-L at 1024: counts and orders of magnitude', () => {
    const e = estimateMemory(presetConfig('l'));
    expect(e.parameters).toBe(216_925_121);
    expect(e.modules.find((m) => m.name === 'image_encoder.trunk')!.parameters).toBeGreaterThan(212e6);
    expect(e.weightsF16).toBeLessThan(0.51 * e.weightsF32);
    // Measured on lavapipe (128 MiB bindings, f16 weights; `sam2 info --config l --measure`,
    // 2026-12-07 12:05): 876 MiB of activations (1004 MiB before the q pools read channels last,
    // 1.25 GiB before attention stopped copying its heads).
    expect(e.encoderActivations / 2 ** 20).toBeGreaterThan(0.9 * 876);
    expect(e.encoderActivations / 2 ** 20).toBeLessThan(1.1 * 876);
    expect(e.features).toBe((256 * 64 * 64 + 32 * 256 * 256 + 64 * 128 * 128) * 4);
    expect(e.peakF16).toBeLessThan(e.peakF32);
  });
});
