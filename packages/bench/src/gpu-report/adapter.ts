/**
 * `bench adapter [--json] [--require-gpu]`: what Dawn's `requestAdapter` returns here (vendor,
 * architecture, device, description, whether it is a software/fallback adapter, every limit and
 * feature) and what the library made of it (the device's limits and features, the matmul kernel).
 * The GPU report's first part: it names the card the numbers belong to.
 */
import { createRequire } from 'node:module';
import { matmulKernelKind, matmulTile, shutdown, type DeviceInfo } from '@rpsam2/tensor';
import { createNodeGPU, initNode } from '@rpsam2/tensor/node';
import { parseArgs, type CommandArgs } from '../args.js';

/** The JSON `bench adapter --json` prints. */
export interface AdapterReport {
  /** `adapter.info` as Dawn reports it. */
  info: {
    vendor: string;
    architecture: string;
    device: string;
    description: string;
    isFallbackAdapter?: boolean;
    subgroupMinSize?: number;
    subgroupMaxSize?: number;
  };
  /** A CPU implementation (lavapipe/llvmpipe, SwiftShader, a fallback adapter), not a GPU. */
  software: boolean;
  /** Every feature the adapter offers. */
  features: string[];
  /** Every limit the adapter offers (its maxima). */
  limits: Record<string, number>;
  /** The library's view: the limits the device was created with and the features it enabled. */
  device: DeviceInfo;
  matmul: { kernel: string; tile: unknown };
  node: string;
  /** Version of the `webgpu` (Dawn) package, when it can be read. */
  dawn?: string;
}

export interface AdapterArgs extends CommandArgs {
  /** Exit 3 when the adapter is a software one (the GPU report skips the benches then). */
  requireGpu: boolean;
}

export const ADAPTER_USAGE = 'adapter [--json] [--require-gpu]';

/** The common flags plus `--require-gpu`. */
export function parseAdapterArgs(argv: readonly string[]): AdapterArgs {
  const requireGpu = argv.includes('--require-gpu');
  return { ...parseArgs(argv.filter((a) => a !== '--require-gpu')), requireGpu };
}

/** True for CPU implementations of WebGPU/Vulkan, whose timings say nothing about a GPU. */
export function isSoftwareAdapter(info: AdapterReport['info']): boolean {
  return info.isFallbackAdapter === true || /^(cpu|software)$/i.test(info.architecture) || /llvmpipe|lavapipe|swiftshader/i.test(`${info.device} ${info.description}`);
}

/** Runs `bench adapter`. */
export async function adapterCommand(commandArgs: CommandArgs): Promise<number> {
  const args = commandArgs as AdapterArgs;
  const gpu = createNodeGPU();
  // The same request as initNode's (no power preference), so this is the adapter the benches get.
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    console.error('bench adapter: requestAdapter() returned null: Dawn found no Vulkan driver (is libvulkan.so.1 and an ICD file, e.g. nvidia_icd.json, installed?)');
    return 2;
  }
  const ai = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean; subgroupMinSize?: number; subgroupMaxSize?: number };
  const info: AdapterReport['info'] = { vendor: ai.vendor ?? '', architecture: ai.architecture ?? '', device: ai.device ?? '', description: ai.description ?? '' };
  if (typeof ai.isFallbackAdapter === 'boolean') info.isFallbackAdapter = ai.isFallbackAdapter;
  if (typeof ai.subgroupMinSize === 'number') info.subgroupMinSize = ai.subgroupMinSize;
  if (typeof ai.subgroupMaxSize === 'number') info.subgroupMaxSize = ai.subgroupMaxSize;
  // Dawn's limits are prototype getters: for…in sees them, Object.keys / JSON.stringify do not.
  const limits: Record<string, number> = {};
  for (const k in adapter.limits) {
    const v = (adapter.limits as unknown as Record<string, unknown>)[k];
    if (typeof v === 'number') limits[k] = v;
  }
  const backend = await initNode();
  let dawn: string | undefined;
  try {
    // Resolved from the tensor package, which is the one that depends on `webgpu`.
    dawn = (createRequire(import.meta.resolve('@rpsam2/tensor/node'))('webgpu/package.json') as { version: string }).version;
  } catch {
    // Not fatal: the version is only a label.
  }
  const report: AdapterReport = {
    info,
    software: isSoftwareAdapter(info),
    features: [...adapter.features].map(String).sort(),
    limits,
    device: backend.info,
    matmul: { kernel: matmulKernelKind(), tile: matmulTile() },
    node: process.version,
    ...(dawn ? { dawn } : {}),
  };
  if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    console.log(`adapter: ${info.description || info.device} (vendor ${info.vendor}, architecture ${info.architecture}${report.software ? ', software' : ''})`);
    console.log(`features: ${report.features.join(', ')}`);
    console.log(`maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}, maxBufferSize ${limits.maxBufferSize}; matmul ${report.matmul.kernel} ${JSON.stringify(report.matmul.tile)}`);
  }
  shutdown();
  if (args.requireGpu && report.software) {
    console.error(
      `bench adapter: '${info.description || info.device}' is a software (CPU) adapter, not a GPU: Dawn found no hardware Vulkan driver. ` +
        'Check the Vulkan loader (libvulkan.so.1) and the ICD file (VK_ICD_FILENAMES / VK_DRIVER_FILES); leave out --require-gpu to go on anyway.',
    );
    return 3;
  }
  return 0;
}
